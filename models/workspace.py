"""A Slack workspace that installed Flipside, and its programme settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow


class Workspace(Base):
    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by app_uninstalled / tokens_revoked: jobs stop; the data stays until a purge (an
    # admin's, or purge-uninstalled once PURGE_UNINSTALLED_AFTER_DAYS have passed).
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    settings: Mapped[ProgrammeSettings | None] = relationship(
        back_populates="workspace", cascade="all, delete-orphan", uselist=False
    )

    @property
    def active(self) -> bool:
        return self.uninstalled_at is None


class ProgrammeSettings(Base):
    """Per-workspace programme settings; admins edit them in App Home, jobs read them each run."""

    __tablename__ = "programme_settings"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("workspaces.team_id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str | None] = mapped_column(String(32))
    matching_weekday: Mapped[int] = mapped_column(Integer, default=0)
    matching_time: Mapped[str] = mapped_column(String(5), default="09:00")
    matching_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    strict_reverse: Mapped[bool] = mapped_column(Boolean, default=False)
    proposal_expiry_days: Mapped[int] = mapped_column(Integer, default=5)
    checkin_after_days: Mapped[int] = mapped_column(Integer, default=7)
    pairing_max_sessions: Mapped[int] = mapped_column(Integer, default=6)
    pairing_max_days: Mapped[int] = mapped_column(Integer, default=90)
    # Two people are not paired again, on any topic, for this many weeks (unless asked by name).
    repeat_window_weeks: Mapped[int] = mapped_column(Integer, default=26, server_default="26")
    # Minutes before a Lunch 'n' Learn to remind attendees, comma-separated ("1440,15").
    lnl_reminder_minutes: Mapped[str] = mapped_column(String(100), default="1440,15")
    lnl_demand_threshold: Mapped[int] = mapped_column(Integer, default=3)
    # Where the monthly summary goes: "admins" (a DM to each) or "channel" (the programme channel).
    summary_destination: Mapped[str] = mapped_column(String(16), default="admins", server_default="admins")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    workspace: Mapped[Workspace] = relationship(back_populates="settings")
