"""Running the programme: who may, the settings they change, and people's right to be forgotten."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.config import WEEKDAYS, ProgrammeDefaults
from bot.services import erasure, learning_log, outbox, profiles
from bot.services.forms import FormError
from models import (
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchSuggestion,
    Pairing,
    PairingBlock,
    PairingFeedback,
    PairingMeeting,
    PairingStatus,
    Person,
    ProgrammeSettings,
    PulseAnswer,
    SignupStatus,
    Skill,
    Topic,
    Wish,
)

FORGOTTEN_NAME = "Former colleague"
TOMBSTONE_PREFIX = "forgotten-"

PROPOSAL_EXPIRY_RANGE = (1, 60)
PAIRING_SESSIONS_RANGE = (1, 100)
PAIRING_DAYS_RANGE = (7, 730)
REPEAT_WINDOW_WEEKS_RANGE = (0, 520)
REMINDER_MINUTES_RANGE = (1, 20160)  # up to two weeks before
MAX_REMINDERS = 5
DEMAND_THRESHOLD_RANGE = (1, 1000)
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


# --- who is an admin --------------------------------------------------------------------------


def is_admin(
    slack_user: Mapping[str, Any] | None,
    *,
    team_id: str,
    slack_user_id: str,
    person: Person | None,
    admin_user_ids: Collection[str],
    single_workspace: bool,
) -> bool:
    """The one admin check: whether `slack_user_id`, acting in workspace `team_id`, runs its programme.

    `slack_user` is Slack's users.info answer for them, moments old; None when Slack could not say,
    and then nobody is an admin. Refused: someone Slack has deactivated, whom Flipside has forgotten
    or deactivated, or who is not a member of `team_id` (an admin of another workspace, say a Slack
    Connect guest). Admins are those listed in ADMIN_USER_IDS for this workspace (`T123:U456`; a bare
    `U456` only in a single-workspace install) and Slack's own admins and owners of the workspace.
    """
    if not slack_user or slack_user.get("id") != slack_user_id:
        return False
    if slack_user.get("deleted") or slack_user.get("is_bot"):
        return False
    if person is not None and (
        person.slack_user_id != slack_user_id or person.forgotten_at or person.deactivated_at
    ):
        return False
    if not member_of(slack_user, team_id=team_id):
        return False
    listed = f"{team_id}:{slack_user_id}" in admin_user_ids or (
        single_workspace and slack_user_id in admin_user_ids
    )
    return listed or bool(slack_user.get("is_admin") or slack_user.get("is_owner"))


def member_of(slack_user: Mapping[str, Any], *, team_id: str) -> bool:
    """Whether a users.info user belongs to workspace `team_id`: their own team, or on Enterprise
    Grid one of the org's workspaces they are in."""
    if slack_user.get("team_id") == team_id:
        return True
    grid = slack_user.get("enterprise_user") or {}
    return team_id in (grid.get("teams") or ())


def may_be_admin(person: Person, *, admin_user_ids: Collection[str], single_workspace: bool) -> bool:
    """Cheap, from what is stored: whether asking Slack (is_admin) could say yes. Drawing App Home
    asks Slack only for these, not for everyone who opens it."""
    listed = f"{person.team_id}:{person.slack_user_id}" in admin_user_ids or (
        single_workspace and person.slack_user_id in admin_user_ids
    )
    return listed or person.is_slack_admin


# --- programme settings -----------------------------------------------------------------------


class SettingsField(enum.StrEnum):
    """The settings form's fields, as parse_settings reads them and its errors name them."""

    CHANNEL = "channel"
    MATCHING_DAY = "matching_day"
    MATCHING_TIME = "matching_time"
    MATCHING_TIMEZONE = "matching_timezone"
    STRICT_REVERSE = "strict_reverse"
    PROPOSAL_EXPIRY = "proposal_expiry"
    PAIRING_LENGTH = "pairing_length"
    REMINDERS = "reminders"
    DEMAND_THRESHOLD = "demand_threshold"
    REPEAT_WINDOW = "repeat_window"
    SUMMARY_TO = "summary_to"


SUMMARY_DESTINATIONS = ("admins", "channel")


class SettingsError(FormError):
    """Invalid programme settings, keyed by SettingsField."""


@dataclass(frozen=True)
class SettingsInput:
    channel_id: str | None
    matching_weekday: int
    matching_time: str  # "HH:MM", 24-hour
    matching_timezone: str
    strict_reverse: bool
    proposal_expiry_days: int
    pairing_max_sessions: int
    pairing_max_days: int
    lnl_reminder_minutes: tuple[int, ...]  # largest first
    lnl_demand_threshold: int
    repeat_window_weeks: int | None = None  # None: a form without the field leaves it as it is
    summary_destination: str = "admins"


