"""Pure parts of the pairing lifecycle: meeting times, snooze dates, ratings, button values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services import pairings

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_meeting_times_fall_in_both_working_days():
    slots = pairings.suggest_meeting_times("Europe/London", "America/New_York", now=MONDAY)
    assert len(slots) == 3
    for slot in slots:
        for zone in ("Europe/London", "America/New_York"):
            local = slot.astimezone(ZoneInfo(zone))
            assert local.weekday() < 5 and local.hour >= 9 and (local + timedelta(minutes=30)).hour <= 17
    assert len({slot.date() for slot in slots}) == 3  # spread over different days


def test_no_shared_hours_gives_no_slots():
    assert pairings.suggest_meeting_times("Asia/Tokyo", "America/New_York", now=MONDAY) == []


def test_unknown_timezone_falls_back_to_utc():
    assert pairings.suggest_meeting_times("Not/AZone", "UTC", now=MONDAY)


def test_snooze_end_is_the_end_of_that_day_in_the_persons_timezone():
    until = pairings.snooze_end("2026-12-01", timezone="America/New_York", now=MONDAY)
    assert until == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="future"):
        pairings.snooze_end("2026-11-01", timezone="UTC", now=MONDAY)
    with pytest.raises(ValueError, match="year"):
        pairings.snooze_end("2028-01-01", timezone="UTC", now=MONDAY)
    with pytest.raises(ValueError, match="Pick a date"):
        pairings.snooze_end("soon", timezone="UTC", now=MONDAY)


@pytest.mark.parametrize(("raw", "expected"), [("5", 5), ("1", 1), ("", None), (None, None)])
def test_ratings(raw, expected):
    assert pairings.validate_rating(raw) == expected


@pytest.mark.parametrize("raw", ["0", "6", "-1"])
def test_bad_ratings(raw):
    with pytest.raises(ValueError, match="Pick a rating from 1 to 5"):
        pairings.validate_rating(raw)


@pytest.mark.parametrize("value", ["", "x", "1", "1:2:3", None, "a:b"])
def test_button_values_that_are_not_ours_parse_to_none(value):
    assert pairings.parse_button_value(value) is None


def test_a_rating_that_is_not_a_number_gets_the_friendly_message():
    with pytest.raises(ValueError, match="Pick a rating from 1 to 5"):
        pairings.validate_rating("five")


def test_next_checkin_after_downtime_is_a_week_from_now_not_overdue():
    from models import Pairing

    pairing = Pairing(checkin_due_at=MONDAY - timedelta(days=30))
    pairings.schedule_next_checkin(pairing, now=MONDAY)
    assert pairing.checkin_due_at == MONDAY + timedelta(days=7)
    pairings.schedule_next_checkin(pairing, now=MONDAY + timedelta(days=7, hours=1))
    assert pairing.checkin_due_at == MONDAY + timedelta(days=14, hours=1)
