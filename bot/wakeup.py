"""PostgreSQL's LISTEN/NOTIFY: a worker in another process hears of new work when it is committed.

Without it, a worker that did not store the work itself (the Procfile's `worker:` beside gunicorn)
finds it by looking every 50 ms: up to 50 ms more before the reply, and 20 queries a second from an
idle worker. With it the web side's insert sends NOTIFY in its own transaction
(bot.services.pending_work.notify_new_work; PostgreSQL delivers
it at the commit, so a worker never looks before the row is there), the worker claims at once, and
it looks on its own only once a second (every 50 ms again while it is not listening: reconnecting,
say). Behind PgBouncer in transaction pooling LISTEN hears nothing: the once-a-second look remains.
SQLite has no such thing: `python app.py`'s child is woken by its own pipe reader (bot/relay.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from bot.db import Database
from bot.services.pending_work import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # a listening worker still looks this often (a missed notification, a reconnect)
RECONNECT_SECONDS = 5.0
_WAIT_SECONDS = 0.2  # how long one wait for notifications lasts: a stop is seen within this
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


class WorkNotifications:
    """A thread holding one connection of its own that LISTENs, and calls `on_notified` for each
    notification, and once on each (re)connect for what was committed while it was not listening."""

    def __init__(self, database: Database, on_notified: Callable[[], None]) -> None:
        # The connection arguments SQLAlchemy itself would pass psycopg (passwords with spaces,
        # query options, several hosts), and keepalives so a dead peer is noticed, not waited on.
        engine = database.engine
        args, params = engine.dialect.create_connect_args(engine.url)
        params.pop("context", None)
        self._connect_args = (args, {**KEEPALIVES, **params, "autocommit": True})
        self._on_notified = on_notified
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flipside-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def listening(self) -> bool:
        """Connected and listening: while not, the worker looks every 50 ms as without LISTEN."""
        return self._listening.is_set()

    def wait_listening(self, timeout: float = 5) -> bool:
        return self._listening.wait(timeout)

    def stop(self, timeout: float = 5) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        args, params = self._connect_args
        while not self._stopping.is_set():
            try:
                with psycopg.connect(*args, **params) as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._listening.set()
                    self._on_notified()
                    while not self._stopping.is_set():
                        for _notification in connection.notifies(timeout=_WAIT_SECONDS):
                            self._on_notified()
            except Exception as error:  # the thread must live on: the worker polls meanwhile
                self._listening.clear()
                logger.warning(
                    "listening for new work failed (%s); polling until it is back", type(error).__name__
                )
                self._stopping.wait(RECONNECT_SECONDS)
        self._listening.clear()
