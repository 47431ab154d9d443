"""Lunch 'n' Learn: group sessions anyone proposes, filled seat by seat, reminded, rated.

Plain domain logic: callers own the transaction and pass `now`. Messages are rendered by the caller
(bot.views.lunch) and handed to `notify`, which queues them in the outbox under the keys defined
here, in the same transaction as the decision: a re-run or a double click queues nothing new.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.ids import Block
from bot.services import outbox
from bot.services.forms import FormError
from bot.services.topics import TopicError, clean_text, resolve_topic, validate_topic
from models import (
    LunchFeedback,
    LunchSession,
    LunchSignup,
    LunchStatus,
    LunchSuggestion,
    OutboxMessage,
    OutboxStatus,
    Person,
    ProgrammeSettings,
    SignupStatus,
    Skill,
    Topic,
    Wish,
    WishStatus,
)

TITLE_MAX = 150  # the column's size
DESCRIPTION_MAX = 2000
LOCATION_MAX = 500
DURATION_MIN, DURATION_MAX = 5, 8 * 60
DEFAULT_DURATION = 60
SEATS_MAX = 500
NOTE_MAX = 1000
RATINGS = range(1, 6)
UPCOMING_LIMIT = 10
LINEUP_LIMIT = 12
DEMAND_LIMIT = 5
SUGGESTION_COOLDOWN = timedelta(days=30)
FEEDBACK_ASK_WINDOW = timedelta(days=3)  # ask attendees for feedback up to 3 days after the end
HOST_SUMMARY_AFTER = timedelta(days=2)  # the host's summary waits for most answers to come in
HOST_SUMMARY_WINDOW = timedelta(days=7)
# The weekly line-up goes out on Monday morning, in the programme's timezone.
LINEUP_WEEKDAY, LINEUP_TIME = 0, time(9, 0)

# Schemes people paste that are links but not web links.
_OTHER_SCHEME = re.compile(r"^(javascript|data|file|mailto|ftp|sftp|tel|vbscript|slack|zoommtg):")
# "zoom.us/j/123" or "www.example.com": a host name with a letter-only top-level domain.
_BARE_LINK = re.compile(r"^(www\.)?[\w\-]+(\.[\w\-]+)*\.[a-z]{2,}(:\d+)?([/?#]\S*)?$", re.IGNORECASE)


# ----------------------------------------------------------------------------- proposing


class ProposalError(FormError):
    """A Lunch 'n' Learn proposal that cannot be used, keyed by input block id."""


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


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_proposal(raw: ProposalInput, *, now: datetime, allow_past: bool = False) -> Proposal:
    """Validate every field at once, so the modal shows all its inline errors together."""
    errors: dict[str, str] = {}
    title = clean_text(raw.title or "")
    if not title:
        errors[Block.TITLE] = "Give the session a title."
    elif len(title) > TITLE_MAX:
        errors[Block.TITLE] = f"Keep the title under {TITLE_MAX} characters; it has {len(title)}."

    topic = clean_text(raw.topic or "") or None
    if topic is not None:
        try:
            validate_topic(topic)
        except TopicError as error:
            errors[Block.TOPIC] = str(error)

    description = _clean_multiline(raw.description or "")
    if len(description) > DESCRIPTION_MAX:
        errors[Block.DESCRIPTION] = (
            f"Keep the description under {DESCRIPTION_MAX} characters; it has {len(description)}."
        )

    duration = _whole_number(raw.duration, default=DEFAULT_DURATION)
    if duration is None:
        errors[Block.DURATION] = "The length must be a number of minutes, e.g. 45."
    elif duration <= 0:
        errors[Block.DURATION] = "The session must end after it starts: give it a length in minutes."
    elif not DURATION_MIN <= duration <= DURATION_MAX:
        errors[Block.DURATION] = f"Pick between {DURATION_MIN} and {DURATION_MAX} minutes."

    capacity: int | None = None
    if (raw.seats or "").strip():
        capacity = _whole_number(raw.seats, default=None)
        if capacity is None:
            errors[Block.SEATS] = "Seats must be a whole number (or leave it empty for no limit)."
        elif capacity <= 0:
            errors[Block.SEATS] = "At least one seat, please (or leave it empty for no limit)."
        elif capacity > SEATS_MAX:
            errors[Block.SEATS] = f"Up to {SEATS_MAX} seats (or leave it empty for no limit)."

    location, location_error = normalise_location(raw.location or "")
    if location_error:
        errors[Block.LOCATION] = location_error

    starts_at = _starts_at(raw, errors)
    if starts_at is not None and starts_at <= now and not allow_past:
        field_id = Block.TIME if Block.DATE not in errors and _is_today(raw, now) else Block.DATE
        errors[field_id] = "That's in the past: pick a time that's still to come."

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


def _clean_multiline(raw: str) -> str:
    lines = [clean_text(line) for line in raw.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


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
        errors[Block.DATE] = "Pick a date."
        day = None
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", (raw.time or "").strip())
    if not match:
        errors[Block.TIME] = "Pick a start time."
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


def local_date_time(moment: datetime, tz: str) -> tuple[str, str]:
    """The datepicker and timepicker values that show `moment` on `tz`'s wall clock."""
    local = moment.astimezone(zone(tz))
    return local.date().isoformat(), local.strftime("%H:%M")


