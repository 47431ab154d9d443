"""people.home_opened_at: App Home redraws after a change go only to people who have opened it.
Existing people start with NULL and get their home drawn when they next open it.

Revision ID: 0004_home_opened_at
Revises: 0003_meetings_per_checkin
Create Date: 2026-11-23 13:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_home_opened_at'
down_revision: str | None = '0003_meetings_per_checkin'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_opened_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('home_opened_at')
