"""Shared pieces of the benchmarks: figures, databases, child processes. Not a benchmark itself."""

from __future__ import annotations

import contextlib
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bot.cli import migrations, sample_org
from bot.config import ProgrammeDefaults
from bot.db import Database
from bot.delivery import pairing_notices as notices
from bot.services import profiles
from models import OutboxMessage, utcnow

ROOT = Path(__file__).resolve().parents[1]
TEAM = "T1"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
PAIRS_PER_PERSON = 0.99  # what the sample organisation's rounds come to (5,050 people: 5,013 pairs)
DEFAULT_PG_SERVER = os.environ.get("FLIPSIDE_BENCH_PG", "postgresql://postgres@127.0.0.1:54329/postgres")
# What to type to get a PostgreSQL like the one CI starts (.ci/run), when none is reachable.
PG_HOWTO = """\
PostgreSQL is not reachable at {url}.
Start a throwaway server on 127.0.0.1:54329 (as .ci/run does), then run this again:
    PGDATA=$(mktemp -d) && /usr/lib/postgresql/15/bin/initdb -D "$PGDATA" -A trust -U postgres
    /usr/lib/postgresql/15/bin/pg_ctl -D "$PGDATA" -l "$PGDATA.log" -w \\
        -o "-c listen_addresses=127.0.0.1 -c port=54329 -c unix_socket_directories=$PGDATA" start
(as root, run those two through `runuser -u postgres --` after `chown postgres "$PGDATA"`),
or point --pg-server / FLIPSIDE_BENCH_PG at a server of yours (postgresql://user@host:port/postgres)."""


# ----------------------------------------------------------------------------- figures


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def ms(seconds: float) -> str:
    return f"{'-':>8}" if math.isnan(seconds) else f"{seconds * 1000:8.1f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rule(title: str) -> None:
    print(f"\n== {title}")


# ----------------------------------------------------------------------------- databases


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"flipside-{prefix}-"))


def migrated_sqlite(directory: Path, name: str = "flipside.db") -> str:
    url = f"sqlite:///{directory / name}"
    database = Database(url)
    migrations.upgrade(database)
    database.dispose()
    return url


def seed_sample_org(url: str, people: int, *, seed: int = 1) -> list[sample_org.SamplePerson]:
    """The demo's sample organisation, stored through the same services as the Slack commands."""
    sample = sample_org.generate(people, rng=random.Random(seed))
    database = Database(url)
    defaults = ProgrammeDefaults()
    with database.transaction() as session:
        profiles.ensure_workspace(session, team_id=TEAM, defaults=defaults)
        sample_org.load(session, team_id=TEAM, people=sample, defaults=defaults, now=utcnow())
    database.dispose()
    return sample


def queue_round(url: str, pairs: int) -> tuple[int, int]:
    """A sample organisation big enough for about `pairs` pairs, and its round run for real.

    bot.delivery.pairing_notices.run_round_and_notify queues each pair's two proposal DMs in the
    outbox, in the round's own transaction. Returns (pairs made, outbox rows).
    """
    seed_sample_org(url, math.ceil(pairs / PAIRS_PER_PERSON))
    database = Database(url)
    try:
        with database.transaction() as session:
            summary = notices.run_round_and_notify(
                session, team_id=TEAM, defaults=ProgrammeDefaults(), now=utcnow(), manual=True
            )
            made = len(summary.pairings)
        with database.transaction() as session:
            rows = session.scalar(select(func.count()).select_from(OutboxMessage))
        return made, rows
    finally:
        database.dispose()


def pg_reachable(server_url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(_libpq(server_url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextlib.contextmanager
def pg_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh database on the server at `server_url`, dropped afterwards; yields its URL."""
    import psycopg

    with psycopg.connect(_libpq(server_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = _libpq(server_url).rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(_libpq(server_url), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ----------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DATABASE_"))}
    # Not blanked: Bolt switches to its own OAuth when SLACK_CLIENT_ID is set even to "". A .env in
    # the repo root would still be read by bot.wsgi's load_dotenv() for what is not set here.
    env.update(values)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def stop_process(process: subprocess.Popen, *, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it lingers; only the process we started (and its own group)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=timeout)


def wait_for_http(url: str, *, timeout: float = 30, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def count_log_problems(lines: Iterable[str]) -> dict[str, int]:
    """ERROR/CRITICAL lines and tracebacks in a captured log."""
    counts = {"error lines": 0, "tracebacks": 0}
    for line in lines:
        if " ERROR " in line or " CRITICAL " in line or line.startswith(("ERROR", "CRITICAL")):
            counts["error lines"] += 1
        if line.startswith("Traceback"):
            counts["tracebacks"] += 1
    return counts


def delivery_figures(fake: Any, rows: Iterable[tuple[int, str]]) -> tuple[dict[str, int], dict[int, float]]:
    """What reached the fake Slack against the outbox rows (id, recipient) it should hold.

    Messages are matched to rows by the outbox id in their metadata (bot.delivery.sender); returns the
    figures and the ts of each row's first message."""
    from bot.delivery.sender import METADATA_EVENT

    per_row: Counter[int] = Counter()
    per_channel: Counter[str] = Counter()
    first_ts: dict[int, float] = {}
    for message in fake.messages():
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") == METADATA_EVENT:
            outbox_id = int(metadata["event_payload"]["outbox_id"])
            per_row[outbox_id] += 1
            first_ts.setdefault(outbox_id, float(message["ts"]))
        per_channel[message["channel"]] += 1
    rows = list(rows)
    ids = {row_id for row_id, _recipient in rows}
    expected_per_channel = Counter(fake.dm_channel_for(recipient) for _id, recipient in rows)
    figures = {
        "delivered": sum(per_row.values()),
        "lost": len(ids - set(per_row)),
        "duplicates": sum(count - 1 for count in per_row.values() if count > 1),
        "unknown": len(set(per_row) - ids),
        "recipients": len(expected_per_channel),
        "recipients_wrong": sum(
            1 for channel, want in expected_per_channel.items() if per_channel[channel] != want
        ),
        "recipients_with_several": sum(1 for want in expected_per_channel.values() if want > 1),
    }
    return figures, first_ts
