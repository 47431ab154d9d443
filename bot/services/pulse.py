"""The relationship pulse: at 30 days of an active pairing, and every 60 days while it lasts, both
people are asked "How is it going?" (1-5, an optional private note, "we have stopped meeting").

A question is a `pulse_answers` row per person, written with its outbox message in one
transaction; the unique (pairing, number, person) key and the outbox's dedupe key make a re-run,
a second process or a crash ask nobody twice. The answers feed bot.services.figures.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services import pairings
from models import Pairing, PairingStatus, Person, PulseAnswer

FIRST_PULSE = timedelta(days=30)
PULSE_EVERY = timedelta(days=60)
NOTE_LIMIT = 1000
STOPPED_REASON = "stopped_meeting"


class PulseOutcome(enum.StrEnum):
    RATED = "rated"
    STOPPED = "stopped"  # the pairing ended on this answer: the partner is told
    ALREADY_ENDED = "already_ended"  # "stopped" on a pairing that had ended already
    NOT_FOUND = "not_found"  # a forged value, someone else's question, or a forgotten pairing


@dataclass(frozen=True)
class PulseResult:
    outcome: PulseOutcome
    pairing: Pairing | None = None
    rating: int | None = None


def pulse_number(accepted_at: datetime, now: datetime) -> int:
    """Which pulse is due at `now`: 0 before 30 days, 1 from day 30, 2 from day 90, 3 from day 150 …"""
    if now < accepted_at + FIRST_PULSE:
        return 0
    return 1 + (now - accepted_at - FIRST_PULSE) // PULSE_EVERY


def due_pulses(session: Session, *, team_id: str, now: datetime) -> list[tuple[Pairing, int]]:
    """Active pairings whose latest pulse has not been asked yet. One query: the pairings with the
    highest pulse number asked so far (missed pulses after downtime are not caught up: only the
    current one is asked)."""
    asked = (
        select(PulseAnswer.pairing_id, func.max(PulseAnswer.number).label("asked"))
        .where(PulseAnswer.team_id == team_id)
        .group_by(PulseAnswer.pairing_id)
        .subquery()
    )
    rows = session.execute(
        select(Pairing, func.coalesce(asked.c.asked, 0))
        .outerjoin(asked, asked.c.pairing_id == Pairing.id)
        .where(
            Pairing.team_id == team_id,
            Pairing.status == PairingStatus.ACTIVE,
            Pairing.accepted_at.is_not(None),
            Pairing.accepted_at <= now - FIRST_PULSE,
        )
        .order_by(Pairing.id)
    ).all()
    due = []
    for pairing, already in rows:
        number = pulse_number(pairing.accepted_at, now)
        if number > already:
            due.append((pairing, number))
    return due


def ask(session: Session, pairing: Pairing, number: int, *, now: datetime) -> list[Person]:
    """Record the question for both people; returns those newly asked (none on a re-run)."""
    asked = []
    for person in (pairing.learner, pairing.teacher):
        try:
            with session.begin_nested():  # another process may have asked this one a moment ago
                session.add(
                    PulseAnswer(
                        team_id=pairing.team_id,
                        pairing_id=pairing.id,
                        person_id=person.id,
                        number=number,
                        asked_at=now,
                    )
                )
        except IntegrityError:
            continue
        asked.append(person)
    return asked


def question_value(pairing_id: int, number: int) -> str:
    return f"{pairing_id}:{number}"


def parse_value(value: str | None) -> tuple[int, int] | None:
    try:
        pairing_id, number = (int(part) for part in str(value or "").split(":"))
    except ValueError:
        return None
    return pairing_id, number


def _question(session: Session, *, value: str | None, person: Person) -> PulseAnswer | None:
    parsed = parse_value(value)
    if parsed is None:
        return None
    return session.scalar(
        select(PulseAnswer).where(
            PulseAnswer.pairing_id == parsed[0],
            PulseAnswer.number == parsed[1],
            PulseAnswer.person_id == person.id,
            PulseAnswer.team_id == person.team_id,
        )
    )


def validate_rating(raw: str | None) -> int | None:
    try:
        rating = int(str(raw))
    except ValueError:
        return None
    return rating if 1 <= rating <= 5 else None


def rate(session: Session, *, value: str | None, person: Person, rating: int, now: datetime) -> PulseResult:
    """One click: the rating is stored (a second click changes it: the latest answer counts)."""
    answer = _question(session, value=value, person=person)
    if answer is None:
        return PulseResult(PulseOutcome.NOT_FOUND)
    answer.rating, answer.answered_at = rating, now
    return PulseResult(PulseOutcome.RATED, session.get(Pairing, answer.pairing_id), rating)


def stopped(session: Session, *, value: str | None, person: Person, now: datetime) -> PulseResult:
    """ "We have stopped meeting": recorded, and an active pairing ends (the caller tells the partner)."""
    answer = _question(session, value=value, person=person)
    if answer is None:
        return PulseResult(PulseOutcome.NOT_FOUND)
    pairing = session.scalar(select(Pairing).where(Pairing.id == answer.pairing_id).with_for_update())
    answer.stopped_meeting, answer.answered_at = True, answer.answered_at or now
    if pairing is None or pairing.status != PairingStatus.ACTIVE:
        return PulseResult(PulseOutcome.ALREADY_ENDED, pairing)
    pairings.end(pairing, now=now, reason=STOPPED_REASON)
    return PulseResult(PulseOutcome.STOPPED, pairing)


def save_note(
    session: Session, *, value: str | None, person: Person, note: str, share_with_log: bool, now: datetime
) -> bool:
    """The optional private note, and whether its author agrees to add it to the pair's learning log."""
    answer = _question(session, value=value, person=person)
    if answer is None:
        return False
    answer.note = note.strip()[:NOTE_LIMIT] or None
    answer.share_with_log = share_with_log and answer.note is not None
    answer.answered_at = answer.answered_at or now
    return True


# --- the hook for the pair's learning log ------------------------------------------------------


@dataclass(frozen=True)
class SharedNote:
    person_id: int
    note: str
    answered_at: datetime


def notes_for_learning_log(session: Session, *, pairing_id: int) -> list[SharedNote]:
    """Pulse notes whose authors ticked "add my note to our learning log", oldest first. The only
    way a pulse note leaves its author: the learning log may append these, and no other note."""
    rows = session.execute(
        select(PulseAnswer.person_id, PulseAnswer.note, PulseAnswer.answered_at)
        .where(
            PulseAnswer.pairing_id == pairing_id,
            PulseAnswer.share_with_log.is_(True),
            PulseAnswer.note.is_not(None),
        )
        .order_by(PulseAnswer.answered_at, PulseAnswer.id)
    ).all()
    return [SharedNote(person_id, note, answered_at) for person_id, note, answered_at in rows]
