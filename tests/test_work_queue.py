"""Durable work (bot/work/): stored in the transaction of what it belongs to, claimed with a lease,
run once by a worker, never lost when a worker dies, and a failure reaches the person."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.ids import Work
from bot.runtime import build_worker
from bot.services import profiles
from bot.work import queue
from bot.work.queue import Job, settle_in, task
from bot.work.worker import MAX_ATTEMPTS
from models import PendingWork, Topic, utcnow
from tests.conftest import TEAM
from tests.factories import eventually

RAN: Counter[int] = Counter()
RAN_LOCK = threading.Lock()


@task("test.count")
def count_a_run(job: Job) -> None:
    with RAN_LOCK:
        RAN[job.extras["n"]] += 1


@task("test.fail")
def fail(job: Job) -> None:
    raise RuntimeError("a bug")


@pytest.fixture(autouse=True)
def _fresh_counter():
    RAN.clear()


def add_now(database, kind: str, body: dict | None = None, **extras) -> None:
    with database.transaction() as session:
        queue.enqueue(session, team_id=TEAM, kind=kind, body=body or {}, extras=extras, now=utcnow())


def stored(database) -> list[PendingWork]:
    with database.transaction() as session:
        return list(session.scalars(select(PendingWork).order_by(PendingWork.id)))


def claim_as(database, owner: str, *, now=None, lease=timedelta(hours=1)):
    with database.transaction() as session:
        return queue.claim(session, now=now or utcnow(), owner=owner, lease=lease)


def test_stored_work_is_run_once_and_then_deleted(settings, database):
    for n in range(5):
        add_now(database, "test.count", n=n)
    assert len(stored(database)) == 5  # nothing ran yet: no worker

    worker = build_worker(settings, database)
    assert worker.run_due(limit=3) == 3
    assert worker.run_due() == 2
    assert Counter(range(5)) == RAN and stored(database) == []
    assert worker.run_due() == 0 and Counter(range(5)) == RAN


def test_work_exists_only_if_the_transaction_that_added_it_commits(database):
    with pytest.raises(RuntimeError, match="the change failed"), database.transaction() as session:
        queue.enqueue(session, team_id=TEAM, kind="test.count", body={}, extras={"n": 1}, now=utcnow())
        raise RuntimeError("the change failed")
    assert stored(database) == []


def test_slacks_verification_token_is_never_stored(database):
    add_now(database, "test.count", {"token": "legacy-secret", "user_id": "U1"}, n=0)
    [row] = stored(database)
    assert row.body == {"user_id": "U1"}


def test_adding_an_unknown_kind_is_refused_before_anything_is_stored(database):
    with pytest.raises(ValueError, match="no task named"):
        add_now(database, "test.nope")
    assert stored(database) == []


def test_a_started_worker_is_woken_when_the_transaction_commits(settings, database):
    worker = build_worker(settings, database, threads=1)
    worker.poll_seconds = 3600  # it would never look by itself within this test
    worker.start()
    try:
        eventually(lambda: worker._running == 0)  # its first look found nothing; it waits now
        add_now(database, "test.count", n=9)
        eventually(lambda: RAN[9] == 1)
    finally:
        worker.stop()
    assert stored(database) == []


def test_a_worker_that_died_mid_task_leaves_a_lease_another_worker_takes_over(settings, database):
    add_now(database, "test.count", n=1)
    dead = build_worker(settings, database)
    assert claim_as(database, dead.owner, lease=dead.lease) is not None  # then it was SIGKILLed

    other = build_worker(settings, database)
    assert other.run_due() == 0  # the lease still holds: nobody runs it twice at once
    other.now = lambda: utcnow() + dead.lease + timedelta(seconds=1)
    assert other.run_due() == 1 and RAN[1] == 1 and stored(database) == []


@pytest.mark.expect_errors(r"dropping test\.count work #\d+: its worker died 3 times")
def test_work_whose_worker_died_every_time_is_dropped_not_retried_for_ever(settings, database):
    add_now(database, "test.count", n=3)
    start = utcnow()
    for attempt in range(MAX_ATTEMPTS):  # each run's worker crashed (say the task takes it down)
        claimed = claim_as(
            database, "host:dead", now=start + timedelta(minutes=attempt), lease=timedelta(seconds=1)
        )
        assert claimed is not None and claimed.attempts == attempt + 1
    worker = build_worker(settings, database)
    worker.now = lambda: start + timedelta(hours=1)
    assert worker.run_due() == 1
    assert RAN[3] == 0 and stored(database) == []


def test_work_whose_lease_ran_out_is_not_settled_by_its_slow_first_worker(settings, database):
    add_now(database, "test.count", n=7)
    slow = build_worker(settings, database)
    waiting = claim_as(database, slow.owner, lease=slow.lease)
    other = build_worker(settings, database)
    other.now = lambda: utcnow() + slow.lease + timedelta(seconds=1)
    assert other.run_due() == 1 and RAN[7] == 1  # the lease ran out: another worker did it
    with database.transaction() as session:
        assert not queue.settle(session, work_id=waiting.id, owner=slow.owner)  # not its row any more


@pytest.mark.expect_errors(r"listener failed \(unexpected error\)", reply=True)
def test_a_failing_task_tells_the_person_and_the_worker_goes_on(settings, database, fake_slack):
    add_now(database, "test.fail", {"user": {"id": "U1"}, "type": "block_actions"})
    add_now(database, "test.count", n=4)
    assert build_worker(settings, database).run_due() == 2
    sorry = fake_slack.wait_for("chat.postMessage")[0].args
    assert sorry["channel"] == "U1" and "try again" in sorry["text"].lower()
    assert RAN[4] == 1 and stored(database) == []


def test_an_unknown_kind_from_a_newer_version_is_kept_for_later(settings, database):
    with database.transaction() as session:
        session.add(PendingWork(team_id=TEAM, kind="from.the.future", body={}, extras={}, run_after=utcnow()))
    worker = build_worker(settings, database)
    assert worker.run_due() == 1
    [row] = stored(database)
    assert row.claimed_by is None and row.run_after > utcnow()  # put back, not lost
    assert row.attempts == 0  # and not counted as a worker's death: it is never dropped for it


def test_two_workers_never_run_the_same_work(settings, database):
    for n in range(60):
        add_now(database, "test.count", n=n)
    workers = [build_worker(settings, database, threads=3) for _ in range(2)]
    for worker in workers:
        worker.poll_seconds = 0.005
        worker.start()
    try:
        assert all(worker.wait_idle(20) for worker in workers)
    finally:
        for worker in workers:
            worker.stop()
    assert Counter(range(60)) == RAN and stored(database) == []


def test_a_stopping_worker_finishes_what_it_runs_and_leaves_the_rest_stored(settings, database):
    release = threading.Event()

    @task("test.slow")
    def slow(job: Job) -> None:
        release.wait(5)

    worker = build_worker(settings, database, threads=1)
    worker.start()
    add_now(database, "test.slow")
    eventually(lambda: stored(database)[0].claimed_by is not None)
    add_now(database, "test.count", n=5)
    stopper = threading.Thread(target=worker.stop)  # SIGTERM while a task runs and another waits
    stopper.start()
    release.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert [row.kind for row in stored(database)] == ["test.count"] and RAN[5] == 0


def test_request_stop_from_a_signal_handler_stops_serve_forever(settings, database):
    worker = build_worker(settings, database)
    server = threading.Thread(target=worker.serve_forever)
    server.start()
    eventually(lambda: len(worker._threads) == worker.threads)
    worker.request_stop()
    server.join(5)
    assert not server.is_alive()
    assert not any(thread.is_alive() for thread in worker._threads)


@pytest.mark.expect_errors(r"no Web API client for test\.count work")
def test_work_whose_workspace_client_cannot_be_built_now_is_kept_for_later(settings, database):
    add_now(database, "test.count", n=8)
    worker = build_worker(settings, database)
    working_client_for = worker.client_for

    def installation_store_down(team_id: str, enterprise_id: str | None = None):
        raise RuntimeError("installation store unreachable")

    worker.client_for = installation_store_down
    assert worker.run_due() == 1 and RAN[8] == 0
    assert len(stored(database)) == 1  # kept, put back for a minute
    worker.client_for = working_client_for
    worker.now = lambda: utcnow() + timedelta(minutes=2)
    assert worker.run_due() == 1 and RAN[8] == 1 and stored(database) == []


def test_work_stored_by_an_earlier_version_for_its_worker_is_still_done(settings, database, fake_slack):
    # Before the upgrade, /teachme's recording was handed to a worker; such a row may be waiting.
    body = {
        "team_id": TEAM,
        "user_id": "U1",
        "channel_id": "C1",
        "text": "social media",
        "trigger_id": "trigger-1",
        "response_url": fake_slack.response_url("teachme-U1"),
    }
    add_now(database, Work.TEACHME, body)
    assert build_worker(settings, database).run_due() == 1
    reply = fake_slack.wait_for("response_url")[0].args
    assert "social media" in reply["text"].lower()
    assert stored(database) == []


class WorkerDied(BaseException):
    """Stands for SIGKILL: not an Exception, so the worker's own error handling never sees it."""


