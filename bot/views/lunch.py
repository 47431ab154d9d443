"""Lunch 'n' Learn in Block Kit: the proposal modal, the channel announcement, lists, reminders,
feedback, the weekly line-up and demand-driven suggestions. Pure functions of their arguments."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)

from bot.ids import INPUT_ACTION, Action, Modal
from bot.ids import Block as BlockId
from bot.services.lunch.calendar import local_date_time
from bot.services.lunch.common import Outcome
from bot.services.lunch.consent import Answer
from bot.services.lunch.demand import SuggestionPick
from bot.services.lunch.feedback import NOTE_MAX, FeedbackSummary
from bot.services.lunch.proposing import (
    DEFAULT_DURATION,
    DESCRIPTION_MAX,
    DURATION_MAX,
    DURATION_MIN,
    LOCATION_MAX,
    SEATS_MAX,
    TITLE_MAX,
    ProposalError,
    ProposalField,
    is_link,
)
from bot.services.lunch.schedule import Lineup
from bot.services.lunch.seats import MySeat, SessionState
from bot.views.common import Message, button, context, inline_errors, message, modal, option, section
from bot.views.text import escape, human_list, plural, slack_date, truncate
from models import TOPIC_MAX_LENGTH, LunchSession, LunchStatus, Person

WHEN_FORMAT = "{date_long_pretty} at {time}"
HEADER_LIMIT = 150
MAX_NAMES = 20
DEFAULT_START = "12:30"

# The session menu (an overflow on the announcement and reminders): value "<verb>:<session id>".
MENU_ICS, MENU_EDIT, MENU_CANCEL = "ics", "edit", "cancel"


# ----------------------------------------------------------------------------- small pieces


def when(lunch: LunchSession) -> str:
    """The start in each reader's own timezone (Slack renders the token), and the length."""
    return f"{slack_date(lunch.starts_at, WHEN_FORMAT)} ({lunch.duration_minutes} min)"


def where(lunch: LunchSession) -> str:
    if not lunch.location:
        return "_to be announced_"
    if is_link(lunch.location):
        return f"<{escape(lunch.location)}|{escape(truncate(lunch.location, 60))}>"
    return escape(lunch.location)


def first_name(person: Person) -> str:
    name = (person.display_name or "").strip()
    if not name or name == person.slack_user_id or person.forgotten_at is not None:
        return "a colleague"
    return escape(name.split()[0])


def title_of(lunch: LunchSession) -> str:
    return f"*{escape(lunch.title)}*"


def seats_line(state: SessionState) -> str:
    lunch, going = state.lunch, len(state.attendees)
    waiting = (
        f" · {plural(len(state.waitlisted), 'person', 'people')} on the waitlist" if state.waitlisted else ""
    )
    if lunch.capacity is None:
        return f":busts_in_silhouette: *{going} going* · no seat limit"
    if state.seats_left == 0:
        return f":no_entry: *Full* ({going} of {lunch.capacity} seats taken){waiting}"
    return f":chair: *{going} of {lunch.capacity} seats taken* · {plural(state.seats_left or 0, 'seat')} left"


def names_line(people: Sequence[Person]) -> str:
    if not people:
        return "Be the first to sign up!"
    names = [first_name(person) for person in people[:MAX_NAMES]]
    if len(people) > MAX_NAMES:
        names.append(f"{len(people) - MAX_NAMES} more")
    return "Going: " + human_list(names)


def session_menu(lunch: LunchSession, *, manage: bool) -> OverflowMenuElement:
    options = [option("Add to my calendar (.ics)", f"{MENU_ICS}:{lunch.id}")]
    if manage:
        options += [
            option("Edit session (host)", f"{MENU_EDIT}:{lunch.id}"),
            option("Cancel session (host)", f"{MENU_CANCEL}:{lunch.id}"),
        ]
    return OverflowMenuElement(action_id=Action.LUNCH_HOST_MENU, options=options)


def parse_menu_value(value: str | None) -> tuple[str, int | None]:
    verb, _, raw_id = (value or "").partition(":")
    try:
        return verb, int(raw_id)
    except ValueError:
        return verb, None


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, HEADER_LIMIT), emoji=True))


