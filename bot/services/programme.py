"""When things happen in a workspace's programme: the next matching round and its week key."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models import ProgrammeSettings


def matching_clock(settings: ProgrammeSettings) -> tuple[int, time, ZoneInfo]:
    hour, minute = (int(part) for part in settings.matching_time.split(":"))
    return settings.matching_weekday, time(hour, minute), ZoneInfo(settings.matching_timezone)


def next_matching_round(settings: ProgrammeSettings, *, now: datetime) -> datetime:
    """The next round at or after `now`, in UTC (the programme's wall clock, DST included)."""
    weekday, at, zone = matching_clock(settings)
    local_now = now.astimezone(zone)
    days_ahead = (weekday - local_now.weekday()) % 7
    candidate = datetime.combine(local_now.date() + timedelta(days=days_ahead), at, tzinfo=zone)
    if candidate < local_now:
        candidate += timedelta(days=7)
    return candidate.astimezone(UTC)


def latest_matching_round(settings: ProgrammeSettings, *, now: datetime) -> datetime:
    """The latest round at or before `now`, in UTC (the programme's wall clock, DST included)."""
    weekday, at, zone = matching_clock(settings)
    local_now = now.astimezone(zone)
    days_back = (local_now.weekday() - weekday) % 7
    candidate = datetime.combine(local_now.date() - timedelta(days=days_back), at, tzinfo=zone)
    if candidate > local_now:
        candidate -= timedelta(days=7)
    return candidate.astimezone(UTC)


def round_key(settings: ProgrammeSettings, *, now: datetime) -> str:
    """The ISO week of `now` in the programme's timezone: one round per workspace and week."""
    _weekday, _at, zone = matching_clock(settings)
    year, week, _day = now.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"
