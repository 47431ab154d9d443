"""The demo's learning log: the canvas markdown a newly introduced pair would get in Slack."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.db import Database
from bot.services import learning_log, pairings
from bot.views import learning_log as views
from models import Pairing

RULE = "─" * 78


def print_learning_log(database: Database, *, team_id: str, now: datetime) -> None:
    """The first proposed pair's canvas, as if both had said yes now, with its first lines."""
    with database.transaction() as session:
        pairing = session.scalars(
            select(Pairing).where(Pairing.team_id == team_id).order_by(Pairing.id).limit(1)
        ).first()
        if pairing is None:
            return
        times = pairings.suggest_meeting_times(pairing.learner.tz, pairing.teacher.tz, now=now)
        markdown = "\n".join(
            [
                views.build_opening(pairing, note=learning_log.learner_note(session, pairing), times=times),
                views.checkin_line(pairing, at=now + timedelta(days=7)),
                views.meeting_line(
                    pairing, logged_by=pairing.learner, meetings=1, at=now + timedelta(days=8)
                ),
            ]
        )
    print(f"\n{RULE}\nA pair's learning log: the canvas in their group DM ({views.title(pairing)})\n{RULE}")
    print("  " + markdown.replace("\n", "\n  "))
