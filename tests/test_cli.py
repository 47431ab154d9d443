"""The management CLI, run as people run it: `python -m bot …` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from bot.cli import migrations
from bot.db import Database
from models import Base, CareerStage
from models.base import UTCDateTime
from tests.factories import add_person

ROOT = Path(__file__).resolve().parent.parent


def cli(
    *args: str, database_url: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": database_url, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def org(database):
    add_person(
        database, "U1", stage=CareerStage.EARLY, department="Marketing", teaches="social media", name="Priya"
    )
    add_person(
        database,
        "U2",
        stage=CareerStage.EXECUTIVE,
        department="Finance",
        learns="social media",
        name="George",
    )
    return database


def test_demo_runs_offline_and_prints_the_round_and_the_report(tmp_path):
    result = cli(
        "demo",
        "--people",
        "24",
        "--database",
        f"sqlite:///{tmp_path / 'demo.db'}",
        database_url="sqlite:///unused.db",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo-chart.png").read_bytes().startswith(b"\x89PNG")  # next to its database
    for heading in (
        "What Flipside knows",
        "The weekly matching round",
        "proposal DMs",
        "Lunch 'n' Learn",
        "the admin's figures",
    ):
        assert heading in result.stdout
    assert "Traceback" not in result.stderr


# Columns that say when something is due, not when it happened.
PLANNED = {"expires_at", "reminder_due_at", "checkin_due_at", "ends_by", "send_after", "run_after"}


# Columns that say when something is due, not when it happened.
PLANNED = {"expires_at", "reminder_due_at", "checkin_due_at", "ends_by", "send_after", "run_after"}


def test_the_demo_leaves_a_database_whose_report_prints_what_the_demo_printed(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = cli("demo", "--database", url, database_url="sqlite:///unused.db")  # 60 people, seed 7
    assert demo.returncode == 0, demo.stderr
    [command] = [line.split() for line in demo.stdout.splitlines() if "python -m bot report --period" in line]
    as_of = command[command.index("--as-of") + 1]
    period = command[command.index("--period") + 1]
    report = cli("report", "--period", period, "--as-of", as_of, database_url=url)
    assert report.returncode == 0, report.stderr
    printed = demo.stdout[demo.stdout.index("Flipside programme report") :]
    assert printed.startswith(report.stdout)  # the same figures, word for word
    assert "Negotiation" in report.stdout and "Open wishes: 0" not in report.stdout

    # Every moment something happened is at or before the demo's clock; only plans look ahead.
    database = Database(url)
    moment = datetime.fromisoformat(as_of)
    with database.transaction() as session:
        late = [
            f"{table.name}.{column.name}"
            for table in Base.metadata.sorted_tables
            for column in table.columns
            if isinstance(column.type, UTCDateTime)
            and column.name not in PLANNED
            and (session.scalar(select(func.max(column))) or moment) > moment
        ]
    database.dispose()
    assert late == []
    dry_run = cli("match", "--dry-run", database_url=url)
    assert dry_run.returncode == 0 and "Matching round preview for TDEMO" in dry_run.stdout


def test_match_dry_run_prints_pairs_and_stores_nothing(org):
    result = cli("match", "--dry-run", database_url=org.url)
    assert result.returncode == 0, result.stderr
    pair = "Priya (early career, Marketing) teaches George (executive, Finance) social media: "
    assert pair in result.stdout and "score" not in result.stdout
    again = cli("match", "--dry-run", database_url=org.url)
    assert again.stdout == result.stdout  # nothing was stored: the same round again


def test_match_runs_the_round_once_a_week(org):
    first = cli("match", database_url=org.url)
    assert "1 pairs proposed" in first.stdout
    second = cli("match", database_url=org.url)
    assert "already ran" in second.stdout


def test_jobs_lists_jobs_and_next_runs(org):
    result = cli("jobs", database_url=org.url)
    assert result.returncode == 0, result.stderr
    for job in ("matching-round", "pairing-followups", "deliver-outbox", "lunch-reminders"):
        assert job in result.stdout
    assert "matching round for T1" in result.stdout
    assert "stored work waiting: none" in result.stdout


def test_jobs_warns_when_handed_over_work_waits_for_a_worker(org):
    from datetime import timedelta

    import bot.listeners  # noqa: F401  (registers the tasks)
    from bot.ids import Work
    from bot.work import queue
    from models import utcnow

    with org.transaction() as session:
        queue.enqueue(
            session, team_id="T1", kind=Work.ADMIN_EXPORT, body={}, now=utcnow() - timedelta(minutes=5)
        )
    result = cli("jobs", database_url=org.url)
    assert "waiting: 1, the oldest for 30" in result.stdout and "is a worker running?" in result.stdout


def test_run_unknown_job_names_the_jobs_before_asking_for_settings(org):
    result = cli("run", "nope", database_url=org.url)  # no Slack settings: the typo comes first
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("flipside: unknown job 'nope'; jobs: matching-round, ")
    assert result.stderr.count("\n") == 1 and "prune-topics" in result.stderr


def test_run_help_lists_the_jobs(org):
    result = cli("run", "--help", database_url=org.url)
    assert result.returncode == 0, result.stderr
    for job in ("matching-round", "pairing-followups", "deliver-outbox", "lunch-reminders", "prune-topics"):
        assert job in result.stdout


SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
MIGRATE = "flipside: the database was never migrated: run `python -m bot migrate`\n"


@pytest.mark.parametrize(
    "args",
    [
        ("report",),
        ("jobs",),
        ("match", "--dry-run"),
        ("match",),
        ("export",),
        ("purge", "--team", "T1", "--yes"),
        ("run", "matching-round"),
        ("worker", "--once"),
        ("reseal-tokens",),
    ],
    ids=" ".join,
)
def test_a_database_never_migrated_is_one_line_naming_migrate(tmp_path, args):
    keys = {"TOKEN_ENCRYPTION_KEYS": "Vn3G1hWkA0a3cNQeX1xjJZ3pRbVx1t5ZsZK5v0y3r2M="}
    result = cli(*args, database_url=f"sqlite:///{tmp_path / 'new.db'}", extra_env={**SLACK, **keys})
    assert (result.returncode, result.stderr) == (2, MIGRATE)


def _head_revision(url: str) -> str:

    from bot.db import Database

    database = Database(url)
    try:
        return ScriptDirectory.from_config(migrations.alembic_config(database)).get_current_head()
    finally:
        database.dispose()


def test_a_database_behind_the_latest_revision_is_one_line_naming_migrate(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert cli("migrate", "0008_forget", database_url=url).returncode == 0
    result = cli("report", database_url=url)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    head = _head_revision(url)  # the newest revision, whichever branch merged last
    assert result.stderr.startswith(f"flipside: the database is at revision 0008_forget, behind {head}:")
    assert result.stderr.endswith("run `python -m bot migrate`\n")


def test_a_report_date_that_is_not_a_date_is_one_line(org):
    result = cli("report", "--as-of", "last tuesday", database_url=org.url)
    assert (result.returncode, result.stderr) == (
        2,
        "flipside: --as-of 'last tuesday' is not a date like 2026-12-31 or 2026-12-31T09:00\n",
    )
    assert (
        "Flipside programme report: all time (up to 01 Jan 2026 00:00 UTC)"
        in cli("report", "--period", "all_time", "--as-of", "2026-01-01", database_url=org.url).stdout
    )


@pytest.mark.parametrize(
    "args", [("report",), ("export",), ("match", "--dry-run"), ("match",), ("purge", "--yes")], ids=" ".join
)
def test_an_unknown_workspace_is_an_error_listing_the_known_ones(org, tmp_path, args):
    (work := tmp_path / "cwd").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args, "--team", "T9"],
        cwd=work,  # an export would land here
        env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": org.url, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (2, "flipside: unknown workspace 'T9' (known: T1)\n")
    assert result.stdout == "" and list(work.iterdir()) == []


def test_export_writes_csv_files(org, tmp_path):
    cli("match", database_url=org.url)
    result = cli("export", "--format", "csv", "--out", str(tmp_path / "out"), database_url=org.url)
    assert result.returncode == 0, result.stderr
    pairings = (tmp_path / "out" / "pairings.csv").read_text()
    assert "social media" in pairings


def test_purge_needs_yes_then_deletes_the_workspace(org):
    assert cli("purge", "--team", "T1", database_url=org.url).returncode == 2
    result = cli("purge", "--team", "T1", "--yes", database_url=org.url)
    assert "purged T1" in result.stdout
    assert "nothing to match" in cli("match", "--dry-run", database_url=org.url).stdout


def test_purge_deletes_every_row_of_the_workspace_and_no_other(database):
    from models import utcnow
    from tests.factories import fill_workspace
    from tests.services.test_retention import snapshot

    fill_workspace(database, "T2", now=utcnow())
    others = snapshot(database)
    fill_workspace(database, "T1", now=utcnow())  # work, event ids, outbox, OAuth rows included

    assert "purged T1" in cli("purge", "--team", "T1", "--yes", database_url=database.url).stdout
    assert snapshot(database) == others
    again = cli("purge", "--team", "T1", "--yes", database_url=database.url)  # nothing left: unknown
    assert (again.returncode, again.stderr) == (2, "flipside: unknown workspace 'T1' (known: T2)\n")
    assert snapshot(database) == others


def test_migrate_on_an_empty_database(tmp_path):
    result = cli("migrate", database_url=f"sqlite:///{tmp_path / 'new.db'}")
    assert result.returncode == 0 and "is at head" in result.stdout


def test_worker_once_runs_stored_work(database, fake_slack):
    from urllib.parse import parse_qsl

    import bot.listeners  # noqa: F401  (registers the tasks)
    from bot.work import queue
    from models import utcnow
    from tests import payloads

    body = dict(
        parse_qsl(
            payloads.slash_command(
                "/teachme", "canva", user="U1", team="T1", response_url=fake_slack.response_url("cli")
            )
        )
    )
    with database.transaction() as session:  # as an earlier version stored /teachme for its worker
        queue.enqueue(session, team_id="T1", kind="teachme.record", body=body, now=utcnow())
    slack = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": fake_slack.base_url,
    }
    result = cli("worker", "--once", database_url=database.url, extra_env=slack)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran 1 pending task"
    assert "canva" in fake_slack.wait_for("response_url")[0].args["text"].lower()


def test_reseal_tokens_encrypts_every_stored_token_with_the_first_key(database):
    from cryptography.fernet import Fernet
    from slack_sdk.oauth.installation_store import Installation
    from sqlalchemy import text

    from bot.config import Settings
    from bot.slack.oauth import installation_store

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings(slack_client_id="111.222", slack_client_secret="shh", token_encryption_keys=(old,))
    installation_store(settings, database).save(
        Installation(app_id="A1", team_id="T1", bot_token="xoxb-t1", bot_id="B1", user_id="U1")
    )
    refused = cli("reseal-tokens", database_url=database.url)
    assert refused.returncode == 2
    assert refused.stderr.startswith("flipside: TOKEN_ENCRYPTION_KEYS is missing")
    keys = {"TOKEN_ENCRYPTION_KEYS": f"{new},{old}"}
    done = cli("reseal-tokens", database_url=database.url, extra_env=keys)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 installation rows")
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT bot_token FROM slack_installations")).scalar_one()
    assert Fernet(new).decrypt(stored.encode()) == b"xoxb-t1"
