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
from bot.services.matching import RoundInput, RoundResult, UnmatchedReason
from bot.services.programme import next_matching_round, round_key
from models import (
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
    UnmatchedReason.ALL_EXCLUDED: "the colleagues who teach {topic} have been paired with you already",
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
    teaching = Counter(pairing.teacher_id for pairing in open_pairings)
    learning = {pairing.learner_id for pairing in open_pairings}
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
    past = session.execute(
        select(Pairing.learner_id, Pairing.teacher_id, Pairing.topic_id).where(Pairing.team_id == team_id)
    ).all()
    blocks = session.execute(
        select(PairingBlock.person_id, PairingBlock.blocked_person_id).where(PairingBlock.team_id == team_id)
    ).all()
    round_input = RoundInput(
        people={
            person.id: matching.PersonInput(
                id=person.id,
                name=person.display_name,
                career_stage=person.career_stage.rank,
                department=person.department or None,
                teaching_slots=max(person.capacity - teaching[person.id], 0),
                can_learn=person.id not in learning,
                utc_offset_minutes=person.tz_offset_seconds // 60,
            )
            for person in people.values()
        },
        wishes=[
            matching.WishInput(
                id=wish.id,
                person_id=wish.person_id,
                topic_id=wish.topic_id,
                waited_days=max((now - wish.created_at).days, 0),
            )
            for wish in wishes.values()
        ],
        skills=[
            matching.SkillInput(
                id=skill.id, person_id=skill.person_id, topic_id=skill.topic_id, level=skill.level.rank
            )
            for skill in skills
        ],
        topic_names={topic.id: topic.display_name for topic in topics.values()},
        past_pairs={(learner, teacher, topic) for learner, teacher, topic in past},
        blocked_pairs={frozenset(pair) for pair in blocks},
        current_pairs={frozenset((p.learner_id, p.teacher_id)) for p in open_pairings},
        strict_reverse=settings.strict_reverse,
    )
    return RoundPlan(round_input, matching.solve_round(round_input), people, topics, wishes)


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
    expiry = timedelta(days=settings.proposal_expiry_days)
    created: list[Pairing] = []
    for proposal in plan.result.proposals:
        learner, teacher = plan.people[proposal.learner_id], plan.people[proposal.teacher_id]
        pairing = Pairing(
            team_id=team_id,
            round_id=matching_round.id,
            learner_id=learner.id,
            teacher_id=teacher.id,
            topic_id=proposal.topic_id,
            wish_id=proposal.wish_id,
            skill_id=proposal.skill_id,
            exchange_topic_id=proposal.exchange_topic_id,
            score=round(proposal.score, 4),
            explanation=matching.explain(proposal, plan.round_input),
            is_reverse=teacher.career_stage.rank < learner.career_stage.rank,
            is_cross_department=_departments_differ(learner, teacher),
            proposed_at=now,
            expires_at=now + expiry,
            reminder_due_at=now + expiry / 2,
        )
        session.add(pairing)
        created.append(pairing)
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


def _departments_differ(a: Person, b: Person) -> bool:
    return bool(a.department and b.department and a.department.casefold() != b.department.casefold())


def due_for_round(session: Session, *, team_id: str, defaults: ProgrammeDefaults, now: datetime) -> bool:
    """Whether this week's round time has passed and the round has not run yet."""
    settings = profiles.programme_settings(session, team_id=team_id, defaults=defaults)
    this_week_round = next_matching_round(settings, now=now - timedelta(days=7))
    if this_week_round > now or round_key(settings, now=this_week_round) != round_key(settings, now=now):
        return False
    key = round_key(settings, now=now)
    return not session.scalar(
        select(MatchingRound.id).where(MatchingRound.team_id == team_id, MatchingRound.round_key == key)
    )


def preview_round(
    session: Session, *, team_id: str, settings_defaults: ProgrammeDefaults, now: datetime
) -> str:
    """The dry run as plain text: pairs, scores, explanations, who stays unmatched and why."""
    settings = profiles.programme_settings(session, team_id=team_id, defaults=settings_defaults)
    plan = plan_round(session, team_id=team_id, settings=settings, now=now)
    lines = [
        f"Matching round preview for {team_id} ({round_key(settings, now=now)}): "
        f"{len(plan.result.proposals)} pairs, {len(plan.result.unmatched)} wishes unmatched, "
        f"total score {plan.result.total_score:.2f}"
        + (" [strict reverse mode]" if settings.strict_reverse else "")
    ]
    for proposal in sorted(plan.result.proposals, key=lambda p: (-p.score, p.wish_id)):
        learner, teacher = plan.people[proposal.learner_id], plan.people[proposal.teacher_id]
        lines.append(
            f"  {teacher.display_name} teaches {learner.display_name} "
            f"{plan.topics[proposal.topic_id].display_name} (score {proposal.score:.2f})"
        )
        lines.append(f"      {matching.explain(proposal, plan.round_input)}")
    if plan.result.unmatched:
        lines.append("Unmatched:")
        for wish_id, reason in sorted(plan.result.unmatched.items()):
            wish = plan.wishes[wish_id]
            learner = plan.people[wish.person_id]
            why = UNMATCHED_TEXT[reason].format(topic=plan.topics[wish.topic_id].display_name)
            lines.append(f"  {learner.display_name}: {plan.topics[wish.topic_id].display_name}: {why}")
    return "\n".join(lines)


def run_extra_round(
    session: Session, *, team_id: str, defaults: ProgrammeDefaults, now: datetime
) -> RoundSummary:
    """An admin's "run round now": an extra round keyed by the minute, apart from the weekly one."""
    return run_round(
        session, team_id=team_id, defaults=defaults, now=now, force_key=f"manual-{now:%Y%m%dT%H%M}"
    )
