"""The relationship pulse ("How is it going?") and the admins' monthly summary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class PulseAnswer(Base):
    """One person's pulse on one pairing: written when the question is queued (rating empty),
    filled in by their click. The unique key makes a re-run of the pulse job ask nobody twice."""

    __tablename__ = "pulse_answers"
    __table_args__ = (UniqueConstraint("pairing_id", "number", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    # 1 at 30 days of the pairing, 2 at 90, 3 at 150 ... (every 60 days while it lasts).
    number: Mapped[int] = mapped_column(Integer)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    stopped_meeting: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Private: only the programme's figures read the rating; nobody else ever sees the note,
    # unless its author ticks "add my note to our learning log".
    note: Mapped[str | None] = mapped_column(String(1000))
    share_with_log: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MonthlySummary(Base):
    """One monthly summary per workspace and month: claimed before the chart is drawn and
    uploaded, done once its messages are in the outbox."""

    __tablename__ = "monthly_summaries"
    __table_args__ = (UniqueConstraint("team_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # "2026-11": the month it sums up
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    file_id: Mapped[str | None] = mapped_column(String(32))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
