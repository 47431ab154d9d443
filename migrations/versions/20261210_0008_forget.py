"""outbox_messages.erase_when_sent: a message still owed to someone about a person who has been
forgotten keeps its words only until it is sent (or given up). Existing rows start with false.

Revision ID: 0008_forget
Revises: 0007_host_consent
Create Date: 2026-12-10 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_forget'
down_revision: str | None = '0007_host_consent'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('erase_when_sent', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('erase_when_sent')