@dataclass
class _Collector:
    errors: dict[str, str] = field(default_factory=dict)

    def whole(self, field: str, raw: Any, label: str, bounds: tuple[int, int]) -> int:
        low, high = bounds
        try:
            number = int(str(raw).strip())
        except (TypeError, ValueError):
            self.errors[field] = f"{label} must be a whole number."
            return low
        if not low <= number <= high:
            self.errors[field] = f"{label} must be between {low} and {high}."
        return number


def parse_settings(values: Mapping[str, Any]) -> SettingsInput:
    """Validate the settings form (`values` keyed by SettingsField); SettingsError lists every bad field."""
    check = _Collector()
    channel = (values.get(SettingsField.CHANNEL) or "").strip() or None
    if channel is not None and not _CHANNEL_ID.fullmatch(channel):
        check.errors[SettingsField.CHANNEL] = "Pick a channel from the list."
    day = str(values.get(SettingsField.MATCHING_DAY) or "").lower()[:3]
    if day not in WEEKDAYS:
        check.errors[SettingsField.MATCHING_DAY] = "Pick the day of the week for matching rounds."
    clock = _CLOCK.fullmatch(str(values.get(SettingsField.MATCHING_TIME) or "").strip())
    if clock is None:
        check.errors[SettingsField.MATCHING_TIME] = "Pick a time like 09:00."
    timezone = str(values.get(SettingsField.MATCHING_TIMEZONE) or "").strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        check.errors[SettingsField.MATCHING_TIMEZONE] = (
            "Use a timezone name like Europe/London or America/New_York."
        )
    expiry = check.whole(
        SettingsField.PROPOSAL_EXPIRY,
        values.get(SettingsField.PROPOSAL_EXPIRY),
        "Expiry",
        PROPOSAL_EXPIRY_RANGE,
    )
    sessions, days = _pairing_length(check, values.get(SettingsField.PAIRING_LENGTH))
    reminders = _reminders(check, values.get(SettingsField.REMINDERS))
    threshold = check.whole(
        SettingsField.DEMAND_THRESHOLD,
        values.get(SettingsField.DEMAND_THRESHOLD),
        "The threshold",
        DEMAND_THRESHOLD_RANGE,
    )
    raw_window = values.get(SettingsField.REPEAT_WINDOW)
    window = (
        None
        if raw_window is None
        else check.whole(
            SettingsField.REPEAT_WINDOW, raw_window, "The repeat window", REPEAT_WINDOW_WEEKS_RANGE
        )
    )
    summary_to = str(values.get(SettingsField.SUMMARY_TO) or "admins")
    if summary_to not in SUMMARY_DESTINATIONS:
        check.errors[SettingsField.SUMMARY_TO] = "Pick where the monthly summary goes."
    elif summary_to == "channel" and channel is None:
        check.errors[SettingsField.SUMMARY_TO] = "Pick a programme channel above, or send it to the admins."
    if check.errors:
        raise SettingsError(check.errors)
    assert clock is not None
    return SettingsInput(
        channel_id=channel,
        matching_weekday=WEEKDAYS.index(day),
        matching_time=f"{int(clock.group(1)):02d}:{clock.group(2)}",
        matching_timezone=timezone,
        strict_reverse=bool(values.get(SettingsField.STRICT_REVERSE)),
        proposal_expiry_days=expiry,
        pairing_max_sessions=sessions,
        pairing_max_days=days,
        lnl_reminder_minutes=reminders,
        lnl_demand_threshold=threshold,
        repeat_window_weeks=window,
        summary_destination=summary_to,
    )


def _pairing_length(check: _Collector, raw: Any) -> tuple[int, int]:
    numbers = re.findall(r"\d+", str(raw or ""))
    if len(numbers) != 2:
        check.errors[SettingsField.PAIRING_LENGTH] = "Give two numbers, sessions then days, e.g. 6 / 90."
        return PAIRING_SESSIONS_RANGE[0], PAIRING_DAYS_RANGE[0]
    sessions = check.whole(SettingsField.PAIRING_LENGTH, numbers[0], "Sessions", PAIRING_SESSIONS_RANGE)
    if SettingsField.PAIRING_LENGTH in check.errors:
        return sessions, PAIRING_DAYS_RANGE[0]
    days = check.whole(SettingsField.PAIRING_LENGTH, numbers[1], "Days", PAIRING_DAYS_RANGE)
    return sessions, days


