"""Migrate: copy a database into SQLite, PostgreSQL or MariaDB with checkpoints and resume.

The kernel: :class:`CopyJob` (one run). ``handover.flows.migrate.migrate(ws, source,
target, options)`` is the one entry point; see docs/migrate.md.
"""

from handover.db.reflect import ColumnDef, ForeignKeyDef, IndexDef, TableDef
from handover.migrate.migrate import CopyJob
from handover.migrate.reader import DatabaseSource, MigrationSource, Reject, SourceBatch
from handover.migrate.results import MigrateOptions, MigrateResult, TableResult

__all__ = [
    "ColumnDef",
    "CopyJob",
    "DatabaseSource",
    "ForeignKeyDef",
    "IndexDef",
    "MigrateOptions",
    "MigrateResult",
    "MigrationSource",
    "Reject",
    "SourceBatch",
    "TableDef",
    "TableResult",
]
