"""slack_sdk's own OAuth tables (installations, bots, states), declared on our metadata so that
Alembic creates and checks them like every other table. slack_sdk's stores read and write them.

The token columns hold Fernet-encrypted tokens (bot/slack/tokens.py): longer than slack_sdk's
String(200), so they are Text here (migration 0007_tokens)."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Table, Text

from models.base import Base

INSTALLATIONS_TABLE = SQLAlchemyInstallationStore.default_installations_table_name
BOTS_TABLE = SQLAlchemyInstallationStore.default_bots_table_name
STATES_TABLE = SQLAlchemyOAuthStateStore.default_table_name

TOKEN_COLUMNS = {
    INSTALLATIONS_TABLE: ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    BOTS_TABLE: ("bot_token", "bot_refresh_token"),
}


def _with_encrypted_tokens(table: Table) -> Table:
    for name in TOKEN_COLUMNS[table.name]:
        table.c[name].type = Text()
    return table


installations = _with_encrypted_tokens(
    SQLAlchemyInstallationStore.build_installations_table(Base.metadata, INSTALLATIONS_TABLE)
)
bots = _with_encrypted_tokens(SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE))
oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, STATES_TABLE)
