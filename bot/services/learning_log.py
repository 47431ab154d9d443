"""A pair's learning log: the record of what is owed to their canvas. Plain Python, no Slack.

The log is started in the transaction that introduces the pair; each line (a check-in, a meeting, "I
learned it", a pulse note, the end) is stored in the transaction of its event by
`queue_learning_log_entry`. bot.delivery.canvases writes them to Slack: it claims a pair's log, does
its calls, and records each answer here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services import outbox
from models import (
    EntryStatus,
    LearningLog,
    LearningLogEntry,
    LogStatus,
    OutboxMessage,
    OutboxStatus,
    Pairing,
    Wish,
)

STALE_CLAIM = timedelta(minutes=5)
# Reasons that concern one pair (its canvas was deleted, say), not canvases in the whole workspace.
PAIR_REASON_PREFIX = "pair:"
_UNFINISHED = (LogStatus.PENDING, LogStatus.CREATING, LogStatus.SHARING)


def intro_key(pairing_id: int) -> str:
    return f"pairing:{pairing_id}:intro"


def start(
    session: Session, *, pairing: Pairing, opening: str, title: str, now: datetime
) -> LearningLog | None:
    """The pair's log, to be created as a canvas once their introduction is out (once per pairing)."""
    if session.scalar(select(LearningLog.id).where(LearningLog.pairing_id == pairing.id)):
        return None
    log = LearningLog(
        team_id=pairing.team_id,
        pairing_id=pairing.id,
        opening=opening,
        title=title,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a double click may start it twice at the same moment
            session.add(log)
    except IntegrityError:
        return None
    return log


def learner_note(session: Session, pairing: Pairing) -> str | None:
    """What exactly the learner said they want, from the wish the pairing answers."""
    wish = session.get(Wish, pairing.wish_id) if pairing.wish_id else None
    return wish.note if wish is not None else None


def queue_learning_log_entry(
    session: Session, *, pairing: Pairing, text: str, now: datetime, key: str | None = None
) -> LearningLogEntry | None:
    """Owe `text` (canvas markdown) to the end of the pair's log, in the caller's transaction.

    `key` makes a repeated event add nothing (by default the text itself). None when the pair has no
    log (introduced before logs existed, or canvases refused) or the line was queued already."""
    log = session.scalar(select(LearningLog).where(LearningLog.pairing_id == pairing.id))
    if log is None or log.status == LogStatus.UNAVAILABLE:
        return None
    key = key or "text:" + hashlib.sha256(text.encode()).hexdigest()[:32]
    if session.scalar(
        select(LearningLogEntry.id).where(
            LearningLogEntry.pairing_id == pairing.id, LearningLogEntry.key == key
        )
    ):
        return None
    entry = LearningLogEntry(
        team_id=pairing.team_id, pairing_id=pairing.id, key=key[:100], markdown=text, created_at=now
    )
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        return None
    return entry


# --- what the canvas writer claims and records -------------------------------------------------


@dataclass(frozen=True)
class LogWork:
    """A claimed log's data, safe to use after its transaction has ended."""

    log_id: int
    team_id: str
    pairing_id: int
    status: LogStatus
    title: str
    opening: str
    channel_id: str | None
    canvas_id: str | None
    standalone: bool
    attempts: int
    user_ids: tuple[str, str]
    topic: str


@dataclass(frozen=True)
class EntryWork:
    entry_id: int
    markdown: str
    in_doubt: bool


def claim(session: Session, *, pairing_id: int, owner: str, now: datetime) -> LogWork | None:
    """Take a pair's log for its Slack calls, or None when another process holds it (or none is due).

    A conditional UPDATE: of two processes, exactly one sees its row changed."""
    log = session.scalar(select(LearningLog).where(LearningLog.pairing_id == pairing_id))
    if log is None or log.status == LogStatus.UNAVAILABLE:
        return None
    taken = session.execute(
        update(LearningLog)
        .where(
            LearningLog.id == log.id,
            or_(LearningLog.claimed_by.is_(None), LearningLog.claimed_at <= now - STALE_CLAIM),
        )
        .values(claimed_by=owner, claimed_at=now)
    )
    if not taken.rowcount:
        return None
    session.refresh(log)
    pairing = session.get(Pairing, pairing_id)
    assert pairing is not None  # the log goes with its pairing (ON DELETE CASCADE)
    channel_id = log.channel_id
    if channel_id is None:
        intro = outbox.sent_message(session, team_id=log.team_id, dedupe_key=intro_key(pairing_id))
        channel_id = log.channel_id = intro.channel_id if intro is not None else None
    return LogWork(
        log_id=log.id,
        team_id=log.team_id,
        pairing_id=pairing_id,
        status=log.status,
        title=log.title,
        opening=log.opening,
        channel_id=channel_id,
        canvas_id=log.canvas_id,
        standalone=log.standalone,
        attempts=log.attempts,
        user_ids=(pairing.learner.slack_user_id, pairing.teacher.slack_user_id),
        topic=pairing.topic.display_name,
    )


def intro_failed(session: Session, *, pairing_id: int) -> bool:
    """The introduction will never go out (Slack refused it for good): no conversation, no canvas."""
    return (
        session.scalar(
            select(LearningLog.team_id)
            .join_from(LearningLog, OutboxMessage, LearningLog.team_id == OutboxMessage.team_id)
            .where(
                LearningLog.pairing_id == pairing_id,
                OutboxMessage.dedupe_key == intro_key(pairing_id),
                OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.CANCELLED)),
            )
        )
        is not None
    )


