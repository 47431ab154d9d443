"""A pairing's life: proposed -> both accept -> introduced -> check-ins -> completed (or declined,
expired). Pure state changes; bot.delivery.pairing_notices turns each change into messages."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Answer,
    MeetingHalves,
    Pairing,
    PairingBlock,
    PairingFeedback,
    PairingMeeting,
    PairingStatus,
    Person,
    ProgrammeSettings,
    Wish,
    WishStatus,
)

WORKDAY_START, WORKDAY_END = time(9, 0), time(17, 0)
CHECKIN_INTERVAL = timedelta(days=7)
RATING_RANGE = range(1, 6)
NOTE_LIMIT = 1000


class Outcome(enum.StrEnum):
    """What a button press did, so the listener can say so."""

    WAITING_FOR_OTHER = "waiting_for_other"
    BOTH_ACCEPTED = "both_accepted"
    DECLINED = "declined"
    ALREADY_ANSWERED = "already_answered"  # a double click
    ALREADY_LOGGED = "already_logged"  # the partner logged this check-in's meeting already
    STALE = "stale"  # the pairing changed since the button was drawn
    NOT_YOURS = "not_yours"
    NOT_FOUND = "not_found"
    LOGGED = "logged"
    ENDED = "ended"


@dataclass
class Change:
    outcome: Outcome
    pairing: Pairing | None = None
    person: Person | None = None


def button_value(pairing: Pairing) -> str:
    """Proposal buttons carry the pairing id (and its version, for the logs); every transition
    checks the pairing's current status, so a click on an older drawing is refused as stale."""
    return f"{pairing.id}:{pairing.version}"


def checkin_value(pairing: Pairing) -> str:
    """Check-in buttons carry the pairing id and which check-in they answer."""
    assert pairing.checkin_due_at is not None
    return f"{pairing.id}:{int(pairing.checkin_due_at.timestamp())}"


def parse_button_value(value: str | None) -> tuple[int, int] | None:
    try:
        pairing_id, version = (int(part) for part in (value or "").split(":"))
    except ValueError:
        return None
    return pairing_id, version


def _load_for(session: Session, value: str | None, person: Person, *, lock: bool = True) -> Change:
    parsed = parse_button_value(value)
    if parsed is None:
        return Change(Outcome.NOT_FOUND)
    query = select(Pairing).where(Pairing.id == parsed[0], Pairing.team_id == person.team_id)
    if lock:
        query = query.with_for_update()
    pairing = session.scalar(query)
    if pairing is None:
        return Change(Outcome.NOT_FOUND)
    if person.id not in (pairing.learner_id, pairing.teacher_id):
        return Change(Outcome.NOT_YOURS, pairing, person)
    # The id is enough: every transition checks the pairing's current status, so a button drawn
    # for an older state (a stale message) is refused by that check.
    return Change(Outcome.LOGGED, pairing, person)


def answer(
    session: Session,
    *,
    value: str | None,
    person: Person,
    accept: bool,
    now: datetime,
    settings: ProgrammeSettings,
) -> Change:
    """Accept or decline a proposal on behalf of `person`; safe against double and stale clicks."""
    change = _load_for(session, value, person)
    pairing = change.pairing
    if pairing is None or change.outcome == Outcome.NOT_YOURS:
        return change
    mine = pairing.answer_of(person.id)
    if pairing.status != PairingStatus.PROPOSED:
        if mine == (Answer.ACCEPTED if accept else Answer.DECLINED):
            return Change(Outcome.ALREADY_ANSWERED, pairing, person)
        return Change(Outcome.STALE, pairing, person)
    if mine != Answer.PENDING:
        return Change(
            Outcome.ALREADY_ANSWERED
            if mine == (Answer.ACCEPTED if accept else Answer.DECLINED)
            else Outcome.STALE,
            pairing,
            person,
        )
    _set_answer(pairing, person.id, Answer.ACCEPTED if accept else Answer.DECLINED)
    person.unanswered_streak = 0
    pairing.version += 1
    if not accept:
        pairing.status = PairingStatus.DECLINED
        pairing.declined_by_id = person.id
        pairing.ended_at = now
        pairing.end_reason = "declined"
        return Change(Outcome.DECLINED, pairing, person)
    if pairing.learner_answer == Answer.ACCEPTED and pairing.teacher_answer == Answer.ACCEPTED:
        pairing.status = PairingStatus.ACTIVE
        pairing.accepted_at = now
        pairing.checkin_due_at = now + timedelta(days=settings.checkin_after_days)
        pairing.ends_by = now + timedelta(days=settings.pairing_max_days)
        return Change(Outcome.BOTH_ACCEPTED, pairing, person)
    return Change(Outcome.WAITING_FOR_OTHER, pairing, person)


