"""Settings read once from the environment; a bad value stops start-up with one clear line."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DATABASE_URL = "sqlite:///flipside.db"
GENERATE_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class ProgrammeDefaults:
    """Programme settings a new workspace starts with; admins change them per workspace later."""

    channel_id: str | None = None
    matching_weekday: int = 0  # Monday
    matching_time: time = time(9, 0)
    matching_timezone: str = "UTC"
    strict_reverse: bool = False
    proposal_expiry_days: int = 5
    checkin_after_days: int = 7
    pairing_max_sessions: int = 6
    pairing_max_days: int = 90
    lnl_reminder_minutes: tuple[int, ...] = (1440, 15)
    lnl_demand_threshold: int = 3


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    admin_user_ids: frozenset[str] = frozenset()
    port: int = 3000
    log_level: str = "INFO"
    post_rate_per_minute: int = 60
    programme: ProgrammeDefaults = field(default_factory=ProgrammeDefaults)
    # Sent (or failed, cancelled) outbox rows and Slack event ids are deleted after this many days.
    retention_days: int = 30
    # An uninstalled workspace's data is deleted this many days after the uninstall.
    purge_uninstalled_after_days: int = 30
    lunch_proposals_per_day: int = 3  # per person, over the last 24 hours; 0: no limit
    # How long one users.info answer settles admin rights (per workspace and user); 0 asks every time.
    admin_check_seconds: int = 60
    # Fernet keys for Slack tokens at rest (OAuth mode): the first encrypts, every one decrypts.
    token_encryption_keys: tuple[str, ...] = ()

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, require_slack: bool = False) -> Settings:
        """Build settings from `env` (default os.environ).

        `require_slack` is for processes that talk to Slack; the offline demo and the CLI do not.
        """
        env = os.environ if env is None else env
        reader = _EnvReader(env)
        settings = cls(
            slack_bot_token=reader.optional("SLACK_BOT_TOKEN", prefix="xoxb-"),
            slack_signing_secret=reader.optional("SLACK_SIGNING_SECRET"),
            slack_app_token=reader.optional("SLACK_APP_TOKEN", prefix="xapp-"),
            slack_client_id=reader.optional("SLACK_CLIENT_ID"),
            slack_client_secret=reader.optional("SLACK_CLIENT_SECRET"),
            slack_api_url=reader.url("SLACK_API_URL"),
            database_url=reader.optional("DATABASE_URL") or DEFAULT_DATABASE_URL,
            admin_user_ids=frozenset(reader.admin_ids("ADMIN_USER_IDS")),
            port=reader.integer("PORT", 3000, minimum=1, maximum=65535),
            log_level=reader.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
            post_rate_per_minute=reader.integer("SLACK_POST_RATE_PER_MINUTE", 60, minimum=1, maximum=6000),
            programme=ProgrammeDefaults(
                channel_id=reader.optional("PROGRAMME_CHANNEL_ID"),
                matching_weekday=WEEKDAYS.index(reader.choice("MATCHING_DAY", "mon", WEEKDAYS, lower=True)),
                matching_time=reader.clock("MATCHING_TIME", time(9, 0)),
                matching_timezone=reader.timezone("MATCHING_TIMEZONE", "UTC"),
                strict_reverse=reader.boolean("STRICT_REVERSE", False),
                proposal_expiry_days=reader.integer("PROPOSAL_EXPIRY_DAYS", 5, minimum=1, maximum=60),
                checkin_after_days=reader.integer("CHECKIN_AFTER_DAYS", 7, minimum=1, maximum=60),
                pairing_max_sessions=reader.integer("PAIRING_MAX_SESSIONS", 6, minimum=1, maximum=100),
                pairing_max_days=reader.integer("PAIRING_MAX_DAYS", 90, minimum=7, maximum=730),
                lnl_reminder_minutes=tuple(
                    reader.int_list("LNL_REMINDER_MINUTES", (1440, 15), minimum=1, maximum=20160)
                ),
                lnl_demand_threshold=reader.integer("LNL_DEMAND_THRESHOLD", 3, minimum=1, maximum=1000),
            ),
            # At least 8: a weekly message's dedupe key must outlive its week (see docs/decisions.md).
            retention_days=reader.integer("RETENTION_DAYS", 30, minimum=8, maximum=3650),
            purge_uninstalled_after_days=reader.integer(
                "PURGE_UNINSTALLED_AFTER_DAYS", 30, minimum=1, maximum=3650
            ),
            lunch_proposals_per_day=reader.integer("LUNCH_PROPOSALS_PER_DAY", 3, minimum=0, maximum=1000),
            admin_check_seconds=reader.integer("ADMIN_CHECK_SECONDS", 60, minimum=0, maximum=3600),
            token_encryption_keys=reader.fernet_keys("TOKEN_ENCRYPTION_KEYS"),
        )
        bare = sorted(entry for entry in settings.admin_user_ids if ":" not in entry)
        if settings.oauth_enabled and bare:
            # With OAuth, several workspaces share the app: a bare id would say nothing of which.
            raise ConfigError(
                f"ADMIN_USER_IDS: with OAuth installs give each admin as TEAM:USER (e.g. T0123:{bare[0]}), "
                f"got {bare[0]!r}"
            )
        if require_slack:
            settings.check_slack_credentials()
        return settings

    def check_slack_credentials(self) -> None:
        if not self.slack_signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is missing: copy it from your Slack app's Basic Information"
            )
        if not self.slack_bot_token and not self.oauth_enabled:
            raise ConfigError(
                "SLACK_BOT_TOKEN is missing: set it (one workspace) or SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET (install through OAuth)"
            )
        if self.oauth_enabled and not self.token_encryption_keys:
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEYS is missing: OAuth mode stores Slack tokens encrypted with it; "
                f"generate a key with {GENERATE_KEY}"
            )


class _EnvReader:
    """Parses one variable at a time so every error names the variable at fault."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def _raw(self, name: str) -> str | None:
        value = self._env.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def optional(self, name: str, *, prefix: str | None = None) -> str | None:
        value = self._raw(name)
        if value is not None and prefix and not value.startswith(prefix):
            raise ConfigError(f"{name} must start with {prefix!r}")
        return value

    def url(self, name: str) -> str | None:
        value = self._raw(name)
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
        return value if value.endswith("/") else value + "/"

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {number}")
        return number

    def int_list(self, name: str, default: tuple[int, ...], *, minimum: int, maximum: int) -> list[int]:
        value = self._raw(name)
        if value is None:
            return list(default)
        numbers = []
        for part in value.split(","):
            try:
                number = int(part.strip())
            except ValueError:
                raise ConfigError(f"{name} must be comma-separated whole numbers, got {value!r}") from None
            if not minimum <= number <= maximum:
                raise ConfigError(f"{name} values must be between {minimum} and {maximum}")
            numbers.append(number)
        return sorted(set(numbers), reverse=True)

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {value!r}")

    def choice(self, name: str, default: str, options: tuple[str, ...], *, lower: bool = False) -> str:
        value = self._raw(name)
        if value is None:
            return default
        value = value.lower() if lower else value.upper()
        if value not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)}, got {value!r}")
        return value

    def clock(self, name: str, default: time) -> time:
        value = self._raw(name)
        if value is None:
            return default
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
        if not match:
            raise ConfigError(f"{name} must be a 24-hour time like 09:00, got {value!r}")
        return time(int(match.group(1)), int(match.group(2)))

    def timezone(self, name: str, default: str) -> str:
        value = self._raw(name) or default
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{name} must be an IANA timezone like Europe/London, got {value!r}") from None
        return value

    def admin_ids(self, name: str) -> list[str]:
        """`T0123:U0456` (that user, in that workspace) or a bare `U0456` (the single-workspace install)."""
        value = self._raw(name)
        if value is None:
            return []
        ids = [part.strip() for part in value.split(",") if part.strip()]
        for entry in ids:
            if not re.fullmatch(r"(T[A-Z0-9]{2,}:)?[UW][A-Z0-9]{2,}", entry):
                raise ConfigError(
                    f"{name} must list Slack user ids like U0123ABCD, or T0123ABCD:U0123ABCD for one "
                    f"workspace, got {entry!r}"
                )
        return ids

    def fernet_keys(self, name: str) -> tuple[str, ...]:
        value = self._raw(name)
        if value is None:
            return ()
        from cryptography.fernet import Fernet

        keys = tuple(part.strip() for part in value.split(",") if part.strip())
        for position, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except ValueError:  # the message never repeats the key: it is a secret
                raise ConfigError(
                    f"{name} key {position} is not a Fernet key (44 characters of url-safe base64); "
                    f"generate one with {GENERATE_KEY}"
                ) from None
        return keys
