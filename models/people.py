"""People taking part in the programme, and whom they never want to be paired with."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class CareerStage(enum.StrEnum):
    EARLY = "early"
    MID = "mid"
    SENIOR = "senior"
    EXECUTIVE = "executive"

    @property
    def rank(self) -> int:
        return list(CareerStage).index(self)

    @property
    def label(self) -> str:
        return {"early": "early career", "mid": "mid-career"}.get(self.value, self.value)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("team_id", "slack_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    slack_user_id: Mapped[str] = mapped_column(String(32))
    # Name and timezone come from Slack (users.info), never from a form.
    display_name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    tz_offset_seconds: Mapped[int] = mapped_column(Integer, default=0)
    slack_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Slack's own `updated` of the copy above: a late user_change or users.info answer that is
    # older never overwrites it (workers apply changes in parallel).
    slack_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_slack_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Last app_home_opened: after a change the App Home is redrawn only for people who look at
    # it (the others get a fresh one when they first open it), sparing views.publish calls.
    home_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    career_stage: Mapped[CareerStage | None] = mapped_column(str_enum(CareerStage))
    department: Mapped[str | None] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    profile_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Proposals left unanswered in a row; at three we ask before proposing again.
    unanswered_streak: Mapped[int] = mapped_column(Integer, default=0)
    # Check-ins sent since the person last answered one, and when they last did: a silent side of
    # a pairing is asked whether to stay in (bot.services.ghosting).
    checkins_unanswered: Mapped[int] = mapped_column(Integer, default=0)
    checkin_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When we last asked "should I keep proposing pairings?" and are still waiting for the answer;
    # a week without one pauses them.
    stay_in_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def has_profile(self) -> bool:
        return self.profile_completed_at is not None

    def is_available(self, now: datetime) -> bool:
        """Whether a matching round may propose this person a pairing at `now`."""
        if self.paused or self.deactivated_at or self.forgotten_at or not self.has_profile:
            return False
        return self.snoozed_until is None or self.snoozed_until <= now


class PairingBlock(Base):
    """A private "don't pair me with" entry; it works in both directions."""

    __tablename__ = "pairing_blocks"
    __table_args__ = (UniqueConstraint("person_id", "blocked_person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    blocked_person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
