"""`python app.py` as people run it: one process with the web side, the scheduler and the worker's
threads; it replies, does stored work (also work left from before a crash), and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ids import Work
from bot.work import queue
from models import utcnow
from tests import payloads
from tests.conftest import SIGNING_SECRET, TEAM
from tests.factories import eventually

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class RunningApp:
    def __init__(self, process: subprocess.Popen, port: int, env: dict[str, str]) -> None:
        self.process = process
        self.env = env
        self.http = payloads.SignedClient(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
        self.base = f"http://127.0.0.1:{port}"

    def teachme(self, fake, text: str) -> payloads.Reply:
        body = payloads.slash_command(
            "/teachme", text, user="U1", team=TEAM, response_url=fake.response_url(f"teachme-{len(text)}")
        )
        return self.http.post(body)


@pytest.fixture
def app_process(database, fake_slack, tmp_path) -> Iterator[RunningApp]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database.url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "PORT": str(port),
    }
    log = (tmp_path / "app.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")], cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    app = RunningApp(process, port, env)

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{app.base}/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return process.poll() is not None  # exited: stop waiting, the assert below says so

    eventually(healthy, timeout=20)
    assert process.poll() is None, (tmp_path / "app.log").read_text()
    try:
        yield app
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        log.close()


def nothing_pending(database) -> bool:
    with database.read_only() as session:
        return queue.backlog(session) == 0


def test_python_app_py_replies_in_one_process_and_stops_cleanly(app_process, fake_slack):
    assert app_process.teachme(fake_slack, "social media").status == 200
    assert "social media" in fake_slack.wait_for("response_url", 1, timeout=15)[0].args["text"].lower()
    assert children_of(app_process.process.pid) == []  # no worker child, no supervisor

    app_process.process.send_signal(signal.SIGTERM)
    assert app_process.process.wait(20) == 0


def test_work_left_stored_by_a_crash_is_done_once_the_app_runs_again(database, fake_slack, tmp_path, request):
    # Stored before the app starts, as a crash would leave it: the admin's "run the round now".
    with database.transaction() as session:
        queue.enqueue(
            session,
            team_id=TEAM,
            kind=Work.ADMIN_RUN_ROUND,
            body={"team_id": TEAM, "user": {"id": "UADMIN", "team_id": TEAM}, "type": "view_submission"},
            extras={"period": None},
            now=utcnow(),
        )
    app = request.getfixturevalue("app_process")
    eventually(lambda: nothing_pending(database), timeout=20)
    [told] = fake_slack.wait_for("chat.postMessage", 1, timeout=15)
    assert told.args["channel"] == "UADMIN" and "round run" in told.args["text"].lower()
    app.process.send_signal(signal.SIGTERM)
    assert app.process.wait(20) == 0
