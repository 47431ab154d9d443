"""The pairing flow between rounds turned into queued messages (the outbox), in the deciding
transaction: the next teacher at once, why a wish waits, and "should I keep you in?".

Keys are the messages' identities, so a click or a job processed twice queues nothing new.
Next-offer messages are keyed under the pairing they belong to (`pairing:<id>:`), so the code
that flushes a pairing's messages after a click sends them too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.delivery import pairing_notices
from bot.services import ghosting, next_offer, outbox
from bot.services.next_offer import NextOffer, Step
from bot.services.pairings import Change, Outcome
from bot.views import flow as views
from bot.views import pairing as pairing_views
from bot.views.common import Message
from models import Pairing, Person


def _send(session: Session, *, team_id: str, key: str, kind: str, to: str, message: Message, now: datetime):
    outbox.enqueue(
        session, team_id=team_id, dedupe_key=key, kind=kind, recipient=to, message=message, send_after=now
    )


def tell_next_offer(session: Session, offer: NextOffer, *, now: datetime, teacher_left: bool = False) -> None:
    """The learner hears what happened to their wish; a new proposal goes to both sides."""
    wish, ended = offer.wish, offer.ended
    if wish is None or offer.step == Step.NOTHING:
        return
    learner = ended.learner
    topic = wish.topic.display_name
    if offer.step == Step.OFFERED and offer.pairing is not None:
        pairing = offer.pairing
        note = views.build_next_offer_note(
            topic=topic, teacher_user_id=pairing.teacher.slack_user_id, teacher_left=teacher_left
        )
        if not teacher_left:  # a leaver's partner hears it in the "your partner has left" note
            _send(
                session,
                team_id=pairing.team_id,
                key=f"pairing:{pairing.id}:next-offer-note",
                kind="next_offer",
                to=learner.slack_user_id,
                message=note,
                now=now,
            )
        pairing_notices.enqueue_proposal(session, pairing, now=now)
        return
    assert offer.next_round is not None
    note = (
        views.build_offer_limit_note(topic=topic, next_round=offer.next_round)
        if offer.step == Step.WAITS_OFFER_LIMIT
        else views.build_no_teacher_now_note(topic=topic, next_round=offer.next_round)
    )
    if not teacher_left:
        _send(
            session,
            team_id=ended.team_id,
            key=f"pairing:{ended.id}:next-offer-waits",
            kind="next_offer",
            to=learner.slack_user_id,
            message=note,
            now=now,
        )


def after_answer(
    session: Session, change: Change, *, defaults: ProgrammeDefaults, now: datetime
) -> int | None:
    """After a decline: the wish goes to the next teacher at once. Returns the new pairing's id,
    whose messages the caller may send right away (the outbox job sends them otherwise)."""
    if change.outcome != Outcome.DECLINED or change.pairing is None:
        return None
    offer = next_offer.after_ended(session, ended=change.pairing, defaults=defaults, now=now)
    tell_next_offer(session, offer, now=now)
    return offer.pairing.id if offer.pairing is not None else None


def after_expiry(session: Session, pairing: Pairing, *, defaults: ProgrammeDefaults, now: datetime) -> None:
    """An expired proposal whose teacher never answered: the next teacher at once."""
    offer = next_offer.after_ended(session, ended=pairing, defaults=defaults, now=now)
    tell_next_offer(session, offer, now=now)


def ask_to_stay_in(session: Session, person: Person, *, because: str, now: datetime) -> None:
    """The ghosting ask (an ignored introduction, three silent check-ins): the same buttons as
    the three-unanswered-proposals ask, and a week to answer."""
    asked_at = ghosting.mark_asked(person, now=now)
    _send(
        session,
        team_id=person.team_id,
        key=f"person:{person.id}:stay-in:{int(asked_at.timestamp())}",
        kind="keep_in",
        to=person.slack_user_id,
        message=pairing_views.build_keep_in_ask(because=views.GHOST_REASONS[because]),
        now=now,
    )


def pause_silent(session: Session, *, team_id: str, now: datetime) -> int:
    """Everyone asked a week ago who never answered is paused, with a DM saying how to come back."""
    paused = ghosting.pause_unanswered(session, team_id=team_id, now=now)
    for person, asked_at in paused:
        _send(
            session,
            team_id=team_id,
            key=f"person:{person.id}:paused-after:{int(asked_at.timestamp())}",
            kind="paused_after_silence",
            to=person.slack_user_id,
            message=views.build_paused_after_silence(),
            now=now,
        )
    return len(paused)
