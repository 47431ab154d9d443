"""Drawing one person's App Home: a use case that listeners (and tasks) call after a change."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.db import Database
from bot.logs import error_code
from bot.services import admin, figures, insights, learning_log, profiles
from bot.services.figures import Period
from bot.services.programme import next_matching_round
from bot.slack.admin_rights import AdminRights
from bot.views import admin as admin_views
from bot.views.home import build_home
from bot.views.learning_log import build_admin_notice
from models import utcnow

logger = logging.getLogger(__name__)


def publish_home(
    client: WebClient,
    *,
    db: Database,
    settings: Settings,
    rights: AdminRights,
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
        maybe_admin = admin.may_be_admin(
            person, admin_user_ids=settings.admin_user_ids, single_workspace=not settings.oauth_enabled
        )
    # The admin section (the figures, the controls) only after the admin check; Slack is asked
    # only for those who may be admins, not for everyone opening their home.
    is_admin = maybe_admin and rights.is_admin(client, db, team_id=team_id, user_id=user_id)
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
        )
        programme = profiles.programme_settings(session, team_id=team_id, defaults=settings.programme)
        admin_blocks, home_state = [], None
        if is_admin:
            period = period or Period.MONTH
            report = figures.programme_figures(session, team_id=team_id, period=period, as_of=now)
            admin_blocks = admin_views.build_admin_section(report, programme) + build_admin_notice(
                learning_log.workspace_unavailable_reason(session, team_id=team_id)
            )
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
        logger.warning("could not publish App Home: %s", error_code(error.response.get("error")))
