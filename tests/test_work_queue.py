"""The hand-over after an ack (bot/work.py): stored first, run once by a worker, never lost when a
web process or a worker dies, and a failure reaches the person."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.runtime import build_worker
from bot.services import pending_work, profiles
from bot.work import LEASE, MAX_ATTEMPTS, Job, WorkQueue, settle_in, task
from models import PendingWork, Topic, Wish, utcnow
from tests.conftest import TEAM, serve
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


def add_now(database, kind: str, **extras) -> None:
    queue = WorkQueue(database)
    queue.add(team_id=TEAM, kind=kind, body={}, extras=extras)
    assert queue.flush()


def stored(database) -> list[PendingWork]:
    with database.transaction() as session:
        return list(session.scalars(select(PendingWork).order_by(PendingWork.id)))


def test_stored_work_is_run_once_and_then_deleted(settings, database):
    queue = WorkQueue(database)
    for n in range(5):
        queue.add(team_id=TEAM, kind="test.count", body={"user_id": "U1"}, extras={"n": n})
    assert queue.flush()
    assert len(stored(database)) == 5  # nothing ran yet: no worker

    worker = build_worker(settings, database, threads=2)
    assert worker.run_due(limit=3) == 3  # claimed two at a time, never more than it runs next
    assert worker.run_due() == 2
    assert Counter(range(5)) == RAN and stored(database) == []
    assert worker.run_due() == 0 and Counter(range(5)) == RAN


def test_slacks_verification_token_is_never_stored(database):
    queue = WorkQueue(database)
    queue.add(
        team_id=TEAM, kind="test.count", body={"token": "legacy-secret", "user_id": "U1"}, extras={"n": 0}
    )
    assert queue.flush()
    [row] = stored(database)
    assert row.body == {"user_id": "U1"}


def test_adding_an_unknown_kind_is_refused_before_anything_is_stored(database):
    with pytest.raises(ValueError, match="no task named"):
        WorkQueue(database).add(team_id=TEAM, kind="test.nope", body={})
    assert stored(database) == []


def test_a_command_acked_by_a_web_process_that_then_died_is_done_by_the_next_worker(
    settings, database, fake_slack
):
    # The app runs with no worker at all: it acks, stores, and (as far as anyone knows) dies.
    app_only = serve(settings, database, fake_slack, start_worker=False)
    flipside = next(app_only)
    assert flipside.command("/teachme", "social media").status == 200
    app_only.close()
    assert [row.kind for row in stored(database)] == ["teachme.record"]
    assert fake_slack.calls_to("response_url") == []

    assert build_worker(settings, database).run_due() == 1  # a worker started later
    reply = fake_slack.wait_for("response_url")[0].args
    assert "social media" in reply["text"].lower()
    with database.transaction() as session:
        assert session.scalar(select(Wish.id)) is not None
    assert stored(database) == []


def test_a_worker_that_died_mid_task_leaves_a_lease_another_worker_takes_over(settings, database):
    add_now(database, "test.count", n=1)
    dead = build_worker(settings, database)
    dead.owner = "host:dead"
    with database.transaction() as session:  # claimed, then the process was SIGKILLed
        pending_work.claim(session, now=utcnow(), owner=dead.owner, limit=10, lease=dead.lease)

    other = build_worker(settings, database)
    assert other.run_due() == 0  # the lease still holds: nobody runs it twice at once
    other.now = lambda: utcnow() + dead.lease + timedelta(seconds=1)
    assert other.run_due() == 1 and RAN[1] == 1 and stored(database) == []


def test_releasing_a_dead_workers_claims_makes_its_work_due_at_once(settings, database):
    add_now(database, "test.count", n=2)
    with database.transaction() as session:
        pending_work.claim(session, now=utcnow(), owner="host:dead", limit=10, lease=timedelta(hours=1))
        assert pending_work.release_claims(session, owner="host:dead") == 1
    assert build_worker(settings, database).run_due() == 1 and RAN[2] == 1


def test_work_whose_worker_died_every_time_is_dropped_not_retried_for_ever(settings, database):
    add_now(database, "test.count", n=3)
    start = utcnow()
    for attempt in range(MAX_ATTEMPTS):  # each run's worker crashed (say the task takes it down)
        with database.transaction() as session:
            at = start + timedelta(minutes=attempt)
            [claimed] = pending_work.claim(
                session, now=at, owner="host:dead", limit=1, lease=timedelta(seconds=1)
            )
            assert claimed.attempts == attempt
            assert pending_work.begin(
                session, work_id=claimed.id, owner="host:dead", now=at, lease=timedelta(seconds=1)
            )
    worker = build_worker(settings, database)
    worker.now = lambda: start + timedelta(hours=1)
    assert worker.run_due() == 0
    assert RAN[3] == 0 and stored(database) == []


def test_a_worker_that_dies_with_work_claimed_ahead_is_charged_only_for_what_it_started(settings, database):
    for n in range(5):
        add_now(database, "test.count", n=n)
    now = utcnow()
    with database.transaction() as session:
        claimed = pending_work.claim(session, now=now, owner="host:dead", limit=5, lease=timedelta(hours=1))
        first = claimed[0].id
        assert pending_work.begin(session, work_id=first, owner="host:dead", now=now, lease=LEASE)
        # ... and then it was SIGKILLed; `python app.py` releases the dead child's claims
        assert pending_work.release_claims(session, owner="host:dead") == 5
    assert [row.attempts for row in stored(database)] == [1, 0, 0, 0, 0]


def test_work_whose_lease_ran_out_while_waiting_its_turn_is_not_run_twice(settings, database):
    add_now(database, "test.count", n=7)
    slow = build_worker(settings, database)
    slow.owner = "host:slow"
    with database.transaction() as session:  # claimed ahead, then stuck behind slow tasks
        [waiting] = pending_work.claim(session, now=utcnow(), owner=slow.owner, limit=1, lease=slow.lease)
    other = build_worker(settings, database)
    other.now = lambda: utcnow() + slow.lease + timedelta(seconds=1)
    assert other.run_due() == 1 and RAN[7] == 1  # the lease ran out: another worker did it
    slow.run(waiting)  # its turn comes at last: the row is not its any more
    assert RAN[7] == 1 and stored(database) == []


def test_a_failing_task_tells_the_person_and_the_worker_goes_on(settings, database, fake_slack):
    queue = WorkQueue(database)
    queue.add(team_id=TEAM, kind="test.fail", body={"user": {"id": "U1"}, "type": "block_actions"})
    queue.add(team_id=TEAM, kind="test.count", body={}, extras={"n": 4})
    assert queue.flush()
    assert build_worker(settings, database).run_due() == 2
    sorry = fake_slack.wait_for("chat.postMessage")[0].args
    assert sorry["channel"] == "U1" and "try again" in sorry["text"].lower()
    assert RAN[4] == 1 and stored(database) == []


def test_an_unknown_kind_from_a_newer_version_is_kept_for_later(settings, database):
    with database.transaction() as session:
        pending_work.add(session, team_id=TEAM, kind="from.the.future", body={}, extras={}, now=utcnow())
    worker = build_worker(settings, database)
    assert worker.run_due() == 1
    [row] = stored(database)
    assert row.claimed_by is None and row.run_after > utcnow()  # put back, not lost
    assert row.attempts == 0  # and not counted as a worker's death: it is never dropped for it


def test_two_workers_never_run_the_same_work(settings, database):
    queue = WorkQueue(database)
    for n in range(120):
        queue.add(team_id=TEAM, kind="test.count", body={}, extras={"n": n})
    assert queue.flush()
    workers = [build_worker(settings, database, threads=3) for _ in range(2)]
    for index, worker in enumerate(workers):
        worker.owner = f"host:{index}"
        worker.poll_seconds = 0.005
        worker.start()
    try:
        assert all(worker.wait_idle(20) for worker in workers)
    finally:
        for worker in workers:
            worker.stop()
    assert Counter(range(120)) == RAN and stored(database) == []


def test_a_stopping_worker_finishes_what_it_runs_and_leaves_the_rest_stored(settings, database):
    release = threading.Event()

    @task("test.slow")
    def slow(job: Job) -> None:
        release.wait(5)

    worker = build_worker(settings, database, threads=1)
    queue = WorkQueue(database, on_added=worker.wake)
    worker.start()
    queue.add(team_id=TEAM, kind="test.slow", body={})
    assert queue.flush()
    eventually(lambda: stored(database)[0].claimed_by is not None)
    queue.add(team_id=TEAM, kind="test.count", body={}, extras={"n": 5})
    assert queue.flush()
    stopper = threading.Thread(target=worker.stop)  # SIGTERM while a task runs and another waits
    stopper.start()
    eventually(lambda: not worker.claiming)  # it stopped claiming while the slow task still runs
    release.set()
    stopper.join(5)
    assert not stopper.is_alive()
    assert [row.kind for row in stored(database)] == ["test.count"] and RAN[5] == 0


def test_a_backlog_is_claimed_ahead_and_what_never_started_is_given_back_on_stop(settings, database):
    release = threading.Event()

    @task("test.block")
    def block(job: Job) -> None:
        release.wait(5)

    queue = WorkQueue(database)
    queue.add(team_id=TEAM, kind="test.count", body={}, extras={"n": 0})
    queue.add(team_id=TEAM, kind="test.block", body={})
    for n in range(1, 9):
        queue.add(team_id=TEAM, kind="test.count", body={}, extras={"n": n})
    assert queue.flush()
    worker = build_worker(settings, database, threads=1)
    worker.claim_ahead = 5
    worker.start()
    # The first claim took one and got all it asked for: a backlog, so the next took five at once.
    eventually(lambda: sum(row.claimed_by is not None for row in stored(database)) == 5)
    assert Counter({0: 1}) == RAN
    stopper = threading.Thread(target=worker.stop)
    stopper.start()
    eventually(lambda: not worker.claiming)
    release.set()
    stopper.join(5)
    assert not stopper.is_alive()
    rows = stored(database)
    assert [row.extras["n"] for row in rows] == list(range(1, 9)) and Counter({0: 1}) == RAN
    # Given back: due again for any worker, and not counted as an attempt that died.
    assert all(row.claimed_by is None and row.claimed_until is None and row.attempts == 0 for row in rows)


def test_a_held_worker_starts_nothing_new_until_the_hold_ends(settings, database):
    held = threading.Event()
    held.set()
    worker = build_worker(settings, database, threads=2)
    worker.hold = held.is_set
    queue = WorkQueue(database, on_added=worker.wake)
    worker.start()
    try:
        for n in range(3):
            queue.add(team_id=TEAM, kind="test.count", body={}, extras={"n": n})
        assert queue.flush()
        assert not worker.wait_idle(0.3)  # due work, not claimed while the flood lasts
        assert all(row.claimed_by is None for row in stored(database)) and not RAN
        held.clear()
        assert worker.wait_idle(5)
    finally:
        worker.stop()
    assert Counter(range(3)) == RAN and stored(database) == []


def test_on_postgresql_a_listening_worker_is_told_of_work_another_process_commits(settings, database):
    if not database.is_postgres:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    worker = build_worker(settings, database, threads=1)
    worker.listen = True
    worker.poll_seconds = 60  # it would not look on its own during this test
    worker.start()
    try:
        assert worker._notifications is not None and worker._notifications.wait_listening(5)
        other_process = WorkQueue(database)  # a web process's spool: nothing wakes this worker directly
        other_process.add(team_id=TEAM, kind="test.count", body={}, extras={"n": 1})
        assert other_process.flush()
        eventually(lambda: RAN[1] == 1, timeout=5)
    finally:
        worker.stop()
    assert stored(database) == []


def test_request_stop_from_a_signal_handler_stops_serve_forever(settings, database):
    worker = build_worker(settings, database)
    server = threading.Thread(target=worker.serve_forever)
    server.start()
    eventually(lambda: worker.claiming)
    worker.request_stop()
    server.join(5)
    assert not server.is_alive() and not worker.claiming


def test_a_full_spool_or_a_closed_queue_makes_the_listener_store_its_own(database):
    full = WorkQueue(database, max_spooled=0)
    full.add(team_id=TEAM, kind="test.count", body={}, extras={"n": 6})
    assert len(stored(database)) == 1  # stored before add() returned, no flush needed
    closed = WorkQueue(database)
    closed.close()
    closed.add(team_id=TEAM, kind="test.count", body={}, extras={"n": 7})
    assert len(stored(database)) == 2


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
    worker.now = lambda: utcnow() + worker.lease + timedelta(seconds=1)
    assert worker.run_due() == 1 and RAN[8] == 1 and stored(database) == []


class WorkerDied(BaseException):
    """Stands for SIGKILL: not an Exception, so the worker's own error handling never sees it."""


