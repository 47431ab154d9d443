"""Build the real process from the environment, turning every start-up failure into one line."""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import create_app
from bot.config import ConfigError, Settings
from bot.db import Database, DatabaseUnavailable
from bot.flood import FloodWatch
from bot.relay import PipeRelay, RelayReader
from bot.work import DEFAULT_THREADS, Worker, WorkQueue, enterprise_of

logger = logging.getLogger(__name__)

WORKER_NICENESS = 10
HEALTHY_RUN_SECONDS = 300  # a worker that ran this long and died restarts after the shortest delay
PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)


class StartupError(RuntimeError):
    """The app cannot start; the message says why and what to do."""


def load_settings(*, require_slack: bool) -> Settings:
    # Bolt switches to its own file-based OAuth when these are merely present, even blank (as a
    # copied .env leaves them); for us blank means unset, so make it so for Bolt too.
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        if name in os.environ and not os.environ[name].strip():
            del os.environ[name]
    try:
        return Settings.from_env(require_slack=require_slack)
    except ConfigError as error:
        raise StartupError(str(error)) from None


def open_database(settings: Settings) -> Database:
    database = Database(settings.database_url)
    try:
        database.check_connection()
    except DatabaseUnavailable as error:
        raise StartupError(f"{error} (check DATABASE_URL)") from None
    return database


def build_app(settings: Settings, database: Database, *, work_queue: WorkQueue | None = None) -> App:
    try:
        app = create_app(settings, database=database, work_queue=work_queue)
        if not settings.oauth_enabled:
            reactivate_workspace(settings, database, app.client)
        return app
    except (BoltError, SlackApiError) as error:
        raise StartupError(f"Slack refused the bot token ({error}); check SLACK_BOT_TOKEN") from None
    except ConfigError as error:
        raise StartupError(str(error)) from None


def reactivate_workspace(settings: Settings, database: Database, client) -> None:
    """Single-token mode: the token we start with is live, so its workspace is installed again
    (after an uninstall and a reinstall with a new SLACK_BOT_TOKEN, its jobs resume)."""
    from bot.services import profiles

    team_id = client.auth_test()["team_id"]
    with database.transaction() as session:
        workspace = profiles.ensure_workspace(session, team_id=team_id, defaults=settings.programme)
        workspace.uninstalled_at = None


def freeze_startup_objects() -> None:
    """Move what start-up built (Bolt, SQLAlchemy's mappers, the listeners) out of the garbage
    collector's sight: it lives as long as the process, and without it every full collection
    walks it all while the acks wait (measured: the slowest ack fell from 50-60 ms to 21 ms)."""
    gc.collect()
    gc.freeze()


def build_worker(settings: Settings, database: Database, *, threads: int = DEFAULT_THREADS) -> Worker:
    """The worker that runs what listeners hand over (bot/work.py), with a client per workspace."""
    import bot.listeners  # noqa: F401  (registers every task)
    from bot.listeners.errors import handle_error
    from bot.notify import process_owner
    from bot.oauth import token_resolver
    from bot.slack_client import build_web_client

    token_for = token_resolver(settings, database)
    clients: dict[str, WebClient] = {}
    clients_lock = threading.Lock()

    def client_for(team_id: str, enterprise_id: str | None = None) -> WebClient | None:
        token = token_for(team_id, enterprise_id)
        if not token:
            return None
        with clients_lock:  # one client (and one HTTP connection pool) per token
            if token not in clients:
                clients[token] = build_web_client(settings, token=token)
            return clients[token]

    return Worker(
        database,
        settings,
        client_for,
        on_failure=lambda job, error: handle_error(error, job.body, job.client, None),
        owner=process_owner(),
        threads=threads,
    )


def run_worker(
    *,
    threads: int = DEFAULT_THREADS,
    parent_pid: int | None = None,
    nice: int = 0,
    relay_fd: int | None = None,
) -> None:
    """`python -m bot worker`: run stored work until SIGTERM/SIGINT, then finish what is running.
    With `relay_fd` (`python app.py`'s child), also store what the web process sends down its pipe."""
    settings = load_settings(require_slack=True)
    database = open_database(settings)
    worker, reader = worker_process(settings, database, threads=threads, relay_fd=relay_fd)
    if nice:
        os.nice(nice)
    freeze_startup_objects()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.request_stop())
    logger.info("worker %s: %d threads", worker.owner, threads)
    if reader is not None:
        reader.start()
    try:
        worker.serve_forever(parent_pid=parent_pid)
    finally:
        if reader is not None:
            reader.stop()  # what the web process sent before it stopped is stored, for the next start


def worker_process(
    settings: Settings,
    database: Database,
    *,
    threads: int = DEFAULT_THREADS,
    relay_fd: int | None = None,
    flood: FloodWatch | None = None,
) -> tuple[Worker, RelayReader | None]:
    """A worker process's worker, and with `relay_fd` (`python app.py`'s child) the reader of the web
    process's pipe, which tells the worker when to hold off (bot/flood.py)."""
    worker = build_worker(settings, database, threads=threads)
    worker.listen = True  # on PostgreSQL, told of new work at its commit (bot/wakeup.py)
    if relay_fd is None:
        return worker, None
    flood = flood or FloodWatch()
    worker.hold = flood.holding  # on the web process's machine: acks first
    return worker, relay_reader(relay_fd, worker, settings, on_arrival=flood.saw)