def create_session(
    session: Session,
    *,
    proposal: Proposal,
    proposer: Person,
    host: Person,
    now: datetime,
) -> LunchSession:
    topic = _topic(session, team_id=proposer.team_id, typed=proposal.topic)
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
        status=LunchStatus.SCHEDULED,
        version=1,
        created_at=now,
    )
    session.add(lunch)
    session.flush()
    if topic is not None:
        _link_suggestions(session, lunch, now=now)
    return lunch


def _topic(session: Session, *, team_id: str, typed: str | None) -> Topic | None:
    if not typed:
        return None
    return resolve_topic(session, team_id=team_id, typed=typed).topic


def _link_suggestions(session: Session, lunch: LunchSession, *, now: datetime) -> None:
    """The session answers a recent demand-driven suggestion: remember it (see topics_in_demand)."""
    for suggestion in session.scalars(
        select(LunchSuggestion).where(
            LunchSuggestion.team_id == lunch.team_id,
            LunchSuggestion.topic_id == lunch.topic_id,
            LunchSuggestion.session_id.is_(None),
            LunchSuggestion.suggested_at > now - SUGGESTION_COOLDOWN,
        )
    ):
        suggestion.session_id = lunch.id


# ----------------------------------------------------------------------------- who may do what


def is_admin(person: Person, admin_user_ids: Iterable[str]) -> bool:
    return person.is_slack_admin or person.slack_user_id in set(admin_user_ids)


def can_manage(lunch: LunchSession, person: Person, *, admin_user_ids: Iterable[str]) -> bool:
    return lunch.team_id == person.team_id and (
        lunch.host_id == person.id or is_admin(person, admin_user_ids)
    )


def get_session(session: Session, *, team_id: str, session_id: int | None) -> LunchSession | None:
    if session_id is None:
        return None
    lunch = session.get(LunchSession, session_id)
    return lunch if lunch is not None and lunch.team_id == team_id else None


