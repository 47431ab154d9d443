"""Who could teach a topic right now, and why each open wish is still open.

One definition shared by the `/teachme` suggestions, the assistant's "who can teach me …?", the
"your wish is waiting because …" notices and the programme figures, so they never disagree.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select
from sqlalchemy.orm import Session

from models import Pairing, PairingBlock, PairingStatus, Person, Skill, SkillLevel, Wish, WishStatus


class WaitReason(enum.StrEnum):
    """Why an open wish is still open, in the order they are checked."""

    IN_PAIRING = "in_pairing"  # proposed or being learned in a pairing now (one-way or an exchange)
    LEARNING_ANOTHER = "learning_another"  # the learner is learning another topic: one at a time
    PROFILE_UNFINISHED = "profile_unfinished"  # the learner has no career stage or profile yet
    LEARNER_AWAY = "learner_away"  # the learner is paused, snoozed or has left
    NO_TEACHER = "no_teacher"  # nobody else teaches the topic (or only people they blocked)
    TEACHERS_BUSY = "teachers_busy"  # its teachers are away or have no free capacity
    NEXT_ROUND = "next_round"  # someone could teach it: it enters the next round


EMPTY: frozenset[int] = frozenset()


@dataclass(frozen=True)
class TeacherOption:
    person: Person
    level: SkillLevel
    free_slots: int


def _blocked_with(session: Session, *, team_id: str, person_id: int) -> set[int]:
    rows = session.execute(
        select(PairingBlock.person_id, PairingBlock.blocked_person_id).where(
            PairingBlock.team_id == team_id,
            or_(PairingBlock.person_id == person_id, PairingBlock.blocked_person_id == person_id),
        )
    ).all()
    return {other for pair in rows for other in pair if other != person_id}


def _open_teaching_counts(
    session: Session, *, team_id: str, teacher_ids: Iterable[int] | None = None
) -> Counter[int]:
    """Open (proposed or active) pairings each person teaches in: in a two-way exchange the
    learner teaches too. One query."""
    query = select(Pairing.teacher_id, Pairing.learner_id, Pairing.exchange_topic_id).where(
        Pairing.team_id == team_id, Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE])
    )
    if teacher_ids is not None:
        ids = list(teacher_ids)
        query = query.where(
            or_(
                Pairing.teacher_id.in_(ids),
                and_(Pairing.learner_id.in_(ids), Pairing.exchange_topic_id.is_not(None)),
            )
        )
    counts: Counter[int] = Counter()
    for teacher_id, learner_id, exchange_topic_id in session.execute(query):
        counts[teacher_id] += 1
        if exchange_topic_id is not None:
            counts[learner_id] += 1
    return counts


def teachers_for(
    session: Session, *, learner: Person, topic_id: int, now: datetime, limit: int = 3
) -> list[TeacherOption]:
    """Colleagues who could teach `learner` this topic now: available (not paused, snoozed, gone,
    and with a finished profile), not blocked either way, not the learner, with free capacity.
    Best first: the highest skill level, then the most free capacity, then the name."""
    # Person.is_available's test in SQL too, so only people who could teach now are loaded (every
    # /teachme reply asks this for each new topic); the level alone, not the Skill with its topic.
    skills = session.execute(
        select(Skill.level, Person)
        .join(Person, Person.id == Skill.person_id)
        .where(
            Skill.team_id == learner.team_id,
            Skill.topic_id == topic_id,
            Skill.person_id != learner.id,
            Person.paused.is_(False),
            Person.deactivated_at.is_(None),
            Person.forgotten_at.is_(None),
            Person.profile_completed_at.is_not(None),
            or_(Person.snoozed_until.is_(None), Person.snoozed_until <= now),
        )
    ).all()
    blocked = _blocked_with(session, team_id=learner.team_id, person_id=learner.id)
    candidates = [
        (level, person) for level, person in skills if person.id not in blocked and person.is_available(now)
    ]
    busy = _open_teaching_counts(session, team_id=learner.team_id, teacher_ids=[p.id for _, p in candidates])
    options = [
        TeacherOption(person, level, person.capacity - busy[person.id])
        for level, person in candidates
        if person.capacity - busy[person.id] > 0
    ]
    options.sort(key=lambda o: (-o.level.rank, -o.free_slots, o.person.display_name.casefold(), o.person.id))
    return options[:limit]


def _plain_rows(connection: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """Rows of plain integers as the driver's tuples: for tens of thousands of rows, building
    SQLAlchemy Row objects costs more than the query (no column here needs a type conversion)."""
    result = connection.execute(query)
    try:
        return result.cursor.fetchall()  # type: ignore[attr-defined]
    finally:
        result.close()


def open_wish_reasons(session: Session, *, team_id: str, now: datetime) -> dict[int, WaitReason]:
    """Every open wish of the workspace, with why it is open. A fixed number of queries, and about
    constant work per wish (sets per topic), so 50,000 wishes take a fraction of a second."""
    # Only what Person.is_available reads, named as it names them (the dates it only tests for
    # being set come as booleans): loading 10,000 full Person objects would cost more than the rest.
    connection = session.connection()  # Core rows: the ORM's row loading would cost as much again
    people = {
        row.id: row
        for row in connection.execute(
            select(
                Person.id,
                Person.career_stage.is_not(None).label("has_stage"),
                Person.capacity,
                Person.paused,
                Person.snoozed_until,
                Person.deactivated_at.is_not(None).label("deactivated_at"),
                Person.forgotten_at.is_not(None).label("forgotten_at"),
                Person.profile_completed_at.is_not(None).label("has_profile"),
            ).where(Person.team_id == team_id)
        ).all()
    }
    wishes = _plain_rows(
        connection,
        select(Wish.id, Wish.person_id, Wish.topic_id).where(
            Wish.team_id == team_id, Wish.status == WishStatus.OPEN
        ),
    )
    busy = _open_teaching_counts(session, team_id=team_id)
    open_pairings = (
        Pairing.team_id == team_id,
        Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]),
    )
    in_pairing: set[int] = set()
    learning: set[int] = set()  # as the round sees it: a learner, or either side of an exchange
    for wish_id, exchange_wish_id, learner_id, teacher_id in connection.execute(
        select(Pairing.wish_id, Pairing.exchange_wish_id, Pairing.learner_id, Pairing.teacher_id).where(
            *open_pairings
        )
    ):
        in_pairing.update(w for w in (wish_id, exchange_wish_id) if w is not None)
        learning.update((learner_id, teacher_id) if exchange_wish_id is not None else (learner_id,))
    available = {person_id: Person.is_available(row, now) for person_id, row in people.items()}  # type: ignore[arg-type]
    free = {
        person_id
        for person_id, row in people.items()
        if available[person_id] and row.capacity - busy[person_id] > 0
    }
    teachers_by_topic: dict[int, set[int]] = defaultdict(set)
    for person_id, topic_id in _plain_rows(
        connection, select(Skill.person_id, Skill.topic_id).where(Skill.team_id == team_id)
    ):
        teachers_by_topic[topic_id].add(person_id)
    free_by_topic = {topic_id: teachers & free for topic_id, teachers in teachers_by_topic.items()}
    blocked: dict[int, set[int]] = defaultdict(set)
    for a, b in connection.execute(
        select(PairingBlock.person_id, PairingBlock.blocked_person_id).where(PairingBlock.team_id == team_id)
    ):
        blocked[a].add(b)
        blocked[b].add(a)

    def others(pool: Set[int], learner_id: int) -> int:
        """|pool - the learner - whom they block either way|, without copying the pool."""
        mine = blocked.get(learner_id)
        if not mine:
            return len(pool) - (learner_id in pool)
        return len(pool) - sum(1 for person_id in mine | {learner_id} if person_id in pool)

    unfinished = {person_id for person_id, row in people.items() if not (row.has_profile and row.has_stage)}
    reasons: dict[int, WaitReason] = {}
    for wish_id, learner_id, topic_id in wishes:
        if wish_id in in_pairing:
            reasons[wish_id] = WaitReason.IN_PAIRING
        elif learner_id in unfinished:
            reasons[wish_id] = WaitReason.PROFILE_UNFINISHED
        elif not available[learner_id]:
            reasons[wish_id] = WaitReason.LEARNER_AWAY
        elif learner_id in learning:
            reasons[wish_id] = WaitReason.LEARNING_ANOTHER
        else:
            if not others(teachers_by_topic.get(topic_id, EMPTY), learner_id):
                reasons[wish_id] = WaitReason.NO_TEACHER
            elif not others(free_by_topic.get(topic_id, EMPTY), learner_id):
                reasons[wish_id] = WaitReason.TEACHERS_BUSY
            else:
                reasons[wish_id] = WaitReason.NEXT_ROUND
    return reasons
