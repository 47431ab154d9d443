"""Forgetting a person (`/mentoring forget`, or an admin for someone who has left): the decision
and the messages it queues, with no Slack calls (the listeners send them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.delivery.lunch_notices import tell_cancelled, tell_promoted
from bot.services import admin, erasure
from bot.services.lunch import announcements, feedback, hosting, seats
from bot.services.lunch.common import Outcome
from bot.views import admin as admin_views
from bot.views import lunch as lunch_views
from models import LunchSession, LunchSignup, OutboxMessage, OutboxStatus, Person, SignupStatus


def forget_person(db: Database, *, team_id: str, user_id: str, now: datetime) -> admin.ForgetOutcome:
    """Delete what the person told us, anonymise them in history, end their pairings, give up their
    seats, cancel the sessions they host, and queue the messages to the people affected: one
    transaction."""
    with db.transaction() as session:
        person = admin.find_person(session, team_id=team_id, slack_user_id=user_id)
        if person is None:
            return admin.ForgetOutcome()
        traces = erasure.traces_of(session, person)
        freed = give_up_seats(session, person=person, now=now)
        cancelled = cancel_hosted_sessions(session, person=person, now=now)
        outcome = admin.forget_person(session, person=person, now=now, traces=traces)
        outcome.cancelled_sessions.extend(cancelled)
        outcome.freed_seats.extend(freed)
        _redraw_unsent(session, team_id=team_id, session_ids=traces.seated_session_ids)
        admin.tell_partners(
            session, team_id=team_id, outcome=outcome, message_for=admin_views.build_partner_left, now=now
        )
    return outcome


def give_up_seats(session: Session, *, person: Person, now: datetime) -> list[int]:
    """Their seats in upcoming sessions, given back as a click on Cancel would: the waitlist moves
    up and whoever gets the seat is told. Returns the sessions whose post must be redrawn."""
    held = session.scalars(
        select(LunchSignup.session_id)
        .join(LunchSession, LunchSession.id == LunchSignup.session_id)
        .where(
            LunchSignup.person_id == person.id,
            LunchSignup.status.in_([SignupStatus.ATTENDING, SignupStatus.WAITLISTED]),
            LunchSession.starts_at > now,
        )
        .order_by(LunchSignup.session_id)
    ).all()
    changed = []
    for session_id in held:
        change = seats.cancel_signup(session, session_id=session_id, person=person, now=now)
        if change.outcome in (Outcome.LEFT, Outcome.LEFT_WAITLIST):
            tell_promoted(session, change, now=now)
            changed.append(session_id)
    return changed


def cancel_hosted_sessions(session: Session, *, person: Person, now: datetime) -> list[int]:
    """A forgotten host's upcoming Lunch 'n' Learns are cancelled and their attendees told."""
    cancelled = []
    for lunch in hosting.upcoming_hosted_by(session, person=person, now=now):
        change = hosting.cancel_session(session, session_id=lunch.id, person=person, is_admin=False, now=now)
        tell_cancelled(session, change, reason="the host has left the programme", now=now)
        if change.outcome == Outcome.CANCELLED:
            cancelled.append(lunch.id)
    return cancelled


def _redraw_unsent(session: Session, *, team_id: str, session_ids: tuple[int, ...]) -> None:
    """A channel post or a host's feedback summary not sent yet is drawn again from what is stored
    now: without the forgotten person's name among those going, or their note quoted."""
    for session_id in session_ids:
        lunch = session.get(LunchSession, session_id)
        if lunch is None:
            continue
        unsent = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.team_id == team_id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.dedupe_key.startswith(f"lunch:{session_id}:"),
                OutboxMessage.kind.in_(["lunch_announcement", "lunch_summary"]),
            )
        )
        for row in unsent:
            if row.dedupe_key == announcements.summary_key(lunch):
                message = lunch_views.build_host_summary(lunch, feedback.feedback_summary(session, lunch))
            else:
                message = lunch_views.build_announcement(seats.state_of(session, lunch))
            row.text, row.blocks = message.text, message.blocks or None
    session.flush()
