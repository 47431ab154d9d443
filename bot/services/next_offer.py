"""The next teacher at once: when a teacher declines a proposal, lets it expire or leaves, the
learner's wish goes straight to the next-best colleague who can teach it, scored and explained as
the weekly round would, instead of waiting a week.

Called in the transaction that ended the pairing, so the ending and the next offer commit together.
Exactly one next offer per ended pairing, however many transactions race (two clicks, two job
processes, the round): the wish row is claimed by a conditional UPDATE (`offered_after_pairing_id`),
which on PostgreSQL waits for a concurrent claim to commit and then sees it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.services import matching, profiles, rounds
from bot.services.availability import TeacherOption, teachers_for
from bot.services.programme import next_matching_round
from bot.services.rounds import UNANSWERED_LIMIT
from models import (
    Answer,
    Pairing,
    PairingStatus,
    Person,
    ProgrammeSettings,
    Skill,
    Topic,
    Wish,
    WishStatus,
)

# A wish offered this many times within OFFER_WINDOW waits for the next round: a learner is not
# sent a new proposal every day, and the round may find a better pairing for everyone.
MAX_OFFERS_PER_WEEK = 3
OFFER_WINDOW = timedelta(days=7)

# Enough teachers to find the best one on any realistic topic, few enough to score in a blink.
CANDIDATE_LIMIT = 200


class Step(enum.StrEnum):
    OFFERED = "offered"  # a new proposal to the next teacher
    WAITS_OFFER_LIMIT = "waits_offer_limit"  # offered three times this week: waits for the round
    WAITS_NO_TEACHER = "waits_no_teacher"  # nobody else can take it now: waits for the round
    NOTHING = "nothing"  # not the teacher's doing, the wish is closed, or already handled


@dataclass(frozen=True)
class NextOffer:
    step: Step
    ended: Pairing
    wish: Wish | None = None
    pairing: Pairing | None = None  # the new proposal, when OFFERED
    next_round: datetime | None = None  # when a waiting wish enters the round


def teacher_let_down(pairing: Pairing) -> bool:
    """Whether the learner lost this teacher through no doing of their own: the teacher declined,
    or the proposal expired with the learner's yes and no word from the teacher. A learner who
    declined or stayed silent too is not sent another proposal at once; the round comes."""
    if pairing.status == PairingStatus.DECLINED:
        return pairing.declined_by_id == pairing.teacher_id
    if pairing.status == PairingStatus.EXPIRED:
        return pairing.learner_answer == Answer.ACCEPTED and pairing.teacher_answer == Answer.PENDING
    return False


def after_ended(
    session: Session,
    *,
    ended: Pairing,
    defaults: ProgrammeDefaults,
    now: datetime,
    teacher_left: bool = False,
) -> NextOffer:
    """Offer the wish of `ended` (just declined, expired, or cancelled because its teacher left)
    to the next teacher, or say why it waits. Stores the new pairing; queues nothing."""
    if not (teacher_left or teacher_let_down(ended)) or ended.wish_id is None:
        return NextOffer(Step.NOTHING, ended)
    wish = _claim_wish(session, wish_id=ended.wish_id, after_pairing_id=ended.id)
    if wish is None:
        return NextOffer(Step.NOTHING, ended)
    learner = session.get(Person, wish.person_id)
    if learner is None or not _may_learn_now(session, learner, now=now):
        return NextOffer(Step.NOTHING, ended, wish)
    settings = profiles.programme_settings(session, team_id=wish.team_id, defaults=defaults)
    next_round = next_matching_round(settings, now=now)
    if offers_this_week(session, wish=wish, now=now) >= MAX_OFFERS_PER_WEEK:
        return NextOffer(Step.WAITS_OFFER_LIMIT, ended, wish, next_round=next_round)
    pairing = _propose_best(session, wish=wish, learner=learner, settings=settings, now=now)
    if pairing is None:
        return NextOffer(Step.WAITS_NO_TEACHER, ended, wish, next_round=next_round)
    return NextOffer(Step.OFFERED, ended, wish, pairing, next_round)


def _claim_wish(session: Session, *, wish_id: int, after_pairing_id: int) -> Wish | None:
    """The open wish, if this transaction is the first to follow up `after_pairing_id`."""
    claimed = session.execute(
        update(Wish)
        .where(
            Wish.id == wish_id,
            Wish.status == WishStatus.OPEN,
            or_(Wish.offered_after_pairing_id.is_(None), Wish.offered_after_pairing_id < after_pairing_id),
        )
        .values(offered_after_pairing_id=after_pairing_id)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        return None
    return session.get(Wish, wish_id, populate_existing=True)


def _may_learn_now(session: Session, learner: Person, *, now: datetime) -> bool:
    """The round's rules for a learner: available, profiled, answering, learning nothing else."""
    if not learner.is_available(now) or learner.career_stage is None:
        return False
    if learner.unanswered_streak >= UNANSWERED_LIMIT:
        return False
    return not session.scalar(
        select(Pairing.id).where(Pairing.learner_id == learner.id, Pairing.status.in_(_OPEN)).limit(1)
    )


_OPEN = [PairingStatus.PROPOSED, PairingStatus.ACTIVE]


