"""Migrate: copy a database into SQLite, PostgreSQL or MariaDB with checkpoints and resume.

``migrate(ws, source, target, options)`` is the one entry point; see docs/migrate.md.
"""

from handover.migrate.backup import backup_available, take_backup
from handover.migrate.migrate import MigrateOptions, MigrateResult, TableResult, migrate
from handover.migrate.reader import DatabaseSource, MigrationSource, Reject, SourceBatch
from handover.migrate.schema import ColumnDef, ForeignKeyDef, IndexDef, TableDef

__all__ = [
    "ColumnDef",
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
    "backup_available",
    "migrate",
    "take_backup",
]
