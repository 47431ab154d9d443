"""Replies and modals for /teachme and /canteach."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)

from bot.ids import INPUT_ACTION, Action, Modal
from bot.ids import Block as BlockId
from bot.services.availability import TeacherOption
from bot.services.learning import (
    MAX_SKILLS,
    MAX_WISHES,
    AddOutcome,
    RequestOutcome,
    TeacherRequest,
    WishChoices,
    request_value,
)
from bot.views.common import Message, button, context, message, modal, option, section
from bot.views.text import escape, plural, slack_date
from models import NOTE_MAX_LENGTH, TOPIC_MAX_LENGTH, Skill, SkillLevel, Topic, Wish


def _topic_names(topics: list[Topic]) -> str:
    return ", ".join(f"*{escape(topic.display_name)}*" for topic in topics)


def _merged_lines(outcome: AddOutcome, command: str) -> list[str]:
    lines = [
        f"I took “{escape(resolved.typed)}” as *{escape(resolved.topic.display_name)}*."
        for resolved in outcome.added
        if resolved.merged
    ]
    for resolved in outcome.added:
        if resolved.similar is not None:
            similar = escape(resolved.similar.display_name)
            lines.append(
                f":thinking_face: *{escape(resolved.topic.display_name)}* is new here. "
                f"Did you mean *{similar}*? Then `{command} {similar}`."
            )
    return lines


def _rejected_lines(outcome: AddOutcome) -> list[str]:
    return [f":warning: “{escape(typed[:80])}”: {reason}" for typed, reason in outcome.rejected]


def _ask_sections(
    topic: Topic, options: list[TeacherOption], *, requested_id: int | None = None
) -> list[Block]:
    """One line per colleague who can teach the topic, each with its "Ask for …" button
    (Action.REQUEST_TEACHER). A block each: action ids must be unique within a block."""
    return [
        section(
            f"{escape(topic.display_name)}: *{escape(option.person.display_name)}* ({option.level.label})",
            accessory=button(
                "Asked ✓" if option.person.id == requested_id else "Ask for them",
                Action.REQUEST_TEACHER,
                request_value(topic.id, option.person.id),
            ),
        )
        for option in options
    ]


ASK_HINT = (
    "Want someone in particular? Ask for them: the next round strongly prefers them (never past "
    "their capacity, a pause or a block). They only learn you asked from the proposal."
)


def build_teachme_reply(
    outcome: AddOutcome,
    *,
    teachers: dict[int, int],
    next_round: datetime,
    needs_profile: bool,
    suggestions: Mapping[int, list[TeacherOption]] | None = None,
) -> Message:
    lines: list[str] = []
    if outcome.added:
        lines.append(f":seedling: Noted: you want to learn {_topic_names([r.topic for r in outcome.added])}.")
    if outcome.already:
        lines.append(f"You had already asked to learn {_topic_names(outcome.already)}.")
    lines += _merged_lines(outcome, "/teachme")
    for topic in outcome.topics:
        count = teachers.get(topic.id, 0)
        who = plural(count, "colleague") + " can"
        lines.append(
            f"• {escape(topic.display_name)}: {who} teach it today."
            if count
            else f"• {escape(topic.display_name)}: nobody teaches it yet; I'll look every week."
        )
    lines += _rejected_lines(outcome)
    if outcome.topics:
        lines.append(f"Next matching round: {slack_date(next_round)}.")
    asks = [
        block
        for topic in outcome.topics
        for block in _ask_sections(topic, (suggestions or {}).get(topic.id) or [])
    ]
    return _reply(
        lines,
        needs_profile=needs_profile,
        manage_action=Action.OPEN_WISHES,
        manage="Manage my wishes",
        extra=[context(ASK_HINT), *asks] if asks else [],
    )


def build_canteach_reply(
    outcome: AddOutcome, *, learners: dict[int, int], next_round: datetime, needs_profile: bool
) -> Message:
    lines: list[str] = []
    if outcome.added:
        lines.append(
            f":raised_hands: Thanks! You can teach {_topic_names([r.topic for r in outcome.added])}."
        )
    if outcome.already:
        lines.append(f"You already teach {_topic_names(outcome.already)} (level updated).")
    lines += _merged_lines(outcome, "/canteach")
    for topic in outcome.topics:
        count = learners.get(topic.id, 0)
        if count:
            lines.append(f"• {escape(topic.display_name)}: {plural(count, 'colleague')} want to learn it.")
    lines += _rejected_lines(outcome)
    if outcome.topics:
        lines.append(f"Next matching round: {slack_date(next_round)}.")
    return _reply(
        lines,
        needs_profile=needs_profile,
        manage_action=Action.OPEN_SKILLS,
        manage="Manage my skills",
    )


def _reply(
    lines: list[str],
    *,
    needs_profile: bool,
    manage_action: str,
    manage: str,
    extra: list[Block] | None = None,
) -> Message:
    text = "\n".join(lines) or "Nothing changed."
    blocks: list[Block] = [section(text), *(extra or [])]
    buttons = [button(manage, manage_action)]
    if needs_profile:
        blocks.append(context("One more step: tell me your career stage and team so I can pair you well."))
        buttons.insert(0, button("Complete my profile", Action.OPEN_PROFILE, style="primary"))
    blocks.append(ActionsBlock(elements=buttons))
    return message(text, blocks)


def build_error_reply(error: str) -> Message:
    text = f":warning: {error}"
    return message(text, [section(text)])


def _topic_input(label: str, placeholder: str, *, optional: bool, initial: str = "") -> InputBlock:
    return InputBlock(
        block_id=BlockId.TOPICS,
        label=PlainTextObject(text=label),
        optional=optional,
        element=PlainTextInputElement(
            action_id=INPUT_ACTION,
            placeholder=PlainTextObject(text=placeholder),
            max_length=TOPIC_MAX_LENGTH * 4,
            initial_value=initial or None,
        ),
        hint=PlainTextObject(text="Several at once? Separate them with commas."),
    )


def build_wishes_modal(
    wishes: list[Wish], *, initial_topic: str = "", choices: WishChoices | None = None, notice: str = ""
) -> dict[str, Any]:
    choices = choices or WishChoices()
    blocks: list[Block] = [
        *([section(notice)] if notice else []),
        section("What do you want to learn? Be specific: “writing a LinkedIn post” beats “social media”."),
        _topic_input("Add topics", "e.g. Canva, TikTok", optional=True, initial=initial_topic),
        InputBlock(
            block_id=BlockId.NOTE,
            label=PlainTextObject(text="What exactly would help you? (optional)"),
            optional=True,
            element=PlainTextInputElement(
                action_id=INPUT_ACTION,
                multiline=True,
                max_length=NOTE_MAX_LENGTH,
                placeholder=PlainTextObject(text="e.g. how to write a LinkedIn post"),
            ),
        ),
        DividerBlock(),
    ]
    if wishes:
        blocks.append(section(f"*Your open wishes* ({len(wishes)}/{MAX_WISHES})"))
        for wish in wishes:
            note = f"\n_{escape(wish.note)}_" if wish.note else ""
            asked = choices.requested.get(wish.id)
            asked_line = f"\nYou asked for {escape(asked.display_name)}." if asked else ""
            blocks.append(
                section(
                    f"{escape(wish.topic.display_name)}{note}{asked_line}",
                    accessory=button("Remove", Action.REMOVE_WISH, str(wish.id)),
                )
            )
            options = choices.teachers.get(wish.topic_id) or []
            blocks += _ask_sections(wish.topic, options, requested_id=asked.id if asked else None)
        if any(choices.teachers.values()):
            blocks.append(context(ASK_HINT))
    else:
        blocks.append(context("You have no open wishes yet."))
    return modal(
        callback_id=Modal.WISHES,
        title="What I want to learn",
        blocks=blocks,
        submit="Add",
        close="Done",
    )


def build_skills_modal(skills: list[Skill]) -> dict[str, Any]:
    levels = [option(level.label.capitalize(), level.value) for level in SkillLevel]
    blocks: list[Block] = [
        section("What can you teach? Everyday know-how counts: your daily app may be new to a colleague."),
        _topic_input("Add topics", "e.g. Excel pivot tables", optional=True),
        InputBlock(
            block_id=BlockId.LEVEL,
            label=PlainTextObject(text="Your level"),
            element=StaticSelectElement(action_id=INPUT_ACTION, options=levels, initial_option=levels[1]),
        ),
        DividerBlock(),
    ]
    if skills:
        blocks.append(section(f"*What you teach* ({len(skills)}/{MAX_SKILLS})"))
        for skill in skills:
            blocks.append(
                section(
                    f"{escape(skill.topic.display_name)} · {skill.level.label}",
                    accessory=button("Remove", Action.REMOVE_SKILL, str(skill.id)),
                )
            )
    else:
        blocks.append(context("You don't teach anything yet."))
    return modal(
        callback_id=Modal.SKILLS,
        title="What I can teach",
        blocks=blocks,
        submit="Add",
        close="Done",
    )


def request_text(request: TeacherRequest) -> str:
    """The private answer to an "Ask for …" click."""
    name = escape(request.teacher.display_name) if request.teacher else "that colleague"
    topic = f"*{escape(request.topic.display_name)}*" if request.topic else "that topic"
    busy = " They're busy right now; I'll ask them once they have room." if request.busy else ""
    return {
        RequestOutcome.REQUESTED: f":dart: Noted: I'll ask {name} first for {topic}.{busy}",
        RequestOutcome.CHANGED: f":dart: Changed: I'll ask {name} first for {topic} instead.{busy}",
        RequestOutcome.ALREADY: f"You've already asked for {name} for {topic}; nothing changed.",
        RequestOutcome.SELF: "That's you! Pick a colleague to learn from.",
        RequestOutcome.LEFT: f"{name} is no longer in the programme, so I can't ask them. Pick someone else.",
        RequestOutcome.AWAY: f"{name} is taking a break from pairings right now. Pick someone else, "
        "or I'll find the best match in the next round.",
        RequestOutcome.NOT_TEACHING: f"{name} can't be asked for {topic} any more. Pick someone else.",
        RequestOutcome.NO_WISH: f"{topic} is no longer one of your open wishes. `/teachme` adds it again.",
        RequestOutcome.NOT_FOUND: "I couldn't find that colleague or topic any more; nothing changed.",
    }[request.outcome]


def build_request_reply(request: TeacherRequest) -> Message:
    text = request_text(request)
    return message(text, [section(text)])