def _details(lunch: LunchSession) -> SectionBlock:
    fields = [
        f"*When*\n{when(lunch)}",
        f"*Where*\n{where(lunch)}",
        f"*Host*\n<@{lunch.host.slack_user_id}>",
    ]
    if lunch.topic is not None:
        fields.append(f"*Topic*\n{escape(lunch.topic.display_name)}")
    return SectionBlock(fields=[MarkdownTextObject(text=text) for text in fields])


def build_notice(text: str) -> Message:
    return message(text, [section(text)])


# ----------------------------------------------------------------------------- the proposal modal


@dataclass(frozen=True)
class ModalValues:
    """What the proposal modal starts with (a suggestion or an edit prefills it)."""

    host_user_id: str
    tz: str
    title: str = ""
    topic: str = ""
    description: str = ""
    date: str | None = None
    time: str = DEFAULT_START
    duration: int = DEFAULT_DURATION
    location: str = ""
    seats: int | None = None

    @classmethod
    def of_session(cls, lunch: LunchSession, *, tz: str) -> ModalValues:
        day, clock = local_date_time(lunch.starts_at, tz)
        return cls(
            host_user_id=lunch.host.slack_user_id,
            tz=tz,
            title=lunch.title,
            topic=lunch.topic.display_name if lunch.topic else "",
            description=lunch.description or "",
            date=day,
            time=clock,
            duration=lunch.duration_minutes,
            location=lunch.location or "",
            seats=lunch.capacity,
        )


def _text_input(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    max_length: int,
    optional: bool = False,
    multiline: bool = False,
    placeholder: str | None = None,
    hint: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        optional=optional,
        element=PlainTextInputElement(
            action_id=INPUT_ACTION,
            initial_value=truncate(initial, max_length) or None,
            max_length=max_length,
            multiline=multiline,
            placeholder=PlainTextObject(text=placeholder) if placeholder else None,
        ),
        hint=PlainTextObject(text=hint) if hint else None,
    )


# The proposal modal's inputs, by the proposal field each one holds.
PROPOSAL_BLOCKS: dict[ProposalField, BlockId] = {
    ProposalField.TITLE: BlockId.TITLE,
    ProposalField.TOPIC: BlockId.TOPIC,
    ProposalField.DESCRIPTION: BlockId.DESCRIPTION,
    ProposalField.DATE: BlockId.DATE,
    ProposalField.TIME: BlockId.TIME,
    ProposalField.DURATION: BlockId.DURATION,
    ProposalField.LOCATION: BlockId.LOCATION,
    ProposalField.SEATS: BlockId.SEATS,
    ProposalField.HOST: BlockId.HOST,
}


def proposal_errors(error: ProposalError) -> dict[str, str]:
    """What is wrong with a proposal, as inline errors under the modal's inputs."""
    return inline_errors(error.errors, PROPOSAL_BLOCKS)


