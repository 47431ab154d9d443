"""The say-in-the-match buttons and the flow's messages: within Slack's limits, escaped, and never
a bare score."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.ids import Action
from bot.services.availability import TeacherOption
from bot.services.learning import AddOutcome, RequestOutcome, TeacherRequest, WishChoices
from bot.services.topics import ResolvedTopic
from bot.views import flow
from bot.views import learning as views
from bot.views.pairing import build_keep_in_ask
from models import Person, SkillLevel, Topic, Wish

HOSTILE = "<!channel> Eve & <@U999> @here"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _topics(count: int) -> list[Topic]:
    return [Topic(id=n, team_id="T1", key=f"t{n}", display_name=f"Topic {n}") for n in range(1, count + 1)]


def _options(count: int, *, first_name: str = "Priya") -> list[TeacherOption]:
    return [
        TeacherOption(
            Person(id=100 + n, slack_user_id=f"U{n}", display_name=first_name if n == 0 else f"P{n}"),
            SkillLevel.EXPERT,
            1,
        )
        for n in range(count)
    ]


def _actions(blocks: list[dict]) -> list[dict]:
    return [
        b["accessory"] for b in blocks if b.get("accessory", {}).get("action_id") == Action.REQUEST_TEACHER
    ]


def test_teachme_reply_with_ten_topics_and_three_teachers_each_fits_a_message():
    topics = _topics(10)
    outcome = AddOutcome(
        added=[ResolvedTopic(topic=t, typed=t.display_name, created=False, merged=False) for t in topics]
    )
    reply = views.build_teachme_reply(
        outcome,
        teachers={t.id: 3 for t in topics},
        next_round=NOW,
        needs_profile=True,
        suggestions={t.id: _options(3) for t in topics},
    )
    buttons = _actions(reply.blocks)
    assert len(reply.blocks) <= 50 and len(buttons) == 30
    assert {b["value"] for b in buttons} >= {"1:100", "10:102"}  # "<topic id>:<teacher id>"


def test_wishes_modal_with_twenty_wishes_names_teachers_within_a_modal_and_marks_the_asked_one():
    topics = _topics(20)
    wishes = [Wish(id=t.id, person_id=1, topic_id=t.id, topic=t) for t in topics]
    options = _options(3, first_name=HOSTILE)
    choices = WishChoices(teachers={t.id: options for t in topics}, requested={1: options[0].person})
    view = views.build_wishes_modal(wishes, choices=choices, notice=":dart: Noted.")
    assert len(view["blocks"]) <= 100
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "<!channel>" not in text and "<@U999>" not in text and "&lt;!channel&gt;" in text
    asked = [b for b in _actions(view["blocks"]) if b["text"]["text"] == "Asked ✓"]
    assert [b["value"] for b in asked] == ["1:100"]


def test_request_answers_escape_names_and_say_what_happened():
    teacher = Person(id=5, slack_user_id="U5", display_name=HOSTILE)
    topic = Topic(id=1, team_id="T1", key="figma", display_name="Figma")
    busy = views.request_text(TeacherRequest(RequestOutcome.REQUESTED, teacher, topic, busy=True))
    assert "<!channel>" not in busy and "busy right now" in busy
    for outcome in RequestOutcome:
        assert views.request_text(TeacherRequest(outcome, teacher, topic))


def test_flow_messages_name_no_score_and_escape_topics():
    for message in (
        flow.build_next_offer_note(topic=HOSTILE, teacher_user_id="U3", teacher_left=False),
        flow.build_offer_limit_note(topic=HOSTILE, next_round=NOW),
        flow.build_no_teacher_now_note(topic=HOSTILE, next_round=NOW),
        flow.build_partner_left(topic=HOSTILE, was_teacher=True, found_next=True),
        flow.build_waiting_notice([(HOSTILE, reason) for reason in flow.WAIT_TEXT]),
        build_keep_in_ask(because=flow.GHOST_REASONS["intro"]),
    ):
        text = json.dumps(message.blocks)
        assert "<!channel>" not in text and "score" not in text.lower()
