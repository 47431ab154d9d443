"""The next teacher at once: after a teacher's decline or silence the wish goes to the next-best
colleague, scored and explained as a round would, never to someone asked before, three times a
week at most; and however transactions race, one next offer per ended pairing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.config import ProgrammeDefaults
from bot.delivery import flow_notices
from bot.delivery import pairing_notices as notices
from bot.services import next_offer, pairings, profiles
from bot.services.next_offer import Step
from models import (
    Answer,
    CareerStage,
    OutboxMessage,
    Pairing,
    PairingStatus,
    Person,
    SkillLevel,
    Wish,
)
from tests.factories import add_person

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday
DEFAULTS = ProgrammeDefaults()


def _people(database, *teachers: tuple[str, str, CareerStage, SkillLevel]) -> int:
    learner = add_person(
        database, "UL", stage=CareerStage.SENIOR, department="Finance", learns="Figma", name="Lea", now=NOW
    )
    for user_id, name, stage, level in teachers:
        add_person(
            database,
            user_id,
            stage=stage,
            department="Design",
            teaches="Figma",
            name=name,
            level=level,
            now=NOW,
        )
    return learner


def _three_teachers(database) -> int:
    return _people(
        database,
        ("UA", "Ana", CareerStage.EARLY, SkillLevel.EXPERT),
        ("UB", "Bo", CareerStage.EARLY, SkillLevel.CONFIDENT),
        ("UC", "Cy", CareerStage.MID, SkillLevel.BASICS),
    )


def _round(database, now=NOW) -> Pairing:
    with database.transaction() as session:
        summary = notices.run_round_and_notify(session, team_id="T1", defaults=DEFAULTS, now=now)
        [pairing] = summary.pairings
        return pairing


def _open_pairing(session, learner_id: int) -> Pairing | None:
    return session.scalar(
        select(Pairing).where(
            Pairing.learner_id == learner_id,
            Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]),
        )
    )


def _decline(database, pairing_id: int, *, by: str = "teacher", now=NOW) -> tuple[Step, int | None]:
    """The worker's decline: the answer, its notices and the next offer in one transaction."""
    with database.transaction() as session:
        pairing = session.get(Pairing, pairing_id)
        person = pairing.teacher if by == "teacher" else pairing.learner
        settings = profiles.programme_settings(session, team_id="T1", defaults=DEFAULTS)
        change = pairings.answer(
            session,
            value=pairings.button_value(pairing),
            person=person,
            accept=False,
            now=now,
            settings=settings,
        )
        notices.after_answer(session, change, now=now)
        new_id = flow_notices.after_answer(session, change, defaults=DEFAULTS, now=now)
        return change.outcome.value, new_id


def _teacher_name(database, pairing_id: int) -> str:
    with database.transaction() as session:
        return session.get(Pairing, pairing_id).teacher.display_name


def test_a_teachers_decline_goes_to_the_next_best_teacher_at_once_like_a_round(database):
    learner = _three_teachers(database)
    first = _round(database)
    assert _teacher_name(database, first.id) == "Ana"
    outcome, new_id = _decline(database, first.id, now=NOW + timedelta(hours=2))
    assert outcome == "declined" and new_id is not None
    with database.transaction() as session:
        offered = session.get(Pairing, new_id)
        assert offered.teacher.display_name == "Bo"  # the next-best: confident beats basics
        assert offered.status == PairingStatus.PROPOSED and offered.round_id is None
        assert offered.wish_id == first.wish_id and offered.skill_id is not None
        assert offered.is_reverse and offered.is_cross_department
        assert offered.score > 0 and offered.explanation.startswith("Bo is confident in Figma")
        assert offered.teacher_explanation  # the teacher is told why too, as in a round
        assert offered.expires_at == NOW + timedelta(hours=2, days=5)
        assert offered.reminder_due_at == NOW + timedelta(hours=2, days=2.5)
        keys = set(session.scalars(select(OutboxMessage.dedupe_key)))
        assert f"pairing:{new_id}:next-offer-note" in keys
        assert {f"pairing:{new_id}:proposal:UL", f"pairing:{new_id}:proposal:UB"} <= keys
        assert _open_pairing(session, learner).id == new_id


def test_a_teacher_who_declined_is_never_offered_that_wish_again_and_the_round_agrees(database):
    learner = _people(
        database,
        ("UA", "Ana", CareerStage.EARLY, SkillLevel.EXPERT),
        ("UB", "Bo", CareerStage.EARLY, SkillLevel.CONFIDENT),
    )
    first = _round(database)
    _, second_id = _decline(database, first.id)
    assert _teacher_name(database, second_id) == "Bo"
    _, third_id = _decline(database, second_id)
    assert third_id is None  # Ana declined already: nobody else
    with database.transaction() as session:
        note = session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"pairing:{second_id}:next-offer-waits")
        )
        assert "Nobody else can take *Figma* right now" in note.text
    # Next week's round does not propose either of them again.
    with database.transaction() as session:
        summary = notices.run_round_and_notify(
            session, team_id="T1", defaults=DEFAULTS, now=NOW + timedelta(days=7)
        )
        assert summary.created and summary.pairings == []
        assert _open_pairing(session, learner) is None