def _set_answer(pairing: Pairing, person_id: int, value: Answer) -> None:
    if person_id == pairing.learner_id:
        pairing.learner_answer = value
    else:
        pairing.teacher_answer = value


def save_decline_reason(session: Session, *, pairing_id: int, person: Person, reason: str) -> bool:
    pairing = session.get(Pairing, pairing_id)
    if pairing is None or pairing.declined_by_id != person.id:
        return False
    pairing.decline_reason = reason[:500] or None
    return True


def log_meeting(
    session: Session,
    *,
    value: str | None,
    person: Person,
    rating: int | None,
    note: str | None,
    now: datetime,
    settings: ProgrammeSettings,
    halves: MeetingHalves | None = None,
) -> Change:
    """ "Yes, we met": record it; the pairing ends when it reaches the programme's session count.
    In an exchange `halves` records which directions the meeting covered (both, if not said)."""
    change = _load_for(session, value, person)
    pairing = change.pairing
    if pairing is None or change.outcome == Outcome.NOT_YOURS:
        return change
    if pairing.status != PairingStatus.ACTIVE:
        return Change(Outcome.STALE, pairing, person)
    slot = parse_button_value(value)[1]  # type: ignore[index]  # _load_for parsed it already
    logged = session.scalar(
        select(PairingMeeting).where(
            PairingMeeting.pairing_id == pairing.id, PairingMeeting.checkin_slot == slot
        )
    )
    if logged is not None:
        return Change(Outcome.ALREADY_LOGGED, pairing, person)
    session.add(
        PairingMeeting(
            pairing_id=pairing.id,
            checkin_slot=slot,
            logged_by_id=person.id,
            rating=rating,
            note=(note or None),
            halves=(halves or MeetingHalves.BOTH) if pairing.exchange_topic_id is not None else None,
            logged_at=now,
        )
    )
    session.flush()
    if meetings_count(session, pairing) >= settings.pairing_max_sessions:
        end(pairing, now=now, reason="sessions_done")
        return Change(Outcome.ENDED, pairing, person)
    return Change(Outcome.LOGGED, pairing, person)


def meeting_halves(selected: list[str]) -> MeetingHalves:
    """The halves of an exchange ticked at a check-in; at least one."""
    chosen = {value for value in selected if value in (MeetingHalves.TOPIC, MeetingHalves.EXCHANGE_TOPIC)}
    if not chosen:
        raise ValueError("Tick what you worked on: one topic or both.")
    return MeetingHalves.BOTH if len(chosen) == 2 else MeetingHalves(chosen.pop())


def say_done(session: Session, *, value: str | None, person: Person, now: datetime) -> Change:
    change = _load_for(session, value, person)
    pairing = change.pairing
    if pairing is None or change.outcome == Outcome.NOT_YOURS:
        return change
    if pairing.status != PairingStatus.ACTIVE:
        return Change(
            Outcome.ALREADY_ANSWERED if pairing.status == PairingStatus.COMPLETED else Outcome.STALE,
            pairing,
            person,
        )
    end(pairing, now=now, reason="said_done")
    return Change(Outcome.ENDED, pairing, person)


