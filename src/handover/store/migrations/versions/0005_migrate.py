"""Migrate: runs and per-table checkpoints of ``handover migrate``.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "migrate_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_index("ix_migrate_runs_status", "migrate_runs", ["status"])
    op.create_table(
        "migrate_checkpoints",
        sa.Column(
            "run_id",
            sa.String(40),
            sa.ForeignKey(
                "migrate_runs.id",
                ondelete="CASCADE",
                name="fk_migrate_checkpoints_run_id_migrate_runs",
            ),
            primary_key=True,
        ),
        sa.Column("table_name", sa.String(255), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("last_key", sa.Text(), nullable=True),
        sa.Column("rows_copied", sa.BigInteger(), nullable=False),
        sa.Column("rejects", sa.BigInteger(), nullable=False),
        sa.Column("source_rows", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("migrate_checkpoints")
    op.drop_index("ix_migrate_runs_status", "migrate_runs")
    op.drop_table("migrate_runs")
