"""Small helpers every listener shares: reading Slack payloads and replying privately."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import Database
from bot.ids import INPUT_ACTION
from bot.logs import error_code
from bot.services import profiles
from bot.slack.app_home import publish_home
from bot.views.common import Message
from bot.work import queue
from bot.work.queue import settle_in
from models import Person, utcnow

logger = logging.getLogger(__name__)


def team_of(body: dict[str, Any]) -> str:
    team = (
        body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    )
    if not team:
        raise ValueError("request without a team id")
    return str(team)


def user_of(body: dict[str, Any]) -> str:
    return str(body.get("user_id") or (body.get("user") or {}).get("id"))


def input_value(view: dict[str, Any], block_id: str) -> Any:
    """The value of input block `block_id` in a submitted view, whatever its element type."""
    element = ((view.get("state") or {}).get("values") or {}).get(block_id, {}).get(INPUT_ACTION) or {}
    kind = element.get("type")
    if kind in ("static_select", "external_select"):
        return (element.get("selected_option") or {}).get("value")
    if kind == "checkboxes":
        return [option["value"] for option in element.get("selected_options") or []]
    if kind == "radio_buttons":
        return (element.get("selected_option") or {}).get("value")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return element.get("selected_users") or []
    if kind in ("conversations_select", "channels_select"):
        return element.get("selected_conversation") or element.get("selected_channel")
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "timepicker":
        return element.get("selected_time")
    if kind == "number_input":
        return element.get("value")
    return element.get("value")


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def tell_privately(client: WebClient, *, user_id: str, channel_id: str | None, reply: Message) -> None:
    """An ephemeral reply where the person was, else a DM from the app. Failures are logged only."""
    try:
        if channel_id:
            client.chat_postEphemeral(channel=channel_id, user=user_id, **reply.as_kwargs())
        else:
            client.chat_postMessage(channel=user_id, **reply.as_kwargs())
    except SlackApiError as error:
        if channel_id:  # e.g. the bot is not in that channel: fall back to the DM
            logger.info("ephemeral reply failed (%s); sending a DM", error_code(error.response.get("error")))
            tell_privately(client, user_id=user_id, channel_id=None, reply=reply)
        else:
            logger.warning("could not reply to %s: %s", user_id, error_code(error.response.get("error")))


def sync_person_from_slack(
    client: WebClient, *, db: Database, settings: Settings, team_id: str, user_id: str, force: bool = False
) -> None:
    """Refresh name and timezone from users.info; if Slack fails, keep what we have."""
    now = utcnow()
    with db.transaction() as session:
        person = profiles.get_person(session, team_id=team_id, slack_user_id=user_id)
        if person is None or not (force or profiles.needs_slack_sync(person, now=now)):
            return
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        logger.warning("users.info failed for a user: %s", error_code(error.response.get("error")))
        return
    except Exception:  # connection errors after slack_sdk's retries: not worth failing a request
        logger.exception("users.info failed")
        return
    with db.transaction() as session:  # locked: a user_change applied meanwhile may be newer
        person = profiles.get_person(session, team_id=team_id, slack_user_id=user_id, for_update=True)
        if person is not None:
            profiles.apply_slack_user(person, user, now=utcnow())


@contextmanager
def person_transaction(body: dict[str, Any], context: BoltContext) -> Iterator[tuple[Session, Person]]:
    """A transaction and the person who sent `body` (created on first contact)."""
    db: Database = context["db"]
    settings: Settings = context["settings"]
    with db.transaction() as session:
        person = profiles.get_or_create_person(
            session, team_id=team_of(body), slack_user_id=user_of(body), defaults=settings.programme
        )
        yield session, person
        settle_in(session, context)  # in a worker's task: done together with what it stored


def refresh_home(client: WebClient, context: BoltContext, *, team_id: str, user_id: str) -> None:
    """Redraw the person's App Home after a change, so it never shows stale state."""
    publish_home(
        client,
        db=context["db"],
        settings=context["settings"],
        rights=context["rights"],
        team_id=team_id,
        user_id=user_id,
        only_if_opened=True,
    )


def hand_over(context: BoltContext, body: dict[str, Any], kind: str, **extras: Any) -> None:
    """After the ack: store the request for a worker (bot/work/), which does its use case and
    replies. One INSERT here, so the web process is free for the next ack at once; once stored, a
    crash loses nothing. If it cannot be stored, Bolt's error handler tells the person."""
    with context["db"].transaction() as session:
        queue_work(session, body, kind, **extras)


def queue_work(session: Session, body: dict[str, Any], kind: str, **extras: Any) -> None:
    """hand_over() in the caller's transaction: the work exists exactly when what it stores does.
    `extras` must be JSON values."""
    queue.enqueue(session, team_id=team_of(body), kind=kind, body=body, extras=extras, now=utcnow())


def try_slack(call: Any, *args: Any, **kwargs: Any) -> Any:
    """A Web API call made after our work is committed: if Slack fails, log it, never undo or alarm."""
    try:
        return call(*args, **kwargs)
    except SlackApiError as error:
        logger.warning(
            "%s failed: %s", getattr(call, "__name__", "Slack call"), error_code(error.response.get("error"))
        )
        return None
