"""Feedback after a session: attendees' ratings and notes, and what the host hears of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.lunch.common import Change, Outcome, clean_multiline, get_session, parse_id
from bot.services.lunch.seats import signup_of
from models import LunchFeedback, LunchSession, LunchStatus, Person, SignupStatus

NOTE_MAX = 1000
RATINGS = range(1, 6)


def validate_rating(raw: Any) -> int:
    rating = parse_id(raw)
    if rating not in RATINGS:
        raise ValueError("Pick a rating from 1 to 5.")
    return rating


def record_feedback(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    rating: int,
    note: str | None = None,
    now: datetime,
) -> Change:
    """Store (or change) an attendee's 1-5 rating and optional note."""
    lunch = get_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return Change(Outcome.NOT_FOUND)
    if lunch.status == LunchStatus.CANCELLED:
        return Change(Outcome.SESSION_CANCELLED, lunch)
    if lunch.starts_at > now:
        return Change(Outcome.NOT_OVER, lunch)
    signup = signup_of(session, lunch, person)
    if signup is None or signup.status != SignupStatus.ATTENDING:
        return Change(Outcome.NOT_ATTENDEE, lunch)
    feedback = session.scalar(
        select(LunchFeedback).where(
            LunchFeedback.session_id == lunch.id, LunchFeedback.person_id == person.id
        )
    )
    if feedback is None:
        feedback = LunchFeedback(session_id=lunch.id, person_id=person.id, rating=rating, created_at=now)
        session.add(feedback)
    feedback.rating = rating
    cleaned = clean_multiline(note or "")[:NOTE_MAX]
    if cleaned:
        feedback.note = cleaned
    session.flush()
    return Change(Outcome.RATED, lunch)


@dataclass(frozen=True)
class FeedbackSummary:
    count: int
    average: float | None
    by_rating: dict[int, int]
    notes: list[str]


def feedback_summary(session: Session, lunch: LunchSession, *, notes: int = 5) -> FeedbackSummary:
    rows = list(
        session.scalars(
            select(LunchFeedback)
            .where(LunchFeedback.session_id == lunch.id)
            .order_by(LunchFeedback.created_at.desc(), LunchFeedback.id.desc())
        )
    )
    by_rating = {rating: sum(1 for row in rows if row.rating == rating) for rating in RATINGS}
    average = round(sum(row.rating for row in rows) / len(rows), 1) if rows else None
    return FeedbackSummary(len(rows), average, by_rating, [row.note for row in rows if row.note][:notes])


def hosted_past(
    session: Session, *, person: Person, now: datetime, limit: int = 3
) -> list[tuple[LunchSession, FeedbackSummary]]:
    """The host's latest finished sessions with what attendees said (shown in `/lunchnlearn list`)."""
    lunches = session.scalars(
        select(LunchSession)
        .where(
            LunchSession.host_id == person.id,
            LunchSession.status == LunchStatus.SCHEDULED,
            LunchSession.starts_at <= now,
        )
        .order_by(LunchSession.starts_at.desc())
        .limit(limit)
    )
    return [(lunch, feedback_summary(session, lunch)) for lunch in lunches]
