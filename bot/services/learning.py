"""What people want to learn (wishes) and can teach (skills)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.services.availability import TeacherOption, teachers_for
from bot.services.topics import (
    ResolvedTopic,
    TopicError,
    TopicMatch,
    accept_topic,
    clean_text,
    match_topic,
    split_topics,
)
from models import NOTE_MAX_LENGTH, PairingBlock, Person, Skill, SkillLevel, Topic, Wish, WishStatus

MAX_WISHES = 20
MAX_SKILLS = 20
MAX_TOPICS_PER_COMMAND = 10


@dataclass
class AddOutcome:
    """What one /teachme or /canteach did, topic by topic, for the reply."""

    added: list[ResolvedTopic] = field(default_factory=list)
    already: list[Topic] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (typed text, why)

    @property
    def topics(self) -> list[Topic]:
        return [resolved.topic for resolved in self.added] + self.already


def open_wishes(session: Session, person: Person) -> list[Wish]:
    return list(
        session.scalars(
            select(Wish)
            .where(Wish.person_id == person.id, Wish.status == WishStatus.OPEN)
            .order_by(Wish.created_at, Wish.id)
        )
    )


def skills_of(session: Session, person: Person) -> list[Skill]:
    return list(session.scalars(select(Skill).where(Skill.person_id == person.id).order_by(Skill.id)))


def clean_note(raw: str | None) -> str | None:
    note = clean_text(raw or "")
    if len(note) > NOTE_MAX_LENGTH:
        raise TopicError(f"Keep the note under {NOTE_MAX_LENGTH} characters (it has {len(note)}).")
    return note or None


def _matched_topics(session: Session, person: Person, raw: str, *, empty_hint: str, outcome: AddOutcome):
    """Each typed topic matched to a shared Topic (or to one to create once the wish or skill is
    taken); unusable ones go to `outcome.rejected`."""
    typed_topics = split_topics(raw)
    if not typed_topics:
        raise TopicError(empty_hint)
    if len(typed_topics) > MAX_TOPICS_PER_COMMAND:
        raise TopicError(f"That's a lot at once: add up to {MAX_TOPICS_PER_COMMAND} topics in one go.")
    for typed in typed_topics:
        try:
            yield typed, match_topic(session, team_id=person.team_id, typed=typed)
        except TopicError as error:
            outcome.rejected.append((typed, str(error)))


def add_wishes(
    session: Session, person: Person, raw: str, *, note: str | None = None, now: datetime
) -> AddOutcome:
    outcome = AddOutcome()
    cleaned_note = clean_note(note)
    count = len(open_wishes(session, person))
    hint = "Tell me what you want to learn, e.g. `/teachme social media`."
    for typed, match in _matched_topics(session, person, raw, empty_hint=hint, outcome=outcome):
        wish = _own(session, Wish, person, match)
        if wish is not None and wish.status == WishStatus.OPEN:
            wish.note = cleaned_note or wish.note
            outcome.already.append(accept_topic(session, team_id=person.team_id, match=match).topic)
        elif count >= MAX_WISHES:
            outcome.rejected.append((typed, f"you already have {MAX_WISHES} open wishes; remove one first"))
        else:
            resolved = accept_topic(session, team_id=person.team_id, match=match)
            if wish is None:
                wish = Wish(team_id=person.team_id, person_id=person.id, topic_id=resolved.topic.id)
                session.add(wish)
            # New, or a wish met or withdrawn before that comes back: it waits from now.
            wish.status, wish.closed_at, wish.created_at, wish.note = WishStatus.OPEN, None, now, cleaned_note
            count += 1
            outcome.added.append(resolved)
    session.flush()
    return outcome


def add_skills(
    session: Session, person: Person, raw: str, *, level: SkillLevel = SkillLevel.CONFIDENT, now: datetime
) -> AddOutcome:
    outcome = AddOutcome()
    count = len(skills_of(session, person))
    hint = "Tell me what you can teach, e.g. `/canteach excel pivot tables`."
    for typed, match in _matched_topics(session, person, raw, empty_hint=hint, outcome=outcome):
        skill = _own(session, Skill, person, match)
        if skill is not None:
            skill.level = level
            outcome.already.append(accept_topic(session, team_id=person.team_id, match=match).topic)
        elif count >= MAX_SKILLS:
            outcome.rejected.append((typed, f"you already have {MAX_SKILLS} skills; remove one first"))
        else:
            resolved = accept_topic(session, team_id=person.team_id, match=match)
            session.add(
                Skill(
                    team_id=person.team_id,
                    person_id=person.id,
                    topic_id=resolved.topic.id,
                    level=level,
                    created_at=now,
                )
            )
            count += 1
            outcome.added.append(resolved)
    session.flush()
    return outcome


def _own(session: Session, model: type[Wish] | type[Skill], person: Person, match: TopicMatch):
    """The person's wish or skill on the matched topic, if the topic exists and they have one."""
    if match.topic is None:
        return None
    return session.scalar(select(model).where(model.person_id == person.id, model.topic_id == match.topic.id))


