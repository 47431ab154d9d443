"""Ghosting: a side of a pairing that went silent is asked whether to stay in, and paused after a
week without an answer. Extends the "three unanswered proposals" ask (same buttons, same answers).

Silence is counted per person: check-ins sent since they last answered one, and whether they
answered anything since an introduction that led to no meeting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import Pairing, PairingMeeting, PairingStatus, Person

INTRO_IGNORED_AFTER = timedelta(days=14)
# Counted when a check-in is sent: the fourth going out means the three before it went unanswered.
SILENT_CHECKINS = 3
ANSWER_WITHIN = timedelta(days=7)


def checkin_sent(pairing: Pairing) -> None:
    for person in (pairing.learner, pairing.teacher):
        person.checkins_unanswered += 1


def answered(person: Person, *, now: datetime) -> None:
    """Any answer to a check-in or to the stay-in ask: not silent any more."""
    person.checkins_unanswered = 0
    person.checkin_answered_at = now
    person.stay_in_asked_at = None


def mark_asked(person: Person, *, now: datetime) -> datetime:
    """Start (or keep) the week in which the person may answer the stay-in ask."""
    if person.stay_in_asked_at is None:
        person.stay_in_asked_at = now
    return person.stay_in_asked_at


def _askable(session: Session, ids: set[int]) -> list[Person]:
    """Those of `ids` still to ask, locked: a second job process waits, then skips them."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(Person)
            .where(
                Person.id.in_(sorted(ids)),
                Person.stay_in_asked_at.is_(None),
                Person.paused.is_(False),
                Person.deactivated_at.is_(None),
                Person.forgotten_at.is_(None),
            )
            .order_by(Person.id)
            .with_for_update()
        )
    )


def due_asks(session: Session, *, team_id: str, now: datetime) -> list[tuple[Person, str]]:
    """People to ask now, each with why: "checkins" or "intro" (see bot.views.flow.GHOST_REASONS)."""
    silent = set(
        session.scalars(
            select(Person.id).where(Person.team_id == team_id, Person.checkins_unanswered > SILENT_CHECKINS)
        )
    )
    met = exists().where(PairingMeeting.pairing_id == Pairing.id)
    quiet_intros = session.scalars(
        select(Pairing).where(
            Pairing.team_id == team_id,
            Pairing.status == PairingStatus.ACTIVE,
            Pairing.accepted_at <= now - INTRO_IGNORED_AFTER,
            ~met,
        )
    )
    ignored = {
        person.id
        for pairing in quiet_intros
        for person in (pairing.learner, pairing.teacher)
        if pairing.accepted_at is not None
        and (person.checkin_answered_at is None or person.checkin_answered_at < pairing.accepted_at)
    }
    return [
        (person, "checkins" if person.id in silent else "intro")
        for person in _askable(session, silent | ignored)
    ]


def pause_unanswered(session: Session, *, team_id: str, now: datetime) -> list[tuple[Person, datetime]]:
    """Pause everyone asked more than ANSWER_WITHIN ago who never answered; returns them with
    when they were asked (the key of the DM that tells them)."""
    people = session.scalars(
        select(Person)
        .where(
            Person.team_id == team_id,
            Person.stay_in_asked_at.is_not(None),
            Person.stay_in_asked_at <= now - ANSWER_WITHIN,
        )
        .order_by(Person.id)
        .with_for_update()
    )
    paused = []
    for person in people:
        asked_at = person.stay_in_asked_at
        assert asked_at is not None
        person.stay_in_asked_at = None
        if person.paused or person.deactivated_at or person.forgotten_at:
            continue  # paused already (took themselves out) or gone: nothing to tell
        person.paused = True
        paused.append((person, asked_at))
    return paused
