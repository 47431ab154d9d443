"""The outbox: every message a job must send is a row first, so nothing is sent twice or lost.

A job decides and enqueues in one transaction (a re-run hits the unique dedupe key and adds
nothing); `bot.delivery.sender` then claims rows, sends them and marks them sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, null, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import OutboxMessage, OutboxStatus, Workspace

# What a row keeps of a message whose words must not outlive a forgotten person.
ERASED_TEXT = "[removed]"


def enqueue(
    session: Session,
    *,
    team_id: str,
    dedupe_key: str,
    kind: str,
    recipient: str | Sequence[str],
    message: Any,
    send_after: datetime,
) -> OutboxMessage | None:
    """Record a message to send; None if `dedupe_key` was already recorded (a re-run)."""
    if session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.team_id == team_id, OutboxMessage.dedupe_key == dedupe_key
        )
    ):
        return None
    row = OutboxMessage(
        team_id=team_id,
        dedupe_key=dedupe_key,
        kind=kind,
        recipient=recipient if isinstance(recipient, str) else ",".join(sorted(recipient)),
        text=message.text,
        blocks=message.blocks or None,
        send_after=send_after,
    )
    try:
        with session.begin_nested():  # a concurrent run may insert the same key first
            session.add(row)
    except IntegrityError:
        return None
    return row


def claim(
    session: Session,
    *,
    now: datetime,
    owner: str,
    limit: int,
    stale_after: timedelta,
    team_id: str | None = None,
    key_prefix: str | None = None,
) -> list[OutboxMessage]:
    """Mark up to `limit` due rows as being sent by `owner`, and return them.

    Rows another sender claimed more than `stale_after` ago are taken over: that sender died, and
    bot.delivery.sender checks Slack's history before sending them again.
    """
    due = or_(
        (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.send_after <= now),
        (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_at <= now - stale_after),
    )
    installed = select(Workspace.team_id).where(Workspace.uninstalled_at.is_(None))
    query = (
        select(OutboxMessage)
        .where(due, OutboxMessage.team_id.in_(installed))  # an uninstalled workspace's tokens are dead
        .order_by(OutboxMessage.send_after, OutboxMessage.id)
        .limit(limit)
    )
    if team_id is not None:
        query = query.where(OutboxMessage.team_id == team_id)
    if key_prefix is not None:
        query = query.where(OutboxMessage.dedupe_key.startswith(key_prefix))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Two senders never take the same row; each skips what the other holds.
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status = OutboxStatus.SENDING
        row.claimed_at = now
        row.claimed_by = owner
        row.attempts += 1
    session.flush()  # callers detach the rows to send them outside the transaction
    return rows


def renew_claim(session: Session, *, message_id: int, owner: str, now: datetime) -> bool:
    """Right before sending: still ours? Renews the claim, so nobody takes it over mid-send.

    A batch is claimed at once but sent one by one at Slack's pace; a row late in a slow batch
    may have been taken over as stale by another sender, and then this sender must skip it.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.claimed_by == owner,
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        .values(claimed_at=now)
    )
    return bool(result.rowcount)


def mark_sent(session: Session, *, message_id: int, channel_id: str, ts: str, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.SENT, channel_id=channel_id, slack_ts=ts, sent_at=now, last_error=None)
    )
    _erase_flagged(session, OutboxMessage.id == message_id)


def mark_channel(session: Session, *, message_id: int, channel_id: str) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(channel_id=channel_id))


def mark_failed(session: Session, *, message_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.FAILED, last_error=error[:200])
    )
    _erase_flagged(session, OutboxMessage.id == message_id)


def release(session: Session, *, message_id: int, retry_at: datetime, error: str) -> None:
    """Give a row back for a later attempt (Slack busy or unreachable after slack_sdk's retries)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.PENDING, send_after=retry_at, claimed_at=None, last_error=error[:200])
    )


def cancel(session: Session, *, team_id: str, key_prefix: str) -> int:
    """Drop messages not yet sent whose key starts with `key_prefix` (a cancelled session's reminders)."""
    mine = (OutboxMessage.team_id == team_id) & OutboxMessage.dedupe_key.startswith(key_prefix)
    result = session.execute(
        update(OutboxMessage)
        .where(mine, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED)
    )
    _erase_flagged(session, mine & (OutboxMessage.status == OutboxStatus.CANCELLED))
    return result.rowcount or 0


def _erase_flagged(session: Session, where: ColumnElement[bool]) -> None:
    """Rows done with (sent, failed, cancelled) that were about a forgotten person lose their words."""
    session.execute(
        update(OutboxMessage)
        .where(where, OutboxMessage.erase_when_sent.is_(True), OutboxMessage.text != ERASED_TEXT)
        .values(text=ERASED_TEXT, blocks=null())
    )


def sent_message(session: Session, *, team_id: str, dedupe_key: str) -> OutboxMessage | None:
    """A message already delivered, to update it in place (chat.update) when its subject changes."""
    return session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.dedupe_key == dedupe_key,
            OutboxMessage.status == OutboxStatus.SENT,
        )
    )
