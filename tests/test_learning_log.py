"""A learning-log canvas for every pair, end to end: signed clicks and submissions in, canvases.* out.

The fake Slack answers canvases.* as docs.slack.dev documents them (tests/fakeslack_canvases.py);
here: the canvas is made once in the introduction's group DM, lines are added as the pairing goes
on, and refusals, rate limits and crashes never cost the introduction and never make two canvases.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.ids import Action, Block, Modal
from bot.scheduler import run_job
from models import (
    CareerStage,
    EntryStatus,
    LearningLog,
    LearningLogEntry,
    LogStatus,
    OutboxMessage,
    Pairing,
    Wish,
    utcnow,
)
from tests import payloads
from tests.conftest import manifest_bot_scopes
from tests.factories import add_person
from tests.test_home_flow import open_home, text_of
from tests.test_pairing_flow import checkin_value, click, jobs, pairing_value

NOTE = "Mainly LinkedIn <!channel> **posts** [x](http://evil) @here"


@pytest.fixture
def pair(flipside):
    """Priya (early career, London) can teach social media to George (executive, New York)."""
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Marketing", teaches="social media")
    add_person(
        flipside.db,
        "U2",
        stage=CareerStage.EXECUTIVE,
        department="Finance",
        learns="Social-Media",
        tz="America/New_York",
        tz_offset=-18000,
    )
    return flipside


def introduce(flipside) -> tuple[int, str]:
    """The weekly round proposes George (learner) and Priya (teacher); both accept. Returns the
    pairing id and their group DM."""
    with flipside.db.transaction() as session:
        session.execute(update(Wish).values(note=NOTE))
    run_job("matching-round", jobs(flipside))
    for count, user in enumerate(("U2", "U1"), start=1):
        value, pairing_id = pairing_value(flipside)
        assert click(flipside, Action.ACCEPT_PAIRING, user, value=value).status == 200
        flipside.replies(count)
    flipside.work_done()
    return pairing_id, flipside.fake.group_dm_channel_for("U1", "U2")


def intros(flipside, channel: str) -> list[dict]:
    return [m for m in flipside.fake.messages(channel) if "Meet your Flipside partner" in m["text"]]


def log_of(flipside, pairing_id: int) -> LearningLog:
    with flipside.db.transaction() as session:
        log = session.scalars(select(LearningLog).where(LearningLog.pairing_id == pairing_id)).one()
        session.expunge(log)
        return log


def edits(flipside) -> list[str]:
    """The markdown each canvases.edit added, checking each call's shape as Slack documents it."""
    added = []
    for call in flipside.fake.calls_to("canvases.edit"):
        [change] = call.decoded["changes"]  # one operation per call
        assert change["operation"] == "insert_at_end" and "section_id" not in change
        assert change["document_content"]["type"] == "markdown"
        if call.ok:
            added.append(change["document_content"]["markdown"])
    return added


def test_an_introduction_creates_the_pairs_canvas_in_their_group_dm(pair):
    pairing_id, group = introduce(pair)
    [create] = pair.fake.calls_to("conversations.canvases.create")
    assert create.ok and create.path.endswith("/conversations.canvases.create")
    args = create.decoded
    assert args["channel_id"] == group and args["title"] == "Learning log: Social-Media"
    assert (
        set(args["document_content"]) == {"type", "markdown"}
        and args["document_content"]["type"] == "markdown"
    )
    markdown = args["document_content"]["markdown"]
    assert markdown.startswith("# Learning log: Social-Media\n")
    assert "![](@U2) learns **Social-Media** from ![](@U1)." in markdown
    # The learner's note, inert: no broadcast, no link, no bold of theirs.
    assert r"Mainly LinkedIn \<\!channel\> \*\*posts\*\* \[x\](http://evil) @" + "\u2060here" in markdown
    assert "<!channel>" not in markdown and "@here" not in markdown
    assert "- [ ] A 20-30 minute coffee chat" in markdown and "What each of you can offer back" in markdown
    # When to meet: the suggested times in UTC and in each partner's clock (no date tokens in canvases).
    assert "UTC (" in markdown and "America/New_York for ![](@U2)" in markdown
    assert "<!date" not in markdown
    canvas = pair.fake.canvas_in(group)
    assert canvas is not None and canvas["markdown"] == markdown
    assert len(intros(pair, group)) == 1 and not pair.fake.calls_to("canvases.create")
    log = log_of(pair, pairing_id)
    assert log.status == LogStatus.READY and log.canvas_id == canvas["id"] and log.channel_id == group
    # The sweep finds nothing more to do: no second canvas, no second introduction.
    run_job("learning-logs", jobs(pair, utcnow() + timedelta(minutes=5)))
    assert len(pair.fake.calls_to("conversations.canvases.create")) == 1 and len(intros(pair, group)) == 1


