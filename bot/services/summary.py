"""The admins' monthly summary: once per workspace and month, crash-safe.

A `monthly_summaries` row is claimed first (unique per workspace and month, with a lease); the
chart is drawn and uploaded as a private file outside any transaction; then, in one transaction,
the messages that show it go into the outbox and the row is marked queued. A crash before that
uploads the chart again on the next tick (a private file nobody sees) and still sends once: the
outbox keys are per month and recipient.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services import outbox
from bot.services.figures import month_start
from models import MonthlySummary, Person, ProgrammeSettings, Workspace

CLAIM_LEASE = timedelta(minutes=15)


def summary_as_of(now: datetime) -> datetime:
    """The end of the month to sum up: the first instant of `now`'s month."""
    return month_start(now + timedelta(microseconds=1))


def month_of(as_of: datetime) -> str:
    return f"{month_start(as_of):%Y-%m}"


def claim(session: Session, *, team_id: str, now: datetime, owner: str) -> MonthlySummary | None:
    """This month's summary for `owner` to draw, or None: not due (installed after the month
    ended), already queued, or being drawn by another process whose lease still runs."""
    as_of = summary_as_of(now)
    workspace = session.get(Workspace, team_id)
    if workspace is None or workspace.installed_at >= as_of:
        return None
    month = month_of(as_of)
    query = select(MonthlySummary).where(MonthlySummary.team_id == team_id, MonthlySummary.month == month)
    row = session.scalar(query.with_for_update())
    if row is None:
        try:
            with session.begin_nested():
                row = MonthlySummary(team_id=team_id, month=month)
                session.add(row)
        except IntegrityError:
            return None  # another process created it a moment ago: it is theirs
    if row.queued_at is not None:
        return None
    if row.claimed_by not in (None, owner) and row.claimed_at and row.claimed_at > now - CLAIM_LEASE:
        return None
    row.claimed_at, row.claimed_by = now, owner
    session.flush()
    return row


def admin_user_ids(
    session: Session, *, team_id: str, listed: Collection[str], single_workspace: bool
) -> list[str]:
    """Who gets the summary by DM: the admins listed in ADMIN_USER_IDS for this workspace, and the
    workspace's Slack admins and owners as Flipside last saw them (users.info, refreshed daily),
    leaving out people who left or were forgotten."""
    ids = {entry.partition(":")[2] for entry in listed if entry.startswith(f"{team_id}:")}
    if single_workspace:
        ids |= {entry for entry in listed if ":" not in entry}
    gone = set(
        session.scalars(
            select(Person.slack_user_id).where(
                Person.team_id == team_id,
                (Person.forgotten_at.is_not(None)) | (Person.deactivated_at.is_not(None)),
            )
        )
    )
    slack_admins = session.scalars(
        select(Person.slack_user_id).where(
            Person.team_id == team_id,
            Person.is_slack_admin.is_(True),
            Person.forgotten_at.is_(None),
            Person.deactivated_at.is_(None),
        )
    )
    return sorted((ids | set(slack_admins)) - gone)


def recipients(settings: ProgrammeSettings, admins: list[str]) -> list[str]:
    if settings.summary_destination == "channel" and settings.channel_id:
        return [settings.channel_id]
    return admins


def queue(
    session: Session,
    *,
    summary_id: int,
    owner: str,
    file_id: str | None,
    message,
    to: list[str],
    now: datetime,
) -> bool:
    """The summary's messages into the outbox, and the row marked queued; False if another process
    took the row over meanwhile (its lease ran out): that one will queue it."""
    row = session.scalar(select(MonthlySummary).where(MonthlySummary.id == summary_id).with_for_update())
    if row is None or row.queued_at is not None or row.claimed_by != owner:
        return False
    for recipient in to:
        outbox.enqueue(
            session,
            team_id=row.team_id,
            dedupe_key=f"summary:{row.month}:{recipient}",
            kind="monthly_summary",
            recipient=recipient,
            message=message,
            send_after=now,
        )
    row.file_id, row.queued_at = file_id, now
    return True
