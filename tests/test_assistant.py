"""Flipside in the assistant pane, end to end: signed events in, Web API calls out (the fake checks
their arguments, scopes and Block Kit limits)."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest

from bot.ids import Action
from bot.listeners.errors import SORRY
from bot.views.assistant import STATUS, SUGGESTED_PROMPTS
from models import CareerStage, LunchSession, Person, Topic, utcnow
from tests.factories import add_person

_ts = itertools.count(1)


def open_pane(flipside, user: str = "U1") -> tuple[str, str]:
    channel, thread_ts = flipside.fake.open_assistant_thread(user)
    event = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": "C0GENERAL", "team_id": "T1", "enterprise_id": None},
            "channel_id": channel,
            "thread_ts": thread_ts,
        },
        "event_ts": thread_ts,
    }
    assert flipside.event(event).status == 200
    flipside.work_done()
    return channel, thread_ts


def ask(flipside, channel: str, thread_ts: str, text: str, *, user: str = "U1") -> list[dict]:
    """Ask in the thread; the bot's messages posted in answer."""
    before = len(flipside.fake.calls_to("chat.postMessage"))
    ts = f"1800000000.{next(_ts):06d}"
    event = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "channel": channel,
        "channel_type": "im",
        "event_ts": ts,
    }
    assert flipside.event(event).status == 200
    flipside.work_done()
    return [call.decoded for call in flipside.fake.calls_to("chat.postMessage")[before:]]


def only_in_thread(flipside, channel: str, thread_ts: str) -> None:
    """Everything the app posted went to this assistant thread, and nothing else was sent."""
    posted = flipside.fake.calls_to("chat.postMessage")
    assert posted and all(call.ok for call in posted)
    assert {(call.args["channel"], call.args.get("thread_ts")) for call in posted} == {(channel, thread_ts)}
    assert not flipside.fake.calls_to("chat.postEphemeral")
    assert not flipside.fake.calls_to("response_url")


def all_text(reply: dict) -> str:
    return reply["text"] + json.dumps(reply.get("blocks") or [], ensure_ascii=False)


def buttons(reply: dict) -> list[dict]:
    return [
        block["accessory"]
        for block in reply.get("blocks") or []
        if (block.get("accessory") or {}).get("type") == "button"
    ]


def test_opening_the_pane_offers_the_suggested_prompts_in_that_thread(flipside):
    channel, thread_ts = open_pane(flipside)

    thread = flipside.fake.assistant_thread(channel, thread_ts)
    assert thread["prompts"] == list(SUGGESTED_PROMPTS)
    [call] = flipside.fake.calls_to("assistant.threads.setSuggestedPrompts")
    assert call.ok and call.args["channel_id"] == channel and call.args["thread_ts"] == thread_ts
    only_in_thread(flipside, channel, thread_ts)
    # The thread's context (the channel the person looks at) is not kept: no thread read-back.
    assert not flipside.fake.calls_to("conversations.replies")


def test_who_can_teach_me_lists_available_teachers_with_a_button_each(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.SENIOR, department="Finance")
    early = {"stage": CareerStage.EARLY, "department": "Tech"}
    george = add_person(flipside.db, "U2", **early, teaches="Terraform", name="George Miller")
    amara = add_person(flipside.db, "U3", **early, teaches="terraform")
    with flipside.db.transaction() as session:
        session.get(Person, amara).paused = True  # paused people are not offered
        topic_id = session.query(Topic).filter_by(key="terraform").one().id
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "who can tech me terraform?")

    assert "George Miller" in all_text(reply) and "Terraform" in all_text(reply)
    assert [(b["action_id"], b["value"]) for b in buttons(reply)] == [
        (Action.REQUEST_TEACHER, f"{topic_id}:{george}")
    ]
    thread = flipside.fake.assistant_thread(channel, thread_ts)
    assert thread["statuses"] == [STATUS] and thread["status"] == ""  # shown, then cleared by the reply
    [status] = flipside.fake.calls_to("assistant.threads.setStatus")
    assert status.args["channel_id"] == channel and status.args["thread_ts"] == thread_ts
    assert "<@" not in all_text(reply)  # named, never mentioned: nobody is pinged
    only_in_thread(flipside, channel, thread_ts)


