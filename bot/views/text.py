"""Safe text for Block Kit: escaping people's words, Slack date tokens, truncation."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    """Make text people typed inert in mrkdwn: no `<!channel>`, `<@U123>` or links survive.

    Slack only turns `<...>` sequences into mentions, so escaping `&`, `<`, `>` is enough; the
    zero-width joiner after a bare "@channel" also stops clients that link names on their own.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda match: "@\u2060" + match.group(1), escaped)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utc_text(moment: datetime, *, with_time: bool = True) -> str:
    """The moment as plain text in UTC, e.g. "Tue 08 Dec 2026 12:00 UTC": what every reader can
    convert, where Slack cannot render a date token (a fallback, a canvas, the terminal)."""
    at = moment.astimezone(UTC)
    return at.strftime("%a %d %b %Y %H:%M UTC" if with_time else "%a %d %b %Y")


def slack_date(moment: datetime, token_format: str = "{date_short_pretty} at {time}") -> str:
    """Slack renders this in each reader's own timezone; the fallback is UTC."""
    return f"<!date^{int(moment.timestamp())}^{token_format}|{utc_text(moment)}>"


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural_word or word + 's')}"


def human_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
