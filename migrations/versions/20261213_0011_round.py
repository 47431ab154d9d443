"""The round's exchanges, reasons for the teacher and repeat window.

pairings.exchange_wish_id / exchange_skill_id: an exchange is one pairing, and both wishes it
serves are known. pairings.teacher_explanation: why, in words, for the teacher (existing
pairings get an empty one). programme_settings.repeat_window_weeks: two people are not paired
again within it (existing workspaces get the default, 26).

Revision ID: 0011_round
Revises: 0010_requested_teacher
Create Date: 2026-12-13 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_round"
down_revision: str | None = "0010_requested_teacher"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pairings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange_wish_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("exchange_skill_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("teacher_explanation", sa.Text(), server_default="", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_pairings_exchange_wish_id_wishes"),
            "wishes",
            ["exchange_wish_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_pairings_exchange_skill_id_skills"),
            "skills",
            ["exchange_skill_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("programme_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("repeat_window_weeks", sa.Integer(), server_default="26", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("programme_settings", schema=None) as batch_op:
        batch_op.drop_column("repeat_window_weeks")
    with op.batch_alter_table("pairings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_pairings_exchange_skill_id_skills"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_pairings_exchange_wish_id_wishes"), type_="foreignkey")
        batch_op.drop_column("teacher_explanation")
        batch_op.drop_column("exchange_skill_id")
        batch_op.drop_column("exchange_wish_id")
