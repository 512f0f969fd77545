"""Breach notices (PIPL Art. 57) through the notices engine: a campaign names the
incident it tells the people of, the restriction of its audience to the people the
incident concerns, and whether it is a drill's (issue 17, docs/incidents.md).

Revision ID: 0017n57
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017n57"
down_revision = "0016b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notice_campaigns", sa.Column("incident_id", sa.Integer(), nullable=True))
    op.add_column("notice_campaigns", sa.Column("restriction", sa.JSON(), nullable=True))
    op.add_column(
        "notice_campaigns",
        sa.Column("drill", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("notice_campaigns", "drill")
    op.drop_column("notice_campaigns", "restriction")
    op.drop_column("notice_campaigns", "incident_id")
