"""App Home: drawn when opened (bot.slack.app_home draws it, here and after changes elsewhere); its
"Show all" button. The admin's controls are bot.listeners.admin; /mentoring forget is
bot.listeners.data_rights."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.ids import Action as A
from bot.ids import Work
from bot.listeners.rights import admin_allowed
from bot.listeners.support import hand_over, metadata, person_transaction, sync_person_from_slack, team_of
from bot.services import figures, insights, profiles
from bot.services.figures import Period
from bot.services.slack_events import first_delivery, slim_event_body, slim_home_opened
from bot.slack.app_home import publish_home
from bot.views import admin as admin_views
from bot.views.home import ShowAll, build_show_all
from bot.work.queue import settle_in, task
from models import utcnow

logger = logging.getLogger(__name__)


def _home_period(view: dict[str, Any] | None) -> Period | None:
    """The period an admin last chose, kept in the home view's private_metadata."""
    raw = metadata(view or {}).get("period")
    return Period.parse(raw) if raw else None


def handle_app_home_opened(event: dict, body: dict, context: BoltContext) -> None:
    # Opened all day long, and drawing the home takes queries and Web API calls: a worker does it.
    if event.get("tab") in (None, "home"):
        hand_over(context, slim_event_body(body, slim_home_opened(event)), Work.HOME_OPENED)


def show_home(body: dict, client: WebClient, context: BoltContext) -> None:
    event = body.get("event") or {}
    db: Database = context["db"]
    settings: Settings = context["settings"]
    team_id, user_id = body["team_id"], str(event.get("user", ""))
    with db.transaction() as session:
        first = first_delivery(session, body)  # a retried event was drawn already
        if first:
            person = profiles.get_or_create_person(
                session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
            )
            person.home_opened_at = utcnow()
        settle_in(session, context)
    if not first:
        return
    # Name, timezone and the Slack admin flag, at most once a day: the home shows them.
    sync_person_from_slack(client, db=db, settings=settings, team_id=team_id, user_id=user_id)
    publish_home(
        client,
        db=db,
        settings=settings,
        rights=context["rights"],
        team_id=team_id,
        user_id=user_id,
        period=_home_period(event.get("view")),
    )


task(Work.HOME_OPENED)(lambda job: show_home(job.body, job.client, job.context))


def show_all(ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    kind_value, _, period_value = str(action.get("value") or "").partition(":")
    try:
        kind = ShowAll(kind_value)
    except ValueError:
        return  # a forged value: nothing to show
    if kind.for_admins:
        if not admin_allowed(client, body, context):
            return
        with context["db"].transaction() as session:
            report = figures.programme_figures(
                session, team_id=team_of(body), period=Period.parse(period_value), as_of=utcnow()
            )
            view = admin_views.build_admin_list(kind, report)
    else:
        with person_transaction(body, context) as (session, person):
            view = build_show_all(kind, insights.person_overview(session, person=person, now=utcnow()))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)
    app.action(A.SHOW_ALL)(show_all)
