"""Workspace life: installed, uninstalled (jobs stop, data kept), purged on an admin's word."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Workspace


def mark_uninstalled(session: Session, *, team_id: str, now: datetime) -> None:
    workspace = session.get(Workspace, team_id)
    if workspace is not None and workspace.uninstalled_at is None:
        workspace.uninstalled_at = now


def active_team_ids(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Workspace.team_id).where(Workspace.uninstalled_at.is_(None)).order_by(Workspace.team_id)
        )
    )


def purge(session: Session, *, team_id: str) -> bool:
    """Delete every row of a workspace (the foreign keys cascade). True if there was one."""
    result = session.execute(delete(Workspace).where(Workspace.team_id == team_id))
    return bool(result.rowcount)
