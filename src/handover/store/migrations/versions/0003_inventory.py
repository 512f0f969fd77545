"""Inventory: scans, their tables and classified columns (handover scan).

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_scans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("sample", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_table(
        "inventory_tables",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "scan_id",
            sa.Integer(),
            sa.ForeignKey(
                "inventory_scans.id",
                ondelete="CASCADE",
                name="fk_inventory_tables_scan_id_inventory_scans",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("scanned_rows", sa.Integer(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_inventory_tables_scan_id", "inventory_tables", ["scan_id"])
    op.create_table(
        "inventory_columns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "scan_id",
            sa.Integer(),
            sa.ForeignKey(
                "inventory_scans.id",
                ondelete="CASCADE",
                name="fk_inventory_columns_scan_id_inventory_scans",
            ),
            nullable=False,
        ),
        sa.Column("table_name", sa.String(300), nullable=False),
        sa.Column("column_name", sa.String(300), nullable=False),
        sa.Column("db_type", sa.String(100), nullable=False),
        sa.Column("primary_type", sa.String(40), nullable=True),
        sa.Column("tier", sa.String(2), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("free_text", sa.Boolean(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("pii", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
    )
    op.create_index("ix_inventory_columns_scan_id", "inventory_columns", ["scan_id"])


def downgrade() -> None:
    op.drop_table("inventory_columns")
    op.drop_table("inventory_tables")
    op.drop_table("inventory_scans")
