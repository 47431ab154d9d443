"""Admin rights, asked of Slack: every admin action goes through AdminRights.check.

Slack's users.info says whether someone is a workspace admin or owner, deactivated, and which
workspace they belong to. The answer is kept briefly (ADMIN_CHECK_SECONDS, per workspace and user),
so a burst of admin clicks costs one call, and a demoted or deactivated admin loses rights within
that time. The decision itself is bot.services.admin.is_admin.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.db import Database
from bot.services import admin, profiles

logger = logging.getLogger(__name__)

# Answers that will not change by asking again: the user is simply not someone we may trust.
_NOT_A_USER = frozenset({"user_not_found", "user_not_visible", "users_not_found"})
MAX_ENTRIES = 10_000


class Verdict(enum.Enum):
    ADMIN = "admin"
    NOT_ADMIN = "not_admin"
    UNKNOWN = "unknown"  # Slack could not answer: refused, and the person is told to try again


class SlackUserCache:
    """users.info answers by (team, user) for `ttl` seconds; thread-safe. `{}`: Slack knows no such
    user (cached too). None from `get`: Slack could not answer (not cached)."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[float, Mapping[str, Any]]] = OrderedDict()
        self._fetching: dict[tuple[str, str], threading.Lock] = {}

    def get(self, client: WebClient, *, team_id: str, user_id: str) -> Mapping[str, Any] | None:
        key = (team_id, user_id)
        with self._lock:
            fetching = self._fetching.setdefault(key, threading.Lock())
        # One users.info per person at a time: clicks arriving together wait for its answer.
        with fetching:
            try:
                return self._get(client, key)
            finally:
                with self._lock:
                    self._fetching.pop(key, None)

    def _get(self, client: WebClient, key: tuple[str, str]) -> Mapping[str, Any] | None:
        user_id = key[1]
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry[0] < self.ttl:
                return entry[1]
        try:
            user: Mapping[str, Any] = client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            code = error.response.get("error")
            if code not in _NOT_A_USER:
                logger.warning("users.info failed during an admin check: %s", code)
                return None
            user = {}
        except Exception:  # connection errors after slack_sdk's retries
            logger.warning("users.info failed during an admin check", exc_info=True)
            return None
        if self.ttl > 0:
            with self._lock:
                self._entries[key] = (self._clock(), user)
                self._entries.move_to_end(key)
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
        return user


class AdminRights:
    """The one admin check for the web side and the worker (each holds one, with its cache)."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.users = SlackUserCache(settings.admin_check_seconds, clock=clock)

    def check(self, client: WebClient, db: Database, *, team_id: str, user_id: str) -> Verdict:
        slack_user = self.users.get(client, team_id=team_id, user_id=user_id)
        if slack_user is None:
            return Verdict.UNKNOWN
        with db.transaction() as session:
            person = profiles.get_person(session, team_id=team_id, slack_user_id=user_id)
            allowed = admin.is_admin(
                slack_user,
                team_id=team_id,
                slack_user_id=user_id,
                person=person,
                admin_user_ids=self.settings.admin_user_ids,
                single_workspace=not self.settings.oauth_enabled,
            )
        return Verdict.ADMIN if allowed else Verdict.NOT_ADMIN

    def is_admin(self, client: WebClient, db: Database, *, team_id: str, user_id: str) -> bool:
        return self.check(client, db, team_id=team_id, user_id=user_id) is Verdict.ADMIN
