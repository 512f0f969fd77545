"""Long jobs started from the console, run on the server in a background thread: today a
scan. The job's progress and outcome live in the store (``web_jobs``), so any page load —
a reload, another browser — reads where it stands.

Authorisation happens in the request, before the thread starts: a refusal is an answer
(403), not a failed job; the thread runs the very flow the CLI runs with that decision.
Progress is reported through :class:`JobProgress`, one callback per step, so that the
shared progress protocol can take its place without touching the pages.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from handover.db.url import is_url
from handover.errors import BadInput, HandoverError
from handover.governance.policy import utc
from handover.i18n import Msg
from handover.web.models import WebJobRow

if TYPE_CHECKING:
    from handover.governance import Decision
    from handover.ledger import Clock
    from handover.web.app import Console
    from handover.workspace import Workspace

RUNNING = "running"


@dataclass(frozen=True)
class Job:
    """A job as stored: who started what, where it stands, how it ended."""

    id: int
    kind: str
    actor: str
    source: str
    status: str
    steps: int
    current: str
    started_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None
    result: dict[str, Any]
    error: Msg | None

    def to_json(self) -> dict[str, Any]:
        """Machine form (``GET /api/jobs/{id}``; the error in English)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "actor": self.actor,
            "source": self.source,
            "status": self.status,
            "steps": self.steps,
            "current": self.current,
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "result": self.result,
            "error": str(self.error) if self.error is not None else None,
            "error_key": self.error.key if self.error is not None else None,
        }


def _job(r: WebJobRow) -> Job:
    error = Msg(str(r.error["key"]), **dict(r.error.get("params") or {})) if r.error else None
    return Job(
        r.id,
        r.kind,
        r.actor,
        r.source,
        r.status,
        r.steps,
        r.current,
        utc(r.started_at),
        utc(r.updated_at),
        utc(r.finished_at) if r.finished_at else None,
        dict(r.result or {}),
        error,
    )


class JobProgress:
    """The :class:`handover.progress.Progress` a job's flow reports to, written to the
    job's row: a task (a table, for a scan) starting becomes the current step, a task's
    rows done count one step."""

    def __init__(self, ws: Workspace, job_id: int, clock: Clock, lang: str) -> None:
        self.ws, self.job_id, self.clock, self.lang = ws, job_id, clock, lang

    def _update(self, **values: object) -> None:
        with self.ws.store.session() as s:
            s.execute(
                update(WebJobRow)
                .where(WebJobRow.id == self.job_id)
                .values(**values, updated_at=self.clock())
            )

    def phase(self, text: Msg) -> None:
        self._update(current=text.render(self.lang)[:300])

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        self._update(current=str(name)[:300])

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        self._update(steps=WebJobRow.steps + 1)


def scan_source(ws: Workspace, text: str) -> str:
    """The source a console scan may read: a database URL, or a file or folder inside the
    workspace (a browser must not make the server read its other files)."""
    spec = text.strip()
    if is_url(spec):
        return spec
    root = ws.path.resolve()
    target = (root / spec).resolve()
    if not spec or not target.is_relative_to(root) or not target.exists():
        raise BadInput.msg("web.jobs.outside", source=spec[:200], workspace=str(root))
    return str(target)


def start_scan(ws: Workspace, spec: str, decision: Decision, *, clock: Clock, lang: str) -> Job:
    """Record a running scan job of ``spec`` for ``decision``'s actor and start it in a
    background thread; returns the job as it starts."""
    from handover.db.url import mask as mask_spec

    at = clock()
    with ws.store.session() as s:
        row = WebJobRow(
            kind="scan",
            actor=decision.actor,
            source=mask_spec(spec)[:500],
            status=RUNNING,
            steps=0,
            current="",
            started_at=at,
            updated_at=at,
            result={},
        )
        s.add(row)
        s.flush()
        job = _job(row)
    thread = threading.Thread(
        target=_run_scan,
        args=(ws, job.id, spec, decision, clock, lang),
        name=f"handover-job-{job.id}",
        daemon=True,
    )
    thread.start()
    return job


def _run_scan(
    ws: Workspace, job_id: int, spec: str, decision: Decision, clock: Clock, lang: str
) -> None:
    from handover.flows.scan import run_scan
    from handover.ledger import checkpoint_if_new, ledger_size

    start = ledger_size(ws)
    status, result, error = "failed", {}, None
    try:
        inv = run_scan(
            ws, spec, lang=lang, progress=JobProgress(ws, job_id, clock, lang), authorized=decision
        )
        status, result = "done", {**inv.counts(), "scan_id": inv.scan_id}
    except HandoverError as exc:
        msg = exc.message or Msg("web.jobs.failed_text", text=str(exc))
        error = {"key": msg.key, "params": msg.params()}
    except Exception as exc:  # a bug: the job fails, the server keeps serving
        error = {"key": "web.jobs.internal", "params": {"kind": type(exc).__name__}}
    finally:
        with ws.store.session() as s:
            s.execute(
                update(WebJobRow)
                .where(WebJobRow.id == job_id)
                .values(
                    status=status,
                    result=result,
                    error=error,
                    finished_at=clock(),
                    updated_at=clock(),
                )
            )
        # What the job recorded is covered by a signed checkpoint, as a CLI command's is.
        checkpoint_if_new(ws, since=start, actor=decision.actor, clock=clock)


def start_scan_for(console: Console, actor: str, source: str, lang: str) -> Job:
    """Authorise ``actor`` for a scan as ``handover scan`` does (``scan.evidence`` on every
    tier, masked; Refused otherwise, ledgered either way), then start it in the background."""
    from handover.flows.workspace import require_intact_ledger
    from handover.governance import data_resource, require

    ws = console.ws
    require_intact_ledger(ws)  # as every CLI command on customer data
    # Decided first, as the CLI does: a refused person learns nothing about the workspace's
    # files from a "no such source" answer.
    decision = require(
        ws, "scan.evidence", data_resource(None, "masked"), actor=actor, now=console.now()
    )
    return start_scan(ws, scan_source(ws, source), decision, clock=console.clock, lang=lang)


def get_job(ws: Workspace, job_id: int) -> Job:
    """The job ``job_id`` (BadInput naming it when there is none)."""
    with ws.store.session() as s:
        row = s.get(WebJobRow, job_id)
        if row is None:
            raise BadInput.msg("web.jobs.none", id=job_id)
        return _job(row)


def list_jobs(ws: Workspace, *, limit: int = 50) -> list[Job]:
    """The newest ``limit`` jobs, newest first."""
    with ws.store.session() as s:
        rows = s.scalars(select(WebJobRow).order_by(WebJobRow.id.desc()).limit(limit)).all()
        return [_job(r) for r in rows]


def interrupt_orphans(ws: Workspace, *, clock: Clock) -> int:
    """Mark jobs left running by a console that stopped as ``interrupted`` (their thread
    died with it); returns how many. Called when a console starts."""
    with ws.store.session() as s:
        res = s.execute(
            update(WebJobRow)
            .where(WebJobRow.status == RUNNING)
            .values(
                status="interrupted",
                finished_at=clock(),
                error={"key": "web.jobs.interrupted", "params": {}},
            )
        )
        return int(getattr(res, "rowcount", 0) or 0)


def job_source_default(ws: Workspace) -> str:
    """What the scan form proposes: the workspace's ``seller.db`` when there is one."""
    return "seller.db" if (Path(ws.path) / "seller.db").exists() else ""
