"""Sessions on calendars: picker values on the host's clock, iCalendar text, Google links."""

from __future__ import annotations

from bot.services.lunch import calendar, proposing
from models import LunchSession, LunchStatus
from tests.services.lunch.factories import NOW, START, TEAM, raw


def test_local_date_time_round_trips_for_the_edit_modal():
    parsed = proposing.parse_proposal(raw(timezone="Asia/Kolkata"), now=NOW)
    assert calendar.local_date_time(parsed.starts_at, "Asia/Kolkata") == ("2026-03-10", "12:30")


def _session_for_calendar() -> LunchSession:
    lunch = LunchSession(
        id=7,
        team_id=TEAM,
        title="Canva, posters; and more \\ fun " + "é" * 60,
        description="Line one\nLine two",
        starts_at=START,
        duration_minutes=45,
        location="https://zoom.us/j/123",
        status=LunchStatus.SCHEDULED,
        version=3,
    )
    return lunch


def test_ics_is_valid_icalendar_text():
    text = calendar.ics_text(_session_for_calendar(), now=NOW, host_name="Priya")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20260304T123000Z\r\n" in text and "DTEND:20260304T131500Z\r\n" in text
    assert "SUMMARY:Lunch n Learn: Canva\\, posters\\; and more \\\\ fun" in text
    assert "DESCRIPTION:Hosted by Priya.\\n\\nLine one\\nLine two" in text
    assert "URL:https://zoom.us/j/123" in text and "SEQUENCE:3" in text
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "é" * 60 in unfolded


def test_google_calendar_link_carries_the_event():
    url = calendar.google_calendar_url(_session_for_calendar())
    assert url.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&")
    assert "dates=20260304T123000Z%2F20260304T131500Z" in url
    assert "location=https%3A%2F%2Fzoom.us%2Fj%2F123" in url
    assert " " not in url