def _reminders(check: _Collector, raw: Any) -> tuple[int, ...]:
    parts = [part.strip() for part in re.split(r"[,;\s]+", str(raw or "")) if part.strip()]
    if not parts:
        check.errors[SettingsField.REMINDERS] = "Give at least one reminder, e.g. 1440, 15."
        return ()
    if len(parts) > MAX_REMINDERS:
        check.errors[SettingsField.REMINDERS] = f"At most {MAX_REMINDERS} reminders."
        return ()
    minutes = [
        check.whole(SettingsField.REMINDERS, part, "Each reminder", REMINDER_MINUTES_RANGE) for part in parts
    ]
    return tuple(sorted(set(minutes), reverse=True))


def save_settings(
    session: Session, *, team_id: str, defaults: ProgrammeDefaults, data: SettingsInput
) -> ProgrammeSettings:
    """Store the workspace's settings; jobs read them at every run, so no restart is needed."""
    settings = profiles.programme_settings(session, team_id=team_id, defaults=defaults)
    settings.channel_id = data.channel_id
    settings.matching_weekday = data.matching_weekday
    settings.matching_time = data.matching_time
    settings.matching_timezone = data.matching_timezone
    settings.strict_reverse = data.strict_reverse
    settings.proposal_expiry_days = data.proposal_expiry_days
    settings.pairing_max_sessions = data.pairing_max_sessions
    settings.pairing_max_days = data.pairing_max_days
    settings.lnl_reminder_minutes = ",".join(str(minutes) for minutes in data.lnl_reminder_minutes)
    settings.lnl_demand_threshold = data.lnl_demand_threshold
    if data.repeat_window_weeks is not None:
        settings.repeat_window_weeks = data.repeat_window_weeks
    settings.summary_destination = data.summary_destination
    session.flush()
    return settings


def reminder_minutes(settings: ProgrammeSettings) -> tuple[int, ...]:
    """The stored reminder offsets, largest first, each once; anything but a positive number is skipped."""
    parts = (part.strip() for part in settings.lnl_reminder_minutes.split(","))
    minutes = {int(part) for part in parts if part.isdecimal()}
    return tuple(sorted((m for m in minutes if m > 0), reverse=True))


# --- the right to be forgotten ----------------------------------------------------------------


@dataclass(frozen=True)
class PartnerLeft:
    """Someone whose open pairing ended because their partner asked to be forgotten."""

    pairing_id: int
    slack_user_id: str
    topic: str


@dataclass(frozen=True)
class ForgetOutcome:
    wishes: int = 0
    skills: int = 0
    notes_cleared: int = 0
    pairings_cancelled: int = 0
    partners: tuple[PartnerLeft, ...] = ()
    # Upcoming Lunch 'n' Learns the person hosted, cancelled by the caller before forgetting.
    cancelled_sessions: list[int] = field(default_factory=list)
    # Upcoming sessions whose seat or waitlist place they gave up (the caller, before forgetting).
    freed_seats: list[int] = field(default_factory=list)


def find_person(session: Session, *, team_id: str, slack_user_id: str) -> Person | None:
    """A person still known by their Slack id (forgotten people are not: their id is gone)."""
    return profiles.get_person(session, team_id=team_id, slack_user_id=slack_user_id)


