"""Claims: what a running command uses (a console job's or the CLI's), so that commands
on one workspace in any process see each other's (``handover.claims``); and the one row
every taker updates first.

Revision ID: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_claims",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("resource", sa.String(600), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,  # ids never used again (claims release names an id)
    )
    op.create_index("ix_work_claims_holder", "work_claims", ["holder"])
    lock = op.create_table(
        "work_claim_lock",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("taken", sa.Integer(), nullable=False),
    )
    op.bulk_insert(lock, [{"id": 1, "taken": 0}])


def downgrade() -> None:
    op.drop_table("work_claim_lock")
    op.drop_index("ix_work_claims_holder", table_name="work_claims")
    op.drop_table("work_claims")
