"""Every scheduled job, gathered from one module per area."""

from __future__ import annotations

from bot.jobs.base import JobSpec


def all_jobs() -> list[JobSpec]:
    from bot.jobs import delivery, flow, housekeeping, lunch, matching, programme

    return [*matching.JOBS, *lunch.JOBS, *programme.JOBS, *delivery.JOBS, *housekeeping.JOBS, *flow.JOBS]
