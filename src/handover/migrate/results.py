"""The shapes of a migration run: its options, its results, and the names of the
bookkeeping tables it keeps in the target (docs/migrate.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handover.i18n import Msg

STATE_TABLE = "_handover_migrate_state"
REJECT_TABLE = "_handover_migrate_rejects"
RUN_ROW = "*"
DEFAULT_BATCH = 50_000
#: tables this large are read ahead by another process (started before the first table,
#: so its second of start-up overlaps the small tables)
PROCESS_ROWS = 200_000
#: conflicts of a schema plan named in the one-line refusal (the rest are counted)
MAX_SHOWN = 8


@dataclass
class MigrateOptions:
    """What the user chose; ``batch_pause`` is a test hook that slows every batch."""

    tables: list[str] | None = None
    batch_size: int = DEFAULT_BATCH
    no_backup: bool = False
    reason: str | None = None
    allow_rejects: int = 0
    resume: bool = False
    #: the run to resume (with ``resume``), or the id of a new run (from new_run_id)
    run_id: str | None = None
    batch_pause: float = 0.0
    #: a table of at least this many rows is read by another process (None: never)
    process_rows: int | None = PROCESS_ROWS
    #: the run has its process to itself (the CLI): a SQLite target may then be written
    #: by ADBC's own copy of SQLite (``SQLite.bulk_connection``), which another job of a
    #: shared process (the console's) could corrupt by opening the file with ``sqlite3``
    own_process: bool = False


@dataclass
class TableResult:
    """The outcome of one table."""

    name: str
    source_rows: int
    rows: int
    rejects: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "table": self.name,
            "source_rows": self.source_rows,
            "rows": self.rows,
            "rejects": self.rejects,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class MigrateResult:
    """The outcome of a run: per-table counts, rejects, timing, what was (not) backed up."""

    run_id: str
    source: str
    target: str
    status: str
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0
    reject_file: Path | None = None
    backup: dict[str, Any] | None = None
    no_backup_reason: str | None = None
    resumed: bool = False
    errors: list[str] = field(default_factory=list)
    notes: list[Msg] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(x.rows for x in self.tables)

    @property
    def rejects(self) -> int:
        return sum(x.rejects for x in self.tables)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` summary."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "source": self.source,
            "target": self.target,
            "tables": [x.to_json() for x in self.tables],
            "rows": self.rows,
            "rejects": self.rejects,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "reject_file": str(self.reject_file) if self.reject_file else None,
            "backup": self.backup,
            "no_backup_reason": self.no_backup_reason,
            "resumed": self.resumed,
            "errors": self.errors,
            "notes": [str(n) for n in self.notes],
        }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class RollbackResult:
    """What ``migrate --rollback`` removed from the target."""

    run_id: str
    target: str
    dropped: list[str]
    #: the SQLite file the run had created, removed with its tables
    removed_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "run_id": self.run_id,
            "target": self.target,
            "dropped": self.dropped,
            "removed_file": self.removed_file,
        }
