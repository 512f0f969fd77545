"""The console's login attempts are counted with the CLI's and a validator's in
``gov_login_attempts`` (revision 0004pw, ``governance.session``): its own table goes.

Revision ID: 0019c
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019c"
down_revision = "0019b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("web_login_attempts")


def downgrade() -> None:
    op.create_table(
        "web_login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_web_login_attempts_at", "web_login_attempts", ["at"])
    op.create_index("ix_web_login_attempts_name", "web_login_attempts", ["name"])
    op.create_index("ix_web_login_attempts_client", "web_login_attempts", ["client"])
