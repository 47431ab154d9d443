"""Proposing a session: the proposal modal's input checked field by field, locations, and the new session."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.forms import FormError
from bot.services.lunch.common import clean_multiline, zone
from bot.services.lunch.demand import link_suggestions
from bot.services.topics import TopicError, clean_text, resolve_topic, validate_topic
from models import HostConsent, LunchSession, LunchStatus, Person, Topic

TITLE_MAX = 150  # the column's size
DESCRIPTION_MAX = 2000
LOCATION_MAX = 500
DURATION_MIN, DURATION_MAX = 5, 8 * 60
DEFAULT_DURATION = 60
SEATS_MAX = 500

# Schemes people paste that are links but not web links.
_OTHER_SCHEME = re.compile(r"^(javascript|data|file|mailto|ftp|sftp|tel|vbscript|slack|zoommtg):")
# "zoom.us/j/123" or "www.example.com": a host name with a letter-only top-level domain.
_BARE_LINK = re.compile(r"^(www\.)?[\w\-]+(\.[\w\-]+)*\.[a-z]{2,}(:\d+)?([/?#]\S*)?$", re.IGNORECASE)


class ProposalField(enum.StrEnum):
    """The proposal's fields, as its errors name them (the view maps them to the modal's inputs)."""

    TITLE = "title"
    TOPIC = "topic"
    DESCRIPTION = "description"
    DATE = "date"
    TIME = "time"
    DURATION = "duration"
    LOCATION = "location"
    SEATS = "seats"
    HOST = "host"


class ProposalError(FormError):
    """A Lunch 'n' Learn proposal that cannot be used, keyed by ProposalField."""


@dataclass(frozen=True)
class ProposalInput:
    """The raw modal values, as Slack sent them."""

    title: str | None
    topic: str | None = None
    description: str | None = None
    host_user_id: str | None = None
    date: str | None = None  # YYYY-MM-DD from the datepicker
    time: str | None = None  # HH:MM from the timepicker
    timezone: str | None = None  # the timepicker's timezone: the wall clock the person saw
    duration: str | None = None
    location: str | None = None
    seats: str | None = None


@dataclass(frozen=True)
class Proposal:
    title: str
    topic: str | None
    description: str
    host_user_id: str | None
    starts_at: datetime  # UTC
    duration_minutes: int
    location: str
    capacity: int | None  # None: no limit


def parse_proposal(raw: ProposalInput, *, now: datetime, allow_past: bool = False) -> Proposal:
    """Validate every field at once, so the modal shows all its inline errors together."""
    errors: dict[str, str] = {}
    title = clean_text(raw.title or "")
    if not title:
        errors[ProposalField.TITLE] = "Give the session a title."
    elif len(title) > TITLE_MAX:
        errors[ProposalField.TITLE] = f"Keep the title under {TITLE_MAX} characters; it has {len(title)}."

    topic = clean_text(raw.topic or "") or None
    if topic is not None:
        try:
            validate_topic(topic)
        except TopicError as error:
            errors[ProposalField.TOPIC] = str(error)

    description = clean_multiline(raw.description or "")
    if len(description) > DESCRIPTION_MAX:
        errors[ProposalField.DESCRIPTION] = (
            f"Keep the description under {DESCRIPTION_MAX} characters; it has {len(description)}."
        )

    duration = _whole_number(raw.duration, default=DEFAULT_DURATION)
    if duration is None:
        errors[ProposalField.DURATION] = "The length must be a number of minutes, e.g. 45."
    elif duration <= 0:
        errors[ProposalField.DURATION] = "The session must end after it starts: give it a length in minutes."
    elif not DURATION_MIN <= duration <= DURATION_MAX:
        errors[ProposalField.DURATION] = f"Pick between {DURATION_MIN} and {DURATION_MAX} minutes."

    capacity: int | None = None
    if (raw.seats or "").strip():
        capacity = _whole_number(raw.seats, default=None)
        if capacity is None:
            errors[ProposalField.SEATS] = "Seats must be a whole number (or leave it empty for no limit)."
        elif capacity <= 0:
            errors[ProposalField.SEATS] = "At least one seat, please (or leave it empty for no limit)."
        elif capacity > SEATS_MAX:
            errors[ProposalField.SEATS] = f"Up to {SEATS_MAX} seats (or leave it empty for no limit)."

    location, location_error = normalise_location(raw.location or "")
    if location_error:
        errors[ProposalField.LOCATION] = location_error

    starts_at = _starts_at(raw, errors)
    if starts_at is not None and starts_at <= now and not allow_past:
        past_field = (
            ProposalField.TIME
            if ProposalField.DATE not in errors and _is_today(raw, now)
            else ProposalField.DATE
        )
        errors[past_field] = "That's in the past: pick a time that's still to come."

    if errors:
        raise ProposalError(errors)
    assert starts_at is not None and duration is not None
    return Proposal(
        title=title,
        topic=topic,
        description=description,
        host_user_id=(raw.host_user_id or "").strip() or None,
        starts_at=starts_at,
        duration_minutes=duration,
        location=location,
        capacity=capacity,
    )


def _whole_number(raw: str | None, *, default: int | None) -> int | None:
    text = (raw or "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        return None


def _starts_at(raw: ProposalInput, errors: dict[str, str]) -> datetime | None:
    try:
        day = date.fromisoformat((raw.date or "").strip())
    except ValueError:
        errors[ProposalField.DATE] = "Pick a date."
        day = None
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", (raw.time or "").strip())
    if not match:
        errors[ProposalField.TIME] = "Pick a start time."
        return None
    if day is None:
        return None
    local = datetime.combine(day, time(int(match.group(1)), int(match.group(2))), tzinfo=zone(raw.timezone))
    return local.astimezone(UTC)


def _is_today(raw: ProposalInput, now: datetime) -> bool:
    return (raw.date or "") == now.astimezone(zone(raw.timezone)).date().isoformat()


def normalise_location(raw: str) -> tuple[str, str | None]:
    """A room name as typed, or a link: links must be http(s). Returns (location, error)."""
    text = clean_text(raw)
    if not text:
        return "", "Say where: a room, or a video call link."
    if len(text) > LOCATION_MAX:
        return text, f"Keep it under {LOCATION_MAX} characters."
    if not looks_like_link(text):
        return text, None
    url = text if "://" in text or _OTHER_SCHEME.match(text.lower()) else "https://" + text
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. "https://[::1" (a broken IPv6 host)
        return text, "That link doesn't look right: use a full web link like https://zoom.us/j/123."
    if (
        parts.scheme.lower() not in ("http", "https")
        or " " in url
        or ("." not in host and host != "localhost")
    ):
        return text, "That link doesn't look right: use a full web link like https://zoom.us/j/123."
    return url.replace("|", "%7C"), None  # a pipe would end a Slack link early


def looks_like_link(text: str) -> bool:
    """Whether someone meant a link ("zoom.us/j/1", "https://…", "javascript:…"), not a room name."""
    lower = text.lower()
    return (
        "://" in lower
        or lower.startswith(("http", "www."))
        or bool(_OTHER_SCHEME.match(lower))
        or (" " not in text and bool(_BARE_LINK.match(text)))
    )


def is_link(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def create_session(
    session: Session,
    *,
    proposal: Proposal,
    proposer: Person,
    host: Person,
    now: datetime,
) -> LunchSession:
    """The new session. With someone else as host it waits for their answer (see consent.py)."""
    topic = topic_for(session, team_id=proposer.team_id, typed=proposal.topic)
    asks_host = host.id != proposer.id
    lunch = LunchSession(
        team_id=proposer.team_id,
        host_id=host.id,
        proposed_by_id=proposer.id,
        topic_id=topic.id if topic else None,
        title=proposal.title,
        description=proposal.description,
        starts_at=proposal.starts_at,
        duration_minutes=proposal.duration_minutes,
        location=proposal.location,
        capacity=proposal.capacity,
        status=LunchStatus.AWAITING_HOST if asks_host else LunchStatus.SCHEDULED,
        host_consent=HostConsent.PENDING if asks_host else HostConsent.ACCEPTED,
        version=1,
        created_at=now,
    )
    session.add(lunch)
    session.flush()
    if topic is not None and not asks_host:  # a session waiting for its host is linked on acceptance
        link_suggestions(session, lunch, now=now)
    return lunch


def check_daily_limit(session: Session, *, person: Person | None, limit: int, now: datetime) -> None:
    """Raise ProposalError when `person` already proposed `limit` sessions in the last 24 hours
    (0: no limit). Every proposal counts, whatever became of it, so a declined one is no way round."""
    if limit <= 0 or person is None:
        return
    proposed = session.scalar(
        select(func.count(LunchSession.id)).where(
            LunchSession.team_id == person.team_id,
            LunchSession.proposed_by_id == person.id,
            LunchSession.created_at > now - timedelta(days=1),
        )
    )
    if (proposed or 0) >= limit:
        sessions = "1 session" if proposed == 1 else f"{proposed} sessions"
        raise ProposalError(
            {
                ProposalField.TITLE: (
                    f"You've proposed {sessions} in the last 24 hours, which is the daily limit. "
                    "Thanks for the enthusiasm! Please try again tomorrow."
                )
            }
        )


def topic_for(session: Session, *, team_id: str, typed: str | None) -> Topic | None:
    if not typed:
        return None
    return resolve_topic(session, team_id=team_id, typed=typed).topic