def withdraw_wish(session: Session, person: Person, wish_id: int, *, now: datetime) -> bool:
    wish = session.get(Wish, wish_id)
    if wish is None or wish.person_id != person.id or wish.status != WishStatus.OPEN:
        return False
    wish.status, wish.closed_at = WishStatus.WITHDRAWN, now
    return True


def remove_skill(session: Session, person: Person, skill_id: int) -> bool:
    skill = session.get(Skill, skill_id)
    if skill is None or skill.person_id != person.id:
        return False
    session.delete(skill)
    return True


def teacher_counts(session: Session, person: Person, topics: list[Topic]) -> dict[int, int]:
    """How many colleagues (not `person`, not paused or gone) can teach each topic."""
    return _counts(session, Skill.topic_id, Skill.person_id, person, topics)


def learner_counts(session: Session, person: Person, topics: list[Topic]) -> dict[int, int]:
    return _counts(session, Wish.topic_id, Wish.person_id, person, topics, open_only=True)


def _counts(session, topic_column, person_column, person: Person, topics: list[Topic], open_only=False):
    if not topics:
        return {}
    query = (
        select(topic_column, func.count())
        .join(Person, Person.id == person_column)
        .where(
            topic_column.in_([topic.id for topic in topics]),
            Person.id != person.id,
            Person.paused.is_(False),
            Person.deactivated_at.is_(None),
            Person.forgotten_at.is_(None),
        )
        .group_by(topic_column)
    )
    if open_only:
        query = query.where(Wish.status == WishStatus.OPEN)
    counts = {topic.id: 0 for topic in topics}
    counts.update({topic_id: count for topic_id, count in session.execute(query)})
    return counts


# --- a say in the match: colleagues who can teach, and asking for one by name -----------------

SUGGESTED_TEACHERS = 3


@dataclass(frozen=True)
class WishChoices:
    """For the wishes modal: who could teach each wish's topic, and whom the learner asked for."""

    teachers: dict[int, list[TeacherOption]] = field(default_factory=dict)  # topic id -> options
    requested: dict[int, Person] = field(default_factory=dict)  # wish id -> the colleague asked for


def suggested_teachers(
    session: Session, person: Person, topics: list[Topic], *, now: datetime
) -> dict[int, list[TeacherOption]]:
    """Up to three colleagues who can teach each topic now (pause, snooze, leavers, blocks and
    capacity respected: availability.teachers_for)."""
    return {
        topic.id: teachers_for(session, learner=person, topic_id=topic.id, now=now, limit=SUGGESTED_TEACHERS)
        for topic in topics
    }


