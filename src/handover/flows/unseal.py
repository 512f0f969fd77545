"""``handover unseal`` / ``handover restore``: a package into SQLite, PostgreSQL or MariaDB.

Order of work (docs/package.md, "Unsealing"): check the package completely before the
target is touched; write through the migrate flow (a step of this decision); read every
table back from the target (:func:`handover.package.unseal.read_back`) and only then
record ``package.unseal``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handover.claims import Claim, claiming, uses
from handover.db.reflect import check_sqlite_file
from handover.db.url import located, mask, to_url
from handover.flows.migrate import migrate
from handover.governance import data_resource, require
from handover.ledger import record
from handover.migrate.results import MigrateOptions
from handover.package.source import PackageCheck, load_manifest, verify_package
from handover.package.unseal import read_back
from handover.progress import Progress
from handover.results import PerTableRows
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


def unseal_claims(package: str | Path, target: str, **_: object) -> tuple[Claim, ...]:
    """What restoring ``package`` into ``target`` holds while it runs: from the package's
    check to the target's read-back, not only while the migration writes."""
    return uses((package,), (target,))


@claiming("unseal", unseal_claims)
def unseal(
    ws: Workspace,
    package: str | Path,
    target: str,
    *,
    tables: list[str] | None = None,
    action: str = "package.unseal",
    progress: Progress | None = None,
    own_process: bool = False,
) -> UnsealResult:
    """Check ``package`` fully, then restore it into ``target`` and check the target's rows.

    ``own_process``: the caller has its process to itself (the CLI): see
    ``MigrateOptions.own_process``.

    Authorised first as ``unseal`` on the tables (default every tier) in clear; the
    migration that writes the target is a step of this decision. Raises CheckFailed
    (exit 1) for any integrity problem — before writing when the package is at fault.
    Records ``action`` in the ledger once the read-back agrees.
    """
    decision = require(ws, "unseal", data_resource(tables, "clear"))
    t0 = time.perf_counter()
    pkg = Path(package)
    check_sqlite_file(target)  # before the package's long check: a file no database
    check = verify_package(ws, pkg, deep=True, row_sets=True)
    manifest = load_manifest(ws, pkg)
    run = migrate(
        ws,
        str(pkg),
        target,
        MigrateOptions(tables=tables, own_process=own_process),
        progress=progress,
        authorized=decision,
    )
    shown = mask(to_url(target))
    sets = {e["name"]: str(e["row_set"]) for e in check.tables}
    readback = read_back(manifest, to_url(target), shown, tables, sets)
    result = UnsealResult(
        package=pkg,
        package_id=manifest.package_id,
        target=shown,
        run_id=run.run_id,
        check=check,
        tables=readback,
        seconds=time.perf_counter() - t0,
    )
    record(
        ws,
        decision.actor,
        action,
        manifest.package_id,
        manifest.purpose,
        {
            "package": str(pkg),
            "target": shown,
            "located": located(target=shown),
            "migrate_run": run.run_id,
            "tables": len(readback),
            "rows": result.rows,
            "column_keys": manifest.crypto.get("column_keys"),
            "footer_key": manifest.crypto.get("footer_key"),
        },
    )
    return result


@claiming("unseal.check", lambda package, **_: uses((package,)))
def check_package(ws: Workspace, package: str | Path) -> PackageCheck:
    """``handover unseal --check-only``: the package's full check (signature, hashes,
    every table decrypted and its row digests), holding the package while it runs (a
    shred then waits for it)."""
    return verify_package(ws, Path(package))


def restore(
    ws: Workspace,
    package: str | Path,
    target: str,
    *,
    progress: Progress | None = None,
    own_process: bool = False,
) -> UnsealResult:
    """Restore a backup package (``handover restore``): unseal (and authorised as ``unseal``),
    recorded as ``package.restore``."""
    return unseal(
        ws, package, target, action="package.restore", progress=progress, own_process=own_process
    )
