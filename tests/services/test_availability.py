"""Who can teach a topic now, and why each open wish is open: one definition for the suggestions,
the assistant, the waiting notices and the figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.services.availability import WaitReason, open_wish_reasons, teachers_for
from models import CareerStage, Pairing, PairingBlock, PairingStatus, Person, Topic, Wish
from tests.factories import add_person

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _topic_id(session, name: str) -> int:
    return session.scalar(select(Topic.id).where(Topic.display_name == name))


def test_teachers_for_respects_pause_snooze_blocks_capacity_and_self(database):
    learner = add_person(
        database, "UL", stage=CareerStage.SENIOR, department="Finance", learns="Figma", now=NOW
    )
    add_person(
        database, "UA", stage=CareerStage.EARLY, department="Design", teaches="Figma", name="Ana", now=NOW
    )
    paused = add_person(
        database, "UP", stage=CareerStage.EARLY, department="Design", teaches="Figma", now=NOW
    )
    snoozed = add_person(
        database, "US", stage=CareerStage.EARLY, department="Design", teaches="Figma", now=NOW
    )
    blocked = add_person(
        database, "UB", stage=CareerStage.EARLY, department="Design", teaches="Figma", now=NOW
    )
    busy = add_person(database, "UX", stage=CareerStage.EARLY, department="Design", teaches="Figma", now=NOW)
    with database.transaction() as session:
        topic = _topic_id(session, "Figma")
        session.get(Person, paused).paused = True
        session.get(Person, snoozed).snoozed_until = NOW + timedelta(days=3)
        session.add(PairingBlock(team_id="T1", person_id=blocked, blocked_person_id=learner))
        other = session.get(Person, learner)
        session.add(
            Pairing(
                team_id="T1",
                learner_id=snoozed,
                teacher_id=busy,
                topic_id=topic,
                status=PairingStatus.ACTIVE,
                expires_at=NOW,
            )
        )
        names = [
            option.person.display_name
            for option in teachers_for(session, learner=other, topic_id=topic, now=NOW)
        ]
    assert names == ["Ana"]


def test_each_open_wish_has_one_reason(database):
    add_person(
        database,
        "UL",
        stage=CareerStage.SENIOR,
        department="Finance",
        learns="Figma, Rust, Go, Excel",
        now=NOW,
    )
    add_person(database, "UT", stage=CareerStage.EARLY, department="Design", teaches="Figma, Rust", now=NOW)
    away = add_person(database, "UA", stage=CareerStage.SENIOR, department="Sales", learns="Figma", now=NOW)
    with database.transaction() as session:
        session.get(Person, away).paused = True
        rust = _topic_id(session, "Rust")
        teacher = session.scalar(select(Person.id).where(Person.slack_user_id == "UT"))
        learner = session.scalar(select(Person.id).where(Person.slack_user_id == "UL"))
        # The teacher's one slot is taken by a Rust pairing with someone else.
        session.add(
            Pairing(
                team_id="T1",
                learner_id=away,
                teacher_id=teacher,
                topic_id=rust,
                status=PairingStatus.PROPOSED,
                expires_at=NOW,
            )
        )
        reasons = open_wish_reasons(session, team_id="T1", now=NOW)
        by_topic = {
            (session.get(Wish, wish_id).person_id, session.get(Wish, wish_id).topic.display_name): reason
            for wish_id, reason in reasons.items()
        }
    assert by_topic[(learner, "Figma")] == WaitReason.TEACHERS_BUSY
    assert by_topic[(learner, "Go")] == WaitReason.NO_TEACHER
    assert by_topic[(away, "Figma")] == WaitReason.LEARNER_AWAY
    assert len(reasons) == 5


def test_a_free_teacher_means_the_next_round(database):
    add_person(database, "UL", stage=CareerStage.SENIOR, department="Finance", learns="Figma", now=NOW)
    add_person(database, "UT", stage=CareerStage.EARLY, department="Design", teaches="Figma", now=NOW)
    with database.transaction() as session:
        assert list(open_wish_reasons(session, team_id="T1", now=NOW).values()) == [WaitReason.NEXT_ROUND]


def test_a_wish_in_an_open_pairing_is_in_a_pairing_not_waiting(database):
    learner = add_person(
        database, "UL", stage=CareerStage.SENIOR, department="Finance", learns="Figma", now=NOW
    )
    teacher = add_person(
        database, "UT", stage=CareerStage.EARLY, department="Design", teaches="Figma", now=NOW
    )
    with database.transaction() as session:
        wish = session.scalar(select(Wish).where(Wish.person_id == learner))
        session.add(
            Pairing(
                team_id="T1",
                learner_id=learner,
                teacher_id=teacher,
                topic_id=wish.topic_id,
                wish_id=wish.id,
                status=PairingStatus.ACTIVE,
                expires_at=NOW,
            )
        )
        session.flush()
        assert open_wish_reasons(session, team_id="T1", now=NOW) == {wish.id: WaitReason.IN_PAIRING}
    # A second wish waits: the learner learns one topic at a time.
    with database.transaction() as session:
        learner_row = session.get(Person, learner)
        from bot.services import learning

        learning.add_wishes(session, learner_row, "Rust", now=NOW)
    with database.transaction() as session:
        reasons = sorted(open_wish_reasons(session, team_id="T1", now=NOW).values())
    assert reasons == sorted([WaitReason.IN_PAIRING, WaitReason.LEARNING_ANOTHER])
