"""The pulse's messages, queued in the outbox inside the deciding transaction (keys make re-runs
harmless): the question to each person, and the kind word to a partner when a pairing stopped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.services import outbox
from bot.views import pulse as views
from models import Pairing, Person


def pulse_key(pairing: Pairing, number: int, person: Person) -> str:
    return f"pairing:{pairing.id}:pulse:{number}:{person.slack_user_id}"


def enqueue_question(
    session: Session, pairing: Pairing, person: Person, number: int, *, now: datetime
) -> None:
    outbox.enqueue(
        session,
        team_id=pairing.team_id,
        dedupe_key=pulse_key(pairing, number, person),
        kind="pulse",
        recipient=person.slack_user_id,
        message=views.build_pulse_question(pairing, person, number),
        send_after=now,
    )


def enqueue_partner_stopped(session: Session, pairing: Pairing, *, told_by: Person, now: datetime) -> None:
    partner = pairing.other_side(told_by.id)
    outbox.enqueue(
        session,
        team_id=pairing.team_id,
        dedupe_key=f"pairing:{pairing.id}:stopped:{partner.slack_user_id}",
        kind="pulse_stopped",
        recipient=partner.slack_user_id,
        message=views.build_partner_stopped(pairing, partner),
        send_after=now,
    )
