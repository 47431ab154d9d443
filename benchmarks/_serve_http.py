"""Serve Flipside (or the bare baseline) over bot.slack.http.make_http_server, in its own process.

    python benchmarks/_serve_http.py --app flipside --database sqlite:///x.db --slack-url http://...

Prints {"port": N} once listening. Then each line "stats" on stdin prints one JSON line of
server-side timings since the last one; end of stdin stops the server. The timings come from
wrappers around the WSGI callable and Bolt's listener executor; they do not change what runs:

- ack: from the WSGI call to start_response (the ack is ready), per request;
- queue: how long a listener waited for a free thread in Bolt's listener executor;
- listener: how long a listener ran on Bolt's pool (its ack, and storing what it hands over);
- cpu_seconds: this process's CPU; worker_cpu_seconds: the worker child's (Flipside only).

Flipside's work after the ack goes down a pipe to a worker child process, started and wired as
`python app.py` does it (bot.runtime.WorkerChild and its work_queue()), with the same settings in its
environment. "pipe_overflows": tasks the pipe had no room for (the web side stored them).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BOT_TOKEN, percentile
from bare_app import build_bare_app

from bot import create_app
from bot.config import Settings
from bot.db import Database
from bot.runtime import WorkerChild, freeze_startup_objects
from bot.slack.http import WsgiApp, build_wsgi_app, make_http_server, serve_in_thread


class Timings:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pending = 0
        self._reset()

    def _reset(self) -> None:
        names = ("ack", "queue", "listener")
        self.series: dict[str, list[float]] = {name: [] for name in names}
        self.cpu = os.times()
        self.worker_cpu = 0.0
        self.peak_pending = self.pending

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.series[name].append(seconds)

    def queued(self, delta: int) -> None:
        with self._lock:
            self.pending += delta
            self.peak_pending = max(self.peak_pending, self.pending)

    def snapshot(self, *, drain_timeout: float = 60, worker_pid: int | None = None) -> dict[str, Any]:
        """Figures since the last snapshot, once the listeners still running have finished."""
        asked = time.perf_counter()
        while self.pending and time.perf_counter() - asked < drain_timeout:
            time.sleep(0.01)
        with self._lock:
            now = os.times()
            worker_cpu = process_cpu(worker_pid) if worker_pid else 0.0
            report: dict[str, Any] = {
                "cpu_seconds": (now.user - self.cpu.user) + (now.system - self.cpu.system),
                "worker_cpu_seconds": worker_cpu - self.worker_cpu,
                "peak_listeners_waiting_or_running": self.peak_pending,
                "drain_seconds": time.perf_counter() - asked,
                "still_running": self.pending,
            }
            for name, values in self.series.items():
                values.sort()
                report[name] = {
                    "count": len(values),
                    "mean": sum(values) / len(values) if values else 0.0,
                    **{f"p{q}": percentile(values, q) for q in (50, 90, 99)},
                    "max": values[-1] if values else 0.0,
                }
            self._reset()
            self.worker_cpu = worker_cpu
            return report


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (the worker child), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TimedExecutor(Executor):
    """Bolt's listener executor, with how long each listener waited and ran written down."""

    def __init__(
        self,
        inner: Executor,
        timings: Timings,
        *,
        waited: str = "queue",
        ran: str = "listener",
        profile: bool = False,
    ) -> None:
        self.inner, self.timings = inner, timings
        self.waited, self.ran = waited, ran
        self.profiles: list[cProfile.Profile] | None = [] if profile else None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        submitted = time.perf_counter()
        self.timings.queued(+1)

        def timed() -> Any:
            started = time.perf_counter()
            self.timings.add(self.waited, started - submitted)
            profiler = cProfile.Profile() if self.profiles is not None else None
            try:
                if profiler is None:
                    return fn(*args, **kwargs)
                return profiler.runcall(fn, *args, **kwargs)
            finally:
                self.timings.add(self.ran, time.perf_counter() - started)
                if profiler is not None and self.profiles is not None:
                    self.profiles.append(profiler)
                self.timings.queued(-1)

        return self.inner.submit(timed)

    def dump_profile(self, path: str) -> None:
        if not self.profiles:
            return
        stats = pstats.Stats(self.profiles[0])
        for profiler in self.profiles[1:]:
            stats.add(profiler)
        stats.dump_stats(path)
        self.profiles.clear()

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:
        self.inner.shutdown(wait=wait, **kwargs)


def timed_wsgi(app: WsgiApp, timings: Timings) -> WsgiApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]):
        entered = time.perf_counter()

        def timed_start_response(*args: Any, **kwargs: Any):
            timings.add("ack", time.perf_counter() - entered)
            return start_response(*args, **kwargs)

        return app(environ, timed_start_response)

    return application


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", choices=("flipside", "bare"), required=True)
    parser.add_argument("--database", help="Flipside's DATABASE_URL (migrated)")
    parser.add_argument("--slack-url", required=True, help="base URL of the fake Web API")
    parser.add_argument("--secret", required=True)
    parser.add_argument(
        "--listener-threads",
        type=int,
        help="experiment: give Bolt a listener pool of this size instead of its default 5",
    )
    parser.add_argument("--worker-nice", type=int, help="experiment: the worker child's niceness")
    parser.add_argument("--profile", help="write a cProfile of the listeners' runs here at each 'stats'")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    worker = None
    if args.app == "flipside":
        settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=args.secret,
            slack_api_url=args.slack_url,
            database_url=args.database,
        )
        database = Database(settings.database_url)
        # The worker child reads its settings from the environment, as under `python app.py`.
        os.environ.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=args.secret,
            SLACK_API_URL=args.slack_url,
            DATABASE_URL=args.database,
        )
        niceness = {} if args.worker_nice is None else {"niceness": args.worker_nice}
        worker = WorkerChild(database, **niceness)
        work_queue = worker.work_queue()  # the hand-over down a pipe, as start_app wires it
        app = create_app(settings, database=database, work_queue=work_queue)
        worker.start()
    else:
        app = build_bare_app(signing_secret=args.secret, api_url=args.slack_url)
    freeze_startup_objects()  # as app.py and bot.wsgi do (for the bare app too, to be fair)
    timings = Timings()
    runner = app.listener_runner
    inner = ThreadPoolExecutor(args.listener_threads) if args.listener_threads else runner.listener_executor
    executor = TimedExecutor(inner, timings, profile=bool(args.profile))
    if runner.lazy_listener_runner.executor is runner.listener_executor:
        runner.lazy_listener_runner.executor = executor
    runner.listener_executor = executor
    server = make_http_server(timed_wsgi(build_wsgi_app(app), timings), host="127.0.0.1", port=0)
    serve_in_thread(server)
    print(json.dumps({"port": server.server_port}), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            report = timings.snapshot(worker_pid=worker.pid if worker else None)
            report["pipe_overflows"] = worker.relay.overflows if worker else 0
            if args.profile:
                executor.dump_profile(args.profile)
            print(json.dumps(report), flush=True)
    server.shutdown()
    server.server_close()
    if worker is not None:
        work_queue.close()
        worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