def parse_id(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# ----------------------------------------------------------------------------- seats


class Outcome(enum.StrEnum):
    """What a click did, so the listener can say so in one clear sentence."""

    SIGNED_UP = "signed_up"
    WAITLISTED = "waitlisted"
    ALREADY_ATTENDING = "already_attending"
    ALREADY_WAITLISTED = "already_waitlisted"
    HOSTING = "hosting"
    LEFT = "left"  # gave the seat back
    LEFT_WAITLIST = "left_waitlist"
    NOT_SIGNED_UP = "not_signed_up"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_STARTED = "session_started"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    EDITED = "edited"
    CANCELLED = "cancelled"
    RATED = "rated"
    NOT_ATTENDEE = "not_attendee"
    NOT_OVER = "not_over"


@dataclass
class Change:
    outcome: Outcome
    lunch: LunchSession | None = None
    promoted: list[Person] = field(default_factory=list)
    # For edits and cancellations: who to tell, and what changed.
    audience: list[Person] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    position: int | None = None  # place on the waitlist


def lock_session(session: Session, *, team_id: str, session_id: int | None) -> LunchSession | None:
    """Load a session for a seat change, serialised with every other change to it.

    PostgreSQL: SELECT ... FOR UPDATE holds the row until commit, so two clicks for the last seat
    queue up and the second one counts the first one's seat. SQLite: the app opens every
    transaction with BEGIN IMMEDIATE (bot.db), which serialises writers the same way.
    """
    if session_id is None:
        return None
    lunch = session.scalar(
        select(LunchSession)
        .where(LunchSession.id == session_id, LunchSession.team_id == team_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return lunch


def _signup(session: Session, lunch: LunchSession, person: Person) -> LunchSignup | None:
    return session.scalar(
        select(LunchSignup).where(LunchSignup.session_id == lunch.id, LunchSignup.person_id == person.id)
    )


def signups(session: Session, lunch: LunchSession, status: SignupStatus) -> list[LunchSignup]:
    return list(
        session.scalars(
            select(LunchSignup)
            .where(LunchSignup.session_id == lunch.id, LunchSignup.status == status)
            .order_by(LunchSignup.signed_up_at, LunchSignup.id)
            .options(selectinload(LunchSignup.person))
        )
    )


def attending_count(session: Session, lunch: LunchSession) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(LunchSignup)
            .where(LunchSignup.session_id == lunch.id, LunchSignup.status == SignupStatus.ATTENDING)
        )
        or 0
    )


def closed_reason(lunch: LunchSession, now: datetime) -> Outcome | None:
    """Why a session takes no more sign-ups or changes, or None while it is open."""
    if lunch.status == LunchStatus.CANCELLED:
        return Outcome.SESSION_CANCELLED
    if lunch.starts_at <= now:
        return Outcome.SESSION_STARTED
    return None


def sign_up(session: Session, *, session_id: int | None, person: Person, now: datetime) -> Change:
    lunch = lock_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return Change(Outcome.NOT_FOUND)
    closed = closed_reason(lunch, now)
    if closed:
        return Change(closed, lunch)
    if lunch.host_id == person.id:
        return Change(Outcome.HOSTING, lunch)
    signup = _signup(session, lunch, person)
    if signup is not None and signup.status == SignupStatus.ATTENDING:
        return Change(Outcome.ALREADY_ATTENDING, lunch)
    if signup is not None and signup.status == SignupStatus.WAITLISTED:
        return Change(Outcome.ALREADY_WAITLISTED, lunch, position=waitlist_position(session, lunch, person))
    full = lunch.capacity is not None and attending_count(session, lunch) >= lunch.capacity
    status = SignupStatus.WAITLISTED if full else SignupStatus.ATTENDING
    if signup is None:
        session.add(LunchSignup(session_id=lunch.id, person_id=person.id, status=status, signed_up_at=now))
    else:  # came back after cancelling: to the back of the queue
        signup.status, signup.signed_up_at, signup.promoted_at = status, now, None
    lunch.version += 1
    session.flush()
    if full:
        return Change(Outcome.WAITLISTED, lunch, position=waitlist_position(session, lunch, person))
    return Change(Outcome.SIGNED_UP, lunch)


def cancel_signup(session: Session, *, session_id: int | None, person: Person, now: datetime) -> Change:
    lunch = lock_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return Change(Outcome.NOT_FOUND)
    closed = closed_reason(lunch, now)
    if closed:
        return Change(closed, lunch)
    signup = _signup(session, lunch, person)
    if signup is None or signup.status == SignupStatus.CANCELLED:
        return Change(Outcome.HOSTING if lunch.host_id == person.id else Outcome.NOT_SIGNED_UP, lunch)
    was_attending = signup.status == SignupStatus.ATTENDING
    signup.status = SignupStatus.CANCELLED
    lunch.version += 1
    session.flush()
    if not was_attending:
        return Change(Outcome.LEFT_WAITLIST, lunch)
    outbox.cancel(session, team_id=lunch.team_id, key_prefix=reminder_prefix(lunch, person))
    return Change(Outcome.LEFT, lunch, promoted=fill_free_seats(session, lunch, now=now))


def fill_free_seats(session: Session, lunch: LunchSession, *, now: datetime) -> list[Person]:
    """First come, first served: the longest-waiting people take the seats that are free."""
    waiting = signups(session, lunch, SignupStatus.WAITLISTED)
    if lunch.capacity is None:
        free = len(waiting)
    else:
        free = max(0, lunch.capacity - attending_count(session, lunch))
    promoted = []
    for signup in waiting[:free]:
        signup.status, signup.promoted_at = SignupStatus.ATTENDING, now
        promoted.append(signup.person)
    if promoted:
        session.flush()
    return promoted


def waitlist_position(session: Session, lunch: LunchSession, person: Person) -> int | None:
    for index, signup in enumerate(signups(session, lunch, SignupStatus.WAITLISTED), start=1):
        if signup.person_id == person.id:
            return index
    return None


@dataclass(frozen=True)
class SessionState:
    """What the announcement shows: who is going and how many wait."""

    lunch: LunchSession
    attendees: list[Person]
    waitlisted: list[Person]

    @property
    def seats_left(self) -> int | None:
        if self.lunch.capacity is None:
            return None
        return max(0, self.lunch.capacity - len(self.attendees))


def state_of(session: Session, lunch: LunchSession) -> SessionState:
    return SessionState(
        lunch,
        [signup.person for signup in signups(session, lunch, SignupStatus.ATTENDING)],
        [signup.person for signup in signups(session, lunch, SignupStatus.WAITLISTED)],
    )


# ----------------------------------------------------------------------------- edit and cancel

_EDITABLE = {
    "title": "title",
    "description": "description",
    "starts_at": "time",
    "duration_minutes": "length",
    "location": "place",
    "capacity": "seats",
    "topic_id": "topic",
    "host_id": "host",
}


def _lock_for_host(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    admin_user_ids: Iterable[str],
    now: datetime,
) -> tuple[LunchSession | None, Change | None]:
    """The session, locked, if `person` may still edit or cancel it; else the refusal."""
    lunch = lock_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return None, Change(Outcome.NOT_FOUND)
    if not can_manage(lunch, person, admin_user_ids=admin_user_ids):
        return None, Change(Outcome.NOT_ALLOWED, lunch)
    closed = closed_reason(lunch, now)
    if closed:
        return None, Change(closed, lunch)
    return lunch, None


def edit_session(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    proposal: Proposal,
    host: Person,
    admin_user_ids: Iterable[str],
    now: datetime,
) -> Change:
    """Apply an edit; raises ProposalError when seats would drop below the people already going."""
    lunch, refusal = _lock_for_host(
        session, session_id=session_id, person=person, admin_user_ids=admin_user_ids, now=now
    )
    if refusal is not None:
        return refusal
    assert lunch is not None
    going = attending_count(session, lunch)
    if proposal.capacity is not None and proposal.capacity < going:
        raise ProposalError({Block.SEATS: f"{going} people are already going: keep at least {going} seats."})
    topic = _topic(session, team_id=lunch.team_id, typed=proposal.topic)
    new_values = {
        "title": proposal.title,
        "description": proposal.description,
        "starts_at": proposal.starts_at,
        "duration_minutes": proposal.duration_minutes,
        "location": proposal.location,
        "capacity": proposal.capacity,
        "topic_id": topic.id if topic else None,
        "host_id": host.id,
    }
    changes = [label for name, label in _EDITABLE.items() if getattr(lunch, name) != new_values[name]]
    if not changes:
        return Change(Outcome.EDITED, lunch)
    if "time" in changes:
        # Reminders not yet sent were for the old time; the tick job queues new ones (new keys).
        outbox.cancel(session, team_id=lunch.team_id, key_prefix=reminder_prefix(lunch))
    for name, value in new_values.items():
        setattr(lunch, name, value)
    lunch.version += 1
    session.flush()
    promoted = fill_free_seats(session, lunch, now=now)
    audience = [p for p in state_of(session, lunch).attendees if p.id not in {q.id for q in promoted}]
    return Change(Outcome.EDITED, lunch, promoted=promoted, audience=audience, changes=changes)


def upcoming_hosted_by(session: Session, *, person: Person, now: datetime) -> list[LunchSession]:
    return list(
        session.scalars(
            select(LunchSession)
            .where(
                LunchSession.team_id == person.team_id,
                LunchSession.host_id == person.id,
                LunchSession.status == LunchStatus.SCHEDULED,
                LunchSession.starts_at > now,
            )
            .order_by(LunchSession.id)
        )
    )


def cancel_session(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    admin_user_ids: Iterable[str],
    now: datetime,
) -> Change:
    lunch, refusal = _lock_for_host(
        session, session_id=session_id, person=person, admin_user_ids=admin_user_ids, now=now
    )
    if refusal is not None:
        return refusal
    assert lunch is not None
    state = state_of(session, lunch)
    lunch.status = LunchStatus.CANCELLED
    lunch.cancelled_at = now
    lunch.version += 1
    # Nothing still queued about this session makes sense any more (reminders, pending notices).
    outbox.cancel(session, team_id=lunch.team_id, key_prefix=f"lunch:{lunch.id}:")
    audience = [p for p in [*state.attendees, *state.waitlisted] if p.id != person.id]
    return Change(Outcome.CANCELLED, lunch, audience=audience)


# ----------------------------------------------------------------------------- outbox keys

# Every key starts with "lunch:<id>:" so cancelling a session drops everything still queued for it.


def announce_key(lunch: LunchSession) -> str:
    # The version makes a retry after a failed post (`/lunchnlearn announce`) a new message.
    return f"lunch:{lunch.id}:announce:{lunch.version}"


def wish_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:wish:{person.slack_user_id}"


def edited_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:edited:{lunch.version}:{person.slack_user_id}"


def cancelled_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:cancelled:{person.slack_user_id}"


def promoted_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:promoted:{lunch.version}:{person.slack_user_id}"


def reminder_prefix(lunch: LunchSession, person: Person | None = None) -> str:
    return f"lunch:{lunch.id}:remind:" + (f"{person.slack_user_id}:" if person else "")


def reminder_key(lunch: LunchSession, person: Person, minutes: int) -> str:
    # The start time is in the key: after a time change, reminders for the new time are new.
    return f"{reminder_prefix(lunch, person)}{int(lunch.starts_at.timestamp())}:{minutes}"


def feedback_key(lunch: LunchSession, person: Person) -> str:
    return f"lunch:{lunch.id}:feedback:{person.slack_user_id}"


def summary_key(lunch: LunchSession) -> str:
    return f"lunch:{lunch.id}:summary"


def lineup_key(week: str) -> str:
    return f"lunch-lineup:{week}"


def suggestion_key(suggestion: LunchSuggestion) -> str:
    return f"lunch-suggestion:{suggestion.id}"


def notify(
    session: Session,
    *,
    team_id: str,
    key: str,
    kind: str,
    recipient: str,
    message: Any,
    now: datetime,
) -> bool:
    """Queue one message; False when its key was already queued (a re-run or a double click)."""
    row = outbox.enqueue(
        session,
        team_id=team_id,
        dedupe_key=key,
        kind=kind,
        recipient=recipient,
        message=message,
        send_after=now,
    )
    return row is not None


def notify_people(
    session: Session,
    *,
    lunch: LunchSession,
    people: Sequence[Person],
    key: Callable[[LunchSession, Person], str],
    kind: str,
    render: Callable[[Person], Any],
    now: datetime,
) -> int:
    sent = 0
    for person in people:
        if person.deactivated_at or person.forgotten_at:
            continue
        sent += notify(
            session,
            team_id=lunch.team_id,
            key=key(lunch, person),
            kind=kind,
            recipient=person.slack_user_id,
            message=render(person),
            now=now,
        )
    return sent


# ----------------------------------------------------------------------------- the announcement


def prepare_announcement(session: Session, lunch: LunchSession, *, channel_id: str) -> str:
    """Point the session at its channel and return the key to queue the announcement under."""
    lunch.channel_id = channel_id
    lunch.message_ts = None
    lunch.version += 1
    session.flush()
    return announce_key(lunch)


def announcement_row(session: Session, lunch: LunchSession) -> OutboxMessage | None:
    """The newest announcement queued for the session, whatever became of it."""
    return session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.team_id == lunch.team_id,
            OutboxMessage.dedupe_key.startswith(f"lunch:{lunch.id}:announce:"),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def announcement_ref(session: Session, lunch: LunchSession) -> tuple[str, str] | None:
    """(channel, ts) of the posted announcement, to update it in place; None until it is posted.

    The outbox sends it; whoever first sees it sent copies channel and ts onto the session.
    """
    if lunch.channel_id and lunch.message_ts:
        return lunch.channel_id, lunch.message_ts
    row = announcement_row(session, lunch)
    if row is None or row.status != OutboxStatus.SENT or not row.channel_id or not row.slack_ts:
        return None
    lunch.channel_id, lunch.message_ts = row.channel_id, row.slack_ts
    return row.channel_id, row.slack_ts


def cancel_announcement(session: Session, lunch: LunchSession) -> None:
    """The channel can never take the post (archived): cancelled, not retried."""
    outbox.cancel(session, team_id=lunch.team_id, key_prefix=announce_key(lunch))


@dataclass(frozen=True)
class AnnouncementStatus:
    posted: bool
    failed: bool  # refused for good or cancelled; `error` says why when Slack said
    error: str | None = None


def announcement_status(session: Session, lunch: LunchSession) -> AnnouncementStatus:
    if announcement_ref(session, lunch):
        return AnnouncementStatus(posted=True, failed=False)
    row = announcement_row(session, lunch)
    if row is not None and row.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
        return AnnouncementStatus(posted=False, failed=True, error=row.last_error)
    return AnnouncementStatus(posted=False, failed=False)


def unannounced(session: Session, *, person: Person, now: datetime) -> list[LunchSession]:
    """Sessions this person hosts or proposed that never reached the channel (e.g. bot not invited)."""
    candidates = session.scalars(
        select(LunchSession)
        .where(
            LunchSession.team_id == person.team_id,
            LunchSession.status == LunchStatus.SCHEDULED,
            LunchSession.starts_at > now,
            LunchSession.message_ts.is_(None),
            (LunchSession.host_id == person.id) | (LunchSession.proposed_by_id == person.id),
        )
        .order_by(LunchSession.starts_at)
    )
    found = []
    for lunch in candidates:
        row = announcement_row(session, lunch)
        if row is None or row.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
            found.append(lunch)
    return found


def wishers(session: Session, lunch: LunchSession) -> list[Person]:
    """People with an open wish for the session's topic: they hear about it when it is announced."""
    if lunch.topic_id is None:
        return []
    return list(
        session.scalars(
            select(Person)
            .join(Wish, Wish.person_id == Person.id)
            .where(
                Wish.topic_id == lunch.topic_id,
                Wish.status == WishStatus.OPEN,
                Person.id != lunch.host_id,
                Person.deactivated_at.is_(None),
                Person.forgotten_at.is_(None),
            )
            .order_by(Person.id)
        )
    )


# ----------------------------------------------------------------------------- lists


def upcoming(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    until: datetime | None = None,
    limit: int = UPCOMING_LIMIT,
) -> list[LunchSession]:
    query = select(LunchSession).where(
        LunchSession.team_id == team_id,
        LunchSession.status == LunchStatus.SCHEDULED,
        LunchSession.starts_at > now,
    )
    if until is not None:
        query = query.where(LunchSession.starts_at < until)
    return list(session.scalars(query.order_by(LunchSession.starts_at, LunchSession.id).limit(limit)))


@dataclass(frozen=True)
class MySeat:
    """How a session looks from one person's side, for `/lunchnlearn list` and App Home."""

    state: SessionState
    hosting: bool
    attending: bool
    waitlist_position: int | None


def listing(session: Session, *, person: Person, now: datetime, limit: int = UPCOMING_LIMIT) -> list[MySeat]:
    seats = []
    for lunch in upcoming(session, team_id=person.team_id, now=now, limit=limit):
        state = state_of(session, lunch)
        waiting = [p.id for p in state.waitlisted]
        seats.append(
            MySeat(
                state,
                hosting=lunch.host_id == person.id,
                attending=any(p.id == person.id for p in state.attendees),
                waitlist_position=waiting.index(person.id) + 1 if person.id in waiting else None,
            )
        )
    return seats


def my_upcoming(session: Session, *, person: Person, now: datetime) -> list[MySeat]:
    """The sessions I host, attend or wait for (App Home)."""
    return [
        seat
        for seat in listing(session, person=person, now=now, limit=50)
        if seat.hosting or seat.attending or seat.waitlist_position
    ]


# ----------------------------------------------------------------------------- feedback


def validate_rating(raw: Any) -> int:
    rating = parse_id(raw)
    if rating not in RATINGS:
        raise ValueError("Pick a rating from 1 to 5.")
    return rating


def record_feedback(
    session: Session,
    *,
    session_id: int | None,
    person: Person,
    rating: int,
    note: str | None = None,
    now: datetime,
) -> Change:
    """Store (or change) an attendee's 1-5 rating and optional note."""
    lunch = get_session(session, team_id=person.team_id, session_id=session_id)
    if lunch is None:
        return Change(Outcome.NOT_FOUND)
    if lunch.status == LunchStatus.CANCELLED:
        return Change(Outcome.SESSION_CANCELLED, lunch)
    if lunch.starts_at > now:
        return Change(Outcome.NOT_OVER, lunch)
    signup = _signup(session, lunch, person)
    if signup is None or signup.status != SignupStatus.ATTENDING:
        return Change(Outcome.NOT_ATTENDEE, lunch)
    feedback = session.scalar(
        select(LunchFeedback).where(
            LunchFeedback.session_id == lunch.id, LunchFeedback.person_id == person.id
        )
    )
    if feedback is None:
        feedback = LunchFeedback(session_id=lunch.id, person_id=person.id, rating=rating, created_at=now)
        session.add(feedback)
    feedback.rating = rating
    cleaned = _clean_multiline(note or "")[:NOTE_MAX]
    if cleaned:
        feedback.note = cleaned
    session.flush()
    return Change(Outcome.RATED, lunch)


@dataclass(frozen=True)
class FeedbackSummary:
    count: int
    average: float | None
    by_rating: dict[int, int]
    notes: list[str]


def feedback_summary(session: Session, lunch: LunchSession, *, notes: int = 5) -> FeedbackSummary:
    rows = list(
        session.scalars(
            select(LunchFeedback)
            .where(LunchFeedback.session_id == lunch.id)
            .order_by(LunchFeedback.created_at.desc(), LunchFeedback.id.desc())
        )
    )
    by_rating = {rating: sum(1 for row in rows if row.rating == rating) for rating in RATINGS}
    average = round(sum(row.rating for row in rows) / len(rows), 1) if rows else None
    return FeedbackSummary(len(rows), average, by_rating, [row.note for row in rows if row.note][:notes])


def hosted_past(
    session: Session, *, person: Person, now: datetime, limit: int = 3
) -> list[tuple[LunchSession, FeedbackSummary]]:
    """The host's latest finished sessions with what attendees said (shown in `/lunchnlearn list`)."""
    lunches = session.scalars(
        select(LunchSession)
        .where(
            LunchSession.host_id == person.id,
            LunchSession.status == LunchStatus.SCHEDULED,
            LunchSession.starts_at <= now,
        )
        .order_by(LunchSession.starts_at.desc())
        .limit(limit)
    )
    return [(lunch, feedback_summary(session, lunch)) for lunch in lunches]


# ----------------------------------------------------------------------------- scheduled work


def reminder_minutes(settings: ProgrammeSettings) -> list[int]:
    minutes = []
    for part in (settings.lnl_reminder_minutes or "").split(","):
        value = parse_id(part)
        if value:
            minutes.append(value)
    return sorted(set(minutes))


@dataclass(frozen=True)
class DueReminder:
    lunch: LunchSession
    person: Person
    minutes: int

    @property
    def key(self) -> str:
        return reminder_key(self.lunch, self.person, self.minutes)


def due_reminders(
    session: Session, *, team_id: str, minutes: Sequence[int], now: datetime
) -> list[DueReminder]:
    """Reminders whose time has come, for the host and everyone going.

    Only the nearest due reminder is sent (after downtime nobody gets "tomorrow" and "in 15 minutes"
    at once), and only to people who were already going at its time (a late sign-up gets the next).
    """
    if not minutes:
        return []
    due = []
    for lunch in upcoming(session, team_id=team_id, now=now, until=now + timedelta(minutes=max(minutes) + 1)):
        offset = min((m for m in minutes if lunch.starts_at - timedelta(minutes=m) <= now), default=None)
        if offset is None:
            continue
        reminder_time = lunch.starts_at - timedelta(minutes=offset)
        if lunch.created_at <= reminder_time:
            due.append(DueReminder(lunch, lunch.host, offset))
        for signup in signups(session, lunch, SignupStatus.ATTENDING):
            joined = signup.promoted_at or signup.signed_up_at
            if joined <= reminder_time:
                due.append(DueReminder(lunch, signup.person, offset))
    return due


def due_feedback_asks(session: Session, *, team_id: str, now: datetime) -> list[tuple[LunchSession, Person]]:
    """Attendees of sessions that ended in the last few days and have not rated them yet."""
    asks = []
    for lunch in _ended_between(session, team_id=team_id, start=now - FEEDBACK_ASK_WINDOW, end=now):
        rated = set(
            session.scalars(select(LunchFeedback.person_id).where(LunchFeedback.session_id == lunch.id))
        )
        asks += [
            (lunch, s.person)
            for s in signups(session, lunch, SignupStatus.ATTENDING)
            if s.person_id not in rated
        ]
    return asks


def due_host_summaries(
    session: Session, *, team_id: str, now: datetime
) -> list[tuple[LunchSession, FeedbackSummary]]:
    """Sessions that ended a couple of days ago with at least one rating: the host hears the results."""
    found = []
    for lunch in _ended_between(
        session, team_id=team_id, start=now - HOST_SUMMARY_WINDOW, end=now - HOST_SUMMARY_AFTER
    ):
        summary = feedback_summary(session, lunch)
        if summary.count:
            found.append((lunch, summary))
    return found


def _ended_between(session: Session, *, team_id: str, start: datetime, end: datetime) -> list[LunchSession]:
    # Sessions last at most DURATION_MAX minutes: widen the start-time window by that, then filter.
    lunches = session.scalars(
        select(LunchSession)
        .where(
            LunchSession.team_id == team_id,
            LunchSession.status == LunchStatus.SCHEDULED,
            LunchSession.starts_at > start - timedelta(minutes=DURATION_MAX),
            LunchSession.starts_at <= end,
        )
        .order_by(LunchSession.starts_at)
    )
    return [lunch for lunch in lunches if start < lunch.ends_at <= end]


def lineup_week(settings: ProgrammeSettings, *, now: datetime) -> str | None:
    """This week's key once Monday morning has come in the programme's timezone, else None."""
    local = now.astimezone(zone(settings.matching_timezone))
    if local.weekday() != LINEUP_WEEKDAY or local.time() < LINEUP_TIME:
        return None
    year, week, _day = local.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class TopicDemand:
    topic: Topic
    wishers: int
    teachers: int


@dataclass(frozen=True)
class Lineup:
    week: str
    sessions: list[SessionState]
    demand: list[TopicDemand]

    @property
    def empty(self) -> bool:
        return not self.sessions and not self.demand


def weekly_lineup(session: Session, *, team_id: str, week: str, now: datetime) -> Lineup:
    lunches = upcoming(session, team_id=team_id, now=now, until=now + timedelta(days=7), limit=LINEUP_LIMIT)
    return Lineup(
        week,
        [state_of(session, lunch) for lunch in lunches],
        topics_in_demand(session, team_id=team_id, now=now, limit=DEMAND_LIMIT),
    )


def _active(person_id_column: Any) -> Any:
    return person_id_column.in_(
        select(Person.id).where(Person.deactivated_at.is_(None), Person.forgotten_at.is_(None))
    )


def topics_in_demand(
    session: Session, *, team_id: str, now: datetime, limit: int = DEMAND_LIMIT, minimum: int = 1
) -> list[TopicDemand]:
    """Topics with the most open wishes (and no session already coming up on them)."""
    wish_counts = (
        select(Wish.topic_id, func.count(Wish.id).label("wishers"))
        .where(Wish.team_id == team_id, Wish.status == WishStatus.OPEN, _active(Wish.person_id))
        .group_by(Wish.topic_id)
        .subquery()
    )
    teacher_counts = (
        select(Skill.topic_id, func.count(Skill.id).label("teachers"))
        .join(Person, Person.id == Skill.person_id)
        .where(Skill.team_id == team_id, Person.paused.is_(False), _active(Skill.person_id))
        .group_by(Skill.topic_id)
        .subquery()
    )
    planned = select(LunchSession.topic_id).where(
        LunchSession.team_id == team_id,
        LunchSession.status == LunchStatus.SCHEDULED,
        LunchSession.starts_at > now,
        LunchSession.topic_id.is_not(None),
    )
    rows = session.execute(
        select(Topic, wish_counts.c.wishers, func.coalesce(teacher_counts.c.teachers, 0))
        .join(wish_counts, wish_counts.c.topic_id == Topic.id)
        .outerjoin(teacher_counts, teacher_counts.c.topic_id == Topic.id)
        .where(wish_counts.c.wishers >= minimum, Topic.id.not_in(planned))
        .order_by(wish_counts.c.wishers.desc(), Topic.display_name, Topic.id)
        .limit(limit)
    )
    return [TopicDemand(topic, int(wishers), int(teachers)) for topic, wishers, teachers in rows]


@dataclass(frozen=True)
class SuggestionPick:
    suggestion: LunchSuggestion
    topic: Topic
    teacher: Person
    wishers: int


def suggest_sessions(
    session: Session, *, team_id: str, threshold: int, now: datetime, limit: int = 20
) -> list[SuggestionPick]:
    """Demand-driven nudges: for each topic enough people wish for, the best-placed teacher.

    Junior teaches senior: the teacher at the earliest career stage goes first, then the higher skill
    level, then the earliest to join. Nobody hears about the same topic more than once a month, a topic
    is suggested at most once a week, and a teacher gets at most one nudge per run.
    """
    picks: list[SuggestionPick] = []
    nudged: set[int] = set()
    for demand in topics_in_demand(session, team_id=team_id, now=now, limit=limit, minimum=max(1, threshold)):
        if demand.teachers == 0 or _suggested_since(session, demand.topic, now - timedelta(days=7)):
            continue
        recent = set(
            session.scalars(
                select(LunchSuggestion.person_id).where(
                    LunchSuggestion.topic_id == demand.topic.id,
                    LunchSuggestion.suggested_at > now - SUGGESTION_COOLDOWN,
                )
            )
        )
        wishing = set(
            session.scalars(
                select(Wish.person_id).where(Wish.topic_id == demand.topic.id, Wish.status == WishStatus.OPEN)
            )
        )
        for _skill, teacher in _teachers(session, demand.topic):
            if teacher.id in recent or teacher.id in nudged or teacher.id in wishing:
                continue
            suggestion = LunchSuggestion(
                team_id=team_id, person_id=teacher.id, topic_id=demand.topic.id, suggested_at=now
            )
            session.add(suggestion)
            session.flush()
            nudged.add(teacher.id)
            picks.append(SuggestionPick(suggestion, demand.topic, teacher, demand.wishers))
            break
    return picks


def _suggested_since(session: Session, topic: Topic, since: datetime) -> bool:
    return bool(
        session.scalar(
            select(LunchSuggestion.id)
            .where(LunchSuggestion.topic_id == topic.id, LunchSuggestion.suggested_at > since)
            .limit(1)
        )
    )


def _teachers(session: Session, topic: Topic) -> list[tuple[Skill, Person]]:
    rows = session.execute(
        select(Skill, Person)
        .join(Person, Person.id == Skill.person_id)
        .where(
            Skill.topic_id == topic.id,
            Person.paused.is_(False),
            Person.deactivated_at.is_(None),
            Person.forgotten_at.is_(None),
        )
    ).all()
    return sorted(
        ((skill, person) for skill, person in rows),
        key=lambda pair: (
            pair[1].career_stage.rank if pair[1].career_stage else 99,
            -pair[0].level.rank,
            pair[1].id,
        ),
    )


def suggestion_for(session: Session, *, person: Person, suggestion_id: int | None) -> LunchSuggestion | None:
    if suggestion_id is None:
        return None
    suggestion = session.get(LunchSuggestion, suggestion_id)
    if suggestion is None or suggestion.person_id != person.id:
        return None
    return suggestion


# ----------------------------------------------------------------------------- calendars


def google_calendar_url(lunch: LunchSession) -> str:
    """A Google Calendar "add event" link (the template URL needs no API and no sign-in by us)."""
    stamp = "%Y%m%dT%H%M%SZ"
    details = lunch.description or ""
    if lunch.location and is_link(lunch.location):
        details = f"{details}\n\nJoin: {lunch.location}".strip()
    params = {
        "action": "TEMPLATE",
        "text": f"Lunch 'n' Learn: {lunch.title}",
        "dates": f"{lunch.starts_at.astimezone(UTC):{stamp}}/{lunch.ends_at.astimezone(UTC):{stamp}}",
        "details": details[:1000],
        "location": lunch.location,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(params, quote_via=quote)


def ics_text(lunch: LunchSession, *, now: datetime, host_name: str = "") -> str:
    """An iCalendar (RFC 5545) event: CRLF lines, escaped text, lines folded at 75 octets."""
    stamp = "%Y%m%dT%H%M%SZ"
    description = lunch.description or ""
    if host_name:
        description = f"Hosted by {host_name}.\n\n{description}".strip()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Flipside//Lunch n Learn//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:lunch-{lunch.id}-{lunch.team_id}@flipside",
        f"SEQUENCE:{lunch.version}",
        f"DTSTAMP:{now.astimezone(UTC).strftime(stamp)}",
        f"DTSTART:{lunch.starts_at.astimezone(UTC).strftime(stamp)}",
        f"DTEND:{lunch.ends_at.astimezone(UTC).strftime(stamp)}",
        f"SUMMARY:{_ics_escape('Lunch n Learn: ' + lunch.title)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_ics_escape(description)}")
    if lunch.location:
        lines.append(f"LOCATION:{_ics_escape(lunch.location)}")
        if is_link(lunch.location):
            lines.append(f"URL:{lunch.location}")
    lines += [
        f"STATUS:{'CANCELLED' if lunch.status == LunchStatus.CANCELLED else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_ics_fold(line) + "\r\n" for line in lines)


def _ics_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def _ics_fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character; continuation lines start with a space."""
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        limit = 75 if not parts else 74
        if size + width > limit:
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)
