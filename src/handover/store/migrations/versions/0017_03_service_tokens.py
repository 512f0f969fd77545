"""Service accounts: the tokens a cron job presents to run ``incidents tick`` /
``incidents warn`` without a person's session (issue 17, docs/governance.md).

Revision ID: 0017svc
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017svc"
down_revision = "0004"
branch_labels = None
depends_on = None

AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gov_service_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("gov_people.id", name="fk_gov_service_tokens_person_id_gov_people"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("expires_at", AWARE, nullable=False),
        sa.Column("revoked_at", AWARE, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_gov_service_tokens_token_hash"),
    )
    op.create_index("ix_gov_service_tokens_person_id", "gov_service_tokens", ["person_id"])


def downgrade() -> None:
    op.drop_table("gov_service_tokens")
