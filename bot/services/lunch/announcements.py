"""Telling people: the outbox key of every Lunch 'n' Learn message, queueing messages, and what
became of a session's channel announcement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import outbox
from models import (
    LunchSession,
    LunchStatus,
    LunchSuggestion,
    OutboxMessage,
    OutboxStatus,
    Person,
    Wish,
    WishStatus,
)

# Every key starts with "lunch:<id>:" so cancelling a session drops everything still queued for it.


def announce_key(lunch: LunchSession) -> str:
    # The version makes a retry after a failed post (`/lunchnlearn announce`) a new message.
    return f"lunch:{lunch.id}:announce:{lunch.version}"


def wish_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:wish:{person.slack_user_id}"


def edited_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:edited:{lunch.version}:{person.slack_user_id}"


def cancelled_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:cancelled:{person.slack_user_id}"


def promoted_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:promoted:{lunch.version}:{person.slack_user_id}"


def reminder_prefix(lunch: LunchSession, person: Person | None = None) -> str:
    return f"lunch:{lunch.id}:remind:" + (f"{person.slack_user_id}:" if person else "")


def reminder_key(lunch: LunchSession, person: Person, minutes: int) -> str:
    # The start time is in the key: after a time change, reminders for the new time are new.
    return f"{reminder_prefix(lunch, person)}{int(lunch.starts_at.timestamp())}:{minutes}"


def feedback_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:feedback:{person.slack_user_id}"


def summary_key(lunch: LunchSession) -> str:
    return f"lunch:{lunch.id}:summary"


def lineup_key(week: str) -> str:
    return f"lunch-lineup:{week}"


def suggestion_key(suggestion: LunchSuggestion) -> str:
    return f"lunch-suggestion:{suggestion.id}"


def notify(
    session: Session,
    *,
    team_id: str,
    key: str,
    kind: str,
    recipient: str,
    message: Any,
    now: datetime,
) -> bool:
    """Queue one message; False when its key was already queued (a re-run or a double click)."""
    row = outbox.enqueue(
        session,
        team_id=team_id,
        dedupe_key=key,
        kind=kind,
        recipient=recipient,
        message=message,
        send_after=now,
    )
    return row is not None


def notify_people(
    session: Session,
    *,
    lunch: LunchSession,
    people: Sequence[Person],
    key: Callable[[LunchSession, Person], str],
    kind: str,
    render: Callable[[Person], Any],
    now: datetime,
) -> int:
    sent = 0
    for person in people:
        if person.deactivated_at or person.forgotten_at:
            continue
        sent += notify(
            session,
            team_id=lunch.team_id,
            key=key(lunch, person),
            kind=kind,
            recipient=person.slack_user_id,
            message=render(person),
            now=now,
        )
    return sent


def prepare_announcement(session: Session, lunch: LunchSession, *, channel_id: str) -> str:
    """Point the session at its channel and return the key to queue the announcement under."""
    lunch.channel_id = channel_id
    lunch.message_ts = None
    lunch.version += 1
    session.flush()
    return announce_key(lunch)


def announcement_row(session: Session, lunch: LunchSession) -> OutboxMessage | None:
    """The newest announcement queued for the session, whatever became of it."""
    return session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.team_id == lunch.team_id,
            OutboxMessage.dedupe_key.startswith(f"lunch:{lunch.id}:announce:"),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def announcement_ref(session: Session, lunch: LunchSession) -> tuple[str, str] | None:
    """(channel, ts) of the posted announcement, to update it in place; None until it is posted.

    The outbox sends it; whoever first sees it sent copies channel and ts onto the session.
    """
    if lunch.channel_id and lunch.message_ts:
        return lunch.channel_id, lunch.message_ts
    row = announcement_row(session, lunch)
    if row is None or row.status != OutboxStatus.SENT or not row.channel_id or not row.slack_ts:
        return None
    lunch.channel_id, lunch.message_ts = row.channel_id, row.slack_ts
    return row.channel_id, row.slack_ts


def cancel_announcement(session: Session, lunch: LunchSession) -> None:
    """The channel can never take the post (archived): cancelled, not retried."""
    outbox.cancel(session, team_id=lunch.team_id, key_prefix=announce_key(lunch))


@dataclass(frozen=True)
class AnnouncementStatus:
    posted: bool
    failed: bool  # refused for good or cancelled; `error` says why when Slack said
    error: str | None = None


def announcement_status(session: Session, lunch: LunchSession) -> AnnouncementStatus:
    if announcement_ref(session, lunch):
        return AnnouncementStatus(posted=True, failed=False)
    row = announcement_row(session, lunch)
    if row is not None and row.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
        return AnnouncementStatus(posted=False, failed=True, error=row.last_error)
    return AnnouncementStatus(posted=False, failed=False)


def unannounced(session: Session, *, person: Person, now: datetime) -> list[LunchSession]:
    """Sessions this person hosts or proposed that never reached the channel (e.g. bot not invited)."""
    candidates = session.scalars(
        select(LunchSession)
        .where(
            LunchSession.team_id == person.team_id,
            LunchSession.status == LunchStatus.SCHEDULED,
            LunchSession.starts_at > now,
            LunchSession.message_ts.is_(None),
            (LunchSession.host_id == person.id) | (LunchSession.proposed_by_id == person.id),
        )
        .order_by(LunchSession.starts_at)
    )
    found = []
    for lunch in candidates:
        row = announcement_row(session, lunch)
        if row is None or row.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
            found.append(lunch)
    return found


def wishers(session: Session, lunch: LunchSession) -> list[Person]:
    """People with an open wish for the session's topic: they hear about it when it is announced."""
    if lunch.topic_id is None:
        return []
    return list(
        session.scalars(
            select(Person)
            .join(Wish, Wish.person_id == Person.id)
            .where(
                Wish.topic_id == lunch.topic_id,
                Wish.status == WishStatus.OPEN,
                Person.id != lunch.host_id,
                Person.deactivated_at.is_(None),
                Person.forgotten_at.is_(None),
            )
            .order_by(Person.id)
        )
    )
