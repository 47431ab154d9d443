"""Work a listener hands over after its ack: stored first, then done by a worker process.

Bolt (process_before_response=False) answers Slack once a listener calls ack(), but the listener
goes on running on Bolt's small thread pool, and every bit of Python it runs there competes for
the interpreter lock with the threads that are about to ack the next requests. Measured
(benchmarks/ack_latency.py), even a read-only query after the ack put Flipside's p99 ack at
1.2-1.5x a bare app's, and recording in-process threads did no better. So a listener acks, hands
the request to the WorkQueue and returns; it becomes a `pending_work` row (bot.services.pending_work)
within milliseconds, stored by the worker child from a pipe (bot/relay.py, `python app.py`) or by the
WorkQueue's spool thread (gunicorn); the recording, the reply and the App Home redraw happen in a
worker process (`python -m bot worker`; `python app.py` starts one as its child).

The row is the hand-over: once stored, a web process killed loses nothing; a worker killed
mid-task leaves a lease that runs out, and another worker (or the same one restarted) does the
work then. A task is run at least once, so tasks are written to be harmless when run again:
they store with get-or-create and unique keys, and scheduled messages still go through the outbox.

Tasks are plain functions registered by name (`@task("teachme.record")`) that get a Job: the
Slack body as received, the listener's JSON extras, and a Web API client for the workspace.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from bot.services import pending_work
from bot.services.pending_work import ClaimedWork
from bot.wakeup import POLL_SECONDS as LISTENING_POLL_SECONDS
from bot.wakeup import WorkNotifications
from models import utcnow

if TYPE_CHECKING:
    from bot.relay import PipeRelay

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 4  # enough to overlap Web API calls; a busy worker process runs several
POLL_SECONDS = 0.05  # how long new work can wait when nothing woke the worker (another process)
HOLD_POLL_SECONDS = 0.01  # how often a held worker looks whether the flood is over
LEASE = timedelta(minutes=5)  # far longer than a task with slack_sdk's retries takes
MAX_ATTEMPTS = 3  # a task claimed this often died with its worker each time: dropped, logged
UNKNOWN_KIND_RETRY = timedelta(minutes=1)  # during a rolling deploy a newer web may queue new kinds
# While a backlog lasts one claim takes this many: claimed one at a time, the claim was a fifth of a
# task's CPU (benchmarks/ack_latency.py). Small, so other workers still get a share of a burst.
CLAIM_AHEAD = 16


@dataclass
class Job:
    """What a task gets: the request as Slack sent it, and the means to answer it."""

    work: ClaimedWork
    client: WebClient
    context: BoltContext
    owner: str = ""
    settled: bool = False  # its row was deleted in the task's own transaction (settle_in)

    @property
    def body(self) -> dict[str, Any]:
        return self.work.body

    @property
    def extras(self) -> dict[str, Any]:
        return self.work.extras

    @property
    def respond(self) -> Respond:
        # Slash commands and buttons carry a response_url (valid 30 minutes, 5 uses).
        return Respond(response_url=self.body.get("response_url"))


def enterprise_of(body: dict[str, Any]) -> str | None:
    """The Enterprise Grid org a request came from, if any (its installation is keyed by it)."""
    enterprise = body.get("enterprise_id") or (body.get("enterprise") or {}).get("id")
    return str(enterprise) if enterprise else None


def settle_in(session: Session, context: BoltContext) -> None:
    """Called inside a task's main transaction: its pending_work row goes with what it stores.

    A worker that dies after that commit then never runs the task again, so a newer change the
    person made meanwhile is not overwritten by the old request; what comes after the commit (the
    reply) is lost instead. Outside a task (a listener on Bolt's thread) it does nothing."""
    job: Job | None = context.get("job")
    if job is not None and not job.settled:
        pending_work.finish(session, work_id=job.work.id, owner=job.owner)
        job.settled = True


Task = Callable[[Job], None]
_TASKS: dict[str, Task] = {}


def task(kind: str) -> Callable[[Task], Task]:
    """Register a function as the task for `kind` (the name stored in pending_work.kind)."""

    def register(function: Task) -> Task:
        if _TASKS.setdefault(str(kind), function) is not function:
            raise ValueError(f"two tasks named {kind!r}")
        return function

    return register


def registered_kinds() -> list[str]:
    return sorted(_TASKS)


@dataclass
class _Spooled:
    values: dict[str, Any]
    on_lost: Callable[[Exception], None] | None


class WorkQueue:
    """The listeners' side: hand the work to a spool thread that stores it, and nudge a worker.

    Under `python app.py` a `relay` (bot/relay.py) comes first: the task goes down a pipe to the
    worker child, which stores it; the spool takes what the pipe cannot (full, or closed).

    The listener has acked already; it appends to an in-memory spool and returns at once, so
    Bolt's threads never wait for the database's write lock (on SQLite, shared with the busy
    worker process: measured, a listener's own insert then waited up to 60 ms flat out). The spool
    thread stores everything waiting in one transaction, normally within milliseconds. A spool
    that cannot store (the database is away) tries for a few seconds, then tells each person to
    try again (`on_lost`). Past `max_spooled` waiting tasks the listener stores its own, so a
    flood slows the acks rather than growing the memory. A graceful stop flushes the spool."""

    BATCH = 500
    LINGER_SECONDS = 0.01  # wait this long for more before storing: fewer, larger transactions
    STORE_ATTEMPTS = 3
    RETRY_SECONDS = 0.5

    def __init__(
        self,
        database: Database,
        *,
        on_added: Callable[[], None] | None = None,
        max_spooled: int = 1000,
        relay: PipeRelay | None = None,
    ) -> None:
        self._database = database
        self._relay = relay
        self._on_added = on_added
        self._max_spooled = max_spooled
        self._spool: list[_Spooled] = []
        self._storing = 0  # taken off the spool, not committed yet
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._thread_pid = 0
        self._closed = False

    def add(
        self,
        *,
        team_id: str,
        kind: str,
        body: dict[str, Any],
        extras: dict[str, Any] | None = None,
        session: Session | None = None,
        on_lost: Callable[[Exception], None] | None = None,
        now: datetime | None = None,
    ) -> None:
        """Store one task soon; with `session`, in that transaction (it commits with what it
        stored, and the worker is nudged once it has)."""
        if kind not in _TASKS:
            raise ValueError(f"no task named {kind!r}")
        # Slack's deprecated verification token is a long-lived secret: never kept, even for seconds.
        body = {key: value for key, value in body.items() if key != "token"}
        values = {
            "team_id": team_id,
            "kind": str(kind),
            "body": body,
            "extras": extras or {},
            "now": now or utcnow(),
        }
        if session is None and self._relay is not None and self._relay.send(values):
            return
        if session is not None:
            pending_work.add(session, **values)
            if self._on_added is not None:  # a worker cannot see the row before the commit
                event.listen(session, "after_commit", lambda _session: self.nudge(), once=True)
            return
        with self._changed:
            spooled = not self._closed and len(self._spool) < self._max_spooled
            if spooled:
                self._spool.append(_Spooled(values, on_lost))
                self._ensure_thread()
                self._changed.notify_all()
        if not spooled:  # full, or stopping: store it on this thread, now
            with self._database.transaction() as own:
                pending_work.add(own, **values)
            self.nudge()

    def nudge(self) -> None:
        if self._on_added is not None:
            self._on_added()

    def flush(self, timeout: float = 10) -> bool:
        """Until everything added so far is stored (tests; a graceful stop)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._spool and not self._storing, timeout)

    def close(self, timeout: float = 10) -> None:
        """Close the relay, flush, then store any later add() on the caller's thread."""
        if self._relay is not None:
            self._relay.close()
        self.flush(timeout)
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _ensure_thread(self) -> None:
        # Started on first use, in the process that uses it (gunicorn forks after importing us).
        if self._thread is None or self._thread_pid != os.getpid() or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._store_loop, name="flipside-spool", daemon=True)
            self._thread_pid = os.getpid()
            self._thread.start()
            atexit.register(self.close)

    def _store_loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._spool or self._closed)
                if not self._spool:
                    return
            if not self._closed:
                time.sleep(self.LINGER_SECONDS)
            with self._changed:
                batch = self._spool[: self.BATCH]
                del self._spool[: self.BATCH]
                self._storing = len(batch)
            try:
                self._store(batch)
            finally:
                with self._changed:
                    self._storing = 0
                    self._changed.notify_all()
            self.nudge()

    def _store(self, batch: list[_Spooled]) -> None:
        for attempt in range(1, self.STORE_ATTEMPTS + 1):
            try:
                with self._database.transaction() as session:
                    pending_work.add_many(session, [item.values for item in batch])
                return
            except Exception as error:
                if attempt < self.STORE_ATTEMPTS:
                    logger.warning("could not store %d tasks (%s); trying again", len(batch), error)
                    time.sleep(self.RETRY_SECONDS * attempt)
                    continue
                logger.error("could not store %d tasks; telling the people who sent them", len(batch))
                for item in batch:
                    if item.on_lost is not None:
                        try:
                            item.on_lost(error)
                        except Exception:
                            logger.exception("telling a person about lost work failed")


