"""The post-ack work queue: work runs off the caller's thread, failures are reported, and a full
backlog makes the caller do the work itself instead of queueing without end."""

from __future__ import annotations

import threading

from bot.work import WorkQueue


def test_work_runs_on_a_worker_thread_and_its_result_comes_back():
    queue = WorkQueue(threads=1)
    try:
        future = queue.submit(lambda a, b=0: (threading.current_thread().name, a + b), 2, b=3)
        name, total = future.result(timeout=5)
    finally:
        queue.shutdown()
    assert name.startswith("flipside-work") and total == 5


def test_a_failure_goes_to_on_error_and_the_worker_goes_on():
    errors: list[Exception] = []
    queue = WorkQueue(threads=1)
    try:
        queue.submit(lambda: 1 / 0, on_error=errors.append).result(timeout=5)
        queue.submit(lambda: 1 / 0).result(timeout=5)  # no handler: logged only
        assert queue.submit(lambda: "still working").result(timeout=5) == "still working"
    finally:
        queue.shutdown()
    assert [type(error) for error in errors] == [ZeroDivisionError]


def test_a_full_backlog_runs_the_work_on_the_callers_thread():
    release = threading.Event()
    queue = WorkQueue(threads=1, max_backlog=1)
    try:
        blocked = queue.submit(release.wait, 5)
        inline = queue.submit(lambda: threading.current_thread() is threading.main_thread())
        assert inline.done() and inline.result() is True  # done before submit() returned
        release.set()
        blocked.result(timeout=5)
        # The backlog emptied: the next one is queued again.
        assert queue.submit(lambda: threading.current_thread().name).result(timeout=5) != "MainThread"
    finally:
        release.set()
        queue.shutdown()


def test_work_submitted_while_stopping_is_done_on_the_spot():
    queue = WorkQueue(threads=1)
    queue.shutdown()
    late = queue.submit(lambda: threading.current_thread() is threading.main_thread())
    assert late.done() and late.result() is True
    assert queue.submit(lambda: "and the next one").result() == "and the next one"