def wish_choices(session: Session, person: Person, wishes: list[Wish], *, now: datetime) -> WishChoices:
    requested_ids = {wish.requested_teacher_id for wish in wishes if wish.requested_teacher_id}
    people = (
        {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(sorted(requested_ids))))}
        if requested_ids
        else {}
    )
    return WishChoices(
        teachers=suggested_teachers(session, person, [wish.topic for wish in wishes], now=now),
        requested={
            wish.id: people[wish.requested_teacher_id]
            for wish in wishes
            if wish.requested_teacher_id in people
        },
    )


def request_value(topic_id: int, teacher_id: int) -> str:
    """The Ask-for button's value (bot.ids.Action.REQUEST_TEACHER): "<topic id>:<teacher id>"."""
    return f"{topic_id}:{teacher_id}"


class RequestOutcome(enum.StrEnum):
    REQUESTED = "requested"
    CHANGED = "changed"  # another colleague was asked for before: this one now
    ALREADY = "already"  # a second click: nothing changed
    SELF = "self"
    LEFT = "left"  # deactivated or forgotten since the button was drawn
    AWAY = "away"  # paused or snoozed since
    NOT_TEACHING = "not_teaching"  # no longer teaches the topic, or a block either way
    NO_WISH = "no_wish"  # the wish is closed (learned, removed)
    NOT_FOUND = "not_found"  # a forged or broken value


@dataclass(frozen=True)
class TeacherRequest:
    outcome: RequestOutcome
    teacher: Person | None = None
    topic: Topic | None = None
    busy: bool = False  # no free capacity now: preferred once they have room


def request_teacher(session: Session, person: Person, value: str | None, *, now: datetime) -> TeacherRequest:
    """Ask for a colleague by name for one of one's open wishes. The round strongly prefers them,
    never past a block, a pause or their capacity; they learn who asked only from the proposal."""
    try:
        topic_id, teacher_id = (int(part) for part in (value or "").split(":"))
    except ValueError:
        return TeacherRequest(RequestOutcome.NOT_FOUND)
    teacher = session.get(Person, teacher_id)
    topic = session.get(Topic, topic_id)
    if (
        teacher is None
        or topic is None
        or teacher.team_id != person.team_id
        or topic.team_id != person.team_id
    ):
        return TeacherRequest(RequestOutcome.NOT_FOUND)
    if teacher.id == person.id:
        return TeacherRequest(RequestOutcome.SELF, teacher, topic)
    if teacher.deactivated_at is not None or teacher.forgotten_at is not None:
        return TeacherRequest(RequestOutcome.LEFT, teacher, topic)
    wish = session.scalar(
        select(Wish)
        .where(Wish.person_id == person.id, Wish.topic_id == topic.id, Wish.status == WishStatus.OPEN)
        .with_for_update(of=Wish)  # two clicks at once: the second sees the first's choice
    )
    if wish is None:
        return TeacherRequest(RequestOutcome.NO_WISH, teacher, topic)
    teaches = session.scalar(
        select(Skill.id).where(Skill.person_id == teacher.id, Skill.topic_id == topic.id)
    )
    blocked = session.scalar(
        select(PairingBlock.id).where(
            or_(
                (PairingBlock.person_id == person.id) & (PairingBlock.blocked_person_id == teacher.id),
                (PairingBlock.person_id == teacher.id) & (PairingBlock.blocked_person_id == person.id),
            )
        )
    )
    if teaches is None or blocked is not None:
        return TeacherRequest(RequestOutcome.NOT_TEACHING, teacher, topic)
    if not teacher.is_available(now):
        return TeacherRequest(RequestOutcome.AWAY, teacher, topic)
    if wish.requested_teacher_id == teacher.id:
        return TeacherRequest(RequestOutcome.ALREADY, teacher, topic)
    outcome = RequestOutcome.CHANGED if wish.requested_teacher_id else RequestOutcome.REQUESTED
    wish.requested_teacher_id = teacher.id
    free = {
        option.person.id
        for option in teachers_for(session, learner=person, topic_id=topic.id, now=now, limit=200)
    }
    return TeacherRequest(outcome, teacher, topic, busy=teacher.id not in free)
