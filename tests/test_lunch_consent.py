"""Hosts consent and the daily limit, end to end: signed requests to the real app over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import ProgrammeDefaults
from bot.ids import Action, Block, Modal
from bot.jobs import lunch as lunch_jobs
from bot.services import learning, profiles
from models import CareerStage, HostConsent, LunchSession, LunchStatus, SkillLevel, utcnow
from tests import payloads
from tests.conftest import TEAM, Flipside, make_settings, serve
from tests.test_lunch_flow import CHANNEL, dms, jobs_at, modal_values, only_session, propose


@pytest.fixture
def lnl(database, fake_slack) -> Iterator[Flipside]:
    """The real app with a programme channel (as in test_lunch_flow)."""
    settings = make_settings(fake_slack, database, programme=ProgrammeDefaults(channel_id=CHANNEL))
    yield from serve(settings, database, fake_slack)


NAMED_HOST = {Block.HOST: {"type": "users_select", "selected_user": "U2"}}


def request_dm(lnl) -> dict[str, Any]:
    """The one request the named host (U2) received, with its buttons."""
    [request] = lnl.fake.messages("U2")
    return request


def host_requests(lnl, user: str) -> list[dict[str, Any]]:
    return [m for m in lnl.fake.messages(user) if Action.LUNCH_HOST_ACCEPT in str(m.get("blocks"))]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    return {element["action_id"]: element["value"] for element in actions["elements"]}


def click(lnl, action_id: str, value: str, *, user: str = "U2", name: str) -> str:
    """Click a button in the host's DM and wait until the app is done; returns what it answered."""
    assert lnl.action(action_id, value, user=user, response_url=lnl.fake.response_url(name)).status == 200
    lnl.work_done()
    [reply] = [c.args for c in lnl.fake.calls_to("response_url") if c.path.endswith("/" + name)]
    return reply


def ask_u2(lnl) -> dict[str, str]:
    assert propose(lnl, **NAMED_HOST).status == 200
    lnl.work_done()
    return buttons(request_dm(lnl))


def test_a_named_host_is_asked_first_and_nothing_is_posted_in_the_channel(lnl):
    ids = ask_u2(lnl)
    assert lnl.fake.messages(CHANNEL) == []
    lunch = only_session(lnl)
    assert ids == {Action.LUNCH_HOST_ACCEPT: str(lunch.id), Action.LUNCH_HOST_DECLINE: str(lunch.id)}
    assert (lunch.status, lunch.host_consent) == (LunchStatus.AWAITING_HOST, HostConsent.PENDING)
    assert "<@U1> would like you to host" in request_dm(lnl)["text"]
    [told] = lnl.fake.ephemerals("C0GENERAL")
    assert told["user"] == "U1" and "I've asked <@U2> to host" in told["text"]
    # Nobody else can answer for the host, and a forged sign-up finds nothing.
    assert (
        "Only the person asked"
        in click(lnl, Action.LUNCH_HOST_ACCEPT, str(lunch.id), user="U3", name="u3")["text"]
    )
    assert (
        "couldn't find" in click(lnl, Action.LUNCH_SIGN_UP, str(lunch.id), user="U3", name="signup")["text"]
    )
    lnl.command("/lunchnlearn", "announce")  # the proposer can't announce it around the host either
    lnl.work_done()
    assert lnl.fake.messages(CHANNEL) == [] and only_session(lnl).status == LunchStatus.AWAITING_HOST


def test_accepting_announces_the_session_once_and_tells_the_proposer(lnl):
    ids = ask_u2(lnl)
    reply = click(lnl, Action.LUNCH_HOST_ACCEPT, ids[Action.LUNCH_HOST_ACCEPT], name="accept")
    assert reply["replace_original"] is True  # the request's buttons are gone
    assert "You're hosting" in reply["text"] and "is announced in <#CLUNCH>" in reply["text"]
    [post] = lnl.fake.messages(CHANNEL)
    assert "Canva in 30 minutes" in post["text"]
    lunch = only_session(lnl)
    assert (lunch.status, lunch.message_ts) == (LunchStatus.SCHEDULED, post["ts"])
    [notice] = dms(lnl, "U1")
    assert "<@U2> agreed to host" in notice and "announced in <#CLUNCH>" in notice

    for action_id in (Action.LUNCH_HOST_ACCEPT, Action.LUNCH_HOST_DECLINE):  # a double click, a stale button
        again = click(lnl, action_id, ids[action_id], name=f"again-{action_id}")
        assert "already accepted" in again["text"] and again["replace_original"] is False
    assert len(lnl.fake.messages(CHANNEL)) == 1 and len(dms(lnl, "U1")) == 1
    assert only_session(lnl).status == LunchStatus.SCHEDULED


