"""The tamper-evident ledger: append-only events, an RFC 6962 Merkle tree, signed checkpoints.

``record`` is the one API every stage uses to write the ledger; nothing else writes the
``ledger_*`` tables. See docs/ledger.md.
"""

from handover.ledger.ledger import (
    Clock,
    Event,
    InclusionProof,
    IssuedCheckpoint,
    LedgerEntry,
    Recorder,
    checkpoint_if_new,
    entries,
    entry_filter,
    init_ledger,
    issue_checkpoint,
    latest_checkpoint,
    ledger_size,
    prove,
    prove_at,
    public_identity,
    record,
    record_many,
    system_clock,
)
from handover.ledger.verify import Problem, VerifyReport, verify_ledger

__all__ = [
    "Clock",
    "Event",
    "InclusionProof",
    "IssuedCheckpoint",
    "LedgerEntry",
    "Problem",
    "Recorder",
    "VerifyReport",
    "checkpoint_if_new",
    "entries",
    "entry_filter",
    "init_ledger",
    "issue_checkpoint",
    "latest_checkpoint",
    "ledger_size",
    "prove",
    "prove_at",
    "public_identity",
    "record",
    "record_many",
    "system_clock",
    "verify_ledger",
]
