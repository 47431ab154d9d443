"""A wish may name the colleague the learner asked for (wishes.requested_teacher_id).

Revision ID: 0010_requested_teacher
Revises: 0009_tokens
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_requested_teacher"
down_revision: str | None = "0009_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requested_teacher_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_wishes_requested_teacher_id_people"),
            "people",
            ["requested_teacher_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("wishes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_wishes_requested_teacher_id_people"), type_="foreignkey")
        batch_op.drop_column("requested_teacher_id")
