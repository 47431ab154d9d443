"""Slack's Events API: each event done once.

Slack delivers an event again when it thinks we missed it (X-Slack-Retry-Num): each event_id is
recorded once, in the transaction of what handling it stores."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import ProcessedEvent


def event_id_of(body: dict[str, Any]) -> str | None:
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    return str(event_id)[:64] if event_id else None


def first_delivery(session: Session, body: dict[str, Any]) -> bool:
    """Record the event's id in `session`; False if it was recorded before (a retry, or a copy).
    A body that is not an event with an id is always a first delivery."""
    event_id = event_id_of(body)
    if event_id is None:
        return True
    try:
        with session.begin_nested():  # a duplicate only undoes this insert, not the caller's work
            session.add(ProcessedEvent(event_id=event_id, team_id=body.get("team_id")))
    except IntegrityError:
        return False
    return True
