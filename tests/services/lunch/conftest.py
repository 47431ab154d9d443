"""Every Lunch 'n' Learn service test runs against a freshly migrated database."""

from __future__ import annotations

import pytest

from bot.db import Database


@pytest.fixture
def db(database: Database) -> Database:
    return database
