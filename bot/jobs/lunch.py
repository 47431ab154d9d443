"""Lunch 'n' Learn's scheduled work: reminders, feedback asks, the weekly line-up and demand-driven
suggestions. Each run decides and queues in one transaction (outbox keys make re-runs harmless),
then sends what is due."""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery.lunch_notices import join_channel, tell_expired
from bot.jobs.base import JobContext, JobSpec, for_each_workspace
from bot.services import admin, profiles
from bot.services.lunch import announcements, consent, demand, schedule
from bot.services.lunch.calendar import google_calendar_url
from bot.views import lunch as views

logger = logging.getLogger(__name__)


def send_reminders(ctx: JobContext) -> dict[str, Any]:
    """The day before and shortly before (LNL_REMINDER_MINUTES), to the host and everyone going."""

    def run(team_id: str) -> int:
        now = ctx.now()
        with ctx.database.transaction() as session:
            settings = profiles.programme_settings(session, team_id=team_id, defaults=ctx.settings.programme)
            queued = 0
            for due in schedule.due_reminders(
                session, team_id=team_id, minutes=admin.reminder_minutes(settings), now=now
            ):
                queued += announcements.notify(
                    session,
                    team_id=team_id,
                    key=due.key,
                    kind="lunch_reminder",
                    recipient=due.person.slack_user_id,
                    message=views.build_reminder(
                        due.lunch,
                        person=due.person,
                        minutes=due.minutes,
                        calendar_url=google_calendar_url(due.lunch),
                    ),
                    now=now,
                )
        ctx.deliverer.deliver_due(now=now, team_id=team_id)
        return queued

    return for_each_workspace(ctx, "lunch-reminders", run)


def ask_feedback(ctx: JobContext) -> dict[str, Any]:
    """After a session: a 1-5 question to each attendee; two days later, the results to the host."""

    def run(team_id: str) -> dict[str, int]:
        now = ctx.now()
        asked = summaries = 0
        with ctx.database.transaction() as session:
            for lunch, person in schedule.due_feedback_asks(session, team_id=team_id, now=now):
                asked += announcements.notify(
                    session,
                    team_id=team_id,
                    key=announcements.feedback_key(lunch, person),
                    kind="lunch_feedback",
                    recipient=person.slack_user_id,
                    message=views.build_feedback_ask(lunch),
                    now=now,
                )
            for lunch, summary in schedule.due_host_summaries(session, team_id=team_id, now=now):
                summaries += announcements.notify(
                    session,
                    team_id=team_id,
                    key=announcements.summary_key(lunch),
                    kind="lunch_summary",
                    recipient=lunch.host.slack_user_id,
                    message=views.build_host_summary(lunch, summary),
                    now=now,
                )
        ctx.deliverer.deliver_due(now=now, team_id=team_id)
        return {"asked": asked, "host_summaries": summaries}

    return for_each_workspace(ctx, "lunch-feedback", run)


def post_lineup(ctx: JobContext) -> dict[str, Any]:
    """Monday morning (programme timezone): this week's sessions and the topics in demand, once."""

    def run(team_id: str) -> str:
        now = ctx.now()
        with ctx.database.transaction() as session:
            settings = profiles.programme_settings(session, team_id=team_id, defaults=ctx.settings.programme)
            week = schedule.lineup_week(settings, now=now)
            channel_id = settings.channel_id
            if week is None or not channel_id:
                return "not due" if week is None else "no programme channel"
            lineup = schedule.weekly_lineup(session, team_id=team_id, week=week, now=now)
            if lineup.empty:
                return f"{week}: nothing to post"
            queued = announcements.notify(
                session,
                team_id=team_id,
                key=announcements.lineup_key(week),
                kind="lunch_lineup",
                recipient=channel_id,
                message=views.build_lineup(lineup),
                now=now,
            )
        if queued:
            _join(ctx, channel_id, team_id)
        ctx.deliverer.deliver_due(now=now, team_id=team_id)
        return f"{week}: posted" if queued else f"{week}: already posted"

    return for_each_workspace(ctx, "lunch-lineup", run)


def suggest_sessions(ctx: JobContext) -> dict[str, Any]:
    """Weekly, with the line-up: topics many people wish for get a nudge to their best-placed teacher."""

    def run(team_id: str) -> int | str:
        now = ctx.now()
        with ctx.database.transaction() as session:
            settings = profiles.programme_settings(session, team_id=team_id, defaults=ctx.settings.programme)
            if schedule.lineup_week(settings, now=now) is None:
                return "not due"
            picks = demand.suggest_sessions(
                session, team_id=team_id, threshold=settings.lnl_demand_threshold, now=now
            )
            for pick in picks:
                announcements.notify(
                    session,
                    team_id=team_id,
                    key=announcements.suggestion_key(pick.suggestion),
                    kind="lunch_suggestion",
                    recipient=pick.teacher.slack_user_id,
                    message=views.build_suggestion(pick),
                    now=now,
                )
        ctx.deliverer.deliver_due(now=now, team_id=team_id)
        return len(picks)

    return for_each_workspace(ctx, "lunch-suggestions", run)


def expire_host_requests(ctx: JobContext) -> dict[str, Any]:
    """Requests to host left unanswered (for days, or until the session starts): the sessions are
    cancelled without being announced, and their proposers told."""

    def run(team_id: str) -> int:
        now = ctx.now()
        with ctx.database.transaction() as session:
            expired = consent.expire_requests(session, team_id=team_id, now=now)
            for lunch in expired:
                tell_expired(session, lunch, now=now)
        ctx.deliverer.deliver_due(now=now, team_id=team_id)
        return len(expired)

    return for_each_workspace(ctx, "lunch-host-requests", run)


def _join(ctx: JobContext, channel_id: str, team_id: str) -> None:
    # With OAuth, each workspace has its own token.
    token = ctx.deliverer.token_for(team_id) if ctx.deliverer.token_for else None
    join_channel(ctx.client, channel_id, token=token)


JOBS = [
    JobSpec(
        id="lunch-reminders",
        description="remind hosts and attendees before a Lunch 'n' Learn",
        trigger=IntervalTrigger(minutes=5),
        run=send_reminders,
    ),
    JobSpec(
        id="lunch-feedback",
        description="ask Lunch 'n' Learn attendees for feedback; send hosts their results",
        trigger=IntervalTrigger(minutes=30),
        run=ask_feedback,
    ),
    JobSpec(
        id="lunch-lineup",
        description="post the week's Lunch 'n' Learns on Monday morning",
        trigger=IntervalTrigger(minutes=30),
        run=post_lineup,
    ),
    JobSpec(
        id="lunch-host-requests",
        description="expire Lunch 'n' Learn host requests left unanswered",
        trigger=IntervalTrigger(minutes=15),
        run=expire_host_requests,
    ),
    JobSpec(
        id="lunch-suggestions",
        description="suggest Lunch 'n' Learns on topics in demand to the best-placed teachers",
        trigger=IntervalTrigger(hours=1),
        run=suggest_sessions,
    ),
]
