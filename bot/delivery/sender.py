"""The one place that sends scheduled messages: drains the outbox exactly once per message.

Exactly once, even across crashes: a row is claimed (committed) before it is sent and marked sent
after Slack accepts it. Each message carries its outbox id in Slack message metadata, so when a
sender died between Slack's "ok" and our commit, the next sender finds the message in the
channel's history and marks it sent instead of posting it again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db import Database
from bot.services import outbox
from models import OutboxMessage, utcnow

logger = logging.getLogger(__name__)

METADATA_EVENT = "flipside_outbox"
STALE_CLAIM = timedelta(minutes=2)
RETRY_DELAY = timedelta(minutes=1)
MAX_ATTEMPTS = 6
# Errors that will not go away by trying again: the row is marked failed and never retried.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "is_archived",
        "cannot_dm_bot",
        "user_disabled",
        "not_in_channel",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "account_inactive",
        "restricted_action",
        "messages_tab_disabled",
    }
)


# Answers to conversations.join that will not change by trying again.
JOIN_REFUSALS = frozenset(
    {
        "method_not_supported_for_channel_type",
        "channel_not_found",
        "is_archived",
        "missing_scope",
        "not_allowed_token_type",
        "restricted_action",
    }
)


def process_owner(pid: int | None = None) -> str:
    """How claims name their process (this one, or a child by pid): host and pid."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"


class Pacer:
    """A token bucket that keeps a fan-out at or under Slack's rate for a method."""

    def __init__(self, per_minute: float, *, burst: int = 1, clock=time.monotonic, sleep=time.sleep) -> None:
        self.interval = 60.0 / per_minute
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.clock, self.sleep = clock, sleep
        self.updated = clock()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) / self.interval)
            self.updated = now
            if self.tokens < 1:
                delay = (1 - self.tokens) * self.interval
                self.sleep(delay)
                self.updated = self.clock()
                self.tokens = 0.0
            else:
                self.tokens -= 1


