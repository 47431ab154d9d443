"""Hosts consent: a session whose proposer named someone else as host waits for that person's
answer. Accepted, it is scheduled (the listener announces it); declined or left unanswered, it is
cancelled without ever being announced."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.services import outbox
from bot.services.lunch.common import lock_session
from bot.services.lunch.demand import link_suggestions
from models import HostConsent, LunchSession, LunchStatus, Person

# A request unanswered this long (or until the session starts, if sooner) expires.
REQUEST_LIFETIME = timedelta(days=3)


class Answer(enum.StrEnum):
    """What a click on Accept or Decline did."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    ALREADY_ACCEPTED = "already_accepted"
    ALREADY_DECLINED = "already_declined"
    EXPIRED = "expired"
    NOT_YOURS = "not_yours"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class HostAnswer:
    answer: Answer
    lunch: LunchSession | None = None
    changed: bool = False  # True when this click decided the request (so messages were queued)


def request_key(lunch: LunchSession) -> str:
    # Under "lunch:<id>:" like every message about the session (see announcements.py).
    return f"lunch:{lunch.id}:host-request"


def answer_key(lunch: LunchSession, _proposer: Person | None = None) -> str:
    """The proposer hears what became of the request once, whoever decided it."""
    return f"lunch:{lunch.id}:host-answer"


def expires_at(lunch: LunchSession) -> datetime:
    return min(lunch.starts_at, lunch.created_at + REQUEST_LIFETIME)


def answer_request(
    session: Session, *, session_id: int | None, person: Person, accept: bool, now: datetime
) -> HostAnswer:
    """The named host's click, serialised with every other change to the session: only the first
    answer counts; a second click (or a stale button) changes nothing."""
    lunch = lock_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return HostAnswer(Answer.NOT_FOUND)
    if lunch.host_id != person.id:
        return HostAnswer(Answer.NOT_YOURS, lunch)
    if lunch.host_consent == HostConsent.ACCEPTED:
        return HostAnswer(Answer.ALREADY_ACCEPTED, lunch)
    if lunch.host_consent == HostConsent.DECLINED:
        return HostAnswer(Answer.ALREADY_DECLINED, lunch)
    if lunch.host_consent == HostConsent.EXPIRED or lunch.status != LunchStatus.AWAITING_HOST:
        return HostAnswer(Answer.EXPIRED, lunch)
    if now >= expires_at(lunch):
        _expire(session, lunch, now=now)
        return HostAnswer(Answer.EXPIRED, lunch, changed=True)
    lunch.version += 1
    if accept:
        lunch.status, lunch.host_consent = LunchStatus.SCHEDULED, HostConsent.ACCEPTED
        session.flush()
        if lunch.topic_id is not None:
            link_suggestions(session, lunch, now=now)
        return HostAnswer(Answer.ACCEPTED, lunch, changed=True)
    lunch.status, lunch.host_consent = LunchStatus.CANCELLED, HostConsent.DECLINED
    lunch.cancelled_at = now
    session.flush()
    return HostAnswer(Answer.DECLINED, lunch, changed=True)


def expire_requests(session: Session, *, team_id: str, now: datetime) -> list[LunchSession]:
    """Requests left unanswered past their time: the sessions are cancelled, never announced."""
    due = session.scalars(
        select(LunchSession)
        .where(
            LunchSession.team_id == team_id,
            LunchSession.status == LunchStatus.AWAITING_HOST,
            or_(LunchSession.starts_at <= now, LunchSession.created_at <= now - REQUEST_LIFETIME),
        )
        .order_by(LunchSession.id)
        .with_for_update(skip_locked=True)  # a click answering one of them right now wins
    ).all()
    for lunch in due:
        _expire(session, lunch, now=now)
    return list(due)


def _expire(session: Session, lunch: LunchSession, *, now: datetime) -> None:
    lunch.status, lunch.host_consent = LunchStatus.CANCELLED, HostConsent.EXPIRED
    lunch.cancelled_at = now
    lunch.version += 1
    # The request, if it never went out, is pointless now.
    outbox.cancel(session, team_id=lunch.team_id, key_prefix=request_key(lunch))
    session.flush()
