"""The relationship pulse as people read it: the one-click question, the note modal, the replies."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    CheckboxesElement,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)

from bot.ids import INPUT_ACTION, Action, Modal
from bot.ids import Block as BlockId
from bot.services.pulse import NOTE_LIMIT, question_value
from bot.views.common import Message, button, context, message, modal, option, section
from bot.views.text import escape
from models import Pairing, Person

RATING_LABELS = {1: "1 · not well", 2: "2", 3: "3 · fine", 4: "4", 5: "5 · great"}
SHARE_WITH_LOG = "share"


def build_pulse_question(pairing: Pairing, viewer: Person, number: int) -> Message:
    other = pairing.other_side(viewer.id)
    topic = escape(pairing.topic.display_name)
    value = question_value(pairing.id, number)
    return message(
        f"How is it going with your {topic} pairing?",
        [
            section(
                f":seedling: *How is it going?* You and <@{other.slack_user_id}> have been paired on "
                f"*{topic}* for a while. One click tells the programme; your answer stays private."
            ),
            ActionsBlock(
                elements=[
                    button(label, Action.PULSE_RATE, f"{value}:{rating}")
                    for rating, label in RATING_LABELS.items()
                ]
            ),
            ActionsBlock(
                elements=[
                    button("Add a private note", Action.PULSE_NOTE, value),
                    button("We have stopped meeting", Action.PULSE_STOPPED, value),
                ]
            ),
            context("Only the programme's figures use your rating; nobody sees your note."),
        ],
    )


def build_pulse_note_modal(value: str, *, topic: str) -> dict[str, Any]:
    share = option("Add my note to our learning log", SHARE_WITH_LOG)
    return modal(
        callback_id=Modal.PULSE_NOTE,
        title="How is it going?",
        blocks=[
            section(f"A private note on your pairing on *{escape(topic)}*."),
            InputBlock(
                block_id=BlockId.NOTE,
                label=PlainTextObject(text="Your note (private)"),
                element=PlainTextInputElement(action_id=INPUT_ACTION, multiline=True, max_length=NOTE_LIMIT),
            ),
            InputBlock(
                block_id=BlockId.SHARE_WITH_LOG,
                label=PlainTextObject(text="Learning log"),
                optional=True,
                element=CheckboxesElement(action_id=INPUT_ACTION, options=[share]),
            ),
        ],
        private_metadata=value,
        submit="Save",
    )


def build_partner_stopped(pairing: Pairing, viewer: Person) -> Message:
    topic = escape(pairing.topic.display_name)
    text = (
        f":leaves: Your pairing on *{topic}* has come to an end: your partner let me know you are no "
        "longer meeting. Thank you for the time you gave it. You're free for the next matching round."
    )
    return message(f"Your {topic} pairing has ended", [section(text)])


def build_pulse_reply(text: str) -> Message:
    return message(text, [section(text)])


PULSE_TEXT = {
    "rated": ":white_check_mark: Thanks! Noted: {rating}/5. Click another number to change it.",
    "stopped": "Thanks for telling me. I've closed the pairing and let your partner know kindly. "
    "You're free for the next matching round.",
    "already_ended": "Thanks for telling me. That pairing had already ended.",
    "not_found": "I couldn't find that question any more, so nothing changed.",
    "note_saved": ":white_check_mark: Your note is saved.",
    "note_shared": ":white_check_mark: Your note is saved, and your partner and you will see it in your "
    "learning log.",
}
