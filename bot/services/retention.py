"""Retention: what Flipside no longer needs is deleted after a period (RETENTION_DAYS).

Outbox rows that are finished (sent, failed, cancelled) and Slack event ids go once older than the
period; expired OAuth states go at once. An outbox row is also the dedupe key that stops a job
sending its message twice, and some are read back (a proposal DM is redrawn, a Lunch 'n' Learn post
is updated): rows about a pairing still open, or a session that started less than the period ago
(so later than the feedback asks and host summary that follow it), are kept. The period is at
least 8 days (bot.config), so a weekly message's key outlives its week.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models import LunchSession, OutboxMessage, OutboxStatus, Pairing, PairingStatus, ProcessedEvent
from models.slack_oauth import oauth_states

FINISHED = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.CANCELLED)
# Slack retries an event for about an hour; its id must be known for at least that long.
MIN_EVENT_KEEP = timedelta(days=1)
_ABOUT = re.compile(r"(pairing|lunch):(\d+):")
_CHUNK = 500


@dataclass(frozen=True)
class Pruned:
    outbox: int = 0
    events: int = 0
    oauth_states: int = 0


def prune(session: Session, *, now: datetime, keep: timedelta) -> Pruned:
    """Delete what is older than `keep` (see the module's docstring); the caller commits."""
    cutoff = now - keep
    events = session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < now - max(keep, MIN_EVENT_KEEP))
    ).rowcount
    naive_now = now.astimezone(UTC).replace(tzinfo=None)  # slack_sdk keeps naive UTC
    states = session.execute(delete(oauth_states).where(oauth_states.c.expire_at < naive_now)).rowcount
    return Pruned(outbox=_prune_outbox(session, cutoff=cutoff), events=events or 0, oauth_states=states or 0)


def _prune_outbox(session: Session, *, cutoff: datetime) -> int:
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.dedupe_key).where(
            OutboxMessage.status.in_(FINISHED),
            OutboxMessage.created_at < cutoff,
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.send_after) < cutoff,
        )
    ).all()
    if not rows:
        return 0
    open_pairings = set(
        session.scalars(
            select(Pairing.id).where(Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]))
        )
    )
    recent_lunches = set(session.scalars(select(LunchSession.id).where(LunchSession.starts_at >= cutoff)))
    still_needed = {"pairing": open_pairings, "lunch": recent_lunches}

    def needed(key: str) -> bool:
        about = _ABOUT.match(key)
        return about is not None and int(about.group(2)) in still_needed[about.group(1)]

    return _delete_ids(session, [row.id for row in rows if not needed(row.dedupe_key)])


def _delete_ids(session: Session, ids: Iterable[int]) -> int:
    ids = list(ids)
    deleted = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        deleted += session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(chunk))).rowcount or 0
    return deleted
