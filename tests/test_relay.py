"""`python app.py`'s hand-over down a pipe (bot/relay.py): every task the web side sends is stored
by the child's reader exactly once, through a full pipe, a damaged line, a stop and a closed end."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.relay import PipeRelay, RelayReader, encode
from bot.work import Job, WorkQueue, task
from models import PendingWork, utcnow
from tests.conftest import TEAM
from tests.factories import eventually


@task("test.relayed")
def relayed(job: Job) -> None:  # never run here: these tests look at what is stored
    raise AssertionError("not expected to run")


def stored(database) -> list[PendingWork]:
    with database.read_only() as session:
        return list(session.scalars(select(PendingWork).order_by(PendingWork.id)))


def numbers(database) -> list[int]:
    return sorted(row.extras["n"] for row in stored(database))


@pytest.fixture
def relay():
    pipe = PipeRelay()
    yield pipe
    pipe.close()
    pipe.close_read_end()


class Child:
    """The worker child's reader, in this process: what it stores, and what it could not."""

    def __init__(self, database, read_fd: int) -> None:
        self.lost: list[tuple[dict, Exception]] = []
        self.reader = RelayReader(
            read_fd, WorkQueue(database), on_lost=lambda values, error: self.lost.append((values, error))
        )
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()


def test_a_task_sent_down_the_pipe_is_stored_by_the_child_as_sent(database, relay):
    web_side = WorkQueue(database, relay=relay)
    sent_at = utcnow() - timedelta(seconds=3)
    body = {"token": "legacy-secret", "user_id": "U1", "text": "línea\nnueva <!channel> 🎉"}
    web_side.add(team_id=TEAM, kind="test.relayed", body=body, extras={"n": 1}, now=sent_at)
    assert web_side.flush() and stored(database) == []  # in the pipe, not stored by the web side

    child = Child(database, relay.read_fd)
    try:
        [row] = eventually(lambda: stored(database) or None)
    finally:
        child.stop()
    assert (row.team_id, row.kind, row.extras) == (TEAM, "test.relayed", {"n": 1})
    assert row.body == {"user_id": "U1", "text": "línea\nnueva <!channel> 🎉"}  # no token
    assert row.created_at == sent_at and row.run_after == sent_at
    assert child.lost == []


def test_a_full_pipe_hands_the_rest_to_the_web_sides_own_spool_and_nothing_is_stored_twice(database, relay):
    web_side = WorkQueue(database, relay=relay)
    big = "x" * (relay.capacity // 8)  # about 8 fit in the pipe while no child reads it
    for n in range(20):
        web_side.add(team_id=TEAM, kind="test.relayed", body={"text": big}, extras={"n": n})
    assert web_side.flush()
    in_the_spool = numbers(database)
    assert 0 < len(in_the_spool) < 20  # the pipe took some, the spool the rest

    child = Child(database, relay.read_fd)
    try:
        eventually(lambda: len(stored(database)) == 20)
    finally:
        child.stop()
    assert numbers(database) == list(range(20))


def test_a_closed_relay_leaves_the_web_side_storing_its_own(database, relay):
    web_side = WorkQueue(database, relay=relay)
    web_side.close()  # as start_app does before it stops the child
    web_side.add(team_id=TEAM, kind="test.relayed", body={}, extras={"n": 7})
    assert numbers(database) == [7]


def test_the_child_reads_to_the_end_when_the_web_side_is_gone(database, relay):
    web_side = WorkQueue(database, relay=relay)
    for n in range(3):
        web_side.add(team_id=TEAM, kind="test.relayed", body={}, extras={"n": n})
    relay.close()  # what a killed web process leaves: lines in the pipe and no writer
    child = Child(database, relay.read_fd)
    try:
        eventually(lambda: child.reader.ended)
    finally:
        child.stop()
    assert numbers(database) == [0, 1, 2]


def test_stopping_the_child_stores_what_is_in_the_pipe_first(database, relay):
    child = Child(database, relay.read_fd)
    web_side = WorkQueue(database, relay=relay)
    for n in range(50):
        web_side.add(team_id=TEAM, kind="test.relayed", body={"user_id": "U1"}, extras={"n": n})
    child.stop()
    assert numbers(database) == list(range(50))


def test_a_damaged_line_is_skipped_and_the_next_one_stored(database, caplog):
    read_fd, write_fd = os.pipe()
    values = {"team_id": TEAM, "kind": "test.relayed", "body": {}, "extras": {"n": 2}, "now": utcnow()}
    # What a child killed mid-read leaves its successor: the end of a line, then whole ones.
    os.write(write_fd, b'ind":"test.relayed"}\n' + b"[1, 2]\n" + encode(values))
    os.close(write_fd)
    child = Child(database, read_fd)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.relay"):
            eventually(lambda: child.reader.ended)
            child.stop()
    finally:
        os.close(read_fd)
    assert numbers(database) == [2]
    assert sum("damaged task record" in message for message in caplog.messages) == 2


def test_a_task_the_child_cannot_take_reaches_the_person_through_on_lost(database):
    read_fd, write_fd = os.pipe()
    values = {"team_id": TEAM, "kind": "test.gone", "body": {"user_id": "U1"}, "now": utcnow()}
    os.write(write_fd, encode(values))
    os.close(write_fd)
    child = Child(database, read_fd)
    try:
        eventually(lambda: child.reader.ended)
        child.stop()
    finally:
        os.close(read_fd)
    [(lost_values, error)] = child.lost
    assert lost_values["body"] == {"user_id": "U1"} and "no task named" in str(error)
    assert stored(database) == []
