"""Someone deactivated or removed from Slack: their open pairings end and each partner is told
kindly (a learner's wish goes straight to the next teacher), their Lunch 'n' Learn seats go to
the waitlist, and the sessions they host are cancelled. One transaction with the user_change that
said so; the messages are outbox rows, sent once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.delivery.flow_notices import tell_next_offer
from bot.delivery.forgetting import cancel_hosted_sessions, give_up_seats
from bot.services import next_offer, outbox
from bot.views import flow as views
from models import Pairing, PairingStatus, Person


@dataclass
class Departure:
    """What a departure changed, for the caller to send and redraw after the commit."""

    pairing_ids: list[int] = field(default_factory=list)  # ended, and next offers made
    lunch_session_ids: list[int] = field(default_factory=list)  # posts to redraw


def end_open_pairings(
    session: Session, person: Person, *, defaults: ProgrammeDefaults, now: datetime
) -> list[int]:
    """End the leaver's open pairings; tell each partner; offer a learner's wish to the next
    teacher. Returns the ids of the pairings whose messages were queued."""
    open_pairings = session.scalars(
        select(Pairing)
        .where(
            or_(Pairing.learner_id == person.id, Pairing.teacher_id == person.id),
            Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]),
        )
        .order_by(Pairing.id)
        .with_for_update()
    ).all()
    touched = []
    for pairing in open_pairings:
        pairing.status = PairingStatus.CANCELLED
        pairing.ended_at, pairing.end_reason = now, "partner_left"
        pairing.version += 1  # buttons already sent for this pairing become stale
        session.flush()
        touched.append(pairing.id)
        partner = pairing.other_side(person.id)
        if partner.deactivated_at or partner.forgotten_at:
            continue
        offer = None
        if pairing.teacher_id == person.id:
            offer = next_offer.after_ended(
                session, ended=pairing, defaults=defaults, now=now, teacher_left=True
            )
        found = offer is not None and offer.pairing is not None
        outbox.enqueue(
            session,
            team_id=pairing.team_id,
            dedupe_key=f"pairing:{pairing.id}:partner-left",
            kind="partner_left",
            recipient=partner.slack_user_id,
            message=views.build_partner_left(
                topic=pairing.topic.display_name,
                was_teacher=pairing.teacher_id == person.id,
                found_next=found,
            ),
            send_after=now,
        )
        if offer is not None:
            tell_next_offer(session, offer, now=now, teacher_left=True)
            if offer.pairing is not None:
                touched.append(offer.pairing.id)
    return touched


def depart(session: Session, person: Person, *, defaults: ProgrammeDefaults, now: datetime) -> Departure:
    """Everything a departure changes, in the caller's transaction."""
    pairing_ids = end_open_pairings(session, person, defaults=defaults, now=now)
    freed = give_up_seats(session, person=person, now=now)
    cancelled = cancel_hosted_sessions(session, person=person, now=now)
    return Departure(pairing_ids, list(dict.fromkeys([*freed, *cancelled])))
