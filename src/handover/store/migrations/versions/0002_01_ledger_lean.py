"""Ledger, leaner to append to: no index on ``ts`` (``--since`` finds its first entry by a
binary search over ``seq``, as stamps never go back); on SQLite, ``seq`` becomes the
table's rowid (its primary key was a second B-tree beside the table) and ``ledger_nodes``
a WITHOUT ROWID table (its primary key was one too). Every row is copied as it was, so
every hash and signed checkpoint stays valid.

Revision ID: 0002b
"""

from __future__ import annotations

from alembic import op

revision = "0002b"
down_revision = "0002"
branch_labels = None
depends_on = None

_ENTRY_COLUMNS = "seq, ts, actor, action, subject, body, leaf_hash, root"


def _rebuild(table: str, create: str, columns: str) -> None:
    op.execute(create.format(name=f"{table}_new"))
    op.execute(f"INSERT INTO {table}_new ({columns}) SELECT {columns} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}_new RENAME TO {table}")


def _lay_out(*, lean: bool) -> None:
    """Copy SQLite's two ledger tables into the lean layout or back into 0002's."""
    seq, key = (
        ("INTEGER NOT NULL PRIMARY KEY", "") if lean else ("BIGINT NOT NULL", ", PRIMARY KEY (seq)")
    )
    _rebuild(
        "ledger_entries",
        f"CREATE TABLE {{name}} (seq {seq}, ts DATETIME NOT NULL, "
        "actor VARCHAR(200) NOT NULL, action VARCHAR(100) NOT NULL, "
        "subject VARCHAR(500) NOT NULL, body TEXT NOT NULL, leaf_hash BLOB NOT NULL, "
        f"root BLOB NOT NULL{key})",
        _ENTRY_COLUMNS,
    )
    op.create_index("ix_ledger_entries_actor", "ledger_entries", ["actor"])
    op.create_index("ix_ledger_entries_action", "ledger_entries", ["action"])
    _rebuild(
        "ledger_nodes",
        "CREATE TABLE {name} (level SMALLINT NOT NULL, idx BIGINT NOT NULL, "
        "hash BLOB NOT NULL, PRIMARY KEY (level, idx))" + (" WITHOUT ROWID" if lean else ""),
        "level, idx, hash",
    )


def upgrade() -> None:
    op.drop_index("ix_ledger_entries_ts", table_name="ledger_entries")
    if op.get_bind().dialect.name == "sqlite":
        _lay_out(lean=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _lay_out(lean=False)
    op.create_index("ix_ledger_entries_ts", "ledger_entries", ["ts"])
