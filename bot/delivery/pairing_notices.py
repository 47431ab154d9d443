"""Turn pairing decisions into queued messages (the outbox), inside the deciding transaction.

Every key is the message's identity: a job or a click processed twice queues nothing new.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import ProgrammeDefaults
from bot.delivery import canvases
from bot.services import outbox, rounds, waiting
from bot.services.matching import UnmatchedReason
from bot.services.pairings import Change, Outcome, suggest_meeting_times
from bot.views import flow as flow_views
from bot.views import pairing as views
from models import Pairing, Person, Wish


def _send(
    session: Session,
    pairing_or_team: Pairing | str,
    key: str,
    kind: str,
    recipient: str | list[str],
    message: views.Message,
    now: datetime,
) -> None:
    team_id = pairing_or_team if isinstance(pairing_or_team, str) else pairing_or_team.team_id
    outbox.enqueue(
        session,
        team_id=team_id,
        dedupe_key=key,
        kind=kind,
        recipient=recipient,
        message=message,
        send_after=now,
    )


def proposal_key(pairing: Pairing, person: Person) -> str:
    return f"pairing:{pairing.id}:proposal:{person.slack_user_id}"


def enqueue_proposal(session: Session, pairing: Pairing, *, now: datetime) -> None:
    for person in (pairing.learner, pairing.teacher):
        _send(
            session,
            pairing,
            proposal_key(pairing, person),
            "proposal",
            person.slack_user_id,
            views.build_proposal(pairing, person),
            now,
        )


def enqueue_intro(session: Session, pairing: Pairing, *, now: datetime) -> None:
    times = suggest_meeting_times(pairing.learner.tz, pairing.teacher.tz, now=now)
    _send(
        session,
        pairing,
        f"pairing:{pairing.id}:intro",
        "intro",
        [pairing.learner.slack_user_id, pairing.teacher.slack_user_id],
        views.build_intro(pairing, times=times),
        now,
    )
    canvases.start_log(session, pairing, times=times, now=now)


def enqueue_declined(session: Session, pairing: Pairing, *, declined_by: Person, now: datetime) -> None:
    other = pairing.other_side(declined_by.id)
    _send(
        session,
        pairing,
        f"pairing:{pairing.id}:declined:{other.slack_user_id}",
        "declined",
        other.slack_user_id,
        views.build_decline_notice(pairing, viewer=other),
        now,
    )


def enqueue_reminder(session: Session, pairing: Pairing, person: Person, *, now: datetime) -> None:
    _send(
        session,
        pairing,
        f"pairing:{pairing.id}:reminder:{person.slack_user_id}",
        "reminder",
        person.slack_user_id,
        views.build_reminder(pairing, person),
        now,
    )


def enqueue_expired(session: Session, pairing: Pairing, *, now: datetime) -> None:
    for person in (pairing.learner, pairing.teacher):
        _send(
            session,
            pairing,
            f"pairing:{pairing.id}:expired:{person.slack_user_id}",
            "expired",
            person.slack_user_id,
            views.build_expired(pairing, person),
            now,
        )


def enqueue_keep_in_ask(session: Session, person: Person, *, after_pairing: Pairing, now: datetime) -> None:
    _send(
        session,
        person.team_id,
        f"person:{person.id}:keep-in:after:{after_pairing.id}",
        "keep_in",
        person.slack_user_id,
        views.build_keep_in_ask(),
        now,
    )


def enqueue_checkin(session: Session, pairing: Pairing, *, now: datetime) -> None:
    due = pairing.checkin_due_at.isoformat() if pairing.checkin_due_at else "first"
    for person in (pairing.learner, pairing.teacher):
        _send(
            session,
            pairing,
            f"pairing:{pairing.id}:checkin:{due}:{person.slack_user_id}",
            "checkin",
            person.slack_user_id,
            views.build_checkin(pairing, person),
            now,
        )
    canvases.record_checkin(session, pairing, now=now)


def enqueue_feedback_request(session: Session, pairing: Pairing, *, now: datetime) -> None:
    for person in (pairing.learner, pairing.teacher):
        _send(
            session,
            pairing,
            f"pairing:{pairing.id}:feedback:{person.slack_user_id}",
            "feedback",
            person.slack_user_id,
            views.build_feedback_request(pairing, person),
            now,
        )
    canvases.record_end(session, pairing, now=now)


def enqueue_unmatched(
    session: Session, wish: Wish, *, reason: UnmatchedReason, person: Person, now: datetime
) -> None:
    # Keyed by wish and reason: someone told "nobody teaches it yet" is not told again every week.
    topic = wish.topic.display_name
    _send(
        session,
        wish.team_id,
        f"wish:{wish.id}:unmatched:{reason.value}",
        "unmatched",
        person.slack_user_id,
        views.build_unmatched(topic=topic, why=rounds.UNMATCHED_TEXT[reason].format(topic=topic)),
        now,
    )


def after_answer(session: Session, change: Change, *, now: datetime) -> None:
    """What an accept or decline must tell people: the introduction, or the kind notice."""
    pairing, person = change.pairing, change.person
    if pairing is None or person is None:
        return
    if change.outcome == Outcome.BOTH_ACCEPTED:
        enqueue_intro(session, pairing, now=now)
    elif change.outcome == Outcome.DECLINED:
        enqueue_declined(session, pairing, declined_by=person, now=now)


def run_round_and_notify(
    session: Session,
    *,
    team_id: str,
    defaults: ProgrammeDefaults,
    now: datetime,
    manual: bool = False,
    round_key: str | None = None,
) -> rounds.RoundSummary:
    """The weekly round (or an admin's extra one) with its DMs queued in the same transaction.
    `round_key` names a scheduled round run late (see rounds.due_round_key)."""
    if manual:
        summary = rounds.run_extra_round(session, team_id=team_id, defaults=defaults, now=now)
    else:
        summary = rounds.run_round(session, team_id=team_id, defaults=defaults, now=now, force_key=round_key)
    for pairing in summary.pairings:
        enqueue_proposal(session, pairing, now=now)
    for wish, reason in summary.unmatched:
        enqueue_unmatched(session, wish, reason=reason, person=session.get(Person, wish.person_id), now=now)
    if summary.created:  # a re-run, or another process ran it: that one told them
        told = [(wish.id, reason.value) for wish, reason in summary.unmatched]
        tell_why_waiting(session, team_id=team_id, now=now, already_told=told)
    return summary


def tell_why_waiting(session: Session, *, team_id: str, now: datetime, already_told) -> None:
    """No wish silently ignored: after a round, everyone with a wish that newly waits (and was not
    told by the round's own "not this week") gets one DM saying why and what to do."""
    for person, wishes in waiting.newly_waiting(session, team_id=team_id, now=now, already_told=already_told):
        reasons = ",".join(f"{wish.id}-{reason.value}" for wish, reason in wishes)
        _send(
            session,
            team_id,
            key=f"person:{person.id}:waiting:{reasons}",
            kind="wish_waiting",
            recipient=person.slack_user_id,
            message=flow_views.build_waiting_notice(
                [(wish.topic.display_name, reason.value) for wish, reason in wishes]
            ),
            now=now,
        )
