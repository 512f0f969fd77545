"""Notices, second slice: campaign kind (notice | consent), address tags on the outbox
(an SMS receipt or reply finds its row without a clear number) and the replies table
(objections, opt-outs, deletion requests, consent answers).

Revision ID: 0016b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016b"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "notice_campaigns",
        sa.Column("kind", sa.String(16), nullable=False, server_default="notice"),
    )
    op.add_column("notice_outbox", sa.Column("address_tag", sa.String(32), nullable=True))
    op.create_index(
        "ix_notice_outbox_tag", "notice_outbox", ["campaign_id", "channel", "address_tag"]
    )
    op.create_table(
        "notice_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey(
                "notice_campaigns.id",
                ondelete="CASCADE",
                name="fk_notice_replies_campaign_id_notice_campaigns",
            ),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_notice_replies_recipient", "notice_replies", ["campaign_id", "recipient"])
    op.create_index("uq_notice_replies_ref", "notice_replies", ["campaign_id", "ref"], unique=True)


def downgrade() -> None:
    op.drop_table("notice_replies")
    op.drop_index("ix_notice_outbox_tag", "notice_outbox")
    op.drop_column("notice_outbox", "address_tag")
    op.drop_column("notice_campaigns", "kind")
