"""Lunch 'n' Learn: group sessions, their sign-ups, feedback and demand-driven suggestions."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.people import Person
from models.topics import Topic


class LunchStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    # Someone else was named host and has not accepted yet: not announced, listed or open to sign-ups.
    AWAITING_HOST = "awaiting_host"


class HostConsent(enum.StrEnum):
    """The named host's answer. Proposing yourself as host is ACCEPTED at once."""

    ACCEPTED = "accepted"
    PENDING = "pending"
    DECLINED = "declined"
    EXPIRED = "expired"


class LunchSession(Base):
    __tablename__ = "lunch_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    title: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    location: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[LunchStatus] = mapped_column(str_enum(LunchStatus), default=LunchStatus.SCHEDULED)
    host_consent: Mapped[HostConsent] = mapped_column(
        str_enum(HostConsent), default=HostConsent.ACCEPTED, server_default=HostConsent.ACCEPTED.value
    )
    # Where the announcement lives, so sign-ups can update it in place.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Bumped by every sign-up change: serialises the last-seat race on every database.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    host: Mapped[Person] = relationship(foreign_keys=[host_id])
    topic: Mapped[Topic | None] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class SignupStatus(enum.StrEnum):
    ATTENDING = "attending"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class LunchSignup(Base):
    __tablename__ = "lunch_signups"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lunch_sessions.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus))
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()


class LunchFeedback(Base):
    __tablename__ = "lunch_feedback"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lunch_sessions.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LunchSuggestion(Base):
    """A demand-driven nudge to a teacher; kept so a topic is suggested to someone once a month."""

    __tablename__ = "lunch_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    suggested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the suggested session is announced, so the people who wished for it are told once.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("lunch_sessions.id", ondelete="SET NULL"))
