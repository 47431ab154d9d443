r"""Fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the fake Slack Web
API on 127.0.0.1, and the real Bolt app served over HTTP to which tests send signed requests.

Errors fail tests. Every test fails (at teardown) if, while it ran:
- code logged at ERROR or above through a logger under `bot`, `flipside` (the Bolt app's logger,
  `flipside.bolt`), `slack_bolt` or `slack_sdk`, or from a module of those packages (Bolt's
  per-listener loggers are named after a file), from any thread: the handler sits on the root
  logger, so Bolt's listener pool, the worker's threads and the HTTP server's are all heard;
- the fake Slack (the `fake_slack` fixture) received the generic reply of bot/listeners/errors.py
  ("Sorry, something went wrong on my side").

A test of an error path declares what it expects with a marker:

    @pytest.mark.expect_errors(r"listener failed \(database unavailable\)", reply=True)

Each pattern is a regular expression searched in the logged message; `reply=True` says the person
gets the generic reply. The declaration is exact both ways: an error that no pattern matches still
fails the test, and so does a pattern that matched nothing, or `reply=True` with no such reply, so a
stale declaration shows up.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import slack_bolt
import slack_sdk
from sqlalchemy import text

import bot
import models
from bot import create_app
from bot.cli import migrations
from bot.config import Settings
from bot.db import Database
from bot.listeners.errors import SORRY
from bot.runtime import build_worker
from bot.slack.http import build_wsgi_app, make_http_server, serve_in_thread
from bot.work.worker import Worker
from tests import payloads
from tests.fakeslack import FakeSlack

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener pool, which tests can wait on: Slack gets the ack (and the test its HTTP
    answer) when ack() is called, or before an event's listener runs, so a listener may still be
    about to hand its work over when the answer arrives."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="bolt-listener")
        self._running = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):
        with self._idle:
            self._running += 1

        def tracked():
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        return super().submit(tracked)

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout)


SIGNING_SECRET = "test-signing-secret"
TEAM = "T1"


@pytest.fixture(scope="session")
def _migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run: a template SQLite file to copy, or the PostgreSQL test database."""
    if TEST_DATABASE_URL:
        database = Database(TEST_DATABASE_URL)
        migrations.downgrade(database, "base")
        migrations.upgrade(database)
        database.dispose()
        return TEST_DATABASE_URL
    template = tmp_path_factory.mktemp("template") / "flipside.db"
    database = Database(f"sqlite:///{template}")
    migrations.upgrade(database)
    database.dispose()
    return str(template)


@pytest.fixture
def database(_migrated: str, tmp_path: Path) -> Iterator[Database]:
    if TEST_DATABASE_URL:
        database = Database(TEST_DATABASE_URL)
        tables = ", ".join(f'"{table.name}"' for table in models.Base.metadata.sorted_tables)
        with database.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        path = tmp_path / "flipside.db"
        shutil.copy(_migrated, path)
        database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


MANIFEST = Path(__file__).resolve().parent.parent / "manifest.json"


