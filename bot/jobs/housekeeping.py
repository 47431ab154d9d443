"""Housekeeping: delete what is past its retention period, uninstalled workspaces' data, and topics
nobody uses."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.base import JobContext, JobSpec
from bot.services import retention, workspaces
from bot.services.topics import prune_unused_topics

logger = logging.getLogger(__name__)


def prune_old_records(ctx: JobContext) -> dict[str, int]:
    with ctx.database.transaction() as session:
        pruned = retention.prune(session, now=ctx.now(), keep=timedelta(days=ctx.settings.retention_days))
    return asdict(pruned)


def purge_uninstalled(ctx: JobContext) -> dict[str, int]:
    """Each workspace uninstalled for longer than the period, in its own transaction: one
    failing spares the rest, and a run after a crash finds only what is left."""
    cutoff = ctx.now() - timedelta(days=ctx.settings.purge_uninstalled_after_days)
    with ctx.database.transaction() as session:
        team_ids = workspaces.uninstalled_before(session, cutoff=cutoff)
    purged: dict[str, int] = {}
    for team_id in team_ids:
        try:
            with ctx.database.transaction() as session:
                rows = workspaces.purge_if_still_uninstalled(session, team_id=team_id, cutoff=cutoff)
        except Exception:
            logger.exception("job purge-uninstalled failed for workspace %s", team_id)
            continue
        if rows:
            purged[team_id] = rows
            logger.info("purged workspace %s (uninstalled before %s): %d rows", team_id, cutoff, rows)
    return purged


def prune_topics(ctx: JobContext) -> int:
    with ctx.database.transaction() as session:
        return prune_unused_topics(session)


JOBS = [
    JobSpec(
        id="prune-old-records",
        description="delete sent messages and Slack event ids older than RETENTION_DAYS",
        trigger=IntervalTrigger(hours=6),
        run=prune_old_records,
    ),
    JobSpec(
        id="purge-uninstalled",
        description="delete the data of workspaces uninstalled PURGE_UNINSTALLED_AFTER_DAYS ago",
        trigger=IntervalTrigger(hours=6),
        run=purge_uninstalled,
    ),
    JobSpec(
        id="prune-topics",
        description="delete topics no wish, skill, pairing or session refers to",
        trigger=IntervalTrigger(hours=6),
        run=prune_topics,
    ),
]