def test_check_ins_meetings_learning_and_the_end_are_added_to_the_canvas(pair):
    pairing_id, group = introduce(pair)
    start = utcnow()
    run_job("pairing-followups", jobs(pair, start + timedelta(days=8)))  # the weekly check-in
    pair.work_done(timeout=30)  # all stored work done: then count, whatever the load
    assert len(pair.fake.calls_to("canvases.edit")) == 1
    met = {Block.RATING: payloads.select("5"), Block.NOTE: payloads.text_input("private words")}
    pair.submit(Modal.CHECKIN, met, user="U2", private_metadata=checkin_value(pair, "U2"))
    pair.work_done(timeout=30)  # all stored work done: then count, whatever the load
    assert len(pair.fake.calls_to("canvases.edit")) == 2
    # "We are done": the pairing ends with a closing line; then the learner says they learned it.
    done = pair.action(
        Action.CHECKIN_DONE, checkin_value(pair, "U1"), user="U1", response_url=pair.fake.response_url("done")
    )
    assert done.status == 200
    pair.work_done(timeout=30)  # all stored work done: then count, whatever the load
    assert len(pair.fake.calls_to("canvases.edit")) == 3
    learned = pair.action(
        Action.MARK_LEARNED, str(pairing_id), user="U2", response_url=pair.fake.response_url("learned")
    )
    assert learned.status == 200
    pair.work_done(timeout=30)  # all stored work done: then count, whatever the load
    assert len(pair.fake.calls_to("canvases.edit")) == 4
    pair.work_done()
    checkin, meeting, closing, learned_line = edits(pair)
    assert checkin.startswith("### Check-in, ") and "UTC" in checkin
    assert meeting.startswith("- Session 1 held, logged ") and meeting.endswith("by ![](@U2)")
    assert "private words" not in meeting and "5" not in meeting.split("held")[0].replace("Session 1", "")
    assert closing.startswith("---\n**Pairing ended, ") and "worked on **Social-Media**" in closing
    assert "in 1 session." in closing
    assert learned_line.startswith("- Learned it, ") and "![](@U2) learned **Social-Media**" in learned_line
    canvas = pair.fake.canvas_in(group)
    assert canvas["markdown"].endswith(learned_line) and canvas["markdown"].count("### Check-in") == 1
    with pair.db.transaction() as session:
        statuses = session.scalars(select(LearningLogEntry.status)).all()
    assert statuses == [EntryStatus.APPENDED] * 4
    # The check-in job again in the same week, a repeated click: nothing is added twice.
    run_job("pairing-followups", jobs(pair, start + timedelta(days=8, minutes=30)))
    pair.action(Action.MARK_LEARNED, str(pairing_id), user="U2", response_url=pair.fake.response_url("again"))
    pair.work_done()
    run_job("learning-logs", jobs(pair, utcnow() + timedelta(minutes=5)))
    assert len(pair.fake.calls_to("canvases.edit")) == 4