def build_proposal_modal(
    values: ModalValues,
    *,
    now: datetime,
    callback_id: str = Modal.LUNCH_PROPOSE,
    private_metadata: dict[str, Any] | None = None,
    submit: str = "Announce",
) -> dict[str, Any]:
    """Date and time pickers show the host's wall clock; the service stores the moment in UTC."""
    default_day = values.date or local_date_time(now + timedelta(days=7), values.tz)[0]
    blocks: list[Block] = [
        section(
            "Share something you know with a group of colleagues over lunch. "
            "I'll announce it in the programme channel and keep track of the seats."
        ),
        _text_input(
            BlockId.TITLE,
            "Title",
            initial=values.title,
            max_length=TITLE_MAX,
            placeholder="e.g. Canva in 30 minutes",
        ),
        _text_input(
            BlockId.TOPIC,
            "Topic",
            initial=values.topic,
            max_length=TOPIC_MAX_LENGTH,
            optional=True,
            placeholder="e.g. Canva",
            hint="The same topics people ask for with /teachme: they'll hear about your session.",
        ),
        _text_input(
            BlockId.DESCRIPTION,
            "What will people learn?",
            initial=values.description,
            max_length=DESCRIPTION_MAX,
            optional=True,
            multiline=True,
        ),
        InputBlock(
            block_id=BlockId.HOST,
            label=PlainTextObject(text="Host"),
            element=UserSelectElement(action_id=INPUT_ACTION, initial_user=values.host_user_id),
        ),
        InputBlock(
            block_id=BlockId.DATE,
            label=PlainTextObject(text="Date"),
            element=DatePickerElement(action_id=INPUT_ACTION, initial_date=default_day),
        ),
        InputBlock(
            block_id=BlockId.TIME,
            label=PlainTextObject(text="Start time"),
            element=TimePickerElement(action_id=INPUT_ACTION, initial_time=values.time, timezone=values.tz),
            hint=PlainTextObject(text=f"In {values.tz}. Everyone sees it in their own timezone."),
        ),
        InputBlock(
            block_id=BlockId.DURATION,
            label=PlainTextObject(text="Length (minutes)"),
            element=NumberInputElement(
                action_id=INPUT_ACTION,
                is_decimal_allowed=False,
                initial_value=str(values.duration),
                min_value=str(DURATION_MIN),
                max_value=str(DURATION_MAX),
            ),
        ),
        _text_input(
            BlockId.LOCATION,
            "Where",
            initial=values.location,
            max_length=LOCATION_MAX,
            placeholder="A room, or a video call link (https://…)",
        ),
        InputBlock(
            block_id=BlockId.SEATS,
            label=PlainTextObject(text="Seats"),
            optional=True,
            element=NumberInputElement(
                action_id=INPUT_ACTION,
                is_decimal_allowed=False,
                initial_value=str(values.seats) if values.seats else None,
                min_value="1",
                max_value=str(SEATS_MAX),
                placeholder=PlainTextObject(text="No limit"),
            ),
            hint=PlainTextObject(text="When it's full, people join a waitlist and move up as seats free."),
        ),
    ]
    metadata = {"tz": values.tz, **(private_metadata or {})}
    return modal(
        callback_id=callback_id,
        title="Lunch 'n' Learn",
        blocks=blocks,
        submit=submit,
        private_metadata=json.dumps(metadata),
    )


def build_edit_modal(lunch: LunchSession, *, tz: str, now: datetime) -> dict[str, Any]:
    return build_proposal_modal(
        ModalValues.of_session(lunch, tz=tz),
        now=now,
        callback_id=Modal.LUNCH_EDIT,
        private_metadata={"session_id": lunch.id, "action": MENU_EDIT},
        submit="Save",
    )


def build_cancel_modal(lunch: LunchSession) -> dict[str, Any]:
    """Confirming a cancellation, with an optional word for the people who signed up."""
    blocks: list[Block] = [
        section(f"Cancel {title_of(lunch)} on {when(lunch)}? Everyone signed up gets a DM."),
        _text_input(
            BlockId.REASON,
            "A word for attendees (optional)",
            max_length=500,
            optional=True,
            multiline=True,
            placeholder="e.g. Sorry, I'm off sick. I'll propose a new date soon.",
        ),
    ]
    return modal(
        callback_id=Modal.LUNCH_EDIT,
        title="Cancel session",
        blocks=blocks,
        submit="Cancel session",
        close="Keep it",
        private_metadata=json.dumps({"session_id": lunch.id, "action": MENU_CANCEL}),
    )


# ----------------------------------------------------------------------------- the announcement


def build_announcement(state: SessionState) -> Message:
    lunch = state.lunch
    if lunch.status == LunchStatus.CANCELLED:
        text = f":x: Cancelled: Lunch 'n' Learn {title_of(lunch)}"
        return message(
            text,
            [
                _header(":x: Cancelled: Lunch 'n' Learn"),
                section(
                    f"{title_of(lunch)}\n~{when(lunch)}~\n"
                    "This session was cancelled. Thanks to everyone who signed up."
                ),
            ],
        )
    # The title goes in a mrkdwn section, escaped: header blocks are plain text, which Slack shows
    # as typed, and the title is the one field everyone in the channel reads.
    about = title_of(lunch) + (f"\n{escape(lunch.description)}" if lunch.description else "")
    blocks: list[Block] = [_header(":bento: Lunch 'n' Learn"), section(about)]
    blocks += [
        _details(lunch),
        section(f"{seats_line(state)}\n{names_line(state.attendees)}"),
        ActionsBlock(
            elements=[
                button(
                    "Join the waitlist" if state.seats_left == 0 else "Sign up",
                    Action.LUNCH_SIGN_UP,
                    str(lunch.id),
                    style="primary",
                ),
                button("Cancel my seat", Action.LUNCH_CANCEL_SIGNUP, str(lunch.id)),
                session_menu(lunch, manage=True),
            ]
        ),
        context("Times show in your own timezone. Propose your own session with `/lunchnlearn`."),
    ]
    text = f":bento: Lunch 'n' Learn: {title_of(lunch)}, {slack_date(lunch.starts_at, WHEN_FORMAT)}"
    return message(text, blocks)


