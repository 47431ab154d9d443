"""Alembic owns the schema: models and migrations agree, and the chain goes up, down and up again."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect

from bot.cli import migrations


def test_models_and_migrations_agree(database):
    assert migrations.schema_drift(database) == []


def test_downgrade_to_base_and_upgrade_again(database):
    migrations.downgrade(database, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    migrations.upgrade(database)
    assert "pairings" in inspect(database.engine).get_table_names()
    assert migrations.schema_drift(database) == []


def test_upgrade_keeps_meetings_logged_before_checkin_slots(database):
    from datetime import UTC, datetime

    from sqlalchemy import text

    migrations.downgrade(database, "0002_slack_oauth")
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows = {
        "workspaces": {"team_id": "T1", "installed_at": now},
        "people": {
            "id": 1,
            "team_id": "T1",
            "slack_user_id": "U1",
            "display_name": "A",
            "tz": "UTC",
            "tz_offset_seconds": 0,
            "is_slack_admin": False,
            "capacity": 1,
            "paused": False,
            "unanswered_streak": 0,
            "created_at": now,
        },
        "topics": {"id": 1, "team_id": "T1", "key": "canva", "display_name": "Canva", "created_at": now},
        "pairings": {
            "id": 1,
            "team_id": "T1",
            "learner_id": 1,
            "teacher_id": 1,
            "topic_id": 1,
            "score": 1.0,
            "explanation": "",
            "is_reverse": False,
            "is_cross_department": False,
            "status": "active",
            "learner_answer": "accepted",
            "teacher_answer": "accepted",
            "proposed_at": now,
            "expires_at": now,
            "version": 1,
            "intro_channel_id": "G1",
        },
        "pairing_meetings": {"id": 1, "pairing_id": 1, "logged_by_id": 1, "rating": 5, "logged_at": now},
    }
    with database.engine.begin() as connection:
        for table, values in rows.items():
            columns = ", ".join(values)
            connection.execute(
                text(f"INSERT INTO {table} ({columns}) VALUES (:{', :'.join(values)})"), values
            )
    migrations.upgrade(database)
    with database.engine.connect() as connection:
        meeting = connection.execute(text("SELECT rating, checkin_slot FROM pairing_meetings")).one()
    assert tuple(meeting) == (5, None)
    with database.engine.connect() as connection:  # 0004 adds people.home_opened_at, empty
        person = connection.execute(text("SELECT slack_user_id, home_opened_at FROM people")).one()
    assert tuple(person) == ("U1", None)
    assert migrations.schema_drift(database) == []


def test_upgrade_encrypts_the_tokens_already_stored_and_downgrade_decrypts_them(database, monkeypatch):
    from cryptography.fernet import Fernet
    from sqlalchemy import text

    from bot.config import ConfigError, Settings
    from bot.slack.oauth import installation_store

    migrations.downgrade(database, "0008_forget")
    installation = {
        "client_id": "111.222",
        "app_id": "A1",
        "team_id": "T1",
        "bot_token": "xoxb-stored-in-plain",
        "bot_refresh_token": "xoxe-1-refresh",
        "user_id": "U1",
        "user_token": "xoxp-user",
        "is_enterprise_install": False,
        "installed_at": datetime(2026, 11, 1),
    }
    bot = {key: installation[key] for key in ("client_id", "app_id", "team_id", "bot_token", "installed_at")}
    bot["is_enterprise_install"] = False
    with database.engine.begin() as connection:
        for table, values in (("slack_installations", installation), ("slack_bots", bot)):
            columns = ", ".join(values)
            connection.execute(
                text(f"INSERT INTO {table} ({columns}) VALUES (:{', :'.join(values)})"), values
            )

    def tokens() -> list[str | None]:
        with database.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT bot_token, bot_refresh_token, user_token, user_refresh_token"
                    " FROM slack_installations"
                )
            ).one()
            return [*row, connection.execute(text("SELECT bot_token FROM slack_bots")).scalar_one()]

    plain = ["xoxb-stored-in-plain", "xoxe-1-refresh", "xoxp-user", None, "xoxb-stored-in-plain"]
    monkeypatch.delenv("TOKEN_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS is missing"):
        migrations.upgrade(database)
    assert tokens() == plain  # nothing changed
    key = Fernet.generate_key()
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", key.decode())
    migrations.upgrade(database)
    encrypted = tokens()
    assert encrypted[3] is None and not set(encrypted) & set(plain) - {None}
    assert [
        None if value is None else Fernet(key).decrypt(value.encode()).decode() for value in encrypted
    ] == plain
    assert migrations.schema_drift(database) == []
    settings = Settings(
        slack_client_id="111.222", slack_client_secret="shh", token_encryption_keys=(key.decode(),)
    )
    found = installation_store(settings, database).find_installation(enterprise_id=None, team_id="T1")
    assert (found.bot_token, found.bot_refresh_token, found.user_token) == tuple(plain[:3])
    migrations.downgrade(database, "0008_forget")
    assert tokens() == plain
    migrations.upgrade(database)
