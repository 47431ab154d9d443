"""Concurrent clients that send signed Slack requests and time each ack.

The clients live in their own processes (a few threads each), so that timing them does not share a
GIL with the server under test or with the fake Web API. Each client sends with
tests.payloads.SignedClient, the same signed-request client the tests use.
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# One request: (kind, content type, body, key). Bodies are signed when sent, so they never go stale;
# the key names the reply the request should bring (see _setups.reply_key).
Request = tuple[str, str, str, str]
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Sample:
    kind: str
    latency: float  # seconds from (intended) send to the whole answer read
    status: int  # HTTP status, 0 when the connection failed
    error: str | None
    at: float  # time.monotonic() when sent (or due): the same clock as tests.fakeslack.Call.at
    key: str = ""


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    @property
    def seconds(self) -> float:
        return max(self.ended - self.started, 1e-9)

    @property
    def errors(self) -> list[Sample]:
        return [sample for sample in self.samples if sample.error]

    def kinds(self) -> list[str]:
        return sorted({sample.kind for sample in self.samples})

    def latencies(self, kind: str | None = None) -> list[float]:
        return sorted(s.latency for s in self.samples if not s.error and (kind is None or s.kind == kind))


def run_clients(
    url: str,
    secret: str,
    plans: list[list[Request]],
    *,
    processes: int = 4,
    count: int | None = None,
    seconds: float | None = None,
    rate_per_client: float | None = None,
    timeout: float = 30,
) -> Results:
    """One client per plan, all starting together; each sends its plan in a loop.

    Stops after `count` requests per client or after `seconds`. Without `rate_per_client` a client
    sends its next request as soon as the last is answered (closed loop); with it, requests are
    due at fixed intervals and latency counts from when a request was due, not when it went out.
    """
    if (count is None) == (seconds is None):
        raise ValueError("give count or seconds")
    processes = max(1, min(processes, len(plans)))
    groups = [plans[index::processes] for index in range(processes)]
    start_at = time.time() + 1.0 + 0.4 * processes  # spawned interpreters need a moment to import
    interval = 1 / rate_per_client if rate_per_client else None
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        parts = pool.starmap(
            _process_main,
            [(url, secret, group, start_at, count, seconds, interval, timeout) for group in groups],
        )
    results = Results()
    for samples, started, ended in parts:
        results.samples.extend(samples)
        results.started = min(results.started or started, started)
        results.ended = max(results.ended, ended)
    return results


def _process_main(
    url: str,
    secret: str,
    plans: list[list[Request]],
    start_at: float,
    count: int | None,
    seconds: float | None,
    interval: float | None,
    timeout: float,
) -> tuple[list[Sample], float, float]:
    samples: list[Sample] = []
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_client,
            args=(url, secret, plan, start_at, count, seconds, interval, timeout, samples, lock),
        )
        for plan in plans
    ]
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, started, time.monotonic()


def _client(
    url: str,
    secret: str,
    plan: list[Request],
    start_at: float,
    count: int | None,
    seconds: float | None,
    interval: float | None,
    timeout: float,
    out: list[Sample],
    lock: threading.Lock,
) -> None:
    from tests.payloads import SignedClient

    client = SignedClient(url, secret)
    mine: list[Sample] = []
    begin = time.monotonic()
    due = begin + (random.random() * interval if interval else 0.0)
    sent = 0
    while (count is None or sent < count) and (seconds is None or time.monotonic() - begin < seconds):
        kind, content_type, body, key = plan[sent % len(plan)]
        sent += 1
        if interval:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            start, due = due, due + interval
        else:
            start = time.monotonic()
        status, error = 0, None
        try:
            reply = client.post(body, content_type=content_type, timeout=timeout)
            status = reply.status
            if status != 200:
                error = f"HTTP {status}"
        except Exception as exc:  # refused, reset, timed out: all count as errors
            error = type(exc).__name__
        mine.append(Sample(kind, time.monotonic() - start, status, error, start, key))
    with lock:
        out.extend(mine)
