"""``handover shred``: destroy the transfer's data, verify it is gone, certify it.

Order of a run: plan → dual control and authorisation → verify gate → identifiers
sampled (in memory) → source tables/rows destroyed → keys crypto-erased → files
overwritten → verification (raw bytes / table data / read-back) → retained items frozen
→ ledger events with inclusion proofs → signed certificate (JSON + signature + HTML +
PDF, zh-CN and en). See docs/erase.md.
"""

from __future__ import annotations

import datetime as dt
import platform
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover import __version__
from handover.crypto.files import FileOutcome, OverwriteHook, overwrite_tree
from handover.db.url import located
from handover.erase.certificate import FORMAT, VERSION
from handover.erase.control import Actor, Gate
from handover.erase.database import Database, Destroyed, SQLiteDatabase
from handover.erase.methods import METHODS, limit_json
from handover.erase.plan import Plan
from handover.erase.samples import (
    SampleSet,
    SearchResult,
    draw_samples,
    identifier_columns,
    search_files,
    search_tables,
)
from handover.progress import NoProgress, Progress

if TYPE_CHECKING:
    from handover.ledger import Recorder
    from handover.workspace import Workspace

Clock = Callable[[], dt.datetime]
PURPOSE = "数据销毁 / data destruction after the transfer (PIPL Art. 47)"


