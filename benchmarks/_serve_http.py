"""Serve Flipside (or the bare baseline) over bot.web.make_http_server, in its own process.

    python benchmarks/_serve_http.py --app flipside --database sqlite:///x.db --slack-url http://...

Prints {"port": N} once listening. Then each line "stats" on stdin prints one JSON line of
server-side timings since the last one; end of stdin stops the server. The timings come from
wrappers around the WSGI callable and Bolt's listener executor; they do not change what runs:

- ack: from the WSGI call to start_response (the ack is ready), per request;
- queue: how long a listener waited for a free thread in Bolt's listener executor;
- listener: how long a listener ran on Bolt's pool (its ack, and any work it did not defer);
- work_wait, work: how long deferred work (bot/work.py) waited for a worker, and ran.
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
from bot.web import WsgiApp, build_wsgi_app, make_http_server, serve_in_thread
from bot.work import DEFAULT_THREADS, WorkQueue


class Timings:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pending = 0
        self._reset()

    def _reset(self) -> None:
        names = ("ack", "queue", "listener", "work_wait", "work")
        self.series: dict[str, list[float]] = {name: [] for name in names}
        self.cpu = os.times()
        self.peak_pending = self.pending

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.series[name].append(seconds)

    def queued(self, delta: int) -> None:
        with self._lock:
            self.pending += delta
            self.peak_pending = max(self.peak_pending, self.pending)

    def snapshot(self, *, drain_timeout: float = 60) -> dict[str, Any]:
        """Figures since the last snapshot, once the listeners still running have finished."""
        asked = time.perf_counter()
        while self.pending and time.perf_counter() - asked < drain_timeout:
            time.sleep(0.01)
        with self._lock:
            now = os.times()
            report: dict[str, Any] = {
                "cpu_seconds": (now.user - self.cpu.user) + (now.system - self.cpu.system),
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
            return report


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

    def dump_profile(self, path: str, *, also: TimedExecutor | None = None) -> None:
        profiles = [*(self.profiles or []), *((also.profiles or []) if also else [])]
        if not profiles:
            return
        stats = pstats.Stats(profiles[0])
        for profiler in profiles[1:]:
            stats.add(profiler)
        stats.dump_stats(path)
        for executor in (self, also):
            if executor is not None and executor.profiles is not None:
                executor.profiles.clear()

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
    parser.add_argument("--profile", help="write a cProfile of the listeners' runs here at each 'stats'")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if args.app == "flipside":
        settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=args.secret,
            slack_api_url=args.slack_url,
            database_url=args.database,
        )
        database = Database(settings.database_url)
    timings = Timings()
    work_executor = TimedExecutor(
        ThreadPoolExecutor(DEFAULT_THREADS),
        timings,
        waited="work_wait",
        ran="work",
        profile=bool(args.profile),
    )
    if args.app == "flipside":
        app = create_app(settings, database=database, work_queue=WorkQueue(executor=work_executor))
    else:
        app = build_bare_app(signing_secret=args.secret, api_url=args.slack_url)
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
            report = timings.snapshot()
            if args.profile:
                executor.dump_profile(args.profile, also=work_executor)
            print(json.dumps(report), flush=True)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