def end(pairing: Pairing, *, now: datetime, reason: str) -> None:
    pairing.status = PairingStatus.COMPLETED
    pairing.ended_at = now
    pairing.end_reason = reason
    pairing.version += 1


def meetings_count(session: Session, pairing: Pairing) -> int:
    return session.scalar(select(func.count()).where(PairingMeeting.pairing_id == pairing.id)) or 0


def save_feedback(
    session: Session, *, pairing_id: int, person: Person, rating: int | None, note: str | None, now: datetime
) -> bool:
    pairing = session.get(Pairing, pairing_id)
    if pairing is None or person.id not in (pairing.learner_id, pairing.teacher_id):
        return False
    feedback = session.scalar(
        select(PairingFeedback).where(
            PairingFeedback.pairing_id == pairing_id, PairingFeedback.person_id == person.id
        )
    )
    if feedback is None:
        feedback = PairingFeedback(pairing_id=pairing_id, person_id=person.id, created_at=now)
        session.add(feedback)
    feedback.rating, feedback.note = rating, note or None
    return True


def mark_learned(session: Session, *, pairing_id: int, person: Person, now: datetime) -> bool:
    """The learner says they learned the topic: the wish closes as met. In an exchange each side
    learned a topic, so either may say so, and it closes their own wish (one per direction)."""
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        return False
    if pairing.learner_id == person.id:
        topic_id = pairing.topic_id
    elif pairing.teacher_id == person.id and pairing.exchange_topic_id is not None:
        topic_id = pairing.exchange_topic_id
    else:
        return False
    wish = session.scalar(select(Wish).where(Wish.person_id == person.id, Wish.topic_id == topic_id))
    if wish is None or wish.status != WishStatus.OPEN:
        return False
    wish.status, wish.closed_at = WishStatus.MET, now
    return True


# --- what the follow-up job finds due ---------------------------------------------------------


def due_reminders(session: Session, *, team_id: str, now: datetime) -> list[Pairing]:
    """Proposals past half their time with an answer still missing (reminded once)."""
    return list(
        session.scalars(
            select(Pairing)
            .where(
                Pairing.team_id == team_id,
                Pairing.status == PairingStatus.PROPOSED,
                Pairing.reminder_due_at.is_not(None),
                Pairing.reminder_due_at <= now,
                Pairing.expires_at > now,
            )
            .order_by(Pairing.id)
        )
    )


def expire_due(session: Session, *, team_id: str, now: datetime) -> list[tuple[Pairing, list[Person]]]:
    """Expire unanswered proposals; returns each with the people who did not answer."""
    expired = []
    for pairing in session.scalars(
        select(Pairing)
        .where(
            Pairing.team_id == team_id, Pairing.status == PairingStatus.PROPOSED, Pairing.expires_at <= now
        )
        .order_by(Pairing.id)
    ):
        pairing.status = PairingStatus.EXPIRED
        pairing.ended_at = now
        pairing.end_reason = "expired"
        pairing.version += 1
        silent = [
            person
            for person in (pairing.learner, pairing.teacher)
            if pairing.answer_of(person.id) == Answer.PENDING
        ]
        for person in silent:
            person.unanswered_streak += 1
        expired.append((pairing, silent))
    return expired


def due_checkins(session: Session, *, team_id: str, now: datetime) -> list[Pairing]:
    return list(
        session.scalars(
            select(Pairing)
            .where(
                Pairing.team_id == team_id,
                Pairing.status == PairingStatus.ACTIVE,
                Pairing.checkin_due_at.is_not(None),
                Pairing.checkin_due_at <= now,
            )
            .order_by(Pairing.id)
        )
    )


def schedule_next_checkin(pairing: Pairing, *, now: datetime) -> None:
    # After downtime the next one is a week from now, not a string of overdue ones every tick.
    assert pairing.checkin_due_at is not None
    pairing.checkin_due_at = max(pairing.checkin_due_at + CHECKIN_INTERVAL, now + CHECKIN_INTERVAL)


