"""Alembic owns the schema: models and migrations agree, and the chain goes up, down and up again."""

from __future__ import annotations

from sqlalchemy import inspect

from bot import migrations


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
