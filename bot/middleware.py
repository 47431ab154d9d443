"""Bolt middleware: hand every listener the database and settings through the context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from sqlalchemy.exc import IntegrityError

from bot.config import Settings
from bot.db import Database
from bot.work import WorkQueue
from models import ProcessedEvent


def inject_dependencies(
    *, settings: Settings, database: Database, work_queue: WorkQueue
) -> Callable[..., None]:
    # Listeners open their own transaction (`with db.transaction()`): a listener goes on running
    # after its ack, past the end of this middleware, so a session scoped here would be closed.
    def middleware(context: BoltContext, next: Callable[[], None]) -> None:
        context["db"] = database
        context["settings"] = settings
        context["work"] = work_queue
        next()

    return middleware


def skip_duplicate_events(*, database: Database) -> Callable[..., Any]:
    """Slack retries an event it thinks we missed (X-Slack-Retry-Num); do each event_id once."""

    def middleware(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        try:
            with database.transaction() as session:
                session.add(ProcessedEvent(event_id=str(event_id)[:64], team_id=body.get("team_id")))
        except IntegrityError:
            return BoltResponse(status=200, body="")
        return next()

    return middleware
