"""Settings: defaults, parsing, and one clear line naming a bad setting."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_need_nothing_for_the_offline_tools():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 3000
    assert settings.programme.matching_weekday == 0 and settings.programme.matching_time == time(9, 0)
    assert settings.programme.lnl_reminder_minutes == (1440, 15)
    assert settings.retention_days == settings.purge_uninstalled_after_days == 30


def test_values_are_parsed():
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "ADMIN_USER_IDS": "U01ABC, W02DEF",
            "MATCHING_DAY": "Wed",
            "MATCHING_TIME": "14:30",
            "MATCHING_TIMEZONE": "Europe/Berlin",
            "STRICT_REVERSE": "yes",
            "LNL_REMINDER_MINUTES": "15,60",
            "RETENTION_DAYS": "90",
            "PURGE_UNINSTALLED_AFTER_DAYS": "7",
        },
        require_slack=True,
    )
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.admin_user_ids == {"U01ABC", "W02DEF"}
    assert settings.programme.matching_weekday == 2 and settings.programme.matching_time == time(14, 30)
    assert settings.programme.strict_reverse is True
    assert settings.programme.lnl_reminder_minutes == (60, 15)
    assert settings.retention_days == 90 and settings.purge_uninstalled_after_days == 7


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"MATCHING_TIME": "25:00"}, "MATCHING_TIME"),
        ({"MATCHING_TIMEZONE": "Mars/Olympus"}, "MATCHING_TIMEZONE"),
        ({"STRICT_REVERSE": "maybe"}, "STRICT_REVERSE"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"ADMIN_USER_IDS": "alice"}, "ADMIN_USER_IDS"),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
        ({"MATCHING_DAY": "someday"}, "MATCHING_DAY"),
        ({"RETENTION_DAYS": "7"}, "RETENTION_DAYS"),  # a weekly message's key must outlive its week
        ({"PURGE_UNINSTALLED_AFTER_DAYS": "0"}, "PURGE_UNINSTALLED_AFTER_DAYS"),
        ({"TOKEN_ENCRYPTION_KEYS": "not-a-fernet-key"}, "TOKEN_ENCRYPTION_KEYS"),
    ],
)
def test_malformed_settings_name_the_setting(env, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_admin_ids_may_name_their_workspace_and_must_with_oauth():
    base = {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1"}
    settings = Settings.from_env(
        {**base, "ADMIN_USER_IDS": "T01ABC:U01ABC, U02DEF", "ADMIN_CHECK_SECONDS": "0"}
    )
    assert settings.admin_user_ids == {"T01ABC:U01ABC", "U02DEF"} and settings.admin_check_seconds == 0
    assert Settings.from_env(base).admin_check_seconds == 60
    oauth = {"SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x"}
    assert Settings.from_env({**oauth, "ADMIN_USER_IDS": "T01ABC:U01ABC"}).admin_user_ids == {"T01ABC:U01ABC"}
    with pytest.raises(
        ConfigError, match=r"ADMIN_USER_IDS: with OAuth installs give each admin as TEAM:USER"
    ):
        Settings.from_env({**oauth, "ADMIN_USER_IDS": "T01ABC:U01ABC, U02DEF"})
    for bad in ("T01ABC:alice", "t01:U01ABC", "T01ABC:"):
        with pytest.raises(ConfigError, match="ADMIN_USER_IDS"):
            Settings.from_env({**base, "ADMIN_USER_IDS": bad})
    with pytest.raises(ConfigError, match="ADMIN_CHECK_SECONDS"):
        Settings.from_env({**base, "ADMIN_CHECK_SECONDS": "-1"})


def test_slack_credentials_required_to_serve():
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, require_slack=True)
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        Settings.from_env({"SLACK_SIGNING_SECRET": "s"}, require_slack=True)


def test_token_encryption_keys_are_read_in_order_and_never_repeated_in_an_error():
    from cryptography.fernet import Fernet

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings.from_env({"TOKEN_ENCRYPTION_KEYS": f" {first}, {second} "})
    assert settings.token_encryption_keys == (first, second)
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS key 2 ") as error:
        Settings.from_env({"TOKEN_ENCRYPTION_KEYS": f"{first},{second[:-2]}"})
    assert second[:-2] not in str(error.value)


def run_app(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_app_refuses_to_start_with_one_clear_line(tmp_path):
    result = run_app({"SLACK_BOT_TOKEN": "xoxb-1"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "flipside: SLACK_SIGNING_SECRET is missing: copy it from your Slack app's Basic Information"
    ]


def test_app_refuses_to_start_without_a_database(tmp_path):
    result = run_app(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        },
        tmp_path,
    )
    assert result.returncode == 2
    assert "cannot reach the database" in result.stderr and "Traceback" not in result.stderr


def test_blank_oauth_variables_do_not_switch_bolt_into_oauth_mode(tmp_path, monkeypatch):
    import os

    from bot.runtime import load_settings

    monkeypatch.setenv("SLACK_CLIENT_ID", "")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", " ")
    settings = load_settings(require_slack=False)
    assert not settings.oauth_enabled
    assert "SLACK_CLIENT_ID" not in os.environ and "SLACK_CLIENT_SECRET" not in os.environ


def test_oauth_mode_refuses_to_start_without_a_token_encryption_key(tmp_path):
    oauth = {"SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "111.222", "SLACK_CLIENT_SECRET": "shh"}
    result = run_app(oauth, tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("flipside: TOKEN_ENCRYPTION_KEYS is missing: OAuth mode stores Slack tokens")
    assert "Fernet.generate_key()" in line
