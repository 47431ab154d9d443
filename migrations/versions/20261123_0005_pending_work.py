"""pending_work: what a listener hands over after its ack, kept until a worker has done it.
A new table; nothing stored before changes.

Revision ID: 0005_pending_work
Revises: 0004_home_opened_at
Create Date: 2026-11-23 15:32:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_pending_work'
down_revision: str | None = '0004_home_opened_at'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pending_work',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('extras', sa.JSON(), nullable=False),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_work'))
    )
    with op.batch_alter_table('pending_work', schema=None) as batch_op:
        batch_op.create_index('ix_pending_work_due', ['run_after', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pending_work', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_work_due')

    op.drop_table('pending_work')
