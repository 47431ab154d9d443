"""The engine, the session factory, and one transaction helper that every caller uses."""

from __future__ import annotations

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
    # A failed statement's error never carries its values (people's text) into a log line.
    kwargs.setdefault("hide_parameters", True)
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


class Database:
    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time: this process's threads queue here, woken in turn,
        # rather than in SQLite's busy handler, which sleeps up to 100 ms between looks.
        self._writer_turn = threading.RLock() if self.engine.dialect.name == "sqlite" else None
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
