"""Forgetting erases: what a forgotten person leaves in the machinery around the domain goes too.

bot.services.admin.forget_person deletes and anonymises the domain rows; this module finds the rest:
the outbox (messages sent to them, and messages to others that name them or quote them), the work
queue (their requests, as Slack sent them) and the OAuth tables (an installer's user id and token).
Outbox keys that carry their Slack id are rewritten with the tombstone id rather than hashed up
front: a keyed hash would still be a pseudonym, and recipients hold the raw id anyway.

Plain Python with no Slack imports; the caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Text, cast, delete, false, or_, select, update
from sqlalchemy.orm import Session

from bot.services.outbox import ERASED_TEXT
from models import (
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchSuggestion,
    OutboxMessage,
    OutboxStatus,
    Pairing,
    PairingFeedback,
    PairingMeeting,
    PendingWork,
    Person,
    PulseAnswer,
    Skill,
    Topic,
    Wish,
)
from models.slack_oauth import installations

# A word shorter than this would match too much; a long note is looked for by its first characters,
# since messages quote notes truncated.
MIN_WORD = 3
WORD_PREFIX = 60
_DONE = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.CANCELLED)


@dataclass(frozen=True)
class Traces:
    """Where a person shows, taken before anything of theirs is deleted."""

    slack_user_id: str
    words: tuple[str, ...]  # their name and what they typed, to look for in stored messages
    pairing_ids: tuple[int, ...]
    hosted_session_ids: tuple[int, ...]
    seated_session_ids: tuple[int, ...]  # sessions they signed up for or gave feedback on
    topic_ids: tuple[int, ...]  # topics of their wishes and skills


def traces_of(session: Session, person: Person) -> Traces:
    def texts(query) -> list[str]:
        return [text for text in session.scalars(query) if text]

    hosted = list(session.scalars(select(LunchSession).where(LunchSession.host_id == person.id)))
    typed = [
        *texts(select(Wish.note).where(Wish.person_id == person.id)),
        *texts(select(PairingMeeting.note).where(PairingMeeting.logged_by_id == person.id)),
        *texts(select(PairingFeedback.note).where(PairingFeedback.person_id == person.id)),
        *texts(select(LunchFeedback.note).where(LunchFeedback.person_id == person.id)),
        *texts(select(PulseAnswer.note).where(PulseAnswer.person_id == person.id)),
        *texts(select(Pairing.decline_reason).where(Pairing.declined_by_id == person.id)),
        *(text for lunch in hosted for text in (lunch.title, lunch.description, lunch.location)),
    ]
    name = (person.display_name or "").strip()
    mine = or_(Pairing.learner_id == person.id, Pairing.teacher_id == person.id)
    seated = (
        select(LunchSignup.session_id)
        .where(LunchSignup.person_id == person.id)
        .union(select(LunchFeedback.session_id).where(LunchFeedback.person_id == person.id))
    )
    topics = (
        select(Wish.topic_id)
        .where(Wish.person_id == person.id)
        .union(select(Skill.topic_id).where(Skill.person_id == person.id))
    )
    return Traces(
        slack_user_id=person.slack_user_id,
        words=_words([name, *name.split()[:1], *typed]),
        pairing_ids=tuple(session.scalars(select(Pairing.id).where(mine).order_by(Pairing.id))),
        hosted_session_ids=tuple(lunch.id for lunch in hosted),
        seated_session_ids=tuple(sorted(session.scalars(seated))),
        topic_ids=tuple(sorted(session.scalars(topics))),
    )


def _words(raw: Iterable[str]) -> tuple[str, ...]:
    words = []
    for text in raw:
        lines = (text or "").strip().splitlines()
        word = lines[0].strip()[:WORD_PREFIX] if lines else ""
        if len(word) >= MIN_WORD and word not in words:
            words.append(word)
    return tuple(words)


def _patterns(words: Iterable[str]) -> tuple[list[str], list[str]]:
    """How each word may be stored: as typed or mrkdwn-escaped, in `text` and inside JSON blocks."""
    plain: list[str] = []
    for word in words:
        escaped = word.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        plain += [variant for variant in (word, escaped) if variant not in plain]
    in_json = sorted({json.dumps(variant)[1:-1] for variant in plain})
    return plain, in_json


def _mentions(traces: Traces) -> ColumnElement[bool]:
    plain, in_json = _patterns((traces.slack_user_id, *traces.words))
    blocks = cast(OutboxMessage.blocks, Text)
    return or_(
        false(),
        *(OutboxMessage.text.contains(word, autoescape=True) for word in plain),
        *(blocks.contains(word, autoescape=True) for word in in_json),
    )


def addressed_to(slack_user_id: str) -> ColumnElement[bool]:
    """Outbox rows for this user alone or in a group DM ("U1,U2": ids joined by commas)."""
    recipient = OutboxMessage.recipient
    return or_(
        recipient == slack_user_id,
        recipient.startswith(f"{slack_user_id},", autoescape=True),
        recipient.endswith(f",{slack_user_id}", autoescape=True),
        recipient.contains(f",{slack_user_id},", autoescape=True),
    )


def _replace_part(value: str, separator: str, old: str, new: str) -> str:
    return separator.join(new if part == old else part for part in value.split(separator))


def erase_outbox(session: Session, *, team_id: str, traces: Traces, tombstone: str) -> int:
    """Rows sent to them, about their pairings and sessions they hosted, or naming or quoting them.

    Messages to them and about their pairings (all ended) that are not sent yet are cancelled; a
    message about them still owed to someone else goes out once, then loses its words
    (`erase_when_sent`). Whatever is already in Slack keeps no copy here. Returns the rows touched."""
    uid = traces.slack_user_id
    to_them = addressed_to(uid)
    pairings = [f"pairing:{pid}:" for pid in traces.pairing_ids]
    hosted = [f"lunch:{sid}:" for sid in traces.hosted_session_ids]
    about_pairings = or_(false(), *(OutboxMessage.dedupe_key.startswith(p) for p in pairings))
    in_team = OutboxMessage.team_id == team_id
    session.execute(
        update(OutboxMessage)
        .where(in_team, or_(to_them, about_pairings), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED)
    )
    touched = 0
    about = or_(
        to_them, about_pairings, *(OutboxMessage.dedupe_key.startswith(p) for p in hosted), _mentions(traces)
    )
    keyed = OutboxMessage.dedupe_key.contains(f":{uid}", autoescape=True)
    for row in session.scalars(select(OutboxMessage).where(in_team, or_(about, keyed))):
        touched += 1
        if row.recipient == uid:  # their DM channel is theirs too
            row.channel_id = None
        row.dedupe_key = _replace_part(row.dedupe_key, ":", uid, tombstone)
        row.recipient = _replace_part(row.recipient, ",", uid, tombstone)
        if row.status in _DONE:
            row.text, row.blocks = ERASED_TEXT, None
        else:  # owed to someone else (pending or being sent): theirs once, then erased
            row.erase_when_sent = True
    session.flush()
    return touched


def erase_pending_work(session: Session, *, team_id: str, slack_user_id: str) -> int:
    """Their requests not yet done (bodies hold their id and what they typed): dropped."""
    quoted = json.dumps(slack_user_id)
    result = session.execute(
        delete(PendingWork).where(
            PendingWork.team_id == team_id,
            or_(
                cast(PendingWork.body, Text).contains(quoted, autoescape=True),
                cast(PendingWork.extras, Text).contains(quoted, autoescape=True),
            ),
        )
    )
    return result.rowcount or 0


def erase_installer(session: Session, *, team_id: str, slack_user_id: str, tombstone: str) -> int:
    """An installer's user id and user token in slack_sdk's installations; the bot token stays."""
    result = session.execute(
        update(installations)
        .where(installations.c.team_id == team_id, installations.c.user_id == slack_user_id)
        .values(
            user_id=tombstone,
            user_token=None,
            user_refresh_token=None,
            user_scopes=None,
            user_token_expires_at=None,
        )
    )
    return result.rowcount or 0


def erase_hosted_sessions(session: Session, *, traces: Traces) -> None:
    """Sessions they hosted keep their time and topic for the figures, not the host's words."""
    for lunch in session.scalars(select(LunchSession).where(LunchSession.id.in_(traces.hosted_session_ids))):
        lunch.title = lunch.topic.display_name if lunch.topic else "Lunch 'n' Learn"
        lunch.description, lunch.location = "", ""
    session.flush()


def drop_orphan_topics(session: Session, *, traces: Traces) -> int:
    """Topics only they had typed, now that their wishes and skills are gone."""
    dropped = 0
    for topic_id in traces.topic_ids:
        used = [
            select(Wish.id).where(Wish.topic_id == topic_id),
            select(Skill.id).where(Skill.topic_id == topic_id),
            select(Pairing.id).where(Pairing.topic_id == topic_id),
            select(Pairing.id).where(Pairing.exchange_topic_id == topic_id),
            select(LunchSession.id).where(LunchSession.topic_id == topic_id),
            select(LunchSuggestion.id).where(LunchSuggestion.topic_id == topic_id),
        ]
        if not any(session.scalar(query.limit(1)) for query in used):
            dropped += session.execute(delete(Topic).where(Topic.id == topic_id)).rowcount or 0
    return dropped
