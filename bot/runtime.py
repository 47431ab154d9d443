"""Build the real process from the environment, turning every start-up failure into one line."""

from __future__ import annotations

import logging
import os

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot import create_app
from bot.config import ConfigError, Settings
from bot.db import Database, DatabaseUnavailable
from bot.work import WorkQueue

logger = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The app cannot start; the message says why and what to do."""


def load_settings(*, require_slack: bool) -> Settings:
    # Bolt switches to its own file-based OAuth when these are merely present, even blank (as a
    # copied .env leaves them); for us blank means unset, so make it so for Bolt too.
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        if name in os.environ and not os.environ[name].strip():
            del os.environ[name]
    try:
        return Settings.from_env(require_slack=require_slack)
    except ConfigError as error:
        raise StartupError(str(error)) from None


def open_database(settings: Settings) -> Database:
    database = Database(settings.database_url)
    try:
        database.check_connection()
    except DatabaseUnavailable as error:
        raise StartupError(f"{error} (check DATABASE_URL)") from None
    return database


def build_app(settings: Settings, database: Database, *, work_queue: WorkQueue | None = None) -> App:
    try:
        app = create_app(settings, database=database, work_queue=work_queue)
        if not settings.oauth_enabled:
            reactivate_workspace(settings, database, app.client)
        return app
    except (BoltError, SlackApiError) as error:
        raise StartupError(f"Slack refused the bot token ({error}); check SLACK_BOT_TOKEN") from None
    except ConfigError as error:
        raise StartupError(str(error)) from None


def reactivate_workspace(settings: Settings, database: Database, client) -> None:
    """Single-token mode: the token we start with is live, so its workspace is installed again
    (after an uninstall and a reinstall with a new SLACK_BOT_TOKEN, its jobs resume)."""
    from bot.services import profiles

    team_id = client.auth_test()["team_id"]
    with database.transaction() as session:
        workspace = profiles.ensure_workspace(session, team_id=team_id, defaults=settings.programme)
        workspace.uninstalled_at = None


def start_app() -> None:
    """`python app.py`: the whole app in one process, the scheduler included."""
    from bot.scheduler import build_scheduler
    from bot.web import build_wsgi_app, make_http_server

    settings = load_settings(require_slack=True)
    database = open_database(settings)
    work_queue = WorkQueue()
    app = build_app(settings, database, work_queue=work_queue)
    scheduler = build_scheduler(settings=settings, database=database, client=app.client, background=True)
    scheduler.start()
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            logger.info("Socket Mode: connecting to Slack")
            SocketModeHandler(app, settings.slack_app_token).start()
        else:
            server = make_http_server(build_wsgi_app(app), port=settings.port)
            logger.info("HTTP mode: listening on port %s at /slack/events", settings.port)
            server.serve_forever()
    finally:
        scheduler.shutdown(wait=False)
        work_queue.shutdown(wait=True)  # finish the work of requests already acked
