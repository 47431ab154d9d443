"""The demo's "between rounds" part: a teacher declines and the wish goes to the next teacher at
once; a teacher leaves the company and their partner is told kindly and offered someone else.
Everything goes through the same services and outbox as in Slack; the messages are printed as
the learners would read them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.db import Database
from bot.delivery import flow_notices, leavers
from bot.delivery import pairing_notices as notices
from bot.services import next_offer, pairings, profiles
from bot.views.plaintext import blocks_to_text
from models import OutboxMessage, Pairing, PairingStatus, Person, Wish


def print_demo_flow(
    database: Database,
    *,
    team_id: str,
    defaults: ProgrammeDefaults,
    now: datetime,
    heading: Callable[[str], None],
) -> None:
    heading("Between rounds: a decline, the next teacher at once, a leaver")
    print(demo_flow(database, team_id=team_id, defaults=defaults, now=now))


def demo_flow(database: Database, *, team_id: str, defaults: ProgrammeDefaults, now: datetime) -> str:
    lines: list[str] = []
    with database.transaction() as session:
        settings = profiles.programme_settings(session, team_id=team_id, defaults=defaults)
        proposed = session.scalars(
            select(Pairing)
            .where(
                Pairing.team_id == team_id,
                Pairing.status == PairingStatus.PROPOSED,
                Pairing.exchange_topic_id.is_(None),  # one-way pairs: the story is simpler to read
            )
            .order_by(Pairing.score.desc(), Pairing.id)
        ).all()
        # Show the next teacher at once: decline a pairing whose wish someone else could take now.
        declined = next((p for p in proposed if _someone_else_could_teach(session, p, settings, now)), None)
        left = next((p for p in proposed if p is not declined), None)
        if declined is None or left is None:
            return "(the sample round left nobody free to show this)"
        lines += _decline(session, declined, defaults=defaults, now=now + timedelta(hours=3))
        lines.append("")
        lines += _leaver(session, left, defaults=defaults, now=now + timedelta(hours=4))
    return "\n".join(lines)


def _someone_else_could_teach(session: Session, pairing: Pairing, settings, now: datetime) -> bool:
    wish = session.get(Wish, pairing.wish_id) if pairing.wish_id else None
    if wish is None:
        return False
    options = next_offer.candidates(session, wish=wish, learner=pairing.learner, settings=settings, now=now)
    return any(option.person.id != pairing.teacher_id for option in options)


def _who(person: Person) -> str:
    stage = person.career_stage.label if person.career_stage else "colleague"
    return f"{person.display_name} ({stage}, {person.department})"


def _decline(session: Session, pairing: Pairing, *, defaults: ProgrammeDefaults, now: datetime) -> list[str]:
    teacher, learner, topic = pairing.teacher, pairing.learner, pairing.topic.display_name
    settings = profiles.programme_settings(session, team_id=pairing.team_id, defaults=defaults)
    change = pairings.answer(
        session,
        value=pairings.button_value(pairing),
        person=teacher,
        accept=False,
        now=now,
        settings=settings,
    )
    notices.after_answer(session, change, now=now)
    next_id = flow_notices.after_answer(session, change, defaults=defaults, now=now)
    lines = [f"• {_who(teacher)} declines to teach {learner.display_name} {topic}."]
    if next_id is None:
        return [*lines, "  Nobody else can take it right now: it waits for next week's round."]
    offered = session.get(Pairing, next_id)
    assert offered is not None
    lines += [
        f"  At once, not next week, Flipside asks the next-best teacher: {_who(offered.teacher)}.",
        f"  Why, in {learner.display_name}'s proposal: {offered.explanation}",
        f"  {learner.display_name} reads:",
        *_read(session, learner, key_prefix=f"pairing:{next_id}:next-offer-note"),
        f"  {_who(teacher).split(' (')[0]} is never offered this wish again; after three offers in a week "
        "a wish waits for the round.",
    ]
    return lines


def _leaver(session: Session, pairing: Pairing, *, defaults: ProgrammeDefaults, now: datetime) -> list[str]:
    teacher, learner, topic = pairing.teacher, pairing.learner, pairing.topic.display_name
    profiles.apply_slack_user(teacher, {"id": teacher.slack_user_id, "deleted": True}, now=now)
    leavers.depart(session, teacher, defaults=defaults, now=now)
    ended = session.scalars(
        select(Pairing.id).where(Pairing.end_reason == "partner_left", Pairing.ended_at == now)
    ).all()
    lines = [
        f"• {_who(teacher)} leaves the company (deactivated in Slack) while proposed to teach "
        f"{learner.display_name} {topic}.",
        f"  {_pairings(len(ended))} end, their Lunch 'n' Learn seats go to the "
        "waitlist and their own sessions are cancelled.",
        f"  {learner.display_name} reads:",
        *_read(session, learner, key_prefix=f"pairing:{pairing.id}:partner-left"),
    ]
    offered = session.scalar(
        select(Pairing).where(
            Pairing.learner_id == learner.id,
            Pairing.status == PairingStatus.PROPOSED,
            Pairing.id != pairing.id,
        )
    )
    if offered is not None:
        lines.append(f"  …and the new proposal goes to {_who(offered.teacher)}.")
    return lines


def _pairings(count: int) -> str:
    return "Their open pairing" if count == 1 else f"Their {count} open pairings"


def _read(session: Session, person: Person, *, key_prefix: str) -> list[str]:
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.recipient == person.slack_user_id, OutboxMessage.dedupe_key.startswith(key_prefix)
        )
        .order_by(OutboxMessage.id)
    ).all()
    names = {p.slack_user_id: p.display_name for p in session.scalars(select(Person))}
    texts = []
    for row in rows:
        text = blocks_to_text(row.blocks or []) or row.text
        for user_id, name in names.items():
            text = text.replace(f"<@{user_id}>", f"@{name}").replace(f"@{user_id}", f"@{name}")
        texts.append("    " + text.replace("\n", "\n    "))
    return texts
