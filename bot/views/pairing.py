"""Messages and modals of a pairing's life, for the learner and the teacher."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserMultiSelectElement,
)

from bot.ids import INPUT_ACTION, Action, Modal
from bot.ids import Block as BlockId
from bot.services.pairings import button_value, checkin_value
from bot.views.common import Message, button, context, message, modal, option, section
from bot.views.text import escape, slack_date
from models import MeetingHalves, Pairing, PairingStatus, Person

STATE_LINE = {
    PairingStatus.PROPOSED: ":hourglass_flowing_sand: Waiting for answers",
    PairingStatus.ACTIVE: ":handshake: You are paired. Enjoy!",
    PairingStatus.DECLINED: ":leaves: This pairing won't go ahead.",
    PairingStatus.EXPIRED: ":zzz: This proposal expired.",
    PairingStatus.COMPLETED: ":mortar_board: This pairing is complete.",
    PairingStatus.CANCELLED: ":leaves: This pairing was cancelled.",
}


def _who(person: Person) -> str:
    stage = person.career_stage.label if person.career_stage else "colleague"
    team = f", {escape(person.department)}" if person.department else ""
    return f"<@{person.slack_user_id}> ({stage}{team})"


def _is_learner(pairing: Pairing, viewer: Person) -> bool:
    return viewer.id == pairing.learner_id


def topics_text(pairing: Pairing) -> str:
    """The pairing's topic, or both topics of an exchange ("Figma and budgeting")."""
    if pairing.exchange_topic is None:
        return pairing.topic.display_name
    return f"{pairing.topic.display_name} and {pairing.exchange_topic.display_name}"


def _why(pairing: Pairing, viewer: Person) -> list[str]:
    why = pairing.explanation_for(viewer.id)
    return [f"_Why:_ {escape(why)}"] if why else []


def proposal_text(pairing: Pairing, viewer: Person) -> str:
    topic = escape(pairing.topic.display_name)
    if pairing.exchange_topic is not None:
        other = pairing.other_side(viewer.id)
        mine, theirs = (
            (topic, escape(pairing.exchange_topic.display_name))
            if _is_learner(pairing, viewer)
            else (escape(pairing.exchange_topic.display_name), topic)
        )
        lines = [
            f":arrows_counterclockwise: *A two-way exchange for you: {mine} for {theirs}*",
            f"{_who(other)} can teach you {mine}, and would love to learn {theirs} from you.",
            *_why(pairing, viewer),
            "*First step:* a 20-30 minute coffee chat to agree on both halves. About an hour a week "
            "after that, shared between the two topics, is plenty.",
        ]
    elif _is_learner(pairing, viewer):
        lines = [
            f":sparkles: *A match for you: {topic}*",
            f"{_who(pairing.teacher)} can teach you {topic}.",
            *_why(pairing, viewer),
            "*First step:* a 20-30 minute coffee chat to see if it fits. Be specific about what you "
            "want to learn, and think about what you can offer back.",
        ]
    else:
        lines = [
            f":raised_hands: *Someone would love to learn {topic} from you*",
            f"{_who(pairing.learner)} asked to learn {topic}.",
            *_why(pairing, viewer),
        ]
        if pairing.is_reverse and not pairing.teacher_explanation:  # pairings from before the reasons
            lines.append("They are more senior than you: this is reverse mentoring at its best.")
        lines.append("*First step:* a 20-30 minute coffee chat. About an hour a week after that is plenty.")
    return "\n".join(lines)


def build_proposal(pairing: Pairing, viewer: Person) -> Message:
    """The DM each side gets; redrawn in place as the pairing changes."""
    blocks: list[Block] = [section(proposal_text(pairing, viewer))]
    mine = pairing.answer_of(viewer.id)
    if pairing.status == PairingStatus.PROPOSED and mine.value == "pending":
        blocks.append(context(f"Please answer by {slack_date(pairing.expires_at, '{date_short_pretty}')}."))
        blocks.append(
            ActionsBlock(
                elements=[
                    button("Accept", Action.ACCEPT_PAIRING, button_value(pairing), style="primary"),
                    button("Decline", Action.DECLINE_PAIRING, button_value(pairing)),
                ]
            )
        )
    elif pairing.status == PairingStatus.PROPOSED:
        blocks.append(context(":white_check_mark: You accepted. Waiting for the other person."))
    else:
        blocks.append(context(STATE_LINE[pairing.status]))
    return message(f"Flipside match: {escape(topics_text(pairing))}", blocks)


