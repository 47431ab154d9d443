"""A loopback fake of the Slack Web API for tests and benchmarks.

Real `slack_sdk.WebClient`s (and therefore Bolt apps) are pointed at it with
`WebClient(base_url=fake.base_url)`, so tests exercise the real HTTP client, its retry handlers
and its serialisation instead of patched methods. The fake records every request, answers with
Slack's documented response shapes, keeps just enough state (messages, views, files, users) for
follow-up calls to be consistent, and can be scripted to fail, throttle or stall.

    with FakeSlack() as fake:
        client = WebClient(base_url=fake.base_url, token="xoxb-test")
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.messages("C1")[0]["text"] == "hi"
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import mimetypes
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests import fakeslack_canvases

JSON = dict[str, Any]

# Calls that do not go to /api/<method> are recorded under these pseudo-method names, so the same
# recording, fault and delay machinery applies to them.
RESPONSE_URL_METHOD = "response_url"
UPLOAD_METHOD = "file_upload"

# Arguments Slack defines as JSON; form-encoded requests carry them as JSON strings.
SLACK_JSON_FIELDS = frozenset(
    {
        "attachments",
        "blocks",
        "files",
        "inputs",
        "loading_messages",
        "metadata",
        "option_groups",
        "options",
        "outputs",
        "profile",
        "prompts",
        "unfurls",
        "user_auth_blocks",
        "view",
        *fakeslack_canvases.JSON_FIELDS,
    }
)

# Methods that authenticate with client credentials rather than a bearer token.
_TOKENLESS_METHODS = frozenset({"oauth.v2.access", "oauth.v2.exchange", "oauth.access"})

# The bot scope each Web API method needs (docs.slack.dev, "Required scopes"). Methods that read or
# open a conversation need the scope of its type: the tuple is (public, private, im, mpim).
_METHOD_SCOPES: dict[str, str] = {
    "users.info": "users:read",
    "users.list": "users:read",
    "team.info": "team:read",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.join": "channels:join",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "assistant.threads.setStatus": "assistant:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    **fakeslack_canvases.SCOPES,
}
_CONVERSATION_SCOPES: dict[str, tuple[str, str, str, str]] = {
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
}

_FIRST_TS_SECONDS = 1_700_000_000
_TS_STEP_MICROS = 100
_CREATED = 1_700_000_000
_MESSAGE_BLOCK_LIMIT = 50
_VIEW_BLOCK_LIMIT = 100
_MODAL_TITLE_LIMIT = 24
_MESSAGE_TEXT_LIMIT = 40_000
_TEXT_LIMITS_BY_BLOCK_TYPE = {"section": 3000, "header": 150}
_BUTTON_TEXT_LIMIT = 75
_DEFAULT_ERROR_BY_STATUS = {429: "ratelimited", 404: "not_found", 400: "invalid_request"}
_SUGGESTED_PROMPTS_LIMIT = 4  # assistant.threads.setSuggestedPrompts: "up to four suggested prompts"
# Workflow step parameter types, and the JSON types Slack accepts for an output of that type.
_PARAMETER_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "slack#/types/user_id": (str,),
    "slack#/types/channel_id": (str,),
    "slack#/types/timestamp": (int,),
    "slack#/types/date": (str,),
}


@dataclass(frozen=True)
class Call:
    """One request the fake received, in arrival order.

    `args` are kept exactly as sent (form values are strings, so `blocks` may be a JSON string);
    use `decoded` to compare structures regardless of how the client encoded them.
    """

    method: str
    args: JSON
    token: str | None
    at: float
    answered: int = 200
    error: str | None = None
    path: str = ""

    @property
    def ok(self) -> bool:
        return self.answered == 200 and self.error is None

    @property
    def decoded(self) -> JSON:
        return decode_json_fields(self.args)


def decode_json_fields(args: JSON, keys: Collection[str] | None = SLACK_JSON_FIELDS) -> JSON:
    """Return a copy of args in which string values holding JSON objects or arrays are parsed.

    slack_sdk sends some methods form-encoded, where `blocks`, `view`, `metadata` or `files` travel
    as JSON strings; tests want to compare them as structures. Only Slack's structured fields are
    decoded by default, so a message text such as "[1]" stays text; keys=None decodes any field.
    """
    return {key: _maybe_json(value) if keys is None or key in keys else value for key, value in args.items()}


def _maybe_json(value: Any) -> Any:
    if not isinstance(value, str) or value.lstrip()[:1] not in ("{", "["):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _truthy(value: Any) -> bool:
    # Form bodies carry booleans as "1"/"true", JSON bodies as real booleans.
    return value is True or str(value).lower() in ("1", "true")


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _ts_key(ts: Any) -> tuple[int, int]:
    # Slack timestamps carry six decimals; floats lose the last digit at this magnitude.
    seconds, _, fraction = str(ts).partition(".")
    return int(seconds or 0), int((fraction or "0")[:6].ljust(6, "0"))


def _error(code: str, **extra: Any) -> JSON:
    return {"ok": False, "error": code, **extra}


def _split_ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _tz_label(tz_offset: int) -> str:
    if tz_offset == 0:
        return "Greenwich Mean Time"
    hours, minutes = divmod(abs(tz_offset) // 60, 60)
    sign = "+" if tz_offset > 0 else "-"
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


# ----------------------------------------------------------------------------- Block Kit limits


def _block_problems(blocks: Any, *, limit: int, pointer: str) -> list[str]:
    """The subset of Slack's Block Kit validation that real apps trip over.

    Slack rejects these with invalid_blocks / invalid_arguments; catching them here means a test
    fails the way production would.
    """
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    for index, block in enumerate(blocks):
        if isinstance(block, dict):
            problems += _single_block_problems(block, f"{pointer}/{index}")
    return problems


def _single_block_problems(block: JSON, pointer: str) -> list[str]:
    problems = []
    limit = _TEXT_LIMITS_BY_BLOCK_TYPE.get(str(block.get("type")))
    text = block.get("text")
    if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
        problems.append(
            f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}/text/text]"
        )
    elements = list(block.get("elements") or [])
    if isinstance(block.get("accessory"), dict):
        elements.append(block["accessory"])
    for element in elements:
        label = element.get("text") if isinstance(element, dict) else None
        too_long = isinstance(label, dict) and len(str(label.get("text", ""))) > _BUTTON_TEXT_LIMIT
        if element.get("type") == "button" and too_long:
            problems.append(
                f"[ERROR] must be less than {_BUTTON_TEXT_LIMIT + 1} characters "
                f"[json-pointer:{pointer}/elements/text/text]"
            )
    return problems


def _view_problems(view: Any, *, method: str) -> list[str]:
    if not isinstance(view, dict):
        return ["[ERROR] must provide an object [json-pointer:/view]"]
    view_type = view.get("type")
    if method == "views.publish" and view_type != "home":
        return ["[ERROR] must be home [json-pointer:/view/type]"]
    if method != "views.publish" and view_type != "modal":
        return ["[ERROR] must be modal [json-pointer:/view/type]"]
    problems = _block_problems(view.get("blocks", []), limit=_VIEW_BLOCK_LIMIT, pointer="/view/blocks")
    title = view.get("title")
    title_text = str(title.get("text", "")) if isinstance(title, dict) else ""
    if view_type == "modal" and len(title_text) > _MODAL_TITLE_LIMIT:
        problems.append(
            f"[ERROR] must be less than {_MODAL_TITLE_LIMIT + 1} characters [json-pointer:/view/title/text]"
        )
    return problems


def _invalid(code: str, problems: list[str]) -> JSON:
    return _error(code, response_metadata={"messages": problems})


# ----------------------------------------------------------------------------- workspace state


@dataclass(frozen=True)
class Identity:
    """Who the fake says the app is (auth.test, team.info, oauth.v2.access, message authorship)."""

    team_id: str = "T1"
    team_name: str = "Flipside Test"
    team_domain: str = "flipside-test"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    bot_name: str = "flipside"
    app_id: str = "AFLIPSIDE"
    bot_token: str = "xoxb-fake-bot-token"
    scope: str = "chat:write,commands,im:write,users:read,channels:join,files:write"


class _Workspace:
    """The stateful part of the fake: answers API methods from in-memory data.

    Not thread-safe on its own; FakeSlack serialises access with its lock.
    """

    def __init__(self, identity: Identity, upload_url_for: Callable[[str], str]) -> None:
        self.identity = identity
        self._upload_url_for = upload_url_for
        self.users: dict[str, JSON] = {}
        self.channels: dict[str, JSON] = {}
        self._ts_counter = 0
        self._id_counters: dict[str, int] = {}
        # Token rotation (the app's setting): None is off; else the seconds a new token lasts.
        self.rotation_expires_in: int | None = None
        self.refresh_tokens: dict[str, JSON] = {}  # not yet used -> the team and org they are for
        self.canvases = fakeslack_canvases.FakeCanvases(self.next_id, self.users, identity.bot_user_id)
        self.clear_activity()
        self._answers: dict[str, Callable[[JSON], JSON]] = {
            "auth.test": self._auth_test,
            "team.info": self._team_info,
            "oauth.v2.access": self._oauth_v2_access,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "conversations.open": self._conversations_open,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
            "assistant.threads.setStatus": self._assistant_set_status,
            "assistant.threads.setSuggestedPrompts": self._assistant_set_suggested_prompts,
            "assistant.threads.setTitle": self._assistant_set_title,
            **self.canvases.answers(),
        }
        # Custom workflow steps (the manifest's `functions`) and their executions.
        self.functions: dict[str, JSON] = {}

    def clear_activity(self) -> None:
        """Forget what the app did; keep the configured users and channels."""
        self.messages: list[JSON] = []
        self.ephemerals: list[JSON] = []
        self.views: dict[str, JSON] = {}
        self.home_views: dict[str, JSON] = {}
        self.pending_files: dict[str, JSON] = {}
        self.files: list[JSON] = []
        self.opened: set[str] = set()
        self.executions: dict[str, JSON] = {}  # function_execution_id -> callback_id, state, outputs
        self.assistant_threads: dict[tuple[str, str], JSON] = {}  # (channel, thread_ts) -> status...
        self.canvases.clear()

    def answer(self, method: str, args: JSON) -> JSON:
        handler = self._answers.get(method)
        return handler(decode_json_fields(args)) if handler else {"ok": True}

    # --- ids

    def next_ts(self) -> str:
        # Like Slack's: the wall clock (so `oldest` filters work), made strictly increasing.
        micros = max(int(time.time() * 1_000_000), self._ts_counter + _TS_STEP_MICROS)
        self._ts_counter = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        self._id_counters[prefix] = self._id_counters.get(prefix, 0) + 1
        return f"{prefix}{self._id_counters[prefix]:08d}"

    @staticmethod
    def dm_id(user_id: str) -> str:
        return f"D{user_id}"

    @staticmethod
    def group_dm_id(user_ids: Iterable[str]) -> str:
        members = ",".join(sorted(set(user_ids)))
        return "G" + hashlib.sha1(members.encode()).hexdigest()[:10].upper()

    def resolve_channel(self, channel: Any) -> str:
        # chat.postMessage accepts a user id and delivers to the app's DM with that user.
        channel = str(channel or "")
        return self.dm_id(channel) if channel[:1] in ("U", "W") else channel

    # --- identity

    def _auth_test(self, args: JSON) -> JSON:
        ident = self.identity
        return {
            "ok": True,
            "url": f"https://{ident.team_domain}.slack.com/",
            "team": ident.team_name,
            "user": ident.bot_name,
            "team_id": ident.team_id,
            "user_id": ident.bot_user_id,
            "bot_id": ident.bot_id,
            "is_enterprise_install": False,
        }

    def _team_info(self, args: JSON) -> JSON:
        ident = self.identity
        return {
            "ok": True,
            "team": {
                "id": ident.team_id,
                "name": ident.team_name,
                "url": f"https://{ident.team_domain}.slack.com/",
                "domain": ident.team_domain,
                "email_domain": "",
                "icon": {"image_default": True, "image_68": "https://a.slack-edge.com/team_68.png"},
                "is_verified": False,
            },
        }

    def _oauth_v2_access(self, args: JSON) -> JSON:
        ident = self.identity
        answer: JSON = {
            "ok": True,
            "app_id": ident.app_id,
            "authed_user": {"id": "U1"},
            "scope": ident.scope,
            "token_type": "bot",
            "access_token": ident.bot_token,
            "bot_user_id": ident.bot_user_id,
            "team": {"id": ident.team_id, "name": ident.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if args.get("grant_type") == "refresh_token":
            # Token rotation: a refresh token is good for one exchange, then Slack revokes it.
            if self.rotation_expires_in is None:
                return _error("invalid_grant_type")
            grant = self.refresh_tokens.pop(str(args.get("refresh_token", "")), None)
            if grant is None:
                return _error("invalid_refresh_token")
            answer = {**answer, "team": grant["team"], "enterprise": grant["enterprise"]}
            del answer["authed_user"]  # a refresh answers for the token, not for an installer
            return self._with_rotating_token(answer)
        if not args.get("code"):
            return _error("invalid_code")
        return self._with_rotating_token(answer) if self.rotation_expires_in is not None else answer

    def _with_rotating_token(self, answer: JSON) -> JSON:
        """An expiring access token (xoxe.xoxb-, as long as Slack's) and its refresh token."""
        number = self.next_id("")
        secret = base64.urlsafe_b64encode(hashlib.sha512(number.encode()).digest() * 2).decode().rstrip("=")
        refresh_token = f"xoxe-1-{secret[:140]}"
        self.refresh_tokens[refresh_token] = {"team": answer["team"], "enterprise": answer["enterprise"]}
        return {
            **answer,
            "access_token": f"xoxe.xoxb-1-{number}-{secret[:150]}",
            "refresh_token": refresh_token,
            "expires_in": self.rotation_expires_in,
        }

    # --- users

    def _users_info(self, args: JSON) -> JSON:
        user = self.users.get(str(args.get("user", "")))
        return {"ok": True, "user": user} if user else _error("user_not_found")

    def _users_list(self, args: JSON) -> JSON:
        members = list(self.users.values())
        start = self._decode_cursor(args.get("cursor"))
        limit = _as_int(args.get("limit"), 0) or len(members) or 1
        page = members[start : start + limit]
        more = start + limit < len(members)
        next_cursor = self._encode_cursor(start + limit) if more else ""
        return {
            "ok": True,
            "members": page,
            "cache_ts": _CREATED,
            "response_metadata": {"next_cursor": next_cursor},
        }

    @staticmethod
    def _encode_cursor(offset: int) -> str:
        return base64.b64encode(f"offset:{offset}".encode()).decode()

    @staticmethod
    def _decode_cursor(cursor: Any) -> int:
        if not cursor:
            return 0
        try:
            return int(base64.b64decode(str(cursor)).decode().partition(":")[2])
        except ValueError:
            return 0

    # --- conversations

    def channel_info(self, channel_id: str) -> JSON:
        if channel_id in self.channels:
            return self.channels[channel_id]
        if channel_id.startswith("D"):
            return {
                "id": channel_id,
                "is_im": True,
                "user": channel_id[1:],
                "created": _CREATED,
                "is_archived": False,
                "is_org_shared": False,
            }
        # Unknown channels are treated as ordinary public channels so tests need no setup.
        return public_channel(channel_id)

    def _conversations_open(self, args: JSON) -> JSON:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": str(args["channel"])}}
        user_ids = _split_ids(args.get("users"))
        if not user_ids:
            return _error("users_list_not_supplied")
        if len(user_ids) > 8:
            return _error("too_many_users")
        if any(self.users.get(user_id, {}).get("deleted") for user_id in user_ids):
            return _error("user_disabled")
        distinct = set(user_ids)
        channel_id = self.dm_id(user_ids[0]) if len(distinct) == 1 else self.group_dm_id(distinct)
        if len(distinct) > 1 and channel_id not in self.channels:
            self.channels[channel_id] = {
                "id": channel_id,
                "is_mpim": True,
                "is_private": True,
                "is_member": True,
                "created": _CREATED,
                "is_archived": False,
            }
        already_open = channel_id in self.opened
        self.opened.add(channel_id)
        return {
            "ok": True,
            "no_op": already_open,
            "already_open": already_open,
            "channel": {"id": channel_id},
        }

    def needed_scope(self, method: str, args: JSON) -> str | None:
        """The bot scope `method` needs with these arguments; None: none at all."""
        if method == "conversations.open":
            return "mpim:write" if len(set(_split_ids(args.get("users")))) > 1 else "im:write"
        if method in _CONVERSATION_SCOPES:
            public, private, im, mpim = _CONVERSATION_SCOPES[method]
            info = self.channel_info(self.resolve_channel(args.get("channel")))
            if info.get("is_im"):
                return im
            if info.get("is_mpim"):
                return mpim
            return private if info.get("is_private") else public
        return _METHOD_SCOPES.get(method)

    def _conversations_join(self, args: JSON) -> JSON:
        channel_id = str(args.get("channel", ""))
        if not channel_id:
            return _error("channel_not_found")
        info = self.channel_info(channel_id)
        if info.get("is_archived"):
            return _error("is_archived")
        if info.get("is_private") or info.get("is_im") or info.get("is_mpim"):
            return _error("method_not_supported_for_channel_type")
        self.channels[channel_id] = {**info, "is_member": True}
        return {"ok": True, "channel": self.channels[channel_id]}

    def _conversations_info(self, args: JSON) -> JSON:
        channel_id = str(args.get("channel", ""))
        if not channel_id:
            return _error("channel_not_found")
        return {
            "ok": True,
            "channel": {**self.channel_info(channel_id), **self.canvases.properties_for(channel_id)},
        }

    def _conversations_history(self, args: JSON) -> JSON:
        channel = self.resolve_channel(args.get("channel"))
        in_range = _ts_filter(args)
        found = [
            m for m in self.messages if m["channel"] == channel and _is_top_level(m) and in_range(m["ts"])
        ]
        found.sort(key=lambda m: _ts_key(m["ts"]), reverse=True)
        limit = _as_int(args.get("limit"), 100) or 100
        with_metadata = _truthy(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [_public(m, with_metadata=with_metadata) for m in found[:limit]],
            "has_more": len(found) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, args: JSON) -> JSON:
        channel = self.resolve_channel(args.get("channel"))
        parent_ts = str(args.get("ts", ""))
        thread = [
            m
            for m in self.messages
            if m["channel"] == channel and (m["ts"] == parent_ts or m.get("thread_ts") == parent_ts)
        ]
        if not any(m["ts"] == parent_ts for m in thread):
            return _error("thread_not_found")
        thread.sort(key=lambda m: _ts_key(m["ts"]))
        with_metadata = _truthy(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [_public(m, with_metadata=with_metadata) for m in thread],
            "has_more": False,
        }

    # --- chat

    def _message_problem(self, args: JSON) -> JSON | None:
        if not args.get("channel"):
            return _error("channel_not_found")
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks and not args.get("attachments"):
            return _error("no_text")
        if text and len(str(text)) > _MESSAGE_TEXT_LIMIT:
            return _error("msg_too_long")
        if blocks:
            problems = _block_problems(blocks, limit=_MESSAGE_BLOCK_LIMIT, pointer="/blocks")
            problems += self._slack_file_problems(blocks)
            if problems:
                return _invalid("invalid_blocks", problems)
        return None

    def _slack_file_problems(self, blocks: Any) -> list[str]:
        """An image block may show a file the app uploaded (slack_file by id): Slack refuses an id
        it does not know, or one whose upload was never completed."""
        completed = {record["id"] for record in self.files}
        problems = []
        for index, block in enumerate(blocks if isinstance(blocks, list) else []):
            if not isinstance(block, dict) or block.get("type") != "image":
                continue
            slack_file = block.get("slack_file")
            if not block.get("image_url") and not isinstance(slack_file, dict):
                problems.append(
                    f"[ERROR] must provide either image_url or slack_file [json-pointer:/blocks/{index}]"
                )
            elif isinstance(slack_file, dict) and slack_file.get("id") not in completed:
                problems.append(f"[ERROR] invalid slack file [json-pointer:/blocks/{index}/slack_file]")
        return problems

    def _chat_post_message(self, args: JSON) -> JSON:
        problem = self._message_problem(args)
        if problem:
            return problem
        channel = self.resolve_channel(args["channel"])
        message = {
            "channel": channel,
            "type": "message",
            "ts": self.next_ts(),
            "text": str(args.get("text") or ""),
            "user": self.identity.bot_user_id,
            "bot_id": self.identity.bot_id,
            "app_id": self.identity.app_id,
            "team": self.identity.team_id,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key):
                message[key] = args[key]
        self._attach_to_thread(message)
        self.messages.append(message)
        thread = self.assistant_threads.get((channel, str(args.get("thread_ts") or "")))
        if thread is not None:
            thread["status"] = ""  # Slack clears the status once the app replies in the thread
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "message": _public(message, with_metadata=True),
        }

    def _attach_to_thread(self, reply: JSON) -> None:
        parent = self.find_message(reply["channel"], reply.get("thread_ts"))
        if parent is not None:
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = reply["ts"]

    def find_message(self, channel: str, ts: Any) -> JSON | None:
        return next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)

    def _chat_update(self, args: JSON) -> JSON:
        channel = self.resolve_channel(args.get("channel"))
        message = self.find_message(channel, str(args.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        blocks = args.get("blocks")
        if blocks:
            problems = _block_problems(blocks, limit=_MESSAGE_BLOCK_LIMIT, pointer="/blocks")
            if problems:
                return _invalid("invalid_blocks", problems)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": self.identity.bot_user_id, "ts": self.next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": _public(message, with_metadata=True),
        }

    def _chat_delete(self, args: JSON) -> JSON:
        channel = self.resolve_channel(args.get("channel"))
        message = self.find_message(channel, str(args.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        self.messages.remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _chat_post_ephemeral(self, args: JSON) -> JSON:
        if not args.get("user"):
            return _error("user_not_in_channel")
        problem = self._message_problem(args)
        if problem:
            return problem
        message_ts = self.next_ts()
        self.ephemerals.append(
            {**args, "channel": self.resolve_channel(args["channel"]), "message_ts": message_ts}
        )
        return {"ok": True, "message_ts": message_ts}

    # --- workflow steps (custom functions)

    def start_execution(self, callback_id: str, inputs: JSON) -> JSON:
        """Run a declared function as a workflow would: the `function_executed` event to deliver."""
        definition = self.functions.get(callback_id)
        if definition is None:
            raise KeyError(f"no function {callback_id!r} declared (declare_functions)")
        execution_id = "Fx" + self.next_id("")[-10:]
        self.executions[execution_id] = {"callback_id": callback_id, "state": "running", "outputs": None}

        def parameters(kind: str) -> list[JSON]:
            declared = definition.get(kind) or {}
            required = set(declared.get("required") or [])
            return [
                {"name": name, "is_required": name in required, **spec}
                for name, spec in (declared.get("properties") or {}).items()
            ]

        return {
            "type": "function_executed",
            "function": {
                "id": "Fn" + callback_id[:8].upper(),
                "callback_id": callback_id,
                "title": definition.get("title", ""),
                "description": definition.get("description", ""),
                "type": "app",
                "input_parameters": parameters("input_parameters"),
                "output_parameters": parameters("output_parameters"),
                "app_id": self.identity.app_id,
                "date_created": _CREATED,
                "date_updated": _CREATED,
                "date_deleted": 0,
            },
            "inputs": inputs,
            "function_execution_id": execution_id,
            "workflow_execution_id": "Wx" + execution_id[2:],
            "event_ts": self.next_ts(),
            "bot_access_token": "xwfp-" + execution_id,
        }

    def _execution(self, args: JSON) -> tuple[JSON | None, JSON | None]:
        execution_id = str(args.get("function_execution_id") or "")
        if not execution_id:
            return None, _error("invalid_arguments")
        execution = self.executions.get(execution_id)
        if execution is None:
            return None, _error("function_execution_not_found")
        if execution["state"] != "running":
            return None, _error("execution_not_in_running_state")
        return execution, None

    def _functions_complete_success(self, args: JSON) -> JSON:
        execution, problem = self._execution(args)
        if problem is not None:
            return problem
        outputs = args.get("outputs")
        if not isinstance(outputs, dict):
            return _error("invalid_arguments")
        problems = self._output_problems(execution["callback_id"], outputs)
        if problems:
            return _invalid("parameter_validation_failed", problems)
        execution.update(state="completed", outputs=outputs)
        return {"ok": True}

    def _output_problems(self, callback_id: str, outputs: JSON) -> list[str]:
        declared = self.functions[callback_id].get("output_parameters") or {}
        properties = declared.get("properties") or {}
        problems = [
            f"missing required output {name!r}"
            for name in declared.get("required") or []
            if name not in outputs
        ]
        for name, value in outputs.items():
            spec = properties.get(name)
            if spec is None:
                problems.append(f"unknown output {name!r}")
                continue
            allowed = _PARAMETER_JSON_TYPES.get(spec["type"], (object,))
            if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
                problems.append(f"output {name!r} is not of type {spec['type']}")
        return problems

    def _functions_complete_error(self, args: JSON) -> JSON:
        execution, problem = self._execution(args)
        if problem is not None:
            return problem
        if not str(args.get("error") or "").strip():
            return _error("invalid_arguments")
        execution.update(state="failed", error=str(args["error"]))
        return {"ok": True}

    # --- the assistant pane

    def open_assistant_thread(self, user_id: str) -> JSON:
        """The person opens the assistant pane: Slack starts a thread in the app's DM with them."""
        channel = self.dm_id(user_id)
        parent = {
            "channel": channel,
            "type": "message",
            "subtype": "assistant_app_thread",
            "ts": self.next_ts(),
            "text": "",
            "user": self.identity.bot_user_id,
            "bot_id": self.identity.bot_id,
            "team": self.identity.team_id,
        }
        self.messages.append(parent)
        self.assistant_threads[(channel, parent["ts"])] = {"status": "", "prompts": None, "title": None}
        return parent

    def _assistant_thread(self, args: JSON) -> tuple[JSON | None, JSON | None]:
        channel = str(args.get("channel_id") or "")
        if not channel or not self.channel_info(channel).get("is_im"):
            return None, _error("channel_not_found")
        thread_ts = str(args.get("thread_ts") or "")
        if not thread_ts:
            return None, _error("invalid_arguments")
        thread = self.assistant_threads.get((channel, thread_ts))
        if thread is None:
            return None, _error("invalid_thread_ts")
        return thread, None

    def _assistant_set_status(self, args: JSON) -> JSON:
        thread, problem = self._assistant_thread(args)
        if problem is not None:
            return problem
        if "status" not in args or not isinstance(args["status"], str):
            return _error("invalid_arguments")
        thread["status"] = args["status"]
        thread.setdefault("statuses", []).append(args["status"])
        return {"ok": True}

    def _assistant_set_suggested_prompts(self, args: JSON) -> JSON:
        thread, problem = self._assistant_thread(args)
        if problem is not None:
            return problem
        prompts = args.get("prompts")
        well_formed = isinstance(prompts, list) and all(
            isinstance(p, dict) and str(p.get("title") or "").strip() and str(p.get("message") or "").strip()
            for p in prompts
        )
        if not well_formed or not prompts or len(prompts) > _SUGGESTED_PROMPTS_LIMIT:
            return _error("invalid_arguments")
        thread["prompts"] = prompts
        return {"ok": True}

    def _assistant_set_title(self, args: JSON) -> JSON:
        thread, problem = self._assistant_thread(args)
        if problem is not None:
            return problem
        if not str(args.get("title") or "").strip():
            return _error("invalid_arguments")
        thread["title"] = args["title"]
        return {"ok": True}

    # --- views

    def _stored_view(self, view: JSON, *, view_id: str, previous_view_id: str | None) -> JSON:
        stored = {
            "id": view_id,
            "team_id": self.identity.team_id,
            "type": view.get("type"),
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{_FIRST_TS_SECONDS}.{view_id}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": previous_view_id,
            "app_id": self.identity.app_id,
            "bot_id": self.identity.bot_id,
            **view,
        }
        stored["id"] = view_id  # a caller's view dict must not override the assigned id
        self.views[view_id] = stored
        return stored

    def _views_open(self, args: JSON) -> JSON:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return _error("invalid_arguments")
        problems = _view_problems(args.get("view"), method="views.open")
        if problems:
            return _invalid("invalid_arguments", problems)
        view = self._stored_view(args["view"], view_id=self.next_id("V"), previous_view_id=None)
        return {"ok": True, "view": view}

    def _views_update(self, args: JSON) -> JSON:
        problems = _view_problems(args.get("view"), method="views.update")
        if problems:
            return _invalid("invalid_arguments", problems)
        view_id = str(args.get("view_id") or self._view_id_by_external(args.get("external_id")))
        if not view_id:
            return _error("not_found")
        view = self._stored_view(args["view"], view_id=view_id, previous_view_id=None)
        return {"ok": True, "view": view}

    def _view_id_by_external(self, external_id: Any) -> str:
        if not external_id:
            return ""
        matches = [v["id"] for v in self.views.values() if v.get("external_id") == external_id]
        return matches[-1] if matches else ""

    def _views_publish(self, args: JSON) -> JSON:
        user_id = str(args.get("user_id", ""))
        if not user_id:
            return _error("invalid_arguments")
        problems = _view_problems(args.get("view"), method="views.publish")
        if problems:
            return _invalid("invalid_arguments", problems)
        previous = self.home_views.get(user_id)
        view_id = previous["id"] if previous else self.next_id("V")
        view = self._stored_view(args["view"], view_id=view_id, previous_view_id=None)
        self.home_views[user_id] = view
        return {"ok": True, "view": view}

    # --- files

    def _files_get_upload_url(self, args: JSON) -> JSON:
        if not args.get("filename") or _as_int(args.get("length"), 0) <= 0:
            return _error("invalid_arguments")
        file_id = self.next_id("F")
        self.pending_files[file_id] = {
            "name": str(args["filename"]),
            "length": _as_int(args["length"], 0),
            "data": None,
        }
        return {"ok": True, "upload_url": self._upload_url_for(file_id), "file_id": file_id}

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        pending = self.pending_files.get(file_id)
        if pending is None:
            return False
        pending["data"] = data
        return True

    def _files_complete_upload(self, args: JSON) -> JSON:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            return _error("invalid_arguments")
        if any(self.pending_files.get(str(e.get("id")), {}).get("data") is None for e in entries):
            return _error("file_not_found")
        channels = _split_ids(args.get("channels"))
        channel = str(args.get("channel_id") or (channels[0] if channels else "")) or None
        completed = [self._complete_file(entry, channel, args) for entry in entries]
        return {"ok": True, "files": [_public_file(f) for f in completed]}

    def _complete_file(self, entry: JSON, channel: str | None, args: JSON) -> JSON:
        file_id = str(entry["id"])
        pending = self.pending_files.pop(file_id)
        record = {
            "id": file_id,
            "name": pending["name"],
            "title": entry.get("title") or pending["name"],
            "bytes": pending["data"],
            "channel": channel,
            "initial_comment": args.get("initial_comment"),
            "thread_ts": args.get("thread_ts"),
        }
        self.files.append(record)
        return record


def public_channel(
    channel_id: str,
    *,
    name: str | None = None,
    is_private: bool = False,
    is_archived: bool = False,
    is_member: bool = False,
) -> JSON:
    """A conversations.info-shaped channel object."""
    name = name or channel_id.lower()
    return {
        "id": channel_id,
        "name": name,
        "name_normalized": name,
        "is_channel": not is_private,
        "is_group": is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": is_private,
        "is_archived": is_archived,
        "is_general": False,
        "is_member": is_member,
        "created": _CREATED,
        "creator": "U0",
        "num_members": 0,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
    }


def _public(message: JSON, *, with_metadata: bool) -> JSON:
    hidden = {"channel"} if with_metadata else {"channel", "metadata"}
    return {key: value for key, value in message.items() if key not in hidden}


def _public_file(record: JSON) -> JSON:
    mimetype = mimetypes.guess_type(record["name"])[0] or "application/octet-stream"
    return {
        "id": record["id"],
        "name": record["name"],
        "title": record["title"],
        "mimetype": mimetype,
        "filetype": record["name"].rpartition(".")[2] if "." in record["name"] else "binary",
        "size": len(record["bytes"]),
        "created": _CREATED,
        "channels": [record["channel"]] if record["channel"] else [],
    }


def _is_top_level(message: JSON) -> bool:
    thread_ts = message.get("thread_ts")
    return not thread_ts or thread_ts == message["ts"]


def _ts_filter(args: JSON) -> Callable[[str], bool]:
    oldest = _ts_key(args.get("oldest") or 0)
    latest = _ts_key(args["latest"]) if args.get("latest") else None
    inclusive = _truthy(args.get("inclusive"))

    def in_range(ts: str) -> bool:
        key = _ts_key(ts)
        after = key >= oldest if inclusive else key > oldest
        before = latest is None or (key <= latest if inclusive else key < latest)
        return after and before

    return in_range


def user_record(
    user_id: str,
    *,
    team_id: str,
    name: str,
    real_name: str,
    display_name: str,
    email: str,
    tz: str,
    tz_label: str,
    tz_offset: int,
    is_admin: bool,
    is_owner: bool,
    is_bot: bool,
    deleted: bool,
) -> JSON:
    """A users.info-shaped user object."""
    first_name, _, last_name = real_name.partition(" ")
    images = {
        f"image_{size}": f"https://avatars.example.com/{user_id}_{size}.png"
        for size in (24, 32, 48, 72, 192, 512)
    }
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "deleted": deleted,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "is_admin": is_admin,
        "is_owner": is_owner,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": _CREATED,
        "profile": {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "title": "",
            "status_text": "",
            "status_emoji": "",
            "team": team_id,
            **images,
        },
    }


# ----------------------------------------------------------------------------- scripting


@dataclass(frozen=True)
class _Fault:
    status: int
    error: str
    retry_after: int | None


@dataclass
class _Bucket:
    """Token bucket: `capacity` calls at once, refilled at per_minute / 60 calls a second."""

    per_second: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> int | None:
        """Spend a token; when none is left, return the whole seconds until one is."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return max(1, math.ceil((1 - self.tokens) / self.per_second))


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    args: JSON
    token: str | None
    body: bytes


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def json(
        cls,
        payload: JSON,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> _Reply:
        error = None if payload.get("ok", True) else str(payload.get("error"))
        return cls(status, json.dumps(payload).encode(), headers=headers or {}, error=error)

    @classmethod
    def text(cls, text: str, *, status: int = 200) -> _Reply:
        error = None if status == 200 else text
        return cls(status, text.encode(), content_type="text/plain; charset=utf-8", error=error)


# ----------------------------------------------------------------------------- HTTP plumbing


def _parse_body(body: bytes, headers: Message) -> JSON:
    content_type = headers.get_content_type()
    if not body:
        return {}
    if content_type == "application/json":
        parsed = _maybe_json(body.decode(errors="replace"))
        return parsed if isinstance(parsed, dict) else {"_body": parsed}
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    if content_type == "multipart/form-data":
        return _parse_multipart(body, str(headers.get("Content-Type")))
    return {}


def _parse_multipart(body: bytes, content_type: str) -> JSON:
    # Only the legacy files.upload sends multipart; the email parser saves a dependency.
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    args: JSON = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        args[str(name)] = payload if part.get_filename() else payload.decode()
    return args


def _bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        # Keep test output clean; the recorded calls are the log.
        pass

    def _handle(self) -> None:
        request = self._read_request()
        not_found = _Reply.text("not found", status=404)
        reply = self.server.fake._serve(request) if request else not_found
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _read_request(self) -> _Request | None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        prefix, _, rest = url.path.lstrip("/").partition("/")
        method = {"api": rest, "response": RESPONSE_URL_METHOD, "upload": UPLOAD_METHOD}.get(prefix)
        if not method or not rest:
            return None
        args: JSON = dict(parse_qsl(url.query, keep_blank_values=True))
        if prefix == "upload":
            args.update({"file_id": rest, "length": len(body)})
        else:
            args.update(_parse_body(body, self.headers))
        token = _bearer_token(self.headers.get("Authorization"))
        if token is None and isinstance(args.get("token"), str):
            token = args["token"]
        return _Request(method=method, path=url.path, args=args, token=token, body=body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Closing must not wait for handlers sleeping in a scripted delay.
    block_on_close = False
    # Benchmarks and concurrency tests connect from many threads at once.
    request_queue_size = 128

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


# ----------------------------------------------------------------------------- the fake


class FakeSlack:
    """A Slack Web API on 127.0.0.1 that records calls and answers like Slack.

    Use as a context manager, or call start()/stop() from a pytest fixture. All methods are
    thread-safe; requests are answered in parallel but state changes are serialised.
    """

    def __init__(
        self, *, identity: Identity | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.identity = identity or Identity()
        self._clock = clock
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._workspace = _Workspace(self.identity, lambda file_id: f"{self.url}upload/{file_id}")
        self._calls: list[Call] = []
        self._holds: dict[str, threading.Event] = {}
        self._scopes: frozenset[str] | None = None  # granted bot scopes; None: all (grant_scopes)
        self._clear_scripts()

    def _clear_scripts(self) -> None:
        self.release()  # a call kept back must not wait for a script that no longer exists
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._rate_limited: dict[str, int] = {}
        self._answer_overrides: dict[str, JSON] = {}
        self._valid_tokens: set[str] | None = None

    # --- lifecycle

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        # A short poll interval keeps stop() (run once per test) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fakeslack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a scripted delay
        self.release()  # and those kept back by hold()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def base_url(self) -> str:
        return f"{self.url}api/"

    def response_url(self, name: str = "default") -> str:
        return f"{self.url}response/{name}"

    # --- recorded calls

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return self._matching(method)

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least `count` calls to `method` were recorded; return them.

        A call is recorded once its answer is decided (state already updated), before any
        scripted delay, so after this returns messages() and friends reflect the call.
        """
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._matching(method)) >= count, timeout):
                seen = [call.method for call in self._calls]
                raise TimeoutError(f"{count} call(s) to {method} not seen in {timeout}s; saw {seen}")
            return self._matching(method)

    def _matching(self, method: str) -> list[Call]:
        return [call for call in self._calls if call.method == method]

    def reset(self) -> None:
        """Forget calls, stored messages/views/files and all scripting; keep users and channels."""
        with self._lock:
            self._calls.clear()
            self._workspace.clear_activity()
            self._clear_scripts()

    # --- scripting

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to method fail.

        With `status`, answer that HTTP status (429 carries Retry-After); with only `error`,
        answer HTTP 200 {"ok": false, "error": error}; `retry_after` alone implies 429.
        """
        if status is None and retry_after is not None:
            status = 429
        if status is None and error is None:
            raise ValueError("fail_next needs a status, an error or a retry_after")
        status = status or 200
        error = error or _DEFAULT_ERROR_BY_STATUS.get(status, "internal_error")
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            queue.extend(_Fault(status, error, retry_after) for _ in range(times))

    def set_delay(self, method: str, seconds: float) -> None:
        """Sleep this long before answering method (0 removes the delay)."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def hold(self, method: str) -> None:
        """Keep the answers to method back until release(): each call is recorded when it arrives.

        Lets a test show that something (an ack, say) did not wait for a Web API call, without
        timing it. Release before the app under test is stopped, which waits for its calls.
        """
        with self._lock:
            self._holds.setdefault(method, threading.Event())

    def release(self, method: str | None = None) -> None:
        """Send the answers hold() kept back (for every method when None); later calls go at once."""
        with self._lock:
            for name in list(self._holds) if method is None else [method]:
                gate = self._holds.pop(name, None)
                if gate is not None:
                    gate.set()

    def set_rate_limit(self, method: str, per_minute: int, burst: int | None = None) -> None:
        """Throttle method with a token bucket; calls over the limit get 429 + Retry-After.

        `burst` (default per_minute) is how many calls may arrive at once.
        """
        capacity = float(burst if burst is not None else per_minute)
        with self._lock:
            self._buckets[method] = _Bucket(per_minute / 60.0, capacity, capacity, self._clock())

    def rate_limited_count(self, method: str) -> int:
        """How many calls to method were answered 429 (emulated or scripted)."""
        with self._lock:
            return self._rate_limited.get(method, 0)

    def set_answer(self, method: str, fields: JSON) -> None:
        """Merge fields over method's default answer for every later call (until reset)."""
        with self._lock:
            self._answer_overrides[method] = dict(fields)

    def grant_scopes(self, scopes: Iterable[str] | None) -> None:
        """Only these bot scopes are granted: a call needing another gets Slack's missing_scope.
        None (the default) grants every scope."""
        with self._lock:
            self._scopes = frozenset(scopes) if scopes is not None else None

    def enable_token_rotation(self, *, expires_in: int = 43200) -> None:
        """Answer oauth.v2.access as for an app with token rotation on: installs and refreshes
        issue an access token that expires in `expires_in` seconds (Slack: 12 hours) and a
        refresh token that works once (grant_type=refresh_token)."""
        with self._lock:
            self._workspace.rotation_expires_in = expires_in

    def refresh_tokens(self) -> set[str]:
        """The refresh tokens issued and not yet used."""
        with self._lock:
            return set(self._workspace.refresh_tokens)

    def set_valid_tokens(self, tokens: Iterable[str] | None) -> None:
        """Only accept these tokens (others get invalid_auth); None accepts any token."""
        with self._lock:
            self._valid_tokens = set(tokens) if tokens is not None else None

    # --- workspace data

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str = "T1",
        name: str = "alex",
        real_name: str = "Alex Doe",
        tz: str = "Europe/London",
        tz_offset: int = 0,
        is_admin: bool = False,
        is_owner: bool = False,
        deleted: bool = False,
        is_bot: bool = False,
        display_name: str | None = None,
        email: str | None = None,
        tz_label: str | None = None,
    ) -> JSON:
        user = user_record(
            user_id,
            team_id=team_id,
            name=name,
            real_name=real_name,
            display_name=display_name if display_name is not None else name,
            email=email or f"{name}@example.com",
            tz=tz,
            tz_label=tz_label or _tz_label(tz_offset),
            tz_offset=tz_offset,
            is_admin=is_admin,
            is_owner=is_owner,
            is_bot=is_bot,
            deleted=deleted,
        )
        with self._lock:
            self._workspace.users[user_id] = user
            return _copy(user)

    def set_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_private: bool = False,
        is_archived: bool = False,
        is_member: bool = False,
    ) -> None:
        channel = public_channel(
            channel_id,
            name=name,
            is_private=is_private,
            is_archived=is_archived,
            is_member=is_member,
        )
        with self._lock:
            self._workspace.channels[channel_id] = channel

    def messages(self, channel: str | None = None) -> list[JSON]:
        """Stored (not deleted) messages in posting order, each with its "channel"."""
        with self._lock:
            wanted = self._workspace.resolve_channel(channel) if channel else None
            return [_copy(m) for m in self._workspace.messages if wanted is None or m["channel"] == wanted]

    def ephemerals(self, channel: str | None = None) -> list[JSON]:
        with self._lock:
            wanted = self._workspace.resolve_channel(channel) if channel else None
            return [_copy(m) for m in self._workspace.ephemerals if wanted is None or m["channel"] == wanted]

    def dm_channel_for(self, user_id: str) -> str:
        return _Workspace.dm_id(user_id)

    def group_dm_channel_for(self, *user_ids: str) -> str:
        return _Workspace.group_dm_id(user_ids)

    def declare_functions(self, functions: JSON) -> None:
        """The app's custom steps, as its manifest's `functions` declares them."""
        with self._lock:
            self._workspace.functions = copy.deepcopy(functions)

    def execute_function(self, callback_id: str, inputs: JSON) -> JSON:
        """A workflow reaches the step: returns the `function_executed` event Slack sends."""
        with self._lock:
            return self._workspace.start_execution(callback_id, inputs)

    def execution(self, execution_id: str) -> JSON:
        """state ("running", "completed", "failed"), outputs or error of one execution."""
        with self._lock:
            return _copy(self._workspace.executions[execution_id])

    def open_assistant_thread(self, user_id: str) -> tuple[str, str]:
        """The person opens the assistant pane: (DM channel id, thread ts) of the new thread."""
        with self._lock:
            parent = self._workspace.open_assistant_thread(user_id)
            return parent["channel"], parent["ts"]

    def assistant_thread(self, channel_id: str, thread_ts: str) -> JSON:
        """The thread's current status, status history, suggested prompts and title."""
        with self._lock:
            return _copy(self._workspace.assistant_threads[(channel_id, thread_ts)])

    def home_view(self, user_id: str) -> JSON | None:
        with self._lock:
            view = self._workspace.home_views.get(user_id)
            return _copy(view) if view else None

    def view(self, view_id: str) -> JSON | None:
        with self._lock:
            view = self._workspace.views.get(view_id)
            return _copy(view) if view else None

    def set_canvas_plan(self, plan: str) -> None:
        """ "paid" (canvases everywhere), "free" (no channel or standalone canvases) or "disabled"
        (an admin turned canvases off: canvas_disabled_user_team)."""
        if plan not in fakeslack_canvases.PLANS:
            raise ValueError(f"unknown plan {plan!r}")
        with self._lock:
            self._workspace.canvases.plan = plan

    def canvases(self) -> list[JSON]:
        """Canvases made so far: id, title, markdown, channel_id (a conversation's own), access, edits."""
        with self._lock:
            return [_copy(canvas) for canvas in self._workspace.canvases.canvases.values()]

    def canvas_in(self, channel_id: str) -> JSON | None:
        with self._lock:
            canvas_id = self._workspace.canvases.by_channel.get(channel_id)
            return _copy(self._workspace.canvases.canvases[canvas_id]) if canvas_id else None

    def uploaded_files(self) -> list[JSON]:
        """Completed uploads: id, name, title, bytes, channel, initial_comment, thread_ts."""
        with self._lock:
            return [dict(record) for record in self._workspace.files]

    # --- serving (called from handler threads)

    def _serve(self, request: _Request) -> _Reply:
        with self._lock:
            at = self._clock()
            reply = self._decide(request, at)
            self._record(request, reply, at)
            delay = self._delays.get(request.method, 0.0)
            gate = self._holds.get(request.method)
        if gate is not None:
            gate.wait()
        if delay:
            self._stopping.wait(delay)
        return reply

    def _decide(self, request: _Request, now: float) -> _Reply:
        return (
            self._scripted_fault(request.method)
            or self._throttle(request.method, now)
            or self._auth_failure(request)
            or self._scope_failure(request)
            or self._answer_safely(request)
        )

    def _answer_safely(self, request: _Request) -> _Reply:
        try:
            return self._answer(request)
        except Exception as exc:
            # A bug in the fake must show up as a failed, recorded call, not a dropped connection.
            return _Reply.json(_error(f"fake_slack_crashed: {exc!r}"), status=500)

    def _scripted_fault(self, method: str) -> _Reply | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue.popleft()
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return _Reply.json(_error(fault.error), status=fault.status, headers=headers)

    def _throttle(self, method: str, now: float) -> _Reply | None:
        bucket = self._buckets.get(method)
        wait = bucket.take(now) if bucket else None
        if wait is None:
            return None
        return _Reply.json(_error("ratelimited"), status=429, headers={"Retry-After": str(wait)})

    def _auth_failure(self, request: _Request) -> _Reply | None:
        if (
            self._valid_tokens is None
            or request.method in _TOKENLESS_METHODS
            or request.method in (RESPONSE_URL_METHOD, UPLOAD_METHOD)
        ):
            return None
        if not request.token:
            return _Reply.json(_error("not_authed"))
        if request.token not in self._valid_tokens:
            return _Reply.json(_error("invalid_auth"))
        return None

    def _scope_failure(self, request: _Request) -> _Reply | None:
        if self._scopes is None or request.method in (RESPONSE_URL_METHOD, UPLOAD_METHOD):
            return None
        needed = self._workspace.needed_scope(request.method, decode_json_fields(request.args))
        if needed is None or needed in self._scopes:
            return None
        provided = ",".join(sorted(self._scopes))
        return _Reply.json(_error("missing_scope", needed=needed, provided=provided))

    def _answer(self, request: _Request) -> _Reply:
        if request.method == RESPONSE_URL_METHOD:
            return _Reply.text("ok")
        if request.method == UPLOAD_METHOD:
            file_id = str(request.args["file_id"])
            if self._workspace.receive_upload(file_id, request.body):
                return _Reply.text(f"OK - {len(request.body)}")
            return _Reply.text("file not found", status=404)
        payload = self._workspace.answer(request.method, request.args)
        override = self._answer_overrides.get(request.method)
        if override:
            payload = {**payload, **override}
        if request.method == "oauth.v2.access" and payload.get("ok") and self._valid_tokens is not None:
            # A token the fake just issued must be accepted by the calls that follow.
            self._valid_tokens.add(str(payload.get("access_token")))
        return _Reply.json(payload)

    def _record(self, request: _Request, reply: _Reply, at: float) -> None:
        call = Call(
            method=request.method,
            args=request.args,
            token=request.token,
            at=at,
            answered=reply.status,
            error=reply.error,
            path=request.path,
        )
        self._calls.append(call)
        if reply.status == 429:
            self._rate_limited[request.method] = self._rate_limited.get(request.method, 0) + 1
        self._lock.notify_all()


def _copy(value: JSON) -> JSON:
    # Callers get snapshots: mutating one must not change what the fake later answers.
    return copy.deepcopy(value)


__all__ = [
    "RESPONSE_URL_METHOD",
    "SLACK_JSON_FIELDS",
    "UPLOAD_METHOD",
    "Call",
    "FakeSlack",
    "Identity",
    "decode_json_fields",
    "public_channel",
    "user_record",
]
