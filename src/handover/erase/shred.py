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
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import handover.erase.messages  # noqa: F401  (registers the texts)
from handover import __version__
from handover.erase.certificate import FORMAT, VERSION, ledger_section, sign_certificate
from handover.erase.control import (
    Actor,
    Gate,
    authorize_executor,
    check_gate,
    check_known,
    dual_control,
)
from handover.erase.database import Database, Destroyed, SQLiteDatabase, open_database
from handover.erase.files import FileOutcome, OverwriteHook, overwrite_tree
from handover.erase.methods import METHODS, limit_json
from handover.erase.plan import Plan, Scope, make_plan
from handover.erase.samples import (
    SAMPLES,
    SampleSet,
    SearchResult,
    draw_samples,
    identifier_columns,
    search_files,
    search_tables,
)
from handover.errors import CheckFailed, HandoverError
from handover.i18n import t

if TYPE_CHECKING:
    from handover.workspace import Workspace

Clock = Callable[[], dt.datetime]
PURPOSE = "数据销毁 / data destruction after the transfer (PIPL Art. 47)"


def _utcnow() -> dt.datetime:
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
            "verification": self.verification,
            "certificate": str(self.certificate_dir) if self.certificate_dir else None,
            "outputs": [str(p) for p in self.outputs],
            "ledger_seqs": self.ledger_seqs,
            **self.counts(),
        }


def plan_shred(
    ws: Workspace,
    scope: Scope,
    *,
    force: bool = False,
    reason: str | None = None,
    lang: str | None = None,
) -> tuple[Plan, Gate]:
    """The plan and the verify gate's state, without changing anything.

    Refused (exit 3) for a source/target unknown to the transfer (see :func:`check_known`).
    """
    language = lang or ws.settings.lang
    check_known(
        ws, scope.source, scope.target, scope.paths, force=force, reason=reason, lang=language
    )
    plan = make_plan(ws, scope)
    gate = Gate(needed=bool(plan.source_items()))
    if scope.source and gate.needed:
        try:
            gate = check_gate(
                ws,
                scope.source,
                [i.table or "" for i in plan.source_items()],
                target=scope.target,
                lang=language,
            )
        except Exception as exc:  # Refused: shown in the plan, not raised
            gate.problem = exc.render(language) if isinstance(exc, HandoverError) else str(exc)
    return plan, gate


class _Run:
    """State of one run while it executes (ledger seqs, outcomes, run row)."""

    def __init__(self, ws: Workspace, run_id: str, actor: str, clock: Clock) -> None:
        self.ws, self.run_id, self.actor, self.clock = ws, run_id, actor, clock
        self.seqs: list[int] = []

    def record(self, action: str, subject: str, details: dict[str, Any]) -> int:
        from handover.ledger import record

        e = record(
            self.ws, self.actor, action, subject, PURPOSE, {"run_id": self.run_id, **details}
        )
        self.seqs.append(e.seq)
        return e.seq


