"""A workspace's weekly matching round: load the data, solve, store pairings, queue the DMs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.services import matching, profiles
from bot.services.matching import Match, RoundInput, RoundResult, UnmatchedReason
from bot.services.programme import latest_matching_round, round_key
from models import (
    CareerStage,
    MatchingRound,
    Pairing,
    PairingBlock,
    PairingStatus,
    Person,
    ProgrammeSettings,
    Skill,
    Topic,
    Wish,
    WishStatus,
)

# After this many proposals left unanswered in a row we ask before proposing again.
UNANSWERED_LIMIT = 3

UNMATCHED_TEXT = {
    UnmatchedReason.NO_TEACHER: "nobody teaches {topic} yet",
    UnmatchedReason.ALL_EXCLUDED: (
        "the colleagues who teach {topic} have been paired with you already (ask for one by name to "
        "meet them again)"
    ),
    UnmatchedReason.STRICT_REVERSE: (
        "this round pairs only junior-teaches-senior, and everyone who teaches {topic} is as senior as you"
    ),
    UnmatchedReason.TEACHERS_BUSY: "everyone who teaches {topic} is busy this week",
    UnmatchedReason.LEARNING_ANOTHER: "you were paired for another topic this round",
}


@dataclass(frozen=True)
class RoundPlan:
    round_input: RoundInput
    result: RoundResult
    people: dict[int, Person]
    topics: dict[int, Topic]
    wishes: dict[int, Wish]

    @property
    def notes(self) -> dict[int, str]:
        return {wish_id: wish.note for wish_id, wish in self.wishes.items() if wish.note}

    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.label for stage in CareerStage)

    def explain(self, match: Match, *, reader_id: int | None) -> str:
        return matching.explain(
            match, self.round_input, reader_id=reader_id, notes=self.notes, stage_names=self.stage_names()
        )

    def describe(self, match: Match) -> str:
        return matching.describe_match(
            match, self.round_input, notes=self.notes, stage_names=self.stage_names()
        )


@dataclass(frozen=True)
class RoundSummary:
    round_key: str
    created: bool  # False when this week's round had already run (a re-run is a no-op)
    pairings: list[Pairing] = field(default_factory=list)
    # Wishes to tell "not this week, and why": one per learner left without any pairing.
    unmatched: list[tuple[Wish, UnmatchedReason]] = field(default_factory=list)
    unmatched_wishes: int = 0


def plan_round(session: Session, *, team_id: str, settings: ProgrammeSettings, now: datetime) -> RoundPlan:
    """Everything the solver needs, read from the database, and its answer. Stores nothing."""
    people = {
        person.id: person
        for person in session.scalars(select(Person).where(Person.team_id == team_id))
        if person.is_available(now) and person.unanswered_streak < UNANSWERED_LIMIT and person.career_stage
    }
    open_pairings = list(
        session.scalars(
            select(Pairing).where(
                Pairing.team_id == team_id, Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE])
            )
        )
    )
    # In an exchange both people learn and both teach.
    teaching = Counter(pairing.teacher_id for pairing in open_pairings)
    teaching.update(pairing.learner_id for pairing in open_pairings if pairing.is_exchange)
    learning = {pairing.learner_id for pairing in open_pairings}
    learning.update(pairing.teacher_id for pairing in open_pairings if pairing.is_exchange)
    wishes = {
        wish.id: wish
        for wish in session.scalars(
            select(Wish).where(
                Wish.team_id == team_id, Wish.status == WishStatus.OPEN, Wish.person_id.in_(people)
            )
        )
    }
    skills = list(session.scalars(select(Skill).where(Skill.team_id == team_id, Skill.person_id.in_(people))))
    topics = {topic.id: topic for topic in session.scalars(select(Topic).where(Topic.team_id == team_id))}
    history = session.execute(
        select(
            Pairing.learner_id,
            Pairing.teacher_id,
            Pairing.topic_id,
            Pairing.exchange_topic_id,
            Pairing.proposed_at,
        ).where(Pairing.team_id == team_id)
    ).all()
    past = {(learner, teacher, topic) for learner, teacher, topic, _back, _at in history}
    past |= {(teacher, learner, back) for learner, teacher, _topic, back, _at in history if back is not None}
    window_start = now - timedelta(weeks=settings.repeat_window_weeks)
    recent = {frozenset((learner, teacher)) for learner, teacher, _t, _b, at in history if at >= window_start}
    blocks = session.execute(
        select(PairingBlock.person_id, PairingBlock.blocked_person_id).where(PairingBlock.team_id == team_id)
    ).all()
    round_input = RoundInput(
        people={
            person.id: _person_input(
                person,
                teaching_slots=max(person.capacity - teaching[person.id], 0),
                can_learn=person.id not in learning,
            )
            for person in people.values()
        },
        wishes=[_wish_input(wish, now=now) for wish in wishes.values()],
        skills=[_skill_input(skill) for skill in skills],
        topic_names={topic.id: topic.display_name for topic in topics.values()},
        past_pairs=past,
        blocked_pairs={frozenset(pair) for pair in blocks},
        recent_partners=recent,
        current_pairs={frozenset((p.learner_id, p.teacher_id)) for p in open_pairings},
        strict_reverse=settings.strict_reverse,
    )
    return RoundPlan(round_input, matching.solve_round(round_input), people, topics, wishes)


def _person_input(person: Person, *, teaching_slots: int, can_learn: bool) -> matching.PersonInput:
    assert person.career_stage is not None
    return matching.PersonInput(
        id=person.id,
        name=person.display_name,
        career_stage=person.career_stage.rank,
        department=person.department or None,
        teaching_slots=teaching_slots,
        can_learn=can_learn,
        utc_offset_minutes=person.tz_offset_seconds // 60,
    )


def _wish_input(wish: Wish, *, now: datetime) -> matching.WishInput:
    return matching.WishInput(
        id=wish.id,
        person_id=wish.person_id,
        topic_id=wish.topic_id,
        waited_days=max((now - wish.created_at).days, 0),
        requested_teacher_id=wish.requested_teacher_id,
    )


def _skill_input(skill: Skill) -> matching.SkillInput:
    return matching.SkillInput(
        id=skill.id, person_id=skill.person_id, topic_id=skill.topic_id, level=skill.level.rank
    )


def plan_one(
    session: Session, *, wish: Wish, teacher: Person, settings: ProgrammeSettings, now: datetime
) -> tuple[RoundPlan, Match]:
    """A one-way match of this wish with this teacher, outside a round (a next-teacher offer),
    scored and explainable like a round's. The caller has checked the teacher may teach it
    (bot.services.availability.teachers_for); this only describes the pair."""
    learner = session.get(Person, wish.person_id)
    skill = session.scalars(
        select(Skill).where(Skill.person_id == teacher.id, Skill.topic_id == wish.topic_id)
    ).one()
    topics = {topic.id: topic for topic in session.scalars(select(Topic).where(Topic.id == wish.topic_id))}
    people = {person.id: person for person in (learner, teacher)}
    round_input = RoundInput(
        people={
            person.id: _person_input(person, teaching_slots=1, can_learn=True) for person in people.values()
        },
        wishes=[_wish_input(wish, now=now)],
        skills=[_skill_input(skill)],
        topic_names={topic.id: topic.display_name for topic in topics.values()},
    )
    [proposal] = matching.make_proposals(round_input, [(round_input.wishes[0], round_input.skills[0])])
    result = RoundResult(proposals=[proposal], unmatched={})
    return RoundPlan(round_input, result, people, topics, {wish.id: wish}), Match(proposal)


def run_round(
    session: Session,
    *,
    team_id: str,
    defaults: ProgrammeDefaults,
    now: datetime,
    force_key: str | None = None,
) -> RoundSummary:
    """Run this week's round once: a second call in the same week (another process, a retry) is a
    no-op thanks to the unique (team, round key). The caller queues the DMs in the same
    transaction (bot.delivery.pairing_notices), so pairings and their messages commit together."""
    settings = profiles.programme_settings(session, team_id=team_id, defaults=defaults)
    key = force_key or round_key(settings, now=now)
    if session.scalar(
        select(MatchingRound).where(MatchingRound.team_id == team_id, MatchingRound.round_key == key)
    ):
        return RoundSummary(key, created=False)
    matching_round = MatchingRound(team_id=team_id, round_key=key, started_at=now)
    try:
        with session.begin_nested():
            session.add(matching_round)
    except IntegrityError:  # another process won the race for this week
        return RoundSummary(key, created=False)
    plan = plan_round(session, team_id=team_id, settings=settings, now=now)
    created = [
        propose(session, plan, match, settings=settings, round_id=matching_round.id, now=now)
        for match in plan.result.matches
    ]
    session.flush()
    matched_learners = {proposal.learner_id for proposal in plan.result.proposals}
    unmatched = [
        (plan.wishes[wish_id], reason)
        for wish_id, reason in sorted(plan.result.unmatched.items())
        if plan.wishes[wish_id].person_id not in matched_learners
        and reason != UnmatchedReason.LEARNING_ANOTHER
    ]
    matching_round.proposals_count = len(created)
    matching_round.unmatched_count = len(plan.result.unmatched)
    matching_round.finished_at = now
    return RoundSummary(key, True, created, unmatched, len(plan.result.unmatched))


def propose(
    session: Session,
    plan: RoundPlan,
    match: Match,
    *,
    settings: ProgrammeSettings,
    round_id: int | None,
    now: datetime,
) -> Pairing:
    """Store one match as a proposed Pairing (an exchange is one pairing), with each side's
    reasons in words. The caller queues its proposal DMs (pairing_notices.enqueue_proposal)."""
    main, back = match.main, match.back
    learner, teacher = plan.people[main.learner_id], plan.people[main.teacher_id]
    expiry = timedelta(days=settings.proposal_expiry_days)
    pairing = Pairing(
        team_id=learner.team_id,
        round_id=round_id,
        learner_id=learner.id,
        teacher_id=teacher.id,
        topic_id=main.topic_id,
        wish_id=main.wish_id,
        skill_id=main.skill_id,
        exchange_topic_id=back.topic_id if back else None,
        exchange_wish_id=back.wish_id if back else None,
        exchange_skill_id=back.skill_id if back else None,
        score=round(match.score, 4),
        explanation=plan.explain(match, reader_id=learner.id),
        teacher_explanation=plan.explain(match, reader_id=teacher.id),
        is_reverse=teacher.career_stage.rank < learner.career_stage.rank,
        is_cross_department=_departments_differ(learner, teacher),
        proposed_at=now,
        expires_at=now + expiry,
        reminder_due_at=now + expiry / 2,
    )
    session.add(pairing)
    return pairing


def _departments_differ(a: Person, b: Person) -> bool:
    return bool(a.department and b.department and a.department.casefold() != b.department.casefold())


def due_round_key(
    session: Session, *, team_id: str, defaults: ProgrammeDefaults, now: datetime
) -> str | None:
    """The key of the latest scheduled round if it has not run yet, else None. A clock that was
    down past one or more round times runs the latest one once when it returns, late, under
    that round's own week key: the missed weeks are not replayed one by one."""
    settings = profiles.programme_settings(session, team_id=team_id, defaults=defaults)
    latest = latest_matching_round(settings, now=now)
    key = round_key(settings, now=latest)
    ran = session.scalar(
        select(MatchingRound.id).where(MatchingRound.team_id == team_id, MatchingRound.round_key == key)
    )
    # A round scheduled before the workspace installed Flipside is not owed to anyone.
    installed = settings.workspace.installed_at if settings.workspace is not None else None
    return None if ran or (installed is not None and installed > latest) else key


