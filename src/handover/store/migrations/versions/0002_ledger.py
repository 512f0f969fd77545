"""Ledger: entries, perfect-subtree nodes, the head row, signed checkpoints.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
    )
    op.create_index("ix_ledger_entries_ts", "ledger_entries", ["ts"])
    op.create_index("ix_ledger_entries_actor", "ledger_entries", ["actor"])
    op.create_index("ix_ledger_entries_action", "ledger_entries", ["action"])
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("origin", sa.String(200), nullable=True),
        sa.Column("public_key", sa.LargeBinary(32), nullable=True),
    )
    op.bulk_insert(head, [{"id": 1, "size": 0, "frontier": b""}])
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_ledger_checkpoints_size", "ledger_checkpoints", ["size"])


def downgrade() -> None:
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_head")
    op.drop_table("ledger_nodes")
    op.drop_table("ledger_entries")
