"""The assistant pane: suggested prompts and the answers posted in its thread.

Names are plain text, never mentions: an answer names colleagues to the asker alone, and nobody is
pinged by it. Whatever the asker typed is escaped (no @channel, no links)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock

from bot.ids import Action
from bot.services.assistant import (
    Answer,
    CouldTeachAnswer,
    LearningAnswer,
    SimpleAnswer,
    TeachersAnswer,
    WeekAnswer,
)
from bot.services.assistant_intents import Intent
from bot.services.availability import TeacherOption
from bot.services.insights import PairingLine
from bot.services.lunch.seats import MySeat
from bot.views.common import Message, button, context, message, section
from bot.views.flow import WAIT_TEXT
from bot.views.home import pack_lines
from bot.views.lunch import title_of, when, where
from bot.views.text import escape, plural, slack_date, truncate
from models import Answer as PairingAnswer
from models import PairingStatus

STATUS = "is looking that up…"
# Slack shows up to four suggested prompts; each sends its message as if the person typed it.
SUGGESTED_PROMPTS = (
    {"title": "Who can teach me …?", "message": "Who can teach me …?"},
    {"title": "What am I learning?", "message": "What am I learning?"},
    {"title": "What's on this week?", "message": "What's on this week?"},
    {"title": "What could I teach?", "message": "What could I teach?"},
)
PROMPTS_TITLE = "Ask me about Flipside"
_TOPIC_SHOWN = 80
_EXAMPLES = (
    "• _Who can teach me Excel?_ (or _who knows Terraform_)\n"
    "• _What am I learning?_ (your wishes, pairings and next steps)\n"
    "• _What's on this week?_ (Lunch 'n' Learns you can join)\n"
    "• _What could I teach?_ (topics colleagues want to learn)"
)


def build_welcome() -> Message:
    text = "Hi! I answer from Flipside's own records. Pick a question below or type your own."
    return message(text, [section(text)])


def build_answer(answer: Answer) -> Message:
    if isinstance(answer, TeachersAnswer):
        return build_teachers(answer)
    if isinstance(answer, LearningAnswer):
        return build_learning(answer)
    if isinstance(answer, WeekAnswer):
        return build_week(answer)
    if isinstance(answer, CouldTeachAnswer):
        return build_could_teach(answer)
    return build_simple(answer)


def build_simple(answer: SimpleAnswer) -> Message:
    if answer.intent == Intent.GREETING:
        intro = "Hello! Here's what you can ask me:"
    elif answer.intent == Intent.HELP:
        intro = "I answer questions about Flipside from its own records. Try:"
    else:
        intro = "Sorry, I didn't understand that. I can answer questions like these:"
    text = f"{intro}\n{_EXAMPLES}"
    return message(text, [section(text)])


def _topic(name: str) -> str:
    return f"*{escape(truncate(name, _TOPIC_SHOWN))}*"


def build_teachers(answer: TeachersAnswer) -> Message:
    if answer.typed is None:
        text = "Which topic? Ask me like this: _who can teach me Excel?_"
        return message(text, [section(text)])
    if answer.problem is not None:
        text = f"I can't look that topic up: {escape(answer.problem)}"
        return message(text, [section(text)])
    if answer.topic is None:
        lines = [f"Nobody in Flipside has said they can teach {_topic(answer.typed)} yet."]
        if answer.similar is not None:
            lines.append(f"Did you mean {_topic(answer.similar.display_name)}? Ask me about that.")
        lines.append(
            f"Add it to your wishes with `/teachme {escape(truncate(answer.typed, _TOPIC_SHOWN))}` "
            "and I'll pair you as soon as someone can teach it."
        )
        text = "\n".join(lines)
        return message(text, [section(text)])
    topic = answer.topic
    if not answer.teachers:
        text = (
            f"Nobody can teach {_topic(topic.display_name)} right now: the people who know it are "
            "paused, away or fully booked."
        )
        hint = (
            "It's on your wishes: I'll pair you when someone is free."
            if answer.wished
            else (
                f"Add it with `/teachme {escape(truncate(topic.display_name, _TOPIC_SHOWN))}` and I'll "
                "pair you when someone is free."
            )
        )
        return message(f"{text} {hint}", [section(text), context(hint)])
    intro = f"{plural(len(answer.teachers), 'colleague')} could teach you {_topic(topic.display_name)} now:"
    blocks: list[Block] = [section(intro)]
    blocks += [_teacher_block(topic.id, option) for option in answer.teachers]
    blocks.append(
        context(
            "Ask for someone and I'll propose them to teach you in the next round"
            + (" (it's already on your wishes)." if answer.wished else ", adding it to your wishes.")
        )
    )
    names = ", ".join(escape(option.person.display_name) for option in answer.teachers)
    return message(f"{intro} {names}", blocks)


def _teacher_block(topic_id: int, option: TeacherOption) -> Block:
    name = escape(option.person.display_name)
    # A plain-text label never pings, but an "@" in it would still read like a broadcast.
    first = truncate(option.person.display_name.split(" ")[0].replace("@", "") or "them", 40)
    line = f"*{name}* · {option.level.label} · {plural(option.free_slots, 'free slot')}"
    value = f"{topic_id}:{option.person.id}"
    return section(line, accessory=button(f"Ask for {first}", Action.REQUEST_TEACHER, value))


def build_learning(answer: LearningAnswer) -> Message:
    overview = answer.overview
    blocks: list[Block] = []
    if overview.wishes:
        lines = ["*Your wishes*"]
        paired = {pairing.topic for pairing in overview.pairings if pairing.learning}
        for wish in overview.wishes:
            reason = answer.waiting.get(wish.topic)
            why = WAIT_TEXT[reason] if reason else ("paired, see below" if wish.topic in paired else "")
            lines.append(f"• {_topic(wish.topic)}" + (f": {why}" if why else ""))
        blocks += [section(chunk) for chunk in pack_lines(lines)]
    else:
        blocks.append(section("You have no open wishes. Tell me what you want to learn with `/teachme`."))
    if overview.pairings:
        lines = ["*Your pairings*"] + [_pairing_line(pairing) for pairing in overview.pairings]
        blocks += [section(chunk) for chunk in pack_lines(lines)]
    blocks.append(context(f"Next matching round: {slack_date(answer.next_round)}."))
    text = (
        f"You have {plural(len(overview.wishes), 'open wish', 'open wishes')} and "
        f"{plural(len(overview.pairings), 'pairing')}."
    )
    return message(text, blocks[:50])


def _pairing_line(pairing: PairingLine) -> str:
    partner = escape(pairing.partner_name)
    role = f"learning from {partner}" if pairing.learning else f"teaching {partner}"
    if pairing.status == PairingStatus.PROPOSED:
        if pairing.my_answer == PairingAnswer.PENDING:
            step = f"accept or decline in my DM by {slack_date(pairing.expires_at)}"
        else:
            step = "waiting for their answer"
    else:
        step = "meet in your group DM"
        if pairing.checkin_due_at:
            step += f"; I'll check in on {slack_date(pairing.checkin_due_at)}"
    return f"• {_topic(pairing.topic)} · {role} · {plural(pairing.sessions, 'session')}. *Next:* {step}"


def build_week(answer: WeekAnswer) -> Message:
    if not answer.seats:
        text = "No Lunch 'n' Learns in the next 7 days. Propose one with `/lunchnlearn`!"
        return message(text, [section(text)])
    intro = f"*Lunch 'n' Learns in the next 7 days* ({len(answer.seats)})"
    blocks: list[Block] = [section(intro)]
    for seat in answer.seats:
        blocks.append(_seat_block(seat))
    blocks.append(context("Times show in your own timezone."))
    return message(f"{plural(len(answer.seats), 'Lunch n Learn')} in the next 7 days.", blocks)


def _seat_block(seat: MySeat) -> Block:
    lunch, state = seat.state.lunch, seat.state
    if state.seats_left is None:
        seats = f"{len(state.attendees)} going"
    elif state.seats_left == 0:
        seats = f"full ({len(state.waitlisted)} waiting)"
    else:
        seats = f"{plural(state.seats_left, 'seat')} left"
    lines = [
        f"{title_of(lunch)}: {when(lunch)}",
        f"{where(lunch)} · hosted by {escape(lunch.host.display_name)} · {seats}",
    ]
    accessory = None
    if seat.hosting:
        lines.append(":microphone: You're hosting")
    elif seat.attending:
        lines.append(":white_check_mark: You're going")
    elif seat.waitlist_position:
        lines.append(f":hourglass_flowing_sand: You're #{seat.waitlist_position} on the waitlist")
    else:
        accessory = button("Sign up", Action.LUNCH_SIGN_UP, str(lunch.id), style="primary")
    return section("\n".join(lines), accessory=accessory)


def build_could_teach(answer: CouldTeachAnswer) -> Message:
    blocks: list[Block] = []
    if answer.wanted:
        lines = ["*Colleagues want to learn what you can teach*"] + [
            f"• {_topic(topic.display_name)}: {plural(count, 'person', 'people')} waiting"
            for topic, count in answer.wanted
        ]
        blocks.append(section("\n".join(lines)))
    elif answer.has_skills:
        blocks.append(section("Nobody is waiting to learn your topics right now."))
    else:
        blocks.append(section("You haven't said what you can teach yet: try `/canteach excel pivot tables`."))
    if answer.untaught:
        lines = ["*Wished for, and nobody teaches them yet*"] + [
            f"• {_topic(demand.topic.display_name)}: {plural(demand.wishers, 'wish', 'wishes')}"
            for demand in answer.untaught
        ]
        blocks += [DividerBlock(), section("\n".join(lines))]
        blocks.append(context("Know one of these? Add it with `/canteach`."))
    text = f"Topics in demand: {len(answer.wanted)} you teach, {len(answer.untaught)} nobody teaches yet."
    return message(text, blocks)


def prompts() -> list[dict[str, str]]:
    return [dict(prompt) for prompt in SUGGESTED_PROMPTS]
