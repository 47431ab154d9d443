"""The admin section of App Home, and the admin's modals: settings, round preview and run, forget."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)

from bot.config import WEEKDAYS
from bot.ids import INPUT_ACTION, Action, Modal
from bot.ids import Block as BlockId
from bot.services.admin import PartnerLeft, SettingsError, SettingsField, reminder_minutes
from bot.services.figures import Period, ProgrammeFigures, RatedGroup, Row, TopicDemand
from bot.views.common import Message, button, context, inline_errors, message, modal, option, section
from bot.views.home import ShowAll, build_list_modal, pack_lines
from bot.views.report import REASON_LABELS, rating, with_trend
from bot.views.text import escape, plural, slack_date
from models import ProgrammeSettings

ADMIN_LIST_LIMIT = 5
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PREVIEW_BLOCKS = 90
SUMMARY_DESTINATIONS = (("admins", "A DM to each admin"), ("channel", "The programme channel"))


def _period_select(current: Period) -> StaticSelectElement:
    options = [option(period.label, period.value) for period in Period]
    return StaticSelectElement(
        action_id=Action.ADMIN_PERIOD,
        options=options,
        initial_option=next(o for o in options if o.value == current.value),
    )


def _field(row: Row) -> MarkdownTextObject:
    return MarkdownTextObject(text=f"*{row.label}*\n{escape(with_trend(row))}")


def _topic_line(index: int, topic: TopicDemand) -> str:
    wishes = plural(topic.wishes, "wish", "wishes")
    return f"{index}. {escape(topic.topic)}: {wishes}, {topic.teachers} can teach"


def _rated_line(group: RatedGroup) -> str:
    return f"• {escape(group.name)}: {rating(group.rating)} ({plural(group.pairs, 'pair')})"


def _slack_span(figures: ProgrammeFigures) -> str:
    """The period in each reader's own time (the terminal report says UTC: views/report.span)."""
    window = figures.current.window
    until = slack_date(window.until)
    if window.since is None:
        return f"up to {until}"
    return f"{slack_date(window.since, '{date_short}')} to {until}"


def build_admin_section(figures: ProgrammeFigures, settings: ProgrammeSettings) -> list[Block]:
    """The headline figures of the chosen period with their trend, the lists behind them, and the
    admin's controls."""
    current, details = figures.current, figures.details
    period = figures.period.value
    reasons = [f"• {REASON_LABELS[reason]}: {count}" for reason, count in details.open_by_reason]
    open_topics = [_topic_line(i, t) for i, t in enumerate(details.top_open_topics, 1)]
    new_topics = [_topic_line(i, t) for i, t in enumerate(details.top_new_topics, 1)]
    best = [_rated_line(g) for g in details.best_topics + details.best_departments]
    blocks: list[Block] = [
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text="Programme admin")),
        section(
            f"*Programme figures* ({_slack_span(figures)}; ▲▼ against {figures.period.before_label})",
            accessory=_period_select(figures.period),
        ),
        SectionBlock(fields=[_field(row) for row in figures.headline()]),
        section(
            f"*Open wishes: {current.open_wishes}*, by why they are still open\n"
            + ("\n".join(reasons) or "_None open._")
        ),
        section(
            "*Most requested topics* (open wishes)\n"
            + ("\n".join(open_topics) or "_No open wishes._")
            + "\n*Newly requested in the period*\n"
            + ("\n".join(new_topics) or "_No new wishes._")
        ),
        section(
            "*Best-rated pairs* (pulse), by topic and department\n"
            + ("\n".join(best) or "_Not enough answers yet._")
        ),
    ]
    buttons = [button("All figures", Action.SHOW_ALL, f"{ShowAll.FIGURES.value}:{period}")]
    if details.unteachable_topics:
        buttons.append(
            button(
                f"Topics nobody teaches ({len(details.unteachable_topics)})",
                Action.SHOW_ALL,
                f"{ShowAll.UNMET.value}:{period}",
            )
        )
    blocks += [
        ActionsBlock(elements=buttons),
        context(settings_summary(settings)),
        ActionsBlock(
            elements=[
                button("Settings", Action.ADMIN_OPEN_SETTINGS),
                button("Preview next round", Action.ADMIN_PREVIEW_ROUND),
                button("Run round now", Action.ADMIN_RUN_ROUND, style="primary"),
                button("Export CSV to my DM", Action.ADMIN_EXPORT),
                button("Forget a person", Action.ADMIN_FORGET_PERSON, style="danger"),
            ]
        ),
    ]
    return blocks


def settings_summary(settings: ProgrammeSettings) -> str:
    channel = f"<#{settings.channel_id}>" if settings.channel_id else "no programme channel"
    minutes = ", ".join(str(m) for m in reminder_minutes(settings)) or "none"
    summary_to = "the programme channel" if settings.summary_destination == "channel" else "each admin's DM"
    return (
        f"{channel} · rounds on {DAY_NAMES[settings.matching_weekday]}s at {settings.matching_time} "
        f"{escape(settings.matching_timezone)} · strict reverse {'on' if settings.strict_reverse else 'off'} "
        f"· proposals expire after {plural(settings.proposal_expiry_days, 'day')} · pairings last "
        f"{plural(settings.pairing_max_sessions, 'session')} or {plural(settings.pairing_max_days, 'day')} "
        f"· Lunch 'n' Learn reminders {minutes} min before, suggested at "
        f"{plural(settings.lnl_demand_threshold, 'wish', 'wishes')} · monthly summary to {summary_to}"
    )