@task("test.store_then_die")
def store_then_die(job: Job) -> None:
    with job.context["db"].transaction() as session:
        profiles.ensure_workspace(session, team_id=TEAM, defaults=job.context["settings"].programme)
        session.add(Topic(team_id=TEAM, key=f"topic-{job.work.id}", display_name="Stored"))
        settle_in(session, job.context)
    raise WorkerDied("killed after the commit")  # before the reply


@task("test.die_before_storing")
def die_before_storing(job: Job) -> None:
    with job.context["db"].transaction() as session:
        settle_in(session, job.context)
        raise WorkerDied("killed inside the transaction")  # nothing is stored, the row stays


def test_a_task_settled_with_what_it_stored_is_never_run_again(settings, database):
    add_now(database, "test.store_then_die")
    with pytest.raises(WorkerDied, match="after the commit"):
        build_worker(settings, database).run_due()
    assert stored(database) == []  # gone with the commit: a newer change can never be overwritten
    with database.transaction() as session:
        assert session.scalar(select(Topic.display_name)) == "Stored"


def test_a_task_that_died_before_its_commit_is_run_again(settings, database):
    add_now(database, "test.die_before_storing")
    with pytest.raises(WorkerDied, match="inside the transaction"):
        build_worker(settings, database).run_due()
    [row] = stored(database)
    assert row.claimed_by is not None  # its lease runs out (or app.py releases it) and it runs again
