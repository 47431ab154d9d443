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
