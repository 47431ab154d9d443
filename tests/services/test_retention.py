"""Retention: old finished messages and event ids are pruned; an uninstalled workspace is purged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import insert, select, update

from bot.config import Settings
from bot.db import Database
from bot.scheduler import job_context, run_job
from bot.services import workspaces
from models import (
    Base,
    LunchSession,
    OutboxMessage,
    OutboxStatus,
    Pairing,
    PairingStatus,
    ProcessedEvent,
    Workspace,
)
from models.slack_oauth import installations, oauth_states
from tests.factories import fill_workspace

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def context(database: Database, **settings):
    return job_context(
        settings=Settings(database_url=database.url, **settings),
        database=database,
        client=WebClient(base_url="http://127.0.0.1:9/"),  # never called: these jobs send nothing
        now=lambda: NOW,
    )


def snapshot(database: Database) -> dict[str, list[str]]:
    """Every row of every table (ours and slack_sdk's), comparable before and after."""
    with database.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def uninstall(database: Database, team: str, at: datetime | None) -> None:
    with database.transaction() as session:
        session.execute(update(Workspace).where(Workspace.team_id == team).values(uninstalled_at=at))


def message(team: str, key: str, status: OutboxStatus, *, created: datetime, sent: datetime | None = None):
    return OutboxMessage(
        team_id=team,
        dedupe_key=key,
        kind="test",
        recipient="U1",
        text="hello",
        status=status,
        created_at=created,
        send_after=created,
        sent_at=sent,
    )


def outbox_keys(database: Database) -> set[str]:
    with database.transaction() as session:
        return set(session.scalars(select(OutboxMessage.dedupe_key)))


# --- retention of finished messages, event ids and OAuth states --------------------------------


def test_finished_messages_event_ids_and_states_older_than_the_period_go_newer_ones_stay(database):
    with database.transaction() as session:
        session.add(Workspace(team_id="T1"))
        session.flush()
        session.add_all(
            [
                message("T1", "old-sent", OutboxStatus.SENT, created=ago(35), sent=ago(31)),
                message("T1", "old-failed", OutboxStatus.FAILED, created=ago(31)),
                message("T1", "old-cancelled", OutboxStatus.CANCELLED, created=ago(40)),
                message("T1", "new-sent", OutboxStatus.SENT, created=ago(35), sent=ago(29)),
                message("T1", "new-failed", OutboxStatus.FAILED, created=ago(29)),
                message("T1", "old-pending", OutboxStatus.PENDING, created=ago(40)),
                message("T1", "old-sending", OutboxStatus.SENDING, created=ago(40)),
                ProcessedEvent(event_id="EvOld", team_id="T1", received_at=ago(31)),
                ProcessedEvent(event_id="EvNew", team_id="T1", received_at=ago(29)),
            ]
        )
        # A reminder queued long ago, cancelled just before it was due: due recently, so it stays.
        late = message("T1", "cancelled-reminder", OutboxStatus.CANCELLED, created=ago(40))
        late.send_after = ago(2)
        session.add(late)
        naive = NOW.replace(tzinfo=None)
        session.execute(
            insert(oauth_states),
            [
                {"state": "expired", "expire_at": naive - timedelta(minutes=1)},
                {"state": "live", "expire_at": naive + timedelta(minutes=5)},
            ],
        )
    ctx = context(database)

    assert run_job("prune-old-records", ctx) == {"outbox": 3, "events": 1, "oauth_states": 1}
    assert run_job("prune-old-records", ctx) == {"outbox": 0, "events": 0, "oauth_states": 0}
    assert outbox_keys(database) == {
        "new-sent",
        "new-failed",
        "old-pending",
        "old-sending",
        "cancelled-reminder",
    }
    with database.transaction() as session:
        assert set(session.scalars(select(ProcessedEvent.event_id))) == {"EvNew"}
        assert set(session.scalars(select(oauth_states.c.state))) == {"live"}


def test_the_period_is_a_setting(database):
    with database.transaction() as session:
        session.add(Workspace(team_id="T1"))
        session.flush()
        session.add_all(
            [
                message("T1", "sent-20-days-ago", OutboxStatus.SENT, created=ago(20), sent=ago(20)),
                message("T1", "sent-5-days-ago", OutboxStatus.SENT, created=ago(5), sent=ago(5)),
                ProcessedEvent(event_id="Ev20", team_id="T1", received_at=ago(20)),
            ]
        )

    assert run_job("prune-old-records", context(database, retention_days=10))["outbox"] == 1
    assert outbox_keys(database) == {"sent-5-days-ago"}
    with database.transaction() as session:
        assert session.scalars(select(ProcessedEvent)).all() == []


def test_messages_about_an_open_pairing_or_a_coming_session_stay_until_it_is_over(database):
    ids = fill_workspace(database, "T1", now=ago(60))  # an open pairing; a session 57 days ago
    with database.transaction() as session:
        session.execute(
            update(OutboxMessage).values(status=OutboxStatus.SENT, created_at=ago(60), sent_at=ago(59))
        )
        host_id = session.scalar(select(LunchSession.host_id).where(LunchSession.id == ids["lunch"]))
        coming = LunchSession(
            team_id="T1", host_id=host_id, title="Figma", starts_at=NOW + timedelta(days=10)
        )
        session.add(coming)
        session.flush()
        session.add_all(
            [
                message(
                    "T1", f"lunch:{ids['lunch']}:announce:1", OutboxStatus.SENT, created=ago(59), sent=ago(59)
                ),
                message(
                    "T1", f"lunch:{coming.id}:announce:1", OutboxStatus.SENT, created=ago(40), sent=ago(40)
                ),
            ]
        )
    proposal = f"pairing:{ids['pairing']}:proposal:T1-U1"
    ctx = context(database)

    assert run_job("prune-old-records", ctx)["outbox"] == 1
    assert outbox_keys(database) == {proposal, f"lunch:{coming.id}:announce:1"}

    with database.transaction() as session:
        session.execute(update(Pairing).values(status=PairingStatus.COMPLETED))
    assert run_job("prune-old-records", ctx)["outbox"] == 1
    assert outbox_keys(database) == {f"lunch:{coming.id}:announce:1"}


# --- purging uninstalled workspaces -----------------------------------------------------------


def test_a_workspace_uninstalled_longer_than_the_period_is_purged_and_nothing_else(database):
    fill_workspace(database, "TKEEP", now=ago(100))  # installed
    fill_workspace(database, "TBACK", now=ago(100))
    uninstall(database, "TBACK", ago(40))
    uninstall(database, "TBACK", None)  # installed again
    fill_workspace(database, "TRECENT", now=ago(100))
    uninstall(database, "TRECENT", ago(29))
    fill_workspace(database, "TCOMING", now=ago(100))
    uninstall(database, "TCOMING", ago(40))
    with database.transaction() as session:  # reinstalling: slack_sdk stored the installation first
        session.execute(
            insert(installations).values(
                client_id="C",
                app_id="A",
                user_id="U",
                team_id="TCOMING",
                installed_at=(NOW - timedelta(minutes=1)).replace(tzinfo=None),
            )
        )
    others = snapshot(database)
    fill_workspace(database, "TGONE", now=ago(100))
    uninstall(database, "TGONE", ago(31))
    filled = snapshot(database)
    # The test covers every table: a new one must be filled here, so its purge is tested too.
    # (slack_sdk's OAuth states name no team; prune-old-records deletes them once expired.)
    assert [name for name in filled if len(filled[name]) <= len(others[name])] == [oauth_states.name]
    ctx = context(database)

    purged = run_job("purge-uninstalled", ctx)

    assert list(purged) == ["TGONE"] and purged["TGONE"] > 0
    assert snapshot(database) == others
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if "team_id" in table.c:
                assert connection.execute(select(table).where(table.c.team_id == "TGONE")).all() == []
    assert run_job("purge-uninstalled", ctx) == {}
    assert snapshot(database) == others


def test_the_purge_period_is_a_setting(database):
    fill_workspace(database, "T1", now=ago(100))
    uninstall(database, "T1", ago(3))

    assert run_job("purge-uninstalled", context(database)) == {}
    assert list(run_job("purge-uninstalled", context(database, purge_uninstalled_after_days=2))) == ["T1"]


def test_purging_spares_a_workspace_installed_again_since_the_list_was_read(database):
    fill_workspace(database, "T1", now=ago(100))
    uninstall(database, "T1", ago(40))
    with database.transaction() as session:
        due = workspaces.uninstalled_before(session, cutoff=ago(30))
    uninstall(database, "T1", None)  # the reinstall commits between the list and the purge

    with database.transaction() as session:
        assert due == ["T1"]
        assert workspaces.purge_if_still_uninstalled(session, team_id="T1", cutoff=ago(30)) == 0
        assert session.get(Workspace, "T1") is not None


def test_purge_of_an_unknown_workspace_deletes_nothing(database):
    fill_workspace(database, "T1", now=ago(100))
    before = snapshot(database)
    with database.transaction() as session:
        assert workspaces.purge(session, team_id="TNONE") == 0
    assert snapshot(database) == before