def outcome_text(outcome: Outcome, lunch: LunchSession | None, *, position: int | None = None) -> str:
    title = title_of(lunch) if lunch is not None else "that session"
    texts = {
        Outcome.SIGNED_UP: f":white_check_mark: You're in: {title}"
        + (f", {when(lunch)}. I'll remind you before it starts." if lunch else "."),
        Outcome.WAITLISTED: f":hourglass_flowing_sand: {title} is full, so you're #{position or 1} on the "
        "waitlist. If a seat frees up it's yours, and I'll DM you.",
        Outcome.ALREADY_ATTENDING: f"You're already signed up for {title}; nothing changed.",
        Outcome.ALREADY_WAITLISTED: f"You're already on the waitlist for {title} (#{position or 1}); "
        "nothing changed.",
        Outcome.HOSTING: f":microphone: You're hosting {title}, so your place is saved.",
        Outcome.LEFT: f"Done: your seat at {title} is free for someone else. Thanks for letting us know!",
        Outcome.LEFT_WAITLIST: f"Done: you're off the waitlist for {title}.",
        Outcome.NOT_SIGNED_UP: f"You weren't signed up for {title}, so there was nothing to cancel.",
        Outcome.SESSION_CANCELLED: f"{title} was cancelled, so it can't take sign-ups or changes.",
        Outcome.SESSION_STARTED: f"{title} has already started, so sign-ups and changes are closed.",
        Outcome.NOT_FOUND: "I couldn't find that session any more.",
        Outcome.NOT_ALLOWED: f"Only the host of {title} or a programme admin can change it.",
        Outcome.CANCELLED: f"Cancelled {title}. Everyone who signed up gets a DM.",
        Outcome.RATED: ":pray: Thanks for the feedback! The host will see it.",
        Outcome.NOT_ATTENDEE: f"Only people who were signed up for {title} can rate it.",
        Outcome.NOT_OVER: f"{title} hasn't happened yet: rate it afterwards.",
    }
    return texts.get(outcome, ":white_check_mark: Saved.")


def build_edit_saved(changes: Sequence[str], *, told: int) -> Message:
    if not changes:
        return build_notice("Nothing changed.")
    text = f":pencil2: Saved ({human_list(list(changes))} changed)."
    if told:
        text += f" I'm letting {plural(told, 'attendee')} know."
    return build_notice(text)


# ----------------------------------------------------------------------------- /lunchnlearn list


def _seat_marker(seat: MySeat) -> str:
    if seat.hosting:
        return ":microphone: You're hosting"
    if seat.attending:
        return ":white_check_mark: You're going"
    if seat.waitlist_position:
        return f":hourglass_flowing_sand: You're #{seat.waitlist_position} on the waitlist"
    return ""


def _summary_line(summary: FeedbackSummary) -> str:
    if not summary.count:
        return "no ratings yet"
    return f":star: {summary.average} average from {plural(summary.count, 'rating')}"


