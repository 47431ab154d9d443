"""A pair's learning log: a Slack canvas in their introduction conversation, and the lines owed to it.

Both are written in the transaction of the event they record (an introduction, a check-in, a meeting
logged), so a line is never lost; bot.delivery.canvases writes them to Slack exactly once.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class LogStatus(enum.StrEnum):
    PENDING = "pending"  # to create once the introduction is out
    CREATING = "creating"  # a create call may be in flight: after a crash, look before creating again
    SHARING = "sharing"  # a standalone canvas exists (canvas_id) but is not yet shared with the pair
    READY = "ready"
    UNAVAILABLE = "unavailable"  # canvases refused (scope, plan, admin setting): the pairing goes on without


class LearningLog(Base):
    __tablename__ = "learning_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), unique=True)
    status: Mapped[LogStatus] = mapped_column(str_enum(LogStatus), default=LogStatus.PENDING, index=True)
    # The canvas as first written (topic, the learner's note, the agenda), fixed at the introduction.
    opening: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str | None] = mapped_column(String(32))  # the introduction's group DM
    canvas_id: Mapped[str | None] = mapped_column(String(32))
    standalone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    skipped_reason: Mapped[str | None] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Whoever holds the claim does this pair's Slack calls; a claim older than a few minutes is stale.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EntryStatus(enum.StrEnum):
    PENDING = "pending"
    APPENDED = "appended"
    SKIPPED = "skipped"  # the log never came to be, or went away


class LearningLogEntry(Base):
    """One line owed to a pair's canvas (a check-in, a meeting, "I learned it", a pulse note, the end)."""

    __tablename__ = "learning_log_entries"
    __table_args__ = (UniqueConstraint("pairing_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))  # what makes a repeated event add nothing
    markdown: Mapped[str] = mapped_column(Text)
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus), default=EntryStatus.PENDING)
    # Set before canvases.edit, cleared on a definite answer: after a crash, Slack is asked whether
    # the line is there before it is written again.
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    appended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
