"""What one person's App Home shows: their wishes, skills, pairings and Lunch 'n' Learns, read in a
fixed number of queries. The programme's figures are bot.services.figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import (
    Answer,
    LunchSession,
    LunchSignup,
    LunchStatus,
    Pairing,
    PairingMeeting,
    PairingStatus,
    Person,
    SignupStatus,
    Skill,
    SkillLevel,
    Topic,
    Wish,
    WishStatus,
)

# --- one person's picture: what their App Home shows ------------------------------------------


@dataclass(frozen=True)
class WishLine:
    topic: str
    note: str | None


@dataclass(frozen=True)
class SkillLine:
    topic: str
    level: SkillLevel


@dataclass(frozen=True)
class PairingLine:
    id: int
    topic: str
    learning: bool  # True when the person is the learner
    partner_name: str
    partner_user_id: str | None  # None once the partner was forgotten: show the name only
    status: PairingStatus
    my_answer: Answer
    their_answer: Answer
    expires_at: datetime
    accepted_at: datetime | None
    checkin_due_at: datetime | None
    ends_by: datetime | None
    sessions: int


@dataclass(frozen=True)
class LunchLine:
    id: int
    title: str
    starts_at: datetime
    location: str
    hosting: bool
    waitlisted: bool


@dataclass(frozen=True)
class PersonOverview:
    wishes: tuple[WishLine, ...]
    skills: tuple[SkillLine, ...]
    pairings: tuple[PairingLine, ...]
    lunches: tuple[LunchLine, ...]


def person_overview(session: Session, *, person: Person, now: datetime) -> PersonOverview:
    """Open wishes, skills, current pairings (with sessions counted in SQL) and upcoming Lunch 'n'
    Learns the person hosts or signed up for."""
    wishes = session.execute(
        select(Topic.display_name, Wish.note)
        .join(Topic, Topic.id == Wish.topic_id)
        .where(Wish.person_id == person.id, Wish.status == WishStatus.OPEN)
        .order_by(Wish.created_at, Wish.id)
    ).all()
    skills = session.execute(
        select(Topic.display_name, Skill.level)
        .join(Topic, Topic.id == Skill.topic_id)
        .where(Skill.person_id == person.id)
        .order_by(Skill.id)
    ).all()
    return PersonOverview(
        wishes=tuple(WishLine(name, note) for name, note in wishes),
        skills=tuple(SkillLine(name, level) for name, level in skills),
        pairings=_current_pairings(session, person=person),
        lunches=_upcoming_lunches(session, person=person, now=now),
    )


def _current_pairings(session: Session, *, person: Person) -> tuple[PairingLine, ...]:
    partner = aliased(Person)
    sessions = (
        select(PairingMeeting.pairing_id, func.count().label("sessions"))
        .group_by(PairingMeeting.pairing_id)
        .subquery()
    )
    is_learner = Pairing.learner_id == person.id
    rows = session.execute(
        select(Pairing, Topic.display_name, partner, func.coalesce(sessions.c.sessions, 0))
        .join(Topic, Topic.id == Pairing.topic_id)
        .join(partner, partner.id == case((is_learner, Pairing.teacher_id), else_=Pairing.learner_id))
        .outerjoin(sessions, sessions.c.pairing_id == Pairing.id)
        .where(
            or_(Pairing.learner_id == person.id, Pairing.teacher_id == person.id),
            Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]),
        )
        # Active pairings first, then proposals waiting for an answer; newest first within each.
        .order_by(case((Pairing.status == PairingStatus.ACTIVE, 0), else_=1), Pairing.proposed_at.desc())
    ).all()
    lines = []
    for pairing, topic, other, count in rows:
        learning = pairing.learner_id == person.id
        if pairing.exchange_topic is not None:  # a two-way exchange: both topics, one pairing
            topic = f"{topic} and {pairing.exchange_topic.display_name}"
        lines.append(
            PairingLine(
                id=pairing.id,
                topic=topic,
                learning=learning,
                partner_name=other.display_name,
                partner_user_id=None if other.forgotten_at else other.slack_user_id,
                status=pairing.status,
                my_answer=pairing.learner_answer if learning else pairing.teacher_answer,
                their_answer=pairing.teacher_answer if learning else pairing.learner_answer,
                expires_at=pairing.expires_at,
                accepted_at=pairing.accepted_at,
                checkin_due_at=pairing.checkin_due_at,
                ends_by=pairing.ends_by,
                sessions=count,
            )
        )
    return tuple(lines)


def _upcoming_lunches(session: Session, *, person: Person, now: datetime) -> tuple[LunchLine, ...]:
    mine = (
        select(LunchSignup.session_id, LunchSignup.status)
        .where(
            LunchSignup.person_id == person.id,
            LunchSignup.status.in_([SignupStatus.ATTENDING, SignupStatus.WAITLISTED]),
        )
        .subquery()
    )
    hosting = LunchSession.host_id == person.id
    rows = session.execute(
        select(
            LunchSession.id,
            LunchSession.title,
            LunchSession.starts_at,
            LunchSession.location,
            hosting,
            mine.c.status,
        )
        .outerjoin(mine, mine.c.session_id == LunchSession.id)
        .where(
            LunchSession.team_id == person.team_id,
            LunchSession.status == LunchStatus.SCHEDULED,
            LunchSession.starts_at >= now,
            or_(hosting, mine.c.session_id.is_not(None)),
        )
        .order_by(LunchSession.starts_at, LunchSession.id)
    ).all()
    return tuple(
        LunchLine(
            id=lunch_id,
            title=title,
            starts_at=starts_at,
            location=location or "",
            hosting=bool(host),
            waitlisted=not host and status == SignupStatus.WAITLISTED,
        )
        for lunch_id, title, starts_at, location, host, status in rows
    )
