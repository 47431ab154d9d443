"""The assistant's builders stay inside Slack's limits and ping nobody, whatever the data says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.services.assistant import SimpleAnswer, TeachersAnswer
from bot.services.assistant_intents import Intent
from bot.services.availability import TeacherOption
from bot.views.assistant import SUGGESTED_PROMPTS, build_answer, build_teachers
from models import Person, SkillLevel, Topic


def test_at_most_four_suggested_prompts_each_with_a_title_and_a_message():
    assert 0 < len(SUGGESTED_PROMPTS) <= 4
    assert all(prompt["title"] and prompt["message"] for prompt in SUGGESTED_PROMPTS)


def test_teacher_buttons_fit_and_names_are_plain_text():
    topic = Topic(id=7, team_id="T1", key="x", display_name="<!here> " + "x" * 200)
    teachers = [
        TeacherOption(Person(id=n, slack_user_id=f"U{n}", display_name="@channel " + "N" * 300), level, 1)
        for n, level in enumerate([SkillLevel.CONFIDENT] * 5, start=1)
    ]
    reply = build_teachers(TeachersAnswer("x", topic, teachers))
    dumped = json.dumps(reply.blocks)
    assert "<!here>" not in dumped and "<@" not in dumped and "@channel" not in dumped
    values = [block["accessory"]["value"] for block in reply.blocks if "accessory" in block]
    assert values == [f"7:{n}" for n in range(1, 6)]
    assert all(
        len(block["accessory"]["text"]["text"]) <= 75 for block in reply.blocks if "accessory" in block
    )
    assert all(len(block.get("text", {}).get("text", "")) <= 3000 for block in reply.blocks)


def test_every_simple_answer_lists_what_can_be_asked():
    for intent in (Intent.GREETING, Intent.HELP, Intent.UNKNOWN):
        assert "What's on this week?" in build_answer(SimpleAnswer(intent)).text


def test_an_unusable_topic_says_why():
    reply = build_teachers(TeachersAnswer("!!!", problem="A topic needs at least one letter or number."))
    assert "needs at least one letter" in reply.text
    assert datetime(2030, 1, 1, tzinfo=UTC)  # builders take no clock: nothing here depends on now
