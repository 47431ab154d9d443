"""Slack's Events API: the part of an event a worker's task needs, and each event done once.

Slack delivers an event again when it thinks we missed it (X-Slack-Retry-Num): each event_id is
recorded once, in the transaction of what handling it stores."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import ProcessedEvent

# The envelope's fields a task uses: ids for the workspace's client, the event id for first_delivery.
_ENVELOPE = ("type", "team_id", "enterprise_id", "is_enterprise_install", "event_id", "event_time")


def slim_event_body(body: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The body to store for a worker: the envelope's ids and the event's fields it uses. A user
    object carries far more about a person than the programme keeps (store only what it needs)."""
    return {key: body[key] for key in _ENVELOPE if key in body} | {"event": event}


# What profiles.apply_slack_user reads of a user (a user object with custom fields runs to KBs).
_USER_FIELDS = ("id", "team_id", "name", "real_name", "tz", "tz_offset")
_USER_FIELDS += ("is_admin", "is_owner", "deleted", "updated")
_PROFILE_FIELDS = ("display_name", "real_name")


def slim_user_change(event: dict[str, Any]) -> dict[str, Any]:
    """A user_change event with only the user's fields that are applied."""
    user = event.get("user") or {}
    profile = user.get("profile") or {}
    slim = {key: user[key] for key in _USER_FIELDS if key in user}
    slim["profile"] = {key: profile[key] for key in _PROFILE_FIELDS if key in profile}
    return {"type": "user_change", "user": slim}


def slim_home_opened(event: dict[str, Any]) -> dict[str, Any]:
    """An app_home_opened event without the home view Slack sends back, but for its metadata (an
    admin's chosen period)."""
    opened = {"type": event.get("type"), "user": event.get("user"), "tab": event.get("tab")}
    if isinstance(event.get("view"), dict):
        opened["view"] = {"private_metadata": event["view"].get("private_metadata") or ""}
    return opened


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
