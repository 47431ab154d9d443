"""People and their workspace: created on first contact, refreshed from Slack's users.info."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from models import CareerStage, Person, ProgrammeSettings, Workspace

MAX_CAPACITY = 5
DEPARTMENT_MAX_LENGTH = 100


class ProfileError(ValueError):
    """Profile input that cannot be stored; `field` names the form field, message is user-safe."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ProfileInput:
    career_stage: CareerStage
    department: str
    capacity: int
    paused: bool


def ensure_workspace(session: Session, *, team_id: str, defaults: ProgrammeDefaults) -> Workspace:
    """The workspace row and its programme settings, created from the defaults on first contact."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        _insert_racing(session, Workspace(team_id=team_id))
        workspace = session.get(Workspace, team_id)
        assert workspace is not None
    if workspace.settings is None:
        _insert_racing(session, _settings_from(defaults, team_id))
        session.refresh(workspace, ["settings"])
    return workspace


def _settings_from(defaults: ProgrammeDefaults, team_id: str) -> ProgrammeSettings:
    return ProgrammeSettings(
        team_id=team_id,
        channel_id=defaults.channel_id,
        matching_weekday=defaults.matching_weekday,
        matching_time=defaults.matching_time.strftime("%H:%M"),
        matching_timezone=defaults.matching_timezone,
        strict_reverse=defaults.strict_reverse,
        proposal_expiry_days=defaults.proposal_expiry_days,
        checkin_after_days=defaults.checkin_after_days,
        pairing_max_sessions=defaults.pairing_max_sessions,
        pairing_max_days=defaults.pairing_max_days,
        lnl_reminder_minutes=",".join(str(m) for m in defaults.lnl_reminder_minutes),
        lnl_demand_threshold=defaults.lnl_demand_threshold,
    )


def get_person(
    session: Session, *, team_id: str, slack_user_id: str, for_update: bool = False
) -> Person | None:
    query = select(Person).where(Person.team_id == team_id, Person.slack_user_id == slack_user_id)
    return session.scalar(query.with_for_update() if for_update else query)


def get_or_create_person(
    session: Session, *, team_id: str, slack_user_id: str, defaults: ProgrammeDefaults
) -> Person:
    person = get_person(session, team_id=team_id, slack_user_id=slack_user_id)
    if person is not None:
        return person
    ensure_workspace(session, team_id=team_id, defaults=defaults)
    _insert_racing(session, Person(team_id=team_id, slack_user_id=slack_user_id, display_name=slack_user_id))
    person = get_person(session, team_id=team_id, slack_user_id=slack_user_id)
    assert person is not None
    return person


def _insert_racing(session: Session, row: Any) -> None:
    # Two first clicks from one person can race; the unique constraint decides, the loser reads.
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        session.expunge(row) if row in session else None


def parse_profile(
    *, career_stage: str | None, department: str | None, capacity: str | None, paused: bool
) -> ProfileInput:
    """Validate the profile form; raises ProfileError naming the field at fault."""
    from bot.services.topics import clean_text

    try:
        stage = CareerStage(career_stage or "")
    except ValueError:
        raise ProfileError("career_stage", "Please pick your career stage.") from None
    department_text = clean_text(department or "")
    if not department_text:
        raise ProfileError("department", "Please say which department or team you are in.")
    if len(department_text) > DEPARTMENT_MAX_LENGTH:
        raise ProfileError("department", f"Keep it under {DEPARTMENT_MAX_LENGTH} characters.")
    try:
        capacity_number = int(capacity or "1")
    except ValueError:
        raise ProfileError("capacity", "Capacity must be a number.") from None
    if not 1 <= capacity_number <= MAX_CAPACITY:
        raise ProfileError("capacity", f"Pick between 1 and {MAX_CAPACITY} pairings at once.")
    return ProfileInput(stage, department_text, capacity_number, paused)


def canonical_department(session: Session, *, team_id: str, typed: str) -> str:
    """The spelling colleagues already use ("finance" -> "Finance"), so teams compare equal."""
    known = session.scalars(
        select(Person.department).where(Person.team_id == team_id, Person.department.is_not(None)).distinct()
    )
    return next((department for department in known if department.casefold() == typed.casefold()), typed)


def save_profile(session: Session, person: Person, profile: ProfileInput, *, now: datetime) -> None:
    person.career_stage = profile.career_stage
    person.department = canonical_department(session, team_id=person.team_id, typed=profile.department)
    person.capacity = profile.capacity
    person.paused = profile.paused
    if person.profile_completed_at is None:
        person.profile_completed_at = now


def set_paused(person: Person, paused: bool) -> None:
    person.paused = paused
    if not paused:
        person.snoozed_until = None
        person.unanswered_streak = 0


def apply_slack_user(person: Person, user: Mapping[str, Any], *, now: datetime) -> bool:
    """Copy name, timezone and admin flags from a users.info or user_change `user` object, unless it
    is older than the copy we hold (Slack's `updated`); False then. Callers lock the person's row
    (get_person(..., for_update=True)) so two copies cannot cross."""
    changed_at = slack_updated_at(user)
    if (
        changed_at is not None
        and person.slack_updated_at is not None
        and changed_at < person.slack_updated_at
    ):
        return False
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
    )
    if name:
        person.display_name = str(name)[:200]
    if user.get("tz"):
        person.tz = str(user["tz"])
    person.tz_offset_seconds = int(user.get("tz_offset") or 0)
    person.is_slack_admin = bool(user.get("is_admin") or user.get("is_owner"))
    if user.get("deleted"):
        deactivate(person, now=now)
    elif user.get("deleted") is False:
        reactivate(person)
    person.slack_synced_at = now
    if changed_at is not None:
        person.slack_updated_at = changed_at
    return True


def slack_updated_at(user: Mapping[str, Any]) -> datetime | None:
    """When Slack last changed this user (its `updated`, Unix seconds); None if it does not say."""
    try:
        return datetime.fromtimestamp(int(user["updated"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def deactivate(person: Person, *, now: datetime) -> None:
    """A person who left Slack: paused, and never in a round again."""
    person.paused = True
    if person.deactivated_at is None:
        person.deactivated_at = now


def reactivate(person: Person) -> None:
    """Back in Slack: no longer a leaver, but still paused until they resume themselves
    (`/mentoring resume`), so nobody is proposed a pairing they did not ask for."""
    person.deactivated_at = None


def departed_now(person: Person, *, was_deactivated: bool) -> bool:
    """Whether the change just applied made the person a leaver (not one already)."""
    return not was_deactivated and person.deactivated_at is not None


def needs_slack_sync(person: Person, *, now: datetime, max_age_hours: int = 24) -> bool:
    if person.slack_synced_at is None:
        return True
    return (now - person.slack_synced_at).total_seconds() > max_age_hours * 3600


def programme_settings(session: Session, *, team_id: str, defaults: ProgrammeDefaults) -> ProgrammeSettings:
    workspace = ensure_workspace(session, team_id=team_id, defaults=defaults)
    assert workspace.settings is not None
    return workspace.settings
