"""App Home: published on app_home_opened and, after a change, for people who have opened it; its
"Show all" button. The admin's controls are bot.listeners.admin; /mentoring forget is
bot.listeners.data_rights."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.db import Database
from bot.ids import Action as A
from bot.ids import Work
from bot.listeners.rights import admin_allowed
from bot.listeners.support import defer, metadata, person_transaction, sync_person_from_slack, team_of
from bot.middleware import done_by_the_worker
from bot.services import admin, insights, profiles
from bot.services.insights import Period
from bot.services.programme import next_matching_round
from bot.services.slack_events import first_delivery, slim_event_body, slim_home_opened
from bot.views import admin as admin_views
from bot.views.home import ShowAll, build_home, build_show_all
from bot.work import Job, settle_in, task
from models import utcnow

logger = logging.getLogger(__name__)


def publish_home(
    client: WebClient,
    *,
    db: Database,
    settings: Settings,
    team_id: str,
    user_id: str,
    period: Period | None = None,
    only_if_opened: bool = False,
) -> None:
    """Build and publish one person's App Home (with the admin section for admins).

    `only_if_opened`: skip people who never opened the Home tab; they get it fresh when they do."""
    now = utcnow()
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
        )
        if only_if_opened and person.home_opened_at is None:
            return
        programme = profiles.programme_settings(session, team_id=team_id, defaults=settings.programme)
        admin_blocks, home_state = [], None
        if admin.is_admin(person, slack_user_id=user_id, admin_user_ids=settings.admin_user_ids):
            period = period or Period.LAST_4_WEEKS
            report = insights.build_report(session, team_id=team_id, period=period, now=now)
            admin_blocks = admin_views.build_admin_section(report, programme)
            home_state = {"period": period.value}
        view = build_home(
            person,
            insights.person_overview(session, person=person, now=now),
            next_round=next_matching_round(programme, now=now),
            admin_blocks=admin_blocks,
            private_metadata=home_state,
        )
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        # Callers publish after their real work is done: a stale home must not undo or hide it.
        logger.warning("could not publish App Home: %s", error.response.get("error"))


def _home_period(view: dict[str, Any] | None) -> Period | None:
    """The period an admin last chose, kept in the home view's private_metadata."""
    raw = metadata(view or {}).get("period")
    return Period.parse(raw) if raw else None


def handle_app_home_opened(event: dict, body: dict, context: BoltContext) -> None:
    if event.get("tab") not in (None, "home"):
        return
    # Opened all day long, and drawing the home takes queries and Web API calls: the worker does it.
    defer(context, slim_event_body(body, slim_home_opened(event)), Work.HOME_OPENED)


@task(Work.HOME_OPENED)
def show_home(job: Job) -> None:
    body, context = job.body, job.context
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
    sync_person_from_slack(job.client, db=db, settings=settings, team_id=team_id, user_id=user_id)
    publish_home(
        job.client,
        db=db,
        settings=settings,
        team_id=team_id,
        user_id=user_id,
        period=_home_period(event.get("view")),
    )


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
            report = insights.build_report(
                session, team_id=team_of(body), period=Period.parse(period_value), now=utcnow()
            )
            view = admin_views.build_admin_list(kind, report)
    else:
        with person_transaction(body, context) as (session, person):
            view = build_show_all(kind, insights.person_overview(session, person=person, now=utcnow()))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: App) -> None:
    app.event(done_by_the_worker("app_home_opened"))(handle_app_home_opened)
    app.action(A.SHOW_ALL)(show_all)
