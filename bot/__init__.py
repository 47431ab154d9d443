"""Flipside: reverse mentoring for Slack. `create_app` builds a fresh Bolt app (tests make many)."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.listeners import register_all
from bot.middleware import FlipsideMiddleware
from bot.slack.client import build_web_client

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    database: Database,
    client: WebClient | None = None,
    token_verification: bool = True,
    listener_executor: Executor | None = None,
) -> App:
    settings.check_slack_credentials()
    oauth = None
    if settings.oauth_enabled:
        from bot.slack.oauth import oauth_settings

        oauth = oauth_settings(settings, database)
    app = App(
        client=client or build_web_client(settings),
        signing_secret=settings.slack_signing_secret,
        oauth_settings=oauth,
        # Given to App as well, Bolt's authorize rotates expiring tokens through this app's client
        # (SLACK_API_URL); from OAuthSettings alone it would build a client of its own for slack.com.
        installation_store=oauth.installation_store if oauth else None,
        # Acks go back as soon as ack() is called; the rest of a listener (its use case and the
        # reply) runs after it, on Bolt's listener threads.
        process_before_response=False,
        token_verification_enabled=token_verification and oauth is None,
        logger=logging.getLogger("flipside.bolt"),
        # A request is acked from a listener thread, and listeners go on after their ack with Web
        # API calls that may wait out a 429: more threads than Bolt's 5, so a waiting call never
        # holds up another request's ack. Tests pass their own pool, to wait for it.
        listener_executor=listener_executor or ThreadPoolExecutor(16, thread_name_prefix="bolt-listener"),
    )
    app.middleware(FlipsideMiddleware(settings=settings, database=database))
    register_all(app)
    return app