@task("test.store_then_die")
def store_then_die(job: Job) -> None:
    with job.context["db"].transaction() as session:
        profiles.ensure_workspace(session, team_id=TEAM, defaults=job.context["settings"].programme)
        session.add(Topic(team_id=TEAM, key=f"topic-{job.work.id}", display_name="Stored"))
        settle_in(session, job.context)
    raise WorkerDied  # after the commit, before the reply


@task("test.die_before_storing")
def die_before_storing(job: Job) -> None:
    with job.context["db"].transaction() as session:
        settle_in(session, job.context)
        raise WorkerDied  # inside the transaction: nothing is stored, the row stays


def test_a_task_settled_with_what_it_stored_is_never_run_again(settings, database):
    add_now(database, "test.store_then_die")
    with pytest.raises(WorkerDied):
        build_worker(settings, database).run_due()
    assert stored(database) == []  # gone with the commit: a newer change can never be overwritten
    with database.transaction() as session:
        assert session.scalar(select(Topic.display_name)) == "Stored"


def test_a_task_that_died_before_its_commit_is_run_again(settings, database):
    add_now(database, "test.die_before_storing")
    with pytest.raises(WorkerDied):
        build_worker(settings, database).run_due()
    [row] = stored(database)
    assert row.claimed_by is not None  # its lease runs out (or app.py releases it) and it runs again