def build_intro(pairing: Pairing, *, times: list[datetime]) -> Message:
    topic = escape(pairing.topic.display_name)
    learner, teacher = pairing.learner.slack_user_id, pairing.teacher.slack_user_id
    agenda = [
        "1. Introductions: your roles, and what each of you hopes to get out of this (5 min)",
        f"2. {topic}: what exactly <@{learner}> wants to learn, examples (10 min)",
        "3. The two-way part: what the other side can offer back (5 min)",
        "4. Agree on a rhythm: about an hour a week, and your first real session (5 min)",
    ]
    if pairing.exchange_topic is not None:
        back = escape(pairing.exchange_topic.display_name)
        agenda[1] = (
            f"2. {topic}: what exactly <@{learner}> wants to learn from <@{teacher}>, examples (8 min)"
        )
        agenda[2] = f"3. {back}: what exactly <@{teacher}> wants to learn from <@{learner}>, examples (8 min)"
        agenda[3] = "4. Agree on a rhythm: about an hour a week, shared between both topics (4 min)"
    slot_text = (
        "\n".join(f"• {slack_date(moment, '{date_long_pretty} at {time}')}" for moment in times)
        or "• Your working hours don't overlap much: find a time that suits you both."
    )
    text = (
        f":wave: <@{learner}>, meet <@{teacher}>! You both said yes to *{escape(topics_text(pairing))}*.\n"
        + (
            f"A two-way exchange: <@{teacher}> teaches {topic}, <@{learner}> teaches "
            f"{escape(pairing.exchange_topic.display_name)}."
            if pairing.exchange_topic is not None
            else f"<@{teacher}> teaches, <@{learner}> learns, and both of you bring something to the table."
        )
    )
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Your Flipside pairing")),
        section(text),
        section("*A suggested agenda for your first coffee chat (25 min)*\n" + "\n".join(agenda)),
        section("*Times inside both your working hours*\n" + slot_text),
        context("I'll check in after a week. Reply here to agree on a time."),
    ]
    return message(f"Meet your Flipside partner for {escape(topics_text(pairing))}", blocks)


def build_decline_notice(pairing: Pairing, *, viewer: Person) -> Message:
    topic = escape(topics_text(pairing))
    text = (
        f"The pairing on *{topic}* won't go ahead this time: the timing didn't work on the other side. "
        "No hard feelings! "
        + (
            "Your wish stays open and I'll look for someone else in the next round."
            if _is_learner(pairing, viewer) or pairing.exchange_topic is not None
            else "You're free for the next round."
        )
    )
    return message(f"Update on your {topic} pairing", [section(text)])


def build_reminder(pairing: Pairing, viewer: Person) -> Message:
    other = pairing.other_side(viewer.id)
    text = (
        f":wave: A gentle nudge: <@{other.slack_user_id}> and you were matched on "
        f"*{escape(topics_text(pairing))}*. The proposal expires "
        f"{slack_date(pairing.expires_at, '{date_short_pretty}')}. Just scroll up to Accept or Decline."
    )
    return message(f"Reminder: your {escape(topics_text(pairing))} match", [section(text)])


def build_expired(pairing: Pairing, viewer: Person) -> Message:
    topics = escape(topics_text(pairing))
    text = f"The proposal on *{topics}* expired without both answers. " + (
        "Your wish stays open for the next round."
        if _is_learner(pairing, viewer) or pairing.exchange_topic is not None
        else "No worries."
    )
    return message(f"Your {topics} proposal expired", [section(text)])


def build_checkin(pairing: Pairing, viewer: Person) -> Message:
    other = pairing.other_side(viewer.id)
    topics = escape(topics_text(pairing))
    text = f":coffee: Did you meet <@{other.slack_user_id}> about *{topics}*?"
    if pairing.exchange_topic is not None:
        text += " A meeting counts for both halves of your exchange."
    value = checkin_value(pairing)
    return message(
        f"Check-in: {topics}",
        [
            section(text),
            ActionsBlock(
                elements=[
                    button("Yes, we met", Action.CHECKIN_MET, value, style="primary"),
                    button("Not yet", Action.CHECKIN_NOT_YET, value),
                    button("We are done", Action.CHECKIN_DONE, value),
                ]
            ),
        ],
    )


def _rating_input(label: str) -> InputBlock:
    ratings = [option("★" * n + f" ({n})", str(n)) for n in range(5, 0, -1)]
    return InputBlock(
        block_id=BlockId.RATING,
        label=PlainTextObject(text=label),
        element=StaticSelectElement(action_id=INPUT_ACTION, options=ratings),
    )


def _note_input(label: str, *, optional: bool = True) -> InputBlock:
    return InputBlock(
        block_id=BlockId.NOTE,
        label=PlainTextObject(text=label),
        optional=optional,
        element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=True, max_length=1000),
    )


