"""Alembic environment: the URL comes from Flipside's settings, or from the caller's connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import models
from bot.config import Settings

target_metadata = models.Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # bot.cli.migrations passes its own connection (tests, the CLI); otherwise read the settings.
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    from bot.cli.migrations import migration_connection
    from bot.db import Database

    database = Database(context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url)
    with migration_connection(database) as connection:
        _configure_and_run(connection)
    database.dispose()


def run_migrations_offline() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
