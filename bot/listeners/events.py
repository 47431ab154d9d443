"""Events API: people leaving Slack, the app being uninstalled (App Home is bot.listeners.home)."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.delivery import leavers
from bot.delivery.lunch_notices import refresh_announcement, send_queued
from bot.delivery.sender import flush_outbox
from bot.ids import Work
from bot.listeners.support import hand_over
from bot.services import profiles, workspaces
from bot.services.slack_events import first_delivery, slim_event_body, slim_user_change
from bot.work.queue import settle_in, task
from models import utcnow

logger = logging.getLogger(__name__)


def handle_user_change(event: dict, body: dict, context: BoltContext) -> None:
    # Sent for every profile or status change of anyone in the workspace: a worker applies it.
    hand_over(context, slim_event_body(body, slim_user_change(event)), Work.USER_CHANGED)


def apply_user_change(body: dict, context: BoltContext, client: WebClient | None = None) -> None:
    user = (body.get("event") or {}).get("user") or {}
    user_id = str(user.get("id", ""))
    db: Database = context["db"]
    settings: Settings = context["settings"]
    departure = None
    with db.transaction() as session:
        if first_delivery(session, body):
            # Locked: changes are applied in parallel, and an older copy must not win (Slack's
            # `updated`, compared in apply_slack_user).
            person = profiles.get_person(
                session, team_id=body["team_id"], slack_user_id=user_id, for_update=True
            )
            if person is not None:
                was_deactivated = person.deactivated_at is not None
                profiles.apply_slack_user(person, user, now=utcnow())
                if profiles.departed_now(person, was_deactivated=was_deactivated):
                    departure = leavers.depart(session, person, defaults=settings.programme, now=utcnow())
        settle_in(session, context)  # the event id, the change and the task's row go together
    if departure is not None and client is not None:
        tell_after_departure(client, db, team_id=body["team_id"], departure=departure)


def tell_after_departure(
    client: WebClient, db: Database, *, team_id: str, departure: leavers.Departure
) -> None:
    """Partners and whoever moved up a waitlist hear now, not at the next outbox tick; the posts
    of the sessions they held a seat in, or hosted, show it."""
    for pairing_id in departure.pairing_ids:
        flush_outbox(db, client, team_id=team_id, key_prefix=f"pairing:{pairing_id}:")
    for session_id in departure.lunch_session_ids:
        send_queued(client, db, team_id=team_id, session_id=session_id)
        refresh_announcement(client, db, team_id=team_id, session_id=session_id)


task(Work.USER_CHANGED)(lambda job: apply_user_change(job.body, job.context, job.client))


def handle_uninstalled(body: dict, context: BoltContext) -> None:
    db: Database = context["db"]
    settings: Settings = context["settings"]
    with db.transaction() as session:
        workspaces.mark_uninstalled(session, team_id=body["team_id"], now=utcnow())
    if settings.oauth_enabled:  # its tokens are dead: forget them (a reinstall brings new ones)
        from bot.slack.oauth import forget_installation

        # Bolt reads the Enterprise Grid org and whether the app was installed org-wide from the
        # body's authorizations; an org-wide install's rows have no team.
        forget_installation(
            settings,
            db,
            enterprise_id=context.enterprise_id,
            team_id=None if context.is_enterprise_install else body["team_id"],
        )
    logger.info("workspace uninstalled or tokens revoked; its jobs stop, its data stays")


def handle_tokens_revoked(event: dict, body: dict, context: BoltContext) -> None:
    # Only the bot's tokens matter to us; a user revoking their own token changes nothing.
    if (event.get("tokens") or {}).get("bot"):
        handle_uninstalled(body, context)


def register(app: App) -> None:
    app.event("user_change")(handle_user_change)
    app.event("app_uninstalled")(handle_uninstalled)
    app.event("tokens_revoked")(handle_tokens_revoked)