def build_checkin_modal(
    pairing_value: str, *, topic: str, exchange_topics: tuple[str, str] | None = None
) -> dict[str, Any]:
    """`exchange_topics` (the pairing's topic, the one taught back): each direction's meeting is
    recorded, so the pair ticks which halves they worked on (both, unless they untick one)."""
    halves: list[Block] = []
    if exchange_topics is not None:
        choices = [
            option(exchange_topics[0][:75], MeetingHalves.TOPIC),
            option(exchange_topics[1][:75], MeetingHalves.EXCHANGE_TOPIC),
        ]
        halves.append(
            InputBlock(
                block_id=BlockId.HALVES,
                label=PlainTextObject(text="What did you work on?"),
                element=CheckboxesElement(action_id=INPUT_ACTION, options=choices, initial_options=choices),
            )
        )
    return modal(
        callback_id=Modal.CHECKIN,
        title="How did it go?",
        blocks=[
            section(f"Great that you met about *{escape(topic)}*!"),
            *halves,
            _rating_input("How was it?"),
            _note_input("Anything to share? (optional)"),
        ],
        private_metadata=pairing_value,
        submit="Log it",
    )


def build_feedback_request(pairing: Pairing, viewer: Person) -> Message:
    topics = escape(topics_text(pairing))
    blocks: list[Block] = [
        section(
            f":mortar_board: Your pairing on *{topics}* is complete. Thank you! "
            "Two quick questions help the programme a lot."
        ),
    ]
    buttons = [button("Give feedback", Action.CHECKIN_DONE, f"feedback:{pairing.id}")]
    # In an exchange both sides learned something: each closes their own wish.
    if _is_learner(pairing, viewer) or pairing.exchange_topic is not None:
        buttons.append(button("I learned it: close my wish", Action.MARK_LEARNED, str(pairing.id)))
    blocks.append(ActionsBlock(elements=buttons))
    return message(f"Your {topics} pairing is complete", blocks)


def build_feedback_modal(pairing_id: int, *, topic: str) -> dict[str, Any]:
    return modal(
        callback_id=Modal.FEEDBACK,
        title="Pairing feedback",
        blocks=[
            section(f"How was your pairing on *{escape(topic)}*?"),
            _rating_input("Overall"),
            _note_input("What worked, what would you change? (optional)"),
        ],
        private_metadata=str(pairing_id),
        submit="Send",
    )


def build_decline_modal(pairing_id: int, *, topic: str) -> dict[str, Any]:
    return modal(
        callback_id=Modal.DECLINE_REASON,
        title="Declined",
        blocks=[
            section(f"Done: the pairing on *{escape(topic)}* won't go ahead. I'll tell them kindly."),
            InputBlock(
                block_id=BlockId.REASON,
                label=PlainTextObject(text="Want to tell us why? (optional, private)"),
                optional=True,
                element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=True, max_length=500),
            ),
        ],
        private_metadata=str(pairing_id),
        submit="Send",
        close="Skip",
    )


def build_unmatched(*, topic: str, why: str) -> Message:
    text = (
        f"No match for *{escape(topic)}* this week: {escape(why)}. Your wish stays open and I'll try "
        "again in the next round. Meanwhile, a group Lunch 'n' Learn might be the quickest way in: "
        "`/lunchnlearn list`."
    )
    return message(f"No match for {escape(topic)} this week", [section(text)])


def build_keep_in_ask(*, because: str | None = None) -> Message:
    """ "Should I keep you in?": after three unanswered proposals, or, with `because`, after an
    ignored introduction or unanswered check-ins (bot.services.ghosting), when no answer within a
    week pauses the person."""
    if because is None:
        title = "Should I keep proposing pairings?"
        text = f"I've sent you a few proposals lately that went unanswered; no problem at all. {title}"
    else:
        title = "Should I keep you in Flipside?"
        text = (
            f"{because} No problem at all. Should I keep you in the programme? "
            "If I don't hear from you within a week, I'll pause you."
        )
    return message(
        title,
        [
            section(text),
            ActionsBlock(
                elements=[
                    button("Keep me in", Action.KEEP_ME_IN, style="primary"),
                    button("Ask me in a month", Action.ASK_ME_LATER),
                    button("Take me out", Action.TAKE_ME_OUT),
                ]
            ),
        ],
    )


def build_snooze_modal(*, today: str) -> dict[str, Any]:
    return modal(
        callback_id=Modal.SNOOZE,
        title="Snooze pairings",
        blocks=[
            InputBlock(
                block_id=BlockId.SNOOZE_UNTIL,
                label=PlainTextObject(text="No new pairings until"),
                element=DatePickerElement(action_id=INPUT_ACTION, initial_date=today),
            )
        ],
        submit="Snooze",
    )


def build_blocklist_modal(current_user_ids: list[str]) -> dict[str, Any]:
    return modal(
        callback_id=Modal.BLOCKLIST,
        title="Don't pair me with",
        blocks=[
            section("Private: nobody is told. I'll never propose you a pairing with these people."),
            InputBlock(
                block_id=BlockId.BLOCKED_USERS,
                label=PlainTextObject(text="People"),
                optional=True,
                element=UserMultiSelectElement(
                    action_id=INPUT_ACTION, initial_users=current_user_ids or None, max_selected_items=50
                ),
            ),
        ],
    )


def build_notice(text: str) -> Message:
    return message(text, [section(text)])
