"""The canvases part of the fake Slack Web API (tests/fakeslack.py): conversations.canvases.create,
canvases.create, canvases.edit, canvases.access.set, canvases.sections.lookup and canvases.delete.

Arguments, answers and error codes follow docs.slack.dev ("canvases.*" method pages): content is a
`document_content` object `{"type": "markdown", "markdown": "..."}` of at most 1 MiB; canvases.edit
takes exactly one change per call; canvases.access.set takes `user_ids` or `channel_ids`, not both
(1-20 each); a conversation holds one canvas (`channel_canvas_already_exists`); a free plan has no
standalone canvases and no channel canvases in this fake, and a workspace with canvases off answers
`canvas_disabled_user_team`. Scopes (canvases:write, canvases:read) are checked by the fake itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]

MARKDOWN_LIMIT = 1_048_576
ACCESS_LEVELS = frozenset({"read", "write", "owner"})
OPERATIONS = frozenset(
    {"insert_after", "insert_before", "insert_at_start", "insert_at_end", "replace", "delete", "rename"}
)
_NEEDS_SECTION = frozenset({"insert_after", "insert_before", "delete"})
_NEEDS_CONTENT = frozenset({"insert_after", "insert_before", "insert_at_start", "insert_at_end", "replace"})
SECTION_TYPES = frozenset({"h1", "h2", "h3", "any_header"})
PLANS = frozenset({"paid", "free", "disabled"})

SCOPES = {
    "conversations.canvases.create": "canvases:write",
    "canvases.create": "canvases:write",
    "canvases.edit": "canvases:write",
    "canvases.delete": "canvases:write",
    "canvases.access.set": "canvases:write",
    "canvases.access.delete": "canvases:write",
    "canvases.sections.lookup": "canvases:read",
}
JSON_FIELDS = frozenset({"document_content", "changes", "criteria", "title_content"})


def _error(code: str, **extra: Any) -> JSON:
    return {"ok": False, "error": code, **extra}


def _content_problem(content: Any) -> JSON | None:
    if not isinstance(content, dict) or content.get("type") != "markdown":
        return _error("invalid_arguments", detail="document_content must be {type: markdown, markdown}")
    markdown = content.get("markdown")
    if not isinstance(markdown, str):
        return _error("invalid_arguments", detail="document_content.markdown must be a string")
    if len(markdown) > MARKDOWN_LIMIT:
        return _error("invalid_arguments", detail="document_content.markdown is over 1 MiB")
    return None


def _ids(value: Any) -> list[str] | None:
    """user_ids / channel_ids: a JSON array, a comma-separated string (slack_sdk's form encoding)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def plain_text(line: str) -> str:
    """What a reader sees of a markdown line, as contains_text compares it."""
    text = re.sub(r"^\s*(#{1,3}\s+|[-*]\s+(\[[ x]\]\s+)?|\d+\.\s+|>\s*)", "", line)
    text = text.replace("**", "").replace("__", "")
    return re.sub(r"\\(.)", r"\1", text).strip()


def sections_of(markdown: str) -> list[tuple[str, str]]:
    """(type, line) for each non-empty line: a heading's level, else "any"."""
    found = []
    for line in markdown.splitlines():
        if not line.strip():
            continue
        level = re.match(r"^(#{1,3})\s", line)
        found.append((f"h{len(level.group(1))}" if level else "any", line))
    return found


class FakeCanvases:
    """Canvases the app made, keyed by id; one per conversation at most."""

    def __init__(self, next_id: Callable[[str], str], users: dict[str, JSON], bot_user_id: str) -> None:
        self._next_id = next_id
        self._users = users
        self._bot = bot_user_id
        self.plan = "paid"
        self.clear()

    def clear(self) -> None:
        self.canvases: dict[str, JSON] = {}
        self.by_channel: dict[str, str] = {}

    def answers(self) -> dict[str, Callable[[JSON], JSON]]:
        return {
            "conversations.canvases.create": self._conversations_canvases_create,
            "canvases.create": self._canvases_create,
            "canvases.edit": self._canvases_edit,
            "canvases.delete": self._canvases_delete,
            "canvases.access.set": self._canvases_access_set,
            "canvases.sections.lookup": self._canvases_sections_lookup,
        }

    def properties_for(self, channel_id: str) -> JSON:
        """What conversations.info adds for a conversation with a canvas."""
        canvas_id = self.by_channel.get(channel_id)
        if canvas_id is None:
            return {}
        empty = not self.canvases[canvas_id]["markdown"].strip()
        return {"properties": {"canvas": {"file_id": canvas_id, "is_empty": empty, "quip_thread_id": "Q"}}}

    def _new(self, *, title: Any, content: Any, channel_id: str | None) -> JSON:
        canvas_id = self._next_id("F")
        markdown = content["markdown"] if isinstance(content, dict) else ""
        self.canvases[canvas_id] = {
            "id": canvas_id,
            "title": str(title or ""),
            "markdown": markdown,
            "channel_id": channel_id,
            "access": {self._bot: "owner"},
            "edits": [],
        }
        return {"ok": True, "canvas_id": canvas_id}

    def _conversations_canvases_create(self, args: JSON) -> JSON:
        channel_id = str(args.get("channel_id") or "")
        if not channel_id:
            return _error("invalid_arguments", detail="channel_id is required")
        if self.plan == "disabled":
            return _error("canvas_disabled_user_team")
        if self.plan == "free":
            return _error("team_tier_cannot_create_channel_canvases")
        content = args.get("document_content")
        if content is not None and (problem := _content_problem(content)):
            return problem
        if channel_id in self.by_channel:
            return _error("channel_canvas_already_exists")
        answer = self._new(title=args.get("title"), content=content, channel_id=channel_id)
        self.by_channel[channel_id] = answer["canvas_id"]
        return answer

    def _canvases_create(self, args: JSON) -> JSON:
        if self.plan == "disabled":
            return _error("canvas_disabled_user_team")
        if self.plan == "free" and not args.get("channel_id"):
            return _error("free_teams_cannot_create_non_tabbed_canvases")
        content = args.get("document_content")
        if content is not None and (problem := _content_problem(content)):
            return problem
        return self._new(title=args.get("title"), content=content, channel_id=None)

    def _canvas(self, args: JSON) -> JSON | None:
        return self.canvases.get(str(args.get("canvas_id") or ""))

    def _canvases_edit(self, args: JSON) -> JSON:
        if self.plan == "disabled":
            return _error("canvas_disabled_user_team")
        canvas = self._canvas(args)
        if canvas is None:
            return _error("canvas_not_found")
        changes = args.get("changes")
        if not isinstance(changes, list) or len(changes) != 1 or not isinstance(changes[0], dict):
            return _error("invalid_arguments", detail="changes must hold exactly one change")
        change = changes[0]
        operation = change.get("operation")
        if operation not in OPERATIONS:
            return _error("invalid_arguments", detail=f"unknown operation {operation!r}")
        if operation in _NEEDS_SECTION and not change.get("section_id"):
            return _error("invalid_arguments", detail=f"{operation} needs a section_id")
        if operation in _NEEDS_CONTENT and (problem := _content_problem(change.get("document_content"))):
            return problem
        if operation == "insert_at_end":
            separator = "\n" if canvas["markdown"] and not canvas["markdown"].endswith("\n") else ""
            canvas["markdown"] += separator + change["document_content"]["markdown"]
        elif operation == "insert_at_start":
            canvas["markdown"] = change["document_content"]["markdown"] + "\n" + canvas["markdown"]
        elif operation == "rename":
            title = change.get("title_content") or {}
            canvas["title"] = str(title.get("markdown", "")) if isinstance(title, dict) else ""
        canvas["edits"].append(change)
        return {"ok": True}

    def _canvases_delete(self, args: JSON) -> JSON:
        canvas = self._canvas(args)
        if canvas is None:
            return _error("canvas_not_found")
        del self.canvases[canvas["id"]]
        if canvas["channel_id"]:
            self.by_channel.pop(canvas["channel_id"], None)
        return {"ok": True}

    def _canvases_access_set(self, args: JSON) -> JSON:
        if self.plan == "disabled":
            return _error("canvas_disabled_user_team")
        level = args.get("access_level")
        if level not in ACCESS_LEVELS:
            return _error("invalid_arguments", detail="access_level must be read, write or owner")
        user_ids, channel_ids = _ids(args.get("user_ids")), _ids(args.get("channel_ids"))
        if (user_ids is None) == (channel_ids is None):
            return _error("invalid_parameters")
        entities = user_ids if user_ids is not None else channel_ids
        if not entities or len(entities) > 20:
            return _error("invalid_arguments", detail="1 to 20 ids")
        canvas = self._canvas(args)
        if canvas is None:
            return _error("canvas_not_found")
        if user_ids is not None and any(user_id not in self._users for user_id in user_ids):
            return _error("user_not_found")
        for entity in entities:
            canvas["access"][entity] = level
        return {"ok": True}

    def _canvases_sections_lookup(self, args: JSON) -> JSON:
        canvas = self._canvas(args)
        if canvas is None:
            return _error("canvas_not_found")
        criteria = args.get("criteria")
        if not isinstance(criteria, dict) or not (
            criteria.get("section_types") or criteria.get("contains_text")
        ):
            return _error("invalid_arguments", detail="criteria needs section_types or contains_text")
        types = criteria.get("section_types") or []
        if not isinstance(types, list) or any(kind not in SECTION_TYPES for kind in types):
            return _error("invalid_arguments", detail="unknown section type")
        wanted = str(criteria.get("contains_text") or "")
        sections = []
        for index, (kind, line) in enumerate(sections_of(canvas["markdown"])):
            type_ok = not types or kind in types or ("any_header" in types and kind != "any")
            if type_ok and wanted in plain_text(line):
                sections.append({"id": f"temp:C:{canvas['id']}{index:06d}"})
        return {"ok": True, "sections": sections}
