"""Bolt middleware: hand every listener the database, settings and admin check through the context.

Listeners open their own transaction (`with db.transaction()`): a listener goes on running after
its ack, past the end of this middleware, so a session scoped here would be closed. Slack's
retries of an event are skipped by the event's own listener, in the transaction of what it stores
(bot.services.slack_events.first_delivery), so nothing is written before an ack.

One class-based middleware rather than a decorated function: Bolt builds the full set of listener
arguments for every call of a function middleware, on the thread about to ack."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.config import Settings
from bot.db import Database
from bot.slack.admin_rights import AdminRights


class FlipsideMiddleware(Middleware):
    def __init__(self, *, settings: Settings, database: Database) -> None:
        self._settings = settings
        self._database = database
        self._rights = AdminRights(settings)  # its users.info cache lives as long as the app

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        req.context["db"] = self._database
        req.context["settings"] = self._settings
        req.context["rights"] = self._rights
        return next()
