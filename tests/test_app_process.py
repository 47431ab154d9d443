"""`python app.py` as people run it: the web side in one process, the worker in a child process
that replies, is restarted when it dies, and never outlives the app."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.services import pending_work
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


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except OSError:
        return False


class RunningApp:
    def __init__(self, process: subprocess.Popen, port: int, env: dict[str, str]) -> None:
        self.process = process
        self.env = env
        self.http = payloads.SignedClient(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
        self.base = f"http://127.0.0.1:{port}"

    def worker_pid(self, *, other_than: int | None = None) -> int:
        def found() -> int | None:
            pids = [pid for pid in children_of(self.process.pid) if pid != other_than and alive(pid)]
            return pids[0] if pids else None

        return eventually(found, timeout=15)

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
        for pid in [process.pid, *children_of(process.pid)]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(10)
        log.close()


def nothing_pending(database) -> bool:
    with database.read_only() as session:
        return pending_work.backlog(session) == 0


def test_the_worker_child_replies_and_a_killed_worker_is_replaced(app_process, fake_slack, database):
    first_worker = app_process.worker_pid()
    assert app_process.teachme(fake_slack, "social media").status == 200
    assert "social media" in fake_slack.wait_for("response_url", 1, timeout=15)[0].args["text"].lower()
    # Killed mid-task, the worker's task would be done again by the next one (at least once);
    # here it is killed idle.
    eventually(lambda: nothing_pending(database), timeout=15)

    os.kill(first_worker, signal.SIGKILL)
    second_worker = app_process.worker_pid(other_than=first_worker)
    assert second_worker != first_worker
    assert app_process.teachme(fake_slack, "canva").status == 200
    replies = fake_slack.wait_for("response_url", 2, timeout=15)
    assert "canva" in replies[1].args["text"].lower()

    app_process.process.send_signal(signal.SIGTERM)  # a graceful stop takes the worker with it
    app_process.process.wait(20)
    assert eventually(lambda: not alive(second_worker), timeout=15)


def test_a_killed_app_does_not_leave_its_worker_behind(app_process):
    worker = app_process.worker_pid()
    app_process.process.kill()
    app_process.process.wait(10)
    started = time.monotonic()
    assert eventually(lambda: not alive(worker), timeout=15)
    assert time.monotonic() - started < 10  # it checks its parent every 0.2 s once started


def unread_in_pipe(app: RunningApp, worker: int) -> int:
    """Bytes waiting in the pipe from the app to its worker (bot/relay.py), read through /proc."""
    args = Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
    relay_fd = int(args[args.index(b"--relay-fd") + 1])
    fd = os.open(f"/proc/{app.process.pid}/fd/{relay_fd}", os.O_RDONLY | os.O_NONBLOCK)
    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    finally:
        os.close(fd)


def command_waiting_in_the_pipe(app: RunningApp, fake, database, text: str) -> int:
    """Stop the worker, send a command: its task waits in the pipe (not stored: not the spool's)."""
    worker = app.worker_pid()
    os.kill(worker, signal.SIGSTOP)
    assert app.teachme(fake, text).status == 200
    eventually(lambda: unread_in_pipe(app, worker) > 0, timeout=10)
    assert nothing_pending(database)
    return worker


def test_a_task_in_the_pipe_outlives_a_killed_worker(app_process, fake_slack, database):
    worker = command_waiting_in_the_pipe(app_process, fake_slack, database, "canva")
    os.kill(worker, signal.SIGKILL)  # it never read the line: the next worker does
    [reply] = fake_slack.wait_for("response_url", 1, timeout=20)
    assert "canva" in reply.args["text"].lower()
    assert eventually(lambda: nothing_pending(database), timeout=10)
    assert len(fake_slack.calls_to("response_url")) == 1


def test_work_acked_just_before_the_app_is_killed_is_done_once(app_process, fake_slack, database):
    worker = command_waiting_in_the_pipe(app_process, fake_slack, database, "online safety")
    app_process.process.kill()
    app_process.process.wait(10)
    os.kill(worker, signal.SIGCONT)
    # The child reads what the dead app left in the pipe, stores it, and exits (it may run it too).
    assert eventually(lambda: not alive(worker), timeout=15)
    if not nothing_pending(database):  # stored, not run: the next worker's
        env = {**app_process.env, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "bot", "worker", "--once"], env=env, check=True, timeout=60)
    [reply] = fake_slack.wait_for("response_url", 1, timeout=15)
    assert "online safety" in reply.args["text"].lower()
    assert nothing_pending(database)
    assert len(fake_slack.calls_to("response_url")) == 1  # done once: every process that could is gone


def test_a_stopping_app_stores_what_its_worker_never_read(app_process, fake_slack, database):
    worker = command_waiting_in_the_pipe(app_process, fake_slack, database, "video calls")
    os.kill(worker, signal.SIGKILL)
    app_process.process.send_signal(signal.SIGTERM)  # it may stop before a new worker reads the line
    app_process.process.wait(40)
    # Stored by the app as it stopped (a replacement worker starts after 1 s), or, on a slow machine,
    # read by that replacement before the stop: never lost.
    if not nothing_pending(database):
        env = {**app_process.env, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "bot", "worker", "--once"], env=env, check=True, timeout=60)
    [reply] = fake_slack.wait_for("response_url", 1, timeout=15)
    assert "video calls" in reply.args["text"].lower()
