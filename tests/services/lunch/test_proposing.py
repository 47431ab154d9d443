"""Proposing: every field of the modal checked at once, on the host's clock; rooms and links."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.services.lunch import proposing
from bot.services.lunch.proposing import ProposalError, ProposalField
from tests.services.lunch.factories import NOW, raw


def test_date_and_time_are_read_on_the_hosts_clock_and_stored_in_utc():
    parsed = proposing.parse_proposal(raw(), now=NOW)
    # New York is on summer time from 8 March 2026: 12:30 there is 16:30 UTC.
    assert parsed.starts_at == datetime(2026, 3, 10, 16, 30, tzinfo=UTC)
    assert parsed.duration_minutes == 45 and parsed.capacity == 10
    assert proposing.parse_proposal(raw(timezone="Europe/London"), now=NOW).starts_at.hour == 12
    assert proposing.parse_proposal(raw(timezone="Not/AZone"), now=NOW).starts_at.hour == 12  # UTC


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"date": "2026-03-01"}, ProposalField.DATE, "past"),
        ({"date": "2026-03-02", "time": "09:00", "timezone": "UTC"}, ProposalField.TIME, "past"),
        ({"date": ""}, ProposalField.DATE, "Pick a date"),
        ({"time": None}, ProposalField.TIME, "start time"),
        ({"duration": "0"}, ProposalField.DURATION, "end after it starts"),
        ({"duration": "-30"}, ProposalField.DURATION, "end after it starts"),
        ({"duration": "lots"}, ProposalField.DURATION, "number of minutes"),
        ({"duration": "1000"}, ProposalField.DURATION, "between"),
        ({"seats": "0"}, ProposalField.SEATS, "At least one seat"),
        ({"seats": "-4"}, ProposalField.SEATS, "At least one seat"),
        ({"seats": "ten"}, ProposalField.SEATS, "whole number"),
        ({"title": "x" * 3000}, ProposalField.TITLE, "3000"),
        ({"title": "   "}, ProposalField.TITLE, "title"),
        ({"topic": "y" * 81}, ProposalField.TOPIC, "80"),
        ({"location": "ftp://files.example.com/talk"}, ProposalField.LOCATION, "https://"),
        ({"location": "https://"}, ProposalField.LOCATION, "link"),
        ({"location": "https://not a link"}, ProposalField.LOCATION, "link"),
        ({"location": "javascript:alert(1)"}, ProposalField.LOCATION, "link"),
        ({"location": "http//zoom.us/j/1"}, ProposalField.LOCATION, "link"),
        ({"location": ""}, ProposalField.LOCATION, "Say where"),
        ({"description": "d" * 2001}, ProposalField.DESCRIPTION, "2000"),
    ],
)
def test_bad_input_names_the_field(overrides, field, words):
    with pytest.raises(ProposalError, match=re.escape(words)) as caught:
        proposing.parse_proposal(raw(**overrides), now=NOW)
    assert field in caught.value.errors
    assert words in caught.value.errors[field]


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ProposalError, match="Give the session a title") as caught:
        proposing.parse_proposal(raw(title="", seats="0", duration="0", location="ftp://x.y"), now=NOW)
    assert set(caught.value.errors) == {
        ProposalField.TITLE,
        ProposalField.SEATS,
        ProposalField.DURATION,
        ProposalField.LOCATION,
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Room 4.2", "Room 4.2"),
        ("Fourth floor, by the plants", "Fourth floor, by the plants"),
        ("zoom.us/j/123", "https://zoom.us/j/123"),
        ("https://meet.google.com/abc", "https://meet.google.com/abc"),
        ("https://x.example.com/a|b", "https://x.example.com/a%7Cb"),
        ("<!channel> kitchen", "<!channel> kitchen"),  # stored as typed; escaped when shown
    ],
)
def test_locations_are_rooms_or_web_links(typed, stored):
    assert proposing.parse_proposal(raw(location=typed), now=NOW).location == stored


def test_no_seat_limit_when_seats_is_empty():
    assert proposing.parse_proposal(raw(seats=""), now=NOW).capacity is None
    assert (
        proposing.parse_proposal(raw(duration=None), now=NOW).duration_minutes == proposing.DEFAULT_DURATION
    )
