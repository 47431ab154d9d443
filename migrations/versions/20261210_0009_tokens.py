"""Slack tokens encrypted at rest: the token columns of slack_installations and slack_bots become
Text (a Fernet token is about twice as long as what it encrypts, and rotating tokens are ~170
characters), and the tokens already stored are encrypted here, with the first key of
TOKEN_ENCRYPTION_KEYS (read from the environment, as `python -m bot migrate` loads .env).
With no stored token (single-token mode, a fresh database) no key is needed. A value that already
decrypts with the keys is left as it is, so running this over rows saved by newer code is safe.
Downgrade decrypts them again (it needs the key too).

Revision ID: 0009_tokens
Revises: 0008_forget
Create Date: 2026-12-06 10:00:00
"""

import os
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.config import GENERATE_KEY, ConfigError

revision: str = '0009_tokens'
down_revision: str | None = '0008_forget'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported, so this revision keeps meaning what it meant.
TOKEN_COLUMNS = {
    'slack_installations': ('bot_token', 'bot_refresh_token', 'user_token', 'user_refresh_token'),
    'slack_bots': ('bot_token', 'bot_refresh_token'),
}


def upgrade() -> None:
    fernet = _fernet_if_tokens_are_stored()  # before any change: a missing key changes nothing
    for table, columns in TOKEN_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=200), type_=sa.Text())
    if fernet is not None:

        def encrypt(value: str) -> str:
            try:
                fernet.decrypt(value.encode())
                return value
            except InvalidToken:
                return fernet.encrypt(value.encode()).decode()

        _transform_tokens(encrypt)


def downgrade() -> None:
    fernet = _fernet_if_tokens_are_stored()
    if fernet is not None:
        _transform_tokens(lambda value: fernet.decrypt(value.encode()).decode())
    for table, columns in TOKEN_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=200))


def _tables() -> list[tuple[sa.TableClause, sa.ColumnElement[bool]]]:
    """Each table with the condition 'holds a token'."""
    tables = []
    for name, columns in TOKEN_COLUMNS.items():
        table = sa.table(name, sa.column('id'), *(sa.column(column) for column in columns))
        tables.append((table, sa.or_(*(table.c[column].is_not(None) for column in columns))))
    return tables


def _fernet_if_tokens_are_stored() -> MultiFernet | None:
    connection = op.get_bind()
    for table, stored in _tables():
        if connection.execute(sa.select(table.c.id).where(stored).limit(1)).first() is not None:
            return _fernet()
    return None


def _transform_tokens(transform: Callable[[str], str]) -> None:
    connection = op.get_bind()
    for table, stored in _tables():
        columns = [column.name for column in table.c if column.name != 'id']
        for row in connection.execute(sa.select(table).where(stored)).all():
            values = {
                column: None if getattr(row, column) is None else transform(getattr(row, column))
                for column in columns
            }
            connection.execute(sa.update(table).where(table.c.id == row.id).values(**values))


def _fernet() -> MultiFernet:
    keys = [key.strip() for key in os.environ.get('TOKEN_ENCRYPTION_KEYS', '').split(',') if key.strip()]
    if not keys:
        raise ConfigError(
            'TOKEN_ENCRYPTION_KEYS is missing: the database holds Slack tokens, which this migration '
            f'encrypts (or, going down, decrypts); generate a key with {GENERATE_KEY}'
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:  # never repeat a key in the message
        raise ConfigError(
            f'TOKEN_ENCRYPTION_KEYS holds a key that is not a Fernet key; generate one with {GENERATE_KEY}'
        ) from None
