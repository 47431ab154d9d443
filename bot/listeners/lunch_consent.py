"""Lunch 'n' Learn hosts consent: the named host's Accept or Decline on the request DM."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext

from bot.db import Database
from bot.delivery import lunch_notices
from bot.ids import Action, Work
from bot.listeners.lunch import post_queued_announcement
from bot.listeners.lunch_common import answer, programme_of
from bot.listeners.support import hand_over, person_transaction, team_of, tell_privately, user_of
from bot.services.lunch import consent
from bot.services.lunch.common import parse_id
from bot.services.lunch.consent import Answer
from bot.views import lunch as views
from bot.views.common import Message
from bot.work.queue import Job, task
from models import LunchSession, utcnow

logger = logging.getLogger(__name__)


def handle_accept(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    hand_over(context, body, Work.LUNCH_HOST_ANSWER, accept=True)


def handle_decline(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    hand_over(context, body, Work.LUNCH_HOST_ANSWER, accept=False)


@task(Work.LUNCH_HOST_ANSWER)
def answer_host_request(job: Job) -> None:
    """Store the answer with what it queues (the channel post, the proposer's DM), then send and show it."""
    body, now = job.body, utcnow()
    session_id = parse_id(body["actions"][0].get("value"))
    with person_transaction(body, job.context) as (session, person):
        result = consent.answer_request(
            session, session_id=session_id, person=person, accept=bool(job.extras["accept"]), now=now
        )
        channel_id = programme_of(session, person.team_id, job.context).channel_id
        told = lunch_notices.tell_host_answer(session, result, channel_id=channel_id, now=now)
        reply = views.build_host_reply(result.answer, result.lunch)
    if not result.changed or session_id is None:  # a second click or a stale button: nothing changed
        answer(body, job.respond, job.client, reply)
        return
    db: Database = job.context["db"]
    if result.answer == Answer.ACCEPTED and channel_id:
        posted = post_queued_announcement(
            job.client, db, team_id=team_of(body), session_id=session_id, channel_id=channel_id, told=told
        )
        with db.transaction() as session:
            reply = views.build_host_reply(
                Answer.ACCEPTED, session.get(LunchSession, session_id), posted=posted
            )
    else:
        lunch_notices.send_queued(job.client, db, team_id=team_of(body), session_id=session_id)
    _replace_request(body, job, reply)


def _replace_request(body: dict, job: Job, reply: Message) -> None:
    """The request DM becomes the answer, so its buttons are gone."""
    if body.get("response_url"):
        job.respond(replace_original=True, **reply.as_kwargs())
    else:
        tell_privately(job.client, user_id=user_of(body), channel_id=None, reply=reply)


def register(app: App) -> None:
    app.action(Action.LUNCH_HOST_ACCEPT)(handle_accept)
    app.action(Action.LUNCH_HOST_DECLINE)(handle_decline)
