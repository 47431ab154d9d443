"""The durable work queue: a `pending_work` row is added in the transaction of the change it belongs
to, claimed with a lease, and deleted in the transaction that does the work (settle_in).

Tasks are plain functions registered by name (`@task(Work.RUN_ROUND)`); they get a Job: the Slack
body the listener handed over, its JSON extras, and a Web API client for the workspace.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from models import PendingWork


@dataclass(frozen=True)
class ClaimedWork:
    """A claimed row's data, safe to use after its transaction has ended."""

    id: int
    team_id: str
    kind: str
    body: dict[str, Any]
    extras: dict[str, Any]
    attempts: int  # claims so far, this one included: a worker that died mid-task left one behind


@dataclass
class Job:
    """What a task gets: the request as the listener handed it over, and the means to answer it."""

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


Task = Callable[[Job], None]
_TASKS: dict[str, Task] = {}


def task(kind: str) -> Callable[[Task], Task]:
    """Register a function as the task for `kind` (the name stored in pending_work.kind)."""

    def register(function: Task) -> Task:
        if _TASKS.setdefault(str(kind), function) is not function:
            raise ValueError(f"two tasks named {kind!r}")
        return function

    return register


def task_for(kind: str) -> Task | None:
    return _TASKS.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_TASKS)


# Workers running in this process, woken when a transaction that added work commits; workers in
# other processes find it at their next poll.
_wakers: set[Callable[[], None]] = set()
_wakers_lock = threading.Lock()


def add_waker(wake: Callable[[], None]) -> None:
    with _wakers_lock:
        _wakers.add(wake)


def remove_waker(wake: Callable[[], None]) -> None:
    with _wakers_lock:
        _wakers.discard(wake)


def _wake_workers(_session: Session) -> None:
    with _wakers_lock:
        wakers = list(_wakers)
    for wake in wakers:
        wake()


def enqueue(
    session: Session,
    *,
    team_id: str,
    kind: str,
    body: dict[str, Any],
    extras: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    """Add work in the caller's transaction: it exists exactly when what it belongs to does."""
    if kind not in _TASKS:
        raise ValueError(f"no task named {kind!r}")
    # Slack's deprecated verification token is a long-lived secret: never stored.
    body = {key: value for key, value in body.items() if key != "token"}
    values = {"team_id": team_id, "kind": str(kind), "body": body, "extras": extras or {}, "attempts": 0}
    # A Core insert on the session's connection (the ORM's bulk path costs more CPU): the web
    # process does one after the ack of every request it hands over.
    session.connection().execute(
        PendingWork.__table__.insert(), {**values, "run_after": now, "created_at": now}
    )
    if not orm_event.contains(session, "after_commit", _wake_workers):
        orm_event.listen(session, "after_commit", _wake_workers, once=True)


def settle_in(session: Session, context: BoltContext) -> None:
    """Inside a task's main transaction: its row goes with what the task stores, so a worker that
    dies after that commit never does the work twice. Outside a task it does nothing."""
    job: Job | None = context.get("job")
    if job is not None and not job.settled:
        settle(session, work_id=job.work.id, owner=job.owner)
        job.settled = True


# run_after comes from the storing machine's clock; a worker whose clock is a little behind still
# sees new work as due.
CLOCK_SKEW = timedelta(seconds=1)


def _claimable(now: datetime):
    # Due and unclaimed, or claimed by a worker whose lease ran out (it died mid-task).
    return (PendingWork.run_after <= now + CLOCK_SKEW) & or_(
        PendingWork.claimed_until.is_(None), PendingWork.claimed_until <= now
    )


def has_due(session: Session, *, now: datetime) -> bool:
    return session.scalar(select(PendingWork.id).where(_claimable(now)).limit(1)) is not None


def claim(session: Session, *, now: datetime, owner: str, lease: timedelta) -> ClaimedWork | None:
    """Take the oldest due row for `lease`, counting the attempt."""
    query = (
        select(PendingWork).where(_claimable(now)).order_by(PendingWork.run_after, PendingWork.id).limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # workers never wait for each other's rows
    row = session.scalar(query)
    if row is None:
        return None
    row.claimed_by, row.claimed_until, row.attempts = owner, now + lease, row.attempts + 1
    return ClaimedWork(
        id=row.id,
        team_id=row.team_id,
        kind=row.kind,
        body=dict(row.body),
        extras=dict(row.extras or {}),
        attempts=row.attempts,
    )


def settle(session: Session, *, work_id: int, owner: str) -> bool:
    """Done (or given up): the row goes. False if the lease was lost to another worker meanwhile."""
    result = session.execute(
        delete(PendingWork).where(PendingWork.id == work_id, PendingWork.claimed_by == owner)
    )
    return bool(result.rowcount)


def retry_later(session: Session, *, work_id: int, owner: str, at: datetime) -> None:
    """Give a claimed row back for later. Its worker did not die, so the claim is not an attempt."""
    session.execute(
        update(PendingWork)
        .where(PendingWork.id == work_id, PendingWork.claimed_by == owner)
        .values(claimed_by=None, claimed_until=None, run_after=at, attempts=PendingWork.attempts - 1)
    )


def backlog(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PendingWork)) or 0


def oldest(session: Session) -> datetime | None:
    """When the oldest task still waiting was handed over (None: nothing waits)."""
    return session.scalar(select(func.min(PendingWork.created_at)))
