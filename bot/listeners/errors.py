"""The last line of defence: log the traceback, tell the person kindly, never show a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

logger = logging.getLogger(__name__)

# Not "nothing was changed": the failure may come after the work was saved (a Slack call after it).
SORRY = ":hourglass: Sorry, something went wrong on my side. Please try again in a minute."


def handle_error(error: Exception, body: dict[str, Any], client: WebClient, response: BoltResponse | None):
    kind = "database unavailable" if isinstance(error, OperationalError) else "unexpected error"
    logger.error("listener failed (%s) for a %s request", kind, body.get("type") or "command", exc_info=error)
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    response_url = body.get("response_url") or next(
        (url.get("response_url") for url in body.get("response_urls") or []), None
    )
    try:
        if response_url:
            from slack_sdk.webhook import WebhookClient

            WebhookClient(response_url).send(text=SORRY, response_type="ephemeral", replace_original=False)
        elif user_id:
            client.chat_postMessage(channel=user_id, text=SORRY)
    except Exception:  # the error handler itself must never raise
        logger.exception("could not tell the person about the error")
    if response is not None and response.status >= 500 and body.get("type") == "view_submission":
        # A modal that already got no ack shows Slack's generic error; keep the status honest.
        return response
    return None


def register(app: App) -> None:
    app.error(handle_error)
