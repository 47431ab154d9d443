"""Multi-workspace install through Slack's OAuth flow, with slack_sdk's SQLAlchemy stores in our
database. Single-token mode (SLACK_BOT_TOKEN, one company's own workspace) needs none of this."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.config import Settings
from bot.db import Database
from bot.logs import untrusted
from bot.services.profiles import ensure_workspace
from models import utcnow
from models.slack_oauth import BOTS_TABLE, INSTALLATIONS_TABLE, STATES_TABLE

logger = logging.getLogger(__name__)

BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "mpim:write",
    "mpim:history",
    "users:read",
    "channels:join",
    "channels:read",
    "channels:history",
    "groups:read",
    "files:write",
)


def installation_store(settings: Settings, database: Database) -> SQLAlchemyInstallationStore:
    assert settings.slack_client_id
    return SQLAlchemyInstallationStore(
        client_id=settings.slack_client_id,
        engine=database.engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )


def oauth_settings(settings: Settings, database: Database) -> OAuthSettings:
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installation_store(settings, database),
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=600, engine=database.engine, table_name=STATES_TABLE
        ),
        callback_options=CallbackOptions(success=_on_installed(settings, database), failure=_on_failure),
    )


def _on_installed(settings: Settings, database: Database) -> Callable[[SuccessArgs], BoltResponse]:
    def success(args: SuccessArgs) -> BoltResponse:
        # A (re)install makes the workspace active again: its jobs resume, its data is still there.
        installation = args.installation
        with database.transaction() as session:
            workspace = ensure_workspace(session, team_id=installation.team_id, defaults=settings.programme)
            workspace.name = installation.team_name
            workspace.uninstalled_at = None
            workspace.installed_at = utcnow()
        return args.default.success(args)

    return success


def _on_failure(args: FailureArgs) -> BoltResponse:
    logger.warning("OAuth install failed: %s", untrusted(args.reason))
    return args.default.failure(args)


def token_resolver(settings: Settings, database: Database) -> Callable[..., str | None]:
    """(team id, enterprise id) -> bot token: the single token, or the workspace's installation.
    Jobs know the team only; the worker also passes the Enterprise Grid org a request came from."""
    if not settings.oauth_enabled:
        return lambda _team_id, _enterprise_id=None: settings.slack_bot_token
    store = installation_store(settings, database)

    def token_for(team_id: str, enterprise_id: str | None = None) -> str | None:
        bot = store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id is not None:
            bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot else None

    return token_for
