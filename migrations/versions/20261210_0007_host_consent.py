"""lunch_sessions.host_consent: the named host's answer to "will you host this?". Nothing is
announced until the host accepts. Existing sessions were announced already: they count as accepted.

Revision ID: 0007_host_consent
Revises: 0006_slack_updated_at
Create Date: 2026-12-10 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_host_consent'
down_revision: str | None = '0006_slack_updated_at'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lunch_sessions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('host_consent', sa.String(length=20), server_default='accepted', nullable=False)
        )


def downgrade() -> None:
    # Sessions still waiting for their host would look scheduled to the older version: cancel them.
    op.execute("UPDATE lunch_sessions SET status = 'cancelled' WHERE status = 'awaiting_host'")
    with op.batch_alter_table('lunch_sessions', schema=None) as batch_op:
        batch_op.drop_column('host_consent')
