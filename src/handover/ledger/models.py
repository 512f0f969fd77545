"""The ledger's tables. Only :mod:`handover.ledger` writes them (DESIGN.md, Contracts).

- ``ledger_entries``: one row per event: ``seq`` (0-based leaf index; SQLite's rowid), ``ts``, the
  canonical JSON ``body`` (the leaf data), its RFC 6962 ``leaf_hash``, and ``root``, the
  tree head right after this entry (lets the verifier name the first bad entry even when
  a forger recomputed the leaf hash). ``actor``/``action``/``subject`` are copies of body
  fields for filtering only; the body is the record.
- ``ledger_nodes``: hash of every complete aligned subtree of height >= 4
  (:data:`LOWEST_STORED_LEVEL`), written once when its last leaf arrives; proofs read
  O(log n) of them, and hash their lower pieces from at most 8 stored leaf hashes each.
- ``ledger_head``: the single row (id 1) every append locks: size, the frontier (roots of
  the perfect subtrees of the current tree, left to right), origin and public key.
- ``ledger_checkpoints``: signed tree heads (C2SP tlog-checkpoint notes).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handover.store.models import Base


class LedgerEntryRow(Base):
    """One ledger event; ``body`` is its canonical JSON, the Merkle leaf."""

    __tablename__ = "ledger_entries"

    # SQLite: the rowid itself (store revision 0002b), no second B-tree for the key
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    # not indexed: stamps never go back, so ``since`` searches ``seq`` (ledger.first_since)
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    root: Mapped[bytes] = mapped_column(LargeBinary(32))


#: The lowest level of subtree kept in ``ledger_nodes`` (store revision 0002c): a subtree of
#: 16 leaves. One row per 16 entries instead of one per entry, a fifth of a batched
#: append's SQLite work; the levels below are hashed again from the leaves when a proof
#: needs them (at most 8 leaf hashes a piece).
LOWEST_STORED_LEVEL = 4


class LedgerNodeRow(Base):
    """Hash of the perfect subtree over leaves ``[idx * 2**level, (idx + 1) * 2**level)``."""

    __tablename__ = "ledger_nodes"
    # the key is the table (revision 0002b)
    __table_args__ = ({"sqlite_with_rowid": False},)

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHeadRow(Base):
    """The current tree head; every append locks this row (id 1)."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    origin: Mapped[str | None] = mapped_column(String(200), nullable=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)


class LedgerCheckpointRow(Base):
    """A signed tree head as issued: the full note text is what was signed."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text)
