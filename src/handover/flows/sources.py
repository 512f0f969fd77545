"""What a step reads: a database URL, a SQLite file, or a sealed package folder (opened
with the workspace's keys)."""

from __future__ import annotations

from pathlib import Path

from handover.migrate.reader import DatabaseSource, MigrationSource
from handover.package.source import PackageSource, is_package
from handover.workspace import Workspace


def open_migration_source(
    ws: Workspace, spec: str | Path, tables: list[str] | None = None
) -> MigrationSource:
    """The typed reader of ``spec``: a package folder through its keys, else the database."""
    if is_package(spec):
        return PackageSource(ws, spec, tables)
    return DatabaseSource(spec, tables)
