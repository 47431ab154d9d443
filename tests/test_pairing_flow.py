"""The pairing lifecycle end to end: round job -> DMs -> signed button clicks -> intro -> follow-ups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.ids import Action, Block, Modal
from bot.scheduler import job_context, run_job
from models import CareerStage, OutboxMessage, OutboxStatus, Pairing, PairingStatus, utcnow
from tests import payloads
from tests.factories import add_person, eventually


@pytest.fixture
def pair(flipside):
    """Priya (early career, Marketing) can teach social media to George (executive, Finance)."""
    db = flipside.db
    add_person(
        db, "U1", stage=CareerStage.EARLY, department="Marketing", teaches="social media", name="Priya"
    )
    add_person(
        db,
        "U2",
        stage=CareerStage.EXECUTIVE,
        department="Finance",
        learns="Social-Media",
        name="George",
        tz="America/New_York",
        tz_offset=-18000,
    )
    return flipside


def jobs(flipside, now=None):
    return job_context(
        settings=flipside.settings,
        database=flipside.db,
        client=flipside.app.client,
        now=(lambda: now) if now else utcnow,
    )


def proposal_dm(flipside, user):
    [call] = [
        c
        for c in flipside.fake.calls_to("chat.postMessage")
        if (c.decoded.get("channel") == user and "match" in c.decoded["text"].lower())
        or (c.decoded.get("channel") == user and "learn" in c.decoded["text"].lower())
    ][:1]
    return call


def click(flipside, action_id, user, *, value):
    messages = flipside.fake.messages(f"D{user}")
    message = messages[-1] if messages else {"ts": "1.0"}
    return flipside.action(
        action_id,
        value,
        user=user,
        message=message,
        channel=f"D{user}",
        response_url=flipside.fake.response_url(f"{action_id}-{user}"),
    )


def pairing_value(flipside):
    with flipside.db.transaction() as session:
        pairing = session.scalars(select(Pairing)).one()
        return f"{pairing.id}:{pairing.version}", pairing.id


def test_round_proposes_reverse_pair_and_dms_both(pair):
    result = run_job("matching-round", jobs(pair))
    assert "1 pairs" in result["T1"]
    posts = pair.fake.calls_to("chat.postMessage")
    assert {call.decoded["channel"] for call in posts} == {"U1", "U2"}
    learner_dm = next(c for c in posts if c.decoded["channel"] == "U2")
    text = str(learner_dm.decoded["blocks"])
    assert "Priya" in text or "<@U1>" in text
    assert "coffee chat" in text
    assert learner_dm.decoded["metadata"]["event_type"] == "flipside_outbox"
    actions = [
        el["action_id"]
        for b in learner_dm.decoded["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
    ]
    assert actions == [Action.ACCEPT_PAIRING, Action.DECLINE_PAIRING]
    with pair.db.transaction() as session:
        pairing = session.scalars(select(Pairing)).one()
        assert pairing.is_reverse and pairing.is_cross_department
        assert "you asked for it 2 weeks ago" in pairing.explanation


def test_round_twice_in_a_week_sends_nothing_more(pair):
    run_job("matching-round", jobs(pair))
    run_job("matching-round", jobs(pair))
    assert len(pair.fake.calls_to("chat.postMessage")) == 2


def test_both_accept_introduces_in_group_dm_and_redraws_dms(pair):
    run_job("matching-round", jobs(pair))
    value, pairing_id = pairing_value(pair)
    assert click(pair, Action.ACCEPT_PAIRING, "U2", value=value).status == 200
    [reply] = pair.replies()
    assert "once they say yes too" in reply["text"]
    # The teacher clicks the button as first drawn: the other side's answer does not make it stale.
    click(pair, Action.ACCEPT_PAIRING, "U1", value=value)
    assert "You both said yes" in pair.replies(2)[-1]["text"]
    opened = pair.fake.wait_for("conversations.open")
    assert set(opened[-1].decoded["users"].split(",")) == {"U1", "U2"}
    intro = eventually(lambda: pair.fake.messages(pair.fake.group_dm_channel_for("U1", "U2")))
    assert "Meet your Flipside partner" in intro[-1]["text"]
    assert "agenda" in str(intro[-1]["blocks"]).lower()

    def redrawn_as_paired():
        updates = pair.fake.calls_to("chat.update")
        return any("You are paired" in str(call.decoded.get("blocks")) for call in updates)

    eventually(redrawn_as_paired)
    with pair.db.transaction() as session:
        pairing = session.get(Pairing, pairing_id)
        assert pairing.status == PairingStatus.ACTIVE and pairing.checkin_due_at is not None


def test_double_click_and_foreign_clicks_change_nothing(pair):
    run_job("matching-round", jobs(pair))
    value, pairing_id = pairing_value(pair)
    click(pair, Action.ACCEPT_PAIRING, "U2", value=value)
    pair.replies(1)
    click(pair, Action.ACCEPT_PAIRING, "U2", value=value)
    assert "already answered" in pair.replies(2)[-1]["text"]
    pair.fake.add_user("U9", name="mallory")
    value, _ = pairing_value(pair)
    click(pair, Action.ACCEPT_PAIRING, "U9", value=value)
    assert "someone else" in pair.replies(3)[-1]["text"]
    click(pair, Action.DECLINE_PAIRING, "U2", value="garbage")
    assert "couldn't find" in pair.replies(4)[-1]["text"]
    with pair.db.transaction() as session:
        assert session.get(Pairing, pairing_id).status == PairingStatus.PROPOSED


def test_decline_tells_other_side_kindly_and_asks_reason(pair):
    run_job("matching-round", jobs(pair))
    value, pairing_id = pairing_value(pair)
    click(pair, Action.DECLINE_PAIRING, "U1", value=value)
    opened = pair.fake.wait_for("views.open")
    assert opened[-1].decoded["view"]["callback_id"] == Modal.DECLINE_REASON
    # Two messages say it: the proposal redrawn in place, and the kind notice (in either order).
    notice = eventually(
        lambda: [m for m in pair.fake.messages("DU2") if "No hard feelings" in str(m.get("blocks"))]
    )
    assert "won't go ahead" in str(notice[-1]["blocks"])
    reply = pair.submit(
        Modal.DECLINE_REASON,
        {Block.REASON: payloads.text_input("Busy quarter <!channel>")},
        user="U1",
        private_metadata=str(pairing_id),
    )
    assert reply.status == 200

    def reason_saved():
        with pair.db.transaction() as session:
            pairing = session.get(Pairing, pairing_id)
            return (
                pairing.status == PairingStatus.DECLINED
                and pairing.decline_reason == "Busy quarter <!channel>"
            )

    eventually(reason_saved)
    # A stale button: the learner accepts after the teacher declined.
    click(pair, Action.ACCEPT_PAIRING, "U2", value=value)
    assert "changed since" in pair.replies(2)[-1]["text"]
    # Declined pairs are remembered: the next round does not propose them again.
    later = utcnow() + timedelta(days=7)
    assert "0 pairs" in run_job("matching-round", jobs(pair, later))["T1"]


def test_unanswered_proposal_is_reminded_then_expires(pair):
    run_job("matching-round", jobs(pair))
    start = utcnow()
    run_job("pairing-followups", jobs(pair, start + timedelta(days=3)))
    reminders = [m for m in pair.fake.messages() if "gentle nudge" in str(m.get("blocks"))]
    assert len(reminders) == 2
    run_job("pairing-followups", jobs(pair, start + timedelta(days=3, hours=1)))
    assert len([m for m in pair.fake.messages() if "gentle nudge" in str(m.get("blocks"))]) == 2
    run_job("pairing-followups", jobs(pair, start + timedelta(days=6)))
    expired = [m for m in pair.fake.messages() if "expired" in m["text"]]
    assert len(expired) == 2
    with pair.db.transaction() as session:
        assert session.scalars(select(Pairing)).one().status == PairingStatus.EXPIRED


def checkin_value(flipside, user):
    """The "Yes, we met" value of the newest check-in DM `user` got."""
    checkins = [m for m in flipside.fake.messages(f"D{user}") if m["text"].startswith("Check-in")]
    actions = next(block for block in checkins[-1]["blocks"] if block["type"] == "actions")
    return actions["elements"][0]["value"]


def test_checkin_logs_one_meeting_a_week_until_the_pairing_ends(pair):
    run_job("matching-round", jobs(pair))
    for user in ("U2", "U1"):
        value, pairing_id = pairing_value(pair)
        click(pair, Action.ACCEPT_PAIRING, user, value=value)
        pair.replies(1 if user == "U2" else 2)
    start = utcnow()
    run_job("pairing-followups", jobs(pair, start + timedelta(days=8)))
    checkins = [m for m in pair.fake.messages() if m["text"].startswith("Check-in")]
    assert len(checkins) == 2
    value = checkin_value(pair, "U2")
    bad = pair.submit(Modal.CHECKIN, {Block.RATING: payloads.select("9")}, user="U2", private_metadata=value)
    assert bad.json()["response_action"] == "errors"
    met = {Block.RATING: payloads.select("5"), Block.NOTE: payloads.text_input("great")}
    pair.submit(Modal.CHECKIN, met, user="U2", private_metadata=value)
    pair.submit(Modal.CHECKIN, met, user="U1", private_metadata=checkin_value(pair, "U1"))  # the same meeting
    eventually(lambda: any("already logged" in m["text"] for m in pair.fake.messages("DU1")))
    for week in range(2, 7):  # five more weekly check-ins, each answered once
        run_job("pairing-followups", jobs(pair, start + timedelta(days=8 + 7 * (week - 1), hours=1)))
        assert (
            pair.submit(Modal.CHECKIN, met, user="U2", private_metadata=checkin_value(pair, "U2")).status
            == 200
        )
        eventually(
            lambda w=week: (
                len(
                    [
                        m
                        for m in pair.fake.messages("DU2")
                        if "Logged" in m["text"] or "Marked as done" in m["text"]
                    ]
                )
                == w
            )
        )
    eventually(lambda: len([m for m in pair.fake.messages() if "is complete" in m["text"]]) == 2)
    with pair.db.transaction() as session:
        pairing = session.get(Pairing, pairing_id)
        assert pairing.status == PairingStatus.COMPLETED and pairing.end_reason == "sessions_done"


def test_outbox_rows_are_all_sent(pair):
    run_job("matching-round", jobs(pair))
    with pair.db.transaction() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    assert statuses and set(statuses) == {OutboxStatus.SENT}


def test_round_fan_out_failing_midway_is_completed_by_the_next_run_without_duplicates(flipside):
    for n in range(4):
        add_person(flipside.db, f"UT{n}", stage=CareerStage.EARLY, department="Ops", teaches=f"skill {n}")
        add_person(flipside.db, f"UL{n}", stage=CareerStage.SENIOR, department="Legal", learns=f"skill {n}")
    flipside.fake.fail_next("chat.postMessage", error="internal_error")  # one message fails mid fan-out
    run_job("matching-round", jobs(flipside))
    assert len(flipside.fake.messages()) == 7
    later = utcnow() + timedelta(minutes=2)
    run_job("deliver-outbox", jobs(flipside, later))
    run_job("matching-round", jobs(flipside, later))  # a second run of the round adds nothing
    recipients = [message["channel"] for message in flipside.fake.messages()]
    assert len(recipients) == 8 and len(set(recipients)) == 8


def test_two_schedulers_running_the_round_at_once_make_one_round(flipside):
    import threading

    for n in range(5):
        add_person(flipside.db, f"UT{n}", stage=CareerStage.EARLY, department="Ops", teaches=f"skill {n}")
        add_person(flipside.db, f"UL{n}", stage=CareerStage.SENIOR, department="Legal", learns=f"skill {n}")
    barrier = threading.Barrier(2)
    results = []

    def clock_process():
        ctx = jobs(flipside)  # each "process" has its own context, deliverer and owner id
        barrier.wait()
        results.append(run_job("matching-round", ctx))

    threads = [threading.Thread(target=clock_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(result["T1"] for result in results)
    assert outcomes[0].endswith(": 5 pairs") and outcomes[1] == "already ran this week", outcomes
    with flipside.db.transaction() as session:
        assert len(session.scalars(select(Pairing)).all()) == 5
    recipients = [message["channel"] for message in flipside.fake.messages()]
    assert len(recipients) == 10 and len(set(recipients)) == 10
