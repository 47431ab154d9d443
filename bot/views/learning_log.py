"""A pair's learning log in canvas markdown, and the two notices about it. Pure functions.

Canvases take markdown (`document_content`), not mrkdwn: `**bold**`, `# headings`, `- [ ]`
checklists, and people as `![](@U123)`. Slack's date tokens (`<!date^…>`) are not among the
elements canvases support, so a time is written in UTC and in each partner's own timezone.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.models.blocks import Block

from bot.views.common import Message, context, message, section
from bot.views.text import escape, utc_text
from models import MeetingHalves, Pairing, Person

TITLE_LIMIT = 120
# Backslash-escaped in people's words, so what they typed stays text: no heading, link, mention,
# table or emphasis of their making.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~])")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def plain(text: str) -> str:
    """People's words made inert in canvas markdown, on one line."""
    flat = " ".join(text.split())
    return _BROADCAST.sub(lambda match: "@\u2060" + match.group(1), _MARKDOWN_SPECIAL.sub(r"\\\1", flat))


def mention(person: Person) -> str:
    return f"![](@{person.slack_user_id})"


def marker(pairing_id: int) -> str:
    """Text only this pairing's log holds: after a crash, how Slack's copy is recognised as ours."""
    return f"Flipside pairing #{pairing_id}"


def title(pairing: Pairing) -> str:
    return f"Learning log: {pairing.topic.display_name}"[:TITLE_LIMIT]


