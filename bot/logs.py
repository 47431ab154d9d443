"""Logging, set up in one place from Settings, and text from outside made safe for a log line."""

from __future__ import annotations

import logging
import re
import traceback

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# LOG_LEVEL=DEBUG is for Flipside's own code: Bolt and slack_sdk log whole request and message
# bodies (people's typed text) at DEBUG, so they stay at INFO or above whatever LOG_LEVEL says.
OWN_LOGGERS = ("bot",)
LIBRARY_FLOOR = logging.INFO
UNTRUSTED_MAX = 200
_ERROR_CODE = re.compile(r"[a-z0-9_.]{1,64}")


def configure_logging(level: str) -> None:
    """One log line per record on stderr at `level` (Settings.log_level); called by each entry point."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(FORMAT))
    logging.basicConfig(handlers=[handler], force=True)
    apply_levels(level)


def apply_levels(level: str) -> None:
    number = logging.getLevelName(level.upper())
    logging.getLogger().setLevel(max(number, LIBRARY_FLOOR))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(number)


def escape_controls(text: str) -> str:
    """Newlines, escapes and other unprintable characters as their backslash escapes."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def untrusted(value: object) -> str:
    """A value that came from outside (a request, Slack's answer) quoted, escaped and capped, so
    it can neither forge a log line nor flood one."""
    text = str(value)
    if len(text) > UNTRUSTED_MAX:
        text = text[:UNTRUSTED_MAX] + "…"
    return repr(text)


def error_code(value: object) -> str:
    """Slack's error code ("not_in_channel") as it is; anything else that came back in its place
    (a proxy's page, a message) is not echoed."""
    text = str(value)
    return text if _ERROR_CODE.fullmatch(text) else f"(an unrecognised error, {len(text)} characters)"


class OneLineFormatter(logging.Formatter):
    """The message of every record (whoever logged it) on one line; tracebacks follow as usual."""

    def format(self, record: logging.LogRecord) -> str:
        cached = record.exc_text  # another handler's traceback text, message included: not ours
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        """The frames and the exception's type, not its message: messages quote values ("invalid
        literal for int(): '<what someone typed>'"), and people's text stays out of the logs."""
        chain, error, seen = [], ei[1], set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        lines = []
        for error in reversed(chain):
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(error.__traceback__))
            name = f"{type(error).__module__}.{type(error).__qualname__}"
            lines.append(f"{name} (its message is not logged: it may quote people's text)\n")
        return "".join(lines).rstrip("\n")
