"""PostgreSQL's LISTEN/NOTIFY: a worker in another process hears of new work when it is committed.

Without it, a worker that did not store the work itself (the Procfile's `worker:` beside gunicorn)
finds it by looking every 50 ms: up to 50 ms more before the reply, and 20 queries a second from an
idle worker. With it the web side's insert sends NOTIFY in its own transaction (PostgreSQL delivers
it at the commit, so a worker never looks before the row is there), the worker claims at once, and
it looks on its own only once a second, in case a notification was missed while it reconnected.
SQLite has no such thing: `python app.py`'s child is woken by its own pipe reader (bot/relay.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.db import Database

logger = logging.getLogger(__name__)

CHANNEL = "flipside_work"
POLL_SECONDS = 1.0  # a listening worker still looks this often (a missed notification, a reconnect)
RECONNECT_SECONDS = 5.0
_WAIT_SECONDS = 0.2  # how long one wait for notifications lasts: a stop is seen within this


def notify_new_work(session: Session) -> None:
    """In the transaction that stores work: workers listening hear of it once it commits (PostgreSQL
    folds repeats within one transaction into one)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class WorkNotifications:
    """A thread holding one connection of its own that LISTENs, and calls `on_notified` for each
    notification, and once on each (re)connect for what was committed while it was not listening."""

    def __init__(self, database: Database, on_notified: Callable[[], None]) -> None:
        # psycopg's own URL form: SQLAlchemy's without the "+psycopg" driver name.
        url = database.engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._on_notified = on_notified
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flipside-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait_listening(self, timeout: float = 5) -> bool:
        return self._listening.wait(timeout)

    def stop(self, timeout: float = 5) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    self._on_notified()
                    while not self._stopping.is_set():
                        for _notification in connection.notifies(timeout=_WAIT_SECONDS):
                            self._on_notified()
            except psycopg.Error as error:
                self._listening.clear()
                logger.warning("listening for new work failed (%s); polling until it is back", error)
                self._stopping.wait(RECONNECT_SECONDS)