def _local_time(moment: datetime, person: Person) -> str:
    try:
        zone = ZoneInfo(person.tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return f"{moment.astimezone(zone):%H:%M} {zone.key} for {mention(person)}"


def when(moment: datetime, people: tuple[Person, ...]) -> str:
    """A moment every reader can place: UTC, then each partner's own clock."""
    return f"{utc_text(moment)} ({', '.join(_local_time(moment, person) for person in people)})"


def build_opening(pairing: Pairing, *, note: str | None, times: list[datetime]) -> str:
    """The canvas as created: the topic(s), what exactly the learner wants, a first agenda."""
    learner, teacher = pairing.learner, pairing.teacher
    topic = plain(pairing.topic.display_name)
    lines = [
        f"# Learning log: {topic}",
        f"_{marker(pairing.id)}. Kept by Flipside: check-ins and meetings are added at the end._",
        "",
        f"{mention(learner)} learns **{topic}** from {mention(teacher)}.",
    ]
    if pairing.exchange_topic is not None:
        back = plain(pairing.exchange_topic.display_name)
        lines.append(f"Two-way: {mention(learner)} teaches **{back}** in return.")
    lines += ["", "## What exactly"]
    if note and note.strip():
        lines.append(f"> {plain(note)}")
    else:
        lines.append(
            f"{mention(learner)}, write here what exactly you want to learn, with an example or two."
        )
    offer_back = (
        f"{mention(learner)} can teach **{plain(pairing.exchange_topic.display_name)}**"
        if pairing.exchange_topic is not None
        else f"what {mention(learner)} can offer back"
    )
    lines += [
        "",
        "## A suggested first agenda",
        "- [ ] A 20-30 minute coffee chat: your roles, and what each of you hopes to get out of this",
        f"- [ ] {topic}: what exactly {mention(learner)} wants to learn, with examples",
        f"- [ ] What each of you can offer back: {offer_back}",
        "- [ ] When to meet: about an hour a week, and the date of your first real session",
        "",
        "## When to meet",
    ]
    if times:
        lines.append("Times inside both your working hours:")
        lines += [f"- {when(moment, (learner, teacher))}" for moment in times]
    else:
        lines.append("Your working hours hardly overlap: pick a time that suits you both.")
    lines += ["", "## Log"]
    return "\n".join(lines)


def checkin_line(pairing: Pairing, *, at: datetime) -> str:
    return f"### Check-in, {utc_text(at)}\nWhat did you cover, and what comes next? Jot it down here."


def meeting_line(
    pairing: Pairing, *, logged_by: Person, meetings: int, at: datetime, halves: MeetingHalves | None = None
) -> str:
    """`halves`: in an exchange, which directions the meeting covered."""
    covered = ""
    if pairing.exchange_topic is not None and halves in (MeetingHalves.TOPIC, MeetingHalves.EXCHANGE_TOPIC):
        topic = pairing.topic if halves == MeetingHalves.TOPIC else pairing.exchange_topic
        covered = f" on **{plain(topic.display_name)}**"
    elif pairing.exchange_topic is not None and halves == MeetingHalves.BOTH:
        covered = " on both topics"
    return f"- Session {meetings} held{covered}, logged {utc_text(at)} by {mention(logged_by)}"


def learned_line(pairing: Pairing, *, at: datetime) -> str:
    topic = plain(pairing.topic.display_name)
    return f"- Learned it, {utc_text(at)}: {mention(pairing.learner)} learned **{topic}** :mortar_board:"


def closing_line(pairing: Pairing, *, meetings: int, learned: bool, at: datetime) -> str:
    topic = plain(pairing.topic.display_name)
    sessions = f"{meetings} session{'s' * (meetings != 1)}"
    what = (
        f"{mention(pairing.learner)} learned **{topic}** from {mention(pairing.teacher)}"
        if learned
        else f"{mention(pairing.learner)} worked on **{topic}** with {mention(pairing.teacher)}"
    )
    if pairing.exchange_topic is not None:
        what += f", and taught **{plain(pairing.exchange_topic.display_name)}** back"
    return f"---\n**Pairing ended, {utc_text(at)}:** {what}, in {sessions}. Thank you both!"


def pulse_line(*, author: Person, note: str, at: datetime) -> str:
    """A pulse's free-text note, for the logs of authors who agreed to share it."""
    return f"- Pulse note, {utc_text(at)}, from {mention(author)}: {plain(note)}"


def probe(markdown: str) -> str:
    """The plain words a line starts with, before any mention or markup: what canvases.sections.lookup
    is asked for to tell whether an earlier attempt wrote the line."""
    for line in markdown.splitlines():
        words = line.split("![](", 1)[0].strip().lstrip("#->").replace("*", "").replace("_", "").strip()
        if words and set(words) != {"-"}:
            return words
    return ""


def build_unavailable_notice(topic: str) -> Message:
    """Told once to a pair whose learning log could not be made: everything else goes on as before."""
    text = (
        f":notebook: I couldn't start a shared learning-log canvas for *{escape(topic)}* here "
        "(canvases aren't available to me in this workspace), so keep your notes in this conversation."
    )
    return message(text, [section(text)])


def build_shared_notice(topic: str) -> Message:
    """Where a conversation canvas was refused: the log is a canvas shared with both of them."""
    text = (
        f":notebook: Your learning log for *{escape(topic)}* is a canvas I've shared with you both: "
        "find it under Canvases. Your check-ins and meetings will be added to it."
    )
    return message(text, [section(text)])


UNAVAILABLE_REASONS = {
    "missing_scope": "Flipside lacks the canvases:write and canvases:read scopes: reinstall it to add them",
    "not_allowed_token_type": "Flipside's token may not write canvases",
    "team_tier_cannot_create_channel_canvases": "this workspace's plan has no canvases",
    "free_teams_cannot_create_non_tabbed_canvases": "this workspace's plan has no canvases",
    "free_teams_cannot_edit_standalone_canvases": "this workspace's plan has no canvases",
}


def build_admin_notice(reason: str | None) -> list[Block]:
    """A small line in the admin's App Home while pairs get no learning-log canvas."""
    if not reason:
        return []
    why = UNAVAILABLE_REASONS.get(reason, "canvases are turned off or restricted for apps here")
    return [
        context(
            f":notebook: Learning-log canvases are off: {escape(why)}. Pairings work as before, "
            "without a shared canvas."
        )
    ]
