"""The pairing flow: next offers, why a wish waits (told once), ghosting asks.

wishes.offered_after_pairing_id and wishes.told_wait_reason; people.checkins_unanswered,
people.checkin_answered_at and people.stay_in_asked_at. Existing rows keep their data: the new
columns start empty (counts at 0).

Revision ID: 0012_flow
Revises: 0011_round
Create Date: 2026-12-06 09:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_flow"
down_revision: str | None = "0011_round"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offered_after_pairing_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("told_wait_reason", sa.String(length=32), nullable=True))
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checkins_unanswered", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("checkin_answered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("stay_in_asked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("stay_in_asked_at")
        batch_op.drop_column("checkin_answered_at")
        batch_op.drop_column("checkins_unanswered")
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_column("told_wait_reason")
        batch_op.drop_column("offered_after_pairing_id")
