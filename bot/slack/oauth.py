"""Multi-workspace install through Slack's OAuth flow, with slack_sdk's SQLAlchemy stores in our
database. Single-token mode (SLACK_BOT_TOKEN, one company's own workspace) needs none of this."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.config import Settings
from bot.db import Database
from bot.logs import untrusted
from bot.services.profiles import ensure_workspace
from bot.slack.client import build_web_client
from bot.slack.tokens import EncryptedInstallationStore, TokenCipher
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


# Rotate a token this long before it expires (Bolt's default for requests, token_rotation_expiration_minutes).
ROTATE_MINUTES_BEFORE_EXPIRY = 120


def installation_store(settings: Settings, database: Database) -> EncryptedInstallationStore:
    assert settings.slack_client_id
    store = SQLAlchemyInstallationStore(
        client_id=settings.slack_client_id,
        engine=database.engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )
    return EncryptedInstallationStore(store, TokenCipher(settings.token_encryption_keys))


def oauth_settings(settings: Settings, database: Database) -> OAuthSettings:
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installation_store(settings, database),
        token_rotation_expiration_minutes=ROTATE_MINUTES_BEFORE_EXPIRY,
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


def forget_installation(
    settings: Settings, database: Database, *, enterprise_id: str | None, team_id: str | None
) -> None:
    """Delete the tokens of an uninstalled workspace or org. A workspace of a Grid org may also
    have rows from before it joined the org (no enterprise id), which token_for falls back to."""
    store = installation_store(settings, database)
    store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
    if enterprise_id is not None and team_id is not None:
        store.delete_all(enterprise_id=None, team_id=team_id)


def token_resolver(settings: Settings, database: Database) -> Callable[..., str | None]:
    """(team id, enterprise id) -> bot token: the single token, or the workspace's installation.
    Jobs know the team only; the worker also passes the Enterprise Grid org a request came from.
    With token rotation on (the app's setting), a token that expires within two hours is
    exchanged for a new one first, and the new one is stored, as Bolt does for requests."""
    if not settings.oauth_enabled:
        return lambda _team_id, _enterprise_id=None: settings.slack_bot_token
    store = installation_store(settings, database)
    rotator = TokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        client=build_web_client(settings),
    )
    # Slack revokes a refresh token once used: one rotation at a time in this process (the
    # worker's threads), and the next thread reads what the first one stored.
    rotating = threading.Lock()

    def find(team_id: str, enterprise_id: str | None) -> Bot | None:
        bot = store.find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None and enterprise_id is not None:
            bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot

    def token_for(team_id: str, enterprise_id: str | None = None) -> str | None:
        bot = find(team_id, enterprise_id)
        if bot is None or not _expiring(bot):
            return bot.bot_token if bot else None
        with rotating:
            bot = find(team_id, enterprise_id)
            if bot is None or not _expiring(bot):
                return bot.bot_token if bot else None
            return _rotate(store, rotator, bot)

    return token_for


def _expiring(bot: Bot) -> bool:
    expires_at = bot.bot_token_expires_at
    return (
        bot.bot_refresh_token is not None
        and expires_at is not None
        and expires_at <= time.time() + ROTATE_MINUTES_BEFORE_EXPIRY * 60
    )


def _rotate(store: EncryptedInstallationStore, rotator: TokenRotator, bot: Bot) -> str | None:
    """Exchange the bot's refresh token and store the new tokens. The installation row is
    updated with the bots row: Bolt reads the refresh token from the installation for requests,
    and a refresh token Slack has revoked would fail there."""
    installation = store.find_installation(enterprise_id=bot.enterprise_id, team_id=bot.team_id)
    try:
        if installation is not None and installation.bot_refresh_token == bot.bot_refresh_token:
            rotated = rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY
            )
            if rotated is not None:
                store.save(rotated)  # saves its bot too
                return rotated.bot_token
        else:  # only a bots row (or an older installation row): rotate the bot alone
            rotated_bot = rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY
            )
            if rotated_bot is not None:
                store.save_bot(rotated_bot)
                return rotated_bot.bot_token
    except SlackTokenRotationError:
        # Another process (the web process, for a request) may have used the refresh token
        # first: take what it stored, else fail (the worker retries, a job logs it).
        latest = store.find_bot(enterprise_id=bot.enterprise_id, team_id=bot.team_id)
        if latest is not None and latest.bot_refresh_token != bot.bot_refresh_token:
            return latest.bot_token
        raise
    return bot.bot_token
