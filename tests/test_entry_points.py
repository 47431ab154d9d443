"""Each production entry point starts once, as a platform starts it, against the fake Slack and a
migrated database: the Procfile's web (gunicorn), worker and clock, and `python app.py`'s Socket Mode.
`python app.py` in HTTP mode is tests/test_app_process.py's; `release` (migrate) is tests/test_cli.py's.

Nothing here is timed: a process that hangs fails through its wait's timeout or pytest-timeout."""

from __future__ import annotations

import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from bot.db import Database
from bot.ids import Work
from bot.jobs import all_jobs
from bot.scheduler import build_scheduler
from bot.slack.client import build_web_client
from bot.views.profile import build_help
from bot.work import queue
from models import utcnow
from tests import payloads
from tests.conftest import SIGNING_SECRET, TEAM
from tests.factories import add_person, eventually
from tests.fakeslack import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
# What a process must never write to its log while it starts, serves and stops.
TROUBLE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def free_port() -> int:
    # The app refuses PORT=0 (bot/config.py), so gunicorn cannot pick one: a port free a moment ago.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(database: Database, fake: FakeSlack) -> dict[str, str]:
    """The environment a platform gives the app (bot/config.py), pointed at the test's fakes."""
    return {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),  # the processes run in a temporary folder, away from any .env
        "DATABASE_URL": database.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.base_url,
    }


class Process:
    """A process started in its own session, its output in a file; stopped by its own id."""

    def __init__(self, args: list[str], *, env: dict[str, str], folder: Path) -> None:
        self.log_path = folder / "process.log"
        self._log = self.log_path.open("w")
        self.popen = subprocess.Popen(
            args, cwd=folder, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def logged(self, pattern: str) -> re.Match[str] | None:
        """Wait for a line matching `pattern`; None once the process has exited without it."""

        def seen():
            match = re.search(pattern, self.log)
            return match or self.popen.poll() is not None

        found = eventually(seen, timeout=60)
        return found if isinstance(found, re.Match) else None

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signum)
        try:
            return self.popen.wait(60)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)
        self._log.close()


@pytest.fixture
def started() -> Iterator[list[Process]]:
    """Processes a test starts; any still running at the end are killed."""
    processes: list[Process] = []
    yield processes
    for process in processes:
        process.kill()


def mentoring_help_body(fake: FakeSlack) -> str:
    return payloads.slash_command(
        "/mentoring", "help", user="U1", team=TEAM, response_url=fake.response_url("mentoring-help")
    )


def gunicorn(env: dict[str, str], folder: Path) -> Process:
    """The Procfile's own web line, with this interpreter's gunicorn and one worker."""
    command = procfile()["web"].replace("gunicorn ", f"exec {sys.executable} -m gunicorn ", 1)
    # HOME: gunicorn puts its control socket under ~/.gunicorn; each test keeps its own.
    env = {**env, "WEB_CONCURRENCY": "1", "HOME": str(folder)}
    return Process(["sh", "-c", command], env=env, folder=folder)


def test_gunicorn_serves_the_web_process_of_the_procfile(database, fake_slack, tmp_path, started):
    port = free_port()
    web = gunicorn({**production_env(database, fake_slack), "PORT": str(port)}, tmp_path)
    started.append(web)
    assert web.logged(r"Listening at: "), web.log
    base = f"http://127.0.0.1:{port}"

    # The worker imports bot.wsgi when it boots; until then the connection waits in the backlog.
    with urllib.request.urlopen(f"{base}/healthz", timeout=60) as response:
        assert response.status == 200, web.log
    reply = payloads.SignedClient(f"{base}/slack/events", SIGNING_SECRET).post(
        mentoring_help_body(fake_slack)
    )
    assert reply.status == 200, web.log
    [answer] = fake_slack.wait_for("response_url")
    assert answer.args["text"] == build_help().text
    assert fake_slack.calls_to("auth.test")  # the worker checked the token as it booted

    assert web.stop() == 0, web.log  # SIGTERM: gunicorn's graceful stop
    assert not TROUBLE.search(web.log), web.log


def test_gunicorn_gives_up_when_the_app_cannot_start(database, fake_slack, tmp_path, started):
    env = {**production_env(database, fake_slack), "PORT": str(free_port())}
    del env["SLACK_SIGNING_SECRET"]
    web = gunicorn(env, tmp_path)
    started.append(web)
    # Either gunicorn stops (the process exits) or it boots a second worker: a crash loop.
    assert web.logged(r"(?s)Booting worker.*Booting worker") is None, web.log
    assert web.popen.returncode != 0 and "SLACK_SIGNING_SECRET is missing" in web.log


