"""Data rights in Slack: `/mentoring forget` with its confirmation, and what everyone affected
sees afterwards (bot.delivery.forgetting decides and queues)."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.delivery.forgetting import forget_person
from bot.delivery.lunch_notices import refresh_announcement
from bot.delivery.sender import Deliverer
from bot.ids import Modal
from bot.listeners.support import metadata, team_of, tell_privately, user_of
from bot.services import admin
from bot.views import admin as admin_views
from bot.views.home import build_forgotten_home
from models import utcnow


def after_forget(
    client: WebClient, context: BoltContext, *, team_id: str, user_id: str, outcome: admin.ForgetOutcome
) -> None:
    # Partners and whoever moved up a waitlist hear now rather than at the next outbox tick; the
    # home must not keep showing the wishes and pairings that were just deleted; the posts of
    # cancelled sessions show it, and those they had a seat in no longer name them.
    Deliverer(context["db"], client).deliver_due(team_id=team_id, max_batches=1)
    for session_id in dict.fromkeys([*outcome.cancelled_sessions, *outcome.freed_seats]):
        refresh_announcement(client, context["db"], team_id=team_id, session_id=session_id)
    client.views_publish(user_id=user_id, view=build_forgotten_home())


def mentoring_forget(
    command: dict, respond: Respond, client: WebClient, context: BoltContext, rest: str
) -> None:
    """`/mentoring forget`: a confirmation modal first; nothing is deleted until it is submitted."""
    origin = json.dumps({"channel_id": command.get("channel_id")})
    client.views_open(
        trigger_id=command["trigger_id"], view=admin_views.build_forget_confirm_modal(private_metadata=origin)
    )


def forget_confirmed(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    team_id, user_id = team_of(body), user_of(body)
    outcome = forget_person(context["db"], team_id=team_id, user_id=user_id, now=utcnow())
    after_forget(client, context, team_id=team_id, user_id=user_id, outcome=outcome)
    tell_privately(
        client,
        user_id=user_id,
        channel_id=metadata(view).get("channel_id"),
        reply=admin_views.build_notice(
            ":wave: Done. Flipside has deleted your wishes, skills, profile and notes; past pairings "
            "stay in the figures without your name. `/teachme` or `/canteach` would start afresh."
        ),
    )


def register(app: App) -> None:
    app.view(Modal.FORGET_CONFIRM)(forget_confirmed)
