"""In a two-way exchange each direction's meetings are recorded: pairing_meetings.halves says which
halves a meeting covered ("topic", "exchange_topic" or "both"). Meetings logged before stay empty, as
do those of one-way pairings.

Revision ID: 0015_meeting_halves
Revises: 0014_canvas
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_meeting_halves"
down_revision: str | None = "0014_canvas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pairing_meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("halves", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pairing_meetings", schema=None) as batch_op:
        batch_op.drop_column("halves")
