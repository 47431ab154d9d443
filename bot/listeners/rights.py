"""Who may use the admin controls, checked on every admin request.

Every admin action and admin modal submission checks the rights of the user in *that* payload
(asking Slack again for Slack-granted rights), so replaying an admin's button with another user
id reaches nothing.
"""

from __future__ import annotations

import logging

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.listeners.support import sync_person_from_slack, team_of, tell_privately, user_of
from bot.services import admin, profiles
from bot.views import admin as admin_views

logger = logging.getLogger(__name__)


def admin_allowed(client: WebClient, body: dict, context: BoltContext, *, fresh: bool = True) -> bool:
    """Whether the user in this payload is an admin now; if not, they are told so privately.

    `fresh=False` is for modal submissions, which must be acked within 3 seconds: they trust the
    flag that the button opening the modal has just refreshed from Slack.
    """
    db: Database = context["db"]
    settings: Settings = context["settings"]
    team_id, user_id = team_of(body), user_of(body)
    if fresh and user_id not in settings.admin_user_ids:
        # Slack-granted rights: ask users.info again rather than trust a day-old flag. If Slack
        # cannot answer, the flag it gave us last stays in force.
        sync_person_from_slack(client, db=db, settings=settings, team_id=team_id, user_id=user_id, force=True)
    with db.transaction() as session:
        person = profiles.get_person(session, team_id=team_id, slack_user_id=user_id)
        allowed = admin.is_admin(person, slack_user_id=user_id, admin_user_ids=settings.admin_user_ids)
    if not allowed:
        logger.warning("refused an admin %s from a non-admin", body.get("type"))
        tell_privately(
            client, user_id=user_id, channel_id=None, reply=admin_views.build_notice(admin_views.NOT_ADMIN)
        )
    return allowed
