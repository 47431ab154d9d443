"""Lunch 'n' Learn end to end: signed requests to the real app over HTTP, Web API calls to the fake."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import ProgrammeDefaults
from bot.ids import Action, Block, Modal
from bot.jobs import lunch as lunch_jobs
from bot.scheduler import job_context
from bot.services import learning, profiles
from bot.services.lunch import proposing, seats
from bot.views.plaintext import blocks_to_text
from models import CareerStage, LunchFeedback, LunchSession, LunchSignup, SignupStatus, SkillLevel, utcnow
from tests import payloads
from tests.conftest import TEAM, Flipside, make_settings, serve
from tests.factories import eventually

CHANNEL = "CLUNCH"


@pytest.fixture
def lnl(database, fake_slack) -> Iterator[Flipside]:
    """The real app with the Lunch 'n' Learn listeners, and a programme channel."""
    settings = make_settings(fake_slack, database, programme=ProgrammeDefaults(channel_id=CHANNEL))
    yield from serve(settings, database, fake_slack)


def future_day(days: int = 10) -> str:
    return (utcnow() + timedelta(days=days)).date().isoformat()


def modal_values(**overrides: Any) -> dict[str, dict[str, Any]]:
    values = {
        Block.TITLE: payloads.text_input("Canva in 30 minutes"),
        Block.TOPIC: payloads.text_input("Canva"),
        Block.DESCRIPTION: payloads.text_input("Posters without a designer."),
        Block.HOST: {"type": "users_select", "selected_user": "U1"},
        Block.DATE: {"type": "datepicker", "selected_date": future_day()},
        Block.TIME: {"type": "timepicker", "selected_time": "12:30", "timezone": "Europe/London"},
        Block.DURATION: {"type": "number_input", "value": "45"},
        Block.LOCATION: payloads.text_input("https://zoom.us/j/123"),
        Block.SEATS: {"type": "number_input", "value": "2"},
    }
    values.update(overrides)
    return values


def propose(lnl: Flipside, *, user: str = "U1", **overrides: Any) -> payloads.Reply:
    metadata = json.dumps({"tz": "Europe/London", "channel_id": "C0GENERAL"})
    return lnl.submit(Modal.LUNCH_PROPOSE, modal_values(**overrides), user=user, private_metadata=metadata)


def announced(lnl: Flipside, count: int = 1) -> list[dict[str, Any]]:
    eventually(lambda: len(lnl.fake.messages(CHANNEL)) >= count)

    def stored() -> bool:
        with lnl.db.transaction() as session:
            lunches = session.scalars(select(LunchSession)).all()
            return bool(lunches) and all(lunch.message_ts for lunch in lunches)

    eventually(stored)
    return lnl.fake.messages(CHANNEL)


def only_session(lnl: Flipside) -> LunchSession:
    with lnl.db.transaction() as session:
        return session.scalars(select(LunchSession)).one()


def post_text(lnl: Flipside) -> str:
    [post] = lnl.fake.messages(CHANNEL)
    return blocks_to_text(post.get("blocks") or [])


def click(lnl: Flipside, action_id: str, value: str, *, user: str, tag: str = "") -> str:
    """Click a button on the announcement; returns the response-url name the reply goes to."""
    name = f"{action_id}-{user}-{tag or time.monotonic_ns()}"
    reply = lnl.action(action_id, value, user=user, response_url=lnl.fake.response_url(name), channel=CHANNEL)
    assert reply.status == 200
    return name


def answer(lnl: Flipside, name: str) -> str:
    calls = eventually(lambda: [c for c in lnl.fake.calls_to("response_url") if c.path.endswith("/" + name)])
    return calls[-1].args["text"]


def menu(lnl: Flipside, value: str, *, user: str) -> str:
    name = f"menu-{user}-{time.monotonic_ns()}"
    action = {"type": "overflow", "action_id": Action.LUNCH_HOST_MENU, "block_id": "b",
              "selected_option": {"value": value}, "action_ts": "1"}  # fmt: skip
    lnl.action(Action.LUNCH_HOST_MENU, user=user, action=action, response_url=lnl.fake.response_url(name))
    return name


def dms(lnl: Flipside, user: str) -> list[str]:
    return [m["text"] for m in lnl.fake.messages(user)]


def attending(lnl: Flipside) -> list[str]:
    with lnl.db.transaction() as session:
        return [
            signup.person.slack_user_id
            for signup in session.scalars(
                select(LunchSignup)
                .where(LunchSignup.status == SignupStatus.ATTENDING)
                .order_by(LunchSignup.id)
            )
        ]


# ----------------------------------------------------------------------------- proposing


def test_lunchnlearn_opens_the_proposal_modal_on_my_clock(lnl):
    assert lnl.command("/lunchnlearn", user="U2").status == 200
    [opened] = lnl.fake.wait_for("views.open")
    view = opened.decoded["view"]
    assert view["callback_id"] == Modal.LUNCH_PROPOSE
    time_block = next(b for b in view["blocks"] if b.get("block_id") == Block.TIME)
    assert time_block["element"]["timezone"] == "America/New_York"  # George's Slack timezone
    assert json.loads(view["private_metadata"])["channel_id"] == "C0GENERAL"


def test_without_a_programme_channel_i_am_told_how_an_admin_sets_one(lnl):
    with lnl.db.transaction() as session:
        profiles.programme_settings(session, team_id=TEAM, defaults=lnl.settings.programme).channel_id = None
    lnl.command("/lunchnlearn")
    [reply] = lnl.replies()
    assert "Settings" in reply["text"] and "admin" in reply["text"]
    lnl.work_done()
    assert lnl.fake.calls_to("views.open") == []


def test_bad_input_comes_back_as_inline_errors_and_nothing_is_posted(lnl):
    reply = propose(
        lnl,
        **{
            Block.TITLE: payloads.text_input("x" * 3000),
            Block.DATE: {"type": "datepicker", "selected_date": "2020-01-01"},
            Block.DURATION: {"type": "number_input", "value": "0"},
            Block.SEATS: {"type": "number_input", "value": "-1"},
            Block.LOCATION: payloads.text_input("ftp://files.example.com"),
        },
    )
    body = reply.json()
    assert reply.status == 200 and body["response_action"] == "errors"
    assert set(body["errors"]) == {Block.TITLE, Block.DATE, Block.DURATION, Block.SEATS, Block.LOCATION}
    lnl.work_done()
    assert lnl.fake.calls_to("chat.postMessage") == []
    with lnl.db.transaction() as session:
        assert session.scalars(select(LunchSession)).all() == []


def test_a_proposal_is_announced_in_the_channel_and_stored_in_utc(lnl):
    day = future_day()
    timepicker = {"type": "timepicker", "selected_time": "12:30", "timezone": "America/New_York"}
    reply = propose(lnl, user="U2", **{Block.HOST: {"type": "users_select", "selected_user": "U2"},
                                        Block.TIME: timepicker})  # fmt: skip
    assert reply.status == 200 and not reply.body
    [post] = announced(lnl)
    methods = [c.method for c in lnl.fake.calls if c.method in ("conversations.join", "chat.postMessage")]
    assert methods[0] == "conversations.join"  # the bot joins the public channel before posting
    lunch = only_session(lnl)
    local = datetime.combine(
        datetime.fromisoformat(day).date(), datetime.min.time().replace(hour=12, minute=30)
    )
    assert lunch.starts_at == local.replace(tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    assert (lunch.channel_id, lunch.message_ts) == (CHANNEL, post["ts"])
    text = blocks_to_text(post["blocks"])
    assert "Canva in 30 minutes" in text and "0 of 2 seats taken" in text and "[Sign up]" in text
    [ephemeral] = eventually(lambda: lnl.fake.ephemerals("C0GENERAL"))
    assert ephemeral["user"] == "U2" and "is announced in <#CLUNCH>" in ephemeral["text"]


def test_an_announcement_refused_with_not_in_channel_is_posted_once_after_joining(lnl, fake_slack):
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")  # e.g. the bot was removed
    assert propose(lnl).status == 200
    lnl.work_done()
    [post] = announced(lnl)  # the outbox joined the public channel and posted again, once
    assert only_session(lnl).message_ts == post["ts"]
    [ephemeral] = eventually(lambda: fake_slack.ephemerals("C0GENERAL"))
    assert "is announced in <#CLUNCH>" in ephemeral["text"]


def test_people_who_wished_for_the_topic_are_told_once(lnl):
    with lnl.db.transaction() as session:
        fan = profiles.get_or_create_person(
            session, team_id=TEAM, slack_user_id="U3", defaults=lnl.settings.programme
        )
        learning.add_wishes(session, fan, "canva", now=utcnow())
    propose(lnl)
    announced(lnl)
    [notice] = eventually(lambda: dms(lnl, "U3"))
    assert "You wanted to learn *Canva*" in notice
    lnl.command("/lunchnlearn", "announce")
    assert "already announced" in lnl.replies()[-1]["text"]
    assert len(dms(lnl, "U3")) == 1


def test_typed_markup_never_pings_anyone(lnl):
    propose(lnl, **{Block.TITLE: payloads.text_input("<!channel> free pizza & <@U2>"),
                    Block.LOCATION: payloads.text_input("<!here> kitchen")})  # fmt: skip
    [post] = announced(lnl)
    sent = post["text"] + json.dumps(post["blocks"])
    assert "<!channel>" not in sent and "<!here>" not in sent and "<@U2>" not in sent
    assert "&lt;!channel&gt; free pizza &amp; &lt;@U2&gt;" in sent


# ----------------------------------------------------------------------------- channel problems


def test_a_private_channel_without_the_bot_gets_clear_instructions_and_a_retry(lnl):
    lnl.fake.set_channel(CHANNEL, is_private=True)
    lnl.fake.fail_next("chat.postMessage", error="not_in_channel")
    propose(lnl)
    [ephemeral] = eventually(lambda: lnl.fake.ephemerals("C0GENERAL"))
    assert "/invite @Flipside" in ephemeral["text"] and "/lunchnlearn announce" in ephemeral["text"]
    lnl.work_done()
    assert only_session(lnl).message_ts is None
    lnl.command("/lunchnlearn", "announce")  # someone invited the bot meanwhile
    announced(lnl)
    assert only_session(lnl).message_ts


def test_an_archived_channel_is_explained_and_nothing_is_posted(lnl):
    lnl.fake.set_channel(CHANNEL, is_archived=True)
    propose(lnl)
    [ephemeral] = eventually(lambda: lnl.fake.ephemerals("C0GENERAL"))
    assert "archived" in ephemeral["text"]
    lnl.work_done()
    assert lnl.fake.messages(CHANNEL) == []


# ----------------------------------------------------------------------------- seats


def test_sign_ups_update_the_post_and_the_waitlist_moves_up(lnl):
    propose(lnl, **{Block.SEATS: {"type": "number_input", "value": "1"}})
    announced(lnl)
    session_id = str(only_session(lnl).id)

    assert "You're in" in answer(lnl, click(lnl, Action.LUNCH_SIGN_UP, session_id, user="U2"))
    eventually(lambda: "1 of 1 seats taken" in post_text(lnl) and "Going: george" in post_text(lnl))
    assert "already signed up" in answer(lnl, click(lnl, Action.LUNCH_SIGN_UP, session_id, user="U2"))
    assert "#1 on the waitlist" in answer(lnl, click(lnl, Action.LUNCH_SIGN_UP, session_id, user="U3"))
    assert "hosting" in answer(lnl, click(lnl, Action.LUNCH_SIGN_UP, session_id, user="U1"))
    assert "weren't signed up" in answer(
        lnl, click(lnl, Action.LUNCH_CANCEL_SIGNUP, session_id, user="UADMIN")
    )
    eventually(lambda: "1 person on the waitlist" in post_text(lnl))

    assert "free for someone else" in answer(
        lnl, click(lnl, Action.LUNCH_CANCEL_SIGNUP, session_id, user="U2")
    )
    [promoted] = eventually(lambda: dms(lnl, "U3"))
    assert "A seat freed up" in promoted
    eventually(lambda: "Going: amara" in post_text(lnl))
    assert attending(lnl) == ["U3"]


def test_eight_people_racing_for_the_last_seats_never_overfill_the_session(lnl):
    racers = [f"URACE{n}" for n in range(8)]
    for user_id in racers:
        lnl.fake.add_user(user_id, name=user_id.lower(), real_name=f"Racer {user_id}")
    propose(lnl, **{Block.SEATS: {"type": "number_input", "value": "3"}})
    announced(lnl)
    session_id = str(only_session(lnl).id)
    barrier = threading.Barrier(len(racers))

    def race(user_id: str) -> None:
        barrier.wait()
        click(lnl, Action.LUNCH_SIGN_UP, session_id, user=user_id, tag="race")

    threads = [threading.Thread(target=race, args=(user_id,)) for user_id in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    texts = [answer(lnl, f"{Action.LUNCH_SIGN_UP}-{user_id}-race") for user_id in racers]
    assert sum("You're in" in text for text in texts) == 3
    assert sum("on the waitlist" in text for text in texts) == 5
    assert len(attending(lnl)) == 3
    # Whatever order the redraws land in, the post ends up showing the final state.
    eventually(lambda: "Full (3 of 3 seats taken) · 5 people on the waitlist" in post_text(lnl))


# ----------------------------------------------------------------------------- host controls


def test_only_the_host_edits_and_attendees_hear_about_each_edit_once(lnl):
    propose(lnl)
    announced(lnl)
    lunch = only_session(lnl)
    click(lnl, Action.LUNCH_SIGN_UP, str(lunch.id), user="U2")
    eventually(lambda: attending(lnl) == ["U2"])

    assert "Only the host" in answer(lnl, menu(lnl, f"edit:{lunch.id}", user="U3"))
    menu(lnl, f"edit:{lunch.id}", user="U1")
    [opened] = lnl.fake.wait_for("views.open")
    view = opened.decoded["view"]
    assert view["callback_id"] == Modal.LUNCH_EDIT

    later = {"type": "timepicker", "selected_time": "13:00", "timezone": "Europe/London"}
    edit = modal_values(**{Block.TIME: later, Block.LOCATION: payloads.text_input("Room 4")})
    for _ in range(2):  # the same edit twice: one DM
        reply = lnl.submit(Modal.LUNCH_EDIT, edit, user="U1", private_metadata=view["private_metadata"])
        assert reply.status == 200 and not reply.body
    [notice] = eventually(lambda: dms(lnl, "U2"))
    assert "has changed (time and place)" in notice
    eventually(lambda: "Room 4" in post_text(lnl))
    host_dms = eventually(lambda: len(dms(lnl, "U1")) >= 2 and dms(lnl, "U1"))
    assert "Saved" in host_dms[0] and "Nothing changed" in host_dms[1]
    assert len(dms(lnl, "U2")) == 1
    too_few = modal_values(**{Block.SEATS: {"type": "number_input", "value": "0"}})
    errors = lnl.submit(
        Modal.LUNCH_EDIT, too_few, user="U1", private_metadata=view["private_metadata"]
    ).json()
    assert errors["response_action"] == "errors" and Block.SEATS in errors["errors"]


def test_an_admin_cancels_and_everyone_signed_up_is_told(lnl):
    propose(lnl)
    announced(lnl)
    lunch = only_session(lnl)
    click(lnl, Action.LUNCH_SIGN_UP, str(lunch.id), user="U2")
    eventually(lambda: attending(lnl) == ["U2"])
    menu(lnl, f"cancel:{lunch.id}", user="UADMIN")
    [opened] = lnl.fake.wait_for("views.open")
    metadata = opened.decoded["view"]["private_metadata"]
    reason = {Block.REASON: payloads.text_input("Sorry, the host is off sick.")}
    assert lnl.submit(Modal.LUNCH_EDIT, reason, user="UADMIN", private_metadata=metadata).status == 200
    eventually(lambda: "Cancelled: Lunch 'n' Learn" in post_text(lnl))
    [notice] = eventually(lambda: dms(lnl, "U2"))
    assert "is cancelled" in notice
    assert "was cancelled" in answer(lnl, click(lnl, Action.LUNCH_SIGN_UP, str(lunch.id), user="U3"))


def test_the_calendar_file_arrives_in_my_dm(lnl):
    propose(lnl)
    announced(lnl)
    menu(lnl, f"ics:{only_session(lnl).id}", user="U2")
    [upload] = eventually(lambda: lnl.fake.uploaded_files())
    assert upload["name"].endswith(".ics") and upload["channel"] == "DU2"
    assert upload["bytes"].startswith(b"BEGIN:VCALENDAR\r\n")


def test_list_shows_upcoming_sessions_with_my_sign_ups_marked(lnl):
    propose(lnl)
    announced(lnl)
    click(lnl, Action.LUNCH_SIGN_UP, str(only_session(lnl).id), user="U2")
    eventually(lambda: attending(lnl) == ["U2"])
    lnl.command("/lunchnlearn", "list", user="U2")
    [reply] = eventually(
        lambda: [c.decoded for c in lnl.fake.calls_to("response_url") if "lunchnlearn-U2" in c.path]
    )
    text = blocks_to_text(reply["blocks"])
    assert "Canva in 30 minutes" in text and "You're going" in text and "[Cancel my seat]" in text


def test_unknown_subcommands_get_help(lnl):
    lnl.command("/lunchnlearn", "dance")
    assert "/lunchnlearn list" in lnl.replies()[0]["text"]


# ----------------------------------------------------------------------------- scheduled work


def jobs_at(lnl: Flipside, now: datetime):
    return job_context(settings=lnl.settings, database=lnl.db, client=lnl.app.client, now=lambda: now)


def seeded_session(lnl: Flipside, starts_at: datetime) -> int:
    with lnl.db.transaction() as session:
        people = {
            user_id: profiles.get_or_create_person(
                session, team_id=TEAM, slack_user_id=user_id, defaults=lnl.settings.programme
            )
            for user_id in ("U1", "U2", "U3")
        }
        proposal = proposing.Proposal(
            title="Canva basics",
            topic="Canva",
            description="",
            host_user_id="U1",
            starts_at=starts_at,
            duration_minutes=60,
            location="https://zoom.us/j/1",
            capacity=None,
        )
        lunch = proposing.create_session(
            session,
            proposal=proposal,
            proposer=people["U1"],
            host=people["U1"],
            now=starts_at - timedelta(days=5),
        )
        for user_id in ("U2", "U3"):
            seats.sign_up(
                session, session_id=lunch.id, person=people[user_id], now=starts_at - timedelta(days=4)
            )
        return lunch.id


def test_reminders_go_out_once_to_host_and_attendees(lnl):
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    seeded_session(lnl, start)
    ctx = jobs_at(lnl, start - timedelta(days=1))
    assert lunch_jobs.send_reminders(ctx) == {TEAM: 3}
    assert lunch_jobs.send_reminders(ctx) == {TEAM: 0}
    [reminder] = dms(lnl, "U2")
    assert "Reminder:" in reminder
    post = lnl.fake.messages("U2")[0]
    assert "Add to Google Calendar" in json.dumps(post["blocks"])
    assert "You host" in dms(lnl, "U1")[0]
    lunch_jobs.send_reminders(jobs_at(lnl, start - timedelta(minutes=10)))
    assert len(dms(lnl, "U2")) == 2


def test_feedback_is_asked_after_the_session_and_the_host_sees_the_results(lnl):
    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    session_id = seeded_session(lnl, start)
    assert lunch_jobs.ask_feedback(jobs_at(lnl, utcnow())) == {TEAM: {"asked": 2, "host_summaries": 0}}
    assert lunch_jobs.ask_feedback(jobs_at(lnl, utcnow()))[TEAM]["asked"] == 0
    [ask] = lnl.fake.messages("U2")
    radio = next(b for b in ask["blocks"] if b["type"] == "actions")["elements"][0]
    action = {"type": "radio_buttons", "action_id": Action.LUNCH_FEEDBACK_RATE, "block_id": "b",
              "selected_option": {"value": radio["options"][1]["value"]}, "action_ts": "1"}  # fmt: skip
    lnl.action(
        Action.LUNCH_FEEDBACK_RATE, user="U2", action=action, response_url=lnl.fake.response_url("rate")
    )
    [opened] = lnl.fake.wait_for("views.open")
    view = opened.decoded["view"]
    assert view["callback_id"] == Modal.LUNCH_FEEDBACK
    note = {Block.RATING: payloads.select("4"), Block.NOTE: payloads.text_input("More templates <!here>")}
    lnl.submit(Modal.LUNCH_FEEDBACK, note, user="U2", private_metadata=view["private_metadata"])

    def noted() -> list[LunchFeedback]:
        with lnl.db.transaction() as session:
            return list(session.scalars(select(LunchFeedback).where(LunchFeedback.note.is_not(None))))

    [feedback] = eventually(noted)
    assert (feedback.rating, feedback.session_id) == (4, session_id)
    bad = lnl.submit(Modal.LUNCH_FEEDBACK, {Block.RATING: payloads.select(None)}, user="U2",
                     private_metadata=view["private_metadata"]).json()  # fmt: skip
    assert bad["response_action"] == "errors"
    summary = lunch_jobs.ask_feedback(jobs_at(lnl, utcnow() + timedelta(days=2)))
    assert summary[TEAM]["host_summaries"] == 1
    host_dm = lnl.fake.messages("U1")[-1]
    assert "4.0 average from 1 rating" in host_dm["text"]
    assert "&lt;!here&gt;" in json.dumps(host_dm["blocks"])


def test_weekly_lineup_is_posted_once_on_monday_morning(lnl):
    now = utcnow()
    monday = (now + timedelta(days=(7 - now.weekday()) % 7)).replace(
        hour=9, minute=5, second=0, microsecond=0
    )
    seeded_session(lnl, monday + timedelta(days=2))
    assert lunch_jobs.post_lineup(jobs_at(lnl, monday - timedelta(hours=1))) == {TEAM: "not due"}
    first = lunch_jobs.post_lineup(jobs_at(lnl, monday))
    second = lunch_jobs.post_lineup(jobs_at(lnl, monday + timedelta(minutes=30)))
    assert first[TEAM].endswith("posted") and second[TEAM].endswith("already posted")
    [lineup] = lnl.fake.messages(CHANNEL)
    assert "Canva basics" in blocks_to_text(lineup["blocks"])


def test_demand_brings_a_suggestion_whose_button_opens_a_prefilled_proposal(lnl):
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
    assert lunch_jobs.suggest_sessions(jobs_at(lnl, monday + timedelta(hours=1))) == {TEAM: 0}
    [suggestion] = lnl.fake.messages("U1")
    assert "3 colleagues want to learn *TikTok*" in suggestion["text"]
    button = next(b for b in suggestion["blocks"] if b["type"] == "actions")["elements"][0]
    lnl.action(Action.LUNCH_PROPOSE_FROM_SUGGESTION, button["value"], user="U1")
    [opened] = lnl.fake.wait_for("views.open")
    blocks = {b.get("block_id"): b for b in opened.decoded["view"]["blocks"]}
    assert blocks[Block.TOPIC]["element"]["initial_value"] == "TikTok"
    assert json.loads(opened.decoded["view"]["private_metadata"])["suggestion_id"] == int(button["value"])


# ----------------------------------------------------------------------------- error paths


def test_app_home_button_opens_the_proposal_modal(lnl):
    lnl.action(Action.OPEN_LUNCH_PROPOSE, user="U3")  # App Home: no response URL
    [opened] = lnl.fake.wait_for("views.open")
    assert opened.decoded["view"]["callback_id"] == Modal.LUNCH_PROPOSE


def test_when_uploads_fail_i_get_the_google_calendar_link_instead(lnl):
    propose(lnl)
    announced(lnl)
    lnl.fake.fail_next("files.getUploadURLExternal", error="missing_scope")
    assert "calendar.google.com" in answer(lnl, menu(lnl, f"ics:{only_session(lnl).id}", user="U2"))
    lnl.work_done()
    assert lnl.fake.uploaded_files() == []


def test_a_forged_cancel_from_someone_else_changes_nothing(lnl):
    propose(lnl)
    announced(lnl)
    lunch = only_session(lnl)
    metadata = json.dumps({"session_id": lunch.id, "action": "cancel"})
    assert lnl.submit(Modal.LUNCH_EDIT, {}, user="U3", private_metadata=metadata).status == 200
    [notice] = eventually(lambda: dms(lnl, "U3"))
    assert "Only the host" in notice
    assert only_session(lnl).status == "scheduled"


def test_a_rating_for_an_unknown_session_gets_a_clear_answer(lnl):
    action = {"type": "radio_buttons", "action_id": Action.LUNCH_FEEDBACK_RATE, "block_id": "b",
              "selected_option": {"value": "999:9"}, "action_ts": "1"}  # fmt: skip
    lnl.action(
        Action.LUNCH_FEEDBACK_RATE, user="U2", action=action, response_url=lnl.fake.response_url("bad")
    )
    assert "couldn't find" in answer(lnl, "bad")
    lnl.work_done()
    assert lnl.fake.calls_to("views.open") == []