def test_the_worker_of_the_procfile_does_handed_over_work_and_stops_on_sigterm(
    database, fake_slack, tmp_path, started
):
    body = dict(parse_qsl(mentoring_help_body(fake_slack)))
    body["command"], body["text"] = "/teachme", "canva"
    with database.transaction() as session:
        queue.enqueue(session, team_id=TEAM, kind=Work.TEACHME, body=body, now=utcnow())
    worker = Process(
        [sys.executable, *procfile()["worker"].split()[1:]],
        env=production_env(database, fake_slack),
        folder=tmp_path,
    )
    started.append(worker)
    [reply] = fake_slack.wait_for("response_url", timeout=60)
    assert "canva" in reply.args["text"].lower()
    assert worker.stop() == 0, worker.log  # it finishes what it runs, then exits
    assert not TROUBLE.search(worker.log), worker.log


def test_the_clock_of_the_procfile_starts_its_scheduler_and_stops_on_ctrl_c(
    database, fake_slack, tmp_path, started
):
    # `python -m bot clock` logs at WARNING; configured first at INFO, it says when it is scheduling.
    run_clock = (
        "import logging, sys; logging.basicConfig(level=logging.INFO);"
        "from bot.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    assert procfile()["clock"] == "python -m bot clock"
    clock = Process(
        [sys.executable, "-c", run_clock, "clock"], env=production_env(database, fake_slack), folder=tmp_path
    )
    started.append(clock)
    assert clock.logged(r"Scheduler started"), clock.log
    assert f"clock: {len(all_jobs())} jobs scheduled" in clock.log
    assert [call.method for call in fake_slack.calls_to("auth.test")] == ["auth.test"]
    assert clock.stop(signal.SIGINT) == 0, clock.log
    assert not TROUBLE.search(clock.log), clock.log


def test_one_clock_tick_runs_every_job(settings, database, fake_slack, caplog):
    from bot.services import outbox
    from bot.views.common import Message

    add_person(database, "U1", stage="early", department="Ops", teaches="canva")
    add_person(database, "U2", stage="senior", department="Law", learns="canva")
    with database.transaction() as session:  # something for the delivery job to send
        outbox.enqueue(
            session,
            team_id=TEAM,
            dedupe_key="test-tick",
            kind="notice",
            recipient="U1",
            message=Message(text="sent by the clock"),
            send_after=datetime.now(UTC) - timedelta(minutes=1),
        )
    caplog.set_level(logging.INFO, logger="bot.scheduler")
    # The clock's own scheduler (bot/__main__.py cmd_clock), every job made due at once.
    scheduler = build_scheduler(
        settings=settings, database=database, client=build_web_client(settings), background=True
    )
    ran: list[str] = []
    finished = threading.Condition()

    def count(event) -> None:
        with finished:
            ran.append(event.job_id)
            finished.notify_all()

    scheduler.add_listener(count, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        for job in scheduler.get_jobs():
            job.modify(next_run_time=now)
        scheduler.resume()
        with finished:
            assert finished.wait_for(lambda: len(ran) >= len(all_jobs()), timeout=60), ran
    finally:
        scheduler.shutdown(wait=True)

    job_ids = sorted(spec.id for spec in all_jobs())
    assert sorted(ran) == job_ids
    done = sorted(re.match(r"job (\S+) done", r.getMessage()).group(1) for r in caplog.records
                  if r.name == "bot.scheduler" and r.getMessage().startswith("job "))  # fmt: skip
    assert done == job_ids  # each ran to its end (a failure is logged, and fails the test)
    # (The matching round may also have run, depending on the day of the week.)
    assert "sent by the clock" in [m["text"] for m in fake_slack.messages(fake_slack.dm_channel_for("U1"))]


def test_socket_mode_app_is_built_and_answers_a_command_without_connecting(database, fake_slack, monkeypatch):
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.socket_mode.request import SocketModeRequest

    from bot.runtime import build_app, load_settings, open_database

    for name, value in {**production_env(database, fake_slack), "SLACK_APP_TOKEN": "xapp-1-test"}.items():
        monkeypatch.setenv(name, value)
    # What start_app() builds before it connects (bot/runtime.py), from the same environment.
    settings = load_settings(require_slack=True)
    assert settings.slack_app_token == "xapp-1-test"
    opened = open_database(settings)
    handler = SocketModeHandler(build_app(settings, opened), settings.slack_app_token)
    sent = []
    monkeypatch.setattr(handler.client, "send_socket_mode_response", sent.append)  # no connection
    try:
        body = dict(parse_qsl(mentoring_help_body(fake_slack)))
        handler.handle(
            handler.client, SocketModeRequest(type="slash_commands", envelope_id="E1", payload=body)
        )
        assert [response.envelope_id for response in sent] == ["E1"]  # the ack, over the socket
        [answer] = fake_slack.wait_for("response_url")
        assert answer.args["text"] == build_help().text
    finally:
        handler.close()
        opened.dispose()
    assert not fake_slack.calls_to("apps.connections.open")  # built, never connected
