"""people.slack_updated_at: how new our copy of a person's Slack profile is (Slack's own `updated`),
so a user_change or a users.info answer that arrives late never overwrites a newer one.
Existing people start with NULL: the next copy from Slack is taken whatever its time.

Revision ID: 0006_slack_updated_at
Revises: 0005_pending_work
Create Date: 2026-12-05 01:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_slack_updated_at'
down_revision: str | None = '0005_pending_work'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slack_updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('slack_updated_at')