def test_a_conversation_that_refuses_a_canvas_gets_one_shared_with_both(pair):
    pair.fake.fail_next("conversations.canvases.create", error="restricted_action")
    pairing_id, group = introduce(pair)
    [create] = pair.fake.calls_to("canvases.create")
    assert create.ok and create.decoded["title"] == "Learning log: Social-Media"
    assert create.decoded["document_content"]["type"] == "markdown" and "channel_id" not in create.decoded
    [share] = pair.fake.calls_to("canvases.access.set")
    assert share.ok and share.args["access_level"] == "write" and "channel_ids" not in share.args
    assert sorted(share.args["user_ids"].split(",")) == ["U1", "U2"]
    [canvas] = pair.fake.canvases()
    assert canvas["channel_id"] is None and canvas["access"] == {
        "UBOT": "owner",
        "U1": "write",
        "U2": "write",
    }
    notices = [m for m in pair.fake.messages(group) if "shared with you both" in m["text"]]
    assert len(notices) == 1 and len(intros(pair, group)) == 1
    assert log_of(pair, pairing_id).status == LogStatus.READY and log_of(pair, pairing_id).standalone


@pytest.mark.parametrize("why", ["free plan", "canvases off", "scope not granted"])
def test_without_canvases_the_pairing_goes_on_and_pair_and_admin_are_told_once(pair, why):
    if why == "free plan":
        pair.fake.set_canvas_plan("free")
    elif why == "canvases off":
        pair.fake.set_canvas_plan("disabled")
    else:
        pair.fake.grant_scopes([s for s in manifest_bot_scopes() if not s.startswith("canvases:")])
    pairing_id, group = introduce(pair)
    assert pair.fake.canvases() == [] and len(intros(pair, group)) == 1
    told = [m for m in pair.fake.messages(group) if "learning-log canvas" in m["text"]]
    assert len(told) == 1 and "keep your notes in this conversation" in told[0]["text"]
    log = log_of(pair, pairing_id)
    assert log.status == LogStatus.UNAVAILABLE
    # The pairing works as today: check-ins go out, nothing is owed to a canvas, nobody is told again.
    run_job("pairing-followups", jobs(pair, utcnow() + timedelta(days=8)))
    run_job("learning-logs", jobs(pair, utcnow() + timedelta(days=8)))
    pair.work_done()
    assert len([m for m in pair.fake.messages() if m["text"].startswith("Check-in")]) == 2
    assert not pair.fake.calls_to("canvases.edit")
    with pair.db.transaction() as session:
        assert session.scalars(select(LearningLogEntry)).all() == []
    assert len([m for m in pair.fake.messages(group) if "learning-log canvas" in m["text"]]) == 1
    # The admin's App Home says why, in a small line of the admin section.
    home = text_of(open_home(pair, "UADMIN"))
    assert "Learning-log canvases are off" in home
    expected = (
        "reinstall it"
        if why == "scope not granted"
        else ("plan has no canvases" if why == "free plan" else "")
    )
    assert expected in home
    assert "Learning-log canvases are off" not in text_of(open_home(pair, "U1", count=2))


def test_a_rate_limited_create_is_retried_after_retry_after_and_made_once(pair):
    pair.fake.fail_next("conversations.canvases.create", retry_after=30)
    pairing_id, group = introduce(pair)
    [refused] = pair.fake.calls_to("conversations.canvases.create")
    assert refused.answered == 429 and pair.fake.canvases() == []
    log = log_of(pair, pairing_id)
    assert log.status == LogStatus.PENDING and log.next_attempt_at > utcnow() + timedelta(seconds=20)
    run_job("learning-logs", jobs(pair, utcnow()))  # not due yet
    assert len(pair.fake.calls_to("conversations.canvases.create")) == 1
    run_job("learning-logs", jobs(pair, utcnow() + timedelta(seconds=31)))
    assert len(pair.fake.canvases()) == 1 and len(intros(pair, group)) == 1
    assert log_of(pair, pairing_id).status == LogStatus.READY
    assert not [m for m in pair.fake.messages(group) if "learning-log canvas" in m["text"]]


