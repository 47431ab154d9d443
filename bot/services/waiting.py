"""No wish silently ignored: after each round, the owner of every open wish that did not enter it
hears why and what to do, once per reason (wishes.told_wait_reason), not every week."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.availability import WaitReason, open_wish_reasons
from models import Pairing, PairingStatus, Person, Wish, WishStatus


def newly_waiting(
    session: Session, *, team_id: str, now: datetime, already_told: Iterable[tuple[int, str]] = ()
) -> list[tuple[Person, list[tuple[Wish, WaitReason]]]]:
    """People to tell, each with their wishes that wait for a reason they were not told yet.
    `already_told` holds (wish id, reason) the round itself just told (its "not this week" DM);
    those are recorded, not repeated. Marks everything returned as told."""
    reasons = open_wish_reasons(session, team_id=team_id, now=now)
    told_by_round = dict(already_told)
    # Someone learning now (or with a proposal out) learns one topic at a time: their other wishes
    # wait for that reason, which they know; the one being taught is not waiting at all.
    learning = set(
        session.scalars(
            select(Pairing.learner_id).where(
                Pairing.team_id == team_id,
                Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]),
            )
        )
    )
    wishes = session.scalars(
        select(Wish)
        .where(Wish.team_id == team_id, Wish.status == WishStatus.OPEN)
        .order_by(Wish.person_id, Wish.id)
    )
    by_person: dict[int, list[tuple[Wish, WaitReason]]] = {}
    for wish in wishes:
        reason = reasons.get(wish.id)
        # In the round: nothing to say. Told already: not again (and not on a flip back and forth).
        if (
            reason in (None, WaitReason.NEXT_ROUND, WaitReason.IN_PAIRING, WaitReason.LEARNING_ANOTHER)
            or wish.person_id in learning
        ):
            continue
        if wish.told_wait_reason == reason.value:
            continue
        wish.told_wait_reason = reason.value
        if told_by_round.get(wish.id) == reason.value:
            continue
        by_person.setdefault(wish.person_id, []).append((wish, reason))
    people = {
        person.id: person
        for person in session.scalars(select(Person).where(Person.id.in_(list(by_person))))
        # Someone who left or asked to be forgotten gets no DM.
        if person.deactivated_at is None and person.forgotten_at is None
    }
    return [(people[person_id], items) for person_id, items in by_person.items() if person_id in people]
