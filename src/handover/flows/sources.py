"""What a step reads: a database URL, a SQLite file, or a sealed package folder (opened
with the workspace's keys)."""

from __future__ import annotations

from pathlib import Path

from handover.db.url import backend
from handover.migrate.reader import DatabaseSource, MigrationSource
from handover.package.source import PackageSource, is_package
from handover.workspace import Workspace


def open_migration_source(
    ws: Workspace, spec: str | Path, tables: list[str] | None = None, *, target: str = ""
) -> MigrationSource:
    """The typed reader of ``spec``: a package folder through its keys, else the database.
    ``target``: the URL it is copied into (a SQLite source is not scanned for date/time
    spellings when that is SQLite too: the stored text is copied as it is)."""
    if is_package(spec):
        return PackageSource(ws, spec, tables)
    into_sqlite = bool(target) and backend(target) == "sqlite"
    return DatabaseSource(spec, tables, spellings=not into_sqlite)
