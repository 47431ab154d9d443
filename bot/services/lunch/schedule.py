"""What the scheduled jobs find due: reminders, feedback asks, hosts' summaries and the weekly line-up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.lunch.announcements import reminder_key
from bot.services.lunch.common import zone
from bot.services.lunch.demand import DEMAND_LIMIT, TopicDemand, topics_in_demand
from bot.services.lunch.feedback import FeedbackSummary, feedback_summary
from bot.services.lunch.proposing import DURATION_MAX
from bot.services.lunch.seats import SessionState, signups, state_of, upcoming
from models import LunchFeedback, LunchSession, LunchStatus, Person, ProgrammeSettings, SignupStatus

FEEDBACK_ASK_WINDOW = timedelta(days=3)  # ask attendees for feedback up to 3 days after the end
HOST_SUMMARY_AFTER = timedelta(days=2)  # the host's summary waits for most answers to come in
HOST_SUMMARY_WINDOW = timedelta(days=7)
LINEUP_LIMIT = 12
# The weekly line-up goes out on Monday morning, in the programme's timezone.
LINEUP_WEEKDAY, LINEUP_TIME = 0, time(9, 0)


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
