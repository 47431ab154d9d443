"""The profile modal, the /mentoring help and the /mentoring profile summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)

from bot.ids import INPUT_ACTION, Action, Modal
from bot.ids import Block as BlockId
from bot.services.profiles import DEPARTMENT_MAX_LENGTH, MAX_CAPACITY
from bot.views.common import Message, button, context, message, modal, option, section
from bot.views.text import escape, slack_date
from models import CareerStage, Person, Skill, Wish

STAGE_HELP = {
    CareerStage.EARLY: "Early career (first years at work)",
    CareerStage.MID: "Mid-career",
    CareerStage.SENIOR: "Senior (leads people or a field)",
    CareerStage.EXECUTIVE: "Executive",
}


def build_profile_modal(person: Person, *, private_metadata: str = "") -> dict[str, Any]:
    stages = [option(label, stage.value) for stage, label in STAGE_HELP.items()]
    capacities = [option(str(n), str(n)) for n in range(1, MAX_CAPACITY + 1)]
    paused_option = option("Pause me: no new pairings for now", "paused")
    current_stage = next(
        (o for o in stages if person.career_stage and o.value == person.career_stage.value), None
    )
    blocks: list[Block] = [
        section(
            "Flipside pairs people across generations and teams: often the junior person teaches "
            "the senior one. Your name and timezone come from Slack."
        ),
        InputBlock(
            block_id=BlockId.CAREER_STAGE,
            label=PlainTextObject(text="Career stage"),
            element=StaticSelectElement(action_id=INPUT_ACTION, options=stages, initial_option=current_stage),
        ),
        InputBlock(
            block_id=BlockId.DEPARTMENT,
            label=PlainTextObject(text="Department or team"),
            element=PlainTextInputElement(
                action_id=INPUT_ACTION,
                max_length=DEPARTMENT_MAX_LENGTH,
                initial_value=person.department or None,
                placeholder=PlainTextObject(text="e.g. Finance"),
            ),
        ),
        InputBlock(
            block_id=BlockId.CAPACITY,
            label=PlainTextObject(text="How many people can you teach at once?"),
            element=StaticSelectElement(
                action_id=INPUT_ACTION,
                options=capacities,
                initial_option=capacities[max(person.capacity, 1) - 1],
            ),
            hint=PlainTextObject(text="About an hour a week each. You also learn one topic at a time."),
        ),
        InputBlock(
            block_id=BlockId.PAUSED,
            label=PlainTextObject(text="Availability"),
            optional=True,
            element=CheckboxesElement(
                action_id=INPUT_ACTION,
                options=[paused_option],
                initial_options=[paused_option] if person.paused else None,
            ),
        ),
    ]
    return modal(
        callback_id=Modal.PROFILE,
        title="Your Flipside profile",
        blocks=blocks,
        private_metadata=private_metadata,
    )


def build_help() -> Message:
    text = (
        "*Flipside: reverse mentoring in Slack*\n"
        "• `/teachme social media`: say what you want to learn (several: `excel, tiktok; canva`)\n"
        "• `/canteach excel pivot tables`: say what you can teach\n"
        "• `/teachme` or `/canteach` alone: manage your list\n"
        "• `/mentoring profile`: your profile, wishes and skills\n"
        "• `/mentoring pause` / `/mentoring resume`: take a break from pairings\n"
        "• `/mentoring snooze`, `/mentoring block`: snooze until a date, never pair me with…\n"
        "• `/mentoring forget`: delete what Flipside knows about you\n"
        "• `/lunchnlearn`: propose a group Lunch 'n' Learn; `/lunchnlearn list` to see what's on\n"
        "Every week I pair learners with colleagues who can teach them; you both get a message "
        "to accept or decline. Start with a 20-30 minute coffee chat."
    )
    return message("Flipside help", [section(text)])


def build_profile_summary(
    person: Person, *, wishes: list[Wish], skills: list[Skill], next_round: datetime
) -> Message:
    from slack_sdk.models.blocks import ActionsBlock

    if person.has_profile and person.career_stage:
        about = (
            f"*Career stage:* {person.career_stage.label}  ·  *Team:* {escape(person.department or '-')}\n"
            f"*Teaches up to:* {person.capacity} at once  ·  *Status:* "
            + ("paused" if person.paused else "active")
        )
    else:
        about = "You haven't completed your profile yet."
    wish_text = ", ".join(escape(w.topic.display_name) for w in wishes) or "nothing yet"
    skill_text = (
        ", ".join(f"{escape(s.topic.display_name)} ({s.level.label})" for s in skills) or "nothing yet"
    )
    text = f"{about}\n*Wants to learn:* {wish_text}\n*Can teach:* {skill_text}"
    blocks: list[Block] = [
        section(text),
        context(f"Next matching round: {slack_date(next_round)}"),
        ActionsBlock(
            elements=[
                button("Edit profile", Action.OPEN_PROFILE),
                button("Edit wishes", Action.OPEN_WISHES),
                button("Edit skills", Action.OPEN_SKILLS),
            ]
        ),
    ]
    return message("Your Flipside profile", blocks)


def build_notice(text: str) -> Message:
    return message(text, [section(text)])
