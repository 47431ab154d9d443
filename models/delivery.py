"""Exactly-once machinery: the message outbox and the Slack events already processed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed; if its sender died, Slack's history tells whether it went out
    SENT = "sent"
    FAILED = "failed"  # Slack refused it for good (e.g. user_not_found); not retried
    CANCELLED = "cancelled"


class OutboxMessage(Base):
    """A message a job must send, recorded before it is sent and marked when Slack accepts it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (UniqueConstraint("team_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    # What makes a re-run harmless: e.g. "pairing:12:proposal:U123".
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    # A user id (we open the DM), a list of user ids (a group DM) or a channel id.
    recipient: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus), default=OutboxStatus.PENDING, index=True
    )
    send_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Owed to someone else but about a person who was forgotten meanwhile: the words go out once,
    # then the row keeps none of them (text and blocks are erased when it is sent or given up).
    erase_when_sent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ProcessedEvent(Base):
    """Events API deliveries already handled: Slack retries and duplicates are dropped."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
