"""The relationship pulse's rules: when it is due, asking once, answers, and the learning-log hook."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services import pulse
from models import PairingStatus
from tests.services.test_insights import NOW, Org, days_ago


@pytest.fixture
def session(database):
    with database.transaction() as session:
        yield session


@pytest.fixture
def pairing(session):
    org = Org(session)
    teacher, learner = org.person("UT"), org.person("UL")
    pairing = org.pairing(learner, teacher, "Canva", at=days_ago(95))
    pairing.accepted_at = days_ago(94)
    org.pairing(org.person("UX"), org.person("UY"), "Excel", at=days_ago(20))  # too young to ask
    org.pairing(learner, org.person("UZ"), "Excel", at=days_ago(50), status=PairingStatus.COMPLETED)
    return pairing


def test_pulses_fall_at_30_days_then_every_60():
    start = NOW
    assert [pulse.pulse_number(start, start + timedelta(days=d)) for d in (0, 29, 30, 89, 90, 149, 150)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
    ]


def test_only_the_current_pulse_of_active_pairings_is_due_and_asked_once(session, pairing):
    [(due, number)] = pulse.due_pulses(session, team_id="T1", now=NOW)
    assert (due.id, number) == (pairing.id, 2)  # day 94: the 90-day pulse; the missed one is not caught up
    assert {p.slack_user_id for p in pulse.ask(session, pairing, number, now=NOW)} == {"UT", "UL"}
    assert pulse.ask(session, pairing, number, now=NOW) == []
    assert pulse.due_pulses(session, team_id="T1", now=NOW) == []


def test_answers_ratings_notes_and_what_the_learning_log_may_take(session, pairing):
    pulse.ask(session, pairing, 2, now=NOW)
    value = pulse.question_value(pairing.id, 2)
    assert pulse.validate_rating("6") is None and pulse.validate_rating("x") is None
    assert (
        pulse.rate(session, value=value, person=pairing.learner, rating=3, now=NOW).outcome
        is pulse.PulseOutcome.RATED
    )
    assert (
        pulse.rate(session, value="bad", person=pairing.learner, rating=3, now=NOW).outcome
        is pulse.PulseOutcome.NOT_FOUND
    )
    assert pulse.save_note(
        session, value=value, person=pairing.learner, note="private", share_with_log=False, now=NOW
    )
    assert pulse.save_note(
        session, value=value, person=pairing.teacher, note=" shared ", share_with_log=True, now=NOW
    )
    [shared] = pulse.notes_for_learning_log(session, pairing_id=pairing.id)
    assert (shared.person_id, shared.note) == (pairing.teacher_id, "shared")

    result = pulse.stopped(session, value=value, person=pairing.teacher, now=NOW)
    assert result.outcome is pulse.PulseOutcome.STOPPED and pairing.status == PairingStatus.COMPLETED
    again = pulse.stopped(session, value=value, person=pairing.learner, now=NOW)
    assert again.outcome is pulse.PulseOutcome.ALREADY_ENDED
