"""Run Alembic from Python (the CLI, tests, the demo): upgrade, downgrade, and the drift check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

import models
from bot.db import Database

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database: Database) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


@contextmanager
def migration_connection(database: Database) -> Iterator[Connection]:
    """A connection for Alembic. On SQLite, foreign keys are off while it runs: batch mode rebuilds
    a table by dropping and recreating it, and with them on that drop would cascade into (delete)
    the rows of every table that points at it."""
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a PRAGMA inside a transaction is ignored: run it on the raw connection first
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            yield connection
            if connection.in_transaction():
                connection.commit()
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


def upgrade(database: Database, revision: str = "head") -> None:
    config = alembic_config(database)
    with migration_connection(database) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(database: Database, revision: str = "base") -> None:
    config = alembic_config(database)
    with migration_connection(database) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def schema_problem(database: Database) -> str | None:
    """Why the database cannot serve this code yet (never migrated, behind, or ahead of the latest
    revision), in one line; None when it is at the head."""
    heads = set(ScriptDirectory.from_config(alembic_config(database)).get_heads())
    with database.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    if not current:
        return "the database was never migrated: run `python -m bot migrate`"
    script = ScriptDirectory.from_config(alembic_config(database))
    known = {revision.revision for revision in script.walk_revisions()}
    at = ", ".join(sorted(current))
    if not current <= known:
        return f"the database is at revision {at}, newer than this code: deploy the matching code"
    return f"the database is at revision {at}, behind {', '.join(sorted(heads))}: run `python -m bot migrate`"


def schema_drift(database: Database) -> list[object]:
    """Differences between the models and the migrated database; empty when they agree."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, models.Base.metadata))
