"""Matching rounds, the pairings they propose, and what happens to each pairing."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.people import Person
from models.topics import Topic


class MatchingRound(Base):
    """One round per workspace and week: the unique key is what makes a re-run a no-op."""

    __tablename__ = "matching_rounds"
    __table_args__ = (UniqueConstraint("team_id", "round_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    round_key: Mapped[str] = mapped_column(String(40))  # e.g. "2026-W48"
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposals_count: Mapped[int] = mapped_column(Integer, default=0)
    unmatched_count: Mapped[int] = mapped_column(Integer, default=0)


class PairingStatus(enum.StrEnum):
    PROPOSED = "proposed"  # waiting for both answers
    ACTIVE = "active"  # both accepted, introduced
    DECLINED = "declined"
    EXPIRED = "expired"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (PairingStatus.PROPOSED, PairingStatus.ACTIVE)


class Answer(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Pairing(Base):
    __tablename__ = "pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("matching_rounds.id", ondelete="SET NULL"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id", ondelete="SET NULL"))
    skill_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id", ondelete="SET NULL"))
    # A two-way exchange is one pairing: the teacher also learns exchange_topic from the learner,
    # for the teacher's wish exchange_wish, with the learner's skill exchange_skill.
    exchange_topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    exchange_wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id", ondelete="SET NULL"))
    exchange_skill_id: Mapped[int | None] = mapped_column(ForeignKey("skills.id", ondelete="SET NULL"))

    score: Mapped[float] = mapped_column(Float, default=0.0)
    # Why, in words, for each side (the learner's, the teacher's); never a score.
    explanation: Mapped[str] = mapped_column(Text, default="")
    teacher_explanation: Mapped[str] = mapped_column(Text, default="", server_default="")
    is_reverse: Mapped[bool] = mapped_column(Boolean, default=False)
    is_cross_department: Mapped[bool] = mapped_column(Boolean, default=False)

    status: Mapped[PairingStatus] = mapped_column(
        str_enum(PairingStatus), default=PairingStatus.PROPOSED, index=True
    )
    learner_answer: Mapped[Answer] = mapped_column(str_enum(Answer), default=Answer.PENDING)
    teacher_answer: Mapped[Answer] = mapped_column(str_enum(Answer), default=Answer.PENDING)
    declined_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decline_reason: Mapped[str | None] = mapped_column(String(500))

    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reminder_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    # Bumped on every state change, so a stale button (an older version) changes nothing.
    version: Mapped[int] = mapped_column(Integer, default=1)

    learner: Mapped[Person] = relationship(foreign_keys=[learner_id])
    teacher: Mapped[Person] = relationship(foreign_keys=[teacher_id])
    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    exchange_topic: Mapped[Topic | None] = relationship(foreign_keys=[exchange_topic_id])

    @property
    def is_exchange(self) -> bool:
        return self.exchange_topic_id is not None

    def explanation_for(self, person_id: int) -> str:
        return self.explanation if person_id == self.learner_id else self.teacher_explanation

    def answer_of(self, person_id: int) -> Answer:
        return self.learner_answer if person_id == self.learner_id else self.teacher_answer

    def other_side(self, person_id: int) -> Person:
        return self.teacher if person_id == self.learner_id else self.learner


class MeetingHalves(enum.StrEnum):
    """Which halves of a two-way exchange a meeting covered (one-way pairings leave it empty)."""

    TOPIC = "topic"  # the teacher taught the learner the pairing's topic
    EXCHANGE_TOPIC = "exchange_topic"  # the learner taught the teacher back
    BOTH = "both"


class PairingMeeting(Base):
    """A meeting a pair logged at a check-in ("did you meet?"): one per check-in, whoever logs it."""

    __tablename__ = "pairing_meetings"
    __table_args__ = (UniqueConstraint("pairing_id", "checkin_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    # Which weekly check-in it answers (its due time, epoch seconds). Both partners answering the
    # same check-in log one meeting. Empty for meetings logged before check-ins carried it.
    checkin_slot: Mapped[int | None] = mapped_column(Integer)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    rating: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(1000))
    # In an exchange, each direction's meetings are recorded: which halves this one covered.
    halves: Mapped[MeetingHalves | None] = mapped_column(str_enum(MeetingHalves))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PairingFeedback(Base):
    """The closing feedback of one side of a finished pairing."""

    __tablename__ = "pairing_feedback"
    __table_args__ = (UniqueConstraint("pairing_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    rating: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
