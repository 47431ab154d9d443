"""Buttons for profile, wishes and skills (in messages, modals and App Home)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.ids import Action, Work
from bot.listeners.support import defer, refresh_home, team_of, try_slack, user_of
from bot.listeners.support import person_transaction as _person_session
from bot.services import learning, profiles
from bot.views import learning as learning_views
from bot.views import profile as profile_views
from bot.work import Job, task
from models import utcnow


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
        view = learning_views.build_wishes_modal(learning.open_wishes(session, person))
    view["private_metadata"] = _origin(body)
    _open_or_push(client, body, view)


def open_skills(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    with _person_session(body, context) as (session, person):
        view = learning_views.build_skills_modal(learning.skills_of(session, person))
    view["private_metadata"] = _origin(body)
    _open_or_push(client, body, view)


def remove_wish(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    defer(context, body, Work.REMOVE_WISH)


@task(Work.REMOVE_WISH)
def remove_wish_and_redraw(job: Job) -> None:
    _remove_wish(job.body, job.body["actions"][0], job.client, job.context)


def _remove_wish(body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    with _person_session(body, context) as (session, person):
        learning.withdraw_wish(session, person, _int(action.get("value")), now=utcnow())
        view = learning_views.build_wishes_modal(learning.open_wishes(session, person))
    _refresh_modal(client, body, view, context)


def remove_skill(ack: Ack, body: dict, context: BoltContext) -> None:
    ack()
    defer(context, body, Work.REMOVE_SKILL)


@task(Work.REMOVE_SKILL)
def remove_skill_and_redraw(job: Job) -> None:
    _remove_skill(job.body, job.body["actions"][0], job.client, job.context)


def _remove_skill(body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    with _person_session(body, context) as (session, person):
        learning.remove_skill(session, person, _int(action.get("value")))
        view = learning_views.build_skills_modal(learning.skills_of(session, person))
    _refresh_modal(client, body, view, context)


def _refresh_modal(
    client: WebClient, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    current = body.get("view") or {}
    view["private_metadata"] = current.get("private_metadata") or ""
    # The change is saved; a modal closed meanwhile is not worth a "something went wrong".
    try_slack(client.views_update, view_id=current["id"], view=view)
    refresh_home(client, context, team_id=team_of(body), user_id=user_of(body))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # matches no row: a forged or stale value changes nothing


def register(app: App) -> None:
    app.action(Action.OPEN_PROFILE)(open_profile)
    app.action(Action.OPEN_WISHES)(open_wishes)
    app.action(Action.OPEN_SKILLS)(open_skills)
    app.action(Action.REMOVE_WISH)(remove_wish)
    app.action(Action.REMOVE_SKILL)(remove_skill)
