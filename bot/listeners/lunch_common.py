"""What the Lunch 'n' Learn listeners share: answering where the click happened, the proposal modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.ids import INPUT_ACTION, Block
from bot.listeners.support import (
    input_value,
    metadata,
    tell_privately,
    user_of,
)
from bot.services import profiles
from bot.services.lunch.proposing import ProposalInput
from bot.views.common import Message
from models import Person


def answer(body: dict[str, Any], respond: Respond, client: WebClient, reply: Message) -> None:
    """Ephemeral where the click or command happened; a DM when there is no response URL (App Home)."""
    if body.get("response_url") or body.get("response_urls"):
        respond(response_type="ephemeral", replace_original=False, **reply.as_kwargs())
    else:
        tell_privately(client, user_id=user_of(body), channel_id=None, reply=reply)


def origin_channel(body: dict[str, Any]) -> str | None:
    return body.get("channel_id") or (body.get("channel") or {}).get("id")


def open_or_push(client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
    if (body.get("view") or {}).get("type") == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def programme_of(session: Session, team_id: str, context: BoltContext):
    settings: Settings = context["settings"]
    return profiles.programme_settings(session, team_id=team_id, defaults=settings.programme)


def person_in(session: Session, team_id: str, user_id: str, context: BoltContext) -> Person:
    settings: Settings = context["settings"]
    return profiles.get_or_create_person(
        session, team_id=team_id, slack_user_id=user_id, defaults=settings.programme
    )


def _picker_timezone(view: dict[str, Any]) -> str | None:
    """The timezone the time picker showed (Slack echoes it), else the one we opened it with."""
    element = ((view.get("state") or {}).get("values") or {}).get(Block.TIME, {}).get(INPUT_ACTION) or {}
    return element.get("timezone") or metadata(view).get("tz")


def proposal_from(view: dict[str, Any], *, user_id: str) -> ProposalInput:
    return ProposalInput(
        title=input_value(view, Block.TITLE),
        topic=input_value(view, Block.TOPIC),
        description=input_value(view, Block.DESCRIPTION),
        host_user_id=input_value(view, Block.HOST) or user_id,
        date=input_value(view, Block.DATE),
        time=input_value(view, Block.TIME),
        timezone=_picker_timezone(view),
        duration=input_value(view, Block.DURATION),
        location=input_value(view, Block.LOCATION),
        seats=input_value(view, Block.SEATS),
    )
