"""The engine, the session factory, and one transaction helper that every caller uses."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message says which URL (without its password)."""


def normalise_url(url: str) -> str:
    # Heroku-style URLs say postgres://; SQLAlchemy wants a driver, and we ship psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # Several threads (Bolt's listener pool, the scheduler) share one SQLite file: wait for
        # the write lock instead of failing, and let readers go on while a writer writes (WAL).
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate_on_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so BEGIN IMMEDIATE (below) is ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if ":memory:" not in str(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


READ_ONLY = "flipside_read_only"


def _begin_immediate_on_sqlite(connection: Any) -> None:
    # Take the write lock at BEGIN: two concurrent read-then-write transactions (two clicks on
    # the last seat) then serialise instead of one failing with "database is locked" mid-way.
    # Database.read_only() sessions only read: a plain BEGIN, which in WAL mode never waits.
    read_only = connection.get_execution_options().get(READ_ONLY)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class _WriterTurn:
    """SQLite's one writer at a time, queued in the kernel rather than in SQLite's busy handler.

    A connection that finds the file locked sleeps in growing steps (up to 100 ms) before it
    looks again, and a busy writer in another process (the worker) can then starve it: measured,
    the web process's one-row insert after an ack waited up to half a second behind the worker.
    Threads of one process queue on an RLock; processes queue on flock() of a file beside the
    database, and the kernel wakes the next one the moment the lock is let go. Writers that do
    not come through here (Alembic, sqlite3 shells) still meet SQLite's busy timeout."""

    def __init__(self, lock_path: str | None) -> None:
        self._threads = threading.RLock()
        self._lock_path = lock_path
        self._fd: int | None = None
        self._fd_pid = 0
        self._depth = 0  # only the thread holding _threads touches it

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._depth == 0 and self._lock_path is not None:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def __exit__(self, *_exc: Any) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._lock_path is not None:
                fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int:
        # One descriptor per process: a forked child must not share its parent's lock.
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = os.getpid()
        return self._fd


def _sqlite_file(engine: Engine) -> str | None:
    database = engine.url.database
    return None if not database or database == ":memory:" or database.startswith("file:") else database


class Database:
    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite writers take turns (see _WriterTurn); PostgreSQL needs none of this.
        self._writer_turn: _WriterTurn | None = None
        if self.engine.dialect.name == "sqlite":
            path = _sqlite_file(self.engine)
            self._writer_turn = _WriterTurn(f"{path}-writer.lock" if path else None)
        readers_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._readers = sessionmaker(readers_engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together at the end, or not at all."""
        with self._writer_turn or nullcontext(), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session for reads alone (the worker's "anything due?" look): on SQLite it
        neither waits for the writers' lock nor holds it (WAL readers see the last commit)."""
        with self._readers() as session, session.begin():
            yield session
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("a read-only session was asked to write")

    def check_connection(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            safe_url = self.engine.url.render_as_string(hide_password=True)
            raise DatabaseUnavailable(f"cannot reach the database at {safe_url}: {error.orig}") from None

    def dispose(self) -> None:
        self.engine.dispose()
