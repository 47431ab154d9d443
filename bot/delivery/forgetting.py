"""Forgetting a person (`/mentoring forget`, or an admin for someone who has left): the decision
and the messages it queues, with no Slack calls (the listeners send them)."""

from __future__ import annotations

from datetime import datetime

from bot.db import Database
from bot.delivery.lunch_notices import tell_cancelled
from bot.services import admin
from bot.services.lunch import hosting
from bot.services.lunch.common import Outcome
from bot.views import admin as admin_views


def forget_person(db: Database, *, team_id: str, user_id: str, now: datetime) -> admin.ForgetOutcome:
    """Delete what the person told us, anonymise them in history, end their pairings, cancel the
    sessions they host, and queue the messages to the people affected: one transaction."""
    with db.transaction() as session:
        person = admin.find_person(session, team_id=team_id, slack_user_id=user_id)
        if person is None:
            return admin.ForgetOutcome()
        cancelled = _cancel_hosted_sessions(session, person=person, now=now)
        outcome = admin.forget_person(session, person=person, now=now)
        outcome.cancelled_sessions.extend(cancelled)
        admin.tell_partners(
            session, team_id=team_id, outcome=outcome, message_for=admin_views.build_partner_left, now=now
        )
    return outcome


def _cancel_hosted_sessions(session, *, person, now) -> list[int]:
    """A forgotten host's upcoming Lunch 'n' Learns are cancelled and their attendees told."""
    cancelled = []
    for lunch in hosting.upcoming_hosted_by(session, person=person, now=now):
        change = hosting.cancel_session(session, session_id=lunch.id, person=person, is_admin=False, now=now)
        tell_cancelled(session, change, reason="the host has left the programme", now=now)
        if change.outcome == Outcome.CANCELLED:
            cancelled.append(lunch.id)
    return cancelled
