"""The worker: a few threads that claim stored work (bot.work.queue) and run its task.

`python app.py` runs one beside the web side in the same process; in production the Procfile's
`worker` process runs it, as many as you like, on as many machines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.slack.admin_rights import AdminRights
from bot.work import queue
from bot.work.queue import ClaimedWork, Job
from models import utcnow

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 8  # tasks mostly wait on Slack and the database; more processes for more CPU
POLL_SECONDS = 0.2  # how long work stored by another process (the web side) waits for a look
LEASE = timedelta(minutes=5)  # far longer than a task with slack_sdk's retries takes
MAX_ATTEMPTS = 3  # a task claimed this often died with its worker each time: dropped, logged
RETRY_LATER = timedelta(minutes=1)  # an unknown kind (a newer version queued it) or no client yet


def enterprise_of(body: dict) -> str | None:
    """The Enterprise Grid org a request came from, if any (its installation is keyed by it)."""
    enterprise = body.get("enterprise_id") or (body.get("enterprise") or {}).get("id")
    return str(enterprise) if enterprise else None


class Worker:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        client_for: Callable[[str, str | None], WebClient | None],
        *,
        on_failure: Callable[[Job, Exception], None],
        owner: str,
        threads: int = DEFAULT_THREADS,
        poll_seconds: float = POLL_SECONDS,
        lease: timedelta = LEASE,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.settings = settings
        self.rights = AdminRights(settings)
        self.client_for = client_for  # (team id, Enterprise Grid org id) -> client; None: not installed
        self.on_failure = on_failure  # tell the person; never raises
        self.owner = owner
        self.threads = threads
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.now = now
        self._changed = threading.Condition()
        self._wakes = 0  # counts wake() calls, so a wake between a look and a wait is not missed
        self._running = 0
        self._stopping = False
        self._stop_requested = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        queue.add_waker(self.wake)
        for number in range(self.threads):
            thread = threading.Thread(
                target=self._loop, args=(number,), name=f"flipside-work-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        with self._changed:
            self._wakes += 1
            self._changed.notify_all()

    def stop(self, timeout: float | None = None) -> None:
        """Finish what is running; what is not claimed stays stored for the next start."""
        queue.remove_waker(self.wake)
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def request_stop(self) -> None:
        """From a signal handler: only a flag (a lock taken there could deadlock the main thread)."""
        self._stop_requested = True

    def serve_forever(self) -> None:
        """`python -m bot worker`: run until request_stop(), then finish what is running."""
        self.start()
        while not self._stop_requested:
            time.sleep(0.2)
        self.stop()

    def run_due(self, limit: int = 1000) -> int:
        """Run due work on this thread until none is left (`worker --once`); returns how many."""
        done = 0
        while done < limit and self._run_next():
            done += 1
        return done

    def wait_idle(self, timeout: float = 5) -> bool:
        """Until nothing is due and nothing runs (tests; the benchmarks' drain)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._changed:
                running = self._running
            if not running and not self._has_due():
                with self._changed:
                    if not self._running:  # nothing claimed between the look and now
                        return True
            # No wake() here: waking every thread to claim would keep them busy, never idle.
            time.sleep(0.01)
        return False

    def _loop(self, number: int) -> None:
        # One thread looks for work stored by other processes every poll; the others sleep until
        # work turns up: a commit in this process wakes them all, and a thread that found work
        # wakes one more, so a backlog spreads over the threads without all of them polling.
        poll = self.poll_seconds if number == 0 else None
        while True:
            with self._changed:
                if self._stopping:
                    return
                wakes = self._wakes
            if self._run_next():
                with self._changed:
                    self._wakes += 1
                    self._changed.notify()
                continue
            with self._changed:
                self._changed.wait_for(lambda seen=wakes: self._stopping or self._wakes != seen, poll)

    def _has_due(self) -> bool:
        try:
            with self.database.read_only() as session:
                return queue.has_due(session, now=self.now())
        except Exception:  # the database is away: not idle, and the loop logs it
            return True

    def _run_next(self) -> bool:
        """Claim one due task and run it; False when none is due (or the database is away)."""
        with self._changed:
            self._running += 1
        try:
            # A look first on SQLite, where a claim takes the write lock and a look does not.
            if not self.database.is_postgres and not self._has_due():
                return False
            try:
                with self.database.transaction() as session:
                    work = queue.claim(session, now=self.now(), owner=self.owner, lease=self.lease)
            except Exception as error:  # the database is away: no traceback every second
                logger.warning("could not claim work (%s); trying again shortly", type(error).__name__)
                time.sleep(1)
                return False
            if work is None:
                return False
            self.run(work)
            return True
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def run(self, work: ClaimedWork) -> None:
        """Run one claimed task; afterwards its row is deleted (or, for an unknown kind, put back)."""
        if work.attempts > MAX_ATTEMPTS:
            logger.error("dropping %s work #%s: its worker died %d times", work.kind, work.id, MAX_ATTEMPTS)
            self._settle(work)
            return
        function = queue.task_for(work.kind)
        if function is None:
            logger.warning("no task named %r (a newer version queued it?); retrying later", work.kind)
            self._retry_later(work)
            return
        try:
            client = self.client_for(work.team_id, enterprise_of(work.body))
        except Exception:  # e.g. the installation store is unreachable
            logger.exception("no Web API client for %s work #%s; it will be retried", work.kind, work.id)
            self._retry_later(work)
            return
        if client is None:
            logger.info(
                "dropping %s work #%s: workspace %s is not installed", work.kind, work.id, work.team_id
            )
            self._settle(work)
            return
        context = BoltContext(
            {
                "db": self.database,
                "settings": self.settings,
                "rights": self.rights,
                "client": client,
                "team_id": work.team_id,
            }
        )
        job = Job(work, client, context, owner=self.owner)
        context["job"] = job
        try:
            function(job)
        except Exception as error:  # a bug or the database gone: log it and tell the person, as Bolt would
            try:
                self.on_failure(job, error)
            except Exception:
                logger.exception("%s work #%s failed, and so did telling the person", work.kind, work.id)
        if not job.settled:
            self._settle(work)

    def _settle(self, work: ClaimedWork) -> None:
        try:
            with self.database.transaction() as session:
                if not queue.settle(session, work_id=work.id, owner=self.owner):
                    logger.warning("%s work #%s was taken over by another worker", work.kind, work.id)
        except Exception:  # the lease runs out and the task runs again: at least once, never lost
            logger.exception("could not mark %s work #%s done", work.kind, work.id)

    def _retry_later(self, work: ClaimedWork) -> None:
        try:
            with self.database.transaction() as session:
                queue.retry_later(session, work_id=work.id, owner=self.owner, at=self.now() + RETRY_LATER)
        except Exception:
            logger.exception("could not put %s work #%s back", work.kind, work.id)
