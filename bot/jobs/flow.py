"""Ghosting: ask silent people whether to stay in, and pause those who never answer."""

from __future__ import annotations

from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery import flow_notices
from bot.jobs.base import JobContext, JobSpec, for_each_workspace
from bot.services import ghosting


def stay_in_asks(ctx: JobContext) -> dict[str, Any]:
    """Idempotent: an asked person is marked in the same transaction (and locked while it is
    decided), and each DM's key holds when they were asked."""

    def run(team_id: str) -> dict[str, int]:
        now = ctx.now()
        with ctx.database.transaction() as session:
            paused = flow_notices.pause_silent(session, team_id=team_id, now=now)
            asks = ghosting.due_asks(session, team_id=team_id, now=now)
            for person, because in asks:
                flow_notices.ask_to_stay_in(session, person, because=because, now=now)
        ctx.deliverer.deliver_due(team_id=team_id, now=ctx.now())
        return {"asked": len(asks), "paused": paused}

    return for_each_workspace(ctx, "stay-in-asks", run)


JOBS = [
    JobSpec(
        id="stay-in-asks",
        description="ask silent people whether to stay in; pause those who never answer",
        trigger=IntervalTrigger(hours=1),
        run=stay_in_asks,
    ),
]
