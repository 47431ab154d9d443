"""Bolt middleware: skip Slack's retries of events already done, and hand every listener the
database, settings and work queue through the context.

Events handed to the worker (EVENTS_DONE_BY_THE_WORKER) are not looked up here: their tasks record
the event id in the transaction of what they store (bot.services.slack_events), so the web side
writes nothing for the most frequent events, and an event is only marked done once it is.

One class-based middleware rather than two decorated functions: Bolt builds the full set of
listener arguments (parsing the body into command, action, view, event...) for every call of a
function middleware, on the thread about to ack; measured, that was a third of the CPU Flipside's
request thread spent beyond a bare Bolt app's (benchmarks/ack_latency.py)."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.config import Settings
from bot.db import Database
from bot.services.slack_events import event_id_of, first_delivery
from bot.work import WorkQueue

# Event types whose listener hands the event to a task that calls first_delivery() itself. Filled
# where they are registered (done_by_the_worker), so a listener and this check cannot disagree.
EVENTS_DONE_BY_THE_WORKER: set[str] = set()


def done_by_the_worker(event_type: str) -> str:
    """`app.event(done_by_the_worker("user_change"))(listener)`: the middleware records no event id
    for it; the task it hands over to does, with what it stores."""
    EVENTS_DONE_BY_THE_WORKER.add(event_type)
    return event_type


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
        if event_id_of(body) is None or (body.get("event") or {}).get("type") in EVENTS_DONE_BY_THE_WORKER:
            return False
        with self._database.transaction() as session:
            return not first_delivery(session, body)
