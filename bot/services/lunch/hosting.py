"""The host's (or an admin's) edit and cancel, and who may make them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import outbox
from bot.services.lunch.announcements import reminder_prefix
from bot.services.lunch.common import Change, Outcome, closed_reason, lock_session
from bot.services.lunch.proposing import Proposal, ProposalError, ProposalField, topic_for
from bot.services.lunch.seats import attending_count, fill_free_seats, state_of
from models import LunchSession, LunchStatus, Person


def can_manage(lunch: LunchSession, person: Person, *, is_admin: bool) -> bool:
    """The host, or an admin: `is_admin` is the admin check's answer for `person` in this workspace
    (asked of Slack by the caller), never a stored flag."""
    return lunch.team_id == person.team_id and (lunch.host_id == person.id or is_admin)


_EDITABLE = {
    "title": "title",
    "description": "description",
    "starts_at": "time",
    "duration_minutes": "length",
    "location": "place",
    "capacity": "seats",
    "topic_id": "topic",
    "host_id": "host",
}


def _lock_for_host(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    is_admin: bool,
    now: datetime,
) -> tuple[LunchSession | None, Change | None]:
    """The session, locked, if `person` may still edit or cancel it; else the refusal."""
    lunch = lock_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return None, Change(Outcome.NOT_FOUND)
    if not can_manage(lunch, person, is_admin=is_admin):
        return None, Change(Outcome.NOT_ALLOWED, lunch)
    closed = closed_reason(lunch, now)
    if closed:
        return None, Change(closed, lunch)
    return lunch, None


def edit_session(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    proposal: Proposal,
    host: Person,
    is_admin: bool,
    now: datetime,
) -> Change:
    """Apply an edit; raises ProposalError when seats would drop below the people already going, or
    when the session would go to a host who never agreed to it."""
    lunch, refusal = _lock_for_host(session, session_id=session_id, person=person, is_admin=is_admin, now=now)
    if refusal is not None:
        return refusal
    assert lunch is not None
    if host.id not in (lunch.host_id, person.id):  # a new host consents, as at proposal time
        raise ProposalError(
            {
                ProposalField.HOST: "To hand the session to someone else, cancel it and propose it "
                "again with them as host: they'll be asked to accept."
            }
        )
    going = attending_count(session, lunch)
    if proposal.capacity is not None and proposal.capacity < going:
        raise ProposalError(
            {ProposalField.SEATS: f"{going} people are already going: keep at least {going} seats."}
        )
    topic = topic_for(session, team_id=lunch.team_id, typed=proposal.topic)
    new_values = {
        "title": proposal.title,
        "description": proposal.description,
        "starts_at": proposal.starts_at,
        "duration_minutes": proposal.duration_minutes,
        "location": proposal.location,
        "capacity": proposal.capacity,
        "topic_id": topic.id if topic else None,
        "host_id": host.id,
    }
    changes = [label for name, label in _EDITABLE.items() if getattr(lunch, name) != new_values[name]]
    if not changes:
        return Change(Outcome.EDITED, lunch)
    if "time" in changes:
        # Reminders not yet sent were for the old time; the tick job queues new ones (new keys).
        outbox.cancel(session, team_id=lunch.team_id, key_prefix=reminder_prefix(lunch))
    for name, value in new_values.items():
        setattr(lunch, name, value)
    lunch.version += 1
    session.flush()
    promoted = fill_free_seats(session, lunch, now=now)
    audience = [p for p in state_of(session, lunch).attendees if p.id not in {q.id for q in promoted}]
    return Change(Outcome.EDITED, lunch, promoted=promoted, audience=audience, changes=changes)


def upcoming_hosted_by(session: Session, *, person: Person, now: datetime) -> list[LunchSession]:
    return list(
        session.scalars(
            select(LunchSession)
            .where(
                LunchSession.team_id == person.team_id,
                LunchSession.host_id == person.id,
                LunchSession.status == LunchStatus.SCHEDULED,
                LunchSession.starts_at > now,
            )
            .order_by(LunchSession.id)
        )
    )


def cancel_session(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    is_admin: bool,
    now: datetime,
) -> Change:
    lunch, refusal = _lock_for_host(session, session_id=session_id, person=person, is_admin=is_admin, now=now)
    if refusal is not None:
        return refusal
    assert lunch is not None
    state = state_of(session, lunch)
    lunch.status = LunchStatus.CANCELLED
    lunch.cancelled_at = now
    lunch.version += 1
    # Nothing still queued about this session makes sense any more (reminders, pending notices).
    outbox.cancel(session, team_id=lunch.team_id, key_prefix=f"lunch:{lunch.id}:")
    audience = [p for p in [*state.attendees, *state.waitlisted] if p.id != person.id]
    return Change(Outcome.CANCELLED, lunch, audience=audience)
