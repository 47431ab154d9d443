"""Topics colleagues wish to learn that no session covers yet, and nudges to those who could teach them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import LunchSession, LunchStatus, LunchSuggestion, Person, Skill, Topic, Wish, WishStatus

DEMAND_LIMIT = 5
SUGGESTION_COOLDOWN = timedelta(days=30)


@dataclass(frozen=True)
class TopicDemand:
    topic: Topic
    wishers: int
    teachers: int


def _active(person_id_column: Any) -> Any:
    return person_id_column.in_(
        select(Person.id).where(Person.deactivated_at.is_(None), Person.forgotten_at.is_(None))
    )


def topics_in_demand(
    session: Session, *, team_id: str, now: datetime, limit: int = DEMAND_LIMIT, minimum: int = 1
) -> list[TopicDemand]:
    """Topics with the most open wishes (and no session already coming up on them)."""
    wish_counts = (
        select(Wish.topic_id, func.count(Wish.id).label("wishers"))
        .where(Wish.team_id == team_id, Wish.status == WishStatus.OPEN, _active(Wish.person_id))
        .group_by(Wish.topic_id)
        .subquery()
    )
    teacher_counts = (
        select(Skill.topic_id, func.count(Skill.id).label("teachers"))
        .join(Person, Person.id == Skill.person_id)
        .where(Skill.team_id == team_id, Person.paused.is_(False), _active(Skill.person_id))
        .group_by(Skill.topic_id)
        .subquery()
    )
    planned = select(LunchSession.topic_id).where(
        LunchSession.team_id == team_id,
        LunchSession.status == LunchStatus.SCHEDULED,
        LunchSession.starts_at > now,
        LunchSession.topic_id.is_not(None),
    )
    rows = session.execute(
        select(Topic, wish_counts.c.wishers, func.coalesce(teacher_counts.c.teachers, 0))
        .join(wish_counts, wish_counts.c.topic_id == Topic.id)
        .outerjoin(teacher_counts, teacher_counts.c.topic_id == Topic.id)
        .where(wish_counts.c.wishers >= minimum, Topic.id.not_in(planned))
        .order_by(wish_counts.c.wishers.desc(), Topic.display_name, Topic.id)
        .limit(limit)
    )
    return [TopicDemand(topic, int(wishers), int(teachers)) for topic, wishers, teachers in rows]


@dataclass(frozen=True)
class SuggestionPick:
    suggestion: LunchSuggestion
    topic: Topic
    teacher: Person
    wishers: int


def suggest_sessions(
    session: Session, *, team_id: str, threshold: int, now: datetime, limit: int = 20
) -> list[SuggestionPick]:
    """Demand-driven nudges: for each topic enough people wish for, the best-placed teacher.

    Junior teaches senior: the teacher at the earliest career stage goes first, then the higher skill
    level, then the earliest to join. Nobody hears about the same topic more than once a month, a topic
    is suggested at most once a week, and a teacher gets at most one nudge per run.
    """
    picks: list[SuggestionPick] = []
    nudged: set[int] = set()
    for demand in topics_in_demand(session, team_id=team_id, now=now, limit=limit, minimum=max(1, threshold)):
        if demand.teachers == 0 or _suggested_since(session, demand.topic, now - timedelta(days=7)):
            continue
        recent = set(
            session.scalars(
                select(LunchSuggestion.person_id).where(
                    LunchSuggestion.topic_id == demand.topic.id,
                    LunchSuggestion.suggested_at > now - SUGGESTION_COOLDOWN,
                )
            )
        )
        wishing = set(
            session.scalars(
                select(Wish.person_id).where(Wish.topic_id == demand.topic.id, Wish.status == WishStatus.OPEN)
            )
        )
        for _skill, teacher in _teachers(session, demand.topic):
            if teacher.id in recent or teacher.id in nudged or teacher.id in wishing:
                continue
            suggestion = LunchSuggestion(
                team_id=team_id, person_id=teacher.id, topic_id=demand.topic.id, suggested_at=now
            )
            session.add(suggestion)
            session.flush()
            nudged.add(teacher.id)
            picks.append(SuggestionPick(suggestion, demand.topic, teacher, demand.wishers))
            break
    return picks


def _suggested_since(session: Session, topic: Topic, since: datetime) -> bool:
    return bool(
        session.scalar(
            select(LunchSuggestion.id)
            .where(LunchSuggestion.topic_id == topic.id, LunchSuggestion.suggested_at > since)
            .limit(1)
        )
    )


def _teachers(session: Session, topic: Topic) -> list[tuple[Skill, Person]]:
    rows = session.execute(
        select(Skill, Person)
        .join(Person, Person.id == Skill.person_id)
        .where(
            Skill.topic_id == topic.id,
            Person.paused.is_(False),
            Person.deactivated_at.is_(None),
            Person.forgotten_at.is_(None),
        )
    ).all()
    return sorted(
        ((skill, person) for skill, person in rows),
        key=lambda pair: (
            pair[1].career_stage.rank if pair[1].career_stage else 99,
            -pair[0].level.rank,
            pair[1].id,
        ),
    )


def suggestion_for(session: Session, *, person: Person, suggestion_id: int | None) -> LunchSuggestion | None:
    if suggestion_id is None:
        return None
    suggestion = session.get(LunchSuggestion, suggestion_id)
    if suggestion is None or suggestion.person_id != person.id:
        return None
    return suggestion


def link_suggestions(session: Session, lunch: LunchSession, *, now: datetime) -> None:
    """The session answers a recent demand-driven suggestion: remember it (see topics_in_demand)."""
    for suggestion in session.scalars(
        select(LunchSuggestion).where(
            LunchSuggestion.team_id == lunch.team_id,
            LunchSuggestion.topic_id == lunch.topic_id,
            LunchSuggestion.session_id.is_(None),
            LunchSuggestion.suggested_at > now - SUGGESTION_COOLDOWN,
        )
    ):
        suggestion.session_id = lunch.id
