"""The one transaction helper and its read-only twin, on the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from bot.config import ProgrammeDefaults
from bot.services import profiles
from models import Workspace


def test_a_reader_does_not_wait_for_a_writer_and_sees_the_last_commit(database):
    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id="T1", defaults=ProgrammeDefaults())
    writing, done = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with database.transaction() as session:
            profiles.ensure_workspace(session, team_id="T2", defaults=ProgrammeDefaults())
            writing.set()
            # Holds the write lock (and, on SQLite, the process's writer lock) until the reader is
            # done: a reader that waited for it would wait this long, then see T2.
            done.wait(30)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    try:
        assert writing.wait(5)
        with database.read_only() as session:
            teams = {w.team_id for w in session.query(Workspace)}
        assert writer.is_alive()  # the read finished while the write was still open
        assert teams == {"T1"}  # T2 is not committed yet
    finally:
        done.set()
        writer.join(5)


def test_a_read_only_session_refuses_to_write(database):
    with pytest.raises(RuntimeError, match="read-only"), database.read_only() as session:
        session.add(Workspace(team_id="T9"))
    with database.read_only() as session:
        assert session.get(Workspace, "T9") is None
