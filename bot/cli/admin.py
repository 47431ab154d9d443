"""Admin work from the command line: the CSV export to files and the programme report as text.

`python -m bot export` and the demo call these; they hold no argument parsing of their own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.db import Database
from bot.services import figures, workspaces
from bot.services.export import export_csv
from bot.services.figures import Period
from bot.views.report import render_text

FORMATS = ("csv",)


class AdminCommandError(ValueError):
    """Bad arguments for an admin command; the message is meant for the terminal."""


def check_team(session: Session, team_id: str) -> str:
    """`team_id` if Flipside knows that workspace; otherwise the error lists the ones it knows."""
    known = workspaces.known_team_ids(session)
    if team_id not in known:
        raise AdminCommandError(f"unknown workspace {team_id!r} (known: {', '.join(known) or 'none'})")
    return team_id


def resolve_team(session: Session, team_id: str | None) -> str:
    """The workspace to work on: the one given (if known), or the only one installed."""
    if team_id:
        return check_team(session, team_id)
    teams = workspaces.active_team_ids(session)
    if len(teams) != 1:
        found = ", ".join(teams) or "none"
        raise AdminCommandError(f"say which workspace with --team (installed: {found})")
    return teams[0]


def export_command(
    db: Database, team_id: str | None, out_dir: str | Path, format: str = "csv", *, as_of: datetime
) -> list[Path]:
    """Write every export file into `out_dir` (created if missing); returns the paths written."""
    if format not in FORMATS:
        raise AdminCommandError(f"unknown export format {format!r}: use one of {', '.join(FORMATS)}")
    with db.transaction() as session:
        files = export_csv(session, team_id=resolve_team(session, team_id), as_of=as_of)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def report_text(session: Session, team_id: str | None, period: Period | str, as_of: datetime) -> str:
    """The programme's figures for `period` ("month", "90_days", "all_time") up to `as_of`, as text."""
    try:
        chosen = Period(str(period))
    except ValueError:
        choices = ", ".join(p.value for p in Period)
        raise AdminCommandError(f"unknown period {period!r}: use one of {choices}") from None
    report = figures.programme_figures(
        session, team_id=resolve_team(session, team_id), period=chosen, as_of=as_of
    )
    return render_text(report)


def parse_as_of(raw: str | None, now: datetime) -> datetime:
    """`--as-of`: an ISO date or date and time (UTC unless it says otherwise); default now."""
    if not raw:
        return now
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise AdminCommandError(
            f"--as-of {raw!r} is not a date like 2026-12-31 or 2026-12-31T09:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
