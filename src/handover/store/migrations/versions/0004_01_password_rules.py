"""Passwords: who set a person's password and when, whether it is a one-time password
(set by somebody else outside a demo), and every password check for throttling guesses
at the CLI as at the console (docs/governance.md, Logins).

Revision ID: 0004pw
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004pw"
down_revision = "0004"
branch_labels = None
depends_on = None

AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    # People registered before this revision keep their password as it is (who set it is
    # not known here; the ledger's governance.person.* events say it).
    # Plain ADD COLUMN (every engine has it, SQLite for a nullable column or one with a
    # constant default): a batch copy of the table would drop it under the foreign keys
    # of the tables that name people, which SQLite refuses.
    op.add_column("gov_people", sa.Column("password_set_by", sa.String(64), nullable=True))
    op.add_column("gov_people", sa.Column("password_set_at", AWARE, nullable=True))
    op.add_column(
        "gov_people",
        sa.Column("password_one_time", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "gov_login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", AWARE, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_gov_login_attempts_at", "gov_login_attempts", ["at"])
    op.create_index("ix_gov_login_attempts_name", "gov_login_attempts", ["name"])
    op.create_index("ix_gov_login_attempts_client", "gov_login_attempts", ["client"])


def downgrade() -> None:
    op.drop_table("gov_login_attempts")
    # plain DROP COLUMN (SQLite ≥ 3.35, every server), not a batch copy (see upgrade)
    for column in ("password_one_time", "password_set_at", "password_set_by"):
        op.execute(f"ALTER TABLE gov_people DROP COLUMN {column}")
