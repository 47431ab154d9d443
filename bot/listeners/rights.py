"""Who may use the admin controls, checked on every admin request.

Every admin action and admin modal submission checks the rights of the user in *that* payload, in
*that* workspace, through the one check (bot.slack.admin_rights: Slack's users.info, kept for
ADMIN_CHECK_SECONDS), so replaying an admin's button with another user id, or as an admin of
another workspace, reaches nothing.
"""

from __future__ import annotations

import logging

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.listeners.support import team_of, tell_privately, user_of
from bot.slack.admin_rights import AdminRights, Verdict
from bot.views import admin as admin_views

logger = logging.getLogger(__name__)


def admin_verdict(client: WebClient, body: dict, context: BoltContext) -> Verdict:
    """The admin check for the user in this payload, in its workspace; nobody is told anything."""
    rights: AdminRights = context["rights"]
    return rights.check(client, context["db"], team_id=team_of(body), user_id=user_of(body))


def refusal(verdict: Verdict) -> str:
    """What a refused person is told (in a DM, or under a modal's input)."""
    return admin_views.ADMIN_CHECK_FAILED if verdict is Verdict.UNKNOWN else admin_views.NOT_ADMIN


def tell_refused(client: WebClient, body: dict, verdict: Verdict) -> None:
    logger.warning("refused an admin %s (%s)", body.get("type"), verdict.value)
    reply = admin_views.build_notice(refusal(verdict))
    tell_privately(client, user_id=user_of(body), channel_id=None, reply=reply)


def admin_allowed(client: WebClient, body: dict, context: BoltContext) -> bool:
    """Whether the user in this payload is an admin now; if not, they are told so privately."""
    verdict = admin_verdict(client, body, context)
    if verdict is not Verdict.ADMIN:
        tell_refused(client, body, verdict)
    return verdict is Verdict.ADMIN
