"""Work a listener hands over after its ack, kept in the database until a worker has done it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class PendingWork(Base):
    """One acked request whose work (record, reply, redraw) is not done yet; deleted once done.

    No foreign key to workspaces: a workspace's very first request is acked and queued before
    anything else about that workspace is stored."""

    __tablename__ = "pending_work"
    __table_args__ = (Index("ix_pending_work_due", "run_after", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))  # a name in bot.work's task registry
    # The Slack request body as received, and what the listener adds to it (JSON values only).
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    extras: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A claim is a lease: a worker that dies leaves it to expire, and another worker takes over.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
