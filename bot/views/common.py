"""Shared Block Kit pieces. Builders use slack_sdk's models so Slack's limits fail in tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.views.text import truncate

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75


@dataclass(frozen=True)
class Message:
    """A message ready for chat.postMessage / respond(): fallback text plus blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def message(text: str, blocks: Sequence[Block]) -> Message:
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        raise ValueError(f"a message holds at most {MAX_MESSAGE_BLOCKS} blocks, got {len(blocks)}")
    return Message(text=truncate(text, 3000), blocks=[block.to_dict() for block in blocks])


def modal(
    *,
    callback_id: str,
    title: str,
    blocks: Sequence[Block],
    submit: str | None = "Save",
    close: str = "Cancel",
    private_metadata: str = "",
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=truncate(title, 24)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text=close),
        blocks=list(blocks),
        private_metadata=private_metadata or None,
    )
    return view.to_dict()


def inline_errors(errors: Mapping[str, str], blocks: Mapping[str, str]) -> dict[str, str]:
    """A service's errors, keyed by its field names, re-keyed by the modal's input block ids: what
    `ack(response_action="errors", errors=...)` takes."""
    return {blocks[name]: text for name, text in errors.items()}


def home(blocks: Sequence[Block]) -> dict[str, Any]:
    return View(type="home", blocks=list(blocks)).to_dict()


def section(text: str, *, accessory: Any = None, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT)),
        accessory=accessory,
        block_id=block_id,
    )


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 2000))])


def button(
    label: str, action_id: str, value: str = "", *, style: str | None = None, url: str | None = None
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=truncate(label, BUTTON_TEXT_LIMIT), emoji=True),
        action_id=action_id,
        value=value or None,
        style=style,
        url=url,
    )


def option(label: str, value: str) -> Option:
    return Option(text=PlainTextObject(text=truncate(label, 75)), value=value)
