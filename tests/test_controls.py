"""Personal controls and the smaller handlers, over signed HTTP: pause, snooze, block list,
keep-in buttons, removing wishes and skills, feedback and "I learned it"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.ids import Action, Block, Modal
from bot.services import pairings as pairing_service
from models import (
    CareerStage,
    PairingBlock,
    PairingFeedback,
    Person,
    Skill,
    Wish,
    WishStatus,
    utcnow,
)
from tests import payloads
from tests.factories import add_person, eventually


def person(flipside, user="U1") -> Person:
    with flipside.db.transaction() as session:
        return session.scalars(select(Person).where(Person.slack_user_id == user)).one()


def test_pause_and_resume(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops")
    flipside.command("/mentoring", "pause")
    assert "Paused" in flipside.replies(1)[-1]["text"]
    assert person(flipside).paused
    flipside.command("/mentoring", "resume")
    assert "Welcome back" in flipside.replies(2)[-1]["text"]
    assert not person(flipside).paused


def test_unknown_subcommand_shows_help(flipside):
    flipside.command("/mentoring", "dance")
    reply = flipside.replies()[0]
    assert "don't know that one" in str(reply["blocks"]) and "/teachme" in str(reply["blocks"])


def test_snooze_until_a_date_in_my_timezone_with_inline_errors(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", tz="America/New_York")
    flipside.command("/mentoring", "snooze")
    opened = flipside.fake.wait_for("views.open")[-1].decoded["view"]
    assert opened["callback_id"] == Modal.SNOOZE
    past = {Block.SNOOZE_UNTIL: {"type": "datepicker", "selected_date": "2020-01-01"}}
    assert flipside.submit(Modal.SNOOZE, past).json()["errors"] == {
        Block.SNOOZE_UNTIL: "Pick a date in the future."
    }
    day = (utcnow() + timedelta(days=10)).date()
    assert (
        flipside.submit(
            Modal.SNOOZE, {Block.SNOOZE_UNTIL: {"type": "datepicker", "selected_date": day.isoformat()}}
        ).body
        == ""
    )
    eventually(lambda: person(flipside).snoozed_until is not None)
    assert not person(flipside).is_available(utcnow())
    assert person(flipside).is_available(utcnow() + timedelta(days=12))


def test_block_list_is_private_and_replaced(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops")
    flipside.command("/mentoring", "block")
    assert flipside.fake.wait_for("views.open")[-1].decoded["view"]["callback_id"] == Modal.BLOCKLIST
    users = {Block.BLOCKED_USERS: {"type": "multi_users_select", "selected_users": ["U2", "U3", "U1"]}}
    assert flipside.submit(Modal.BLOCKLIST, users).status == 200

    def blocked():
        with flipside.db.transaction() as session:
            return len(session.scalars(select(PairingBlock)).all())

    eventually(lambda: blocked() == 2)  # never yourself
    flipside.submit(
        Modal.BLOCKLIST, {Block.BLOCKED_USERS: {"type": "multi_users_select", "selected_users": []}}
    )
    eventually(lambda: blocked() == 0)
    told = {call.decoded.get("channel") for call in flipside.fake.calls_to("chat.postMessage")}
    assert told == {"U1"}  # private: only the person who made the list hears about it


def test_remove_wish_and_skill_from_the_modal(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva", learns="excel")
    with flipside.db.transaction() as session:
        wish_id = session.scalars(select(Wish.id)).one()
        skill_id = session.scalars(select(Skill.id)).one()
    view = {"id": "V123", "type": "modal", "private_metadata": ""}
    flipside.action(Action.REMOVE_WISH, str(wish_id), view=view)
    updated = flipside.fake.wait_for("views.update")[-1].decoded["view"]
    assert "no open wishes" in str(updated["blocks"])
    flipside.action(Action.REMOVE_SKILL, str(skill_id), view=view)
    eventually(lambda: len(flipside.fake.calls_to("views.update")) == 2)
    with flipside.db.transaction() as session:
        assert session.scalars(select(Wish.status)).one() == WishStatus.WITHDRAWN
        assert session.scalars(select(Skill)).all() == []
    flipside.action(Action.REMOVE_WISH, "not-a-number", view=view)  # forged: changes nothing
    eventually(lambda: len(flipside.fake.calls_to("views.update")) == 3)


def test_removing_from_a_modal_closed_meanwhile_keeps_the_change_and_says_no_sorry(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", learns="excel")
    with flipside.db.transaction() as session:
        wish_id = session.scalars(select(Wish.id)).one()
    flipside.fake.fail_next("views.update", error="not_found")  # the person closed the modal
    flipside.action(Action.REMOVE_WISH, str(wish_id), view={"id": "V9", "type": "modal"})
    flipside.fake.wait_for("views.update")
    flipside.work_done()
    with flipside.db.transaction() as session:
        assert session.scalars(select(Wish.status)).one() == WishStatus.WITHDRAWN
    assert flipside.fake.calls_to("chat.postMessage") == []  # no "something went wrong"


def test_someone_else_cannot_remove_my_wish(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", learns="excel")
    with flipside.db.transaction() as session:
        wish_id = session.scalars(select(Wish.id)).one()
    flipside.action(Action.REMOVE_WISH, str(wish_id), user="U2", view={"id": "V1", "type": "modal"})
    flipside.fake.wait_for("views.update")
    with flipside.db.transaction() as session:
        assert session.scalars(select(Wish.status)).one() == WishStatus.OPEN


def active_pairing(flipside):
    from bot.scheduler import job_context, run_job

    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", teaches="canva")
    add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Law", learns="canva")
    run_job(
        "matching-round",
        job_context(settings=flipside.settings, database=flipside.db, client=flipside.app.client),
    )
    with flipside.db.transaction() as session:
        from models import Pairing

        pairing = session.scalars(select(Pairing)).one()
        settings = flipside.settings.programme
        from bot.services import profiles

        programme = profiles.programme_settings(session, team_id="T1", defaults=settings)
        for who in (pairing.learner, pairing.teacher):
            pairing_service.answer(
                session,
                value=pairing_service.button_value(pairing),
                person=who,
                accept=True,
                now=utcnow(),
                settings=programme,
            )
        return pairing.id, pairing_service.checkin_value(pairing)


def test_not_yet_we_are_done_feedback_and_i_learned_it(flipside):
    pairing_id, value = active_pairing(flipside)
    flipside.action(Action.CHECKIN_NOT_YET, value, user="U2", response_url=flipside.fake.response_url("n"))
    assert "No rush" in flipside.replies(1)[-1]["text"]
    flipside.action(Action.CHECKIN_DONE, value, user="U2", response_url=flipside.fake.response_url("d"))
    assert "Marked as done" in flipside.replies(2)[-1]["text"]
    eventually(lambda: len([m for m in flipside.fake.messages() if "is complete" in m["text"]]) == 2)
    flipside.action(Action.CHECKIN_DONE, f"feedback:{pairing_id}", user="U2")
    assert flipside.fake.wait_for("views.open")[-1].decoded["view"]["callback_id"] == Modal.FEEDBACK
    bad = flipside.submit(
        Modal.FEEDBACK, {Block.RATING: payloads.select("x")}, user="U2", private_metadata=str(pairing_id)
    )
    assert bad.json()["response_action"] == "errors"
    ok = flipside.submit(
        Modal.FEEDBACK,
        {Block.RATING: payloads.select("4"), Block.NOTE: payloads.text_input("")},
        user="U2",
        private_metadata=str(pairing_id),
    )
    assert ok.status == 200

    def feedback_saved():
        with flipside.db.transaction() as session:
            return session.scalars(select(PairingFeedback.rating)).all() == [4]

    eventually(feedback_saved)
    eventually(lambda: any("Thank you for the feedback" in m["text"] for m in flipside.fake.messages("DU2")))
    flipside.action(
        Action.MARK_LEARNED, str(pairing_id), user="U1", response_url=flipside.fake.response_url("x")
    )
    assert "isn't yours" in flipside.replies(3)[-1]["text"]  # only the learner closes the wish
    flipside.action(
        Action.MARK_LEARNED, str(pairing_id), user="U2", response_url=flipside.fake.response_url("l")
    )
    assert "Congratulations" in flipside.replies(4)[-1]["text"]
    with flipside.db.transaction() as session:
        assert session.scalars(select(Wish.status)).one() == WishStatus.MET


def test_keep_in_buttons(flipside):
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops")
    with flipside.db.transaction() as session:
        session.scalars(select(Person)).one().unanswered_streak = 3
    for action, expected in (
        (Action.KEEP_ME_IN, "stay in"),
        (Action.ASK_ME_LATER, "four weeks"),
        (Action.TAKE_ME_OUT, "paused"),
    ):
        flipside.action(action, user="U1", response_url=flipside.fake.response_url(action))
        eventually(
            lambda expected=expected: any(
                c.args.get("text") and expected in c.args["text"]
                for c in flipside.fake.calls_to("response_url")
            )
        )
    final = person(flipside)
    assert final.paused and final.unanswered_streak == 0 and final.snoozed_until is not None


def test_forgetting_a_host_cancels_their_upcoming_sessions_and_tells_attendees(flipside):
    from bot.services import outbox
    from bot.services.lunch import proposing, seats
    from bot.views.common import Message
    from models import LunchSession, LunchStatus, OutboxMessage

    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Ops", name="Priya")
    add_person(flipside.db, "U3", stage=CareerStage.SENIOR, department="Law", name="Amara")
    with flipside.db.transaction() as session:
        host = session.scalars(select(Person).where(Person.slack_user_id == "U1")).one()
        guest = session.scalars(select(Person).where(Person.slack_user_id == "U3")).one()
        proposal = proposing.Proposal(
            title="Canva in 30 minutes",
            topic="canva",
            description="",
            host_user_id="U1",
            starts_at=utcnow() + timedelta(days=2),
            duration_minutes=30,
            location="Room 1",
            capacity=5,
        )
        lunch = proposing.create_session(session, proposal=proposal, proposer=host, host=host, now=utcnow())
        seats.sign_up(session, session_id=lunch.id, person=guest, now=utcnow())
        lunch_id = lunch.id
        # A message still to send to the host, whose words about them must not outlive them.
        outbox.enqueue(
            session,
            team_id="T1",
            dedupe_key="test-reminder-U1",
            kind="lunch.reminder",
            recipient="U1",
            message=Message(text="Priya, your session starts tomorrow"),
            send_after=utcnow() + timedelta(days=1),
        )
    flipside.command("/mentoring", "forget", user="U1")
    flipside.fake.wait_for("views.open")
    assert flipside.submit(Modal.FORGET_CONFIRM, {}, user="U1").status == 200
    eventually(
        lambda: any("Canva in 30 minutes" in str(m.get("blocks")) for m in flipside.fake.messages("DU3"))
    )
    with flipside.db.transaction() as session:
        assert session.get(LunchSession, lunch_id).status == LunchStatus.CANCELLED
        to_forgotten = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient.like("forgotten-%"))
        ).all()
        assert [row.text for row in to_forgotten] == ["[removed]"]
