"""``handover unseal`` / ``handover restore``: a package into SQLite, PostgreSQL or MariaDB.

Order of work (docs/package.md, "Unsealing"):

1. check the package completely before the target is touched: signature, file set,
   SHA-256 of every file, keys, then decrypt every table and recompute its row count,
   Merkle root and set digest. Any failure: one line, exit 1, nothing written;
2. write through ``handover.migrate`` (its schema creation, bulk writers, checkpoints,
   constraints); the package source recomputes the digests again while it streams and
   refuses before a table is reconciled if anything changed since step 1;
3. read every table back from the target and compare its row count and order-free row
   digest with the manifest; only then is ``package.unseal`` recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import handover.package.messages  # noqa: F401  (registers the texts)
from handover.errors import CheckFailed
from handover.i18n import t
from handover.package.rows import RowSet
from handover.package.source import PackageCheck, verify_package
from handover.results import PerTableRows

if TYPE_CHECKING:
    from handover.migrate.migrate import Progress
    from handover.package.manifest import Manifest
    from handover.workspace import Workspace


@dataclass
class UnsealResult(PerTableRows):
    """The outcome: the package's check, the migration run, and the read-back per table."""

    package: Path
    package_id: str
    target: str
    run_id: str
    check: PackageCheck
    tables: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Machine form: ids, counts, digests."""
        return {
            "package": str(self.package),
            "package_id": self.package_id,
            "target": self.target,
            "migrate_run": self.run_id,
            "tables": self.tables,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "check": self.check.to_json(),
        }


def unseal(
    ws: Workspace,
    package: str | Path,
    target: str,
    *,
    tables: list[str] | None = None,
    lang: str | None = None,
    action: str = "package.unseal",
    progress: Progress | None = None,
) -> UnsealResult:
    """Check ``package`` fully, then restore it into ``target`` and check the target's rows.

    Authorised first as ``unseal`` on the tables (default every tier) in clear; the
    migration that writes the target is a step of this decision. Raises CheckFailed
    (exit 1) for any integrity problem — before writing when the package is at fault.
    Records ``action`` in the ledger once the read-back agrees.
    """
    from handover.governance import data_resource, require
    from handover.migrate import MigrateOptions, migrate
    from handover.migrate.reader import display_url, to_url

    decision = require(ws, "unseal", data_resource(tables, "clear"))
    language = lang or ws.settings.lang
    t0 = time.perf_counter()
    pkg = Path(package)
    check = verify_package(ws, pkg, deep=True, lang=language, row_sets=True)
    from handover.package.source import load_manifest

    manifest = load_manifest(ws, pkg, language)
    run = migrate(
        ws,
        str(pkg),
        target,
        MigrateOptions(tables=tables, lang=language),
        progress=progress,
        authorized=decision,
    )
    shown = display_url(to_url(target))
    sets = {e["name"]: str(e["row_set"]) for e in check.tables}
    readback = read_back(manifest, to_url(target), shown, tables, language, sets)
    result = UnsealResult(
        package=pkg,
        package_id=manifest.package_id,
        target=shown,
        run_id=run.run_id,
        check=check,
        tables=readback,
        seconds=time.perf_counter() - t0,
    )
    from handover.ledger import record

    record(
        ws,
        None,
        action,
        manifest.package_id,
        manifest.purpose,
        {
            "package": str(pkg),
            "target": shown,
            "migrate_run": run.run_id,
            "tables": len(readback),
            "rows": result.rows,
            "column_keys": manifest.crypto.get("column_keys"),
            "footer_key": manifest.crypto.get("footer_key"),
        },
    )
    return result


def restore(
    ws: Workspace,
    package: str | Path,
    target: str,
    *,
    lang: str | None = None,
    progress: Progress | None = None,
) -> UnsealResult:
    """Restore a backup package (``handover restore``): unseal (and authorised as ``unseal``),
    recorded as ``package.restore``."""
    return unseal(ws, package, target, lang=lang, action="package.restore", progress=progress)


def read_back(
    manifest: Manifest,
    url: str,
    shown: str,
    tables: list[str] | None,
    lang: str,
    row_sets: dict[str, str],
) -> list[dict[str, Any]]:
    """Read every restored table from ``url`` and compare its count with the manifest and its
    order-free :class:`RowSet` with ``row_sets`` (computed from the checked package).

    The set digest does not depend on row order, so engines that sort text keys by
    different collations still agree.
    """
    from handover.migrate.reader import DatabaseSource
    from handover.migrate.schema import TableDef

    entries = [e for e in manifest.tables if tables is None or e.name in tables]
    src = DatabaseSource(url, [e.name for e in entries], spellings=False)
    out = []
    try:
        by_name = {d.name: d for d in src.schema()}
        for e in entries:
            want = TableDef.from_json(e.schema)
            got = by_name[e.name]
            digest = RowSet()
            for sb in src.read(got, after=None, batch_size=65_536):
                if sb.rejects:
                    raise CheckFailed(
                        t(
                            "package.target_mismatch",
                            lang,
                            target=shown,
                            table=e.name,
                            what="values",
                        )
                    )
                digest.add_batch(_as(sb.data.select(want.column_names), want, got))
            if digest.count != e.rows:
                raise CheckFailed(
                    t("package.target_mismatch", lang, target=shown, table=e.name, what="rows")
                )
            # the package's own rows, checked against its signed manifest before the restore
            expected = row_sets[e.name]
            if digest.hex() != expected:
                raise CheckFailed(
                    t("package.target_mismatch", lang, target=shown, table=e.name, what="digest")
                )
            out.append({"name": e.name, "rows": digest.count, "row_set": expected})
    finally:
        src.close()
    return out


def _as(data: Any, want: Any, got: Any) -> Any:
    """The target's rows in the package's column types: a date/time the package holds as
    SQLite text is rendered in its recorded spelling, SQLite text read back is parsed."""
    import pyarrow as pa

    from handover.migrate import spelling

    schema = want.arrow_schema
    arrays = []
    for arr, f, col in zip(data.columns, schema, want.columns, strict=True):
        if arr.type != f.type and col.kind in spelling.TEMPORAL:
            if col.stored_text:
                arr = spelling.render(arr, col.kind, col.spelling)
            elif got.column(col.name).stored_text:
                arr = spelling.parse(arr, col.kind)[0]
        arrays.append(arr if arr.type == f.type else arr.cast(f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
