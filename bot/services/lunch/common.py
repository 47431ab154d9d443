"""What every Lunch 'n' Learn module shares: what a change did, loading a session, small parsers."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.topics import clean_text
from models import LunchSession, LunchStatus, Person


class Outcome(enum.StrEnum):
    """What a click did, so the listener can say so in one clear sentence."""

    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    ALREADY_ATTENDING = "already_attending"
    ALREADY_WAITLISTED = "already_waitlisted"
    HOSTING = "hosting"
    LEFT = "left"  # gave the seat back
    LEFT_WAITLIST = "left_waitlist"
    NOT_SIGNED_UP = "not_signed_up"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_STARTED = "session_started"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    EDITED = "edited"
    CANCELLED = "cancelled"
    RATED = "rated"
    NOT_ATTENDEE = "not_attendee"
    NOT_OVER = "not_over"


@dataclass
class Change:
    outcome: Outcome
    lunch: LunchSession | None = None
    promoted: list[Person] = field(default_factory=list)
    # For edits and cancellations: who to tell, and what changed.
    audience: list[Person] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    position: int | None = None  # place on the waitlist


def get_session(session: Session, *, team_id: str, session_id: int | None) -> LunchSession | None:
    if session_id is None:
        return None
    lunch = session.get(LunchSession, session_id)
    return lunch if lunch is not None and lunch.team_id == team_id else None


def lock_session(session: Session, *, team_id: str, session_id: int | None) -> LunchSession | None:
    """Load a session for a seat change, serialised with every other change to it.

    PostgreSQL: SELECT ... FOR UPDATE holds the row until commit, so two clicks for the last seat
    queue up and the second one counts the first one's seat. SQLite: the app opens every
    transaction with BEGIN IMMEDIATE (bot.db), which serialises writers the same way.
    """
    if session_id is None:
        return None
    lunch = session.scalar(
        select(LunchSession)
        .where(LunchSession.id == session_id, LunchSession.team_id == team_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return lunch


def closed_reason(lunch: LunchSession, now: datetime) -> Outcome | None:
    """Why a session takes no more sign-ups or changes, or None while it is open."""
    if lunch.status == LunchStatus.CANCELLED:
        return Outcome.SESSION_CANCELLED
    if lunch.status == LunchStatus.AWAITING_HOST:  # not announced: nobody should have its buttons
        return Outcome.NOT_FOUND
    if lunch.starts_at <= now:
        return Outcome.SESSION_STARTED
    return None


def parse_id(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def clean_multiline(raw: str) -> str:
    lines = [clean_text(line) for line in raw.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)
