"""``handover scan``: authorise, scan, store the inventory, write the report, record it;
and the inventory that seal and dd-extract need (never guessed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.claims import Claim, claiming, uses
from handover.db.url import mask, place
from handover.detect.scan import DEFAULT_SAMPLE, DEFAULT_SEED, Inventory
from handover.detect.store import inventory_reading, latest_inventory, save_inventory
from handover.engine import Executor, executor_for
from handover.errors import BadInput
from handover.governance import Decision, data_resource, require
from handover.ledger import record
from handover.progress import Progress
from handover.reports.inventory import write_inventory_reports
from handover.sources import PLAIN, FileReading
from handover.workspace import Workspace

if TYPE_CHECKING:
    from handover.db.reflect import TableDef

Columns = dict[tuple[str, str], dict[str, Any]]


def authorize_scan(
    ws: Workspace,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    """The decision a scan needs: ``scan.evidence`` on every tier, masked (the scan reads
    values and keeps masked evidence); Refused otherwise, ledgered either way."""
    return require(
        ws,
        "scan.evidence",
        data_resource(None, "masked"),
        actor=actor,
        now=now,
        authorized=authorized,
    )


def scan_claims(spec: str | Path, **_: object) -> tuple[Claim, ...]:
    """What a scan of ``spec`` holds while it runs (:mod:`handover.claims`)."""
    return uses((spec,))


@claiming("scan", scan_claims)
def run_scan(
    ws: Workspace,
    spec: str | Path,
    *,
    full: bool = False,
    sample: int = DEFAULT_SAMPLE,
    seed: int = DEFAULT_SEED,
    lang: str | None = None,
    out_dir: Path | None = None,
    progress: Progress | None = None,
    authorized: Decision | None = None,
    reading: FileReading = PLAIN,
    actor: str | None = None,
    executor: str | Executor | None = None,
    resume: str | None = None,
) -> Inventory:
    """Scan ``spec``, store the inventory, write the XLSX+HTML report, record ``scan.run``.

    Authorised first as ``scan.evidence`` on ``C1,C2,C3/masked`` (the scan reads values
    and keeps masked evidence); ``authorized`` is the decision of a command this scan
    is a step of (seal, dd-extract), which then covers it. ``reading``: how file tables
    are read (the rows each may lose, a CSV without header; :class:`FileReading`).
    ``executor``: where the kernels run (``local``, ``dask://host:port``, an open
    :class:`~handover.engine.Executor`; default the ``executor`` setting). On a cluster
    a ``full`` run is recorded in the store shard by shard; ``resume``: the id of such a
    run whose scheduler was lost, whose recorded shards are not read again
    (docs/scale.md). A sample-only scan keeps nothing to resume: it is run again.
    """
    from handover.engine.runs import recorded
    from handover.engine.scan import scan
    from handover.engine.worker import source_ref
    from handover.ledger import Recorder

    decision = authorize_scan(ws, actor=actor, authorized=authorized)
    shown = mask(str(spec))
    with executor_for(executor, ws.settings) as ex:
        kw: dict[str, Any] = {
            "full": full,
            "sample": sample,
            "seed": seed,
        }
        if not ex.sharded:
            if resume is not None:
                raise BadInput.msg("engine.resume_local", run=resume)
            inv = scan(spec, executor=ex, progress=progress, reading=reading, **kw)
        else:
            ref = source_ref(ws, str(spec), shown, Recorder(ws, decision.actor))
            if not full and resume is None:
                # samples only: nothing a resume would keep (a lost scheduler: run it again)
                inv = scan(spec, executor=ex, ref=ref, progress=progress, reading=reading, **kw)
            else:
                args = {"source": shown, **kw, **reading.to_options()}
                with recorded(
                    ws, "scan", ex, resume=resume, source=shown, target="", args=args
                ) as run:
                    inv = scan(
                        spec,
                        executor=ex,
                        ref=ref,
                        progress=progress,
                        run=run,
                        reading=reading,
                        **kw,
                    )
    inv.located = place(spec)
    inv.header, inv.escapes = reading.header, reading.escapes
    language = lang or ws.settings.lang
    target = out_dir or ws.settings.reports_dir
    inv.reports = write_inventory_reports(inv, target, language)
    inv.scan_id = save_inventory(ws, inv)
    details = {**inv.counts(), "scan_id": inv.scan_id, "located": {"source": inv.located}}
    if ex.sharded:
        details["executor"] = mask(ex.name)
    record(ws, decision.actor, "scan.run", inv.source, "inventory", details)
    return inv


def _of(inv: dict[str, Any], spec: str | Path, reading: FileReading) -> bool:
    """Whether the stored inventory ``inv`` was taken of ``spec`` read as ``reading`` reads
    it (a CSV read without a header row has other columns, one read with MySQL's escapes
    other values); a scan stored before the location was recorded by the spelling it was
    given."""
    if not inventory_reading(inv).alike(reading):
        return False
    where = inv.get("located")
    return where == place(spec) if where else inv.get("source") == mask(str(spec))


def inventory_for(
    ws: Workspace,
    spec: str | Path,
    *,
    authorized: Decision | None = None,
    reading: FileReading = PLAIN,
    actor: str | None = None,
    executor: str | Executor | None = None,
    defs: Iterable[TableDef] = (),
) -> tuple[Columns, int | None]:
    """``{(table, column): {"primary", "tier", "types", "free_text", "sensitive"}}`` and the
    scan id of ``spec``: the newest stored inventory when it was taken of this very source
    (a file by its absolute path: ``./seller.db`` and its full path are one file, the same
    name in another folder is not), read as ``reading`` reads it, and holds every column of
    ``defs`` (the command's tables, as it reads them now),
    else a scan run now as a step of the calling command (its ``authorized`` decision
    covers it; else decided for ``actor``), stored and recorded like any scan. A column
    even that scan did not classify (the source changed meanwhile) is BadInput: a column
    nobody classified is never taken as holding nothing personal.
    """
    wanted = [(d.name, c.name) for d in defs for c in d.columns]
    inv = latest_inventory(ws)
    if inv is None or not _of(inv, spec, reading) or _unscanned(inv, wanted):
        run_scan(
            ws,
            str(spec),
            authorized=authorized,
            actor=actor,
            reading=reading,
            executor=executor,
        )
        inv = latest_inventory(ws)
        assert inv is not None
        missing = _unscanned(inv, wanted)
        if missing:
            raise BadInput.msg(
                "scan.column_not_scanned",
                source=mask(str(spec)),
                table=missing[0],
                column=missing[1],
            )
    cols: Columns = {}
    for tb in inv["tables"]:
        for c in tb["columns"]:
            cols[(tb["name"], c["name"])] = {
                "primary": c.get("primary"),
                "tier": c.get("tier"),
                "types": [p["type"] for p in c.get("pii") or []],
                "free_text": bool(c.get("free_text")),
                "sensitive": bool(c.get("sensitive")),
            }
    return cols, inv.get("scan_id")


def _unscanned(inv: dict[str, Any], columns: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first of ``columns`` (table, column) the stored inventory ``inv`` lacks."""
    have = {(tb["name"], c["name"]) for tb in inv["tables"] for c in tb["columns"]}
    return next((c for c in columns if c not in have), None)
