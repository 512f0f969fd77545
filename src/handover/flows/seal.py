"""``handover seal`` / ``handover backup``: authorise, open the source, take its scan
inventory, seal (:func:`handover.package.seal.seal_reader`), record ``package.seal``."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from handover.claims import Claim, claiming, uses
from handover.db.url import located, mask
from handover.engine import Executor, executor_for
from handover.errors import BadInput
from handover.flows.scan import inventory_for
from handover.governance import Decision, data_resource, require
from handover.ledger import Recorder
from handover.package.seal import (
    Clock,
    SealResult,
    open_reader,
    skipped_rows,
    utcnow,
)
from handover.progress import Progress
from handover.sources import PLAIN, FileReading
from handover.workspace import Workspace


def authorize_seal(
    ws: Workspace,
    tables: list[str] | None = None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    """The decision a seal needs: ``seal`` on ``tables`` (default every tier) in clear."""
    return require(
        ws, "seal", data_resource(tables, "clear"), actor=actor, now=now, authorized=authorized
    )


def seal_target(out: str | Path) -> Path:
    """The package folder a seal may create: it must not exist, its parent must
    (BadInput naming the path otherwise)."""
    from handover.reports.tables import out_folder

    out = Path(out)
    if out.exists():
        raise BadInput.msg("package.exists", path=out)
    if not out.parent.is_dir():
        raise BadInput.msg("package.no_folder", path=out.parent)
    out_folder(out.parent, create=False)  # a folder one cannot write in: named, before sealing
    return out


def seal_claims(source: str | Path, out: str | Path, **_: object) -> tuple[Claim, ...]:
    """What sealing ``source`` into ``out`` holds while it runs (:mod:`handover.claims`)."""
    return uses((source,), (out,))


@claiming("seal", seal_claims)
def seal(
    ws: Workspace,
    source: str | Path,
    out: str | Path,
    *,
    purpose: str = "transfer",
    tables: list[str] | None = None,
    clock: Clock = utcnow,
    progress: Progress | None = None,
    authorized: Decision | None = None,
    reading: FileReading = PLAIN,
    executor: str | Executor | None = None,
    resume: str | None = None,
) -> SealResult:
    """Seal ``source`` into the package folder ``out`` (which must not exist); see docs/package.md.

    Authorised first as ``seal`` on the tables (default every tier) in clear;
    ``authorized``: the decision of the command this seal is a step of (backup,
    migrate's backup). ``reading``: how file tables are read (:class:`FileReading`: the
    unreadable rows a table may lose, each listed in the result and the ledger event, more
    failing before anything is written; a CSV without header).
    Records ``package.seal`` in the ledger. ``executor``: where the kernels run (see
    :func:`handover.flows.scan.run_scan`); on a cluster each shard is one file and
    ``resume`` (a run id) continues a run whose scheduler was lost.
    """
    from handover.engine.seal import seal as engine_seal
    from handover.engine.worker import source_ref

    out = seal_target(out)
    decision = authorize_seal(ws, tables, authorized=authorized)
    events = Recorder(ws, decision.actor)
    shown = mask(str(source))
    with executor_for(executor, ws.settings) as ex:
        if resume is not None and not ex.sharded:
            raise BadInput.msg("engine.resume_local", run=resume)
        reader = open_reader(source, tables, reading=reading)
        try:
            defs = reader.schema()
            if not defs:
                raise BadInput.msg("package.no_tables", source=shown)
            cols, scan_id = inventory_for(
                ws, source, authorized=decision, reading=reading, executor=ex, defs=defs
            )
            ref = source_ref(ws, str(source), shown, events) if ex.sharded else None
            result = engine_seal(
                ws,
                reader,
                defs,
                out,
                executor=ex,
                ref=ref,
                tiers={k: v["tier"] for k, v in cols.items()},
                scan_id=scan_id,
                shown=shown,
                events=events,
                purpose=purpose,
                clock=clock,
                progress=progress,
                reading=reading,
                resume=resume,
            )
            result.skipped = skipped_rows(reader)
        finally:
            reader.close()
        where = mask(ex.name)
    events(
        "package.seal",
        result.package_id,
        purpose,
        {
            # where the copy was written, absolute: shred finds every package from here
            "package": str(out.resolve()),
            "source": shown,
            "located": located(source=shown),
            "tables": len(result.tables),
            "rows": result.rows,
            "bytes": result.bytes,
            "column_keys": result.keys,
            "footer_key": result.footer_key,
            "suite": result.suite,
            "scan_id": scan_id,
            "skipped_rows": result.skipped,
            **(
                {"tables_without_columns": result.without_columns} if result.without_columns else {}
            ),
            **({"executor": where} if where != "local" else {}),
        },
    )
    return result


def backup(
    ws: Workspace,
    source: str | Path,
    *,
    name: str | None = None,
    clock: Clock = utcnow,
    authorized: Decision | None = None,
) -> SealResult:
    """Seal ``source`` as a backup into the workspace's packages folder (``backup-<stamp>``).

    Authorised as ``seal`` of the whole source in clear (``authorized``: migrate's decision).
    """
    decision = require(ws, "seal", data_resource(None, "clear"), authorized=authorized)
    folder = ws.settings.packages_dir
    folder.mkdir(parents=True, exist_ok=True)
    label = name or f"backup-{clock().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    return seal(ws, source, folder / label, purpose="backup", clock=clock, authorized=decision)
