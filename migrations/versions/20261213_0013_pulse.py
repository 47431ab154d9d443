"""The relationship pulse (pulse_answers), the monthly summary (monthly_summaries) and where it goes
(programme_settings.summary_destination).

Revision ID: 0013_pulse
Revises: 0012_flow
Create Date: 2026-12-06 08:48:29.327947
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_pulse"
down_revision: str | None = "0012_flow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monthly_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_monthly_summaries_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_summaries")),
        sa.UniqueConstraint("team_id", "month", name=op.f("uq_monthly_summaries_team_id_month")),
    )
    with op.batch_alter_table("monthly_summaries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monthly_summaries_team_id"), ["team_id"], unique=False)

    op.create_table(
        "pulse_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("stopped_meeting", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("share_with_log", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pairing_id"],
            ["pairings.id"],
            name=op.f("fk_pulse_answers_pairing_id_pairings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_pulse_answers_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_pulse_answers_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_answers")),
        sa.UniqueConstraint(
            "pairing_id", "number", "person_id", name=op.f("uq_pulse_answers_pairing_id_number_person_id")
        ),
    )
    with op.batch_alter_table("pulse_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_answers_answered_at"), ["answered_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_pulse_answers_pairing_id"), ["pairing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pulse_answers_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pulse_answers_team_id"), ["team_id"], unique=False)

    with op.batch_alter_table("programme_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("summary_destination", sa.String(length=16), server_default="admins", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("programme_settings", schema=None) as batch_op:
        batch_op.drop_column("summary_destination")

    with op.batch_alter_table("pulse_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_answers_team_id"))
        batch_op.drop_index(batch_op.f("ix_pulse_answers_person_id"))
        batch_op.drop_index(batch_op.f("ix_pulse_answers_pairing_id"))
        batch_op.drop_index(batch_op.f("ix_pulse_answers_answered_at"))

    op.drop_table("pulse_answers")
    with op.batch_alter_table("monthly_summaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monthly_summaries_team_id"))

    op.drop_table("monthly_summaries")