@dataclass
class Worker:
    """Claims stored work and runs it on a few threads; one per process, or in tests' process."""

    database: Database
    settings: Settings
    # (team id, Enterprise Grid org id) -> Web API client; None: not installed there
    client_for: Callable[[str, str | None], WebClient | None]
    on_failure: Callable[[Job, Exception], None]  # tell the person; never raises
    owner: str
    threads: int = DEFAULT_THREADS
    poll_seconds: float = POLL_SECONDS
    lease: timedelta = LEASE
    now: Callable[[], datetime] = utcnow
    _wake: threading.Event = field(default_factory=threading.Event, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _slots: threading.Condition = field(default_factory=threading.Condition, init=False)
    _running: int = field(default=0, init=False)
    _stop_requested: bool = field(default=False, init=False)
    claim_ahead: int = CLAIM_AHEAD
    # True while the worker should start nothing new (bot.flood: acks first during a flood).
    hold: Callable[[], bool] | None = None
    # PostgreSQL: told of work other processes commit (bot.wakeup), so it looks less often itself.
    listen: bool = False
    _notifications: WorkNotifications | None = field(default=None, init=False)
    _backlogged: bool = field(default=False, init=False)  # the last claim got all it asked for
    # Claimed ahead, waiting for a free thread; and a claim under way (both count as busy).
    _ready: deque[ClaimedWork] = field(default_factory=deque, init=False)
    _claiming: bool = field(default=False, init=False)
    _loop: threading.Thread | None = field(default=None, init=False)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False)

    # ----------------------------------------------------------------- running in the background

    def start(self) -> None:
        if self.listen and self.database.is_postgres:
            self._notifications = WorkNotifications(self.database, self.wake)
            self._notifications.start()
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="flipside-work")
        self._loop = threading.Thread(target=self._claim_loop, name="flipside-claim", daemon=True)
        self._loop.start()

    @property
    def claiming(self) -> bool:
        """Started and not yet stopping: new work is still being claimed."""
        return self._loop is not None and self._loop.is_alive()

    def wake(self) -> None:
        """New work was stored in this process: claim it now rather than at the next poll."""
        self._wake.set()

    def stop(self, *, timeout: float | None = None) -> None:
        """Stop claiming and finish what is running; unclaimed work stays stored for the next start."""
        self._stopping.set()
        self._wake.set()
        with self._slots:
            self._slots.notify_all()  # a claim loop waiting for a free slot
        if self._loop is not None:
            self._loop.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._notifications is not None:
            self._notifications.stop()

    def request_stop(self) -> None:
        """From a signal handler: only a flag (taking a lock there could deadlock the main thread);
        serve_forever() sees it within a second and stops as stop() does."""
        self._stop_requested = True

    def serve_forever(self, *, parent_pid: int | None = None) -> None:
        """`python -m bot worker`: run until request_stop(), or until `parent_pid` is gone (the
        `python app.py` that started this process was killed: a worker must not outlive it)."""
        self.start()
        while not self._stop_requested:
            time.sleep(0.2)
            if parent_pid is not None and os.getppid() != parent_pid:
                logger.warning("the process that started this worker is gone; stopping")
                break
        self.stop()

    def wait_idle(self, timeout: float = 5) -> bool:
        """Until nothing is due and nothing runs (tests; the benchmarks' drain)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Checked again after the look: a claim made meanwhile was under way or its work ready.
            if not self._busy() and not self._has_due() and not self._busy():
                return True
            self.wake()
            time.sleep(0.005)
        return False

    def _poll_seconds(self) -> float:
        listening = self._notifications is not None and self._notifications.listening
        return max(self.poll_seconds, LISTENING_POLL_SECONDS) if listening else self.poll_seconds

    def _busy(self) -> bool:
        with self._slots:
            return bool(self._running or self._ready or self._claiming)

    def _claim_loop(self) -> None:
        assert self._pool is not None
        try:
            held = False
            while not self._stopping.is_set():
                if self.hold is not None and self.hold() != held:
                    held = not held
                    logger.info("flood of tasks: %s", "holding off, acks first" if held else "working again")
                if held:
                    self._stopping.wait(HOLD_POLL_SECONDS)
                    continue
                with self._slots:
                    self._slots.wait_for(lambda: self._running < self.threads or self._stopping.is_set())
                    if self._stopping.is_set():
                        return
                    must_claim = not self._ready
                    self._claiming = must_claim
                    free = self.threads - self._running
                if must_claim:
                    claimed = self._claim(max(free, self.claim_ahead) if self._backlogged else free)
                    with self._slots:
                        self._ready.extend(claimed)
                        self._claiming = False
                    if not claimed:
                        self._wake.wait(self._poll_seconds())
                        self._wake.clear()
                        continue
                with self._slots:
                    starting = []
                    # Once stopping, nothing more starts: what is ready is given back below.
                    while self._ready and self._running < self.threads and not self._stopping.is_set():
                        starting.append(self._ready.popleft())
                        self._running += 1
                for work in starting:
                    self._pool.submit(self._run_in_slot, work)
        finally:
            self._give_back_ready()

    def _give_back_ready(self) -> None:
        """Stopping: work claimed ahead but not started is due again at once, for any worker."""
        with self._slots:
            waiting, self._ready = list(self._ready), deque()
        if not waiting:
            return
        try:
            with self.database.transaction() as session:
                pending_work.give_back(session, work_ids=[work.id for work in waiting], owner=self.owner)
        except Exception:  # their lease runs out instead: later, but never lost
            logger.exception("could not give back %d claimed tasks", len(waiting))

    def _run_in_slot(self, work: ClaimedWork) -> None:
        try:
            self.run(work)
        finally:
            with self._slots:
                self._running -= 1
                self._slots.notify_all()

    # ----------------------------------------------------------------- one claim, one task

    def run_due(self, limit: int = 100) -> int:
        """Claim and run due work on this thread (the CLI's `worker --once`); returns how many.
        A few at a time: claims taken all at once could outlive their lease before their turn."""
        done = 0
        while done < limit and (claimed := self._claim(min(self.threads, limit - done))):
            for work in claimed:
                self.run(work)
            done += len(claimed)
        return done

    def _has_due(self) -> bool:
        try:
            with self.database.read_only() as session:
                return pending_work.has_due(session, now=self.now())
        except Exception:  # the database is away: the claim loop logs it; here, just "not idle"
            return True

    def _claim(self, limit: int) -> list[ClaimedWork]:
        try:
            # The look first: on SQLite a claim takes the write lock, a look does not. Skipped
            # while a backlog lasts (measured: a tenth of the worker's CPU per task flat out).
            if not self._backlogged and not self._has_due():
                return []
            with self.database.transaction() as session:
                claimed = pending_work.claim(
                    session, now=self.now(), owner=self.owner, limit=limit, lease=self.lease
                )
            self._backlogged = len(claimed) == limit
        except Exception:
            logger.exception("could not claim work (database unavailable?); trying again shortly")
            self._stopping.wait(1)
            return []
        runnable = []
        for work in claimed:
            if work.attempts >= MAX_ATTEMPTS:
                logger.error(
                    "dropping %s work #%s: its worker died %d times", work.kind, work.id, MAX_ATTEMPTS
                )
                self._finish(work)
            else:
                runnable.append(work)
        return runnable

    def run(self, work: ClaimedWork) -> None:
        """Run one claimed task; afterwards its row is deleted (or, for an unknown kind, put back)."""
        if not self._begin(work):
            return
        function = _TASKS.get(work.kind)
        if function is None:
            logger.error("no task named %r (a newer version queued it?); retrying later", work.kind)
            self._put_back(work, at=self.now() + UNKNOWN_KIND_RETRY)
            return
        try:
            client = self.client_for(work.team_id, enterprise_of(work.body))
        except Exception:  # e.g. the installation store is unreachable: try again in a minute
            logger.exception("no Web API client for %s work #%s; it will be retried", work.kind, work.id)
            self._put_back(work, at=self.now() + UNKNOWN_KIND_RETRY)
            return
        if client is None:
            logger.info(
                "dropping %s work #%s: workspace %s is not installed", work.kind, work.id, work.team_id
            )
            self._finish(work)
            return
        context = BoltContext(
            {"db": self.database, "settings": self.settings, "client": client, "team_id": work.team_id}
        )
        job = Job(work, client, context, owner=self.owner)
        context["job"] = job
        try:
            function(job)
        except Exception as error:  # a bug or the database gone: tell the person, as Bolt would
            logger.exception("%s work #%s failed", work.kind, work.id)
            try:
                self.on_failure(job, error)
            except Exception:
                logger.exception("telling the person about a failed task failed")
        if not job.settled:
            self._finish(work)

    def _begin(self, work: ClaimedWork) -> bool:
        try:
            with self.database.transaction() as session:
                started = pending_work.begin(
                    session, work_id=work.id, owner=self.owner, now=self.now(), lease=self.lease
                )
        except Exception:  # the database is away: the claim's lease runs out, and it is done then
            logger.exception("could not start %s work #%s; it will be retried", work.kind, work.id)
            return False
        if not started:
            logger.warning(
                "%s work #%s was taken over by another worker before it started", work.kind, work.id
            )
            return False
        return True

    def _finish(self, work: ClaimedWork) -> None:
        try:
            with self.database.transaction() as session:
                if not pending_work.finish(session, work_id=work.id, owner=self.owner):
                    logger.warning("%s work #%s was taken over by another worker", work.kind, work.id)
        except Exception:  # the lease runs out and the task runs again: at least once, never lost
            logger.exception("could not mark %s work #%s done", work.kind, work.id)

    def _put_back(self, work: ClaimedWork, *, at: datetime) -> None:
        try:
            with self.database.transaction() as session:
                pending_work.retry_later(session, work_id=work.id, owner=self.owner, at=at)
        except Exception:
            logger.exception("could not put %s work #%s back", work.kind, work.id)
