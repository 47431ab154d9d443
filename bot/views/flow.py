"""Messages of the pairing flow between rounds: the next teacher at once, why a wish waits, a
partner who left, and "should I keep you in?" after silence."""

from __future__ import annotations

from datetime import datetime

from bot.services.availability import WaitReason
from bot.views.common import Message, message, section
from bot.views.text import escape, slack_date


def _topic(name: str) -> str:
    return f"*{escape(name)}*"


def build_next_offer_note(*, topic: str, teacher_user_id: str, teacher_left: bool) -> Message:
    """To the learner, right before the new proposal."""
    why = "Your partner has left, so" if teacher_left else "That one didn't work out, so"
    text = (
        f":arrows_counterclockwise: {why} I've asked <@{teacher_user_id}> to teach you {_topic(topic)} "
        "straight away. The new proposal is just below."
    )
    return message(text, [section(text)])


def build_offer_limit_note(*, topic: str, next_round: datetime) -> Message:
    text = (
        f":hourglass_flowing_sand: I've offered {_topic(topic)} to three colleagues this week, so your "
        f"wish now waits for the next matching round, {slack_date(next_round)}. Nothing for you to do."
    )
    return message(text, [section(text)])


def build_no_teacher_now_note(*, topic: str, next_round: datetime) -> Message:
    text = (
        f":hourglass_flowing_sand: Nobody else can take {_topic(topic)} right now. Your wish stays in "
        f"for the next matching round, {slack_date(next_round)}."
    )
    return message(text, [section(text)])


def build_partner_left(*, topic: str, was_teacher: bool, found_next: bool) -> Message:
    """A partner was deactivated or removed from Slack: `was_teacher` if they taught the reader."""
    if not was_teacher:
        after = "Thank you for offering your time; you're free for the next matching round."
    elif found_next:
        after = "I've asked someone else to teach you straight away: their proposal follows."
    else:
        after = "Your wish stays in for the next matching round."
    text = f":leaves: Your pairing on {_topic(topic)} has ended: your partner has left the workspace. {after}"
    return message(text, [section(text)])


# Why a wish waits, told to its owner with what to do about it: the waiting notice and the
# assistant's "what am I learning?" both read this.
WAIT_TEXT = {
    WaitReason.IN_PAIRING: "paired, see below",
    WaitReason.LEARNING_ANOTHER: "one topic at a time: it comes after your current pairing",
    WaitReason.PROFILE_UNFINISHED: "finish your profile (`/mentoring profile`) so I can pair you",
    WaitReason.LEARNER_AWAY: "you are paused or snoozed; `/mentoring resume` brings you back",
    WaitReason.NO_TEACHER: "nobody teaches it yet; ask a colleague to add it with `/canteach`",
    WaitReason.TEACHERS_BUSY: "everyone who teaches it is busy for now; I'll keep trying every week",
    WaitReason.NEXT_ROUND: "someone could teach it: it's in the next round",
}


def build_waiting_notice(waiting: list[tuple[str, str]]) -> Message:
    """One DM listing the wishes that newly wait and why: (topic name, WaitReason value)."""
    lines = [f"• {_topic(topic)}: {WAIT_TEXT[reason]}." for topic, reason in waiting]
    head = ":mag: Not every wish of yours could enter this week's matching round:"
    text = "\n".join([head, *lines])
    return message(text, [section(text)])


GHOST_REASONS = {
    "intro": "Your introduction from two weeks ago hasn't led to a meeting yet.",
    "checkins": "Your last three check-ins went unanswered.",
}


def build_paused_after_silence() -> Message:
    text = (
        ":zzz: I didn't hear back, so I've paused your Flipside pairings. Whenever you're ready, "
        "`/mentoring resume` brings you back; your wishes and skills are kept."
    )
    return message(text, [section(text)])
