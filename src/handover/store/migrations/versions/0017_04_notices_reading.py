"""How a campaign's source files are read (``--no-header``, ``--allow-bad-rows``): a
campaign of CSV files without a header row reads them so when it is sent, as when it
was created (``handover.sources.FileReading.to_options``; NULL: the plain reading).

Revision ID: 0017rd
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017rd"
down_revision = "0017n57"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notice_campaigns", sa.Column("reading", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("notice_campaigns", "reading")