def test_after_three_offers_in_a_week_the_wish_waits_for_the_round_and_the_learner_is_told(database):
    _people(
        database,
        ("UA", "Ana", CareerStage.EARLY, SkillLevel.EXPERT),
        ("UB", "Bo", CareerStage.EARLY, SkillLevel.CONFIDENT),
        ("UC", "Cy", CareerStage.EARLY, SkillLevel.BASICS),
        ("UD", "Di", CareerStage.EARLY, SkillLevel.BASICS),
    )
    pairing_id = _round(database).id
    offered = []
    for day in range(3):
        _, pairing_id = _decline(database, pairing_id, now=NOW + timedelta(days=day))
        offered.append(pairing_id)
    assert offered[-1] is None and None not in offered[:2]  # offers 2 and 3, then it waits
    with database.transaction() as session:
        notes = session.scalars(select(OutboxMessage.text).where(OutboxMessage.kind == "next_offer")).all()
        assert any("three colleagues this week" in text for text in notes)
        assert session.scalar(select(Pairing).where(Pairing.teacher.has(Person.display_name == "Di"))) is None


def test_a_learner_who_declines_or_stays_silent_is_not_sent_another_proposal_at_once(database):
    learner = _three_teachers(database)
    first = _round(database)
    outcome, new_id = _decline(database, first.id, by="learner")
    assert outcome == "declined" and new_id is None
    with database.transaction() as session:
        assert _open_pairing(session, learner) is None
    # An expiry where neither answered: nothing at once either.
    second = _round(database, now=NOW + timedelta(days=7))
    with database.transaction() as session:
        [(expired, _silent)] = pairings.expire_due(session, team_id="T1", now=NOW + timedelta(days=13))
        offer = next_offer.after_ended(
            session, ended=expired, defaults=DEFAULTS, now=NOW + timedelta(days=13)
        )
        assert expired.id == second.id and offer.step == Step.NOTHING


def test_an_expired_proposal_the_learner_accepted_goes_to_the_next_teacher(database):
    learner = _three_teachers(database)
    first = _round(database)
    with database.transaction() as session:
        session.get(Pairing, first.id).learner_answer = Answer.ACCEPTED
    later = NOW + timedelta(days=5, minutes=1)
    with database.transaction() as session:
        [(expired, _silent)] = pairings.expire_due(session, team_id="T1", now=later)
        flow_notices.after_expiry(session, expired, defaults=DEFAULTS, now=later)
    with database.transaction() as session:
        assert _open_pairing(session, learner).teacher.display_name == "Bo"


def test_a_colleague_asked_for_by_name_is_offered_first(database):
    learner = _three_teachers(database)
    first = _round(database)
    with database.transaction() as session:
        cy = session.scalar(select(Person.id).where(Person.display_name == "Cy"))
        session.scalar(select(Wish).where(Wish.person_id == learner)).requested_teacher_id = cy
    _, new_id = _decline(database, first.id)
    assert _teacher_name(database, new_id) == "Cy"


def test_following_up_one_ended_pairing_twice_makes_one_offer(database):
    _three_teachers(database)
    first = _round(database)
    _decline(database, first.id)
    with database.transaction() as session:
        again = next_offer.after_ended(
            session, ended=session.get(Pairing, first.id), defaults=DEFAULTS, now=NOW
        )
        assert again.step == Step.NOTHING
        assert len(session.scalars(select(Pairing)).all()) == 2


def _race(*work) -> None:
    """Start the transactions together; each takes its locks as production code does."""
    start = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job):
        try:
            start.wait()
            job()
        except BaseException as error:  # re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_two_declines_racing_make_one_next_offer(database):
    learner = _three_teachers(database)
    first = _round(database)
    # A double click, and the learner declining at the same moment as the teacher.
    _race(
        lambda: _decline(database, first.id),
        lambda: _decline(database, first.id),
        lambda: _decline(database, first.id, by="learner"),
    )
    with database.transaction() as session:
        proposals = session.scalars(select(Pairing).where(Pairing.learner_id == learner)).all()
        assert len(proposals) <= 2 and len([p for p in proposals if p.status == PairingStatus.PROPOSED]) <= 1
        assert session.get(Pairing, first.id).status == PairingStatus.DECLINED


def test_a_decline_racing_the_weekly_round_makes_one_offer(database):
    learner = _three_teachers(database)
    first = _round(database, now=NOW - timedelta(days=7))
    _race(
        lambda: _decline(database, first.id),
        lambda: _round_quietly(database),
    )
    with database.transaction() as session:
        open_ones = session.scalars(
            select(Pairing).where(
                Pairing.learner_id == learner,
                Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]),
            )
        ).all()
        assert len(open_ones) == 1


def _round_quietly(database) -> None:
    with database.transaction() as session:
        notices.run_round_and_notify(session, team_id="T1", defaults=DEFAULTS, now=NOW)