def build_list(
    seats: Sequence[MySeat], *, hosted: Sequence[tuple[LunchSession, FeedbackSummary]] = ()
) -> Message:
    blocks: list[Block] = [section("*Upcoming Lunch 'n' Learns*")]
    if not seats:
        blocks.append(section("Nothing planned yet. Propose one with `/lunchnlearn`!"))
    for seat in seats:
        lunch = seat.state.lunch
        marker = _seat_marker(seat)
        lines = [
            f"{title_of(lunch)}: {when(lunch)}",
            f"{where(lunch)} · hosted by <@{lunch.host.slack_user_id}> · {_short_seats(seat.state)}",
        ]
        if marker:
            lines.append(marker)
        accessory = None
        if seat.attending or seat.waitlist_position:
            accessory = button("Cancel my seat", Action.LUNCH_CANCEL_SIGNUP, str(lunch.id))
        elif not seat.hosting:
            accessory = button("Sign up", Action.LUNCH_SIGN_UP, str(lunch.id), style="primary")
        blocks.append(section("\n".join(lines), accessory=accessory))
    if hosted:
        blocks += [DividerBlock(), section("*Feedback on your past sessions*")]
        for lunch, summary in hosted:
            notes = "".join(f"\n> {escape(truncate(note, 300))}" for note in summary.notes)
            blocks.append(
                section(f"{title_of(lunch)} ({slack_date(lunch.starts_at)}): {_summary_line(summary)}{notes}")
            )
    blocks.append(context("Times show in your own timezone. `/lunchnlearn` proposes a new session."))
    mine = sum(1 for seat in seats if seat.attending or seat.waitlist_position or seat.hosting)
    text = f"{plural(len(seats), 'upcoming Lunch n Learn')}, {mine} with you in it."
    return message(text, blocks)


def _short_seats(state: SessionState) -> str:
    if state.lunch.capacity is None:
        return f"{len(state.attendees)} going"
    if state.seats_left == 0:
        return f"full ({len(state.waitlisted)} waiting)"
    return f"{plural(state.seats_left or 0, 'seat')} left"


def build_help() -> Message:
    text = (
        "*Lunch 'n' Learn*\n"
        "• `/lunchnlearn`: propose a session (title, topic, time, place, seats)\n"
        "• `/lunchnlearn list`: what's coming up, with your sign-ups marked, and feedback on sessions "
        "you hosted\n"
        "• `/lunchnlearn announce`: post your sessions that didn't reach the channel yet\n"
        "Hosts edit or cancel a session from the ⋯ menu on its announcement."
    )
    return build_notice(text)


# ----------------------------------------------------------------------------- channel problems


def build_no_channel() -> Message:
    return build_notice(
        ":warning: Lunch 'n' Learns are announced in the programme channel, and none is set yet. "
        "Ask a Flipside admin to choose one: in Flipside's App Home, *Settings* → *Programme channel* "
        "(or `PROGRAMME_CHANNEL_ID` in the app's configuration). Then try `/lunchnlearn` again."
    )


def build_post_problem(lunch: LunchSession, *, channel_id: str | None, error: str | None) -> Message:
    """Why the announcement didn't appear, and what the proposer can do about it."""
    where_to = f"<#{channel_id}>" if channel_id else "the programme channel"
    saved = f"Your session {title_of(lunch)} is saved, but I couldn't post it in {where_to}"
    retry = "then run `/lunchnlearn announce` to post it."
    if channel_id is None:
        return build_notice(
            f":warning: {saved}: no programme channel is set. Ask a Flipside admin to "
            f"choose one in App Home → *Settings*, {retry}"
        )
    if error in ("not_in_channel", "channel_not_found", "method_not_supported_for_channel_type"):
        return build_notice(
            f":lock: {saved}: it's a private channel and I'm not in it. Someone in {where_to} can type "
            f"`/invite @Flipside` there; {retry}"
        )
    if error == "is_archived":
        return build_notice(
            f":file_cabinet: {saved}: the channel is archived. Ask a Flipside admin to choose another "
            f"programme channel (App Home → *Settings*), {retry}"
        )
    if error in ("restricted_action", "not_allowed_token_type", "missing_scope", "ekm_access_denied"):
        return build_notice(
            f":no_entry: {saved}: Slack doesn't let me post there (`{escape(error)}`). Ask a workspace admin "
            f"to allow Flipside to post in {where_to}, {retry}"
        )
    if error:
        return build_notice(
            f":warning: {saved} (Slack said `{escape(error)}`). Try `/lunchnlearn announce` in a minute."
        )
    return build_notice(
        f":hourglass: {title_of(lunch)} is saved; Slack is slow right now, so the announcement will appear "
        f"in {where_to} within a few minutes."
    )