def shred(
    ws: Workspace,
    scope: Scope,
    *,
    executed_by: str | None = None,
    validated_by: str | None = None,
    force: bool = False,
    reason: str | None = None,
    samples: int = SAMPLES,
    seed: int | None = None,
    passes: int = 1,
    lang: str | None = None,
    clock: Clock = _utcnow,
    hook: OverwriteHook | None = None,
    out_dir: Path | None = None,
) -> ShredResult:
    """Destroy what the plan lists, verify, and write the signed certificate.

    Refused (exit 3), with nothing destroyed, for a source/target unknown to the transfer
    or a path that does not exist, without a passing verify of the source (unless ``force``
    with a ``reason``), or when executor and validator are the same person; CheckFailed
    (exit 1) after the certificate is written if any sampled identifier is still found.
    ``samples`` identifiers are drawn in total (all candidates when fewer exist).
    """
    from handover.erase.models import EraseItemRow, EraseRunRow

    language = lang or ws.settings.lang
    from handover.errors import BadInput

    if passes < 1:
        raise BadInput.msg("erase.passes")
    if samples < 0:
        raise BadInput.msg("erase.samples")
    check_known(
        ws, scope.source, scope.target, scope.paths, force=force, reason=reason, lang=language
    )
    source, media = scope.source, scope.media
    db: Database | None = (
        open_database(source) if source and (media is None or "source" in media) else None
    )
    try:
        plan = make_plan(ws, scope, db=db)
        executor, validator = dual_control(ws, executed_by, validated_by, lang=language)
        authz = authorize_executor(ws, executor)
        src_items = plan.source_items()
        gate = Gate(needed=False)
        if source and src_items:
            gate = check_gate(
                ws,
                source,
                [i.table or "" for i in src_items],
                target=scope.target,
                force=force,
                reason=reason,
                lang=language,
            )
        started = clock()
        run_id = f"shred-{started.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        run = _Run(ws, run_id, executor.name, clock)
        with ws.store.session() as s:
            s.add(
                EraseRunRow(
                    id=run_id,
                    started_at=started,
                    status="running",
                    source=plan.source,
                    executed_by=executor.name,
                    validated_by=validator.name,
                    forced=gate.forced,
                    force_reason=gate.reason,
                    plan=plan.to_json(),
                    summary={},
                )
            )
            s.flush()
            for n, it in enumerate(plan.items):
                s.add(
                    EraseItemRow(
                        run_id=run_id,
                        idx=n,
                        medium=it.medium,
                        subject=it.subject[:2000],
                        action=it.action,
                        method=it.method,
                        status="planned" if it.action == "destroy" else "retained",
                        rows=it.rows,
                        bytes=it.bytes,
                        details=it.to_json(),
                    )
                )
        result = ShredResult(run_id, plan, gate, executor, validator)
        result.database_version = db.version if db is not None else None
        try:
            _execute(
                ws,
                run,
                plan,
                db,
                result,
                gate,
                authz,
                samples=samples,
                seed=seed if seed is not None else secrets.randbits(32),
                passes=passes,
                hook=hook,
            )
            if db is not None:
                db.close()
                db = None
            finished = clock()
            result.ledger_seqs = sorted(
                set(run.seqs + ([gate.seq] if gate.seq is not None else []))
            )
            folder = out_dir or (ws.settings.reports_dir / "certificates" / run_id)
            doc = _certificate(ws, result, started, finished, language)
            doc["ledger"] = ledger_section(ws, result.ledger_seqs)
            _body, sig = sign_certificate(ws, doc, folder)
            result.certificate_dir = folder
            result.certificate = doc
            from handover.reports.certificate import write_renderings

            result.outputs = [
                folder / "certificate.json",
                folder / "certificate.sig",
                *write_renderings(doc, sig, folder),
            ]
            run.record(
                "erase.certificate",
                run_id,
                {
                    "sha256": sig["sha256"],
                    "folder": str(folder),
                    "files": [p.name for p in result.outputs],
                },
            )
            with ws.store.session() as s:
                row = s.get(EraseRunRow, run_id)
                assert row is not None
                row.status = "done" if result.passed else "verify_failed"
                row.finished_at = finished
                row.summary = {**result.counts(), "samples": result.samples, "found": result.found}
                row.certificate = str(folder)
                row.certificate_sha256 = sig["sha256"]
                for item in s.query(EraseItemRow).filter(EraseItemRow.run_id == run_id):
                    if item.action == "destroy":
                        item.status = "done"
        except BaseException as exc:
            try:
                run.record("erase.failed", run_id, {"error": type(exc).__name__})
            finally:
                with ws.store.session() as s:
                    row = s.get(EraseRunRow, run_id)
                    if row is not None:
                        row.status = "failed"
                        row.finished_at = clock()
            raise
    finally:
        if db is not None:
            db.close()
    if not result.passed:
        raise CheckFailed(
            t("erase.found", language, found=result.found, cert=result.certificate_dir)
        )
    return result


def _execute(
    ws: Workspace,
    run: _Run,
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
) -> None:
    destroy = plan.destroy
    run.record(
        "erase.start",
        plan.source or str(ws.path.name),
        {
            "source": plan.source,
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
        outcome = db.destroy(drop, delete)
        method = src_items[0].method
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

        with Keys(ws) as keys:
            for i in key_items:
                assert i.key_id is not None
                keys.destroy(i.key_id, f"handover shred {run.run_id}", actor=run.actor)
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
        outs = overwrite_tree(i.path, passes=passes, needles=needles, hook=hook)
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
            }
        )
        found += search.found + len(still)
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
        "passed": found == 0 and files_ok and paths_gone and keys_ok,
        "checks": checks,
        "note": "samples held in memory only; never written, hashed or logged",
    }


def _certificate(
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
        "verification": result.verification,
        "methods": {k: METHODS[k].to_json() for k in used if k in METHODS},
        "limits": [limit_json(k) for k in limits],
    }
