"""The weekly round end to end: an exchange is one pairing, a teacher asked for by name, the
repeat window, reasons for both sides, the dry run, and the round's own clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.ids import Action, Block, Modal
from bot.jobs.matching import matching_round
from bot.scheduler import job_context, run_job
from bot.services import profiles, rounds
from bot.services.programme import latest_matching_round, next_matching_round
from models import (
    CareerStage,
    MatchingRound,
    MeetingHalves,
    Pairing,
    PairingMeeting,
    PairingStatus,
    Person,
    ProgrammeSettings,
    Wish,
    WishStatus,
    utcnow,
)
from tests import payloads
from tests.factories import add_person, eventually
from tests.test_pairing_flow import checkin_value


def jobs(flipside, now):
    return job_context(
        settings=flipside.settings, database=flipside.db, client=flipside.app.client, now=lambda: now
    )


def proposals_to(flipside, user: str) -> list[dict]:
    return [
        call.decoded
        for call in flipside.fake.calls_to("chat.postMessage")
        if call.decoded.get("channel") == user and call.decoded["text"].startswith("Flipside match")
    ]


def person_id(flipside, user: str) -> int:
    with flipside.db.transaction() as session:
        return session.scalar(select(Person.id).where(Person.slack_user_id == user))


def ask_by_name(flipside, learner: str, teacher: str) -> None:
    learner_id, teacher_id = person_id(flipside, learner), person_id(flipside, teacher)
    with flipside.db.transaction() as session:
        wish = session.scalars(select(Wish).where(Wish.person_id == learner_id)).one()
        wish.requested_teacher_id = teacher_id


def pairings(flipside) -> list[Pairing]:
    with flipside.db.transaction() as session:
        rows = list(session.scalars(select(Pairing).order_by(Pairing.id)))
        session.expunge_all()
        return rows


def click(flipside, action_id: str, user: str, value: str) -> None:
    flipside.action(
        action_id,
        value,
        user=user,
        message={"ts": "1.0"},
        channel=f"D{user}",
        response_url=flipside.fake.response_url(f"{action_id}-{user}"),
    )


# --------------------------------------------------------------------------------------------
# One exchange


@pytest.fixture
def swap(flipside):
    """Priya (early career, Marketing) teaches social media and wants Excel; George (executive,
    Finance) teaches Excel and wants social media."""
    db = flipside.db
    add_person(
        db, "U1", stage=CareerStage.EARLY, department="Marketing", teaches="social media", learns="Excel",
        name="Priya",
    )  # fmt: skip
    add_person(
        db, "U2", stage=CareerStage.EXECUTIVE, department="Finance", teaches="Excel", learns="social media",
        name="George",
    )  # fmt: skip
    return flipside


def test_a_two_way_exchange_is_one_pairing_one_proposal_each_and_one_introduction(swap):
    result = run_job("matching-round", jobs(swap, utcnow()))  # this week's round, now
    assert "1 pairs" in result["T1"]
    [pairing] = pairings(swap)
    assert pairing.exchange_topic_id is not None and pairing.exchange_wish_id is not None
    for user in ("U1", "U2"):
        [proposal] = proposals_to(swap, user)
        text = str(proposal["blocks"])
        assert "two-way exchange" in text and "social media" in text and "Excel" in text
        assert "score" not in text.lower()
    george_text = str(proposals_to(swap, "U2")[0]["blocks"])
    assert "an exchange: <@U1>" not in george_text  # names come from the stored reasons, not ids
    assert "Priya teaches you social media, you teach Priya Excel" in george_text

    value = f"{pairing.id}:{pairing.version}"
    click(swap, Action.ACCEPT_PAIRING, "U1", value)
    swap.replies(1)
    click(swap, Action.ACCEPT_PAIRING, "U2", value)
    intro = eventually(lambda: swap.fake.messages(swap.fake.group_dm_channel_for("U1", "U2")))
    swap.work_done()
    [intro] = swap.fake.messages(swap.fake.group_dm_channel_for("U1", "U2"))
    agenda = str(intro["blocks"])
    assert "what exactly <@U1> wants to learn from <@U2>" in agenda
    assert "what exactly <@U2> wants to learn from <@U1>" in agenda

    # Each side closes their own wish: one outcome per direction.
    for user in ("U1", "U2"):
        click(swap, Action.MARK_LEARNED, user, str(pairing.id))
    swap.work_done()
    with swap.db.transaction() as session:
        statuses = session.execute(
            select(Person.slack_user_id, Wish.status).join(Person, Person.id == Wish.person_id)
        ).all()
    assert sorted(statuses) == [("U1", WishStatus.MET), ("U2", WishStatus.MET)]


def test_an_exchange_check_in_records_which_directions_the_meeting_covered(swap):
    run_job("matching-round", jobs(swap, utcnow()))
    [pairing] = pairings(swap)
    value = f"{pairing.id}:{pairing.version}"
    for count, user in enumerate(("U1", "U2"), start=1):
        click(swap, Action.ACCEPT_PAIRING, user, value)
        swap.replies(count)
    swap.work_done()
    run_job("pairing-followups", jobs(swap, utcnow() + timedelta(days=8)))  # the weekly check-in
    swap.work_done()
    met = checkin_value(swap, "U2")
    swap.action(Action.CHECKIN_MET, met, user="U2")
    [opened] = swap.fake.wait_for("views.open")
    [halves] = [b for b in opened.decoded["view"]["blocks"] if b.get("block_id") == Block.HALVES]
    options = [o["value"] for o in halves["element"]["options"]]
    assert options == [MeetingHalves.TOPIC, MeetingHalves.EXCHANGE_TOPIC]
    assert [o["value"] for o in halves["element"]["initial_options"]] == options  # both, unless unticked

    rating = {Block.RATING: payloads.select("4")}
    nothing = swap.submit(
        Modal.CHECKIN, {**rating, Block.HALVES: payloads.checkboxes()}, user="U2", private_metadata=met
    )
    assert nothing.json() == {
        "response_action": "errors",
        "errors": {Block.HALVES: "Tick what you worked on: one topic or both."},
    }
    one_half = {**rating, Block.HALVES: payloads.checkboxes(MeetingHalves.EXCHANGE_TOPIC)}
    assert swap.submit(Modal.CHECKIN, one_half, user="U2", private_metadata=met).status == 200
    swap.work_done()
    with swap.db.transaction() as session:
        [meeting] = session.scalars(select(PairingMeeting)).all()
        assert meeting.halves == MeetingHalves.EXCHANGE_TOPIC and meeting.rating == 4
        taught_back = session.get(Pairing, pairing.id).exchange_topic.display_name
    canvas_lines = [
        call.decoded["changes"][0]["document_content"]["markdown"]
        for call in swap.fake.calls_to("canvases.edit")
        if call.ok
    ]
    assert any(f"held on **{taught_back}**" in line for line in canvas_lines)


def test_an_exchange_counts_as_learning_and_teaching_for_both_in_the_next_round(swap):
    run_job("matching-round", jobs(swap, utcnow()))
    add_person(swap.db, "U3", stage=CareerStage.SENIOR, department="Data", learns="Excel", capacity=1)
    george_id = person_id(swap, "U2")
    with swap.db.transaction() as session:
        settings = profiles.programme_settings(session, team_id="T1", defaults=swap.settings.programme)
        plan = rounds.plan_round(session, team_id="T1", settings=settings, now=utcnow())
    george = plan.round_input.people[george_id]
    assert not george.can_learn and george.teaching_slots == 0
    assert plan.result.proposals == []


# --------------------------------------------------------------------------------------------
# Asking by name, the repeat window


@pytest.fixture
def two_teachers(flipside):
    db = flipside.db
    add_person(
        db, "U1", stage=CareerStage.EARLY, department="Marketing", teaches="social media", name="Priya"
    )
    add_person(db, "U3", stage=CareerStage.SENIOR, department="Finance", teaches="social media", name="Sam")
    add_person(
        db, "U2", stage=CareerStage.EXECUTIVE, department="Finance", learns="social media", name="George"
    )
    return flipside


def test_the_teacher_asked_for_by_name_is_proposed_and_learns_it_only_from_the_proposal(two_teachers):
    flipside = two_teachers
    ask_by_name(flipside, "U2", "U3")
    run_job("matching-round", jobs(flipside, utcnow()))
    [pairing] = pairings(flipside)
    assert pairing.teacher_id == person_id(flipside, "U3")
    [to_teacher] = proposals_to(flipside, "U3")
    assert "George asked for you by name" in str(to_teacher["blocks"])
    [to_learner] = proposals_to(flipside, "U2")
    assert "you asked for Sam by name" in str(to_learner["blocks"])
    assert proposals_to(flipside, "U1") == []


def test_a_recent_partner_is_not_proposed_again_unless_asked_for(two_teachers):
    flipside = two_teachers
    now = utcnow()
    george, priya, sam = (person_id(flipside, user) for user in ("U2", "U1", "U3"))
    with flipside.db.transaction() as session:
        topic = session.scalars(select(Wish.topic_id)).one()
        # A finished pairing ten weeks ago, the other way round: any topic counts.
        session.add(
            Pairing(
                team_id="T1", learner_id=priya, teacher_id=george, topic_id=topic,
                status=PairingStatus.COMPLETED, proposed_at=now - timedelta(weeks=10),
                expires_at=now - timedelta(weeks=9),
            )
        )  # fmt: skip
        settings = profiles.programme_settings(session, team_id="T1", defaults=flipside.settings.programme)
        assert settings.repeat_window_weeks == 26
        plan = rounds.plan_round(session, team_id="T1", settings=settings, now=now)
        assert {(p.learner_id, p.teacher_id) for p in plan.result.proposals} == {(george, sam)}
        settings.repeat_window_weeks = 8  # the window has passed
        plan = rounds.plan_round(session, team_id="T1", settings=settings, now=now)
        assert {p.teacher_id for p in plan.result.proposals} == {priya}
        settings.repeat_window_weeks = 26
    ask_by_name(flipside, "U2", "U1")
    with flipside.db.transaction() as session:
        settings = profiles.programme_settings(session, team_id="T1", defaults=flipside.settings.programme)
        plan = rounds.plan_round(session, team_id="T1", settings=settings, now=now)
        assert {p.teacher_id for p in plan.result.proposals} == {priya}


def test_the_dry_run_speaks_in_the_third_person_without_scores(two_teachers):
    flipside = two_teachers
    ask_by_name(flipside, "U2", "U3")
    with flipside.db.transaction() as session:
        text = rounds.preview_round(
            session, team_id="T1", settings_defaults=flipside.settings.programme, now=utcnow()
        )
    assert "1 pairings (0 exchanges, 1 teachers asked for by name)" in text
    assert "Sam (senior, Finance) teaches George (executive, Finance) social media: " in text
    assert "George asked for Sam by name" in text
    assert "score" not in text.lower() and " you" not in text.lower()


# --------------------------------------------------------------------------------------------
# The round's own clock


def set_clock(flipside, *, weekday: int, at: str, timezone: str) -> None:
    with flipside.db.transaction() as session:
        settings = profiles.programme_settings(session, team_id="T1", defaults=flipside.settings.programme)
        settings.matching_weekday, settings.matching_time, settings.matching_timezone = weekday, at, timezone


def rounds_run(flipside) -> list[str]:
    with flipside.db.transaction() as session:
        return list(session.scalars(select(MatchingRound.round_key).order_by(MatchingRound.id)))


def ticks(flipside, *moments: datetime) -> list[str]:
    return [matching_round(jobs(flipside, moment))["T1"] for moment in moments]


@pytest.mark.parametrize(
    ("before", "after", "utc_hour_after"),
    [
        # Spring forward in London on Sunday 28 March 2027: 09:00 is 09:00 UTC, then 08:00 UTC.
        (datetime(2027, 3, 22, tzinfo=UTC), datetime(2027, 3, 29, tzinfo=UTC), 8),
        # Fall back on Sunday 31 October 2027: 09:00 is 08:00 UTC, then 09:00 UTC.
        (datetime(2027, 10, 25, tzinfo=UTC), datetime(2027, 11, 1, tzinfo=UTC), 9),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_the_round_keeps_its_local_time_across_a_daylight_saving_change(
    two_teachers, before, after, utc_hour_after
):
    flipside = two_teachers
    set_clock(flipside, weekday=0, at="09:00", timezone="Europe/London")
    with flipside.db.transaction() as session:
        settings = session.get(ProgrammeSettings, "T1")
        first = next_matching_round(settings, now=before)
        second = next_matching_round(settings, now=first + timedelta(minutes=1))
    assert second - first == timedelta(days=7) + timedelta(hours=utc_hour_after - first.hour)
    assert (second.date(), second.hour) == (after.date(), utc_hour_after)
    assert latest_matching_round(settings, now=second) == second
    assert latest_matching_round(settings, now=second - timedelta(seconds=1)) == first
    minute = timedelta(minutes=1)
    results = ticks(flipside, first, first + 5 * minute, second - minute, second, second + minute)
    keys = rounds_run(flipside)
    assert [r.split(":")[0] for r in results] == [keys[0], "not due", "not due", keys[1], "not due"]
    assert len(keys) == 2


def test_a_clock_down_for_nine_days_runs_the_missed_round_once_when_it_returns(two_teachers):
    flipside = two_teachers
    set_clock(flipside, weekday=0, at="09:00", timezone="Europe/London")
    monday = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 09:00 GMT
    assert ticks(flipside, monday)[0].startswith("2027-W09")
    # Down from Sunday 7 March to Tuesday 16 March: the rounds of 8 and 15 March were missed.
    back = datetime(2027, 3, 16, 12, 0, tzinfo=UTC)
    results = ticks(flipside, back, back + timedelta(minutes=5), back + timedelta(days=1))
    assert results[0].startswith("2027-W11") and results[1:] == ["not due", "not due"]
    assert rounds_run(flipside) == ["2027-W09", "2027-W11"]
    # The next round is on its own time again.
    assert ticks(flipside, datetime(2027, 3, 22, 9, 0, tzinfo=UTC))[0].startswith("2027-W12")


def test_a_missed_round_is_run_late_even_after_its_week_has_ended(two_teachers):
    flipside = two_teachers
    set_clock(flipside, weekday=6, at="23:00", timezone="UTC")  # Sunday night
    sunday = datetime(2027, 3, 7, 23, 0, tzinfo=UTC)
    back = sunday + timedelta(days=9, minutes=30)  # Tuesday, after the next Sunday's round
    results = ticks(flipside, sunday, back, back + timedelta(minutes=5))
    assert [r.split(":")[0] for r in results] == ["2027-W09", "2027-W10", "not due"]
    assert rounds_run(flipside) == ["2027-W09", "2027-W10"]


def test_a_round_scheduled_before_the_programme_was_installed_is_not_owed(two_teachers):
    flipside = two_teachers
    set_clock(flipside, weekday=0, at="09:00", timezone="UTC")
    with flipside.db.transaction() as session:
        installed = session.get(ProgrammeSettings, "T1").workspace.installed_at
        latest = latest_matching_round(session.get(ProgrammeSettings, "T1"), now=installed)
    assert ticks(flipside, installed + timedelta(minutes=1)) == ["not due"]
    assert ticks(flipside, latest + timedelta(days=7)) != ["not due"]


def test_a_pairing_offered_outside_the_round_gets_the_same_reasons(two_teachers):
    """What a next-teacher offer uses: rounds.plan_one, rounds.propose, enqueue_proposal."""
    from bot.delivery import pairing_notices

    flipside = two_teachers
    ask_by_name(flipside, "U2", "U3")
    now = utcnow()
    george, sam = person_id(flipside, "U2"), person_id(flipside, "U3")
    with flipside.db.transaction() as session:
        settings = profiles.programme_settings(session, team_id="T1", defaults=flipside.settings.programme)
        wish = session.scalars(select(Wish).where(Wish.person_id == george)).one()
        plan, match = rounds.plan_one(
            session, wish=wish, teacher=session.get(Person, sam), settings=settings, now=now
        )
        pairing = rounds.propose(session, plan, match, settings=settings, round_id=None, now=now)
        session.flush()
        pairing_notices.enqueue_proposal(session, pairing, now=now)
        assert pairing.teacher_explanation.startswith("George asked for you by name; you are confident in")
        assert pairing.explanation.startswith("you asked for Sam by name; Sam is confident in social media")