def release(session: Session, *, log_id: int, owner: str, retry_at: datetime | None = None) -> None:
    values: dict[str, object] = {"claimed_by": None, "claimed_at": None}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    session.execute(
        update(LearningLog).where(LearningLog.id == log_id, LearningLog.claimed_by == owner).values(**values)
    )


def mark_creating(session: Session, *, log_id: int, standalone: bool) -> None:
    """Before a create call: from here until an answer is recorded, a canvas may exist in Slack."""
    session.execute(
        update(LearningLog)
        .where(LearningLog.id == log_id)
        .values(status=LogStatus.CREATING, standalone=standalone, attempts=LearningLog.attempts + 1)
    )


def mark_not_created(session: Session, *, log_id: int) -> None:
    """Slack answered a create call with an error: nothing was created, so it may be tried again."""
    session.execute(update(LearningLog).where(LearningLog.id == log_id).values(status=LogStatus.PENDING))


def mark_created(session: Session, *, log_id: int, canvas_id: str, shared: bool, now: datetime) -> None:
    session.execute(
        update(LearningLog)
        .where(LearningLog.id == log_id)
        .values(
            canvas_id=canvas_id,
            status=LogStatus.READY if shared else LogStatus.SHARING,
            ready_at=now if shared else None,
        )
    )


def mark_unavailable(session: Session, *, log_id: int, reason: str) -> None:
    """No canvas for this pair: what is owed to it is dropped, and nothing more is queued."""
    log = session.get(LearningLog, log_id)
    if log is None:
        return
    log.status, log.skipped_reason = LogStatus.UNAVAILABLE, reason[:80]
    session.execute(
        update(LearningLogEntry)
        .where(LearningLogEntry.pairing_id == log.pairing_id, LearningLogEntry.status == EntryStatus.PENDING)
        .values(status=EntryStatus.SKIPPED, in_doubt=False)
    )


def pending_entries(session: Session, *, pairing_id: int) -> list[EntryWork]:
    return [
        EntryWork(entry.id, entry.markdown, entry.in_doubt)
        for entry in session.scalars(
            select(LearningLogEntry)
            .where(LearningLogEntry.pairing_id == pairing_id, LearningLogEntry.status == EntryStatus.PENDING)
            .order_by(LearningLogEntry.id)
        )
    ]


def mark_entry(session: Session, *, entry_id: int, in_doubt: bool) -> None:
    session.execute(update(LearningLogEntry).where(LearningLogEntry.id == entry_id).values(in_doubt=in_doubt))


def mark_entry_done(session: Session, *, entry_id: int, status: EntryStatus, now: datetime) -> None:
    session.execute(
        update(LearningLogEntry)
        .where(LearningLogEntry.id == entry_id)
        .values(status=status, in_doubt=False, appended_at=now if status == EntryStatus.APPENDED else None)
    )


def due_pairing_ids(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    """Logs with Slack work to do: not yet created, or with lines owed, and not held by a live claim."""
    owed = select(LearningLogEntry.pairing_id).where(LearningLogEntry.status == EntryStatus.PENDING)
    return list(
        session.scalars(
            select(LearningLog.pairing_id)
            .where(
                or_(LearningLog.status.in_(_UNFINISHED), LearningLog.pairing_id.in_(owed)),
                LearningLog.status != LogStatus.UNAVAILABLE,
                LearningLog.next_attempt_at <= now,
                or_(LearningLog.claimed_by.is_(None), LearningLog.claimed_at <= now - STALE_CLAIM),
            )
            .order_by(LearningLog.next_attempt_at, LearningLog.id)
            .limit(limit)
        )
    )


def workspace_unavailable_reason(session: Session, *, team_id: str) -> str | None:
    """Why the newest pairs get no canvas in this workspace (for the admin), or None when they do."""
    latest = session.scalar(
        select(LearningLog)
        .where(
            LearningLog.team_id == team_id, LearningLog.status.in_((LogStatus.READY, LogStatus.UNAVAILABLE))
        )
        .order_by(LearningLog.id.desc())
        .limit(1)
    )
    if latest is None or latest.status != LogStatus.UNAVAILABLE or not latest.skipped_reason:
        return None
    return None if latest.skipped_reason.startswith(PAIR_REASON_PREFIX) else latest.skipped_reason


def forget_pairings(session: Session, *, pairing_ids: tuple[int, ...]) -> None:
    """Forgetting a person: their pairs' logs name them and quote them, so they go (Slack's canvas,
    the pair's own document, stays theirs)."""
    if not pairing_ids:
        return
    session.execute(delete(LearningLogEntry).where(LearningLogEntry.pairing_id.in_(pairing_ids)))
    session.execute(delete(LearningLog).where(LearningLog.pairing_id.in_(pairing_ids)))
