"""Block Kit rendered as readable plain text: for the offline demo, logs of what was sent, and tests.

Pure: no I/O. Slack's own markup is resolved the way a reader would see it: date tokens become
their fallback text, links their label, `&amp;` `&lt;` `&gt;` the characters they stand for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_TOKEN = re.compile(r"<([^<>]*)>")
# *bold*, _italic_ and ~struck~ read fine without their marks; `code` keeps its backticks.
_EMPHASIS = re.compile(r"(?<![\w*_~])([*_~])(?=\S)(.+?)(?<=\S)\1(?![\w*_~])")


def mrkdwn_to_text(text: str, *, users: Mapping[str, str] | None = None) -> str:
    """Resolve Slack's `<...>` tokens and entities, and drop emphasis marks (`*bold*` reads "bold")."""

    def resolve(match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("!date^"):
            return label or target
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + ((users or {}).get(user_id) or label or user_id)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!subteam^"):
            return "@" + (label or "group")
        if target.startswith("!"):
            return "@" + (label or target[1:])
        return f"{label} ({target})" if label and label != target else target

    # Tokens are set aside first, so underscores in a link or a name are not taken for emphasis.
    tokens: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        tokens.append(resolve(match))
        return f"\x00{len(tokens) - 1}\x00"

    plain = _EMPHASIS.sub(r"\2", _TOKEN.sub(set_aside, text))
    resolved = re.sub("\x00(\\d+)\x00", lambda match: tokens[int(match.group(1))], plain)
    return resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, users: Mapping[str, str] | None) -> str:
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text") or "")
    return mrkdwn_to_text(text, users=users) if obj.get("type") == "mrkdwn" else text


def _element(element: Mapping[str, Any], users: Mapping[str, str] | None) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text(element.get('text'), users)}]"
    if kind == "overflow":
        return "[⋯]"
    if kind in ("radio_buttons", "checkboxes"):
        return "  ".join(f"( ) {_text(option.get('text'), users)}" for option in element.get("options") or [])
    if kind in ("static_select", "users_select", "conversations_select", "channels_select"):
        placeholder = _text(element.get("placeholder"), users) or "choose"
        return f"[{placeholder} ▾]"
    if kind in ("datepicker", "timepicker"):
        return f"[{element.get('initial_date') or element.get('initial_time') or kind}]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text(element, users)
    return ""


def _block(block: Mapping[str, Any], users: Mapping[str, str] | None) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text(block.get("text"), users)
        return [title, "=" * min(len(title), 72)]
    if kind == "section":
        lines = [_text(block.get("text"), users)] if block.get("text") else []
        lines += [_text(item, users) for item in block.get("fields") or []]
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            rendered = _element(accessory, users)
            if rendered:
                lines.append(rendered)
        return [line for line in lines if line]
    if kind == "context":
        return [" · ".join(filter(None, (_element(e, users) for e in block.get("elements") or [])))]
    if kind == "actions":
        return [" ".join(filter(None, (_element(e, users) for e in block.get("elements") or [])))]
    if kind == "divider":
        return ["-" * 40]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "input":
        return [f"{_text(block.get('label'), users)}: ____"]
    if kind == "rich_text":
        return [_rich_text(block)]
    return []


def _rich_text(block: Mapping[str, Any]) -> str:
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if "text" in node and isinstance(node["text"], str):
                parts.append(node["text"])
            for child in node.get("elements") or []:
                walk(child)

    walk(block)
    return "".join(parts)


def blocks_to_text(blocks: Sequence[Mapping[str, Any]], *, users: Mapping[str, str] | None = None) -> str:
    """The blocks as a person would read them, one block after another; `users` names `<@U…>`."""
    rendered = ["\n".join(_block(block, users)) for block in blocks]
    return "\n\n".join(part for part in rendered if part.strip())
