"""Migration runs in the platform store: new ids, finding the run to resume or roll back,
the last runs, rolling a run back, and accepting a failed run's rejects."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from handover.db.reflect import Catalog
from handover.db.url import is_url, mask, to_url
from handover.errors import BadInput, CheckFailed
from handover.i18n import Msg
from handover.migrate.results import (
    REJECT_TABLE,
    RUN_ROW,
    STATE_TABLE,
    MigrateResult,
    RollbackResult,
    TableResult,
    _now,
)
from handover.migrate.writer import TargetWriter

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.workspace import Workspace


def new_run_id() -> str:
    """A fresh migration run id: ``m`` + UTC time + 6 random hex digits."""
    return f"m{_now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def target_url(target: str) -> str:
    """The target as a URL (a path becomes SQLite); BadInput when its folder is missing."""
    if not is_url(target):
        path = Path(target)
        if not path.parent.resolve().is_dir():
            raise BadInput.msg("migrate.no_target_folder", target=target, folder=path.parent)
    return to_url(target)


#: runs a resume continues; a failed run is resumed to accept its rejects or rolled back
UNFINISHED = ("running", "finishing")
OPEN = (*UNFINISHED, "failed")
ALL_STATES = (*OPEN, "done", "rolled_back")


def find_run(
    ws: Workspace,
    run_id: str | None,
    target: str | None,
    *,
    states: tuple[str, ...] = OPEN,
) -> Any:
    """The run to resume or roll back: ``run_id``, else the newest one (on ``target``)
    in ``states`` (an unfinished one first, then a failed one)."""
    from handover.migrate.models import MigrateRun

    with ws.store.session() as s:
        if run_id:
            row = s.get(MigrateRun, run_id)
            if row is None:
                raise BadInput.msg("migrate.unknown_run", run=run_id)
        else:
            row = None
            for wanted in (UNFINISHED, ("failed",)):
                stmt = sa.select(MigrateRun).where(
                    MigrateRun.status.in_([x for x in wanted if x in states])
                )
                if target is not None:
                    stmt = stmt.where(MigrateRun.target == target)
                row = s.scalars(stmt.order_by(MigrateRun.started_at.desc()).limit(1)).first()
                if row is not None:
                    break
            if row is None:
                raise BadInput.msg("migrate.no_run")
        if row.status not in states:
            raise BadInput.msg("migrate.run_finished", run=row.id, status=row.status)
        s.expunge(row)
        return row


def last_runs(ws: Workspace, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent runs, newest first (for ``handover migrate --list``)."""
    from handover.migrate.models import MigrateRun

    with ws.store.session() as s:
        rows = s.scalars(
            sa.select(MigrateRun).order_by(MigrateRun.started_at.desc()).limit(limit)
        ).all()
        return [
            {
                "run_id": r.id,
                "status": r.status,
                "source": r.source,
                "target": r.target,
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            }
            for r in rows
        ]


def _first_reject(path: Path | None) -> dict[str, Any]:
    """The first line of a reject file (empty if there is none)."""
    if path is None or not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        line = fh.readline()
    try:
        first = json.loads(line)
    except ValueError:
        return {}
    return first if isinstance(first, dict) else {}


def rollback(row: Any, engine: sa.Engine, events: EventSink, store: Any) -> RollbackResult:
    """Drop from the target what the unfinished or failed run ``row`` created (its
    tables, which did not exist before it, and its bookkeeping tables), record the run
    ``rolled_back``, and report ``migrate.rollback``; the target is then as the run found
    it. Refused for a finished run and for a target holding another run."""
    from handover.migrate.models import MigrateRun

    if row.status not in OPEN:
        raise BadInput.msg("migrate.rollback_finished", run=row.id, status=row.status)
    creates = row.options.get("creates")
    if not isinstance(creates, list):
        raise BadInput.msg("migrate.rollback_unknown", run=row.id)
    existing = set(Catalog(engine).table_names())
    meta = sa.MetaData()
    state = sa.Table(STATE_TABLE, meta, sa.Column("run_id"), sa.Column("table_name"))
    if STATE_TABLE in existing:
        with engine.connect() as conn:
            other = conn.execute(
                sa.select(state.c.run_id).where(state.c.table_name == RUN_ROW)
            ).scalar()
        if other is not None and other != row.id:
            raise BadInput.msg("migrate.target_busy", run=other)
    drop = [str(n) for n in reversed(creates) if n in existing]
    drop += [n for n in (STATE_TABLE, REJECT_TABLE) if n in existing]
    w = TargetWriter(engine)
    try:
        w.begin()
        for stmt in w.sql.drop_sql([w.q(n) for n in drop]):
            w.execute(stmt)
        w.commit()
    finally:
        w.close()
    with store.session() as s:
        stored = s.get(MigrateRun, row.id)
        if stored is not None:
            stored.status = "rolled_back"
            stored.finished_at = _now()
    shown = mask(engine.url.render_as_string(hide_password=False))
    events("migrate.rollback", row.id, "migration", {"target": shown, "dropped": drop})
    return RollbackResult(row.id, shown, drop)


def rejects_message(run: str, rejects: int, allowed: int, file: Path | None) -> Msg:
    """The refusal of a run with more rejects than allowed: the first one named, the
    reject file, and the two ways forward (keep with a larger allowance, or roll back)."""
    first = _first_reject(file)
    where = (
        Msg(
            "migrate.first_reject",
            table=first.get("table", ""),
            column=first.get("column", "") or "-",
            key=first.get("key", ""),
            reason=first.get("reason", ""),
        )
        if first
        else ""
    )
    return Msg(
        "migrate.rejects_failed",
        run=run,
        rejects=rejects,
        allowed=allowed,
        first=where,
        file=file,
    )


def accept(ws: Workspace, row: Any, allowed: int, events: EventSink) -> MigrateResult:
    """Keep the failed run ``row`` whose copy is complete but had more rejects than it
    allowed, now that ``allowed`` covers them (``--resume RUN --allow-rejects N``);
    CheckFailed again when it does not, BadInput for a run that failed on constraints."""
    from handover.migrate.models import MigrateRun

    summary = dict(row.summary or {})
    if summary.get("errors") or not summary.get("tables"):
        raise BadInput.msg("migrate.cannot_accept", run=row.id)
    rejects = int(summary.get("rejects", 0))
    rf = summary.get("reject_file")
    result = MigrateResult(
        run_id=row.id,
        source=row.source,
        target=row.target,
        status="failed",
        tables=[
            TableResult(x["table"], x["source_rows"], x["rows"], x["rejects"], x["seconds"])
            for x in summary["tables"]
        ],
        reject_file=Path(rf) if rf else None,
        backup=row.options.get("backup"),
        no_backup_reason=row.options.get("reason"),
        resumed=True,
    )
    if rejects > allowed:
        raise CheckFailed.of(rejects_message(row.id, rejects, allowed, result.reject_file))
    result.status = "done"
    with ws.store.session() as s:
        stored = s.get(MigrateRun, row.id)
        if stored is not None:
            stored.status = "done"
            stored.finished_at = _now()
            stored.options = {**stored.options, "allow_rejects": allowed}
            stored.summary = {**summary, "status": "done"}
    events("migrate.accepted", row.id, "migration", {"rejects": rejects, "allowed": allowed})
    return result
