"""`python app.py`'s hand-over to its worker child: one line into a pipe, stored by the child.

Storing the hand-over in the web process, even from a spool thread, cost the acks most of their
margin flat out (benchmarks/ack_latency.py: the p99 ratio to a bare Bolt app was 1.3-1.6, and
1.26 with a spool that stored nothing, against 0.76 with no hand-over at all): the spool's wake-ups,
SQLAlchemy's Python and the write lock all ran in the process that acks. A pipe write is one system
call on the listener's own thread; the worker child reads the lines and stores them through its
own WorkQueue, then runs them.

Nothing acked is lost to a dying process: the web process keeps the pipe's read end open, so
lines a dead child had not read wait in the kernel for the next child; a web process killed
outright closes the write end, and its child reads to the end, stores everything, then exits.
The window left is a child killed between reading a line and committing it (milliseconds), as the
spool had. When the pipe is full (a worker down or far behind) or closed, send() says so and the
WorkQueue stores the task itself.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import select
import struct
import termios
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.work import WorkQueue

logger = logging.getLogger(__name__)

PIPE_BYTES = 1 << 20  # asked of the kernel: Linux's limit for an unprivileged process by default
READ_BYTES = 1 << 16
POLL_SECONDS = 0.2  # how often a reader waiting for lines looks whether it should stop
TAIL_WAIT_SECONDS = 0.1  # a line half written when stopping: its rest is microseconds away


def encode(values: dict[str, Any]) -> bytes:
    """One task as one line (json.dumps escapes newlines inside strings)."""
    record = {**values, "now": values["now"].isoformat()}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    record = json.loads(line)
    if not isinstance(record, dict) or not {"team_id", "kind", "body", "now"} <= record.keys():
        raise ValueError("not a task record")
    record["now"] = datetime.fromisoformat(record["now"])
    record.setdefault("extras", {})
    return record


def _unread_bytes(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


class PipeRelay:
    """The web side: write each task as one line into a pipe the worker child reads."""

    def __init__(self) -> None:
        # Both ends are non-inheritable; WorkerChild passes the read end to each child it starts.
        self.read_fd, self._write_fd = os.pipe()
        try:
            fcntl.fcntl(self._write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # a lower system limit: the default 64 KiB still holds dozens of tasks
            logger.info("could not enlarge the worker pipe; using the system's default size")
        self.capacity = fcntl.fcntl(self._write_fd, fcntl.F_GETPIPE_SZ)
        self._lock = threading.Lock()
        self._closed = False
        self._read_closed = False
        self.overflows = 0  # tasks the pipe had no room for (stored by the spool instead)

    def send(self, values: dict[str, Any]) -> bool:
        """Hand one task to the worker child; False if the pipe cannot take it now (full: the
        worker is down or far behind; or closed), and then the caller stores it."""
        line = encode(values)
        with self._lock:  # one writer at a time: a line longer than 4 KiB is not written atomically
            if self._closed:
                return False
            if len(line) > self.capacity - _unread_bytes(self._write_fd):
                self.overflows += 1
                if self.overflows == 1 or self.overflows % 1000 == 0:
                    logger.warning("the worker pipe is full (%d times so far): storing here", self.overflows)
                return False
            # A blocking write, but the room was checked and only the reader changes it: it never waits.
            view = memoryview(line)
            while view:
                view = view[os.write(self._write_fd, view) :]
        return True

    def close(self) -> None:
        """No more lines: the child reads what is left, then sees the end."""
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._write_fd)

    def close_read_end(self) -> None:
        """Once no child will be started again (the app is stopping)."""
        with self._lock:
            if not self._read_closed:
                self._read_closed = True
                os.close(self.read_fd)


class RelayReader:
    """The worker child's side: reads the pipe's lines into a WorkQueue, which stores them in
    batches (and tells the person, through `on_lost`, if the database stays away)."""

    def __init__(
        self,
        read_fd: int,
        queue: WorkQueue,
        *,
        on_lost: Callable[[dict[str, Any], Exception], None],
    ) -> None:
        self._fd = read_fd
        self._queue = queue
        self._on_lost = on_lost
        self._pending = b""  # the start of a line whose end has not been read yet
        self._stopping = threading.Event()
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._read_loop, name="flipside-relay", daemon=True)
        os.set_blocking(self._fd, False)  # select() says when; a read never blocks a stop

    @property
    def ended(self) -> bool:
        """The web process closed its end (it stopped, or was killed) and every line was read."""
        return self._ended.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Read what is in the pipe now, store it, and stop."""
        self._stopping.set()
        self._thread.join(timeout)
        self._queue.close(timeout)

    def _read_loop(self) -> None:
        while not self._ended.is_set():
            if self._stopping.is_set():
                self._drain()
                return
            ready, _, _ = select.select([self._fd], [], [], POLL_SECONDS)
            if ready:
                self._read_available()

    def _drain(self) -> None:
        self._read_available()
        if self._pending and not self._ended.is_set():
            select.select([self._fd], [], [], TAIL_WAIT_SECONDS)
            self._read_available()
        if self._pending:
            logger.error(
                "stopping with a task half read from the web process (%d bytes); it is lost",
                len(self._pending),
            )

    def _read_available(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, READ_BYTES)
            except BlockingIOError:
                return
            if not chunk:
                self._ended.set()
                return
            self._take(chunk)

    def _take(self, chunk: bytes) -> None:
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        for line in lines:
            try:
                values = decode(line)
            except ValueError:  # json's errors are ValueErrors too
                # Only a line cut by a child killed mid-read can look like this: skip to the next.
                logger.error("skipping a damaged task record from the web process (%d bytes)", len(line))
                continue
            self._hand_on(values)

    def _hand_on(self, values: dict[str, Any]) -> None:
        try:
            self._queue.add(
                team_id=values["team_id"],
                kind=values["kind"],
                body=values["body"],
                extras=values["extras"],
                now=values["now"],
                on_lost=lambda error, values=values: self._on_lost(values, error),
            )
        except Exception as error:  # e.g. a task name this version does not know
            logger.exception("could not take a %s task from the web process", values.get("kind"))
            self._on_lost(values, error)
