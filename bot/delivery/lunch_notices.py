"""Lunch 'n' Learn decisions turned into queued messages (the outbox), and the channel post kept
current. Shared by the listeners and the jobs, as bot/notices.py is for pairings.

Every outbox key is the message's identity: a click or a job processed twice queues nothing new.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.db import Database
from bot.delivery.sender import flush_outbox
from bot.logs import error_code
from bot.services.lunch import announcements, consent, seats
from bot.services.lunch.common import Change, Outcome, get_session
from bot.services.lunch.consent import Answer, HostAnswer
from bot.views import lunch as views
from bot.views.common import Message
from models import LunchSession, Person

logger = logging.getLogger(__name__)


def queue_announcement(session: Session, lunch: LunchSession, *, channel_id: str, now: datetime) -> int:
    """Queue the channel post and the DMs to people who wished for the topic; returns how many DMs."""
    key = announcements.prepare_announcement(session, lunch, channel_id=channel_id)
    state = seats.state_of(session, lunch)
    announcements.notify(
        session,
        team_id=lunch.team_id,
        key=key,
        kind="lunch_announcement",
        recipient=channel_id,
        message=views.build_announcement(state),
        now=now,
    )
    return announcements.notify_people(
        session,
        lunch=lunch,
        people=announcements.wishers(session, lunch),
        key=announcements.wish_key,
        kind="lunch_wish",
        render=lambda _person: views.build_wish_notice(state),
        now=now,
    )


def ask_host(session: Session, lunch: LunchSession, *, now: datetime) -> None:
    """The named host's request: Accept or Decline. Nothing is announced before they accept."""
    proposer = session.get(Person, lunch.proposed_by_id) if lunch.proposed_by_id else None
    announcements.notify(
        session,
        team_id=lunch.team_id,
        key=consent.request_key(lunch),
        kind="lunch_host_request",
        recipient=lunch.host.slack_user_id,
        message=views.build_host_request(lunch, proposer=proposer, expires_at=consent.expires_at(lunch)),
        now=now,
    )


def tell_host_answer(session: Session, answer: HostAnswer, *, channel_id: str | None, now: datetime) -> int:
    """What the host's answer decided, queued: on acceptance the channel post (and the DMs to people
    who wished for the topic, whose number is returned); in every case a DM to the proposer."""
    lunch = answer.lunch
    if not answer.changed or lunch is None:
        return 0
    told = 0
    if answer.answer == Answer.ACCEPTED and channel_id:
        told = queue_announcement(session, lunch, channel_id=channel_id, now=now)
    proposer = session.get(Person, lunch.proposed_by_id) if lunch.proposed_by_id else None
    if proposer is not None:
        message = views.build_host_answer_notice(lunch, answer.answer, channel_id=channel_id)
        _tell(session, lunch, [proposer], consent.answer_key, "lunch_host_answer", message, now)
    return told


def tell_expired(session: Session, lunch: LunchSession, *, now: datetime) -> None:
    """The host never answered: the proposer hears that nothing was announced."""
    tell_host_answer(session, HostAnswer(Answer.EXPIRED, lunch, changed=True), channel_id=None, now=now)


def tell_promoted(session: Session, change: Change, *, now: datetime) -> None:
    if change.lunch is None or not change.promoted:
        return
    message = views.build_promoted_notice(change.lunch)
    _tell(session, change.lunch, change.promoted, announcements.promoted_key, "lunch_promoted", message, now)


def tell_edited(session: Session, change: Change, *, now: datetime) -> int:
    if change.lunch is None or not change.changes:
        return 0
    lunch = change.lunch
    tell_promoted(session, change, now=now)
    audience = [p for p in change.audience if p.id != lunch.host_id]
    message = views.build_edit_notice(lunch, change.changes)
    return _tell(session, lunch, audience, announcements.edited_key, "lunch_edited", message, now)


def tell_cancelled(session: Session, change: Change, *, reason: str, now: datetime) -> None:
    if change.outcome != Outcome.CANCELLED or change.lunch is None:
        return
    message = views.build_cancel_notice(change.lunch, reason=reason)
    _tell(
        session, change.lunch, change.audience, announcements.cancelled_key, "lunch_cancelled", message, now
    )


def _tell(
    session: Session,
    lunch: LunchSession,
    people: Sequence[Person],
    key: Callable[[LunchSession, Person], str],
    kind: str,
    message: Message,
    now: datetime,
) -> int:
    """The same DM to each of `people` about `lunch`, once per person and key."""
    return announcements.notify_people(
        session, lunch=lunch, people=people, key=key, kind=kind, render=lambda _person: message, now=now
    )


# (team, session) -> whether another redraw was asked for while one is under way in this process.
_redrawing: dict[tuple[str, int], bool] = {}
_redrawing_lock = threading.Lock()


def refresh_announcement(client: WebClient, db: Database, *, team_id: str, session_id: int) -> None:
    """Redraw the channel post from the database, in place.

    A burst of clicks on one post asks for a redraw per click, past Slack's chat.update rate: while
    one thread of this process is drawing, the others only ask it to draw once more and return.
    Another process may draw meanwhile, so after each chat.update the session's version is
    checked: the last drawing always shows the last state."""
    key = (team_id, session_id)
    with _redrawing_lock:
        if key in _redrawing:
            _redrawing[key] = True
            return
        _redrawing[key] = False
    try:
        while True:
            changed = _draw_announcement(client, db, team_id=team_id, session_id=session_id)
            with _redrawing_lock:  # checked and let go at once: no request can slip in between
                if not changed and not _redrawing[key]:
                    del _redrawing[key]
                    return
                _redrawing[key] = False
    except BaseException:
        with _redrawing_lock:
            _redrawing.pop(key, None)
        raise


def _draw_announcement(client: WebClient, db: Database, *, team_id: str, session_id: int) -> bool:
    """Draw the post once; True if the session changed meanwhile (in another process)."""
    with db.transaction() as session:
        lunch = get_session(session, team_id=team_id, session_id=session_id)
        ref = announcements.announcement_ref(session, lunch) if lunch else None
        if lunch is None or ref is None:
            return False
        drawn_version = lunch.version
        announcement = views.build_announcement(seats.state_of(session, lunch))
    try:
        client.chat_update(channel=ref[0], ts=ref[1], **announcement.as_kwargs())
    except SlackApiError as error:
        code = error_code(error.response.get("error"))
        logger.warning("could not update a Lunch 'n' Learn announcement: %s", code)
        return False
    with db.transaction() as session:
        lunch = session.get(LunchSession, session_id)
        return lunch is not None and lunch.version != drawn_version


def join_channel(client: WebClient, channel_id: str, *, token: str | None = None) -> str | None:
    """Join a public channel so posting works without an /invite; a private one answers with an
    error (the post then fails and the outbox records why). Returns "is_archived", else None."""
    try:
        client.conversations_join(channel=channel_id, **({"token": token} if token else {}))
    except SlackApiError as error:
        code = str(error.response.get("error"))
        logger.info("conversations.join refused (%s); trying to post anyway", error_code(code))
        return code if code == "is_archived" else None
    return None


def send_queued(client: WebClient, db: Database, *, team_id: str, session_id: int) -> None:
    """Send what a click queued about this session (post, DMs) now, not at the next job tick."""
    flush_outbox(db, client, team_id=team_id, key_prefix=f"lunch:{session_id}:")