def test_an_unknown_topic_gets_a_way_forward(flipside):
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "can anyone teach me k8s?")

    assert "Nobody in Flipside has said they can teach *k8s* yet" in reply["text"]
    assert "/teachme k8s" in reply["text"] and not buttons(reply)


def test_what_am_i_learning_shows_wishes_why_they_wait_and_the_next_round(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.SENIOR, department="Finance", learns="Excel")
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "what am i learnin")

    text = all_text(reply)
    assert "*Excel*: nobody teaches it yet" in text
    assert "<!date^" in text and "UTC>" in text  # each reader's timezone, UTC as the fallback
    only_in_thread(flipside, channel, thread_ts)


def test_whats_on_this_week_lists_sessions_with_the_sign_up_button(flipside):
    host = add_person(flipside.db, "U2", stage=CareerStage.EARLY, department="Tech", name="George Miller")
    now = utcnow()
    with flipside.db.transaction() as session:
        soon = LunchSession(
            team_id="T1", host_id=host, title="Canva <!here>", starts_at=now + timedelta(days=2)
        )
        later = LunchSession(team_id="T1", host_id=host, title="Later", starts_at=now + timedelta(days=12))
        session.add_all([soon, later])
        session.flush()
        soon_id = soon.id
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "anything on this week")

    text = all_text(reply)
    assert "Canva &lt;!here&gt;" in text and "Later" not in text and "<!here>" not in text
    assert [(b["action_id"], b["value"]) for b in buttons(reply)] == [(Action.LUNCH_SIGN_UP, str(soon_id))]
    assert "hosted by George Miller" in text


def test_what_could_i_teach_shows_topics_in_demand(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Tech", teaches="Excel")
    add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Finance", learns="excel, Rust")
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "What could I teach?")

    text = all_text(reply)
    assert "*Excel*: 1 person waiting" in text and "*Rust*: 1 wish" in text


@pytest.mark.parametrize("question", ["hello", "asdf qwerty zxcv", "<!channel> hey <@U3> zzz"])
def test_greetings_and_nonsense_get_the_help_and_ping_nobody(flipside, question):
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, question)

    text = all_text(reply)
    assert "What could I teach?" in text
    assert "<!" not in text.replace("<!date", "") and "<@" not in text
    only_in_thread(flipside, channel, thread_ts)


def test_typed_topics_are_escaped(flipside):
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "who can teach me @channel & <b>tricks</b>")

    text = all_text(reply)
    assert "@channel" not in text and "<b>" not in text and "<!channel>" not in text
    assert "@\u2060channel" in text


def test_the_context_changing_and_direct_messages_outside_a_thread_post_nothing(flipside):
    channel, thread_ts = open_pane(flipside)
    flipside.fake.reset()
    changed = {
        "type": "assistant_thread_context_changed",
        "assistant_thread": {"user_id": "U1", "channel_id": channel, "thread_ts": thread_ts, "context": {}},
        "event_ts": thread_ts,
    }
    top_level = {"type": "message", "channel_type": "im", "channel": channel, "user": "U1", "text": "hi"}
    top_level["ts"] = top_level["event_ts"] = "1800000001.000001"

    assert flipside.event(changed).status == 200
    assert flipside.event(top_level).status == 200
    flipside.work_done()

    assert flipside.fake.calls == []


def test_a_status_slack_refuses_does_not_stop_the_answer(flipside):
    channel, thread_ts = open_pane(flipside)
    flipside.fake.fail_next("assistant.threads.setStatus", error="invalid_thread_ts")

    [reply] = ask(flipside, channel, thread_ts, "what am i learning")

    assert "no open wishes" in reply["text"] or "0 open wishes" in reply["text"]


@pytest.mark.expect_errors(r"the assistant could not answer", reply=True)
def test_a_failure_is_told_kindly_in_the_thread(flipside, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("bot.listeners.assistant.answer_question", broken)
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "what am i learning")

    assert reply["text"] == SORRY
    only_in_thread(flipside, channel, thread_ts)


def test_without_the_assistant_scope_the_answer_still_comes(flipside):
    flipside.fake.grant_scopes(["chat:write", "im:history", "users:read"])
    channel, thread_ts = open_pane(flipside)

    [reply] = ask(flipside, channel, thread_ts, "what could i teach")

    assert "canteach" in reply["text"] or "/canteach" in all_text(reply)
    calls = flipside.fake.calls_to("assistant.threads.setStatus")
    assert [call.error for call in calls] == ["missing_scope"]
