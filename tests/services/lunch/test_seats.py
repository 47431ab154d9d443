"""Seats: sign-ups, the waitlist moving up, races for the last seat, and one person's listing."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from bot.services.lunch import announcements, hosting, seats
from bot.services.lunch.common import Outcome
from models import LunchSignup, OutboxStatus, Person, SignupStatus
from tests.services.lunch.factories import NOW, START, new_session, person, queue, status_of


def test_seats_fill_then_the_waitlist_then_the_first_waiting_moves_up(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        a, b, c, d = (person(session, f"U{n}") for n in "ABCD")
        assert seats.sign_up(session, session_id=lunch.id, person=a, now=NOW).outcome == Outcome.SIGNED_UP
        assert seats.sign_up(session, session_id=lunch.id, person=b, now=NOW).outcome == Outcome.SIGNED_UP
        third = seats.sign_up(session, session_id=lunch.id, person=c, now=NOW + timedelta(seconds=1))
        fourth = seats.sign_up(session, session_id=lunch.id, person=d, now=NOW + timedelta(seconds=2))
        assert (third.outcome, third.position) == (Outcome.WAITLISTED, 1)
        assert (fourth.outcome, fourth.position) == (Outcome.WAITLISTED, 2)

        left = seats.cancel_signup(session, session_id=lunch.id, person=a, now=NOW)
        assert left.outcome == Outcome.LEFT
        assert [p.slack_user_id for p in left.promoted] == ["UC"]
        state = seats.state_of(session, lunch)
        assert [p.slack_user_id for p in state.attendees] == ["UB", "UC"]
        assert [p.slack_user_id for p in state.waitlisted] == ["UD"]
        assert state.seats_left == 0


def test_clear_answers_for_repeated_or_pointless_clicks(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host)
        a, b, c = (person(session, f"U{n}") for n in "ABC")
        seats.sign_up(session, session_id=lunch.id, person=a, now=NOW)
        version = lunch.version
        assert (
            seats.sign_up(session, session_id=lunch.id, person=a, now=NOW).outcome
            == Outcome.ALREADY_ATTENDING
        )
        assert lunch.version == version  # nothing changed, nothing redrawn
        assert seats.sign_up(session, session_id=lunch.id, person=host, now=NOW).outcome == Outcome.HOSTING
        assert (
            seats.cancel_signup(session, session_id=lunch.id, person=b, now=NOW).outcome
            == Outcome.NOT_SIGNED_UP
        )
        seats.sign_up(session, session_id=lunch.id, person=b, now=NOW)
        seats.sign_up(session, session_id=lunch.id, person=c, now=NOW)
        again = seats.sign_up(session, session_id=lunch.id, person=c, now=NOW)
        assert (again.outcome, again.position) == (Outcome.ALREADY_WAITLISTED, 1)
        assert (
            seats.cancel_signup(session, session_id=lunch.id, person=c, now=NOW).outcome
            == Outcome.LEFT_WAITLIST
        )
        assert seats.sign_up(session, session_id=999, person=a, now=NOW).outcome == Outcome.NOT_FOUND
        assert seats.sign_up(session, session_id=None, person=a, now=NOW).outcome == Outcome.NOT_FOUND


def test_no_sign_ups_once_started_or_cancelled(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a = person(session, "UA")
        lunch = new_session(session, host)
        assert (
            seats.sign_up(session, session_id=lunch.id, person=a, now=START).outcome
            == Outcome.SESSION_STARTED
        )
        hosting.cancel_session(session, session_id=lunch.id, person=host, is_admin=False, now=NOW)
        assert (
            seats.sign_up(session, session_id=lunch.id, person=a, now=NOW).outcome
            == Outcome.SESSION_CANCELLED
        )
        assert (
            seats.cancel_signup(session, session_id=lunch.id, person=a, now=NOW).outcome
            == Outcome.SESSION_CANCELLED
        )


def test_coming_back_after_cancelling_queues_at_the_back(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=1)
        a, b, c = (person(session, f"U{n}") for n in "ABC")
        seats.sign_up(session, session_id=lunch.id, person=a, now=NOW)
        seats.sign_up(session, session_id=lunch.id, person=b, now=NOW + timedelta(seconds=1))
        seats.cancel_signup(session, session_id=lunch.id, person=b, now=NOW + timedelta(seconds=2))
        seats.sign_up(session, session_id=lunch.id, person=c, now=NOW + timedelta(seconds=3))
        back = seats.sign_up(session, session_id=lunch.id, person=b, now=NOW + timedelta(seconds=4))
        assert (back.outcome, back.position) == (Outcome.WAITLISTED, 2)


def test_no_limit_means_everyone_is_in(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=None)
        for n in range(12):
            change = seats.sign_up(session, session_id=lunch.id, person=person(session, f"U{n:02d}"), now=NOW)
            assert change.outcome == Outcome.SIGNED_UP
        assert seats.state_of(session, lunch).seats_left is None


def test_concurrent_transactions_never_overfill_the_last_seat(db):
    """Eight separate transactions race for one free seat: exactly one wins, the rest wait in line."""
    with db.transaction() as session:
        host = person(session, "UHOST")
        lunch = new_session(session, host, capacity=3)
        for n in range(2):
            seats.sign_up(session, session_id=lunch.id, person=person(session, f"UEARLY{n}"), now=NOW)
        racers = [person(session, f"URACE{n}").id for n in range(8)]
        lunch_id = lunch.id
    barrier = threading.Barrier(len(racers))
    outcomes: list[Outcome] = []

    def click(person_id: int) -> None:
        barrier.wait()
        with db.transaction() as session:
            racer = session.get(Person, person_id)
            outcomes.append(seats.sign_up(session, session_id=lunch_id, person=racer, now=NOW).outcome)

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


def test_giving_a_seat_back_cancels_my_pending_reminders_only(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        a, b = person(session, "UA"), person(session, "UB")
        lunch = new_session(session, host)
        for someone in (a, b):
            seats.sign_up(session, session_id=lunch.id, person=someone, now=NOW)
            queue(session, announcements.reminder_key(lunch, someone, 15))
        seats.cancel_signup(session, session_id=lunch.id, person=a, now=NOW)
        assert status_of(session, announcements.reminder_key(lunch, a, 15)) == OutboxStatus.CANCELLED
        assert status_of(session, announcements.reminder_key(lunch, b, 15)) == OutboxStatus.PENDING


def test_listing_marks_my_place(db):
    with db.transaction() as session:
        host = person(session, "UHOST")
        me = person(session, "UME")
        full = new_session(session, host, capacity=1)
        seats.sign_up(session, session_id=full.id, person=person(session, "UA"), now=NOW)
        seats.sign_up(session, session_id=full.id, person=me, now=NOW)
        mine = new_session(session, me, starts_at=START + timedelta(days=1))
        listed = seats.listing(session, person=me, now=NOW)
        assert [(s.state.lunch.id, s.attending, s.hosting, s.waitlist_position) for s in listed] == [
            (full.id, False, False, 1),
            (mine.id, False, True, None),
        ]
        assert len(seats.my_upcoming(session, person=me, now=NOW)) == 2
        assert seats.my_upcoming(session, person=person(session, "UNOBODY"), now=NOW) == []
