"""Shared topics, and the wishes (to learn) and skills (to teach) that point at them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow

TOPIC_MAX_LENGTH = 80
NOTE_MAX_LENGTH = 300


class Topic(Base):
    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    # Normalised spelling: "Social-Media" and " social  media " share the key "social media".
    key: Mapped[str] = mapped_column(String(TOPIC_MAX_LENGTH))
    # The first person's nice casing ("Social Media"), shown everywhere.
    display_name: Mapped[str] = mapped_column(String(TOPIC_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WishStatus(enum.StrEnum):
    OPEN = "open"
    MET = "met"  # the learner marked the topic learned
    WITHDRAWN = "withdrawn"


class SkillLevel(enum.StrEnum):
    BASICS = "basics"
    CONFIDENT = "confident"
    EXPERT = "expert"

    @property
    def rank(self) -> int:
        return list(SkillLevel).index(self) + 1

    @property
    def label(self) -> str:
        return {"basics": "can show the basics", "confident": "confident", "expert": "expert"}[self.value]


class Wish(Base):
    __tablename__ = "wishes"
    __table_args__ = (UniqueConstraint("person_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX_LENGTH))
    # A colleague the learner asked for by name: strongly preferred by the round, never forced.
    requested_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    status: Mapped[WishStatus] = mapped_column(str_enum(WishStatus), default=WishStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last ended pairing (declined, expired, partner left) this wish was offered on after: a
    # conditional UPDATE on it lets exactly one of two racing transactions make the next offer.
    # A plain id, not a key: pairings point at wishes, and the number alone is what is compared.
    offered_after_pairing_id: Mapped[int | None] = mapped_column(Integer)
    # Why the wish is waiting, as last told to its owner (availability.WaitReason): told once.
    told_wait_reason: Mapped[str | None] = mapped_column(String(32))

    topic: Mapped[Topic] = relationship(lazy="joined")


class Skill(Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("person_id", "topic_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    level: Mapped[SkillLevel] = mapped_column(str_enum(SkillLevel), default=SkillLevel.CONFIDENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topic: Mapped[Topic] = relationship(lazy="joined")
