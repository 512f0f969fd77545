"""Erase: runs and items of ``handover shred``.

Revision ID: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erase_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("executed_by", sa.String(200), nullable=False),
        sa.Column("validated_by", sa.String(200), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("force_reason", sa.Text(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.Column("certificate_sha256", sa.String(64), nullable=True),
    )
    op.create_index("ix_erase_runs_status", "erase_runs", ["status"])
    op.create_table(
        "erase_items",
        sa.Column(
            "run_id",
            sa.String(40),
            sa.ForeignKey(
                "erase_runs.id", ondelete="CASCADE", name="fk_erase_items_run_id_erase_runs"
            ),
            primary_key=True,
        ),
        sa.Column("idx", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("medium", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erase_items")
    op.drop_index("ix_erase_runs_status", "erase_runs")
    op.drop_table("erase_runs")
