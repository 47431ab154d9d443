"""The queue for work a listener does after its ack, kept off Bolt's listener pool.

Bolt (process_before_response=False) runs each listener on a small thread pool and answers Slack
when the listener calls ack(). If the listener then goes on to record, reply and redraw the App
Home on that same thread, the next requests' acks wait for a free thread: measured, that made
/teachme's ack 19x slower than a bare app's under load. Listeners whose work is heavier than the
ack hand it to this queue instead, so Bolt's pool only ever runs acks.

The queue lives in memory, like Bolt's own pool: a process that is killed loses the work it had
not started (the person got the ack but no reply, and can send the command again). A graceful
stop (SIGTERM under gunicorn, the end of `python app.py`) finishes it first.

It is bounded: past `max_backlog` waiting tasks the caller does the work itself, on Bolt's pool
as before the queue existed (and ahead of older queued work). Under a flood the acks then slow down
to what they were without the queue, instead of the replies falling minutes behind and the memory
growing without end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_THREADS = 4
DEFAULT_MAX_BACKLOG = 1000  # about 6 s of /teachme work on SQLite (benchmarks/ack_latency.py)


class WorkQueue:
    def __init__(
        self,
        threads: int = DEFAULT_THREADS,
        *,
        executor: Executor | None = None,
        max_backlog: int = DEFAULT_MAX_BACKLOG,
    ) -> None:
        # A few threads: enough to overlap Web API calls, few enough not to crowd out the acks
        # (they share the interpreter lock with the request threads).
        self._executor = executor or ThreadPoolExecutor(threads, thread_name_prefix="flipside-work")
        self._max_backlog = max_backlog
        self._backlog = 0  # submitted and not finished
        self._lock = threading.Condition()

    def submit(
        self,
        work: Callable[..., Any],
        /,
        *args: Any,
        on_error: Callable[[Exception], None] | None = None,
        **kwargs: Any,
    ) -> Future:
        """Run `work(*args, **kwargs)` soon; a failure is logged and handed to `on_error`.

        When the backlog is full it runs now, on the caller's thread (see the module's notes)."""
        with self._lock:
            queued = self._backlog < self._max_backlog
            if queued:
                self._backlog += 1

        def run() -> Any:
            try:
                return work(*args, **kwargs)
            except Exception as error:
                if on_error is None:
                    logger.exception("background work %s failed", getattr(work, "__name__", work))
                    return None
                try:
                    on_error(error)
                except Exception:  # the error path itself must never take the worker down
                    logger.exception("handling a background failure failed")
                return None
            finally:
                if queued:
                    with self._lock:
                        self._backlog -= 1
                        self._lock.notify_all()

        if queued:
            try:
                return self._executor.submit(run)
            except RuntimeError:  # shutting down (the process is stopping): do it now, not never
                with self._lock:
                    self._backlog -= 1
                queued = False
        done: Future = Future()
        done.set_result(run())
        return done

    def wait_idle(self, timeout: float = 5) -> bool:
        """Wait until nothing is queued or running (tests; a graceful stop uses shutdown)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._backlog == 0, timeout=timeout)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking work; with `wait`, finish what is queued (tests and graceful stops)."""
        self._executor.shutdown(wait=wait)
