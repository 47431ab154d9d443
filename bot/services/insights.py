"""What the programme achieved, and what one person's App Home shows: read-only figures.

Every figure is computed by the database (COUNT, SUM over CASE, AVG, GROUP BY): a report costs a
fixed dozen small queries however many people, wishes and pairings there are, and no row is
loaded into Python just to be counted. Results come back as plain frozen dataclasses that the
App Home builder and the plain-text report (bot.views.report, for the CLI and the demo) both read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union, union_all
from sqlalchemy.orm import Session, aliased

from models import (
    Answer,
    CareerStage,
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchStatus,
    MatchingRound,
    Pairing,
    PairingFeedback,
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

TOP_TOPICS = 5
NOT_GIVEN = "Not given"


class Period(enum.StrEnum):
    LAST_4_WEEKS = "last_4_weeks"
    QUARTER = "quarter"
    ALL_TIME = "all_time"

    @property
    def label(self) -> str:
        return {
            "last_4_weeks": "Last 4 weeks",
            "quarter": "Last quarter (13 weeks)",
            "all_time": "All time",
        }[self.value]

    def since(self, now: datetime) -> datetime | None:
        """Start of the period ending at `now`; None for all time. A quarter is a rolling 13 weeks,
        so two reports a week apart compare like with like (a calendar quarter would not)."""
        if self is Period.LAST_4_WEEKS:
            return now - timedelta(weeks=4)
        if self is Period.QUARTER:
            return now - timedelta(weeks=13)
        return None

    @classmethod
    def parse(cls, raw: Any, default: Period | None = None) -> Period:
        try:
            return cls(str(raw))
        except ValueError:
            return default or cls.LAST_4_WEEKS


@dataclass(frozen=True)
class TopicDemand:
    topic: str
    wishes: int
    teachers: int


@dataclass(frozen=True)
class GroupFigures:
    """One career stage or department: people in the programme now, pairs in the period."""

    name: str
    people: int
    learning: int  # pairs proposed in the period with someone of this group as the learner
    teaching: int


@dataclass(frozen=True)
class ProgrammeReport:
    team_id: str
    period: Period
    since: datetime | None
    until: datetime
    # People who had a wish or a skill during the period, or were in a pair proposed in it.
    learners_only: int
    teachers_only: int
    both: int
    wishes_new: int
    wishes_open: int  # open at `until`
    wishes_met: int
    rounds: int
    pairs_proposed: int
    pairs_accepted: int
    pairs_declined: int
    pairs_expired: int
    pairs_waiting: int
    reverse_pairs: int
    cross_department_pairs: int
    sessions_logged: int
    average_session_rating: float | None
    closing_feedback: int
    average_feedback_rating: float | None
    lunch_sessions: int  # held in the period (scheduled, started before `until`)
    lunch_attendance: int
    average_lunch_rating: float | None
    lunch_upcoming: int
    top_topics: tuple[TopicDemand, ...]
    unmet_topics: tuple[TopicDemand, ...]  # every topic with open wishes and no available teacher
    unmet_wishes: int
    by_career_stage: tuple[GroupFigures, ...]
    by_department: tuple[GroupFigures, ...]

    @property
    def learners(self) -> int:
        return self.learners_only + self.both

    @property
    def teachers(self) -> int:
        return self.teachers_only + self.both

    @property
    def participants(self) -> int:
        return self.learners_only + self.teachers_only + self.both

    @property
    def pairs_decided(self) -> int:
        return self.pairs_accepted + self.pairs_declined + self.pairs_expired

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among the proposals that got their answer (or expired): waiting ones don't count."""
        return ratio(self.pairs_accepted, self.pairs_decided)

    @property
    def reverse_share(self) -> float | None:
        return ratio(self.reverse_pairs, self.pairs_proposed)

    @property
    def cross_department_share(self) -> float | None:
        return ratio(self.cross_department_pairs, self.pairs_proposed)

    @property
    def average_attendance(self) -> float | None:
        return ratio(self.lunch_attendance, self.lunch_sessions)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- the programme report --------------------------------------------------------------------


