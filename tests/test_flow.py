"""The pairing flow between rounds, end to end over signed HTTP: the next teacher at once after a
decline, asking for a colleague by name, leavers, why a wish waits, and ghosting."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery import lunch_notices
from bot.ids import Action
from bot.scheduler import job_context, run_job
from models import (
    CareerStage,
    LunchSession,
    LunchSignup,
    LunchStatus,
    OutboxMessage,
    Pairing,
    PairingStatus,
    Person,
    SignupStatus,
    SkillLevel,
    Topic,
    Wish,
    utcnow,
)
from tests.factories import add_person, eventually
from tests.services.test_insights import Org


def jobs(flipside, now=None):
    return job_context(
        settings=flipside.settings,
        database=flipside.db,
        client=flipside.app.client,
        now=(lambda: now) if now else utcnow,
    )


def dms_to(flipside, user: str) -> list[dict]:
    return flipside.fake.messages(flipside.fake.dm_channel_for(user))


def click(flipside, action_id, user, *, value, **kwargs):
    kwargs.setdefault("response_url", flipside.fake.response_url(f"{action_id}-{user}"))
    return flipside.action(action_id, value, user=user, **kwargs)


@pytest.fixture
def learner_and_teachers(flipside):
    """George (executive, Finance) wants Figma; Priya (expert) and Amara (confident) teach it."""
    db = flipside.db
    add_person(db, "U2", stage=CareerStage.EXECUTIVE, department="Finance", learns="Figma", name="George")
    add_person(
        db,
        "U1",
        stage=CareerStage.EARLY,
        department="Design",
        teaches="Figma",
        name="Priya",
        level=SkillLevel.EXPERT,
    )
    add_person(db, "U3", stage=CareerStage.EARLY, department="Ops", teaches="Figma", name="Amara")
    return flipside


def only_pairing(flipside, **where) -> Pairing:
    with flipside.db.transaction() as session:
        query = select(Pairing)
        for name, value in where.items():
            query = query.where(getattr(Pairing, name) == value)
        return session.scalars(query).one()


def test_a_decline_sends_the_wish_to_the_next_teacher_at_once(learner_and_teachers):
    flipside = learner_and_teachers
    run_job("matching-round", jobs(flipside))
    first = only_pairing(flipside)
    assert click(flipside, Action.DECLINE_PAIRING, "U1", value=f"{first.id}:{first.version}").status == 200
    # Without any job: the worker stores the decline and the next offer together and sends them.
    proposal = eventually(lambda: [m for m in dms_to(flipside, "U3") if "Figma" in m["text"]])
    assert "Someone would love to learn" in json.dumps(proposal[-1]["blocks"])
    flipside.work_done()
    to_george = [m["text"] for m in dms_to(flipside, "U2")]
    assert any("I've asked <@U3> to teach you *Figma* straight away" in text for text in to_george)
    second = only_pairing(flipside, status=PairingStatus.PROPOSED)
    assert second.wish_id == first.wish_id and second.teacher_id != first.teacher_id


def test_a_double_click_on_decline_makes_one_next_offer(learner_and_teachers):
    flipside = learner_and_teachers
    run_job("matching-round", jobs(flipside))
    first = only_pairing(flipside)
    for _ in range(2):
        click(flipside, Action.DECLINE_PAIRING, "U1", value=f"{first.id}:{first.version}")
    flipside.work_done()
    with flipside.db.transaction() as session:
        assert len(session.scalars(select(Pairing)).all()) == 2
    assert len([m for m in dms_to(flipside, "U3") if "Figma" in m["text"]]) == 1


# --- a say in the match -----------------------------------------------------------------------


def ask_buttons(blocks: list[dict]) -> dict[str, str]:
    """Label of the line -> value of its Ask-for button."""
    return {
        block["text"]["text"]: block["accessory"]["value"]
        for block in blocks
        if block.get("accessory", {}).get("action_id") == Action.REQUEST_TEACHER
    }


def test_teachme_names_who_can_teach_and_a_click_asks_for_them(flipside):
    add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Finance", name="George")
    for user, name in (("U1", "Priya"), ("U3", "Amara"), ("U4", "Bo"), ("U5", "Cy")):
        add_person(
            flipside.db, user, stage=CareerStage.EARLY, department="Design", teaches="Figma", name=name
        )
    with flipside.db.transaction() as session:
        session.scalar(select(Person).where(Person.slack_user_id == "U5")).paused = True
    flipside.command("/teachme", "figma", user="U2")
    [reply] = flipside.replies()
    buttons = ask_buttons(reply["blocks"])
    assert len(buttons) == 3 and not any("Cy" in line for line in buttons)  # paused: not named
    value = buttons["Figma: *Amara* (confident)"]
    click(flipside, Action.REQUEST_TEACHER, "U2", value=value)
    click(
        flipside, Action.REQUEST_TEACHER, "U2", value=value, response_url=flipside.fake.response_url("again")
    )
    answers = [r["text"] for r in flipside.replies(3)[1:]]
    assert answers[0].startswith(":dart: Noted: I'll ask Amara first for *Figma*")
    assert answers[1] == "You've already asked for Amara for *Figma*; nothing changed."
    with flipside.db.transaction() as session:
        wish = session.scalars(select(Wish)).one()
        assert session.get(Person, wish.requested_teacher_id).display_name == "Amara"
    # Amara is not told anything: she learns who asked only from a proposal.
    assert dms_to(flipside, "U3") == []


@pytest.mark.parametrize(
    ("who", "answer"),
    [
        ("self", "That's you! Pick a colleague to learn from."),
        ("paused", "Priya is taking a break from pairings right now."),
        ("left", "Priya is no longer in the programme, so I can't ask them."),
        ("forged", "I couldn't find that colleague or topic any more; nothing changed."),
    ],
)
def test_asking_for_oneself_a_paused_or_departed_colleague_is_refused_privately(flipside, who, answer):
    george = add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Law", learns="Figma")
    priya = add_person(
        flipside.db, "U1", stage=CareerStage.EARLY, department="Design", teaches="Figma", name="Priya"
    )
    with flipside.db.transaction() as session:
        topic = session.scalars(select(Topic)).one().id
        if who == "paused":
            session.get(Person, priya).paused = True
        if who == "left":
            session.get(Person, priya).deactivated_at = utcnow()
    value = {"self": f"{topic}:{george}", "forged": "x:1"}.get(who, f"{topic}:{priya}")
    click(flipside, Action.REQUEST_TEACHER, "U2", value=value)
    [reply] = flipside.replies()
    assert reply["text"].startswith(answer) and reply["response_type"] == "ephemeral"
    with flipside.db.transaction() as session:
        assert session.scalars(select(Wish)).one().requested_teacher_id is None


def test_the_wishes_modal_names_teachers_and_asking_redraws_it(flipside):
    add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Law", learns="Figma")
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Design", teaches="Figma", name="Priya")
    flipside.command("/teachme", "", user="U2")
    [opened] = flipside.fake.wait_for("views.open")
    view = opened.decoded["view"]
    [value] = ask_buttons(view["blocks"]).values()
    flipside.action(Action.REQUEST_TEACHER, value, user="U2", view={"id": "V123", "type": "modal"})
    [updated] = flipside.fake.wait_for("views.update")
    blocks = json.dumps(updated.decoded["view"]["blocks"], ensure_ascii=False)
    assert "I'll ask Priya first" in blocks and "Asked ✓" in blocks and "You asked for Priya." in blocks


# --- leavers ----------------------------------------------------------------------------------


def user_change(flipside, user: str, *, deleted: bool, updated: int):
    body = {
        "id": user,
        "team_id": "T1",
        "deleted": deleted,
        "name": user.lower(),
        "profile": {},
        "updated": updated,
    }
    assert flipside.event({"type": "user_change", "user": body}).status == 200
    flipside.work_done()


def test_a_teacher_who_leaves_ends_the_pairing_kindly_and_the_wish_goes_to_the_next_teacher(
    learner_and_teachers,
):
    flipside = learner_and_teachers
    run_job("matching-round", jobs(flipside))
    first = only_pairing(flipside)
    user_change(flipside, "U1", deleted=True, updated=1_900_000_000)
    with flipside.db.transaction() as session:
        ended = session.get(Pairing, first.id)
        assert (ended.status, ended.end_reason) == (PairingStatus.CANCELLED, "partner_left")
    told = [m["text"] for m in dms_to(flipside, "U2")]
    assert any("your partner has left the workspace. I've asked someone else" in text for text in told)
    assert [m for m in dms_to(flipside, "U3") if "Figma" in m["text"]]  # Amara's proposal, at once
    # Back in Slack: no longer a leaver, but paused until they resume themselves.
    user_change(flipside, "U1", deleted=False, updated=1_900_000_100)
    with flipside.db.transaction() as session:
        priya = session.scalar(select(Person).where(Person.slack_user_id == "U1"))
        assert priya.deactivated_at is None and priya.paused


def test_a_learner_who_leaves_frees_the_teacher_who_is_thanked(learner_and_teachers):
    flipside = learner_and_teachers
    run_job("matching-round", jobs(flipside))
    user_change(flipside, "U2", deleted=True, updated=1_900_000_000)
    [note] = [m["text"] for m in dms_to(flipside, "U1") if "has left" in m["text"]]
    assert "Thank you for offering your time" in note
    with flipside.db.transaction() as session:
        assert len(session.scalars(select(Pairing)).all()) == 1


def test_a_leavers_seat_goes_to_the_waitlist_and_their_own_session_is_cancelled(flipside):
    now = utcnow()
    with flipside.db.transaction() as session:
        org = Org(session)
        leaver = org.person("U1", name="Priya Shah", stage=CareerStage.EARLY)
        george = org.person("U2", name="George Miller")
        amara = org.person("U3", name="Amara Okafor")
        full = org.lunch(amara, "Amara on leases", at=now + timedelta(days=2))
        full.capacity = 1
        org.signup(full, leaver)
        org.signup(full, george, SignupStatus.WAITLISTED)
        lunch_notices.queue_announcement(session, full, channel_id="C0LUNCH", now=now)
        hosted = org.lunch(leaver, "Priya on Figma", at=now + timedelta(days=3))
        org.signup(hosted, amara)
        ids = (full.id, hosted.id)
    run_job("deliver-outbox", jobs(flipside))
    [posted] = flipside.fake.messages("C0LUNCH")
    assert "Priya" in json.dumps(posted["blocks"])
    user_change(flipside, "U1", deleted=True, updated=1_900_000_000)
    promoted = [m for m in dms_to(flipside, "U2") if "seat freed up" in m["text"]]
    assert len(promoted) == 1
    cancelled = [m for m in dms_to(flipside, "U3") if "cancelled" in m["text"].lower()]
    assert len(cancelled) == 1 and "Priya on Figma" in cancelled[0]["text"]
    redrawn = [c.args for c in flipside.fake.calls_to("chat.update") if c.args["ts"] == posted["ts"]]
    assert "George" in json.dumps(redrawn[-1]["blocks"]) and "Priya" not in json.dumps(redrawn[-1]["blocks"])
    with flipside.db.transaction() as session:
        assert session.get(LunchSession, ids[1]).status == LunchStatus.CANCELLED
        seats = {
            s.person.slack_user_id: s.status
            for s in session.scalars(select(LunchSignup).where(LunchSignup.session_id == ids[0]))
        }
    assert seats == {"U1": SignupStatus.CANCELLED, "U2": SignupStatus.ATTENDING}


# --- no wish silently ignored -----------------------------------------------------------------


def test_after_the_round_waiting_wishes_are_explained_once_per_reason(flipside):
    add_person(flipside.db, "U2", stage=CareerStage.SENIOR, department="Law", learns="Figma, Origami")
    add_person(flipside.db, "U3", stage=CareerStage.MID, department="Ops", learns="Figma")
    add_person(flipside.db, "U1", stage=CareerStage.EARLY, department="Design", teaches="Figma", name="Priya")
    with flipside.db.transaction() as session:
        session.scalar(select(Person).where(Person.slack_user_id == "U3")).paused = True
    start = utcnow()
    run_job("matching-round", jobs(flipside, start))
    flipside.work_done()
    [paused_note] = [m["text"] for m in dms_to(flipside, "U3") if "could enter" in m["text"]]
    assert "*Figma*: you are paused or snoozed; `/mentoring resume` brings you back." in paused_note
    # George is proposed a pairing for Figma, so his Origami waits for that, which he knows.
    assert not [m for m in dms_to(flipside, "U2") if "Origami" in m["text"]]
    # George lets it expire; in the next rounds Origami has no teacher: the round's own "not this
    # week" says so once, and nothing repeats it in the weeks after.
    run_job("pairing-followups", jobs(flipside, start + timedelta(days=6)))
    for week in (1, 2):
        run_job("matching-round", jobs(flipside, start + timedelta(days=7 * week)))
    flipside.work_done()
    assert len([m for m in dms_to(flipside, "U3") if "could enter" in m["text"]]) == 1
    assert len([m for m in dms_to(flipside, "U2") if "Origami" in m["text"]]) == 1
    with flipside.db.transaction() as session:
        told = {
            (w.person_id, w.topic.display_name): w.told_wait_reason for w in session.scalars(select(Wish))
        }
    assert sorted(reason for reason in told.values() if reason) == ["learner_away", "no_teacher"]


# --- ghosting ---------------------------------------------------------------------------------


def active_pairing(flipside, *, accepted_days_ago: int) -> int:
    now = utcnow()
    with flipside.db.transaction() as session:
        org = Org(session)
        learner = org.person("U2", name="George Miller", stage=CareerStage.SENIOR)
        teacher = org.person("U1", name="Priya Shah", stage=CareerStage.EARLY)
        pairing = org.pairing(learner, teacher, "Figma", at=now - timedelta(days=accepted_days_ago + 1))
        pairing.status = PairingStatus.ACTIVE
        pairing.accepted_at = now - timedelta(days=accepted_days_ago)
        pairing.checkin_due_at = now + timedelta(days=1)
        pairing.ends_by = now + timedelta(days=90)
        return pairing.id


def stay_in_asks(flipside, user: str) -> list[dict]:
    return [m for m in dms_to(flipside, user) if m["text"] == "Should I keep you in Flipside?"]


def test_an_ignored_introduction_asks_both_sides_and_a_week_of_silence_pauses(flipside):
    active_pairing(flipside, accepted_days_ago=15)
    now = utcnow()
    assert run_job("stay-in-asks", jobs(flipside, now)) == {"T1": {"asked": 2, "paused": 0}}
    assert run_job("stay-in-asks", jobs(flipside, now + timedelta(hours=1))) == {
        "T1": {"asked": 0, "paused": 0}
    }
    assert len(stay_in_asks(flipside, "U1")) == 1 and len(stay_in_asks(flipside, "U2")) == 1
    # George answers "Keep me in"; Priya stays silent for a week.
    [ask] = stay_in_asks(flipside, "U2")
    click(
        flipside, Action.KEEP_ME_IN, "U2", value="", message=ask, channel=flipside.fake.dm_channel_for("U2")
    )
    flipside.work_done()
    later = now + timedelta(days=7, minutes=1)
    assert run_job("stay-in-asks", jobs(flipside, later)) == {"T1": {"asked": 0, "paused": 1}}
    assert run_job("stay-in-asks", jobs(flipside, later)) == {"T1": {"asked": 0, "paused": 0}}
    with flipside.db.transaction() as session:
        paused = {p.slack_user_id: p.paused for p in session.scalars(select(Person))}
    assert paused == {"U1": True, "U2": False}
    [note] = [m["text"] for m in dms_to(flipside, "U1") if "paused" in m["text"]]
    assert "`/mentoring resume` brings you back" in note


def test_three_unanswered_checkins_ask_that_side_only(flipside):
    pairing_id = active_pairing(flipside, accepted_days_ago=1)
    start = utcnow() + timedelta(days=1, minutes=1)
    for week in range(4):
        now = start + timedelta(days=7 * week)
        run_job("pairing-followups", jobs(flipside, now))
        if week < 3:  # George answers every check-in ("not yet"); Priya never does
            [checkin] = [m for m in dms_to(flipside, "U2") if "check" in m["text"].lower()][-1:]
            click(
                flipside,
                Action.CHECKIN_NOT_YET,
                "U2",
                value=f"{pairing_id}:0",
                message=checkin,
                response_url=flipside.fake.response_url(f"week{week}"),
            )
            flipside.work_done()
        else:
            run_job("stay-in-asks", jobs(flipside, now))
    assert stay_in_asks(flipside, "U2") == []
    [ask] = stay_in_asks(flipside, "U1")
    assert "Your last three check-ins went unanswered." in json.dumps(ask["blocks"])


def test_the_three_unanswered_proposals_ask_also_pauses_after_a_silent_week(flipside):
    with flipside.db.transaction() as session:
        person = Org(session).person("U1", name="Priya Shah")
        person.unanswered_streak = 3
        person.stay_in_asked_at = utcnow() - timedelta(days=8)
    assert run_job("stay-in-asks", jobs(flipside))["T1"]["paused"] == 1
    with flipside.db.transaction() as session:
        assert session.scalar(select(OutboxMessage.kind).where(OutboxMessage.kind == "paused_after_silence"))
