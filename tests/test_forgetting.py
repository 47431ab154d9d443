"""Forgetting erases: after `/mentoring forget` (or an admin's "forget a leaver"), no row of any
table holds the person's Slack id, their name or anything they typed; their seats go to the
waitlist as a Cancel click would, and the channel post is redrawn without them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import select

import models
from bot.delivery import lunch_notices, pulse_notices
from bot.delivery import pairing_notices as notices
from bot.delivery.sender import Deliverer
from bot.ids import Block, Modal, Work
from bot.services import learning, learning_log, outbox, pairings, pulse
from bot.services.lunch import announcements, feedback
from bot.views import lunch as lunch_views
from models import (
    CareerStage,
    LunchSuggestion,
    MonthlySummary,
    OutboxMessage,
    OutboxStatus,
    PairingBlock,
    PairingStatus,
    SignupStatus,
    utcnow,
)
from models.slack_oauth import BOTS_TABLE, INSTALLATIONS_TABLE, STATES_TABLE
from tests.services.test_insights import Org

UID = "UQZ77"
NAME = "Quilla Zephyrine"
# Everything the person typed carries "quokka", which nobody else types.
TYPED = {
    "wish topic": "Xylography quokkas",
    "wish note": "quokka wish note: I want to learn carving",
    "meeting note": "quokka check-in note about our chat",
    "pairing feedback": "quokka closing feedback",
    "decline reason": "quokka decline reason: too busy",
    "lunch feedback": "quokka lunch feedback: loved it",
    "session title": "Quokka origami hour",
    "session description": "bring quokka paper",
    "session location": "Quokka room 7",
    "upcoming title": "Quokka knitting circle",
    "queued request": "quokka typed in a request not yet done",
    "pulse note": "quokka pulse note: we meet on Fridays",
}
NEEDLES = [UID, "Quilla", "Zephyrine", "quokka"]


def dump(db) -> dict[str, str]:
    """Every table, every column, as text."""

    def text(value: Any) -> str:
        return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)

    with db.engine.connect() as connection:
        return {
            table.name: "\n".join(
                " | ".join(text(value) for value in row) for row in connection.execute(select(table))
            )
            for table in models.Base.metadata.sorted_tables
        }


def found(tables: dict[str, str]) -> dict[str, list[str]]:
    return {
        name: [needle for needle in NEEDLES if needle.lower() in content.lower()]
        for name, content in tables.items()
        if any(needle.lower() in content.lower() for needle in NEEDLES)
    }


def fill_every_table(flipside) -> dict[str, int]:
    """The person in every table: profile, wishes and skills, pairings of every kind, sessions they
    host, attend and wait for, messages to and about them, queued work, an installation."""
    now = utcnow()
    client = WebClient(token="xoxb-test", base_url=flipside.fake.base_url)
    flipside.fake.add_user(UID, name=NAME, real_name=NAME, tz="UTC")
    ids: dict[str, int] = {}
    with flipside.db.transaction() as session:
        org = Org(session)
        me = org.person(UID, name=NAME, stage=CareerStage.EARLY, department="Zoology")
        george = org.person("U2", name="George Miller", stage=CareerStage.SENIOR)
        amara = org.person("U3", name="Amara Okafor", stage=CareerStage.MID)
        org.skill(george, "social media")  # George typed it first: the shared topic is his spelling
        learning.add_wishes(session, me, TYPED["wish topic"], note=TYPED["wish note"], now=now)
        learning.add_skills(session, me, "social media", now=now)
        session.add(PairingBlock(team_id="T1", person_id=me.id, blocked_person_id=amara.id))
        round_ = org.round(now - timedelta(days=3))
        active = org.pairing(me, george, "social media", at=now - timedelta(days=3))
        active.round_id = round_.id
        active.explanation = "Quilla (early career, Zoology) can learn from George"
        active.teacher_explanation = f"Quilla's note: \u201c{TYPED['wish note']}\u201d"
        org.meeting(active, at=now - timedelta(days=1), by=me, note=TYPED["meeting note"])
        declined = org.pairing(amara, me, "social media", at=now - timedelta(days=9))
        declined.status, declined.declined_by_id = PairingStatus.DECLINED, me.id
        pairings.save_decline_reason(
            session, pairing_id=declined.id, person=me, reason=TYPED["decline reason"]
        )
        done = org.pairing(
            george, me, "social media", at=now - timedelta(days=60), status=PairingStatus.COMPLETED
        )
        org.feedback(done, me, at=now - timedelta(days=20), rating=5, note=TYPED["pairing feedback"])
        # The relationship pulse: asked (a DM naming their partner), rated, with a note to share.
        for person in pulse.ask(session, active, 1, now=now):
            pulse_notices.enqueue_question(session, active, person, 1, now=now)
        value = pulse.question_value(active.id, 1)
        pulse.rate(session, value=value, person=me, rating=4, now=now)
        pulse.save_note(
            session, value=value, person=me, note=TYPED["pulse note"], share_with_log=True, now=now
        )
        session.add(MonthlySummary(team_id="T1", month="2026-11", claimed_at=now, claimed_by="job"))
        # Messages to them and about them: proposals (the partner's names them, with stage and
        # department), the group introduction, a reminder to the partner.
        notices.enqueue_proposal(session, active, now=now)
        notices.enqueue_intro(session, active, now=now)  # and their learning log, with a line owed to it
        learning_log.queue_learning_log_entry(
            session, pairing=active, text=f"- Pulse note: {TYPED['meeting note']}", now=now
        )
        # Lunch 'n' Learn: one they hosted (past), one they host (upcoming, Amara signed up), one
        # they attended and rated, one whose host summary is still to send, and one with a seat
        # they hold while George waits.
        hosted_past = org.lunch(me, TYPED["session title"], at=now - timedelta(days=10))
        hosted_past.description, hosted_past.location = (
            TYPED["session description"],
            TYPED["session location"],
        )
        org.signup(hosted_past, george)
        hosting = org.lunch(me, TYPED["upcoming title"], at=now + timedelta(days=3))
        org.signup(hosting, amara)
        rated = org.lunch(amara, "Amara on contracts", at=now - timedelta(days=5))
        org.signup(rated, me)
        feedback.record_feedback(
            session, session_id=rated.id, person=me, rating=4, note=TYPED["lunch feedback"], now=now
        )
        rated_later = org.lunch(amara, "Amara on torts", at=now - timedelta(days=2))
        org.signup(rated_later, me)
        feedback.record_feedback(
            session, session_id=rated_later.id, person=me, rating=5, note=TYPED["lunch feedback"], now=now
        )
        full = org.lunch(amara, "Amara on leases", at=now + timedelta(days=2))
        full.capacity = 1
        org.signup(full, me)
        org.signup(full, george, SignupStatus.WAITLISTED)
        lunch_notices.queue_announcement(session, full, channel_id="C0LUNCH", now=now)
        announcements.notify(
            session,
            team_id="T1",
            key=announcements.summary_key(rated),
            kind="lunch_summary",
            recipient="U3",
            message=lunch_views.build_host_summary(rated, feedback.feedback_summary(session, rated)),
            now=now,
        )
        # Due in two days: still unsent when they are forgotten, so it must be drawn again.
        outbox.enqueue(
            session,
            team_id="T1",
            dedupe_key=announcements.summary_key(rated_later),
            kind="lunch_summary",
            recipient="U3",
            message=lunch_views.build_host_summary(
                rated_later, feedback.feedback_summary(session, rated_later)
            ),
            send_after=now + timedelta(days=2),
        )
        session.add(LunchSuggestion(team_id="T1", person_id=me.id, topic_id=org.topic("social media").id))
        ids.update(full=full.id, rated_later=rated_later.id, me=me.id, hosting=hosting.id)
    Deliverer(flipside.db, client).deliver_due(team_id="T1")
    with flipside.db.transaction() as session:
        from bot.work import queue

        # A request of theirs not done yet (a worker would take it in an hour).
        queue.enqueue(
            session,
            team_id="T1",
            kind=Work.TEACHME,
            body={"team_id": "T1", "user_id": UID, "command": "/teachme", "text": TYPED["queued request"]},
            now=now + timedelta(hours=1),
        )
    # They installed the app (slack_sdk's own tables), and opened App Home (an event, recorded).
    store = SQLAlchemyInstallationStore(
        client_id="111.222",
        engine=flipside.db.engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
    )
    store.save(
        Installation(
            app_id="AFLIPSIDE",
            team_id="T1",
            user_id=UID,
            user_token="xoxp-their-own",
            user_scopes=["users:read"],
            bot_token="xoxb-test",
            bot_id="B1",
            bot_user_id="UBOT",
        )
    )
    SQLAlchemyOAuthStateStore(
        expiration_seconds=600, engine=flipside.db.engine, table_name=STATES_TABLE
    ).issue()
    assert flipside.event({"type": "app_home_opened", "user": UID, "tab": "home"}).status == 200
    flipside.work_done()
    return ids


def forget_over_http(flipside, route: str) -> None:
    if route == "self":
        flipside.command("/mentoring", "forget", user=UID)
        flipside.fake.wait_for("views.open")
        assert flipside.submit(Modal.FORGET_CONFIRM, {}, user=UID).status == 200
    else:
        values = {Block.PERSON: {"type": "users_select", "selected_user": UID}}
        assert flipside.submit(Modal.ADMIN_FORGET, values, user="UADMIN").status == 200
    flipside.work_done()


@pytest.mark.parametrize("route", ["self", "admin"])
def test_forgetting_leaves_no_row_with_their_id_name_or_words(flipside, route):
    ids = fill_every_table(flipside)
    before = dump(flipside.db)
    empty = [name for name, content in before.items() if not content]
    assert empty == [], "fill_every_table must put a row in every table (a new table?)"
    assert {UID, "Quilla", "quokka"} <= set(found(before)["outbox_messages"])
    assert {needle for names in found(before).values() for needle in names} == set(NEEDLES)
    assert {"people", "wishes", "lunch_sessions", "pending_work", "slack_installations"} <= set(found(before))

    forget_over_http(flipside, route)

    assert found(dump(flipside.db)) == {}
    with flipside.db.transaction() as session:
        rows = {row.dedupe_key: row for row in session.scalars(select(OutboxMessage))}
        # The summary still owed to the host is drawn again without their note, and goes later.
        summary = rows[f"lunch:{ids['rated_later']}:summary"]
        assert summary.status == OutboxStatus.PENDING and "5.0 average from 1 rating" in summary.text
        assert "What people said" not in json.dumps(summary.blocks)
        # What was owed to others about them went out, then lost its words.
        cancel_notice = rows[f"lunch:{ids['hosting']}:cancelled:U3"]
        assert (cancel_notice.status, cancel_notice.text) == (OutboxStatus.SENT, outbox.ERASED_TEXT)


def test_a_forgotten_persons_seat_goes_to_the_waitlist_and_the_post_drops_their_name(flipside):
    ids = fill_every_table(flipside)
    [posted] = [m for m in flipside.fake.messages("C0LUNCH")]
    assert "Quilla" in json.dumps(posted["blocks"])

    forget_over_http(flipside, "self")

    promoted = [
        m for m in flipside.fake.messages(flipside.fake.dm_channel_for("U2")) if "seat freed up" in m["text"]
    ]
    assert len(promoted) == 1 and "Amara on leases" in promoted[0]["text"]
    [redrawn] = [c.args for c in flipside.fake.calls_to("chat.update") if c.args["ts"] == posted["ts"]][-1:]
    assert "George" in json.dumps(redrawn["blocks"]) and "Quilla" not in json.dumps(redrawn["blocks"])
    with flipside.db.transaction() as session:
        state = {
            signup.person.display_name: signup.status
            for signup in session.scalars(
                select(models.LunchSignup).where(models.LunchSignup.session_id == ids["full"])
            )
        }
    assert state == {"Former colleague": SignupStatus.CANCELLED, "George Miller": SignupStatus.ATTENDING}