def build_admin_list(kind: ShowAll, figures: ProgrammeFigures) -> dict[str, Any]:
    if kind == ShowAll.UNMET:
        return build_list_modal(
            "Topics nobody teaches",
            [
                f"• {escape(t.topic)} ({plural(t.wishes, 'open wish', 'open wishes')})"
                for t in figures.details.unteachable_topics
            ],
            intro="Open wishes on topics no active colleague teaches: ideas for a Lunch 'n' Learn.",
        )
    return build_list_modal(
        "All figures",
        [f"• *{row.label}*: {escape(with_trend(row))}" for row in figures.rows()],
        intro=f"{figures.period.label} ({_slack_span(figures)}), against {figures.period.before_label}. "
        "docs/figures.md defines each one.",
    )


# --- modals -----------------------------------------------------------------------------------


def _number(block_id: str, label: str, value: int, low: int, high: int, hint: str) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=NumberInputElement(
            action_id=INPUT_ACTION,
            is_decimal_allowed=False,
            initial_value=str(value),
            min_value=str(low),
            max_value=str(high),
        ),
        hint=PlainTextObject(text=hint),
    )


def _text(block_id: str, label: str, value: str, hint: str) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(action_id=INPUT_ACTION, initial_value=value, max_length=100),
        hint=PlainTextObject(text=hint),
    )


# The settings modal's inputs, by the setting each one holds.
SETTINGS_BLOCKS: dict[SettingsField, BlockId] = {
    SettingsField.CHANNEL: BlockId.CHANNEL,
    SettingsField.MATCHING_DAY: BlockId.MATCHING_DAY,
    SettingsField.MATCHING_TIME: BlockId.MATCHING_TIME,
    SettingsField.MATCHING_TIMEZONE: BlockId.MATCHING_TIMEZONE,
    SettingsField.STRICT_REVERSE: BlockId.STRICT_REVERSE,
    SettingsField.PROPOSAL_EXPIRY: BlockId.PROPOSAL_EXPIRY,
    SettingsField.PAIRING_LENGTH: BlockId.PAIRING_LENGTH,
    SettingsField.REMINDERS: BlockId.REMINDERS,
    SettingsField.DEMAND_THRESHOLD: BlockId.DEMAND_THRESHOLD,
    SettingsField.REPEAT_WINDOW: BlockId.REPEAT_WINDOW,
    SettingsField.SUMMARY_TO: BlockId.SUMMARY_TO,
}


def settings_errors(error: SettingsError) -> dict[str, str]:
    """What is wrong with the settings, as inline errors under the modal's inputs."""
    return inline_errors(error.errors, SETTINGS_BLOCKS)


def build_settings_modal(settings: ProgrammeSettings) -> dict[str, Any]:
    days = [option(name, code) for name, code in zip(DAY_NAMES, WEEKDAYS, strict=True)]
    strict = option("Strict reverse: only pair juniors teaching seniors", "strict")
    destinations = [option(label, value) for value, label in SUMMARY_DESTINATIONS]
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.CHANNEL,
            label=PlainTextObject(text="Programme channel"),
            optional=True,
            # Private channels too (the outbox's history check reads them with groups:history), but
            # not channels shared with other organisations: announcements stay in the company.
            element=ConversationSelectElement(
                action_id=INPUT_ACTION,
                initial_conversation=settings.channel_id,
                filter=ConversationFilter(
                    include=["public", "private"],
                    exclude_bot_users=True,
                    exclude_external_shared_channels=True,
                ),
            ),
            hint=PlainTextObject(
                text="Where Lunch 'n' Learns are announced. For a private channel, type "
                "/invite @Flipside in it first."
            ),
        ),
        InputBlock(
            block_id=BlockId.MATCHING_DAY,
            label=PlainTextObject(text="Matching day"),
            element=StaticSelectElement(
                action_id=INPUT_ACTION, options=days, initial_option=days[settings.matching_weekday]
            ),
        ),
        InputBlock(
            block_id=BlockId.MATCHING_TIME,
            label=PlainTextObject(text="Matching time"),
            element=TimePickerElement(action_id=INPUT_ACTION, initial_time=settings.matching_time),
        ),
        _text(
            BlockId.MATCHING_TIMEZONE,
            "Timezone of the matching time",
            settings.matching_timezone,
            "A timezone name such as Europe/London or America/New_York.",
        ),
        InputBlock(
            block_id=BlockId.STRICT_REVERSE,
            label=PlainTextObject(text="Pairing mode"),
            optional=True,
            element=CheckboxesElement(
                action_id=INPUT_ACTION,
                options=[strict],
                initial_options=[strict] if settings.strict_reverse else None,
            ),
        ),
        _number(
            BlockId.PROPOSAL_EXPIRY,
            "Proposals expire after (days)",
            settings.proposal_expiry_days,
            1,
            60,
            "Unanswered proposals lapse; a reminder goes halfway.",
        ),
        _text(
            BlockId.PAIRING_LENGTH,
            "Pairing length: sessions / days",
            f"{settings.pairing_max_sessions} / {settings.pairing_max_days}",
            "A pairing ends after this many sessions or days, whichever comes first.",
        ),
        _text(
            BlockId.REMINDERS,
            "Lunch 'n' Learn reminders (minutes before)",
            settings.lnl_reminder_minutes.replace(",", ", "),
            "Comma-separated: 1440 is a day before, 15 a quarter of an hour.",
        ),
        _number(
            BlockId.DEMAND_THRESHOLD,
            "Suggest a Lunch 'n' Learn at (open wishes)",
            settings.lnl_demand_threshold,
            1,
            1000,
            "When this many people wish for one topic, a teacher of it is invited to host.",
        ),
        _number(
            BlockId.REPEAT_WINDOW,
            "Don't pair the same two people again for (weeks)",
            settings.repeat_window_weeks,
            0,
            520,
            "On any topic, unless the learner asks for that teacher by name. 0 turns it off.",
        ),
        InputBlock(
            block_id=BlockId.SUMMARY_TO,
            label=PlainTextObject(text="Monthly summary goes to"),
            element=StaticSelectElement(
                action_id=INPUT_ACTION,
                options=destinations,
                initial_option=next(
                    (o for o in destinations if o.value == settings.summary_destination), destinations[0]
                ),
            ),
        ),
    ]
    return modal(callback_id=Modal.ADMIN_SETTINGS, title="Programme settings", blocks=blocks)


