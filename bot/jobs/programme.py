"""The relationship pulse and the admins' monthly summary."""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery import pulse_notices
from bot.jobs.base import JobContext, JobSpec, for_each_workspace
from bot.services import figures, profiles, pulse, summary
from bot.views.chart import build_summary_chart
from bot.views.report import build_monthly_summary, summary_title


def relationship_pulse(ctx: JobContext) -> dict[str, Any]:
    """Both people of every pairing at 30 days (then every 60) get "How is it going?", once."""

    def run(team_id: str) -> int:
        now = ctx.now()
        asked = 0
        with ctx.database.transaction() as session:
            for pairing, number in pulse.due_pulses(session, team_id=team_id, now=now):
                for person in pulse.ask(session, pairing, number, now=now):
                    pulse_notices.enqueue_question(session, pairing, person, number, now=now)
                    asked += 1
        ctx.deliverer.deliver_due(team_id=team_id, now=ctx.now())
        return asked

    return for_each_workspace(ctx, "relationship-pulse", run)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def monthly_summary(ctx: JobContext) -> dict[str, Any]:
    """Once a month, per workspace: last month's figures and chart to the admins (or the channel)."""
    owner = _owner()

    def run(team_id: str) -> str:
        now = ctx.now()
        with ctx.database.transaction() as session:
            claimed = summary.claim(session, team_id=team_id, now=now, owner=owner)
            if claimed is None:
                return "not due"
            summary_id, as_of = claimed.id, summary.summary_as_of(now)
            report = figures.programme_figures(
                session, team_id=team_id, period=figures.Period.MONTH, as_of=as_of
            )
            months = figures.pairs_over_time(session, team_id=team_id, as_of=as_of)
            programme = profiles.programme_settings(session, team_id=team_id, defaults=ctx.settings.programme)
            to = summary.recipients(
                programme,
                summary.admin_user_ids(
                    session,
                    team_id=team_id,
                    listed=ctx.settings.admin_user_ids,
                    single_workspace=not ctx.settings.oauth_enabled,
                ),
            )
        if not to:
            return "no admin known"
        chart = build_summary_chart(months, report.details.who_teaches_whom, title=summary_title(report))
        file_id = _upload_privately(ctx, team_id, chart, name=f"flipside-{summary.month_of(as_of)}.png")
        with ctx.database.transaction() as session:
            queued = summary.queue(
                session,
                summary_id=summary_id,
                owner=owner,
                file_id=file_id,
                message=build_monthly_summary(report, file_id=file_id),
                to=to,
                now=ctx.now(),
            )
        ctx.deliverer.deliver_due(team_id=team_id, now=ctx.now())
        return f"sent to {len(to)}" if queued else "taken over"

    return for_each_workspace(ctx, "monthly-summary", run)


def _upload_privately(ctx: JobContext, team_id: str, png: bytes, *, name: str) -> str:
    """Upload the chart without sharing it anywhere: the outbox's messages show it (an image block
    by file id), so however often a crash makes us upload, people see it once."""
    token = ctx.deliverer.token_for(team_id) if ctx.deliverer.token_for else None
    response = ctx.client.files_upload_v2(
        file=png, filename=name, title=name, request_file_info=False, **({"token": token} if token else {})
    )
    return str(response["files"][0]["id"])


JOBS = [
    JobSpec(
        id="relationship-pulse",
        description='"How is it going?" to both people at 30 days of a pairing, then every 60',
        trigger=IntervalTrigger(hours=1),
        run=relationship_pulse,
    ),
    JobSpec(
        id="monthly-summary",
        description="last month's figures and chart to the admins, once a month",
        trigger=IntervalTrigger(hours=1),
        run=monthly_summary,
    ),
]
