"""Hostile and odd input: bad signatures, strange text, Slack failing. Nothing stored is lost."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.ids import Block, Modal
from models import Person, Wish
from tests import payloads
from tests.factories import eventually


def wishes(db):
    with db.transaction() as session:
        return sorted(w.topic.display_name for w in session.scalars(select(Wish)))


@pytest.mark.parametrize(
    "tamper",
    [
        {"signed": False},
        {"secret": "wrong-secret"},
        {"timestamp": int(time.time()) - 6 * 60},  # stale: older than Slack's 5 minutes
    ],
    ids=["missing", "wrong", "stale"],
)
def test_badly_signed_requests_are_refused_and_change_nothing(flipside, tamper):
    body = payloads.slash_command(
        "/teachme", "social media", user="U1", team="T1", response_url=flipside.fake.response_url("x")
    )
    reply = flipside.http.post(body, **tamper)
    assert reply.status == 401
    flipside.work_done()
    assert wishes(flipside.db) == []
    assert [call.method for call in flipside.fake.calls] == ["auth.test"]  # only the start-up check


@pytest.mark.parametrize(
    "text",
    ["   ", "🎉🎉🎉", "\x00\x07\x1b", "!!!", "x" * 10_000],
    ids=["whitespace", "emoji", "control", "punctuation", "10k"],
)
def test_unusable_topics_get_a_friendly_message_and_keep_existing_wishes(flipside, text):
    flipside.command("/teachme", "canva")
    flipside.replies(1)
    flipside.command("/teachme", text)
    if text.strip() == "":
        opened = flipside.fake.wait_for("views.open", 2)  # the profile modal and the wishes modal
        assert {call.decoded["view"]["callback_id"] for call in opened} == {Modal.PROFILE, Modal.WISHES}
    else:
        reply = flipside.replies(2)[-1]
        assert reply["response_type"] == "ephemeral"
        assert ":warning:" in reply["text"]
        assert "Traceback" not in reply["text"]
    assert wishes(flipside.db) == ["canva"]


def test_markup_is_stored_as_typed_but_never_pings_when_echoed(flipside):
    flipside.command("/teachme", "<!channel> hacks, <@U2> stuff; <!here|here> @everyone tips")
    reply = flipside.replies()[0]
    for dangerous in ("<!channel>", "<@U2>", "<!here", "@everyone"):
        assert dangerous not in reply["text"], dangerous
        assert dangerous not in str(reply["blocks"]), dangerous
    assert "&lt;!channel&gt; hacks" in reply["text"]
    assert len(wishes(flipside.db)) == 3


def test_sql_looking_and_right_to_left_text_is_just_text(flipside):
    flipside.command("/teachme", "Robert'); DROP TABLE wishes;--, تعلم الآلة")
    reply = flipside.replies()[0]
    assert "تعلم الآلة" in reply["text"]
    assert wishes(flipside.db) == ["DROP TABLE wishes", "Robert')", "تعلم الآلة"]  # ";" separates topics


def test_several_topics_and_spellings_become_shared_topics(flipside):
    flipside.command("/canteach", "Social Media", user="U2")
    flipside.replies(1)
    flipside.command("/teachme", "social-media, excel; Canva,  canva ")
    reply = flipside.replies(2)[-1]
    assert "1 colleague can teach it" in reply["text"]
    assert wishes(flipside.db) == ["Canva", "Social Media", "excel"]


def test_typo_joins_the_existing_topic(flipside):
    flipside.command("/canteach", "social media", user="U2")
    flipside.replies(1)
    flipside.command("/teachme", "socail media")
    reply = flipside.replies(2)[-1]
    assert "I took “socail media” as *social media*" in reply["text"]
    assert wishes(flipside.db) == ["social media"]


def test_wish_limit_is_enforced_kindly(flipside):
    flipside.command("/teachme", ", ".join(f"topic {n}" for n in range(10)))
    flipside.replies(1)
    flipside.command("/teachme", ", ".join(f"topic {n}" for n in range(10, 20)))
    flipside.replies(2)
    flipside.command("/teachme", "one more")
    assert "20 open wishes" in flipside.replies(3)[-1]["text"]
    assert len(wishes(flipside.db)) == 20


def test_slack_failing_on_users_info_does_not_lose_the_wish(flipside):
    flipside.fake.fail_next("users.info", status=500, times=10)
    flipside.command("/teachme", "video calls")
    assert "video calls" in flipside.replies()[0]["text"]
    eventually(lambda: len(flipside.fake.calls_to("users.info")) >= 1)
    assert wishes(flipside.db) == ["video calls"]


def test_users_info_rate_limited_then_profile_synced(flipside):
    flipside.fake.fail_next("users.info", status=429, retry_after=1)
    flipside.command("/teachme", "tiktok")
    flipside.replies()

    def synced():
        with flipside.db.transaction() as session:
            person = session.scalars(select(Person)).one()
            return person.slack_synced_at is not None and person.display_name != "U1"

    eventually(synced, timeout=8)


def test_profile_modal_answers_inline_errors(flipside):
    reply = flipside.submit(
        Modal.PROFILE,
        {
            Block.CAREER_STAGE: payloads.select(None),
            Block.DEPARTMENT: payloads.text_input("Finance"),
            Block.CAPACITY: payloads.select("1"),
            Block.PAUSED: payloads.checkboxes(),
        },
    )
    assert reply.json() == {
        "response_action": "errors",
        "errors": {"career_stage": "Please pick your career stage."},
    }
    reply = flipside.submit(
        Modal.PROFILE,
        {
            Block.CAREER_STAGE: payloads.select("senior"),
            Block.DEPARTMENT: payloads.text_input("   "),
            Block.CAPACITY: payloads.select("1"),
            Block.PAUSED: payloads.checkboxes(),
        },
    )
    assert reply.json()["errors"] == {"department": "Please say which department or team you are in."}
    flipside.work_done()
    with flipside.db.transaction() as session:
        assert session.scalars(select(Person)).all() == []


def test_wishes_modal_rejects_a_long_topic_inline(flipside):
    reply = flipside.submit(
        Modal.WISHES, {Block.TOPICS: payloads.text_input("y" * 81), Block.NOTE: payloads.text_input("")}
    )
    assert reply.json()["response_action"] == "errors"
    assert "at most 80 characters" in reply.json()["errors"]["topics"]


def test_profile_modal_saves_and_confirms(flipside):
    reply = flipside.submit(
        Modal.PROFILE,
        {
            Block.CAREER_STAGE: payloads.select("executive"),
            Block.DEPARTMENT: payloads.text_input("<!here> Finance"),
            Block.CAPACITY: payloads.select("2"),
            Block.PAUSED: payloads.checkboxes(),
        },
        private_metadata='{"channel_id": "C0GENERAL"}',
    )
    assert reply.status == 200 and reply.body == ""
    [ephemeral] = flipside.fake.wait_for("chat.postEphemeral")
    assert "&lt;!here&gt; Finance" in ephemeral.decoded["text"]
    with flipside.db.transaction() as session:
        person = session.scalars(select(Person)).one()
        assert (person.career_stage.value, person.capacity, person.has_profile) == ("executive", 2, True)


def test_a_new_topic_close_to_a_known_one_is_offered_as_did_you_mean(flipside):
    flipside.command("/canteach", "photography", user="U2")
    flipside.replies(1)
    flipside.command("/teachme", "photografy")
    reply = flipside.replies(2)[-1]["text"]
    assert "Did you mean *photography*?" in reply and "`/teachme photography`" in reply
