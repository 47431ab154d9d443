"""Lunch 'n' Learn seats: Sign up and Cancel."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.db import Database
from bot.delivery import lunch_notices
from bot.ids import Action, Work
from bot.listeners.lunch_common import (
    answer,
)
from bot.listeners.support import (
    hand_over,
    person_transaction,
    sync_person_from_slack,
    team_of,
    user_of,
)
from bot.services.lunch import seats
from bot.services.lunch.common import Change, Outcome, parse_id
from bot.views import lunch as views
from bot.views.common import Message
from bot.work.queue import Job, task
from models import utcnow

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- seats


def handle_sign_up(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    hand_over(context, body, Work.SEAT_CHANGE, sign_up=True)


def handle_cancel_signup(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    hand_over(context, body, Work.SEAT_CHANGE, sign_up=False)


@task(Work.SEAT_CHANGE)
def change_seat(job: Job) -> None:
    """Take or free the seat (moving the waitlist up), then show it."""
    body, now = job.body, utcnow()
    if "reply" in job.extras:  # stored by an earlier version after it had changed the seat itself
        show_seat_change(
            body,
            job.respond,
            job.client,
            job.context,
            change=job.extras,
            reply=Message(**job.extras["reply"]),
        )
        return
    session_id = parse_id(body["actions"][0].get("value"))
    with person_transaction(body, job.context) as (session, person):
        if job.extras["sign_up"]:
            change = seats.sign_up(session, session_id=session_id, person=person, now=now)
            text = views.outcome_text(change.outcome, change.lunch, position=change.position)
        else:
            change = seats.cancel_signup(session, session_id=session_id, person=person, now=now)
            lunch_notices.tell_promoted(session, change, now=now)
            text = views.outcome_text(change.outcome, change.lunch)
    reply = views.build_notice(text)
    show_seat_change(body, job.respond, job.client, job.context, change=_seat_change(change), reply=reply)


def _seat_change(change: Change) -> dict:
    return {
        "outcome": change.outcome.value,
        "session_id": change.lunch.id if change.lunch else None,
        "promoted": bool(change.promoted),
    }


def show_seat_change(
    body: dict, respond: Respond, client: WebClient, context: BoltContext, *, change: dict, reply: Message
) -> None:
    """The seat is stored, and a promoted person's DM queued with it: answer, redraw the channel
    post, and send the DM now (the outbox job sends it if this fails)."""
    answer(body, respond, client, reply)
    session_id = change["session_id"]
    if session_id is None or Outcome(change["outcome"]) not in (
        Outcome.SIGNED_UP,
        Outcome.WAITLISTED,
        Outcome.LEFT,
        Outcome.LEFT_WAITLIST,
    ):
        return
    db: Database = context["db"]
    team_id, user_id = team_of(body), user_of(body)
    # First click from this person: their name comes from Slack before the post shows it.
    sync_person_from_slack(client, db=db, settings=context["settings"], team_id=team_id, user_id=user_id)
    lunch_notices.refresh_announcement(client, db, team_id=team_id, session_id=session_id)
    if change["promoted"]:
        lunch_notices.send_queued(client, db, team_id=team_id, session_id=session_id)


def register(app: App) -> None:
    app.action(Action.LUNCH_SIGN_UP)(handle_sign_up)
    app.action(Action.LUNCH_CANCEL_SIGNUP)(handle_cancel_signup)
