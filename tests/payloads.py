"""Slack request bodies, signed the way Slack signs them, and a tiny client that sends them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

_ids = itertools.count(1)


def sign(body: str, *, secret: str, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def slash_command(command: str, text: str, *, user: str, team: str, response_url: str) -> str:
    n = next(_ids)
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "team_domain": "acme",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "AFLIPSIDE",
            "response_url": response_url,
            "trigger_id": f"trigger.{n}",
        }
    )


def interactive(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_action(
    action_id: str,
    value: str = "",
    *,
    user: str,
    team: str,
    response_url: str | None = None,
    view: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    channel: str | None = None,
    action: dict[str, Any] | None = None,
) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "team_id": team, "username": user.lower()},
        "api_app_id": "AFLIPSIDE",
        "trigger_id": f"trigger.{next(_ids)}",
        "actions": [
            action
            or {
                "type": "button",
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    if response_url:
        payload["response_url"] = response_url
    if view is not None:
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
    if message is not None:
        payload["message"] = message
        payload["container"] = {"type": "message", "message_ts": message.get("ts"), "channel_id": channel}
    if channel:
        payload["channel"] = {"id": channel}
    return interactive(payload)


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    user: str,
    team: str,
    private_metadata: str = "",
) -> str:
    """`values` maps block id -> element state (e.g. {"type": "plain_text_input", "value": "x"})."""
    return interactive(
        {
            "type": "view_submission",
            "team": {"id": team, "domain": "acme"},
            "user": {"id": user, "team_id": team},
            "api_app_id": "AFLIPSIDE",
            "trigger_id": f"trigger.{next(_ids)}",
            "view": {
                "id": f"V{next(_ids)}",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": {block: {"value": state} for block, state in values.items()}},
                "hash": "h",
            },
        }
    )


def text_input(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def select(value: str | None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value} if value else None}


def checkboxes(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def event_callback(
    event: dict[str, Any],
    *,
    team: str,
    event_id: str | None = None,
    enterprise: str | None = None,
    enterprise_install: bool = False,
) -> str:
    """An Events API delivery; `enterprise` makes it come from an Enterprise Grid org (and
    `enterprise_install` from an app installed org-wide), with Slack's `authorizations`."""
    body: dict[str, Any] = {
        "token": "legacy",
        "team_id": team,
        "api_app_id": "AFLIPSIDE",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
    }
    if enterprise is not None:
        body["enterprise_id"] = enterprise
        body["authorizations"] = [
            {
                "enterprise_id": enterprise,
                "team_id": None if enterprise_install else team,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": enterprise_install,
            }
        ]
    return json.dumps(body)


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SignedClient:
    """Posts bodies to the app's /slack/events with a valid (or deliberately bad) signature."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Reply:
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if signed:
            all_headers.update(sign(body, secret=secret or self.secret, timestamp=timestamp))
        request = urllib.request.Request(self.url, data=body.encode(), headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Reply(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.read().decode())

    def post_json(self, body: str, **kwargs: Any) -> Reply:
        return self.post(body, content_type="application/json", **kwargs)
