"""Lunch 'n' Learn seats: Sign up and Cancel store the seat on Bolt's thread; the worker shows it."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext
from sqlalchemy.orm import Session

from bot import lunch_notices
from bot.db import Database
from bot.ids import Action, Work
from bot.listeners.lunch_common import (
    answer,
)
from bot.listeners.support import (
    defer_in,
    person_transaction,
    sync_person_from_slack,
    user_of,
)
from bot.services.lunch import seats
from bot.services.lunch.common import Change, Outcome, parse_id
from bot.views import lunch as views
from bot.views.common import Message
from bot.work import Job, task
from models import utcnow

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- seats


def handle_sign_up(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    with person_transaction(body, context) as (session, person):
        change = seats.sign_up(session, session_id=parse_id(action.get("value")), person=person, now=utcnow())
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch, position=change.position))
        _defer_seat_change(session, body, context, change, reply)


def handle_cancel_signup(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    ack()
    now = utcnow()
    with person_transaction(body, context) as (session, person):
        change = seats.cancel_signup(
            session, session_id=parse_id(action.get("value")), person=person, now=now
        )
        lunch_notices.tell_promoted(session, change, now=now)
        reply = views.build_notice(views.outcome_text(change.outcome, change.lunch))
        _defer_seat_change(session, body, context, change, reply)


def _defer_seat_change(
    session: Session, body: dict, context: BoltContext, change: Change, reply: Message
) -> None:
    """The seat is taken or freed in this transaction; the reply, the redrawn post and the DMs
    follow from the worker, queued in the same transaction."""
    defer_in(
        session,
        context,
        body,
        Work.SEAT_CHANGE,
        outcome=change.outcome.value,
        session_id=change.lunch.id if change.lunch else None,
        promoted=bool(change.promoted),
        reply=reply.as_kwargs(),
    )


@task(Work.SEAT_CHANGE)
def show_seat_change(job: Job) -> None:
    answer(job.body, job.respond, job.client, Message(**job.extras["reply"]))
    session_id = job.extras["session_id"]
    if session_id is None or Outcome(job.extras["outcome"]) not in (
        Outcome.SIGNED_UP,
        Outcome.WAITLISTED,
        Outcome.LEFT,
        Outcome.LEFT_WAITLIST,
    ):
        return
    db: Database = job.context["db"]
    team_id, user_id = job.work.team_id, user_of(job.body)
    # First click from this person: their name comes from Slack before the post shows it.
    sync_person_from_slack(
        job.client, db=db, settings=job.context["settings"], team_id=team_id, user_id=user_id
    )
    lunch_notices.refresh_announcement(job.client, db, team_id=team_id, session_id=session_id)
    if job.extras["promoted"]:
        lunch_notices.send_queued(job.client, db, team_id=team_id, session_id=session_id)


def register(app: App) -> None:
    app.action(Action.LUNCH_SIGN_UP)(handle_sign_up)
    app.action(Action.LUNCH_CANCEL_SIGNUP)(handle_cancel_signup)
