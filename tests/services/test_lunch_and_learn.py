"""Lunch 'n' Learn's domain: validation, seats and the waitlist, edits, reminders, feedback, demand."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.config import ProgrammeDefaults
from bot.db import Database
from bot.ids import Block
from bot.services import learning, outbox, profiles
from bot.services import lunch_and_learn as lunches
from bot.services.lunch_and_learn import Outcome, ProposalError, ProposalInput
from bot.views.common import Message
from models import (
    CareerStage,
    LunchSession,
    LunchSignup,
    LunchStatus,
    OutboxMessage,
    OutboxStatus,
    Person,
    SignupStatus,
    SkillLevel,
)

TEAM = "T1"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday morning
START = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)  # the Wednesday after


def person(session, user_id: str, *, stage: CareerStage | None = CareerStage.MID, **fields) -> Person:
    found = profiles.get_or_create_person(
        session, team_id=TEAM, slack_user_id=user_id, defaults=ProgrammeDefaults()
    )
    found.display_name = fields.pop("name", f"{user_id.title()} Example")
    found.career_stage = stage
    found.profile_completed_at = NOW - timedelta(days=30)
    for name, value in fields.items():
        setattr(found, name, value)
    session.flush()
    return found


def proposal(**overrides) -> lunches.Proposal:
    values = dict(
        title="Canva in 30 minutes",
        topic="Canva",
        description="Posters without a designer.",
        host_user_id="UHOST",
        starts_at=START,
        duration_minutes=45,
        location="Kitchen",
        capacity=2,
    )
    values.update(overrides)
    return lunches.Proposal(**values)


def new_session(session, host: Person, **overrides) -> LunchSession:
    return lunches.create_session(session, proposal=proposal(**overrides), proposer=host, host=host, now=NOW)


@pytest.fixture
def db(database: Database) -> Database:
    return database


# ----------------------------------------------------------------------------- validation


def raw(**overrides) -> ProposalInput:
    values = dict(
        title="Canva basics",
        topic="canva",
        description="",
        host_user_id="U1",
        date="2026-03-10",
        time="12:30",
        timezone="America/New_York",
        duration="45",
        location="https://zoom.us/j/123",
        seats="10",
    )
    values.update(overrides)
    return ProposalInput(**values)


def test_date_and_time_are_read_on_the_hosts_clock_and_stored_in_utc():
    parsed = lunches.parse_proposal(raw(), now=NOW)
    # New York is on summer time from 8 March 2026: 12:30 there is 16:30 UTC.
    assert parsed.starts_at == datetime(2026, 3, 10, 16, 30, tzinfo=UTC)
    assert parsed.duration_minutes == 45 and parsed.capacity == 10
    assert lunches.parse_proposal(raw(timezone="Europe/London"), now=NOW).starts_at.hour == 12
    assert lunches.parse_proposal(raw(timezone="Not/AZone"), now=NOW).starts_at.hour == 12  # UTC


def test_local_date_time_round_trips_for_the_edit_modal():
    parsed = lunches.parse_proposal(raw(timezone="Asia/Kolkata"), now=NOW)
    assert lunches.local_date_time(parsed.starts_at, "Asia/Kolkata") == ("2026-03-10", "12:30")


@pytest.mark.parametrize(
    ("overrides", "block", "words"),
    [
        ({"date": "2026-03-01"}, Block.DATE, "past"),
        ({"date": "2026-03-02", "time": "09:00", "timezone": "UTC"}, Block.TIME, "past"),
        ({"date": ""}, Block.DATE, "Pick a date"),
        ({"time": None}, Block.TIME, "start time"),
        ({"duration": "0"}, Block.DURATION, "end after it starts"),
        ({"duration": "-30"}, Block.DURATION, "end after it starts"),
        ({"duration": "lots"}, Block.DURATION, "number of minutes"),
        ({"duration": "1000"}, Block.DURATION, "between"),
        ({"seats": "0"}, Block.SEATS, "At least one seat"),
        ({"seats": "-4"}, Block.SEATS, "At least one seat"),
        ({"seats": "ten"}, Block.SEATS, "whole number"),
        ({"title": "x" * 3000}, Block.TITLE, "3000"),
        ({"title": "   "}, Block.TITLE, "title"),
        ({"topic": "y" * 81}, Block.TOPIC, "80"),
        ({"location": "ftp://files.example.com/talk"}, Block.LOCATION, "https://"),
        ({"location": "https://"}, Block.LOCATION, "link"),
        ({"location": "https://not a link"}, Block.LOCATION, "link"),
        ({"location": "javascript:alert(1)"}, Block.LOCATION, "link"),
        ({"location": "http//zoom.us/j/1"}, Block.LOCATION, "link"),
        ({"location": ""}, Block.LOCATION, "Say where"),
        ({"description": "d" * 2001}, Block.DESCRIPTION, "2000"),
    ],
)
def test_bad_input_names_the_field(overrides, block, words):
    with pytest.raises(ProposalError, match=re.escape(words)) as caught:
        lunches.parse_proposal(raw(**overrides), now=NOW)
    assert block in caught.value.errors
    assert words in caught.value.errors[block]


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ProposalError, match="Give the session a title") as caught:
        lunches.parse_proposal(raw(title="", seats="0", duration="0", location="ftp://x.y"), now=NOW)
    assert set(caught.value.errors) == {Block.TITLE, Block.SEATS, Block.DURATION, Block.LOCATION}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Room 4.2", "Room 4.2"),
        ("Fourth floor, by the plants", "Fourth floor, by the plants"),
        ("zoom.us/j/123", "https://zoom.us/j/123"),
        ("https://meet.google.com/abc", "https://meet.google.com/abc"),
        ("https://x.example.com/a|b", "https://x.example.com/a%7Cb"),
        ("<!channel> kitchen", "<!channel> kitchen"),  # stored as typed; escaped when shown
    ],
)
def test_locations_are_rooms_or_web_links(typed, stored):
    assert lunches.parse_proposal(raw(location=typed), now=NOW).location == stored


def test_no_seat_limit_when_seats_is_empty():
    assert lunches.parse_proposal(raw(seats=""), now=NOW).capacity is None
    assert lunches.parse_proposal(raw(duration=None), now=NOW).duration_minutes == lunches.DEFAULT_DURATION


# ----------------------------------------------------------------------------- seats and the waitlist


def test_seats_fill_then_the_waitlist_then_the_first_waiting_moves_up(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        a, b, c, d = (person(session, f"U{n}") for n in "ABCD")
        assert lunches.sign_up(session, session_id=lunch.id, person=a, now=NOW).outcome == Outcome.SIGNED_UP
        assert lunches.sign_up(session, session_id=lunch.id, person=b, now=NOW).outcome == Outcome.SIGNED_UP
        third = lunches.sign_up(session, session_id=lunch.id, person=c, now=NOW + timedelta(seconds=1))
        fourth = lunches.sign_up(session, session_id=lunch.id, person=d, now=NOW + timedelta(seconds=2))
        assert (third.outcome, third.position) == (Outcome.WAITLISTED, 1)
        assert (fourth.outcome, fourth.position) == (Outcome.WAITLISTED, 2)

        left = lunches.cancel_signup(session, session_id=lunch.id, person=a, now=NOW)
        assert left.outcome == Outcome.LEFT
        assert [p.slack_user_id for p in left.promoted] == ["UC"]
        state = lunches.state_of(session, lunch)
        assert [p.slack_user_id for p in state.attendees] == ["UB", "UC"]
        assert [p.slack_user_id for p in state.waitlisted] == ["UD"]
        assert state.seats_left == 0


def test_clear_answers_for_repeated_or_pointless_clicks(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        a, b, c = (person(session, f"U{n}") for n in "ABC")
        lunches.sign_up(session, session_id=lunch.id, person=a, now=NOW)
        version = lunch.version
        assert (
            lunches.sign_up(session, session_id=lunch.id, person=a, now=NOW).outcome
            == Outcome.ALREADY_ATTENDING
        )
        assert lunch.version == version  # nothing changed, nothing redrawn
        assert lunches.sign_up(session, session_id=lunch.id, person=host, now=NOW).outcome == Outcome.HOSTING
        assert (
            lunches.cancel_signup(session, session_id=lunch.id, person=b, now=NOW).outcome
            == Outcome.NOT_SIGNED_UP
        )
        lunches.sign_up(session, session_id=lunch.id, person=b, now=NOW)
        lunches.sign_up(session, session_id=lunch.id, person=c, now=NOW)
        again = lunches.sign_up(session, session_id=lunch.id, person=c, now=NOW)
        assert (again.outcome, again.position) == (Outcome.ALREADY_WAITLISTED, 1)
        assert (
            lunches.cancel_signup(session, session_id=lunch.id, person=c, now=NOW).outcome
            == Outcome.LEFT_WAITLIST
        )
        assert lunches.sign_up(session, session_id=999, person=a, now=NOW).outcome == Outcome.NOT_FOUND
        assert lunches.sign_up(session, session_id=None, person=a, now=NOW).outcome == Outcome.NOT_FOUND


def test_no_sign_ups_once_started_or_cancelled(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a = person(session, "UA")
        lunch = new_session(session, host)
        assert (
            lunches.sign_up(session, session_id=lunch.id, person=a, now=START).outcome
            == Outcome.SESSION_STARTED
        )
        lunches.cancel_session(session, session_id=lunch.id, person=host, admin_user_ids=(), now=NOW)
        assert (
            lunches.sign_up(session, session_id=lunch.id, person=a, now=NOW).outcome
            == Outcome.SESSION_CANCELLED
        )
        assert (
            lunches.cancel_signup(session, session_id=lunch.id, person=a, now=NOW).outcome
            == Outcome.SESSION_CANCELLED
        )


def test_coming_back_after_cancelling_queues_at_the_back(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=1)
        a, b, c = (person(session, f"U{n}") for n in "ABC")
        lunches.sign_up(session, session_id=lunch.id, person=a, now=NOW)
        lunches.sign_up(session, session_id=lunch.id, person=b, now=NOW + timedelta(seconds=1))
        lunches.cancel_signup(session, session_id=lunch.id, person=b, now=NOW + timedelta(seconds=2))
        lunches.sign_up(session, session_id=lunch.id, person=c, now=NOW + timedelta(seconds=3))
        back = lunches.sign_up(session, session_id=lunch.id, person=b, now=NOW + timedelta(seconds=4))
        assert (back.outcome, back.position) == (Outcome.WAITLISTED, 2)


def test_no_limit_means_everyone_is_in(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=None)
        for n in range(12):
            change = lunches.sign_up(
                session, session_id=lunch.id, person=person(session, f"U{n:02d}"), now=NOW
            )
            assert change.outcome == Outcome.SIGNED_UP
        assert lunches.state_of(session, lunch).seats_left is None


def test_concurrent_transactions_never_overfill_the_last_seat(db):
    """Eight separate transactions race for one free seat: exactly one wins, the rest wait in line."""
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=3)
        for n in range(2):
            lunches.sign_up(session, session_id=lunch.id, person=person(session, f"UEARLY{n}"), now=NOW)
        racers = [person(session, f"URACE{n}").id for n in range(8)]
        lunch_id = lunch.id
    barrier = threading.Barrier(len(racers))
    outcomes: list[Outcome] = []

    def click(person_id: int) -> None:
        barrier.wait()
        with db.transaction() as session:
            racer = session.get(Person, person_id)
            outcomes.append(lunches.sign_up(session, session_id=lunch_id, person=racer, now=NOW).outcome)

    threads = [threading.Thread(target=click, args=(pid,)) for pid in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes).count(Outcome.SIGNED_UP) == 1
    assert outcomes.count(Outcome.WAITLISTED) == 7
    with db.transaction() as session:
        going = session.scalars(
            select(LunchSignup).where(
                LunchSignup.session_id == lunch_id, LunchSignup.status == SignupStatus.ATTENDING
            )
        ).all()
        assert len(going) == 3


# ----------------------------------------------------------------------------- edit and cancel


def test_only_the_host_or_an_admin_may_edit_or_cancel(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        other = person(session, "UOTHER")
        slack_admin = person(session, "USLACKADMIN", is_slack_admin=True)
        listed_admin = person(session, "ULISTED")
        lunch = new_session(session, host)
        kwargs = dict(session_id=lunch.id, proposal=proposal(title="New"), now=NOW)
        denied = lunches.edit_session(session, person=other, host=host, admin_user_ids=(), **kwargs)
        assert denied.outcome == Outcome.NOT_ALLOWED and lunch.title == "Canva in 30 minutes"
        assert lunches.edit_session(
            session, person=slack_admin, host=host, admin_user_ids=(), **kwargs
        ).changes == ["title"]
        assert (
            lunches.cancel_session(
                session, session_id=lunch.id, person=other, admin_user_ids=(), now=NOW
            ).outcome
            == Outcome.NOT_ALLOWED
        )
        cancelled = lunches.cancel_session(
            session, session_id=lunch.id, person=listed_admin, admin_user_ids={"ULISTED"}, now=NOW
        )
        assert cancelled.outcome == Outcome.CANCELLED and lunch.status == LunchStatus.CANCELLED


def test_edit_reports_what_changed_and_guards_the_seats(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=3)
        people = [person(session, f"U{n}") for n in "ABCDE"]
        for index, someone in enumerate(people):
            lunches.sign_up(session, session_id=lunch.id, person=someone, now=NOW + timedelta(seconds=index))
        with pytest.raises(ProposalError, match="3 people are already going") as caught:
            lunches.edit_session(
                session,
                session_id=lunch.id,
                person=host,
                host=host,
                proposal=proposal(capacity=2),
                admin_user_ids=(),
                now=NOW,
            )
        assert "3 people are already going" in caught.value.errors[Block.SEATS]
        change = lunches.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(capacity=4, location="Room 7", starts_at=START + timedelta(hours=1)),
            admin_user_ids=(),
            now=NOW,
        )
        assert change.changes == ["time", "place", "seats"]
        assert [p.slack_user_id for p in change.promoted] == ["UD"]
        assert {p.slack_user_id for p in change.audience} == {"UA", "UB", "UC"}
        nothing = lunches.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(capacity=4, location="Room 7", starts_at=START + timedelta(hours=1)),
            admin_user_ids=(),
            now=NOW,
        )
        assert nothing.outcome == Outcome.EDITED and nothing.changes == []


def _queue(session, key: str, *, send_after: datetime = NOW) -> None:
    lunches.notify(
        session,
        team_id=TEAM,
        key=key,
        kind="test",
        recipient="U1",
        message=Message("hi"),
        now=send_after,
    )


def _status(session, key: str) -> OutboxStatus:
    return session.scalar(select(OutboxMessage.status).where(OutboxMessage.dedupe_key == key))


def test_time_change_cancels_pending_reminders_and_cancelling_drops_everything_queued(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a = person(session, "UA")
        lunch = new_session(session, host)
        other = new_session(session, host)
        lunches.sign_up(session, session_id=lunch.id, person=a, now=NOW)
        old_key = lunches.reminder_key(lunch, a, 15)
        _queue(session, old_key)
        _queue(session, lunches.reminder_key(other, a, 15))
        _queue(session, lunches.feedback_key(lunch, a))
        lunches.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(title="Renamed"),
            admin_user_ids=(),
            now=NOW,
        )
        assert _status(session, old_key) == OutboxStatus.PENDING  # same time: the reminder still holds
        lunches.edit_session(
            session,
            session_id=lunch.id,
            person=host,
            host=host,
            proposal=proposal(title="Renamed", starts_at=START + timedelta(days=1)),
            admin_user_ids=(),
            now=NOW,
        )
        assert _status(session, old_key) == OutboxStatus.CANCELLED
        assert lunches.reminder_key(lunch, a, 15) != old_key
        assert _status(session, lunches.feedback_key(lunch, a)) == OutboxStatus.PENDING
        change = lunches.cancel_session(session, session_id=lunch.id, person=host, admin_user_ids=(), now=NOW)
        assert [p.slack_user_id for p in change.audience] == ["UA"]
        assert _status(session, lunches.feedback_key(lunch, a)) == OutboxStatus.CANCELLED
        assert (
            _status(session, lunches.reminder_key(other, a, 15)) == OutboxStatus.PENDING
        )  # lunch:2 untouched


def test_giving_a_seat_back_cancels_my_pending_reminders_only(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a, b = person(session, "UA"), person(session, "UB")
        lunch = new_session(session, host)
        for someone in (a, b):
            lunches.sign_up(session, session_id=lunch.id, person=someone, now=NOW)
            _queue(session, lunches.reminder_key(lunch, someone, 15))
        lunches.cancel_signup(session, session_id=lunch.id, person=a, now=NOW)
        assert _status(session, lunches.reminder_key(lunch, a, 15)) == OutboxStatus.CANCELLED
        assert _status(session, lunches.reminder_key(lunch, b, 15)) == OutboxStatus.PENDING


# ----------------------------------------------------------------------------- announcement


def test_announcement_ref_comes_from_the_sent_outbox_row(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        key = lunches.prepare_announcement(session, lunch, channel_id="CLUNCH")
        _queue(session, key)
        assert lunches.announcement_ref(session, lunch) is None
        row = lunches.announcement_row(session, lunch)
        outbox.mark_sent(session, message_id=row.id, channel_id="CLUNCH", ts="171.000100", now=NOW)
        session.expire_all()
        assert lunches.announcement_ref(session, lunch) == ("CLUNCH", "171.000100")
        assert (lunch.channel_id, lunch.message_ts) == ("CLUNCH", "171.000100")
        assert lunches.unannounced(session, person=host, now=NOW) == []


def test_failed_announcements_can_be_retried_under_a_new_key(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        first = lunches.prepare_announcement(session, lunch, channel_id="CPRIV")
        _queue(session, first)
        outbox.mark_failed(
            session, message_id=lunches.announcement_row(session, lunch).id, error="not_in_channel"
        )
        assert lunches.unannounced(session, person=host, now=NOW) == [lunch]
        assert lunches.prepare_announcement(session, lunch, channel_id="CPRIV") != first


def test_wishers_hear_about_sessions_on_their_topic_but_not_the_host(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        fan = person(session, "UFAN")
        gone = person(session, "UGONE", deactivated_at=NOW)
        for someone in (host, fan, gone):
            learning.add_wishes(session, someone, "canva", now=NOW)
        lunch = new_session(session, host, topic="Canva")
        assert [p.slack_user_id for p in lunches.wishers(session, lunch)] == ["UFAN"]
        assert lunches.wishers(session, new_session(session, host, topic=None)) == []


# ----------------------------------------------------------------------------- reminders and feedback


def test_reminders_go_out_at_their_time_nearest_one_only(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        early, late = person(session, "UEARLY"), person(session, "ULATE")
        lunch = new_session(session, host)
        lunches.sign_up(session, session_id=lunch.id, person=early, now=NOW)
        lunches.sign_up(session, session_id=lunch.id, person=late, now=START - timedelta(hours=3))

        def due(at: datetime) -> set[tuple[str, int]]:
            found = lunches.due_reminders(session, team_id=TEAM, minutes=[1440, 15], now=at)
            return {(r.person.slack_user_id, r.minutes) for r in found}

        assert due(START - timedelta(days=1, minutes=1)) == set()
        assert due(START - timedelta(days=1)) == {("UHOST", 1440), ("UEARLY", 1440)}
        assert due(START - timedelta(minutes=14)) == {("UHOST", 15), ("UEARLY", 15), ("ULATE", 15)}
        assert due(START) == set()  # started: too late for a reminder
        assert lunches.due_reminders(session, team_id=TEAM, minutes=[], now=START) == []


def test_reminder_minutes_come_from_the_programme_settings(db):
    with db.transaction() as session:
        settings = profiles.programme_settings(session, team_id=TEAM, defaults=ProgrammeDefaults())
        assert lunches.reminder_minutes(settings) == [15, 1440]
        settings.lnl_reminder_minutes = "60, junk,60,5"
        assert lunches.reminder_minutes(settings) == [5, 60]


def test_feedback_from_attendees_after_the_session_and_a_summary_for_the_host(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a, b, c = (person(session, f"U{n}") for n in "ABC")
        lunch = new_session(session, host, capacity=None)
        for someone in (a, b):
            lunches.sign_up(session, session_id=lunch.id, person=someone, now=NOW)
        after = lunch.ends_at + timedelta(minutes=1)
        early = lunches.record_feedback(session, session_id=lunch.id, person=a, rating=5, now=NOW)
        assert early.outcome == Outcome.NOT_OVER
        stranger = lunches.record_feedback(session, session_id=lunch.id, person=c, rating=1, now=after)
        assert stranger.outcome == Outcome.NOT_ATTENDEE
        assert {
            p.slack_user_id for _lunch, p in lunches.due_feedback_asks(session, team_id=TEAM, now=after)
        } == {
            "UA",
            "UB",
        }
        assert lunches.record_feedback(
            session, session_id=lunch.id, person=a, rating=5, now=after
        ).outcome == (Outcome.RATED)
        lunches.record_feedback(
            session, session_id=lunch.id, person=a, rating=4, note=" Great\n\n\n\ntips ", now=after
        )
        lunches.record_feedback(session, session_id=lunch.id, person=b, rating=3, now=after)
        assert lunches.due_feedback_asks(session, team_id=TEAM, now=after) == []
        summary = lunches.feedback_summary(session, lunch)
        assert (summary.count, summary.average, summary.notes) == (2, 3.5, ["Great\n\ntips"])
        assert summary.by_rating == {1: 0, 2: 0, 3: 1, 4: 1, 5: 0}
        assert lunches.due_host_summaries(session, team_id=TEAM, now=after) == []
        [(found, _summary)] = lunches.due_host_summaries(session, team_id=TEAM, now=after + timedelta(days=2))
        assert found.id == lunch.id
        [(past, _summary)] = lunches.hosted_past(session, person=host, now=after)
        assert past.id == lunch.id


@pytest.mark.parametrize("raw_rating", ["0", "6", "x", None, "3.5"])
def test_ratings_are_one_to_five(raw_rating):
    with pytest.raises(ValueError, match="Pick a rating from 1 to 5"):
        lunches.validate_rating(raw_rating)


# ----------------------------------------------------------------------------- line-up and demand


def test_lineup_is_due_from_monday_morning_in_the_programme_timezone(db):
    with db.transaction() as session:
        settings = profiles.programme_settings(session, team_id=TEAM, defaults=ProgrammeDefaults())
        monday = datetime(2026, 3, 2, tzinfo=UTC)
        assert lunches.lineup_week(settings, now=monday + timedelta(hours=8, minutes=59)) is None
        assert lunches.lineup_week(settings, now=monday + timedelta(hours=9)) == "2026-W10"
        assert lunches.lineup_week(settings, now=monday + timedelta(days=1, hours=10)) is None
        settings.matching_timezone = "Asia/Tokyo"  # 09:00 in Tokyo is 00:00 UTC
        assert lunches.lineup_week(settings, now=monday) == "2026-W10"


def _demand(session, topic: str, wishers: int, teachers: list[tuple[str, CareerStage | None, SkillLevel]]):
    for n in range(wishers):
        learning.add_wishes(session, person(session, f"UW{topic[:3].upper()}{n}"), topic, now=NOW)
    for user_id, stage, level in teachers:
        learning.add_skills(session, person(session, user_id, stage=stage), topic, level=level, now=NOW)


def test_suggestions_go_to_the_most_junior_teacher_once_a_month(db):
    with db.transaction() as session:
        _demand(
            session,
            "Canva",
            3,
            [
                ("USENIOR", CareerStage.SENIOR, SkillLevel.EXPERT),
                ("UEARLYBASIC", CareerStage.EARLY, SkillLevel.BASICS),
                ("UEARLYEXPERT", CareerStage.EARLY, SkillLevel.EXPERT),
            ],
        )
        _demand(
            session, "Excel", 2, [("UEXCEL", CareerStage.EARLY, SkillLevel.EXPERT)]
        )  # under the threshold
        _demand(session, "Golf", 5, [])  # nobody can teach it
        [pick] = lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW)
        assert (pick.topic.display_name, pick.teacher.slack_user_id, pick.wishers) == (
            "Canva",
            "UEARLYEXPERT",
            3,
        )
        # Re-run the same week: nothing; next week: someone else (nobody twice in a month).
        assert (
            lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(hours=1)) == []
        )
        [second] = lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(days=7))
        assert second.teacher.slack_user_id == "UEARLYBASIC"
        [back] = lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(days=31))
        assert back.teacher.slack_user_id == "UEARLYEXPERT"


def test_no_suggestion_when_a_session_is_already_planned(db):
    with db.transaction() as session:
        _demand(session, "Canva", 3, [("UTEACH", CareerStage.EARLY, SkillLevel.EXPERT)])
        _demand(session, "Golf", 1, [])  # in demand, not planned: the list is not empty by accident
        host = person(session, "UHOST")
        new_session(session, host, topic="canva")
        assert lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW) == []
        demand = lunches.topics_in_demand(session, team_id=TEAM, now=NOW)
        assert [d.topic.display_name for d in demand] == ["Golf"]


def test_one_nudge_per_teacher_per_run_and_a_teacher_is_not_asked_about_their_own_wish(db):
    with db.transaction() as session:
        _demand(session, "Canva", 3, [("UBOTH", CareerStage.EARLY, SkillLevel.EXPERT)])
        _demand(session, "TikTok", 4, [("UBOTH", CareerStage.EARLY, SkillLevel.EXPERT)])
        picks = lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW)
        assert [pick.topic.display_name for pick in picks] == ["TikTok"]
        learning.add_skills(session, person(session, "UWCAN0"), "Canva", now=NOW)  # a wisher who can teach
        picks = lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW + timedelta(days=8))
        assert [(p.topic.display_name, p.teacher.slack_user_id) for p in picks] == [("Canva", "UBOTH")]


def test_announcing_a_suggested_topic_links_the_suggestion(db):
    with db.transaction() as session:
        _demand(session, "Canva", 3, [("UTEACH", CareerStage.EARLY, SkillLevel.EXPERT)])
        [pick] = lunches.suggest_sessions(session, team_id=TEAM, threshold=3, now=NOW)
        teacher = pick.teacher
        lunch = new_session(session, teacher, topic="Canva")
        assert pick.suggestion.session_id == lunch.id
        assert (
            lunches.suggestion_for(session, person=teacher, suggestion_id=pick.suggestion.id)
            is pick.suggestion
        )
        assert (
            lunches.suggestion_for(session, person=person(session, "UX"), suggestion_id=pick.suggestion.id)
            is None
        )


def test_weekly_lineup_lists_the_next_seven_days(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        soon = new_session(session, host)
        new_session(session, host, starts_at=NOW + timedelta(days=8))
        cancelled = new_session(session, host)
        lunches.cancel_session(session, session_id=cancelled.id, person=host, admin_user_ids=(), now=NOW)
        _demand(session, "Canva", 2, [])
        lineup = lunches.weekly_lineup(session, team_id=TEAM, week="2026-W10", now=NOW)
        assert [state.lunch.id for state in lineup.sessions] == [soon.id]
        assert [
            (d.topic.display_name, d.wishers, d.teachers) for d in lineup.demand
        ] == []  # Canva is planned
        assert not lineup.empty


def test_listing_marks_my_place(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        me = person(session, "UME")
        full = new_session(session, host, capacity=1)
        lunches.sign_up(session, session_id=full.id, person=person(session, "UA"), now=NOW)
        lunches.sign_up(session, session_id=full.id, person=me, now=NOW)
        mine = new_session(session, me, starts_at=START + timedelta(days=1))
        seats = lunches.listing(session, person=me, now=NOW)
        assert [(s.state.lunch.id, s.attending, s.hosting, s.waitlist_position) for s in seats] == [
            (full.id, False, False, 1),
            (mine.id, False, True, None),
        ]
        assert len(lunches.my_upcoming(session, person=me, now=NOW)) == 2
        assert lunches.my_upcoming(session, person=person(session, "UNOBODY"), now=NOW) == []


# ----------------------------------------------------------------------------- calendars


def _session_for_calendar() -> LunchSession:
    lunch = LunchSession(
        id=7,
        team_id=TEAM,
        title="Canva, posters; and more \\ fun " + "é" * 60,
        description="Line one\nLine two",
        starts_at=START,
        duration_minutes=45,
        location="https://zoom.us/j/123",
        status=LunchStatus.SCHEDULED,
        version=3,
    )
    return lunch


def test_ics_is_valid_icalendar_text():
    text = lunches.ics_text(_session_for_calendar(), now=NOW, host_name="Priya")
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20260304T123000Z\r\n" in text and "DTEND:20260304T131500Z\r\n" in text
    assert "SUMMARY:Lunch n Learn: Canva\\, posters\\; and more \\\\ fun" in text
    assert "DESCRIPTION:Hosted by Priya.\\n\\nLine one\\nLine two" in text
    assert "URL:https://zoom.us/j/123" in text and "SEQUENCE:3" in text
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "é" * 60 in unfolded


def test_google_calendar_link_carries_the_event():
    url = lunches.google_calendar_url(_session_for_calendar())
    assert url.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&")
    assert "dates=20260304T123000Z%2F20260304T131500Z" in url
    assert "location=https%3A%2F%2Fzoom.us%2Fj%2F123" in url
    assert " " not in url


# ----------------------------------------------------------------------------- the demo


def test_demo_proposes_sessions_fills_seats_and_prints_what_the_channel_reads(db):
    import random

    from bot.demo_lunch import demo_lunch

    with db.transaction() as session:
        _demand(session, "Canva", 12, [("UTEACH", CareerStage.EARLY, SkillLevel.EXPERT)])
        _demand(session, "Negotiation", 4, [("USENIOR", CareerStage.SENIOR, SkillLevel.CONFIDENT)])
        text = demo_lunch(session, team_id=TEAM, now=NOW, rng=random.Random(1))
        assert session.scalar(select(func.count()).select_from(LunchSession)) == 2
    assert "Suggested: 12 people want to learn Canva; asked Uteach Example (early career)" in text
    assert "Canva: a quick start" in text and "Full (8 of 8 seats taken) · 2 people on the waitlist" in text
    assert "This week's Lunch 'n' Learns" in text and "Negotiation: a quick start" in text
    assert "<!date" not in text and "&amp;" not in text and "[Join the waitlist]" in text


def test_demo_copes_with_an_empty_workspace(db):
    import random

    from bot.demo_lunch import demo_lunch

    with db.transaction() as session:
        assert "too small" in demo_lunch(session, team_id=TEAM, now=NOW, rng=random.Random(1))
