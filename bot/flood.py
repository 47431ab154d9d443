"""Acks first: while a flood of tasks comes down the pipe, `python app.py`'s worker child waits.

Slack shows the person an error when an ack takes over 3 seconds, while the reply to a slash
command may come up to 30 minutes later. On one machine the worker child's CPU is the acks' CPU:
measured flat out on 2 cores (benchmarks/ack_latency.py), the worker recording 300 commands a
second slowed the web process's acks to 1.38-1.43x a bare Bolt app's p99, whatever its niceness or
scheduling class (it ran on otherwise idle CPU, and still slowed the acks beside it). Holding off
while tasks come in faster than it can do them anyway costs the replies little: they queue either
way, and the worker does them once the flood is over (measured: the last of 10,400 replies 38-39 s
after the last ack, against 29-30 s without the hold).

The hold is bounded: at most MAX_HOLD seconds, and after a hold none may begin for as long as it
lasted, so however a flood comes and goes the worker works at least half the time and the replies
keep coming (and a short burst, a warm-up say, costs only a short pause).
Only the child of `python app.py` holds (it sees the pipe); a worker on a machine of its own (the
Procfile's `worker:`) never does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

FLOOD_RATE = 300.0  # tasks a second: about what one worker does (/teachme, 2 cores), so they queue anyway
WINDOW = 0.1  # seconds of arrivals the rate is taken over
MAX_HOLD = 10.0  # seconds in a row at most


class FloodWatch:
    """Counts the tasks arriving and says when the worker should hold off claiming more.
    `saw` is called by the pipe's reader thread, `holding` by the worker's claim loop."""

    def __init__(
        self,
        *,
        rate: float = FLOOD_RATE,
        window: float = WINDOW,
        max_hold: float = MAX_HOLD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._most_in_window = rate * window
        self._window = window
        self._max_hold = max_hold
        self._clock = clock
        self._lock = threading.Lock()
        self._arrivals: deque[tuple[float, int]] = deque()
        self._in_window = 0
        self._held_since: float | None = None
        self._no_hold_before = float("-inf")
        self.holds = 0  # holds begun so far

    def saw(self, count: int) -> None:
        if count <= 0:
            return
        with self._lock:
            now = self._clock()
            self._arrivals.append((now, count))
            self._in_window += count
            self._forget_before(now - self._window)

    def holding(self) -> bool:
        with self._lock:
            now = self._clock()
            self._forget_before(now - self._window)
            flooding = self._in_window > self._most_in_window
            if self._held_since is not None:
                if flooding and now - self._held_since < self._max_hold:
                    return True
                # The flood is over, or the hold has lasted long enough: the worker now works at
                # least as long as it was held before another hold may begin.
                self._no_hold_before = now + (now - self._held_since)
                self._held_since = None
                return False
            if flooding and now >= self._no_hold_before:
                self._held_since = now
                self.holds += 1
                return True
            return False

    def _forget_before(self, cutoff: float) -> None:
        while self._arrivals and self._arrivals[0][0] < cutoff:
            self._in_window -= self._arrivals.popleft()[1]