def test_a_rate_limited_edit_is_retried_later_once(pair):
    _, group = introduce(pair)
    pair.fake.fail_next("canvases.edit", retry_after=5)
    run_job("pairing-followups", jobs(pair, utcnow() + timedelta(days=8)))
    pair.fake.wait_for("canvases.edit")
    pair.work_done()
    assert "### Check-in" not in pair.fake.canvas_in(group)["markdown"]
    run_job("learning-logs", jobs(pair, utcnow() + timedelta(seconds=6)))
    assert pair.fake.canvas_in(group)["markdown"].count("### Check-in") == 1
    assert len(edits(pair)) == 1  # the 429 is not an edit


def test_after_a_crash_between_create_and_store_the_canvas_is_found_not_made_again(pair):
    """The process died after Slack made the canvas and before the id was stored: the row still says
    a create may be in flight. The next attempt finds the conversation's canvas by its marker."""
    pairing_id, group = introduce(pair)
    existing = pair.fake.canvas_in(group)
    with pair.db.transaction() as session:
        session.execute(
            update(LearningLog).values(status=LogStatus.CREATING, canvas_id=None, standalone=False)
        )
    run_job("learning-logs", jobs(pair, utcnow()))
    second = pair.fake.calls_to("conversations.canvases.create")[-1]
    assert second.error == "channel_canvas_already_exists"
    assert pair.fake.calls_to("conversations.info")[-1].decoded["channel"] == group
    [lookup] = pair.fake.calls_to("canvases.sections.lookup")
    assert json.loads(lookup.args["criteria"]) == {"contains_text": f"Flipside pairing #{pairing_id}"}
    assert len(pair.fake.canvases()) == 1 and not pair.fake.calls_to("canvases.create")
    log = log_of(pair, pairing_id)
    assert log.status == LogStatus.READY and log.canvas_id == existing["id"]


def test_a_canvas_the_pair_made_themselves_is_left_alone(pair):
    """Their group DM already has a canvas of their own: the log becomes a canvas shared with them."""
    group = pair.fake.group_dm_channel_for("U1", "U2")
    client = WebClient(token="xoxb-test", base_url=pair.fake.base_url)
    client.conversations_open(users="U1,U2")
    theirs = client.conversations_canvases_create(
        channel_id=group, document_content={"type": "markdown", "markdown": "# Our notes"}
    )["canvas_id"]
    pairing_id, _ = introduce(pair)
    assert (
        pair.fake.canvas_in(group)["id"] == theirs and pair.fake.canvas_in(group)["markdown"] == "# Our notes"
    )
    assert len(pair.fake.calls_to("canvases.create")) == 1 and log_of(pair, pairing_id).standalone


def test_an_edit_in_doubt_is_looked_up_before_it_is_written_again(pair):
    _, group = introduce(pair)
    run_job("pairing-followups", jobs(pair, utcnow() + timedelta(days=8)))
    pair.fake.wait_for("canvases.edit")
    pair.work_done()
    # As if the process died after Slack applied the edit and before it was marked.
    with pair.db.transaction() as session:
        session.execute(update(LearningLogEntry).values(status=EntryStatus.PENDING, in_doubt=True))
    run_job("learning-logs", jobs(pair, utcnow()))
    [lookup] = pair.fake.calls_to("canvases.sections.lookup")
    assert json.loads(lookup.args["criteria"])["contains_text"].startswith("Check-in, ")
    assert len(edits(pair)) == 1 and pair.fake.canvas_in(group)["markdown"].count("### Check-in") == 1
    with pair.db.transaction() as session:
        assert session.scalars(select(LearningLogEntry.status)).one() == EntryStatus.APPENDED


def test_a_standalone_create_left_unanswered_is_given_up_never_duplicated(pair):
    pair.fake.fail_next("conversations.canvases.create", error="restricted_action")
    pair.fake.fail_next("canvases.create", status=503, error="service_unavailable")
    pairing_id, group = introduce(pair)
    assert log_of(pair, pairing_id).status == LogStatus.CREATING  # a 5xx: it may have been made
    run_job("learning-logs", jobs(pair, utcnow() + timedelta(minutes=2)))
    assert len(pair.fake.calls_to("canvases.create")) == 1  # nothing finds a standalone canvas again
    assert log_of(pair, pairing_id).status == LogStatus.UNAVAILABLE
    assert len([m for m in pair.fake.messages(group) if "learning-log canvas" in m["text"]]) == 1
    assert "Learning-log canvases are off" not in text_of(open_home(pair, "UADMIN"))  # one pair's bad luck


