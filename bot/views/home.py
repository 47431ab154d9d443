"""App Home: where each person sees their profile, wishes and skills."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, HeaderBlock, PlainTextObject

from bot.ids import Action
from bot.views.common import button, context, home, section
from bot.views.text import escape, slack_date
from models import Person, Skill, Wish


def build_home(
    person: Person, *, wishes: list[Wish], skills: list[Skill], next_round: datetime
) -> dict[str, Any]:
    if person.has_profile and person.career_stage:
        about = (
            f"*{person.career_stage.label.capitalize()}* · {escape(person.department or '-')} · "
            f"teaches up to {person.capacity} at once" + (" · :pause_button: paused" if person.paused else "")
        )
    else:
        about = "Tell me a little about you so I can pair you well."
    wish_lines = (
        "\n".join(f"• {escape(w.topic.display_name)}" for w in wishes) or "_Nothing yet: try `/teachme`._"
    )
    skill_lines = (
        "\n".join(f"• {escape(s.topic.display_name)} ({s.level.label})" for s in skills)
        or "_Nothing yet: try `/canteach`._"
    )
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Flipside: reverse mentoring")),
        section(about, accessory=button("Edit profile", Action.OPEN_PROFILE)),
        context(f"Next matching round: {slack_date(next_round)}"),
        DividerBlock(),
        section(f"*I want to learn*\n{wish_lines}", accessory=button("Edit", Action.OPEN_WISHES)),
        section(f"*I can teach*\n{skill_lines}", accessory=button("Edit", Action.OPEN_SKILLS)),
        ActionsBlock(elements=[button("Propose a Lunch 'n' Learn", Action.OPEN_LUNCH_PROPOSE)]),
    ]
    return home(blocks)
