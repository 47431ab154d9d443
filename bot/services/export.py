"""CSV export of a workspace's programme: its figures, pairings, their sessions, Lunch 'n' Learns,
sign-ups, feedback.

Columns are fixed here (tests pin them), so spreadsheets and scripts built on an export keep
working. Counts and averages per row come from SQL subqueries, not from Python loops over rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session, aliased

from bot.services import figures
from models import (
    LunchFeedback,
    LunchSession,
    LunchSignup,
    MatchingRound,
    Pairing,
    PairingFeedback,
    PairingMeeting,
    Person,
    SignupStatus,
    Topic,
)

PAIRINGS_COLUMNS = (
    "pairing_id",
    "round",
    "topic",
    "exchange_topic",
    "learner_slack_id",
    "learner_name",
    "learner_career_stage",
    "learner_department",
    "teacher_slack_id",
    "teacher_name",
    "teacher_career_stage",
    "teacher_department",
    "reverse",
    "cross_department",
    "score",
    "status",
    "learner_answer",
    "teacher_answer",
    "proposed_at",
    "accepted_at",
    "ended_at",
    "end_reason",
    "sessions_logged",
    "average_rating",
)
PAIRING_SESSIONS_COLUMNS = (
    "session_id",
    "pairing_id",
    "topic",
    "logged_by_slack_id",
    "logged_by_name",
    "logged_at",
    "rating",
    "halves",  # in an exchange: topic, exchange_topic or both; empty for a one-way pairing
)
LUNCH_SESSIONS_COLUMNS = (
    "lunch_id",
    "title",
    "topic",
    "host_slack_id",
    "host_name",
    "starts_at",
    "duration_minutes",
    "location",
    "capacity",
    "status",
    "attending",
    "waitlisted",
    "cancelled_signups",
    "feedback_count",
    "average_rating",
)
LUNCH_SIGNUPS_COLUMNS = (
    "lunch_id",
    "title",
    "starts_at",
    "person_slack_id",
    "person_name",
    "status",
    "signed_up_at",
    "promoted_at",
)
FIGURES_COLUMNS = ("period", "since", "until", "figure", "label", "value", "previous_value")
FEEDBACK_COLUMNS = (
    "kind",
    "ref_id",
    "subject",
    "person_slack_id",
    "person_name",
    "rating",
    "note",
    "created_at",
)

# A spreadsheet runs a cell starting with one of these as a formula: a note typed as
# "=HYPERLINK(...)" must stay text in the admin's Excel (OWASP's CSV injection advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_csv(session: Session, *, team_id: str, as_of: datetime) -> dict[str, bytes]:
    """Every file of the export, by file name, as UTF-8 CSV bytes (with a BOM, so Excel reads
    accented names correctly). figures.csv holds the figures App Home and `report` show, for every
    period up to `as_of`."""
    return {
        "figures.csv": _csv(FIGURES_COLUMNS, _figures(session, team_id, as_of)),
        "pairings.csv": _csv(PAIRINGS_COLUMNS, _pairings(session, team_id)),
        "pairing_sessions.csv": _csv(PAIRING_SESSIONS_COLUMNS, _pairing_sessions(session, team_id)),
        "lunch_sessions.csv": _csv(LUNCH_SESSIONS_COLUMNS, _lunch_sessions(session, team_id)),
        "lunch_signups.csv": _csv(LUNCH_SIGNUPS_COLUMNS, _lunch_signups(session, team_id)),
        "feedback.csv": _csv(FEEDBACK_COLUMNS, _feedback(session, team_id)),
    }


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        assert len(row) == len(columns)
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _figures(session: Session, team_id: str, as_of: datetime) -> Iterable[Sequence[Any]]:
    for report in figures.all_periods(session, team_id=team_id, as_of=as_of):
        window = report.current.window
        for row in report.rows():
            yield [
                report.period.value,
                window.since,
                window.until,
                row.key,
                row.label,
                row.value,
                row.previous,
            ]


def _pairings(session: Session, team_id: str) -> Iterable[Sequence[Any]]:
    learner, teacher, exchange = aliased(Person), aliased(Person), aliased(Topic)
    meetings = (
        select(
            PairingMeeting.pairing_id,
            func.count().label("sessions"),
            func.avg(PairingMeeting.rating).label("rating"),
        )
        .group_by(PairingMeeting.pairing_id)
        .subquery()
    )
    query = (
        select(
            Pairing.id,
            MatchingRound.round_key,
            Topic.display_name,
            exchange.display_name,
            learner.slack_user_id,
            learner.display_name,
            learner.career_stage,
            learner.department,
            teacher.slack_user_id,
            teacher.display_name,
            teacher.career_stage,
            teacher.department,
            Pairing.is_reverse,
            Pairing.is_cross_department,
            Pairing.score,
            Pairing.status,
            Pairing.learner_answer,
            Pairing.teacher_answer,
            Pairing.proposed_at,
            Pairing.accepted_at,
            Pairing.ended_at,
            Pairing.end_reason,
            func.coalesce(meetings.c.sessions, 0),
            meetings.c.rating,
        )
        .join(Topic, Topic.id == Pairing.topic_id)
        .join(learner, learner.id == Pairing.learner_id)
        .join(teacher, teacher.id == Pairing.teacher_id)
        .outerjoin(exchange, exchange.id == Pairing.exchange_topic_id)
        .outerjoin(MatchingRound, MatchingRound.id == Pairing.round_id)
        .outerjoin(meetings, meetings.c.pairing_id == Pairing.id)
        .where(Pairing.team_id == team_id)
        .order_by(Pairing.proposed_at, Pairing.id)
    )
    for row in session.execute(query):
        yield [*row[:-1], None if row[-1] is None else float(row[-1])]


def _pairing_sessions(session: Session, team_id: str) -> Iterable[Sequence[Any]]:
    return session.execute(
        select(
            PairingMeeting.id,
            Pairing.id,
            Topic.display_name,
            Person.slack_user_id,
            Person.display_name,
            PairingMeeting.logged_at,
            PairingMeeting.rating,
            PairingMeeting.halves,
        )
        .join(Pairing, Pairing.id == PairingMeeting.pairing_id)
        .join(Topic, Topic.id == Pairing.topic_id)
        .outerjoin(Person, Person.id == PairingMeeting.logged_by_id)
        .where(Pairing.team_id == team_id)
        .order_by(PairingMeeting.logged_at, PairingMeeting.id)
    )


def _lunch_sessions(session: Session, team_id: str) -> Iterable[Sequence[Any]]:
    def count_of(status: SignupStatus) -> Any:
        return func.coalesce(func.sum(case((LunchSignup.status == status, 1), else_=0)), 0)

    signups = (
        select(
            LunchSignup.session_id,
            count_of(SignupStatus.ATTENDING).label("attending"),
            count_of(SignupStatus.WAITLISTED).label("waitlisted"),
            count_of(SignupStatus.CANCELLED).label("cancelled"),
        )
        .group_by(LunchSignup.session_id)
        .subquery()
    )
    feedback = (
        select(
            LunchFeedback.session_id,
            func.count().label("count"),
            func.avg(LunchFeedback.rating).label("rating"),
        )
        .group_by(LunchFeedback.session_id)
        .subquery()
    )
    query = (
        select(
            LunchSession.id,
            LunchSession.title,
            Topic.display_name,
            Person.slack_user_id,
            Person.display_name,
            LunchSession.starts_at,
            LunchSession.duration_minutes,
            LunchSession.location,
            LunchSession.capacity,
            LunchSession.status,
            func.coalesce(signups.c.attending, 0),
            func.coalesce(signups.c.waitlisted, 0),
            func.coalesce(signups.c.cancelled, 0),
            func.coalesce(feedback.c.count, 0),
            feedback.c.rating,
        )
        .join(Person, Person.id == LunchSession.host_id)
        .outerjoin(Topic, Topic.id == LunchSession.topic_id)
        .outerjoin(signups, signups.c.session_id == LunchSession.id)
        .outerjoin(feedback, feedback.c.session_id == LunchSession.id)
        .where(LunchSession.team_id == team_id)
        .order_by(LunchSession.starts_at, LunchSession.id)
    )
    for row in session.execute(query):
        yield [*row[:-1], None if row[-1] is None else float(row[-1])]


def _lunch_signups(session: Session, team_id: str) -> Iterable[Sequence[Any]]:
    return session.execute(
        select(
            LunchSession.id,
            LunchSession.title,
            LunchSession.starts_at,
            Person.slack_user_id,
            Person.display_name,
            LunchSignup.status,
            LunchSignup.signed_up_at,
            LunchSignup.promoted_at,
        )
        .join(LunchSession, LunchSession.id == LunchSignup.session_id)
        .join(Person, Person.id == LunchSignup.person_id)
        .where(LunchSession.team_id == team_id)
        .order_by(LunchSession.starts_at, LunchSession.id, LunchSignup.signed_up_at, LunchSignup.id)
    )


def _feedback(session: Session, team_id: str) -> Iterable[Sequence[Any]]:
    """Ratings and notes from the three places people give them, oldest first within each."""
    yield from session.execute(
        select(
            literal("pairing_session"),
            Pairing.id,
            Topic.display_name,
            Person.slack_user_id,
            Person.display_name,
            PairingMeeting.rating,
            PairingMeeting.note,
            PairingMeeting.logged_at,
        )
        .join(Pairing, Pairing.id == PairingMeeting.pairing_id)
        .join(Topic, Topic.id == Pairing.topic_id)
        .outerjoin(Person, Person.id == PairingMeeting.logged_by_id)
        .where(Pairing.team_id == team_id)
        .order_by(PairingMeeting.logged_at, PairingMeeting.id)
    )
    yield from session.execute(
        select(
            literal("pairing_end"),
            Pairing.id,
            Topic.display_name,
            Person.slack_user_id,
            Person.display_name,
            PairingFeedback.rating,
            PairingFeedback.note,
            PairingFeedback.created_at,
        )
        .join(Pairing, Pairing.id == PairingFeedback.pairing_id)
        .join(Topic, Topic.id == Pairing.topic_id)
        .join(Person, Person.id == PairingFeedback.person_id)
        .where(Pairing.team_id == team_id)
        .order_by(PairingFeedback.created_at, PairingFeedback.id)
    )
    yield from session.execute(
        select(
            literal("lunch"),
            LunchSession.id,
            LunchSession.title,
            Person.slack_user_id,
            Person.display_name,
            LunchFeedback.rating,
            LunchFeedback.note,
            LunchFeedback.created_at,
        )
        .join(LunchSession, LunchSession.id == LunchFeedback.session_id)
        .join(Person, Person.id == LunchFeedback.person_id)
        .where(LunchSession.team_id == team_id)
        .order_by(LunchFeedback.created_at, LunchFeedback.id)
    )