def build_calendar_link(google_url: str) -> Message:
    return build_notice(f":calendar: <{escape(google_url)}|Add it to Google Calendar>")


def build_announced(lunch: LunchSession, *, channel_id: str, told: int) -> Message:
    text = f":tada: {title_of(lunch)} is announced in <#{channel_id}>."
    if told and lunch.topic is not None:
        text += f" I told {plural(told, 'colleague')} who want to learn {escape(lunch.topic.display_name)}."
    return build_notice(text)


# ----------------------------------------------------------------------------- hosts consent


def build_host_request(lunch: LunchSession, *, proposer: Person | None, expires_at: datetime) -> Message:
    """To the person named as host: nothing is announced until they accept."""
    who = f"<@{proposer.slack_user_id}>" if proposer is not None else "A colleague"
    text = f":raising_hand: {who} would like you to host a Lunch 'n' Learn: {title_of(lunch)}, {when(lunch)}."
    about = f"\n>{escape(truncate(lunch.description, 500))}" if lunch.description else ""
    return message(
        text,
        [
            section(f"{text}{about}\n*Where:* {where(lunch)}"),
            ActionsBlock(
                elements=[
                    button("Accept and announce", Action.LUNCH_HOST_ACCEPT, str(lunch.id), style="primary"),
                    button("Decline", Action.LUNCH_HOST_DECLINE, str(lunch.id)),
                ]
            ),
            context(
                "Nothing is announced until you accept. If you don't answer by "
                f"{slack_date(expires_at, WHEN_FORMAT)}, the request expires and nothing is posted."
            ),
        ],
    )


def build_host_asked(lunch: LunchSession, *, channel_id: str | None) -> Message:
    """To the proposer, right after proposing with someone else as host."""
    where_to = f"<#{channel_id}>" if channel_id else "the programme channel"
    return build_notice(
        f":envelope_with_arrow: I've asked <@{lunch.host.slack_user_id}> to host {title_of(lunch)}. "
        f"I'll announce it in {where_to} once they accept, and let you know either way."
    )


def build_host_answer_notice(lunch: LunchSession, answer: Answer, *, channel_id: str | None) -> Message:
    """To the proposer: what became of their request to the host."""
    host, title = f"<@{lunch.host.slack_user_id}>", title_of(lunch)
    if answer == Answer.ACCEPTED:
        text = f":tada: {host} agreed to host {title}" + (
            f", so it's announced in <#{channel_id}>."
            if channel_id
            else ". "
            "No programme channel is set, so it isn't announced yet: ask a Flipside admin to choose one, "
            "then run `/lunchnlearn announce`."
        )
    elif answer == Answer.DECLINED:
        text = (
            f":no_entry_sign: {host} can't host {title}, so I didn't announce it and the session is "
            "cancelled. Propose it again with another host with `/lunchnlearn`."
        )
    else:
        text = (
            f":hourglass: {host} didn't answer in time, so {title} was never announced and the session is "
            "cancelled. Propose it again with `/lunchnlearn`."
        )
    return build_notice(text)


def build_host_reply(answer: Answer, lunch: LunchSession | None, *, posted: Message | None = None) -> Message:
    """To the host after a click on Accept or Decline; `posted` says how the announcement went."""
    title = title_of(lunch) if lunch is not None else "that session"
    proposer = "the person who proposed it"
    texts = {
        Answer.ACCEPTED: f":white_check_mark: Thanks! You're hosting {title}"
        + (f", {when(lunch)}." if lunch is not None else ".")
        + (f"\n{posted.text}" if posted is not None else ""),
        Answer.DECLINED: f"Declined: {title} won't be announced. I've let {proposer} know.",
        Answer.ALREADY_ACCEPTED: f"You've already accepted {title}; nothing changed. "
        "To cancel it, use the session's menu (⋯) on its announcement.",
        Answer.ALREADY_DECLINED: f"You've already declined {title}; nothing changed.",
        Answer.EXPIRED: f"This request has expired: {title} was never announced, and nothing changed.",
        Answer.NOT_YOURS: f"Only the person asked to host {title} can answer this; nothing changed.",
        Answer.NOT_FOUND: "I couldn't find that session any more.",
    }
    return build_notice(texts[answer])


