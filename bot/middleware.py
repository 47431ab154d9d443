"""Bolt middleware: skip Slack's retries of events already done, and hand every listener the
database, settings and work queue through the context.

One class-based middleware rather than two decorated functions: Bolt builds the full set of
listener arguments (parsing the body into command, action, view, event...) for every call of a
function middleware, on the thread about to ack; measured, that was a third of the CPU Flipside's
request thread spent beyond a bare Bolt app's (benchmarks/ack_latency.py)."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.db import Database
from bot.work import WorkQueue
from models import ProcessedEvent


class FlipsideMiddleware(Middleware):
    def __init__(self, *, settings: Settings, database: Database, work_queue: WorkQueue) -> None:
        self._settings = settings
        self._database = database
        self._work_queue = work_queue

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if self._seen_before(req.body):
            return BoltResponse(status=200, body="")
        # Listeners open their own transaction (`with db.transaction()`): a listener goes on
        # running after its ack, past the end of this middleware, so a session scoped here would
        # be closed.
        context = req.context
        context["db"] = self._database
        context["settings"] = self._settings
        context["work"] = self._work_queue
        return next()

    def _seen_before(self, body: dict) -> bool:
        """Slack retries an event it thinks we missed (X-Slack-Retry-Num); do each event_id once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return False
        try:
            with self._database.transaction() as session:
                session.add(ProcessedEvent(event_id=str(event_id)[:64], team_id=body.get("team_id")))
        except IntegrityError:
            return True
        return False
