"""APScheduler wiring: every job from bot.jobs, explicit ids, UTC, and defaults that suit them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.delivery.sender import Deliverer, Pacer
from bot.jobs import all_jobs
from bot.jobs.base import JobContext, JobSpec
from models import utcnow

logger = logging.getLogger(__name__)

JOB_DEFAULTS = {
    "coalesce": True,  # after downtime, run a missed job once, not once per missed slot
    "max_instances": 1,
    "misfire_grace_time": 15 * 60,  # a run up to 15 minutes late still happens
}


def job_context(
    *, settings: Settings, database: Database, client: WebClient, now: Callable[[], datetime] = utcnow
) -> JobContext:
    from bot.slack.oauth import token_resolver

    # Burst 1: slack_sdk's 429 retry bypasses the pacer, so a refilled burst right after a 429
    # would trip the limit again (measured: 0.24 of the allowed rate with 5, 0.975 with 1).
    pacer = Pacer(settings.post_rate_per_minute, burst=1)
    token_for = token_resolver(settings, database)
    deliverer = Deliverer(database, client, pacer=pacer, token_for=token_for)
    return JobContext(settings, database, client, deliverer, now)


def build_scheduler(
    *, settings: Settings, database: Database, client: WebClient, background: bool = False
) -> BaseScheduler:
    scheduler_class = BackgroundScheduler if background else BlockingScheduler
    scheduler = scheduler_class(timezone="UTC", job_defaults=JOB_DEFAULTS)
    ctx = job_context(settings=settings, database=database, client=client)
    for spec in all_jobs():
        scheduler.add_job(_runner(spec, ctx), trigger=spec.trigger, id=spec.id, name=spec.description)
    return scheduler


def _runner(spec: JobSpec, ctx: JobContext) -> Callable[[], None]:
    def run() -> None:
        try:
            result = spec.run(ctx)
            logger.info("job %s done: %s", spec.id, result)
        except Exception:
            logger.exception("job %s failed", spec.id)

    run.__name__ = spec.id.replace("-", "_")
    return run


def run_job(job_id: str, ctx: JobContext):
    """Run one job now. Some jobs have a manual form (the matching round runs even before its hour)."""
    from bot.jobs.matching import MANUAL_RUNS

    if job_id in MANUAL_RUNS:
        return MANUAL_RUNS[job_id](ctx)
    for spec in all_jobs():
        if spec.id == job_id:
            return spec.run(ctx)
    raise KeyError(job_id)


def next_run_times(*, now: datetime) -> list[tuple[JobSpec, datetime | None]]:
    return [(spec, spec.trigger.get_next_fire_time(None, now)) for spec in all_jobs()]