def build_wait_modal(title: str) -> dict[str, Any]:
    return modal(
        callback_id=Modal.SHOW_ALL,
        title=title,
        blocks=[section(":hourglass_flowing_sand: Working it out…")],
        submit=None,
        close="Close",
    )


def build_preview_modal(text: str) -> dict[str, Any]:
    """The dry run (plain text from the matching service) as escaped, monospaced sections."""
    limit = 3000 - 8  # room for the ``` fences
    chunks = pack_lines(escape(text).splitlines(), limit=limit) or ["(nothing to preview)"]
    blocks: list[Block] = [
        context("A dry run: nothing is stored or sent. The real round may differ if people change things.")
    ]
    blocks += [section(f"```{chunk}```") for chunk in chunks[:PREVIEW_BLOCKS]]
    if len(chunks) > PREVIEW_BLOCKS:
        blocks.append(context("The preview goes on; `python -m bot match --dry-run` prints all of it."))
    return modal(
        callback_id=Modal.SHOW_ALL, title="Next round preview", blocks=blocks, submit=None, close="Close"
    )


def build_run_confirm_modal() -> dict[str, Any]:
    blocks: list[Block] = [
        section(
            "*Run a matching round now?*\nEveryone matched gets a proposal DM right away. "
            "This is an extra round: the weekly one still runs at its usual time."
        )
    ]
    return modal(callback_id=Modal.ADMIN_RUN_CONFIRM, title="Run round now", blocks=blocks, submit="Run now")


def build_admin_forget_modal() -> dict[str, Any]:
    blocks: list[Block] = [
        section(
            "For someone who has left: Flipside deletes their wishes, skills, profile and notes, "
            "ends their open pairings (their partners are told), and keeps their past pairings "
            "anonymously so the figures still add up. *This cannot be undone.*"
        ),
        InputBlock(
            block_id=BlockId.PERSON,
            label=PlainTextObject(text="Person to forget"),
            element=UserSelectElement(action_id=INPUT_ACTION),
        ),
    ]
    return modal(callback_id=Modal.ADMIN_FORGET, title="Forget a person", blocks=blocks, submit="Forget")


def build_forget_confirm_modal(*, private_metadata: str = "") -> dict[str, Any]:
    blocks: list[Block] = [
        section(
            "*Forget me?*\nFlipside will delete your wishes, skills, profile and every note you "
            "wrote, and end your open pairings (your partners are told). Past pairings stay in the "
            "programme's figures as “Former colleague”, without your name. *This cannot be undone.*"
        )
    ]
    return modal(
        callback_id=Modal.FORGET_CONFIRM,
        title="Forget me",
        blocks=blocks,
        submit="Forget me",
        close="Keep my data",
        private_metadata=private_metadata,
    )


# --- messages ---------------------------------------------------------------------------------


def build_notice(text: str) -> Message:
    return message(text, [section(text)])


def build_partner_left(partner: PartnerLeft) -> Message:
    text = (
        f":leaves: Your pairing on *{escape(partner.topic)}* has ended: your partner has left the "
        "programme. You're free for the next matching round."
    )
    return message(text, [section(text)])


NOT_ADMIN = ":lock: Only programme admins can do that."
ADMIN_CHECK_FAILED = (
    ":hourglass: I couldn't check your admin rights with Slack just now; nothing was changed. "
    "Try again in a minute."
)
