"""Ledger, fewer node rows: subtree hashes are stored from level 4 up (subtrees of 16
leaves and more), about one row per 16 entries where there was one per entry. A proof's
lower pieces are hashed from the stored leaf hashes of at most 8 entries each
(``handover.ledger.ledger._stored_nodes``). No entry, head or checkpoint changes, so every
hash and signature stays valid; the downgrade hashes the lower levels back from the leaves.

Revision ID: 0002c
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002c"
down_revision = "0002b"
branch_labels = None
depends_on = None

#: handover.ledger.models.LOWEST_STORED_LEVEL when this revision was written (a revision
#: keeps its own figures: the store does not import the ledger; tests/test_store.py holds
#: the two equal)
LOWEST_STORED_LEVEL = 4
_CHUNK = 1 << 16  # leaves read at a time on the way down (a multiple of every subtree)


def _parents(level: list[bytes]) -> list[bytes]:
    """RFC 6962 nodes over the pairs of ``level``, SHA-256(0x01 || left || right); an odd
    last one is dropped. hashlib here, not handover.crypto: the store sits below every room
    and handover.crypto above it (its keys name the workspace), so this revision is the one
    other place allowed a primitive (tests/test_layering.py names it)."""
    return [
        hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
        for i in range(0, len(level) - 1, 2)
    ]


def upgrade() -> None:
    op.execute(f"DELETE FROM ledger_nodes WHERE level < {LOWEST_STORED_LEVEL}")


def downgrade() -> None:
    bind = op.get_bind()
    nodes = sa.table(
        "ledger_nodes",
        sa.column("level", sa.SmallInteger),
        sa.column("idx", sa.BigInteger),
        sa.column("hash", sa.LargeBinary),
    )
    op.execute(f"DELETE FROM ledger_nodes WHERE level < {LOWEST_STORED_LEVEL}")
    size = bind.execute(sa.text("SELECT size FROM ledger_head WHERE id = 1")).scalar() or 0
    for start in range(0, size, _CHUNK):
        end = min(start + _CHUNK, size)
        query = sa.text("SELECT seq, leaf_hash FROM ledger_entries WHERE seq >= :a AND seq < :b")
        read = sorted(
            (int(seq), bytes(h)) for seq, h in bind.execute(query, {"a": start, "b": end})
        )
        if [seq for seq, _h in read] != list(range(start, end)):
            # hashed over a gap, every node after it would be another tree's
            raise RuntimeError(f"ledger_entries: an entry from {start} to {end - 1} is missing")
        level = [h for _seq, h in read]
        rows = []
        for lv in range(1, LOWEST_STORED_LEVEL):
            level = _parents(level)
            rows += [
                {"level": lv, "idx": (start >> lv) + i, "hash": h} for i, h in enumerate(level)
            ]
        if rows:
            bind.execute(nodes.insert(), rows)
