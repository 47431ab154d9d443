"""The relationship pulse and the admins' monthly summary, end to end: the jobs, what Slack is asked
to show, the clicks over signed HTTP, and both jobs run twice (or after a crash) sending once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.ids import Action, Block, Modal
from bot.scheduler import job_context, run_job
from bot.services import pulse
from models import Pairing, PairingStatus, PulseAnswer, Workspace, utcnow
from tests import payloads
from tests.services.test_insights import Org


def run(flipside, job: str, now=None):
    context = job_context(
        settings=flipside.settings,
        database=flipside.db,
        client=flipside.app.client,
        **({"now": lambda: now} if now else {}),
    )
    return run_job(job, context)


def dm_messages(flipside, user: str) -> list[dict]:
    return flipside.fake.messages(flipside.fake.dm_channel_for(user))


def buttons(message: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found.setdefault(element["action_id"], []).append(element["value"])
    return found


@pytest.fixture
def paired(flipside):
    """Priya teaches George social media; they accepted 31 days ago."""
    with flipside.db.transaction() as session:
        org = Org(session)
        priya = org.person("U1", name="Priya")
        george = org.person("U2", name="George")
        pairing = org.pairing(george, priya, "social media", at=utcnow() - timedelta(days=32))
        pairing.accepted_at = utcnow() - timedelta(days=31)
        flipside.pairing_id = pairing.id
    return flipside


def stored(flipside) -> list[PulseAnswer]:
    with flipside.db.transaction() as session:
        return list(session.scalars(select(PulseAnswer).order_by(PulseAnswer.person_id)))


def test_both_people_are_asked_once_at_30_days_and_a_click_rates_the_pairing(paired):
    run(paired, "relationship-pulse")
    run(paired, "relationship-pulse")  # a second tick, or a second clock: nobody asked twice
    [to_george] = dm_messages(paired, "U2")
    assert len(dm_messages(paired, "U1")) == 1
    assert "How is it going?" in json.dumps(to_george["blocks"]) and "<@U1>" in json.dumps(
        to_george["blocks"]
    )
    assert len(stored(paired)) == 2 and all(row.number == 1 for row in stored(paired))

    rate_4 = buttons(to_george)[Action.PULSE_RATE][3]
    reply = paired.action(Action.PULSE_RATE, rate_4, user="U2", response_url=paired.fake.response_url("r"))
    assert reply.status == 200
    [ephemeral] = paired.replies(1)
    assert "Noted: 4/5" in ephemeral["text"]
    paired.work_done()
    george_answer = next(row for row in stored(paired) if row.rating is not None)
    assert (george_answer.rating, george_answer.stopped_meeting) == (4, False)

    # A forged value (a pairing that is not his) changes nothing.
    paired.action(Action.PULSE_RATE, "999:1:1", user="U2", response_url=paired.fake.response_url("x"))
    assert "couldn't find that question" in paired.replies(2)[-1]["text"]
    paired.work_done()
    assert [row.rating for row in stored(paired)].count(None) == 1


def test_a_private_note_can_go_to_the_learning_log_only_if_its_author_says_so(paired):
    run(paired, "relationship-pulse")
    [to_george] = dm_messages(paired, "U2")
    [value] = buttons(to_george)[Action.PULSE_NOTE]
    paired.action(Action.PULSE_NOTE, value, user="U2")
    [opened] = paired.fake.wait_for("views.open")
    assert opened.ok and opened.decoded["view"]["callback_id"] == Modal.PULSE_NOTE

    empty = paired.submit(
        Modal.PULSE_NOTE, {Block.NOTE: payloads.text_input("  ")}, user="U2", private_metadata=value
    )
    assert empty.json() == {
        "response_action": "errors",
        "errors": {Block.NOTE: "Write a note, or close this window."},
    }
    note = {
        Block.NOTE: payloads.text_input("We meet on Fridays <!channel>"),
        Block.SHARE_WITH_LOG: payloads.checkboxes("share"),
    }
    assert paired.submit(Modal.PULSE_NOTE, note, user="U2", private_metadata=value).status == 200
    paired.work_done()
    assert any("learning log" in m["text"] for m in dm_messages(paired, "U2"))
    with paired.db.transaction() as session:
        [shared] = pulse.notes_for_learning_log(session, pairing_id=paired.pairing_id)
    assert shared.note == "We meet on Fridays <!channel>"


def test_we_have_stopped_meeting_ends_the_pairing_and_the_partner_is_told_kindly(paired):
    run(paired, "relationship-pulse")
    [to_priya] = dm_messages(paired, "U1")
    [value] = buttons(to_priya)[Action.PULSE_STOPPED]
    paired.action(Action.PULSE_STOPPED, value, user="U1", response_url=paired.fake.response_url("s"))
    [ephemeral] = paired.replies(1)
    assert "closed the pairing" in ephemeral["text"]
    paired.work_done()
    with paired.db.transaction() as session:
        pairing = session.get(Pairing, paired.pairing_id)
        assert (pairing.status, pairing.end_reason) == (PairingStatus.COMPLETED, pulse.STOPPED_REASON)
    told = [m for m in dm_messages(paired, "U2") if "has come to an end" in json.dumps(m["blocks"])]
    assert len(told) == 1 and "no longer meeting" in json.dumps(told[0]["blocks"])

    paired.action(Action.PULSE_STOPPED, value, user="U1", response_url=paired.fake.response_url("again"))
    assert "already ended" in paired.replies(2)[-1]["text"]
    paired.work_done()
    assert len([m for m in dm_messages(paired, "U2") if "has come to an end" in json.dumps(m["blocks"])]) == 1
    run(paired, "relationship-pulse", now=utcnow() + timedelta(days=70))  # ended: no second pulse
    assert len(stored(paired)) == 2


def test_the_pulse_comes_back_every_60_days_while_the_pairing_lasts(paired):
    run(paired, "relationship-pulse")
    run(paired, "relationship-pulse", now=utcnow() + timedelta(days=59))
    assert {row.number for row in stored(paired)} == {1, 2}
    assert len(dm_messages(paired, "U2")) == 2


# --- the monthly summary ----------------------------------------------------------------------


@pytest.fixture
def installed_last_month(paired):
    with paired.db.transaction() as session:
        session.get(Workspace, "T1").installed_at = utcnow() - timedelta(days=60)
    return paired


def test_the_monthly_summary_goes_once_to_each_admin_with_its_chart(installed_last_month):
    flipside = installed_last_month
    assert run(flipside, "monthly-summary") == {"T1": "sent to 1"}
    assert run(flipside, "monthly-summary") == {"T1": "not due"}
    [chart] = flipside.fake.uploaded_files()
    assert chart["bytes"].startswith(b"\x89PNG") and chart["channel"] is None  # shared by the message only
    [summary] = dm_messages(flipside, "UADMIN")
    [image] = [block for block in summary["blocks"] if block["type"] == "image"]
    assert image["slack_file"] == {"id": chart["id"]}
    assert "Participants" in summary["blocks"][0]["text"]["text"]


@pytest.mark.expect_errors(r"job monthly-summary failed for workspace T1")
def test_a_crash_after_drawing_the_chart_still_sends_the_summary_once(installed_last_month):
    flipside = installed_last_month
    flipside.fake.fail_next("files.completeUploadExternal", error="internal_error")
    assert run(flipside, "monthly-summary") == {}  # failed, logged, nothing queued
    assert dm_messages(flipside, "UADMIN") == []
    assert run(flipside, "monthly-summary") == {"T1": "sent to 1"}  # the same process draws it again
    assert len(dm_messages(flipside, "UADMIN")) == 1 and len(flipside.fake.uploaded_files()) == 1


def test_the_summary_can_go_to_the_programme_channel_instead(installed_last_month):
    flipside = installed_last_month
    flipside.fake.set_channel("C0PROG", name="mentoring")
    with flipside.db.transaction() as session:
        from bot.services import profiles

        settings = profiles.programme_settings(session, team_id="T1", defaults=flipside.settings.programme)
        settings.channel_id, settings.summary_destination = "C0PROG", "channel"
    assert run(flipside, "monthly-summary") == {"T1": "sent to 1"}
    [posted] = flipside.fake.messages("C0PROG")
    assert any(block["type"] == "image" for block in posted["blocks"])
    assert dm_messages(flipside, "UADMIN") == []