def utcnow() -> dt.datetime:
    """The real clock, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass
class ShredResult:
    """A finished run: what was destroyed and kept, the verification, the certificate."""

    run_id: str
    plan: Plan
    gate: Gate
    executor: Actor
    validator: Actor
    destroyed: list[dict[str, Any]] = field(default_factory=list)
    files: list[FileOutcome] = field(default_factory=list)
    verification: dict[str, Any] = field(default_factory=dict)
    certificate_dir: Path | None = None
    certificate: dict[str, Any] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)
    ledger_seqs: list[int] = field(default_factory=list)
    database_version: str | None = None

    @property
    def samples(self) -> int:
        return int(self.verification.get("samples", 0))

    @property
    def found(self) -> int:
        return int(self.verification.get("found", 0))

    @property
    def passed(self) -> bool:
        return bool(self.verification.get("passed", False))

    def counts(self) -> dict[str, int]:
        """Totals for the summary line."""
        tables = [d for d in self.destroyed if d["medium"] in ("table", "rows")]
        return {
            "tables": len(tables),
            "rows": sum(int(d.get("rows") or 0) for d in tables),
            "files": len(self.files),
            "bytes": sum(f.size for f in self.files),
            "keys": sum(1 for d in self.destroyed if d["medium"] == "key"),
        }

    def to_json(self) -> dict[str, Any]:
        """``--json`` form (no sampled value)."""
        return {
            "run_id": self.run_id,
            "gate": self.gate.to_json(),
            "executed_by": self.executor.to_json(),
            "validated_by": self.validator.to_json(),
            "destroyed": self.destroyed,
            "retained": [i.to_json() for i in self.plan.retain],
            "not_destroyed": [i.to_json() for i in self.plan.unreached],
            "verification": self.verification,
            "certificate": str(self.certificate_dir) if self.certificate_dir else None,
            "outputs": [str(p) for p in self.outputs],
            "ledger_seqs": self.ledger_seqs,
            **self.counts(),
        }


class ShredRun:
    """One run while it executes: its id and the ledger entries it recorded (whose
    inclusion proofs go into the certificate)."""

    def __init__(self, run_id: str, events: Recorder) -> None:
        self.run_id, self.events = run_id, events
        self.seqs: list[int] = []

    def record(self, action: str, subject: str, details: dict[str, Any]) -> int:
        """Record one step of the run; returns its ledger sequence number."""
        e = self.events(action, subject, PURPOSE, {"run_id": self.run_id, **details})
        self.seqs.append(e.seq)
        return e.seq


def execute(
    ws: Workspace,
    run: ShredRun,
    plan: Plan,
    db: Database | None,
    result: ShredResult,
    gate: Gate,
    authz: dict[str, Any] | None,
    *,
    samples: int,
    seed: int,
    passes: int,
    hook: OverwriteHook | None,
    progress: Progress | None = None,
) -> None:
    """Destroy what ``plan`` lists (source tables and rows, keys, then files), verify by
    searching the sampled identifiers, freeze what is retained; every step a ledger event
    of ``run``. ``progress``: a task per destroyed item (rows or bytes)."""
    prog: Progress = progress or NoProgress()
    destroy = plan.destroy
    run.record(
        "erase.start",
        plan.source or str(ws.path.name),
        {
            "source": plan.source,
            "located": located(source=plan.spec if plan.source else None),
            "executed_by": result.executor.name,
            "validated_by": result.validator.name,
            "authorization": authz,
            "gate": gate.to_json(),
            "destroy": len(destroy),
            "retain": len(plan.retain),
        },
    )
    drawn = SampleSet()
    src_items = plan.source_items()
    outcome: Destroyed | None = None
    if db is not None and src_items:
        cols = identifier_columns(ws, db, [i.table or "" for i in src_items])
        keep_filters = {i.table or "": i.keep for i in src_items}
        kept: dict[str, str | None] = {}
        for i in plan.retain:
            if i.table and i.medium == "table":
                kept[i.table] = None
            elif i.table and i.medium == "rows":
                kept[i.table] = i.keep
        drawn = draw_samples(db, cols, keep_filters, samples=samples, seed=seed, kept=kept)
        drop = [i.table or "" for i in src_items if i.medium == "table"]
        delete = {i.table or "": i.keep or "1=0" for i in src_items if i.medium == "rows"}
        prog.task(plan.source or "source", sum(int(i.rows or 0) for i in src_items))
        method = src_items[0].method
        if method == db.sql.sanitization_whole:
            outcome = db.destroy_whole(drop)
        else:
            outcome = db.destroy(drop, delete)
        prog.advance(plan.source or "source", sum(int(i.rows or 0) for i in src_items))
        for i in src_items:
            name = i.table or ""
            rows = outcome.dropped.get(name, outcome.deleted.get(name, 0))
            seq = run.record(
                "erase.table" if i.medium == "table" else "erase.rows",
                i.subject,
                {"method": method, "rows": rows, "kept_rows": i.kept_rows},
            )
            result.destroyed.append({**i.to_json(), "rows": rows, "ledger_seq": seq})
    # Keys before files: a surviving copy of a package is unreadable once its keys are gone.
    key_items = [i for i in destroy if i.medium == "key"]
    if key_items:
        from handover.crypto import Keys
        from handover.ledger import entries

        with Keys(ws, events=run.events) as keys:
            for i in key_items:
                assert i.key_id is not None
                keys.destroy(i.key_id, f"handover shred {run.run_id}")
                seq = [e.seq for e in entries(ws, action="key.destroy") if e.subject == i.key_id][
                    -1
                ]
                run.seqs.append(seq)
                state = keys.get(i.key_id).state
                result.destroyed.append({**i.to_json(), "state": state, "ledger_seq": seq})
    needles = [s.needles for s in drawn.samples]
    for i in destroy:
        if i.path is None:
            continue
        prog.task(i.subject, int(i.bytes or 0))
        outs = overwrite_tree(i.path, passes=passes, needles=needles, hook=hook)
        prog.advance(i.subject, sum(o.size for o in outs))
        result.files += outs
        seq = run.record(
            "erase.file",
            i.subject,
            {
                "medium": i.medium,
                "files": len(outs),
                "bytes": sum(o.size for o in outs),
                "passes": passes,
                "readback_ok": all(o.readback_ok for o in outs),
            },
        )
        result.destroyed.append(
            {
                **i.to_json(),
                "overwritten_bytes": sum(sum(o.passes) for o in outs),
                "passes": passes,
                "readback_ok": all(o.readback_ok for o in outs),
                "path_gone": not i.path.exists(),
                "ledger_seq": seq,
            }
        )
    result.verification = _verify(ws, db, plan, drawn, result, outcome)
    drawn.clear()
    run.record("erase.verify", plan.source or str(ws.path.name), result.verification)
    frozen = [
        i.table or "" for i in plan.retain if i.medium == "table" and i.method == "retain.freeze"
    ]
    notes = db.freeze(frozen) if db is not None else []
    if plan.retain:
        run.record(
            "erase.freeze",
            plan.source or str(ws.path.name),
            {
                "items": [
                    {
                        "medium": i.medium,
                        "subject": i.subject,
                        "rule": i.rule.id if i.rule else None,
                        "until": i.rule.until.isoformat() if i.rule and i.rule.until else None,
                    }
                    for i in plan.retain
                ],
                "database": notes,
            },
        )
    run.record(
        "erase.done",
        plan.source or str(ws.path.name),
        {
            **result.counts(),
            "samples": result.samples,
            "found": result.found,
            "passed": result.passed,
        },
    )


def _verify(
    ws: Workspace,
    db: Database | None,
    plan: Plan,
    samples: SampleSet,
    result: ShredResult,
    outcome: Destroyed | None,
) -> dict[str, Any]:
    checks: list[dict[str, Any]] = []
    found = 0
    source_ok = True
    if db is not None and outcome is not None:
        search: SearchResult
        if isinstance(db, SQLiteDatabase):
            search = search_files(db.residual_files(), samples.samples)
        else:
            search = search_tables(db, samples.samples)
        left = {t.lower() for t in db.tables()}
        still = sorted(t for t in outcome.dropped if t.lower() in left)
        checks.append(
            {
                "what": "source",
                **search.to_json(),
                "dropped_tables_still_present": still,
                "steps": outcome.steps,
                "notes": outcome.notes,
                "bytes_before": outcome.bytes_before,
                "bytes_after": outcome.bytes_after,
                "readback_ok": outcome.readback_ok,
            }
        )
        found += search.found + len(still)
        source_ok = outcome.readback_ok
    for f in result.files:
        found += f.samples_found
    files_ok = all(f.readback_ok and f.removed for f in result.files)
    paths_gone = all(d.get("path_gone", True) for d in result.destroyed)
    checks.append(
        {
            "what": "files",
            "method": "read-back after overwrite; former path absent",
            "files": len(result.files),
            "readback_ok": files_ok,
            "paths_gone": paths_gone,
            "samples_found": sum(f.samples_found for f in result.files),
        }
    )
    keys_ok = all(d.get("state") == "destroyed" for d in result.destroyed if d["medium"] == "key")
    checks.append(
        {
            "what": "keys",
            "method": "key registry state is destroyed (tombstone)",
            "keys": sum(1 for d in result.destroyed if d["medium"] == "key"),
            "all_destroyed": keys_ok,
        }
    )
    return {
        "samples": len(samples.samples),
        "samples_by_type": samples.by_type(),
        "sample_columns": samples.columns,
        "excluded_in_kept_data": samples.excluded,
        "found": found,
        "passed": found == 0 and source_ok and files_ok and paths_gone and keys_ok,
        "checks": checks,
        "note": "samples held in memory only; never written, hashed or logged",
    }


def certificate_doc(
    ws: Workspace, result: ShredResult, started: dt.datetime, finished: dt.datetime, lang: str
) -> dict[str, Any]:
    tr = ws.settings.transfer
    used = sorted({d["method"] for d in result.destroyed} | {i.method for i in result.plan.retain})
    limits = sorted({k for m in used if m in METHODS for k in METHODS[m].limits})
    return {
        "format": FORMAT,
        "version": VERSION,
        "certificate_id": result.run_id,
        "title": {"zh-CN": "数据销毁证明", "en": "Certificate of sanitization"},
        "standard": "NIST SP 800-88 Rev. 1 (clear / purge / cryptographic erase)",
        "language": lang,
        "transfer": {
            "name": tr.name if tr else None,
            "seller": tr.seller.name if tr else None,
            "buyer": tr.buyer.name if tr else None,
        },
        "where": {
            "host": socket.gethostname(),
            "workspace": str(ws.path.resolve()),
            "source": result.plan.source,
            "dialect": result.plan.dialect,
        },
        "tool": {
            "name": "handover",
            "version": __version__,
            "python": platform.python_version(),
            "sqlite": __import__("sqlite3").sqlite_version,
            "database": result.database_version,
        },
        "times": {
            "started_at": started.astimezone(dt.UTC).isoformat(),
            "finished_at": finished.astimezone(dt.UTC).isoformat(),
        },
        "people": {
            "executed_by": result.executor.to_json(),
            "validated_by": result.validator.to_json(),
        },
        "verify_gate": result.gate.to_json(),
        "destroyed": result.destroyed,
        "retained": [i.to_json() for i in result.plan.retain],
        # copies handover wrote (ledger) that this run could not reach: not destroyed
        "not_destroyed": [i.to_json() for i in result.plan.unreached],
        "verification": result.verification,
        "methods": {k: METHODS[k].to_json() for k in used if k in METHODS},
        "limits": [limit_json(k) for k in limits],
    }
