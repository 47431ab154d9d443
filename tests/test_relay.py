"""`python app.py`'s hand-over down a pipe (bot/relay.py): every task the web side sends is stored
by the child's reader exactly once, through a full pipe, a damaged line, a stop and a closed end."""

from __future__ import annotations

import logging
import os
import threading
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
        self.arrivals: list[int] = []
        self.reader = RelayReader(
            read_fd,
            WorkQueue(database),
            on_lost=lambda values, error: self.lost.append((values, error)),
            on_arrival=self.arrivals.append,
        )
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()


def test_a_task_sent_down_the_pipe_is_stored_by_the_child_as_sent(database, relay):
    web_side = WorkQueue(database, relay=relay)
    sent_at = utcnow() - timedelta(seconds=3)
    # Slack's JSON can carry a lone surrogate ("\\ud83d"): it must travel like any other text.
    body = {"token": "legacy-secret", "user_id": "U1", "text": "línea\nnueva <!channel> 🎉 \ud83d"}
    web_side.add(team_id=TEAM, kind="test.relayed", body=body, extras={"n": 1}, now=sent_at)
    assert web_side.flush() and stored(database) == []  # in the pipe, not stored by the web side

    child = Child(database, relay.read_fd)
    try:
        [row] = eventually(lambda: stored(database) or None)
    finally:
        child.stop()
    assert (row.team_id, row.kind, row.extras) == (TEAM, "test.relayed", {"n": 1})
    assert row.body == {"user_id": "U1", "text": "línea\nnueva <!channel> 🎉 \ud83d"}  # no token
    assert row.created_at == sent_at and row.run_after == sent_at
    assert child.lost == [] and sum(child.arrivals) == 1  # counted for bot.flood


def test_a_full_pipe_says_so_at_once_and_the_spool_stores_the_rest_once(database, relay):
    # Lines of about 2 KiB: the kernel counts a pipe's room in 4 KiB pages, so such a pipe is full
    # well before 1 MiB of them; a write must then fail at once, not wait for a reader.
    line = {"team_id": TEAM, "kind": "test.relayed", "body": {"text": "x" * 2000}, "now": utcnow()}
    sent = 0
    while relay.send({**line, "extras": {"n": sent}}):
        sent += 1
        assert sent < 2000, "the pipe never filled"
    assert relay.overflows == 1 and sent > 100

    web_side = WorkQueue(database, relay=relay)
    for n in range(sent, sent + 50):
        web_side.add(team_id=TEAM, kind="test.relayed", body=line["body"], extras={"n": n})
    assert web_side.flush()
    assert numbers(database) == list(range(sent, sent + 50))  # the spool took what the pipe could not

    child = Child(database, relay.read_fd)
    try:
        eventually(lambda: len(stored(database)) == sent + 50)
    finally:
        child.stop()
    assert numbers(database) == list(range(sent + 50))


def test_a_task_too_long_to_write_whole_goes_to_the_spool(database, relay):
    web_side = WorkQueue(database, relay=relay)
    web_side.add(team_id=TEAM, kind="test.relayed", body={"view": "x" * 5000}, extras={"n": 1})
    assert web_side.flush()
    assert numbers(database) == [1] and relay.overflows == 0


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
    assert stored(database) == []
    child = Child(database, relay.read_fd)
    try:
        eventually(lambda: child.reader.ended)
    finally:
        child.stop()
    assert numbers(database) == [0, 1, 2]


def test_stopping_the_child_stores_what_is_in_the_pipe_first(database, relay):
    child = Child(database, relay.read_fd)
    values = {"team_id": TEAM, "kind": "test.relayed", "body": {"user_id": "U1"}, "now": utcnow()}
    assert all(relay.send({**values, "extras": {"n": n}}) for n in range(50))
    child.stop()
    assert numbers(database) == list(range(50))


def test_what_no_child_read_is_handed_back_to_the_app_when_it_stops(relay):
    values = {"team_id": TEAM, "kind": "test.relayed", "body": {"user_id": "U1"}, "now": utcnow()}
    assert all(relay.send({**values, "extras": {"n": n}}) for n in range(3))
    relay.close()
    records = relay.take_unread()
    assert [record["extras"]["n"] for record in records] == [0, 1, 2]
    assert records[0]["body"] == {"user_id": "U1"} and records[0]["now"] == values["now"]


def test_a_reader_that_cannot_read_says_so(database):
    read_fd, write_fd = os.pipe()
    broken = threading.Event()
    reader = RelayReader(read_fd, WorkQueue(database), on_lost=lambda *_: None, on_broken=broken.set)
    os.close(read_fd)  # e.g. a descriptor lost: select() fails
    reader.start()
    try:
        assert broken.wait(5)
    finally:
        reader.stop()
        os.close(write_fd)


def test_a_damaged_line_is_skipped_and_the_next_one_stored(database, caplog):
    read_fd, write_fd = os.pipe()
    values = {"team_id": TEAM, "kind": "test.relayed", "body": {}, "extras": {"n": 2}, "now": utcnow()}
    # What a child killed mid-read leaves its successor: the end of a line, then whole ones.
    not_a_body = b'{"team_id":"T","kind":"k","body":[],"now":"x"}\n'
    os.write(write_fd, b'ind":"test.relayed"}\n' + b"[1, 2]\n" + not_a_body)
    os.write(write_fd, encode(values))
    os.close(write_fd)
    child = Child(database, read_fd)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.relay"):
            eventually(lambda: child.reader.ended)
            child.stop()
    finally:
        os.close(read_fd)
    assert numbers(database) == [2]
    assert sum("damaged task record" in message for message in caplog.messages) == 3


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


def test_the_worker_child_holds_off_when_its_pipe_brings_a_flood(settings, database, relay):
    from bot.flood import FloodWatch
    from bot.runtime import worker_process

    # A minute-long window for 60 tasks, so the test does not race the clock; the child uses
    # FloodWatch's defaults (300 a second over 0.1 s).
    flood = FloodWatch(rate=1, window=60)
    worker, reader = worker_process(settings, database, relay_fd=relay.read_fd, flood=flood)
    assert reader is not None and worker.listen
    web_side = WorkQueue(database, relay=relay)
    try:
        reader.start()
        for n in range(30):
            web_side.add(team_id=TEAM, kind="test.relayed", body={}, extras={"n": n})
        eventually(lambda: len(stored(database)) == 30)
        assert not worker.hold()  # 30 in the window: no flood
        for n in range(30, 61):
            web_side.add(team_id=TEAM, kind="test.relayed", body={}, extras={"n": n})
        eventually(lambda: len(stored(database)) == 61)
        assert worker.hold() and flood.holds == 1
    finally:
        reader.stop()