def manifest_bot_scopes() -> list[str]:
    return json.loads(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"]


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        # Slack grants what the manifest asks for: a call needing more gets missing_scope, as it would.
        fake.grant_scopes(manifest_bot_scopes())
        fake.add_user("U1", name="priya", real_name="Priya Shah", tz="Europe/London", tz_offset=0)
        fake.add_user("U2", name="george", real_name="George Miller", tz="America/New_York", tz_offset=-18000)
        fake.add_user("U3", name="amara", real_name="Amara Okafor", tz="Africa/Lagos", tz_offset=3600)
        fake.add_user("UADMIN", name="ada", real_name="Ada Admin", tz="UTC", is_admin=True)
        yield fake


def make_settings(fake: FakeSlack, database: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.base_url,
        "database_url": database.url,
        "admin_user_ids": frozenset({"UADMIN"}),
        "post_rate_per_minute": 6000,  # pacing has its own benchmark; tests should not wait on it
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(fake_slack: FakeSlack, database: Database) -> Settings:
    return make_settings(fake_slack, database)


@dataclass
class Flipside:
    """The running app and what tests need around it."""

    http: payloads.SignedClient
    fake: FakeSlack
    db: Database
    settings: Settings
    app: Any
    worker: Worker | None = None
    listeners: ListenerPool | None = None

    def work_done(self, timeout: float = 5) -> None:
        """Wait until the listeners have finished (they go on after their ack) and the worker has
        done all the work they stored (bot/work/)."""
        assert self.listeners is not None and self.listeners.wait_idle(timeout), "listeners still running"
        assert self.worker is not None and self.worker.wait_idle(timeout), "stored work still running"

    def command(self, command: str, text: str = "", *, user: str = "U1", team: str = TEAM) -> payloads.Reply:
        body = payloads.slash_command(
            command, text, user=user, team=team, response_url=self.fake.response_url(f"{command}-{user}")
        )
        return self.http.post(body)

    def replies(self, count: int = 1, timeout: float = 5) -> list[dict[str, Any]]:
        """The ephemeral replies sent to response URLs, waiting for at least `count`."""
        return [call.args for call in self.fake.wait_for("response_url", count, timeout=timeout)]

    def action(self, action_id: str, value: str = "", *, user: str = "U1", team: str = TEAM, **kwargs: Any):
        return self.http.post(payloads.block_action(action_id, value, user=user, team=team, **kwargs))

    def submit(
        self, callback_id: str, values: dict[str, Any], *, user: str = "U1", team: str = TEAM, **kwargs: Any
    ) -> payloads.Reply:
        return self.http.post(payloads.view_submission(callback_id, values, user=user, team=team, **kwargs))

    def event(self, event: dict[str, Any], *, team: str = TEAM, **kwargs: Any) -> payloads.Reply:
        headers = kwargs.pop("headers", None)
        return self.http.post_json(payloads.event_callback(event, team=team, **kwargs), headers=headers)


def start_worker_for(settings: Settings, database: Database) -> Worker:
    """The production worker on threads of the test process, woken the moment work is stored."""
    worker = build_worker(settings, database)
    worker.start()
    return worker


def stop_worker(worker: Worker) -> None:
    # No work of one test may run into the next (PostgreSQL's tables are shared between tests).
    worker.wait_idle(10)
    worker.stop()


def serve(
    settings: Settings, database: Database, fake: FakeSlack, *, start_worker: bool = True
) -> Iterator[Flipside]:
    # Listeners go on after their ack; the test waits for them at the end.
    listeners = ListenerPool()
    worker = start_worker_for(settings, database) if start_worker else None
    app = create_app(settings, database=database, listener_executor=listeners)
    server = make_http_server(build_wsgi_app(app), host="127.0.0.1", port=0)
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_port}/slack/events"
    try:
        yield Flipside(
            payloads.SignedClient(url, SIGNING_SECRET), fake, database, settings, app, worker, listeners
        )
    finally:
        server.shutdown()
        server.server_close()
        listeners.shutdown(wait=True)
        if worker is not None:
            stop_worker(worker)


@pytest.fixture
def flipside(settings: Settings, database: Database, fake_slack: FakeSlack) -> Iterator[Flipside]:
    yield from serve(settings, database, fake_slack)


# --- Errors fail the test unless it declares them (see the module docstring) -------------------

WATCHED_LOGGERS = frozenset({"bot", "flipside", "slack_bolt", "slack_sdk"})
# Bolt names its per-listener loggers after the file that built the App, so where a record was
# logged counts as well as the logger's name.
WATCHED_CODE = tuple(str(Path(package.__file__).parent) + os.sep for package in (bot, slack_bolt, slack_sdk))


class ErrorLog(logging.Handler):
    """ERROR records of the watched code, whichever thread logged them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.partition(".")[0] in WATCHED_LOGGERS or record.pathname.startswith(WATCHED_CODE):
            self.records.append(record)


def describe(record: logging.LogRecord) -> str:
    line = f"{record.levelname} {record.name} [{record.threadName}]: {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        line += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
    return line


def generic_replies(fake: FakeSlack) -> list[str]:
    """The calls (by method) that carried bot/listeners/errors.py's reply to a person."""
    return [call.method for call in fake.calls if SORRY in str(call.args.get("text") or "")]


@pytest.fixture(autouse=True)
def errors_fail_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("expect_errors")
    patterns = [re.compile(pattern) for pattern in marker.args] if marker else []
    reply_expected = bool(marker and marker.kwargs.get("reply", False))
    if marker and not patterns and not reply_expected:
        raise pytest.UsageError("expect_errors needs the patterns of the errors it expects")
    # Taken here, the fixtures built on it (the app, its worker) are set up after this one, so they
    # are stopped, their work done, before the check below.
    fake = request.getfixturevalue("fake_slack") if "fake_slack" in request.fixturenames else None
    if reply_expected and fake is None:
        raise pytest.UsageError("expect_errors(reply=True) needs the fake_slack fixture")
    log = ErrorLog()
    root = logging.getLogger()
    root.addHandler(log)
    try:
        yield
    finally:
        root.removeHandler(log)
    problems = []
    unexpected = [r for r in log.records if not any(p.search(r.getMessage()) for p in patterns)]
    problems += [f"unexpected error logged: {describe(record)}" for record in unexpected]
    problems += [
        f"expected an error matching {p.pattern!r}; none was logged"
        for p in patterns
        if not any(p.search(record.getMessage()) for record in log.records)
    ]
    replies = generic_replies(fake) if fake is not None else []
    if replies and not reply_expected:
        problems.append(f"the person was sent the generic error reply ({', '.join(replies)})")
    if reply_expected and not replies:
        problems.append("expected the generic error reply; none was sent")
    if problems:
        if unexpected and unexpected[0].exc_info:
            problems.append(logging.Formatter().formatException(unexpected[0].exc_info))
        pytest.fail("\n".join(problems), pytrace=False)
