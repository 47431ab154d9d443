"""Events API: App Home opened, people leaving Slack, the app being uninstalled."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.services import learning, profiles, workspaces
from bot.services.programme import next_matching_round
from bot.views.home import build_home
from models import utcnow

logger = logging.getLogger(__name__)


def publish_home(client: WebClient, *, db: Database, settings: Settings, team_id: str, user_id: str) -> None:
    now = utcnow()
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
        )
        view = build_home(
            person,
            wishes=learning.open_wishes(session, person),
            skills=learning.skills_of(session, person),
            next_round=next_matching_round(
                profiles.programme_settings(session, team_id=team_id, defaults=settings.programme), now=now
            ),
        )
    client.views_publish(user_id=user_id, view=view)


def handle_app_home_opened(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab") not in (None, "home"):
        return
    publish_home(
        client, db=context["db"], settings=context["settings"], team_id=body["team_id"], user_id=event["user"]
    )


def handle_user_change(event: dict, body: dict, context: BoltContext) -> None:
    user = event.get("user") or {}
    db: Database = context["db"]
    with db.transaction() as session:
        person = profiles.get_person(session, team_id=body["team_id"], slack_user_id=user.get("id", ""))
        if person is not None:
            profiles.apply_slack_user(person, user, now=utcnow())


def handle_uninstalled(body: dict, context: BoltContext) -> None:
    db: Database = context["db"]
    with db.transaction() as session:
        workspaces.mark_uninstalled(session, team_id=body["team_id"], now=utcnow())
    logger.info("workspace uninstalled or tokens revoked; its jobs stop, its data stays")


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)
    app.event("user_change")(handle_user_change)
    app.event("app_uninstalled")(handle_uninstalled)
    app.event("tokens_revoked")(handle_uninstalled)