def offers_this_week(session: Session, *, wish: Wish, now: datetime) -> int:
    """Proposals made for this wish (by a round or at once) within the last OFFER_WINDOW."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Pairing)
            .where(Pairing.wish_id == wish.id, Pairing.proposed_at > now - OFFER_WINDOW)
        )
        or 0
    )


def candidates(
    session: Session, *, wish: Wish, learner: Person, settings: ProgrammeSettings, now: datetime
) -> list[TeacherOption]:
    """Who may be offered this wish now: availability.teachers_for (pause, snooze, leavers, blocks,
    capacity), minus everyone who was ever proposed this wish's topic for this learner (a teacher
    who declined is never asked again), current partners, people not answering, and, in strict
    mode, anyone not more junior than the learner."""
    options = teachers_for(session, learner=learner, topic_id=wish.topic_id, now=now, limit=CANDIDATE_LIMIT)
    asked_before = set(
        session.scalars(
            select(Pairing.teacher_id).where(
                Pairing.learner_id == learner.id, Pairing.topic_id == wish.topic_id
            )
        )
    )
    partners = {
        other
        for pair in session.execute(
            select(Pairing.learner_id, Pairing.teacher_id).where(
                or_(Pairing.learner_id == learner.id, Pairing.teacher_id == learner.id),
                Pairing.status.in_(_OPEN),
            )
        )
        for other in pair
    }
    assert learner.career_stage is not None
    return [
        option
        for option in options
        if option.person.id not in asked_before | partners
        and option.person.career_stage is not None
        and option.person.unanswered_streak < UNANSWERED_LIMIT
        and (not settings.strict_reverse or option.person.career_stage.rank < learner.career_stage.rank)
    ]


def _propose_best(
    session: Session, *, wish: Wish, learner: Person, settings: ProgrammeSettings, now: datetime
) -> Pairing | None:
    options = candidates(session, wish=wish, learner=learner, settings=settings, now=now)
    if not options:
        return None
    round_input, pairs = _round_input(session, wish=wish, learner=learner, options=options, now=now)
    proposals = matching.make_proposals(round_input, pairs)
    order = {option.person.id: rank for rank, option in enumerate(options)}
    # A colleague the learner asked for by name first; then the round's score; then availability's
    # own order (level, free capacity, name), so ties are decided the same way every time.
    proposals.sort(key=lambda p: (p.teacher_id != wish.requested_teacher_id, -p.score, order[p.teacher_id]))
    people = {option.person.id: option.person for option in options}
    for proposal in proposals:
        teacher = people[proposal.teacher_id]
        if not _still_free(session, teacher):
            continue  # another transaction took their last slot meanwhile
        # Stored by the round's own code, so the offer reads like a round's: each side's reasons
        # in words, a request by name, the same fields.
        plan, match = rounds.plan_one(session, wish=wish, teacher=teacher, settings=settings, now=now)
        pairing = rounds.propose(session, plan, match, settings=settings, round_id=None, now=now)
        session.flush()
        return pairing
    return None


def _still_free(session: Session, teacher: Person) -> bool:
    """Lock the teacher, then count: two next offers racing for one free slot give it once. A
    teacher another transaction holds is passed over rather than waited for (no lock cycles)."""
    locked = session.scalar(
        select(Person.id).where(Person.id == teacher.id).with_for_update(skip_locked=True)
    )
    if locked is None:
        return False
    teaching = session.scalar(
        select(func.count())
        .select_from(Pairing)
        .where(Pairing.teacher_id == teacher.id, Pairing.status.in_(_OPEN))
    )
    return (teaching or 0) < teacher.capacity


def _round_input(
    session: Session, *, wish: Wish, learner: Person, options: list[TeacherOption], now: datetime
) -> tuple[matching.RoundInput, list[tuple[matching.WishInput, matching.SkillInput]]]:
    """A round of one wish: the learner, the candidates, and what an exchange needs (the
    candidates' open wishes, the learner's skills), so score and explanation are the round's."""
    teacher_ids = [option.person.id for option in options]
    people = {learner.id: learner, **{option.person.id: option.person for option in options}}
    free = {option.person.id: option.free_slots for option in options}
    skills = list(
        session.scalars(
            select(Skill).where(
                or_(
                    (Skill.person_id.in_(teacher_ids)) & (Skill.topic_id == wish.topic_id),
                    Skill.person_id == learner.id,
                )
            )
        )
    )
    teacher_wishes = list(
        session.scalars(select(Wish).where(Wish.person_id.in_(teacher_ids), Wish.status == WishStatus.OPEN))
    )
    topic_ids = {wish.topic_id, *(skill.topic_id for skill in skills)}
    topic_names = dict(
        session.execute(select(Topic.id, Topic.display_name).where(Topic.id.in_(topic_ids))).all()
    )

    def wish_input(row: Wish) -> matching.WishInput:
        return matching.WishInput(
            id=row.id,
            person_id=row.person_id,
            topic_id=row.topic_id,
            waited_days=max((now - row.created_at).days, 0),
        )

    def skill_input(row: Skill) -> matching.SkillInput:
        return matching.SkillInput(
            id=row.id, person_id=row.person_id, topic_id=row.topic_id, level=row.level.rank
        )

    round_input = matching.RoundInput(
        people={
            person.id: matching.PersonInput(
                id=person.id,
                name=person.display_name,
                career_stage=person.career_stage.rank if person.career_stage else 0,
                department=person.department or None,
                teaching_slots=free.get(person.id, 0),
                can_learn=person.id == learner.id,
                utc_offset_minutes=person.tz_offset_seconds // 60,
            )
            for person in people.values()
        },
        wishes=[wish_input(wish), *(wish_input(row) for row in teacher_wishes)],
        skills=[skill_input(skill) for skill in skills],
        topic_names=topic_names,
    )
    best_skill: dict[int, Skill] = {}
    for skill in skills:
        if skill.person_id != learner.id and skill.topic_id == wish.topic_id:
            kept = best_skill.get(skill.person_id)
            if kept is None or (skill.level.rank, -skill.id) > (kept.level.rank, -kept.id):
                best_skill[skill.person_id] = skill
    learner_wish = wish_input(wish)
    pairs = [(learner_wish, skill_input(best_skill[t])) for t in teacher_ids if t in best_skill]
    return round_input, pairs