# ----------------------------------------------------------------------------- DMs


def build_wish_notice(state: SessionState) -> Message:
    lunch = state.lunch
    topic = escape(lunch.topic.display_name) if lunch.topic else "it"
    text = (
        f":seedling: You wanted to learn *{topic}*: <@{lunch.host.slack_user_id}> is running a "
        f"Lunch 'n' Learn on it, {title_of(lunch)}, {when(lunch)} at {where(lunch)}."
    )
    return message(
        text,
        [
            section(text, accessory=button("Sign up", Action.LUNCH_SIGN_UP, str(lunch.id), style="primary")),
            context(seats_line(state)),
        ],
    )


def build_edit_notice(lunch: LunchSession, changes: Sequence[str]) -> Message:
    text = f":pencil2: {title_of(lunch)} has changed ({human_list(list(changes))})."
    return message(
        text,
        [
            section(f"{text}\n*When:* {when(lunch)}\n*Where:* {where(lunch)}"),
            ActionsBlock(
                elements=[
                    button("Cancel my seat", Action.LUNCH_CANCEL_SIGNUP, str(lunch.id)),
                    session_menu(lunch, manage=False),
                ]
            ),
        ],
    )


def build_cancel_notice(lunch: LunchSession, *, reason: str = "") -> Message:
    text = f":x: {title_of(lunch)} on {slack_date(lunch.starts_at, WHEN_FORMAT)} is cancelled."
    body = text + (f"\n>{escape(truncate(reason, 500))}" if reason.strip() else "")
    return message(text, [section(body), context("Nothing to do on your side: your seat is released.")])


def build_promoted_notice(lunch: LunchSession) -> Message:
    text = f":tada: A seat freed up: you're now going to {title_of(lunch)}, {when(lunch)}."
    return message(
        text,
        [
            section(f"{text}\n*Where:* {where(lunch)}"),
            ActionsBlock(
                elements=[
                    button("Can't make it: free the seat", Action.LUNCH_CANCEL_SIGNUP, str(lunch.id)),
                    session_menu(lunch, manage=False),
                ]
            ),
        ],
    )


def build_reminder(lunch: LunchSession, *, person: Person, minutes: int, calendar_url: str) -> Message:
    hosting = lunch.host_id == person.id
    lead = f":alarm_clock: {'You host' if hosting else 'Reminder:'} {title_of(lunch)} "
    text = lead + f"starts {slack_date(lunch.starts_at, WHEN_FORMAT)}."
    join = f"\n:link: Join: {where(lunch)}" if is_link(lunch.location) else f"\n*Where:* {where(lunch)}"
    elements: list[Any] = []
    if not hosting:
        elements.append(button("Can't make it: free my seat", Action.LUNCH_CANCEL_SIGNUP, str(lunch.id)))
    elements.append(session_menu(lunch, manage=False))
    return message(
        text,
        [
            section(text + join + f"\n<{escape(calendar_url)}|Add to Google Calendar>"),
            ActionsBlock(elements=elements),
        ],
    )


def rating_value(lunch: LunchSession, rating: int) -> str:
    return f"{lunch.id}:{rating}"


def parse_rating_value(value: str | None) -> tuple[int | None, int | None]:
    session_part, _, rating_part = (value or "").partition(":")
    try:
        return int(session_part), int(rating_part)
    except ValueError:
        return None, None


RATING_LABELS = {5: "5: loved it", 4: "4: good", 3: "3: okay", 2: "2: not great", 1: "1: not for me"}


def build_feedback_ask(lunch: LunchSession) -> Message:
    text = f":speech_balloon: How was {title_of(lunch)}? One click is enough."
    options = [option(RATING_LABELS[n], rating_value(lunch, n)) for n in sorted(RATING_LABELS, reverse=True)]
    return message(
        text,
        [
            section(text),
            ActionsBlock(
                elements=[RadioButtonsElement(action_id=Action.LUNCH_FEEDBACK_RATE, options=options)]
            ),
            context("Your rating goes to the host. You can add a note after you pick."),
        ],
    )


