"""Workspace life: installed, uninstalled (jobs stop, data kept), purged on an admin's word or
once it has stayed uninstalled for the retention period."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from models import Base, Workspace
from models.slack_oauth import installations


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


def known_team_ids(session: Session) -> list[str]:
    """Every workspace with a row, installed or not (an uninstalled one keeps its data)."""
    return list(session.scalars(select(Workspace.team_id).order_by(Workspace.team_id)))


def purge(session: Session, *, team_id: str) -> int:
    """Delete every row of a workspace; the number of rows deleted (0: nothing was there).

    Every table with a team_id column, found in the metadata so a new table is not forgotten: the
    programme's data, pending work, Slack event ids, the outbox, and slack_sdk's installation and
    bot rows (its tokens). Children go first; rows known only through a parent (sign-ups,
    meetings, feedback) go with it (ON DELETE CASCADE). slack_sdk's OAuth states name no team:
    they expire within minutes and bot.services.retention deletes them.
    """
    deleted = 0
    for table in reversed(Base.metadata.sorted_tables):
        if "team_id" in table.c:
            deleted += session.execute(delete(table).where(table.c.team_id == team_id)).rowcount or 0
    return deleted


def uninstalled_before(session: Session, *, cutoff: datetime) -> list[str]:
    return list(
        session.scalars(
            select(Workspace.team_id).where(Workspace.uninstalled_at < cutoff).order_by(Workspace.team_id)
        )
    )


def purge_if_still_uninstalled(session: Session, *, team_id: str, cutoff: datetime) -> int:
    """Purge a workspace uninstalled before `cutoff` and not installed again since; rows deleted.

    The workspace row is locked, so a reinstall committing meanwhile either comes first (and the
    workspace is spared) or waits. slack_sdk stores a new installation just before our install
    callback clears uninstalled_at: an installation newer than the uninstall spares it too.
    """
    workspace = session.scalar(select(Workspace).where(Workspace.team_id == team_id).with_for_update())
    if workspace is None or workspace.uninstalled_at is None or workspace.uninstalled_at >= cutoff:
        return 0
    since = workspace.uninstalled_at.astimezone(UTC).replace(tzinfo=None)  # slack_sdk's naive UTC
    reinstalled = exists().where(installations.c.team_id == team_id, installations.c.installed_at > since)
    if session.scalar(select(reinstalled)):
        return 0
    return purge(session, team_id=team_id)