def end_overdue(session: Session, *, team_id: str, now: datetime) -> list[Pairing]:
    """Active pairings past the programme's length end by themselves."""
    ended = []
    for pairing in session.scalars(
        select(Pairing)
        .where(
            Pairing.team_id == team_id,
            Pairing.status == PairingStatus.ACTIVE,
            Pairing.ends_by.is_not(None),
            Pairing.ends_by <= now,
        )
        .order_by(Pairing.id)
    ):
        end(pairing, now=now, reason="time_up")
        ended.append(pairing)
    return ended


# --- personal controls -------------------------------------------------------------------------


def snooze_end(raw_date: str | None, *, timezone: str, now: datetime) -> datetime:
    """The end of the picked day in the person's own timezone, in UTC; ValueError says what's wrong."""
    try:
        day = datetime.fromisoformat(raw_date or "").date()
    except ValueError:
        raise ValueError("Pick a date.") from None
    until = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=_zone(timezone)).astimezone(UTC)
    if until <= now:
        raise ValueError("Pick a date in the future.")
    if until > now + timedelta(days=366):
        raise ValueError("Snooze for at most a year.")
    return until


def snooze(person: Person, *, until: datetime) -> None:
    person.snoozed_until = until


def keep_in(person: Person) -> None:
    person.unanswered_streak = 0


def ask_later(person: Person, *, now: datetime) -> None:
    person.unanswered_streak = 0
    person.snoozed_until = now + timedelta(days=28)


def take_out(person: Person) -> None:
    person.paused = True
    person.unanswered_streak = 0


def set_blocked(session: Session, person: Person, blocked: list[Person], *, now: datetime) -> None:
    """Replace `person`'s private "don't pair me with" list."""
    wanted = {other.id for other in blocked if other.id != person.id}
    current = {
        row.blocked_person_id: row
        for row in session.scalars(select(PairingBlock).where(PairingBlock.person_id == person.id))
    }
    for blocked_id, row in current.items():
        if blocked_id not in wanted:
            session.delete(row)
    for blocked_id in wanted - current.keys():
        session.add(
            PairingBlock(
                team_id=person.team_id, person_id=person.id, blocked_person_id=blocked_id, created_at=now
            )
        )


def blocked_user_ids(session: Session, person: Person) -> list[str]:
    return list(
        session.scalars(
            select(Person.slack_user_id)
            .join(PairingBlock, PairingBlock.blocked_person_id == Person.id)
            .where(PairingBlock.person_id == person.id)
        )
    )


# --- meeting times -----------------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def suggest_meeting_times(
    tz_a: str, tz_b: str, *, now: datetime, count: int = 3, length: timedelta = timedelta(minutes=30)
) -> list[datetime]:
    """Up to `count` half-hour slots on coming weekdays inside both people's 09:00-17:00, in UTC.

    Walks half-hour steps over the next two weeks; one slot a day so the options are spread out.
    """
    zones = (_zone(tz_a), _zone(tz_b))
    start = (now + timedelta(days=1)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    slots: list[datetime] = []
    days_used: set[object] = set()
    step = timedelta(minutes=30)
    moment = start
    while moment < start + timedelta(days=14) and len(slots) < count:
        locals_ = [moment.astimezone(zone) for zone in zones]
        ends = [(moment + length).astimezone(zone) for zone in zones]
        if all(
            local.weekday() < 5
            and local.time() >= WORKDAY_START
            and end.time() <= WORKDAY_END
            and end.date() == local.date()
            for local, end in zip(locals_, ends, strict=True)
        ):
            day = locals_[0].date()
            if day not in days_used:
                days_used.add(day)
                slots.append(moment)
        moment += step
    return slots


def validate_rating(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    try:
        rating = int(raw)
    except ValueError:
        raise ValueError("Pick a rating from 1 to 5.") from None
    if rating not in RATING_RANGE:
        raise ValueError("Pick a rating from 1 to 5.")
    return rating