def build_feedback_modal(lunch: LunchSession, *, rating: int) -> dict[str, Any]:
    options = [option(RATING_LABELS[n], str(n)) for n in sorted(RATING_LABELS, reverse=True)]
    chosen = next((o for o in options if o.value == str(rating)), None)
    blocks: list[Block] = [
        section(f"Thanks! Anything the host of {title_of(lunch)} should know?"),
        InputBlock(
            block_id=BlockId.RATING,
            label=PlainTextObject(text="Your rating"),
            element=StaticSelectElement(action_id=INPUT_ACTION, options=options, initial_option=chosen),
        ),
        _text_input(BlockId.NOTE, "A note (optional)", max_length=NOTE_MAX, optional=True, multiline=True),
    ]
    return modal(
        callback_id=Modal.LUNCH_FEEDBACK,
        title="Lunch 'n' Learn",
        blocks=blocks,
        submit="Send",
        close="Done",
        private_metadata=json.dumps({"session_id": lunch.id}),
    )


def build_host_summary(lunch: LunchSession, summary: FeedbackSummary) -> Message:
    text = f":bar_chart: Feedback on {title_of(lunch)}: {_summary_line(summary)}."
    spread = " · ".join(
        f"{rating}★ {summary.by_rating[rating]}" for rating in sorted(summary.by_rating, reverse=True)
    )
    notes = "\n".join(f"> {escape(truncate(note, 300))}" for note in summary.notes)
    blocks: list[Block] = [section(text), context(spread)]
    if notes:
        blocks.append(section(f"*What people said*\n{notes}"))
    blocks.append(context("`/lunchnlearn list` shows this again. Thank you for teaching!"))
    return message(text, blocks)


def build_suggestion(pick: SuggestionPick) -> Message:
    topic = escape(pick.topic.display_name)
    text = (
        f":bulb: {plural(pick.wishers, 'colleague')} want to learn *{topic}*, and you can teach it. "
        "How about a Lunch 'n' Learn?"
    )
    return message(
        text,
        [
            section(text),
            ActionsBlock(
                elements=[
                    button(
                        "Propose a session",
                        Action.LUNCH_PROPOSE_FROM_SUGGESTION,
                        str(pick.suggestion.id),
                        style="primary",
                    )
                ]
            ),
            context(
                "Thirty minutes and a screen share is plenty. I won't suggest this topic again for a month."
            ),
        ],
    )


# ----------------------------------------------------------------------------- the weekly line-up


LINEUP_MAX_SESSIONS = 40


def build_lineup(lineup: Lineup) -> Message:
    blocks: list[Block] = [_header(":calendar: This week's Lunch 'n' Learns")]
    if not lineup.sessions:
        blocks.append(
            section("Nothing planned this week yet. Know something others want to learn? `/lunchnlearn`")
        )
    # A message holds 50 blocks: a very busy week lists the first ones and says how many more.
    shown = lineup.sessions[:LINEUP_MAX_SESSIONS]
    for state in shown:
        lunch = state.lunch
        accessory = None
        if state.seats_left != 0:
            accessory = button("Sign up", Action.LUNCH_SIGN_UP, str(lunch.id), style="primary")
        blocks.append(
            section(
                f"{title_of(lunch)}: {when(lunch)}\n{where(lunch)} · hosted by <@{lunch.host.slack_user_id}>"
                f" · {_short_seats(state)}",
                accessory=accessory,
            )
        )
    if len(lineup.sessions) > len(shown):
        more = len(lineup.sessions) - len(shown)
        blocks.append(context(f"…and {plural(more, 'more session')}: `/lunchnlearn list` shows them all."))
    if lineup.demand:
        lines = [
            f"• {escape(demand.topic.display_name)}: {plural(demand.wishers, 'person', 'people')} "
            + ("want to learn it" if demand.wishers != 1 else "wants to learn it")
            + (f", {demand.teachers} can teach it" if demand.teachers else ", nobody teaches it yet")
            for demand in lineup.demand
        ]
        blocks += [DividerBlock(), section("*Topics in demand*\n" + "\n".join(lines))]
    blocks.append(context("Times show in your own timezone. Propose a session with `/lunchnlearn`."))
    text = f":calendar: This week's Lunch 'n' Learns: {plural(len(lineup.sessions), 'session')}"
    return message(text, blocks)