def _within(column: Any, since: datetime | None, until: datetime) -> ColumnElement[bool]:
    upper = column < until
    return upper if since is None else and_(column >= since, upper)


def _count_if(condition: ColumnElement[bool]) -> Any:
    # SUM(CASE ...) rather than COUNT(*) FILTER: portable to SQLite and PostgreSQL alike.
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _available_teachers_by_topic(team_id: str):
    """Per topic, how many people who are not paused, gone or forgotten teach it."""
    return (
        select(Skill.topic_id.label("topic_id"), func.count().label("teachers"))
        .join(Person, Person.id == Skill.person_id)
        .where(
            Skill.team_id == team_id,
            Person.paused.is_(False),
            Person.deactivated_at.is_(None),
            Person.forgotten_at.is_(None),
        )
        .group_by(Skill.topic_id)
        .subquery()
    )


def build_report(session: Session, *, team_id: str, period: Period, now: datetime) -> ProgrammeReport:
    since = period.since(now)
    within = _within  # short name: used in every query below
    wishes = _wish_figures(session, team_id=team_id, since=since, until=now)
    pairs = session.execute(
        select(
            func.count(),
            _count_if(Pairing.accepted_at.is_not(None)),
            _count_if(Pairing.status == PairingStatus.DECLINED),
            _count_if(Pairing.status == PairingStatus.EXPIRED),
            _count_if(Pairing.status == PairingStatus.PROPOSED),
            _count_if(Pairing.is_reverse.is_(True)),
            _count_if(Pairing.is_cross_department.is_(True)),
        ).where(Pairing.team_id == team_id, within(Pairing.proposed_at, since, now))
    ).one()
    sessions = session.execute(
        select(func.count(), func.avg(PairingMeeting.rating))
        .join(Pairing, Pairing.id == PairingMeeting.pairing_id)
        .where(Pairing.team_id == team_id, within(PairingMeeting.logged_at, since, now))
    ).one()
    feedback = session.execute(
        select(func.count(), func.avg(PairingFeedback.rating))
        .join(Pairing, Pairing.id == PairingFeedback.pairing_id)
        .where(Pairing.team_id == team_id, within(PairingFeedback.created_at, since, now))
    ).one()
    rounds = session.scalar(
        select(func.count()).where(
            MatchingRound.team_id == team_id, within(MatchingRound.started_at, since, now)
        )
    )
    lunch = _lunch_figures(session, team_id=team_id, since=since, until=now)
    learners_only, teachers_only, both = _participants(session, team_id=team_id, since=since, until=now)
    top, unmet, unmet_wishes = _topic_demand(session, team_id=team_id, since=since, until=now)
    return ProgrammeReport(
        team_id=team_id,
        period=period,
        since=since,
        until=now,
        learners_only=learners_only,
        teachers_only=teachers_only,
        both=both,
        wishes_new=wishes[0],
        wishes_open=wishes[1],
        wishes_met=wishes[2],
        rounds=rounds or 0,
        pairs_proposed=pairs[0],
        pairs_accepted=pairs[1],
        pairs_declined=pairs[2],
        pairs_expired=pairs[3],
        pairs_waiting=pairs[4],
        reverse_pairs=pairs[5],
        cross_department_pairs=pairs[6],
        sessions_logged=sessions[0],
        average_session_rating=_float(sessions[1]),
        closing_feedback=feedback[0],
        average_feedback_rating=_float(feedback[1]),
        lunch_sessions=lunch[0],
        lunch_attendance=lunch[1],
        average_lunch_rating=lunch[2],
        lunch_upcoming=lunch[3],
        top_topics=top,
        unmet_topics=unmet,
        unmet_wishes=unmet_wishes,
        by_career_stage=_by_career_stage(session, team_id=team_id, since=since, until=now),
        by_department=_by_department(session, team_id=team_id, since=since, until=now),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _wish_figures(
    session: Session, *, team_id: str, since: datetime | None, until: datetime
) -> tuple[int, int, int]:
    row = session.execute(
        select(
            _count_if(_within(Wish.created_at, since, until)),
            _count_if(and_(Wish.status == WishStatus.OPEN, Wish.created_at < until)),
            _count_if(
                and_(
                    Wish.status == WishStatus.MET,
                    Wish.closed_at.is_not(None),
                    _within(Wish.closed_at, since, until),
                )
            ),
        ).where(Wish.team_id == team_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _participants(
    session: Session, *, team_id: str, since: datetime | None, until: datetime
) -> tuple[int, int, int]:
    """(learners only, teachers only, both), counted per distinct person in the database.

    Pairings count too, so people who were forgotten (their wishes and skills deleted) still
    appear in the period in which they took part.
    """
    wish_alive = Wish.created_at < until
    if since is not None:
        wish_alive = and_(wish_alive, or_(Wish.closed_at.is_(None), Wish.closed_at >= since))
    learner_ids = union(
        select(Wish.person_id.label("person_id")).where(Wish.team_id == team_id, wish_alive),
        select(Pairing.learner_id).where(
            Pairing.team_id == team_id, _within(Pairing.proposed_at, since, until)
        ),
    ).subquery()
    teacher_ids = union(
        select(Skill.person_id.label("person_id")).where(Skill.team_id == team_id, Skill.created_at < until),
        select(Pairing.teacher_id).where(
            Pairing.team_id == team_id, _within(Pairing.proposed_at, since, until)
        ),
    ).subquery()
    roles = union_all(
        select(learner_ids.c.person_id, literal(1).label("learns"), literal(0).label("teaches")),
        select(teacher_ids.c.person_id, literal(0).label("learns"), literal(1).label("teaches")),
    ).subquery()
    per_person = (
        select(
            roles.c.person_id,
            func.max(roles.c.learns).label("learns"),
            func.max(roles.c.teaches).label("teaches"),
        )
        .group_by(roles.c.person_id)
        .subquery()
    )
    learns, teaches = per_person.c.learns == 1, per_person.c.teaches == 1
    row = session.execute(
        select(
            _count_if(and_(learns, ~teaches)),
            _count_if(and_(teaches, ~learns)),
            _count_if(and_(learns, teaches)),
        ).select_from(per_person)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _lunch_figures(
    session: Session, *, team_id: str, since: datetime | None, until: datetime
) -> tuple[int, int, float | None, int]:
    held = and_(
        LunchSession.team_id == team_id,
        LunchSession.status == LunchStatus.SCHEDULED,
        _within(LunchSession.starts_at, since, until),
    )
    sessions_held = session.scalar(select(func.count()).select_from(LunchSession).where(held)) or 0
    attendance = (
        session.scalar(
            select(func.count())
            .select_from(LunchSignup)
            .join(LunchSession, LunchSession.id == LunchSignup.session_id)
            .where(held, LunchSignup.status == SignupStatus.ATTENDING)
        )
        or 0
    )
    average = session.scalar(
        select(func.avg(LunchFeedback.rating))
        .join(LunchSession, LunchSession.id == LunchFeedback.session_id)
        .where(held)
    )
    upcoming = (
        session.scalar(
            select(func.count()).where(
                LunchSession.team_id == team_id,
                LunchSession.status == LunchStatus.SCHEDULED,
                LunchSession.starts_at >= until,
            )
        )
        or 0
    )
    return sessions_held, attendance, _float(average), upcoming


def _topic_demand(
    session: Session, *, team_id: str, since: datetime | None, until: datetime
) -> tuple[tuple[TopicDemand, ...], tuple[TopicDemand, ...], int]:
    """Most requested topics in the period, and the open demand no available colleague can meet."""
    teachers = _available_teachers_by_topic(team_id)
    wishes = func.count(Wish.id).label("wishes")
    teacher_count = func.coalesce(teachers.c.teachers, 0)
    top = session.execute(
        select(Topic.display_name, wishes, teacher_count)
        .join(Wish, Wish.topic_id == Topic.id)
        .outerjoin(teachers, teachers.c.topic_id == Topic.id)
        .where(Topic.team_id == team_id, _within(Wish.created_at, since, until))
        .group_by(Topic.id, Topic.display_name, teachers.c.teachers)
        .order_by(wishes.desc(), Topic.display_name, Topic.id)
        .limit(TOP_TOPICS)
    ).all()
    unmet = session.execute(
        select(Topic.display_name, wishes)
        .join(Wish, Wish.topic_id == Topic.id)
        .join(Person, Person.id == Wish.person_id)
        .outerjoin(teachers, teachers.c.topic_id == Topic.id)
        .where(
            Topic.team_id == team_id,
            Wish.status == WishStatus.OPEN,
            Wish.created_at < until,
            Person.deactivated_at.is_(None),
            teachers.c.teachers.is_(None),
        )
        .group_by(Topic.id, Topic.display_name)
        .order_by(wishes.desc(), Topic.display_name, Topic.id)
    ).all()
    return (
        tuple(TopicDemand(name, count, teachers_now) for name, count, teachers_now in top),
        tuple(TopicDemand(name, count, 0) for name, count in unmet),
        sum(count for _name, count in unmet),
    )


def _group_figures(
    session: Session,
    *,
    team_id: str,
    since: datetime | None,
    until: datetime,
    key: Any,
    label: Any,
) -> dict[Any, tuple[str | None, int, int, int]]:
    """{group key: (label, people, learning, teaching)} with one GROUP BY query per measure."""
    in_programme = and_(
        Person.team_id == team_id,
        Person.forgotten_at.is_(None),
        Person.deactivated_at.is_(None),
        Person.profile_completed_at.is_not(None),
    )
    people = session.execute(select(key, label, func.count()).where(in_programme).group_by(key)).all()
    figures: dict[Any, list[Any]] = {group: [name, count, 0, 0] for group, name, count in people}
    for index, side in ((2, Pairing.learner_id), (3, Pairing.teacher_id)):
        rows = session.execute(
            select(key, label, func.count(Pairing.id))
            .join(Pairing, side == Person.id)
            .where(Pairing.team_id == team_id, _within(Pairing.proposed_at, since, until))
            .group_by(key)
        ).all()
        for group, name, count in rows:
            figures.setdefault(group, [name, 0, 0, 0])[index] = count
    return {group: (values[0], values[1], values[2], values[3]) for group, values in figures.items()}


def _by_career_stage(
    session: Session, *, team_id: str, since: datetime | None, until: datetime
) -> tuple[GroupFigures, ...]:
    figures = _group_figures(
        session,
        team_id=team_id,
        since=since,
        until=until,
        key=Person.career_stage,
        label=func.min(Person.career_stage),
    )
    ordered = [stage for stage in CareerStage if stage in figures]
    if None in figures:
        ordered.append(None)
    return tuple(
        GroupFigures(
            stage.label.capitalize() if stage else NOT_GIVEN,
            figures[stage][1],
            figures[stage][2],
            figures[stage][3],
        )
        for stage in ordered
    )


def _by_department(
    session: Session, *, team_id: str, since: datetime | None, until: datetime
) -> tuple[GroupFigures, ...]:
    # People type their department: "Finance" and "finance" are one group, shown as one spelling.
    key = func.lower(func.trim(Person.department))
    figures = _group_figures(
        session, team_id=team_id, since=since, until=until, key=key, label=func.min(Person.department)
    )
    groups = [
        GroupFigures(((name or "").strip() if group else "") or NOT_GIVEN, people, learning, teaching)
        for group, (name, people, learning, teaching) in figures.items()
    ]
    return tuple(sorted(groups, key=lambda g: (g.name == NOT_GIVEN, -g.people, -g.learning, g.name.lower())))


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
