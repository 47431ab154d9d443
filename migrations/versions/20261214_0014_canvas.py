"""Learning-log canvases: one per pair (learning_logs) and the lines owed to it (learning_log_entries).

Revision ID: 0014_canvas
Revises: 0013_pulse
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0014_canvas"
down_revision: str | None = "0013_pulse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_logs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opening", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("canvas_id", sa.String(length=32), nullable=True),
        sa.Column("standalone", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("skipped_reason", sa.String(length=80), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pairing_id"],
            ["pairings.id"],
            name=op.f("fk_learning_logs_pairing_id_pairings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_learning_logs_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_logs")),
        sa.UniqueConstraint("pairing_id", name=op.f("uq_learning_logs_pairing_id")),
    )
    with op.batch_alter_table("learning_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_learning_logs_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_learning_logs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_learning_logs_team_id"), ["team_id"], unique=False)

    op.create_table(
        "learning_log_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("in_doubt", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pairing_id"],
            ["pairings.id"],
            name=op.f("fk_learning_log_entries_pairing_id_pairings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_learning_log_entries_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_log_entries")),
        sa.UniqueConstraint("pairing_id", "key", name=op.f("uq_learning_log_entries_pairing_id_key")),
    )
    with op.batch_alter_table("learning_log_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_log_entries_pairing_id"), ["pairing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_learning_log_entries_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    op.drop_table("learning_log_entries")
    op.drop_table("learning_logs")
