"""The weekly matching round and the daily follow-ups of every pairing."""

from __future__ import annotations

from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery import flow_notices
from bot.delivery import pairing_notices as notices
from bot.jobs.base import JobContext, JobSpec, for_each_workspace
from bot.services import ghosting, pairings, rounds
from bot.services.rounds import UNANSWERED_LIMIT


def matching_round(ctx: JobContext) -> dict[str, Any]:
    """Every workspace whose latest round time has passed gets that round, once (late, after
    downtime: the unique round key makes a second tick or process a no-op)."""

    def run(team_id: str) -> str:
        now = ctx.now()
        with ctx.database.transaction() as session:
            key = rounds.due_round_key(session, team_id=team_id, defaults=ctx.settings.programme, now=now)
            if key is None:
                return "not due"
            summary = notices.run_round_and_notify(
                session, team_id=team_id, defaults=ctx.settings.programme, now=now, round_key=key
            )
        ctx.deliverer.deliver_due(team_id=team_id, now=ctx.now())
        return f"{summary.round_key}: {len(summary.pairings)} pairs" if summary.created else "already ran"

    return for_each_workspace(ctx, "matching-round", run)


def run_this_weeks_round_now(ctx: JobContext) -> dict[str, Any]:
    """`python -m bot run matching-round`: this week's round now, even before its scheduled time."""

    def run(team_id: str) -> str:
        with ctx.database.transaction() as session:
            summary = notices.run_round_and_notify(
                session, team_id=team_id, defaults=ctx.settings.programme, now=ctx.now()
            )
        ctx.deliverer.deliver_due(team_id=team_id, now=ctx.now())
        return (
            f"{summary.round_key}: {len(summary.pairings)} pairs"
            if summary.created
            else "already ran this week"
        )

    return for_each_workspace(ctx, "matching-round", run)


def pairing_followups(ctx: JobContext) -> dict[str, Any]:
    """Reminders half-way, expiry, weekly check-ins and the natural end of pairings."""

    def run(team_id: str) -> dict[str, int]:
        now = ctx.now()
        with ctx.database.transaction() as session:
            reminders = pairings.due_reminders(session, team_id=team_id, now=now)
            for pairing in reminders:
                for person in (pairing.learner, pairing.teacher):
                    if pairing.answer_of(person.id).value == "pending":
                        notices.enqueue_reminder(session, pairing, person, now=now)
                pairing.reminder_due_at = None
            expired = pairings.expire_due(session, team_id=team_id, now=now)
            for pairing, silent in expired:
                notices.enqueue_expired(session, pairing, now=now)
                flow_notices.after_expiry(session, pairing, defaults=ctx.settings.programme, now=now)
                for person in silent:
                    if person.unanswered_streak >= UNANSWERED_LIMIT:
                        notices.enqueue_keep_in_ask(session, person, after_pairing=pairing, now=now)
                        ghosting.mark_asked(person, now=now)  # a week to answer, then paused
            checkins = pairings.due_checkins(session, team_id=team_id, now=now)
            for pairing in checkins:
                notices.enqueue_checkin(session, pairing, now=now)
                pairings.schedule_next_checkin(pairing, now=now)
                ghosting.checkin_sent(pairing)
            ended = pairings.end_overdue(session, team_id=team_id, now=now)
            for pairing in ended:
                notices.enqueue_feedback_request(session, pairing, now=now)
        ctx.deliverer.deliver_due(team_id=team_id, now=ctx.now())
        return {
            "reminded": len(reminders),
            "expired": len(expired),
            "checkins": len(checkins),
            "ended": len(ended),
        }

    return for_each_workspace(ctx, "pairing-followups", run)


JOBS = [
    JobSpec(
        id="matching-round",
        description="weekly matching round (each workspace's day, time and timezone)",
        # A tick, not a weekly cron: each workspace keeps its own day and time in the database,
        # and a settings change applies at the next tick without a restart.
        trigger=IntervalTrigger(minutes=5),
        run=matching_round,
    ),
    JobSpec(
        id="pairing-followups",
        description="proposal reminders and expiry, check-ins, pairings ending",
        # Every minute: an expired proposal's wish goes to the next teacher within a minute.
        trigger=IntervalTrigger(minutes=1),
        run=pairing_followups,
    ),
]

MANUAL_RUNS = {"matching-round": run_this_weeks_round_now}
