"""What people want to learn (wishes) and can teach (skills)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.topics import (
    ResolvedTopic,
    TopicError,
    TopicMatch,
    accept_topic,
    clean_text,
    match_topic,
    split_topics,
)
from models import NOTE_MAX_LENGTH, Person, Skill, SkillLevel, Topic, Wish, WishStatus

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
