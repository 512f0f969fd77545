"""Engine: sharded runs on a cluster and their finished shards (``--resume``).

Revision ID: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
    )
    op.create_index("ix_engine_runs_status", "engine_runs", ["status"])
    op.create_table(
        "engine_shards",
        sa.Column(
            "run_id",
            sa.String(40),
            sa.ForeignKey(
                "engine_runs.id",
                ondelete="CASCADE",
                name="fk_engine_shards_run_id_engine_runs",
            ),
            primary_key=True,
        ),
        sa.Column("task", sa.String(64), primary_key=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engine_shards")
    op.drop_index("ix_engine_runs_status", "engine_runs")
    op.drop_table("engine_runs")
