"""Drain the outbox: messages due now (and reminders whose time has come) go out."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.base import JobContext, JobSpec


def deliver_outbox(ctx: JobContext):
    return ctx.deliverer.deliver_due(now=ctx.now())


JOBS = [
    JobSpec(
        id="deliver-outbox",
        description="send messages that are due (proposals, reminders, announcements)",
        trigger=IntervalTrigger(minutes=1),
        run=deliver_outbox,
    )
]
