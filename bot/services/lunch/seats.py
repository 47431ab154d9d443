"""Seats: signing up, giving a seat back, the waitlist moving up, and how sessions look to one person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.services import outbox
from bot.services.lunch.announcements import reminder_prefix
from bot.services.lunch.common import Change, Outcome, closed_reason, lock_session
from models import LunchSession, LunchSignup, LunchStatus, Person, SignupStatus

UPCOMING_LIMIT = 10


def signup_of(session: Session, lunch: LunchSession, person: Person) -> LunchSignup | None:
    return session.scalar(
        select(LunchSignup).where(LunchSignup.session_id == lunch.id, LunchSignup.person_id == person.id)
    )


def signups(session: Session, lunch: LunchSession, status: SignupStatus) -> list[LunchSignup]:
    return list(
        session.scalars(
            select(LunchSignup)
            .where(LunchSignup.session_id == lunch.id, LunchSignup.status == status)
            .order_by(LunchSignup.signed_up_at, LunchSignup.id)
            .options(selectinload(LunchSignup.person))
        )
    )


def attending_count(session: Session, lunch: LunchSession) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(LunchSignup)
            .where(LunchSignup.session_id == lunch.id, LunchSignup.status == SignupStatus.ATTENDING)
        )
        or 0
    )


def sign_up(session: Session, *, session_id: int | None, person: Person, now: datetime) -> Change:
    lunch = lock_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return Change(Outcome.NOT_FOUND)
    closed = closed_reason(lunch, now)
    if closed:
        return Change(closed, lunch)
    if lunch.host_id == person.id:
        return Change(Outcome.HOSTING, lunch)
    signup = signup_of(session, lunch, person)
    if signup is not None and signup.status == SignupStatus.ATTENDING:
        return Change(Outcome.ALREADY_ATTENDING, lunch)
    if signup is not None and signup.status == SignupStatus.WAITLISTED:
        return Change(Outcome.ALREADY_WAITLISTED, lunch, position=waitlist_position(session, lunch, person))
    full = lunch.capacity is not None and attending_count(session, lunch) >= lunch.capacity
    status = SignupStatus.WAITLISTED if full else SignupStatus.ATTENDING
    if signup is None:
        session.add(LunchSignup(session_id=lunch.id, person_id=person.id, status=status, signed_up_at=now))
    else:  # came back after cancelling: to the back of the queue
        signup.status, signup.signed_up_at, signup.promoted_at = status, now, None
    lunch.version += 1
    session.flush()
    if full:
        return Change(Outcome.WAITLISTED, lunch, position=waitlist_position(session, lunch, person))
    return Change(Outcome.SIGNED_UP, lunch)


def cancel_signup(session: Session, *, session_id: int | None, person: Person, now: datetime) -> Change:
    lunch = lock_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return Change(Outcome.NOT_FOUND)
    closed = closed_reason(lunch, now)
    if closed:
        return Change(closed, lunch)
    signup = signup_of(session, lunch, person)
    if signup is None or signup.status == SignupStatus.CANCELLED:
        return Change(Outcome.HOSTING if lunch.host_id == person.id else Outcome.NOT_SIGNED_UP, lunch)
    was_attending = signup.status == SignupStatus.ATTENDING
    signup.status = SignupStatus.CANCELLED
    lunch.version += 1
    session.flush()
    if not was_attending:
        return Change(Outcome.LEFT_WAITLIST, lunch)
    outbox.cancel(session, team_id=lunch.team_id, key_prefix=reminder_prefix(lunch, person))
    return Change(Outcome.LEFT, lunch, promoted=fill_free_seats(session, lunch, now=now))


def fill_free_seats(session: Session, lunch: LunchSession, *, now: datetime) -> list[Person]:
    """First come, first served: the longest-waiting people take the seats that are free."""
    waiting = signups(session, lunch, SignupStatus.WAITLISTED)
    if lunch.capacity is None:
        free = len(waiting)
    else:
        free = max(0, lunch.capacity - attending_count(session, lunch))
    promoted = []
    for signup in waiting[:free]:
        signup.status, signup.promoted_at = SignupStatus.ATTENDING, now
        promoted.append(signup.person)
    if promoted:
        session.flush()
    return promoted


def waitlist_position(session: Session, lunch: LunchSession, person: Person) -> int | None:
    for index, signup in enumerate(signups(session, lunch, SignupStatus.WAITLISTED), start=1):
        if signup.person_id == person.id:
            return index
    return None


@dataclass(frozen=True)
class SessionState:
    """What the announcement shows: who is going and how many wait."""

    lunch: LunchSession
    attendees: list[Person]
    waitlisted: list[Person]

    @property
    def seats_left(self) -> int | None:
        if self.lunch.capacity is None:
            return None
        return max(0, self.lunch.capacity - len(self.attendees))


def state_of(session: Session, lunch: LunchSession) -> SessionState:
    return SessionState(
        lunch,
        [signup.person for signup in signups(session, lunch, SignupStatus.ATTENDING)],
        [signup.person for signup in signups(session, lunch, SignupStatus.WAITLISTED)],
    )


def upcoming(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    until: datetime | None = None,
    limit: int = UPCOMING_LIMIT,
) -> list[LunchSession]:
    query = select(LunchSession).where(
        LunchSession.team_id == team_id,
        LunchSession.status == LunchStatus.SCHEDULED,
        LunchSession.starts_at > now,
    )
    if until is not None:
        query = query.where(LunchSession.starts_at < until)
    return list(session.scalars(query.order_by(LunchSession.starts_at, LunchSession.id).limit(limit)))


@dataclass(frozen=True)
class MySeat:
    """How a session looks from one person's side, for `/lunchnlearn list` and App Home."""

    state: SessionState
    hosting: bool
    attending: bool
    waitlist_position: int | None


def listing(session: Session, *, person: Person, now: datetime, limit: int = UPCOMING_LIMIT) -> list[MySeat]:
    seats = []
    for lunch in upcoming(session, team_id=person.team_id, now=now, limit=limit):
        state = state_of(session, lunch)
        waiting = [p.id for p in state.waitlisted]
        seats.append(
            MySeat(
                state,
                hosting=lunch.host_id == person.id,
                attending=any(p.id == person.id for p in state.attendees),
                waitlist_position=waiting.index(person.id) + 1 if person.id in waiting else None,
            )
        )
    return seats


def my_upcoming(session: Session, *, person: Person, now: datetime) -> list[MySeat]:
    """The sessions I host, attend or wait for (App Home)."""
    return [
        seat
        for seat in listing(session, person=person, now=now, limit=50)
        if seat.hosting or seat.attending or seat.waitlist_position
    ]
