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
spool had. Lines are written whole or not at all (at most PIPE_BUF bytes, on a non-blocking write
end): when the pipe is full (a worker down or far behind), closed, or the task longer than that (a
big modal's submission), send() says so at once and the WorkQueue's spool stores the task itself.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import select
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.work import WorkQueue

logger = logging.getLogger(__name__)

PIPE_BYTES = 1 << 20  # asked of the kernel: Linux's limit for an unprivileged process by default
# POSIX: a write of at most this many bytes to a pipe is atomic, so on a non-blocking write end it
# either goes in whole or fails with EAGAIN; a longer one could be half written into a full pipe.
ATOMIC_BYTES = select.PIPE_BUF
READ_BYTES = 1 << 16
POLL_SECONDS = 0.2  # how often a reader waiting for lines looks whether it should stop


def encode(values: dict[str, Any]) -> bytes:
    """One task as one line: json.dumps escapes newlines, and with ASCII escapes a lone surrogate
    (which Slack's JSON can carry) encodes as well as any other text."""
    record = {**values, "now": values["now"].isoformat()}
    return json.dumps(record, separators=(",", ":")).encode("ascii") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    record = json.loads(line)
    if not isinstance(record, dict) or not {"team_id", "kind", "body", "now"} <= record.keys():
        raise ValueError("not a task record")
    if not isinstance(record["body"], dict):
        raise ValueError("not a task record")
    record["now"] = datetime.fromisoformat(record["now"])
    record.setdefault("extras", {})
    return record


def read_ready(fd: int) -> tuple[bytes, bool]:
    """What a non-blocking pipe holds now, and whether its write end is closed (all was read)."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, READ_BYTES)
        except BlockingIOError:
            return b"".join(chunks), False
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


class LineSplitter:
    """Bytes read from the pipe in, whole task records out; a damaged line is logged and skipped
    (only a line cut by a child killed mid-read can look like that)."""

    def __init__(self) -> None:
        self.pending = b""  # the start of a line whose end has not been read yet

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        records = []
        for line in lines:
            try:
                records.append(decode(line))
            except (ValueError, TypeError):  # json's errors are ValueErrors too
                logger.error("skipping a damaged task record from the web process (%d bytes)", len(line))
        return records


class PipeRelay:
    """The web side: write each task as one line into a pipe the worker child reads."""

    def __init__(self) -> None:
        # Both ends are non-inheritable; WorkerChild passes the read end to each child it starts.
        self.read_fd, self._write_fd = os.pipe()
        try:
            fcntl.fcntl(self._write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # a lower system limit: the default 64 KiB still holds dozens of tasks
            logger.info("could not enlarge the worker pipe; using the system's default size")
        os.set_blocking(self._write_fd, False)  # a full pipe answers EAGAIN: a listener never waits
        self._lock = threading.Lock()
        self._closed = False
        self._read_closed = False
        self.overflows = 0  # tasks the pipe had no room for (stored by the spool instead)

    def send(self, values: dict[str, Any]) -> bool:
        """Hand one task to the worker child; False at once if the pipe cannot take it (full: the
        worker is down or far behind; closed; or a line too long to write atomically), and then
        the caller stores it."""
        try:
            line = encode(values)
        except (TypeError, ValueError):  # not JSON: let the spool's own storing report it
            return False
        if len(line) > ATOMIC_BYTES:
            return False
        with self._lock:  # close() must not close the descriptor under a write
            if self._closed:
                return False
            try:
                os.write(self._write_fd, line)  # whole, or nothing and EAGAIN (POSIX, <= PIPE_BUF)
            except BlockingIOError:
                self.overflows += 1
                if self.overflows == 1 or self.overflows % 1000 == 0:
                    logger.warning("the worker pipe is full (%d times so far): storing here", self.overflows)
                return False
        return True

    def close(self) -> None:
        """No more lines: the child reads what is left, then sees the end."""
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._write_fd)

    def take_unread(self) -> list[dict[str, Any]]:
        """After the last child has exited (the app is stopping): the whole lines it left unread,
        for the caller to store. Call close() first, so the read ends."""
        splitter = LineSplitter()
        os.set_blocking(self.read_fd, False)
        records = splitter.feed(read_ready(self.read_fd)[0])
        if splitter.pending:
            logger.error(
                "a task half read by the worker was left in its pipe (%d bytes); it is lost",
                len(splitter.pending),
            )
        return records

    def close_read_end(self) -> None:
        """Once no child will be started again (the app is stopping)."""
        with self._lock:
            if not self._read_closed:
                self._read_closed = True
                os.close(self.read_fd)


class RelayReader:
    """The worker child's side: reads the pipe's lines into a WorkQueue, which stores them in
    batches (and tells the person, through `on_lost`, if the database stays away). If reading
    itself fails, `on_broken` is called (the child then exits and is started afresh): a pipe
    nobody reads would fill, and the tasks would wait in the web side's spool."""

    def __init__(
        self,
        read_fd: int,
        queue: WorkQueue,
        *,
        on_lost: Callable[[dict[str, Any], Exception], None],
        on_broken: Callable[[], None] = lambda: None,
        on_arrival: Callable[[int], None] = lambda count: None,
    ) -> None:
        self._fd = read_fd
        self._queue = queue
        self._on_lost = on_lost
        self._on_broken = on_broken
        self._on_arrival = on_arrival  # how many tasks each read brought (bot.flood)
        self._lines = LineSplitter()
        self._stopping = threading.Event()
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flipside-relay", daemon=True)
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

    def _run(self) -> None:
        try:
            self._read_loop()
        except Exception:
            logger.exception("reading the web process's tasks failed; this worker stops")
            self._on_broken()

    def _read_loop(self) -> None:
        while not self._ended.is_set():
            if self._stopping.is_set():
                self._drain()
                return
            ready, _, _ = select.select([self._fd], [], [], POLL_SECONDS)
            if ready:
                self._read_available()

    def _drain(self) -> None:
        # Lines go in whole, so the rest of a line a 64 KiB read cut is in the pipe already.
        self._read_available()
        if self._lines.pending and not self._ended.is_set():
            logger.error(
                "stopping with a task half read from the web process (%d bytes); it is lost",
                len(self._lines.pending),
            )

    def _read_available(self) -> None:
        data, ended = read_ready(self._fd)
        records = self._lines.feed(data)
        self._on_arrival(len(records))
        for values in records:
            self._hand_on(values)
        if ended:
            if self._lines.pending:
                logger.error(
                    "the web process's last task was cut short (%d bytes); it is lost",
                    len(self._lines.pending),
                )
            self._ended.set()

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
