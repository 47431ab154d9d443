"""Housekeeping: forget Slack event ids once Slack can no longer retry them, and topics nobody uses."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete

from bot.jobs.base import JobContext, JobSpec
from bot.services.topics import prune_unused_topics
from models import ProcessedEvent

# Slack retries an event for at most about an hour; a day is ample.
KEEP_EVENT_IDS = timedelta(days=1)


def prune_processed_events(ctx: JobContext) -> int:
    with ctx.database.transaction() as session:
        result = session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.received_at < ctx.now() - KEEP_EVENT_IDS)
        )
    return result.rowcount or 0


def prune_topics(ctx: JobContext) -> int:
    with ctx.database.transaction() as session:
        return prune_unused_topics(session)


JOBS = [
    JobSpec(
        id="prune-events",
        description="forget processed Slack event ids older than a day",
        trigger=IntervalTrigger(hours=6),
        run=prune_processed_events,
    ),
    JobSpec(
        id="prune-topics",
        description="delete topics no wish, skill, pairing or session refers to",
        trigger=IntervalTrigger(hours=6),
        run=prune_topics,
    ),
]