def relay_reader(
    relay_fd: int,
    worker: Worker,
    settings: Settings,
    *,
    on_arrival: Callable[[int], None],
) -> RelayReader:
    """The child's end of bot/relay.py: tasks read from the pipe are stored, then claimed at once."""
    from bot.listeners.errors import handle_error

    def tell_the_person(values: dict, error: Exception) -> None:
        try:
            client = worker.client_for(values["team_id"], enterprise_of(values["body"]))
            if client is not None:
                handle_error(error, values["body"], client, None)
        except Exception:
            logger.exception("telling a person about lost work failed")

    queue = WorkQueue(worker.database, on_added=worker.wake)
    return RelayReader(
        relay_fd, queue, on_lost=tell_the_person, on_broken=worker.request_stop, on_arrival=on_arrival
    )


class WorkerChild:
    """`python app.py`'s worker: `python -m bot worker` in a child process, restarted if it dies.

    A process of its own, not threads beside Bolt's: its Python would compete with the acks for
    the interpreter lock (see bot/work.py)."""

    def __init__(
        self, database: Database, *, restart_delay: float = 1.0, niceness: int = WORKER_NICENESS
    ) -> None:
        self._database = database
        self._restart_delay = restart_delay
        self._niceness = niceness
        self.relay = PipeRelay()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._watcher = threading.Thread(target=self._watch, name="flipside-worker-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def work_queue(self) -> WorkQueue:
        """The web side's WorkQueue: tasks go down the pipe to the child (bot/relay.py)."""
        return WorkQueue(self._database, relay=self.relay)

    def _spawn(self) -> None:
        # Niced: on a machine shared with the web side, the acks get the CPU first; the work waits
        # (its lag is measured in benchmarks/ack_latency.py). The write lock is not at stake: the
        # web side stores from its spool thread, never from a thread that is about to ack.
        command = [sys.executable, "-m", "bot", "worker", "--parent-pid", str(os.getpid())]
        command += ["--nice", str(self._niceness), "--relay-fd", str(self.relay.read_fd)]
        # `python /path/to/app.py` may run from any directory: the child finds `bot` where we did.
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [PROJECT_ROOT, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(command, env=env, pass_fds=(self.relay.read_fd,))

    def _watch(self) -> None:
        from bot.notify import process_owner
        from bot.services import pending_work

        delay = self._restart_delay
        while not self._stopping.is_set():
            assert self._process is not None
            started = time.monotonic()
            code = self._process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > HEALTHY_RUN_SECONDS:
                delay = self._restart_delay  # a crash now and then, not a crash loop
            logger.error("the worker process exited (%s); starting another in %.0f s", code, delay)
            # Its claims would wait out their lease: it is dead, so its work is due again now.
            try:
                with self._database.transaction() as session:
                    pending_work.release_claims(session, owner=process_owner(self._process.pid))
            except Exception:
                logger.exception("could not release the dead worker's claims; their leases will run out")
            while not self._stopping.wait(delay):
                delay = min(delay * 2, 30.0)
                with self._lock:  # stop() cannot slip in between this check and the spawn
                    if self._stopping.is_set():
                        return
                    try:
                        self._spawn()
                        break
                    except OSError:  # e.g. fork failed for want of memory: try again, later
                        logger.exception("could not start a worker process; trying again in %.0f s", delay)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM: the worker stores what is still in the pipe and finishes the tasks it is
        running (work not started stays stored). The web side closes its WorkQueue first."""
        with self._lock:
            self._stopping.set()
        self.relay.close()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._store_unread()
        self.relay.close_read_end()

    def _store_unread(self) -> None:
        """What no child read (it was killed, or had exited already): stored here, for the next start."""
        from bot.services import pending_work

        try:
            records = self.relay.take_unread()
            if records:
                with self._database.transaction() as session:
                    pending_work.add_many(session, records)
                logger.info("stored %d tasks the worker had not read", len(records))
        except Exception:
            logger.exception("could not store the tasks left in the worker's pipe")


def start_app() -> None:
    """`python app.py`: the web side and the scheduler here, the worker in a child process."""
    from bot.scheduler import build_scheduler
    from bot.web import build_wsgi_app, make_http_server

    settings = load_settings(require_slack=True)
    database = open_database(settings)
    worker = WorkerChild(database)
    work_queue = worker.work_queue()
    app = build_app(settings, database, work_queue=work_queue)
    scheduler = build_scheduler(settings=settings, database=database, client=app.client, background=True)
    freeze_startup_objects()
    # SIGTERM (a platform stopping us, Ctrl-C's sibling) unwinds like Ctrl-C, through the finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    scheduler.start()
    worker.start()
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            logger.info("Socket Mode: connecting to Slack")
            SocketModeHandler(app, settings.slack_app_token).start()
        else:
            server = make_http_server(build_wsgi_app(app), port=settings.port)
            logger.info("HTTP mode: listening on port %s at /slack/events", settings.port)
            server.serve_forever()
    finally:
        scheduler.shutdown(wait=False)
        work_queue.close()  # later hand-overs are stored here; the child reads the pipe to its end
        worker.stop()