@dataclass
class DeliveryReport:
    sent: int = 0
    recovered: int = 0  # found already in Slack after a crash: not sent again
    skipped: int = 0  # another sender had taken the row over
    failed: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Deliverer:
    database: Database
    client: WebClient
    owner: str = field(default_factory=process_owner)
    pacer: Pacer | None = None
    batch_size: int = 50
    stale_after: timedelta = STALE_CLAIM
    # Multi-workspace installs have one bot token per workspace (bot.slack.oauth.token_resolver).
    token_for: Callable[[str], str | None] | None = None

    def _token(self, row: OutboxMessage) -> dict[str, str]:
        token = self.token_for(row.team_id) if self.token_for else None
        return {"token": token} if token else {}

    def deliver_due(
        self,
        *,
        now: datetime | None = None,
        team_id: str | None = None,
        key_prefix: str | None = None,
        max_batches: int = 10_000,
    ) -> DeliveryReport:
        """Send everything due now, batch by batch, until nothing is left."""
        report = DeliveryReport()
        for _ in range(max_batches):
            claim_time = now or utcnow()
            with self.database.transaction() as session:
                rows = outbox.claim(
                    session,
                    now=claim_time,
                    owner=self.owner,
                    limit=self.batch_size,
                    stale_after=self.stale_after,
                    team_id=team_id,
                    key_prefix=key_prefix,
                )
                session.expunge_all()
            if not rows:
                break
            for row in rows:
                self._deliver_one(row, report)
        return report

    def _deliver_one(self, row: OutboxMessage, report: DeliveryReport) -> None:
        try:
            if self.pacer:
                self.pacer.wait()
            with self.database.transaction() as session:
                if not outbox.renew_claim(session, message_id=row.id, owner=self.owner, now=utcnow()):
                    report.skipped += 1  # taken over by another sender while we waited our turn
                    return
            if row.attempts > 1 and self._already_in_slack(row):
                report.recovered += 1
                return
            response = self._post(row, row.channel_id or self._channel_for(row))
            with self.database.transaction() as session:
                outbox.mark_sent(
                    session,
                    message_id=row.id,
                    channel_id=response["channel"],
                    ts=response["ts"],
                    now=utcnow(),
                )
            report.sent += 1
        except SlackApiError as error:
            self._handle_error(row, str(error.response.get("error") or error.response.status_code), report)
        except Exception as error:  # connection lost after slack_sdk's retries, and the like
            logger.exception("outbox message %s not delivered", row.id)
            self._handle_error(row, type(error).__name__, report)

    def _post(self, row: OutboxMessage, channel: str) -> Any:
        def post() -> Any:
            return self.client.chat_postMessage(
                **self._token(row),
                channel=channel,
                text=row.text,
                blocks=row.blocks,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.id}},
                unfurl_links=False,
            )

        try:
            return post()
        except SlackApiError as error:
            # The bot is not in the channel (not yet joined, or removed since): a public channel
            # takes it without an /invite. Joining once and posting again; a private channel
            # refuses the join, and the first error stands.
            if error.response.get("error") != "not_in_channel" or not self._join(row, channel):
                raise
        return post()

    def _join(self, row: OutboxMessage, channel: str) -> bool:
        """True once joined; False where joining cannot work (a private channel, say), so the
        post's not_in_channel stands; Slack's passing errors are raised, to be retried later."""
        try:
            self.client.conversations_join(channel=channel, **self._token(row))
        except SlackApiError as error:
            if error.response.get("error") not in JOIN_REFUSALS:
                raise
            logger.info(
                "could not join %s to post outbox message %s: %s",
                channel,
                row.id,
                error.response.get("error"),
            )
            return False
        return True

    def _handle_error(self, row: OutboxMessage, error: str, report: DeliveryReport) -> None:
        report.errors.append(error)
        with self.database.transaction() as session:
            if error in PERMANENT_ERRORS or row.attempts >= MAX_ATTEMPTS:
                logger.warning("outbox message %s (%s) failed for good: %s", row.id, row.kind, error)
                outbox.mark_failed(session, message_id=row.id, error=error)
                report.failed += 1
            else:
                outbox.release(session, message_id=row.id, retry_at=utcnow() + RETRY_DELAY, error=error)
                report.retried += 1

    def _channel_for(self, row: OutboxMessage) -> str:
        recipients = row.recipient.split(",")
        if len(recipients) == 1:
            return recipients[0]  # a user id posts into the app's DM; a channel id into the channel
        # A group DM has to be opened; remember its id so a recovery can read its history.
        channel = self.client.conversations_open(users=row.recipient, **self._token(row))["channel"]["id"]
        with self.database.transaction() as session:
            outbox.mark_channel(session, message_id=row.id, channel_id=channel)
        return channel

    def _already_in_slack(self, row: OutboxMessage) -> bool:
        """After a crash: did an earlier attempt reach Slack? Look for our metadata in history."""
        channel = row.channel_id
        if channel is None:
            if "," in row.recipient:
                return False  # its group DM id is stored before posting: it was never posted
            if row.recipient.startswith(("U", "W")):
                channel = self.client.conversations_open(users=row.recipient, **self._token(row))["channel"][
                    "id"
                ]
            else:
                channel = row.recipient
        return self._history_has(channel, row)

    def _history_has(self, channel: str, row: OutboxMessage) -> bool:
        oldest = (row.created_at - timedelta(minutes=1)).timestamp()
        try:
            history = self.client.conversations_history(
                channel=channel,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=200,
                **self._token(row),
            )
        except SlackApiError as error:
            if error.response.get("error") == "not_in_channel":
                return False  # the bot cannot have posted there: posting joins it first (_post)
            raise
        for message in history.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if (message.get("metadata") or {}).get("event_type") == METADATA_EVENT and payload.get(
                "outbox_id"
            ) == row.id:
                with self.database.transaction() as session:
                    outbox.mark_sent(
                        session, message_id=row.id, channel_id=channel, ts=message["ts"], now=utcnow()
                    )
                return True
        return False


def flush_outbox(db: Database, client: WebClient, *, team_id: str, key_prefix: str) -> None:
    """Send what one click queued (an intro, notices) now rather than at the next job tick.

    Only keys under `key_prefix`: a click must never turn into someone else's fan-out."""
    Deliverer(db, client).deliver_due(team_id=team_id, key_prefix=key_prefix, max_batches=1)