def forget_person(
    session: Session, *, person: Person, now: datetime, traces: erasure.Traces | None = None
) -> ForgetOutcome:
    """Delete what the person told us and anonymise them in history.

    Gone: wishes, skills, the profile, Slack name and id, every free-text note and reason they
    wrote, explanations naming them, their private block list, future sign-ups, unsent DMs, the
    words of sessions they hosted, topics only they had typed, their queued requests, and every
    copy of a message sent to them or naming or quoting them (bot.services.erasure).
    Kept: the anonymous Person row ("Former colleague") with their pairings, ratings and
    attendance, so the programme's figures for past periods still add up. Open pairings end.
    `traces` (erasure.traces_of) must be taken before anything of theirs changed; by default here.
    """
    old_user_id = person.slack_user_id
    traces = traces or erasure.traces_of(session, person)
    wishes = session.execute(delete(Wish).where(Wish.person_id == person.id)).rowcount or 0
    skills = session.execute(delete(Skill).where(Skill.person_id == person.id)).rowcount or 0
    notes = 0
    for model, owner in (
        (PairingMeeting, PairingMeeting.logged_by_id),
        (PairingFeedback, PairingFeedback.person_id),
        (LunchFeedback, LunchFeedback.person_id),
        (PulseAnswer, PulseAnswer.person_id),
    ):
        notes += (
            session.execute(
                update(model).where(owner == person.id, model.note.is_not(None)).values(note=None)
            ).rowcount
            or 0
        )
    session.execute(
        update(PulseAnswer).where(PulseAnswer.person_id == person.id).values(share_with_log=False)
    )
    session.execute(update(Pairing).where(Pairing.declined_by_id == person.id).values(decline_reason=None))
    session.execute(
        update(Wish).where(Wish.requested_teacher_id == person.id).values(requested_teacher_id=None)
    )
    mine = or_(Pairing.learner_id == person.id, Pairing.teacher_id == person.id)
    # Each side's reasons name the other person and may quote the learner's note.
    session.execute(update(Pairing).where(mine).values(explanation="", teacher_explanation=""))
    partners = _end_open_pairings(session, person=person, now=now)
    session.execute(
        delete(PairingBlock).where(
            or_(PairingBlock.person_id == person.id, PairingBlock.blocked_person_id == person.id)
        )
    )
    session.execute(delete(LunchSuggestion).where(LunchSuggestion.person_id == person.id))
    upcoming = select(LunchSession.id).where(LunchSession.starts_at > now)
    session.execute(
        update(LunchSignup)
        .where(LunchSignup.person_id == person.id, LunchSignup.session_id.in_(upcoming))
        .values(status=SignupStatus.CANCELLED)
    )
    tombstone = f"{TOMBSTONE_PREFIX}{person.id}"
    erasure.erase_outbox(session, team_id=person.team_id, traces=traces, tombstone=tombstone)
    erasure.erase_pending_work(session, team_id=person.team_id, slack_user_id=old_user_id)
    erasure.erase_installer(session, team_id=person.team_id, slack_user_id=old_user_id, tombstone=tombstone)
    erasure.erase_hosted_sessions(session, traces=traces)
    learning_log.forget_pairings(session, pairing_ids=traces.pairing_ids)
    _anonymise(person, now=now)
    erasure.drop_orphan_topics(session, traces=traces)
    session.flush()
    return ForgetOutcome(wishes, skills, notes, len(partners), partners)


def _end_open_pairings(session: Session, *, person: Person, now: datetime) -> tuple[PartnerLeft, ...]:
    rows = session.execute(
        select(Pairing, Topic.display_name)
        .join(Topic, Topic.id == Pairing.topic_id)
        .where(
            or_(Pairing.learner_id == person.id, Pairing.teacher_id == person.id),
            Pairing.status.in_([PairingStatus.PROPOSED, PairingStatus.ACTIVE]),
        )
        .order_by(Pairing.id)
    ).all()
    partners = []
    for pairing, topic in rows:
        pairing.status = PairingStatus.CANCELLED
        pairing.ended_at, pairing.end_reason = now, "partner_forgotten"
        pairing.version += 1  # buttons already sent for this pairing become stale
        other = pairing.other_side(person.id)
        if other.forgotten_at is None:
            partners.append(PartnerLeft(pairing.id, other.slack_user_id, topic))
    return tuple(partners)


def _anonymise(person: Person, *, now: datetime) -> None:
    person.slack_user_id = f"{TOMBSTONE_PREFIX}{person.id}"
    person.display_name = FORGOTTEN_NAME
    person.tz, person.tz_offset_seconds = "UTC", 0
    person.is_slack_admin = False
    person.slack_synced_at = person.home_opened_at = person.slack_updated_at = None  # theirs too
    person.career_stage = None
    person.department = None
    person.capacity = 1
    person.paused = True
    person.snoozed_until = None
    person.profile_completed_at = None
    person.unanswered_streak = 0
    person.checkins_unanswered = 0
    person.checkin_answered_at = person.stay_in_asked_at = None
    person.forgotten_at = now


def tell_partners(
    session: Session,
    *,
    team_id: str,
    outcome: ForgetOutcome,
    message_for: Callable[[PartnerLeft], Any],
    now: datetime,
) -> None:
    """Queue a kind note to each person whose open pairing ended (sent by the outbox, once)."""
    for partner in outcome.partners:
        outbox.enqueue(
            session,
            team_id=team_id,
            dedupe_key=f"pairing:{partner.pairing_id}:partner-forgotten",
            kind="partner_left",
            recipient=partner.slack_user_id,
            message=message_for(partner),
            send_after=now,
        )
