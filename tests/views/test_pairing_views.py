"""Pairing messages: within Slack's limits, escaped, and saying what each side needs to know."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.ids import Block
from bot.views import pairing as views
from models import Answer, CareerStage, Pairing, PairingStatus, Person, Topic

HOSTILE = "<!channel> hacks & <@U999> @here"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def pairing() -> Pairing:
    learner = Person(
        id=1,
        team_id="T1",
        slack_user_id="U2",
        display_name="George <!here>",
        career_stage=CareerStage.EXECUTIVE,
        department=HOSTILE,
        tz="America/New_York",
    )
    teacher = Person(
        id=2,
        team_id="T1",
        slack_user_id="U1",
        display_name="Priya",
        career_stage=CareerStage.EARLY,
        department="Marketing",
        tz="Europe/London",
    )
    return Pairing(
        id=7,
        team_id="T1",
        learner_id=1,
        teacher_id=2,
        learner=learner,
        teacher=teacher,
        topic=Topic(id=3, team_id="T1", key="x", display_name=HOSTILE),
        exchange_topic=None,
        explanation=f"Priya can teach {HOSTILE}",
        status=PairingStatus.PROPOSED,
        learner_answer=Answer.PENDING,
        teacher_answer=Answer.PENDING,
        is_reverse=True,
        expires_at=NOW + timedelta(days=5),
        checkin_due_at=NOW,
        version=1,
    )


def rendered(message) -> str:
    return message.text + json.dumps(message.blocks)


def builders(pairing):
    learner, teacher = pairing.learner, pairing.teacher
    return {
        "proposal-learner": views.build_proposal(pairing, learner),
        "proposal-teacher": views.build_proposal(pairing, teacher),
        "intro": views.build_intro(pairing, times=[NOW + timedelta(days=1)]),
        "declined": views.build_decline_notice(pairing, viewer=learner),
        "reminder": views.build_reminder(pairing, learner),
        "expired": views.build_expired(pairing, teacher),
        "checkin": views.build_checkin(pairing, learner),
        "feedback": views.build_feedback_request(pairing, learner),
        "unmatched": views.build_unmatched(topic=HOSTILE, why=f"nobody teaches {HOSTILE} yet"),
    }


def test_user_text_can_never_ping(pairing):
    for name, message in builders(pairing).items():
        text = rendered(message)
        for dangerous in ("<!channel>", "<!here>", "<@U999>", "@here"):
            assert dangerous not in text, (name, dangerous)


def test_the_learner_sees_the_why_and_the_first_step(pairing):
    text = rendered(views.build_proposal(pairing, pairing.learner))
    assert "coffee chat" in text and "what you can offer back" in text and "Why" in text
    assert "accept_pairing" in text and "decline_pairing" in text


def test_answered_proposal_has_no_buttons(pairing):
    pairing.learner_answer = Answer.ACCEPTED
    text = rendered(views.build_proposal(pairing, pairing.learner))
    assert "accept_pairing" not in text and "Waiting for the other person" in text
    pairing.status = PairingStatus.ACTIVE
    assert "You are paired" in rendered(views.build_proposal(pairing, pairing.teacher))


def test_intro_without_shared_hours_says_so(pairing):
    assert "don't overlap" in rendered(views.build_intro(pairing, times=[]))


def test_modals_fit_slacks_limits():
    for view in (
        views.build_checkin_modal("7:1", topic="x" * 80),
        views.build_feedback_modal(7, topic="x"),
        views.build_decline_modal(7, topic="x"),
        views.build_snooze_modal(today="2026-12-01"),
        views.build_blocklist_modal(["U1"]),
    ):
        assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100


def test_only_an_exchange_check_in_asks_which_halves_were_covered():
    one_way = views.build_checkin_modal("1:2", topic="Excel")
    assert all(block.get("block_id") != Block.HALVES for block in one_way["blocks"])
    exchange = views.build_checkin_modal("1:2", topic="Excel and Figma", exchange_topics=("Excel", "Figma"))
    [halves] = [block for block in exchange["blocks"] if block.get("block_id") == Block.HALVES]
    assert [o["text"]["text"] for o in halves["element"]["options"]] == ["Excel", "Figma"]