def test_declining_announces_nothing_cancels_the_session_and_tells_the_proposer(lnl):
    ids = ask_u2(lnl)
    reply = click(lnl, Action.LUNCH_HOST_DECLINE, ids[Action.LUNCH_HOST_DECLINE], name="decline")
    assert "Declined" in reply["text"] and reply["replace_original"] is True
    [notice] = dms(lnl, "U1")
    assert "<@U2> can't host" in notice and "didn't announce it" in notice
    lunch = only_session(lnl)
    assert (lunch.status, lunch.host_consent) == (LunchStatus.CANCELLED, HostConsent.DECLINED)

    again = click(lnl, Action.LUNCH_HOST_ACCEPT, ids[Action.LUNCH_HOST_ACCEPT], name="changed-my-mind")
    assert "already declined" in again["text"]
    assert lnl.fake.messages(CHANNEL) == [] and len(dms(lnl, "U1")) == 1
    assert only_session(lnl).status == LunchStatus.CANCELLED


def test_an_unanswered_request_expires_without_announcing(lnl):
    ids = ask_u2(lnl)
    assert lunch_jobs.expire_host_requests(jobs_at(lnl, utcnow() + timedelta(days=1))) == {TEAM: 0}
    assert lunch_jobs.expire_host_requests(jobs_at(lnl, utcnow() + timedelta(days=4))) == {TEAM: 1}
    assert lunch_jobs.expire_host_requests(jobs_at(lnl, utcnow() + timedelta(days=4))) == {TEAM: 0}
    [notice] = dms(lnl, "U1")
    assert "didn't answer in time" in notice
    late = click(lnl, Action.LUNCH_HOST_ACCEPT, ids[Action.LUNCH_HOST_ACCEPT], name="late")
    assert "expired" in late["text"]
    assert lnl.fake.messages(CHANNEL) == [] and only_session(lnl).host_consent == HostConsent.EXPIRED


def test_proposing_yourself_as_host_is_announced_at_once(lnl):
    assert propose(lnl).status == 200  # U1 hosts
    lnl.work_done()
    assert len(lnl.fake.messages(CHANNEL)) == 1
    assert only_session(lnl).status == LunchStatus.SCHEDULED and host_requests(lnl, "U1") == []


def test_over_the_daily_limit_the_modal_says_so_and_nothing_is_stored(lnl):
    assert lnl.settings.lunch_proposals_per_day == 3
    for n in range(3):
        reply = propose(lnl, **{Block.TITLE: payloads.text_input(f"Session {n}")})
        assert reply.status == 200 and not reply.body
    lnl.work_done()
    over = propose(lnl, **{Block.TITLE: payloads.text_input("One too many")})
    body = over.json()
    assert body["response_action"] == "errors" and "daily limit" in body["errors"][Block.TITLE]
    lnl.work_done()
    with lnl.db.transaction() as session:
        assert session.scalar(select(func.count(LunchSession.id))) == 3
        assert session.scalar(select(LunchSession.id).where(LunchSession.title == "One too many")) is None
    assert len(lnl.fake.messages(CHANNEL)) == 3
    assert propose(lnl, user="U3", **{Block.HOST: {"type": "users_select", "selected_user": "U3"}}).body == ""


def test_a_suggested_teacher_who_proposes_hosts_without_being_asked(lnl):
    now = utcnow()
    monday = (now + timedelta(days=(7 - now.weekday()) % 7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    with lnl.db.transaction() as session:
        for user_id in ("U2", "U3", "UADMIN"):
            wisher = profiles.get_or_create_person(
                session, team_id=TEAM, slack_user_id=user_id, defaults=lnl.settings.programme
            )
            learning.add_wishes(session, wisher, "TikTok", now=now)
        teacher = profiles.get_or_create_person(
            session, team_id=TEAM, slack_user_id="U1", defaults=lnl.settings.programme
        )
        teacher.career_stage = CareerStage.EARLY
        learning.add_skills(session, teacher, "tiktok", level=SkillLevel.EXPERT, now=now)
    assert lunch_jobs.suggest_sessions(jobs_at(lnl, monday)) == {TEAM: 1}
    [suggestion] = lnl.fake.messages("U1")
    lnl.action(
        Action.LUNCH_PROPOSE_FROM_SUGGESTION, buttons(suggestion)[Action.LUNCH_PROPOSE_FROM_SUGGESTION]
    )
    [opened] = lnl.fake.wait_for("views.open")
    view = opened.decoded["view"]
    prefilled = {b.get("block_id"): b for b in view["blocks"]}
    host = prefilled[Block.HOST]["element"]["initial_user"]
    assert host == "U1"  # the suggested teacher is the proposer, so the host
    values = modal_values(**{
        Block.TITLE: payloads.text_input(prefilled[Block.TITLE]["element"]["initial_value"]),
        Block.TOPIC: payloads.text_input("TikTok"),
        Block.HOST: {"type": "users_select", "selected_user": host},
    })  # fmt: skip
    reply = lnl.submit(Modal.LUNCH_PROPOSE, values, user="U1", private_metadata=view["private_metadata"])
    assert reply.status == 200 and not reply.body
    lnl.work_done()
    [post] = lnl.fake.messages(CHANNEL)
    assert "TikTok: a quick start" in post["text"]
    lunch = only_session(lnl)
    assert (lunch.status, lunch.host_consent) == (LunchStatus.SCHEDULED, HostConsent.ACCEPTED)
    assert host_requests(lnl, "U1") == []
    assert all("You wanted to learn *TikTok*" in text for text in dms(lnl, "U2"))