def due_for_round(session: Session, *, team_id: str, defaults: ProgrammeDefaults, now: datetime) -> bool:
    """Whether a scheduled round time has passed and that round has not run yet."""
    return due_round_key(session, team_id=team_id, defaults=defaults, now=now) is not None


def preview_round(
    session: Session, *, team_id: str, settings_defaults: ProgrammeDefaults, now: datetime
) -> str:
    """The dry run as plain text: pairs in the third person with their reasons as phrases, and
    who stays unmatched and why. No scores: they mean nothing to people."""
    settings = profiles.programme_settings(session, team_id=team_id, defaults=settings_defaults)
    plan = plan_round(session, team_id=team_id, settings=settings, now=now)
    matches = plan.result.matches
    exchanges = sum(match.back is not None for match in matches)
    requested = sum(proposal.requested for proposal in plan.result.proposals)
    lines = [
        f"Matching round preview for {team_id} ({round_key(settings, now=now)}): "
        f"{len(matches)} pairings ({exchanges} exchanges, {requested} teachers asked for by name), "
        f"{len(plan.result.unmatched)} wishes unmatched"
        + (" [strict reverse mode]" if settings.strict_reverse else "")
    ]
    for match in sorted(matches, key=lambda m: (-m.score, m.main.wish_id)):
        lines.append(f"  {plan.describe(match)}")
    if plan.result.unmatched:
        lines.append("Unmatched:")
        for wish_id, reason in sorted(plan.result.unmatched.items()):
            wish = plan.wishes[wish_id]
            learner = plan.people[wish.person_id]
            why = _third_person(UNMATCHED_TEXT[reason].format(topic=plan.topics[wish.topic_id].display_name))
            lines.append(f"  {learner.display_name}: {plan.topics[wish.topic_id].display_name}: {why}")
    return "\n".join(lines)


def _third_person(why: str) -> str:
    """The unmatched reasons are written to the learner; the dry run speaks about them."""
    return (
        why.replace("with you", "with them").replace("as senior as you", "as senior as they are")
        .replace("you were", "they were").replace("(ask for one by name", "(they can ask for one by name")
    )  # fmt: skip


def run_extra_round(
    session: Session, *, team_id: str, defaults: ProgrammeDefaults, now: datetime
) -> RoundSummary:
    """An admin's "run round now": an extra round keyed by the minute, apart from the weekly one."""
    return run_round(
        session, team_id=team_id, defaults=defaults, now=now, force_key=f"manual-{now:%Y%m%dT%H%M}"
    )
