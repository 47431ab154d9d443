"""Drain the outbox: messages due now (and reminders whose time has come) go out."""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery.canvases import CanvasWriter
from bot.jobs.base import JobContext, JobSpec


def deliver_outbox(ctx: JobContext):
    return ctx.deliverer.deliver_due(now=ctx.now())


def write_learning_logs(ctx: JobContext):
    writer = CanvasWriter(ctx.database, ctx.client, token_for=ctx.deliverer.token_for)
    return writer.write_due(now=ctx.now())


JOBS = [
    JobSpec(
        id="deliver-outbox",
        description="send messages that are due (proposals, reminders, announcements)",
        trigger=IntervalTrigger(minutes=1),
        run=deliver_outbox,
    ),
    JobSpec(
        id="learning-logs",
        description="create pairs' learning-log canvases and add what is owed to them (retries too)",
        trigger=IntervalTrigger(minutes=1),
        run=write_learning_logs,
    ),
]
