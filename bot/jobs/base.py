"""What a scheduled job is: an id, a trigger, and a thin function over the services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from slack_sdk import WebClient

from bot.config import Settings
from bot.db import Database
from bot.delivery.sender import Deliverer

logger = logging.getLogger(__name__)


@dataclass
class JobContext:
    """What every job gets: no globals, so tests run jobs with their own clock and fake Slack."""

    settings: Settings
    database: Database
    client: WebClient
    deliverer: Deliverer
    now: Callable[[], datetime]


@dataclass(frozen=True)
class JobSpec:
    id: str
    description: str
    trigger: BaseTrigger
    run: Callable[[JobContext], Any]


def for_each_workspace(ctx: JobContext, job_id: str, work: Callable[[str], Any]) -> dict[str, Any]:
    """Run `work(team_id)` for every installed workspace; one workspace failing spares the rest."""
    from bot.services.workspaces import active_team_ids

    with ctx.database.transaction() as session:
        team_ids = active_team_ids(session)
    results: dict[str, Any] = {}
    for team_id in team_ids:
        try:
            results[team_id] = work(team_id)
        except Exception:
            logger.exception("job %s failed for workspace %s", job_id, team_id)
    return results