def test_a_canvas_the_pair_deleted_gets_nothing_more_and_no_message(pair):
    pairing_id, group = introduce(pair)
    client = WebClient(token="xoxb-test", base_url=pair.fake.base_url)
    client.canvases_delete(canvas_id=log_of(pair, pairing_id).canvas_id)
    run_job("pairing-followups", jobs(pair, utcnow() + timedelta(days=8)))
    pair.fake.wait_for("canvases.edit")
    pair.work_done()
    assert pair.fake.calls_to("canvases.edit")[-1].error == "canvas_not_found"
    assert log_of(pair, pairing_id).status == LogStatus.UNAVAILABLE
    assert not [m for m in pair.fake.messages(group) if "learning-log canvas" in m["text"]]
    with pair.db.transaction() as session:
        assert session.scalars(select(LearningLogEntry.status)).one() == EntryStatus.SKIPPED


def test_the_canvas_waits_for_an_introduction_that_is_retried(pair):
    pair.fake.fail_next("chat.postMessage", error="internal_error", times=1)
    with pair.db.transaction() as session:
        session.execute(update(Wish).values(note=None))
    run_job("matching-round", jobs(pair))  # the proposals go out
    for count, user in enumerate(("U2", "U1"), start=1):
        value, pairing_id = pairing_value(pair)
        pair.fake.fail_next("chat.postMessage", error="internal_error") if user == "U1" else None
        click(pair, Action.ACCEPT_PAIRING, user, value=value)
        pair.replies(count)
    pair.work_done()
    group = pair.fake.group_dm_channel_for("U1", "U2")
    assert not intros(pair, group) and pair.fake.canvases() == []
    later = utcnow() + timedelta(minutes=2)
    run_job("deliver-outbox", jobs(pair, later))
    run_job("learning-logs", jobs(pair, later))
    assert len(intros(pair, group)) == 1 and len(pair.fake.canvases()) == 1
    markdown = pair.fake.canvas_in(group)["markdown"]
    assert "![](@U2), write here what exactly you want to learn" in markdown
    with pair.db.transaction() as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "intro")).one().attempts == 2
        assert session.get(Pairing, pairing_id) is not None


def test_a_pulse_note_goes_to_the_canvas_only_when_its_author_agrees(pair):
    _, group = introduce(pair)
    run_job("relationship-pulse", jobs(pair, utcnow() + timedelta(days=31)))
    pair.work_done()

    def pulse_note_value(user: str) -> str:
        for message in pair.fake.messages(pair.fake.dm_channel_for(user)):
            for block in message.get("blocks") or []:
                for element in block.get("elements") or []:
                    if element.get("action_id") == Action.PULSE_NOTE:
                        return element["value"]
        raise AssertionError(f"no pulse question for {user}")

    private = {Block.NOTE: payloads.text_input("Only for me")}
    shared = {
        Block.NOTE: payloads.text_input("Fridays suit us <!channel>"),
        Block.SHARE_WITH_LOG: payloads.checkboxes("share"),
    }
    assert (
        pair.submit(Modal.PULSE_NOTE, private, user="U1", private_metadata=pulse_note_value("U1")).status
        == 200
    )
    assert (
        pair.submit(Modal.PULSE_NOTE, shared, user="U2", private_metadata=pulse_note_value("U2")).status
        == 200
    )
    pair.work_done(timeout=30)
    [line] = edits(pair)
    assert line.startswith("- Pulse note, ") and "from ![](@U2)" in line and "Fridays suit us" in line
    assert "<!channel>" not in line and "Only for me" not in json.dumps(pair.fake.canvas_in(group))
    # The same note sent again adds nothing.
    pair.submit(Modal.PULSE_NOTE, shared, user="U2", private_metadata=pulse_note_value("U2"))
    pair.work_done(timeout=30)
    assert len(edits(pair)) == 1
