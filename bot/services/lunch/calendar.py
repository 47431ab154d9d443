"""Sessions on people's clocks and calendars: picker values, Google Calendar links, iCalendar files."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from bot.services.lunch.common import zone
from bot.services.lunch.proposing import is_link
from models import LunchSession, LunchStatus


def local_date_time(moment: datetime, tz: str) -> tuple[str, str]:
    """The datepicker and timepicker values that show `moment` on `tz`'s wall clock."""
    local = moment.astimezone(zone(tz))
    return local.date().isoformat(), local.strftime("%H:%M")


def google_calendar_url(lunch: LunchSession) -> str:
    """A Google Calendar "add event" link (the template URL needs no API and no sign-in by us)."""
    stamp = "%Y%m%dT%H%M%SZ"
    details = lunch.description or ""
    if lunch.location and is_link(lunch.location):
        details = f"{details}\n\nJoin: {lunch.location}".strip()
    params = {
        "action": "TEMPLATE",
        "text": f"Lunch 'n' Learn: {lunch.title}",
        "dates": f"{lunch.starts_at.astimezone(UTC):{stamp}}/{lunch.ends_at.astimezone(UTC):{stamp}}",
        "details": details[:1000],
        "location": lunch.location,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(params, quote_via=quote)


def ics_text(lunch: LunchSession, *, now: datetime, host_name: str = "") -> str:
    """An iCalendar (RFC 5545) event: CRLF lines, escaped text, lines folded at 75 octets."""
    stamp = "%Y%m%dT%H%M%SZ"
    description = lunch.description or ""
    if host_name:
        description = f"Hosted by {host_name}.\n\n{description}".strip()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Flipside//Lunch n Learn//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:lunch-{lunch.id}-{lunch.team_id}@flipside",
        f"SEQUENCE:{lunch.version}",
        f"DTSTAMP:{now.astimezone(UTC).strftime(stamp)}",
        f"DTSTART:{lunch.starts_at.astimezone(UTC).strftime(stamp)}",
        f"DTEND:{lunch.ends_at.astimezone(UTC).strftime(stamp)}",
        f"SUMMARY:{_ics_escape('Lunch n Learn: ' + lunch.title)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_ics_escape(description)}")
    if lunch.location:
        lines.append(f"LOCATION:{_ics_escape(lunch.location)}")
        if is_link(lunch.location):
            lines.append(f"URL:{lunch.location}")
    lines += [
        f"STATUS:{'CANCELLED' if lunch.status == LunchStatus.CANCELLED else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_ics_fold(line) + "\r\n" for line in lines)


def _ics_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def _ics_fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character; continuation lines start with a space."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        limit = 75 if not parts else 74
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)
