"""Notices: campaigns, outbox and unreachable rows of ``handover notices``.

Revision ID: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("templates", sa.JSON(), nullable=False),
        sa.Column("maker", sa.String(200), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("lease", sa.String(200), nullable=True),
    )
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey(
                "notice_campaigns.id",
                ondelete="CASCADE",
                name="fk_notice_outbox_campaign_id_notice_campaigns",
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(100), nullable=True),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("key", name="uq_notice_outbox_key"),
    )
    op.create_index(
        "ix_notice_outbox_pending", "notice_outbox", ["campaign_id", "channel", "state"]
    )
    op.create_table(
        "notice_unreachable",
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey(
                "notice_campaigns.id",
                ondelete="CASCADE",
                name="fk_notice_unreachable_campaign_id_notice_campaigns",
            ),
            primary_key=True,
        ),
        sa.Column("idx", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("table_name", sa.String(300), nullable=False),
        sa.Column("row_key", sa.String(300), nullable=False),
        sa.Column("name_masked", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notice_unreachable")
    op.drop_index("ix_notice_outbox_pending", "notice_outbox")
    op.drop_table("notice_outbox")
    op.drop_table("notice_campaigns")
