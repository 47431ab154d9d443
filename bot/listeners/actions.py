"""Buttons that open the profile, wishes and skills modals (in messages, modals and App Home)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.ids import Action
from bot.listeners.learning import wishes_modal
from bot.listeners.support import person_transaction as _person_session
from bot.listeners.support import team_of, user_of
from bot.services import learning, profiles
from bot.views import learning as learning_views
from bot.views import profile as profile_views


def _origin(body: dict[str, Any]) -> str:
    channel = (body.get("channel") or body.get("container") or {}).get("channel_id") or (
        body.get("channel") or {}
    ).get("id")
    return json.dumps({"channel_id": channel})


def _open_or_push(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    # From inside a modal Slack wants views.push; from a message or App Home, views.open.
    if (body.get("view") or {}).get("type") == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def open_profile(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    db: Database = context["db"]
    settings: Settings = context["settings"]
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_of(body), slack_user_id=user_of(body), defaults=settings.programme
        )
        view = profile_views.build_profile_modal(person, private_metadata=_origin(body))
    _open_or_push(client, body, view)


def open_wishes(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    with _person_session(body, context) as (session, person):
        view = wishes_modal(session, person)
    view["private_metadata"] = _origin(body)
    _open_or_push(client, body, view)


def open_skills(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    with _person_session(body, context) as (session, person):
        view = learning_views.build_skills_modal(learning.skills_of(session, person))
    view["private_metadata"] = _origin(body)
    _open_or_push(client, body, view)


def register(app: App) -> None:
    app.action(Action.OPEN_PROFILE)(open_profile)
    app.action(Action.OPEN_WISHES)(open_wishes)
    app.action(Action.OPEN_SKILLS)(open_skills)
