"""Long jobs started from the console — scan, seal, migrate, verify, notices send, shred,
the regulator's dossier — run on the server in a background thread. A job's progress and outcome live in the store
(``web_jobs``), so any page load — a reload, another browser — reads where it stands.

Every job is decided in the request, before the thread starts (:class:`Plan`): the form
is checked (a bad field is a 4xx answer, and nothing starts), the person is authorised by
the very ``authorize_*`` function of the flow the CLI runs (a refusal is a 403 and an
``access.refuse`` event, not a failed job); the thread then runs that flow with that one
decision, reporting through the shared progress protocol (:class:`JobProgress`).

Migrations and notice campaigns can be resumed where their flows can (``--resume``): a
job that failed, or that a stopped console left ``interrupted``, starts a new job of the
same kind that continues the same run; the CLI can resume the same run too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from handover import claims
from handover.claims import Claim
from handover.db.url import is_url, place, sqlite_path
from handover.db.url import mask as mask_spec
from handover.errors import BadInput, HandoverError, bug_site
from handover.governance.policy import utc
from handover.holders import holder, lives
from handover.i18n import Msg
from handover.sources import PLAIN, FileReading
from handover.web.models import WebJobRow

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from handover.governance import Decision
    from handover.ledger import Clock
    from handover.progress import Progress
    from handover.web.app import Console
    from handover.workspace import Workspace

RUNNING = "running"
#: every kind of job the console starts, in the order of the transfer
KINDS = ("scan", "seal", "migrate", "verify", "dd-extract", "notices.send", "shred", "dossier")
#: the kinds whose flows continue an unfinished run (the CLI's ``--resume``)
RESUMABLE = ("migrate", "notices.send")
#: what a resumable job may be resumed from
ENDED_UNFINISHED = ("failed", "interrupted")
#: a package folder name the seal form accepts (inside the workspace's packages/)
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
#: where the console writes due-diligence extracts (inside the workspace)
EXTRACTS = "extracts"


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
    params: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    resume_of: int | None = None
    #: the language the job's progress texts are kept in (the person's, at the start)
    lang: str = "zh-CN"

    @property
    def resumable(self) -> bool:
        """Whether a new job may continue this one's run (its flow resumes, it ended
        unfinished)."""
        return self.kind in RESUMABLE and self.status in ENDED_UNFINISHED

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The progress protocol's tasks so far: name, total (None: unknown), done, rejects."""
        return list(self.progress.get("tasks") or [])

    @property
    def phase(self) -> str:
        """The last phase the flow reported."""
        return str(self.progress.get("phase") or "")

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
            "phase": self.phase,
            "tasks": self.tasks,
            "started_at": self.started_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "params": self.params,
            "result": self.result,
            "resumable": self.resumable,
            "resume_of": self.resume_of,
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
        dict(r.params or {}),
        dict(r.progress or {}),
        r.resume_of,
    )


class JobProgress:
    """The :class:`handover.progress.Progress` a job's flow reports to, kept in the job's
    row: the last phase, every task with its total, rows done and rows refused. A phase or
    a task starting is written at once; rows advancing at most every ``every`` seconds
    (and at :meth:`flush`), so a fast flow does not write the store per batch. After each
    write ``notify`` (the console's :class:`~handover.web.wakeups.Wakeups`) wakes the
    job's event streams in this process."""

    def __init__(
        self,
        ws: Workspace,
        job_id: int,
        clock: Clock,
        lang: str,
        *,
        every: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
        notify: Callable[[int], None] | None = None,
    ) -> None:
        self.ws, self.job_id, self.clock, self.lang = ws, job_id, clock, lang
        self.every, self.monotonic = every, monotonic
        self.notify = notify
        self.lock = threading.Lock()
        self.phase_text = ""
        self.current = ""
        self.steps = 0
        self.tasks: dict[str, dict[str, Any]] = {}
        self.written = monotonic()
        self.dirty = False

    def _write(self) -> None:
        doc = {
            "phase": self.phase_text,
            "tasks": [dict(t) for t in self.tasks.values()],
            "console": console_process(),
        }
        with self.ws.store.session() as s:
            s.execute(
                update(WebJobRow)
                .where(WebJobRow.id == self.job_id)
                .values(
                    steps=self.steps,
                    current=self.current[:300],
                    progress=doc,
                    updated_at=self.clock(),
                )
            )
        self.written, self.dirty = self.monotonic(), False
        if self.notify is not None:  # committed: the streams of this process read it now
            self.notify(self.job_id)

    def phase(self, text: Msg) -> None:
        with self.lock:
            self.phase_text = self.current = text.render(self.lang)[:300]
            self._write()

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        with self.lock:
            self.tasks[name] = {
                "name": str(name)[:300],
                "total": total,
                "done": done,
                "rejects": rejects,
            }
            self.current = str(name)
            self._write()

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        with self.lock:
            task = self.tasks.setdefault(
                name, {"name": str(name)[:300], "total": None, "done": 0, "rejects": 0}
            )
            task["done"] += rows
            task["rejects"] += rejects
            self.steps += 1
            self.dirty = True
            if self.monotonic() - self.written >= self.every:
                self._write()

    def flush(self) -> None:
        """Write what has not been written yet (the job's end)."""
        with self.lock:
            if self.dirty:
                self._write()


@dataclass
class Plan:
    """A job decided in the request, ready to run in the background: the person's
    decision, what it reads (masked, for lists), what it was started with (masked, enough
    to resume it) and ``run``, the one flow call (its result's machine form, no personal
    data)."""

    kind: str
    decision: Decision
    source: str
    params: dict[str, Any]
    run: Callable[[Progress], dict[str, Any]]
    resume_of: int | None = None
    #: the language the job's progress texts are kept in (the person's, at the start)
    lang: str = "zh-CN"
    #: what the job uses while it runs (:mod:`handover.claims`) — see :func:`start`
    claims: tuple[Claim, ...] = ()
    #: whether a finished run's result is a negative verdict (a verify that found
    #: differences: the CLI's exit 1): the job ends ``differs``, not ``done``
    differs: Callable[[dict[str, Any]], bool] | None = None


def start(console: Console, plan: Plan) -> Job:
    """Record ``plan`` as a running job of its decision's person and start it in a
    background thread; returns the job as it starts.

    A job claims what it uses (``Plan.claims``, the claims its flow holds: its source and
    the places it writes, a campaign, the dossier; a shred all the transfer's data
    alone) in the workspace's store before it is recorded. A job whose claim a running
    job or command excludes — of this console, another one, or the CLI — is refused
    (BadInput ``claims.busy`` naming it), and nothing is recorded: two people pressing
    the same button, or a shred while a seal still reads the source, would otherwise
    send notices twice, mix two migrations in one target or destroy the data under a
    reader. The flow then runs as the job's holder (:func:`handover.claims.acting_as`)."""
    ws, clock = console.ws, console.clock
    h = claims.new_holder()
    held = claims.Held(h, ())
    job: Job | None = None
    try:
        held = claims.take(ws.store, plan.claims, plan.kind, "console job", h, now=clock())
        job = _record(console, plan)
        claims.relabel(ws.store, held, f"console job {job.id}")
        thread = threading.Thread(
            target=_run,
            args=(ws, job.id, plan, clock, console.wakeups.notify, held),
            name=f"handover-job-{job.id}",
            daemon=True,
        )
        thread.start()
    except BaseException:
        # refused (nothing held), or not recorded or started: nothing stays held, and a
        # recorded job that never started is not left "running"
        _release(ws, held)
        if job is not None:
            with contextlib.suppress(Exception), ws.store.session() as s:
                s.execute(
                    update(WebJobRow)
                    .where(WebJobRow.id == job.id)
                    .values(status="failed", finished_at=clock(), updated_at=clock())
                )
        raise
    return job


def _release(ws: Workspace, held: claims.Held) -> None:
    """Give back what the job holds (again: finds nothing). Should the store fail, the
    holder is still forgotten, so its rows are stale: the next claim taken by this
    console removes them (another process sees them until this one ends)."""
    try:
        claims.give(ws.store, held)
    except Exception as exc:
        log.warning("claims of %s not given back: %s", held.holder, type(exc).__name__)
    finally:
        claims.forget(held.holder)


def _record(console: Console, plan: Plan) -> Job:
    """``plan`` as a new running job in the store."""
    ws, clock = console.ws, console.clock
    at = clock()
    with ws.store.session() as s:
        row = WebJobRow(
            kind=plan.kind,
            actor=plan.decision.actor,
            source=plan.source[:500],
            status=RUNNING,
            steps=0,
            current="",
            started_at=at,
            updated_at=at,
            result={},
            params=plan.params,
            progress={"phase": "", "tasks": [], "console": console_process()},
            resume_of=plan.resume_of,
        )
        s.add(row)
        s.flush()
        return _job(row)


def _run(
    ws: Workspace,
    job_id: int,
    plan: Plan,
    clock: Clock,
    notify: Callable[[int], None],
    held: claims.Held,
) -> None:
    """The job's thread: the flow (as the job's holder), then its end in the store; its
    claims released before the end shows ("done" means the next job may start)."""
    with claims.acting_as(held.holder, f"console job {job_id}"):
        _work(ws, job_id, plan, clock, notify, lambda: _release(ws, held))


def _work(
    ws: Workspace,
    job_id: int,
    plan: Plan,
    clock: Clock,
    notify: Callable[[int], None],
    release: Callable[[], None],
) -> None:
    from handover.ledger import checkpoint_if_new, ledger_size

    status, result, error = "failed", {}, None
    start_size: int | None = None
    progress: JobProgress | None = None
    try:
        start_size = ledger_size(ws)
        progress = JobProgress(ws, job_id, clock, plan.lang, notify=notify)
        result = plan.run(progress)
        status = "differs" if plan.differs is not None and plan.differs(result) else "done"
    except HandoverError as exc:
        msg = exc.message or Msg("web.jobs.failed_text", text=str(exc))
        error = {"key": msg.key, "params": msg.params()}
    except Exception as exc:  # a bug: the job fails, the server keeps serving
        where = {"kind": type(exc).__name__, "where": bug_site(exc)}
        error = {"key": "web.jobs.internal_at", "params": where}
    finally:
        # the flow has ended: what it claimed is free before its end shows ("done" means
        # the next job may start)
        release()
        try:
            if progress is not None:
                progress.flush()
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
            notify(job_id)
            # What the job recorded is covered by a signed checkpoint, as a CLI command's is.
            if start_size is not None:
                checkpoint_if_new(ws, since=start_size, actor=plan.decision.actor, clock=clock)


def get_job(ws: Workspace, job_id: int) -> Job:
    """The job ``job_id`` (BadInput naming it when there is none)."""
    with ws.store.session() as s:
        row = s.get(WebJobRow, job_id)
        if row is None:
            raise BadInput.msg("web.jobs.none", id=job_id)
        return _job(row)


def progress_events(before: Job | None, after: Job) -> list[dict[str, Any]]:
    """What changed between two reads of a job, as the progress protocol's JSON objects
    (:class:`handover.progress.JsonLines`): ``phase`` when the phase changed, ``task``
    when a task appeared (with what it had done by then), ``advance`` with the rows done
    and refused since. ``t`` is seconds since the job started, as of ``after``."""
    t = round((after.updated_at - after.started_at).total_seconds(), 3)
    out: list[dict[str, Any]] = []
    if after.phase and (before is None or before.phase != after.phase):
        out.append({"event": "phase", "t": t, "text": after.phase})
    seen = {x["name"]: x for x in (before.tasks if before is not None else [])}
    for task in after.tasks:
        name, done, rejects = task["name"], int(task["done"]), int(task["rejects"])
        old = seen.get(name)
        if old is None:
            out.append(
                {
                    "event": "task",
                    "t": t,
                    "name": name,
                    "total": task["total"],
                    "done": done,
                    "rejects": rejects,
                }
            )
        elif done != int(old["done"]) or rejects != int(old["rejects"]):
            out.append(
                {
                    "event": "advance",
                    "t": t,
                    "name": name,
                    "rows": done - int(old["done"]),
                    "rejects": rejects - int(old["rejects"]),
                }
            )
    return out


def list_jobs(ws: Workspace, *, limit: int = 50) -> list[Job]:
    """The newest ``limit`` jobs, newest first."""
    with ws.store.session() as s:
        rows = s.scalars(select(WebJobRow).order_by(WebJobRow.id.desc()).limit(limit)).all()
        return [_job(r) for r in rows]


#: this process among those of the same pid (a restarted container's console is another)
_PROCESS = secrets.token_hex(4)


def console_process() -> str:
    """The console process running a job, as its row keeps it: ``host:pid:token``."""
    return holder(_PROCESS)


def _orphaned(progress: dict[str, Any] | None) -> bool:
    """Whether a running job's console process is gone: on this host, its pid no longer
    lives, or it is this pid but an earlier process (a restarted container); a job
    recorded before the process was kept, too. A job of a console on another host is
    left as it is (its liveness cannot be told from here)."""
    owner = str((progress or {}).get("console") or "")
    return not owner or lives(owner, lambda held: held == console_process()) is False


def interrupt_orphans(ws: Workspace, *, clock: Clock) -> int:
    """Mark jobs left running by a console that stopped as ``interrupted`` (their thread
    died with it); returns how many. Called when a console starts: the jobs of another
    console still running on the same store are not touched."""
    with ws.store.session() as s:
        running = s.execute(
            select(WebJobRow.id, WebJobRow.progress).where(WebJobRow.status == RUNNING)
        ).all()
        gone = [job_id for job_id, progress in running if _orphaned(progress)]
        if not gone:
            return 0
        s.execute(
            update(WebJobRow)
            .where(WebJobRow.id.in_(gone), WebJobRow.status == RUNNING)
            .values(
                status="interrupted",
                finished_at=clock(),
                error={"key": "web.jobs.interrupted", "params": {}},
            )
        )
        return len(gone)


# --- what a form may name ----------------------------------------------------------------


def console_path(ws: Workspace, text: str, field_name: str, *, existing: bool = True) -> str:
    """A server database's URL as given, or a path inside the workspace (also when
    spelled as a ``sqlite:///`` URL): an existing file or folder (``existing``), or a new
    file whose folder is there. A browser must not make the server read or write its
    other files, nor the workspace's own data (:func:`_internal`): anything else is
    BadInput naming the field."""
    spec = text.strip()
    if is_url(spec):
        path = sqlite_path(spec)
        if path is None:
            if place(spec) == place(ws.settings.store_url):
                raise _internal_refused(ws, spec, field_name)
            return spec
        spec = str(path)  # a SQLite file named by URL: the same rules as its path
    root = ws.path.resolve()
    # a control character (a NUL the OS refuses) names no file a person could mean
    clean = bool(spec) and not any(ord(c) < 32 or c == "\x7f" for c in spec)
    target = (root / spec).resolve() if clean else root
    inside = clean and target.is_relative_to(root) and target != root
    there = inside and (target.exists() if existing else target.parent.is_dir())
    if not inside or not there:
        raise BadInput.msg(
            "web.jobs.outside" if existing else "web.jobs.outside_new",
            field=field_name,
            source=mask_spec(spec)[:200],
            workspace=str(root),
        )
    if _internal(ws, target):
        raise _internal_refused(ws, spec, field_name)
    return str(target)


@contextlib.contextmanager
def _refused_first(console: Console, actor: str, action: str) -> Iterator[None]:
    """The form's paths checked inside, for a flow whose decision needs them: where one
    is refused, a person who may never do ``action`` is refused first (ledgered, as the
    CLI decides before it opens anything), so that the answer tells them nothing of the
    workspace's files."""
    try:
        yield
    except BadInput:
        from handover.governance import data_resource, require
        from handover.governance.authorize import may_ever

        if not may_ever(console.ws, actor, action, now=console.now()):
            require(
                console.ws, action, data_resource(None, "clear"), actor=actor, now=console.now()
            )
        raise


def _internal(ws: Workspace, target: Path) -> bool:
    """Whether ``target`` is the workspace's own data, which no job reads or writes: its
    platform store (people, password hashes, grants, the ledger) with SQLite's files
    beside it, its settings, its keys and the login session's token."""
    from handover.governance.session import session_path

    store = sqlite_path(ws.settings.store_url)
    own = [ws.settings.toml_path, ws.settings.keys_dir, session_path(ws)]
    if store is not None:
        own += [Path(f"{store}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]
    return any(target == p.resolve() or target.is_relative_to(p.resolve()) for p in own)


def _internal_refused(ws: Workspace, spec: str, field_name: str) -> BadInput:
    return BadInput.msg(
        "web.jobs.own_data",
        field=field_name,
        source=mask_spec(spec)[:200],
        workspace=str(ws.path.resolve()),
    )


def table_list(text: str) -> list[str] | None:
    """Comma-separated table names (None when empty: every table)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    return names or None


def new_folder(parent: Path, name: str) -> Path:
    """``parent/name`` for a job to create, ``name`` one plain folder name (BadInput
    naming the ``name`` field otherwise); ``parent`` is made when missing."""
    if not PACKAGE_NAME.match(name.strip()):
        raise BadInput.msg("web.jobs.bad_package_name", field="name", name=name.strip()[:100])
    parent.mkdir(parents=True, exist_ok=True)
    return parent / name.strip()


def source_default(ws: Workspace) -> str:
    """What the forms propose as the source: the workspace's ``seller.db`` when there is one."""
    return "seller.db" if (Path(ws.path) / "seller.db").exists() else ""


def executor_choice(ws: Workspace, text: str, field_name: str = "executor") -> str:
    """The executor a job runs on: one of the configured ones (``local``, the
    ``executor`` setting, the ``executors`` list; empty: the ``executor`` setting), its
    address checked without connecting (TLS files, a plain address to another machine):
    BadInput naming the field otherwise."""
    from handover.engine.executor import LOCAL, configured, parse_address

    chosen = text.strip() or ws.settings.executor or LOCAL
    offered = configured(ws.settings)
    if chosen not in offered:
        raise BadInput.msg(
            "web.jobs.bad_executor",
            field=field_name,
            executor=chosen[:200],
            offered=", ".join(offered),
        )
    if chosen != LOCAL:
        try:
            parse_address(chosen, ws.settings)
        except BadInput as exc:
            assert exc.message is not None
            raise BadInput.msg(
                "web.jobs.executor_unusable", field=field_name, reason=exc.message
            ) from None
    return chosen


# --- one plan per kind: check the form, decide, name the flow call ---------------------------


def form_reading(no_header: bool, mysql_escapes: str = "") -> FileReading:
    """How a job or a form reads the source's CSV files: its "no header row" box and its
    "MySQL escapes" choice (BadInput, a 400, for a layout MySQL has not)."""
    return FileReading(header=not no_header, escapes=mysql_escapes)


def _read_params(reading: FileReading) -> dict[str, Any]:
    """What the job's parameters say of how its CSV files are read (only when unusual)."""
    return {
        **({} if reading.header else {"no_header": True}),
        **({"mysql_escapes": reading.escapes} if reading.escapes else {}),
    }


def plan_scan(
    console: Console,
    actor: str,
    source: str,
    lang: str,
    executor: str = "",
    reading: FileReading = PLAIN,
) -> Plan:
    """A scan, decided as ``handover scan`` is (``scan.evidence`` on every tier, masked),
    run on ``executor`` (see :func:`executor_choice`); ``reading``: how its CSV files are read
    (``--no-header``, ``--mysql-escapes``: :func:`form_reading`)."""
    from handover.flows.scan import authorize_scan, run_scan, scan_claims

    ws = console.ws
    # Decided first, as the CLI does: a refused person learns nothing about the
    # workspace's files from a "no such source" answer.
    decision = authorize_scan(ws, actor=actor, now=console.now())
    spec = console_path(ws, source, "source")
    where = executor_choice(ws, executor)

    def run(progress: Progress) -> dict[str, Any]:
        inv = run_scan(
            ws,
            spec,
            lang=lang,
            progress=progress,
            authorized=decision,
            executor=where,
            reading=reading,
        )
        return {**inv.counts(), "scan_id": inv.scan_id}

    params = {"source": mask_spec(spec), "executor": mask_spec(where), **_read_params(reading)}
    claims_ = scan_claims(spec)
    return Plan("scan", decision, mask_spec(spec), params, run, lang=lang, claims=claims_)


def plan_seal(
    console: Console,
    actor: str,
    source: str,
    name: str,
    tables: str,
    lang: str,
    executor: str = "",
    reading: FileReading = PLAIN,
) -> Plan:
    """A transfer package of ``source`` into the workspace's ``packages/<name>``, decided
    as ``handover seal`` is (``seal`` on the tables in clear), sealed on ``executor``
    (``reading``: as :func:`plan_scan`)."""
    from handover.flows.seal import authorize_seal, seal, seal_claims, seal_target

    ws = console.ws
    only = table_list(tables)
    decision = authorize_seal(ws, only, actor=actor, now=console.now())
    spec = console_path(ws, source, "source")
    out = seal_target(new_folder(ws.settings.packages_dir, name))
    where = executor_choice(ws, executor)

    def run(progress: Progress) -> dict[str, Any]:
        res = seal(
            ws,
            spec,
            out,
            tables=only,
            progress=progress,
            authorized=decision,
            executor=where,
            reading=reading,
        )
        return res.to_json()

    params = {
        "source": mask_spec(spec),
        "package": out.name,
        "tables": only,
        "executor": mask_spec(where),
        **_read_params(reading),
    }
    claims_ = seal_claims(spec, out)
    return Plan("seal", decision, mask_spec(spec), params, run, lang=lang, claims=claims_)


@dataclass(frozen=True)
class MigrateForm:
    """The migrate form: as ``handover migrate`` takes it."""

    source: str
    target: str
    tables: str = ""
    batch_size: int = 50_000
    no_backup: bool = False
    reason: str = ""
    allow_rejects: int = 0


def plan_migrate(
    console: Console,
    actor: str,
    form: MigrateForm,
    lang: str,
    *,
    resume_run: str | None = None,
    resume_of: int | None = None,
    shown: str = "",
) -> Plan:
    """A migration (or, with ``resume_run``, the continuation of that unfinished run),
    decided as ``handover migrate`` is. A new run's id is made now and kept with the job,
    so whatever happens to the console the run can be resumed — from here or the CLI."""
    from handover.flows.migrate import authorize_migrate, migrate_claims
    from handover.flows.migrate import migrate as run_migrate
    from handover.migrate.results import MigrateOptions
    from handover.migrate.runs import new_run_id

    ws = console.ws
    with _refused_first(console, actor, "migrate"):
        source = console_path(ws, form.source, "source") if form.source.strip() else None
        target = (
            console_path(ws, form.target, "target", existing=False) if form.target.strip() else None
        )
    opts = MigrateOptions(
        tables=table_list(form.tables),
        batch_size=form.batch_size,
        no_backup=form.no_backup,
        reason=form.reason.strip() or None,
        allow_rejects=form.allow_rejects,
        resume=resume_run is not None,
        run_id=resume_run or new_run_id(),
    )
    decision = authorize_migrate(ws, source, target, opts, actor=actor, now=console.now())

    def run(progress: Progress) -> dict[str, Any]:
        result = run_migrate(ws, source, target, opts, progress=progress, authorized=decision)
        return result.to_json()

    if source and target:
        shown = f"{mask_spec(source)} → {mask_spec(target)}"
    params = {
        "source": mask_spec(source) if source else None,
        "target": mask_spec(target) if target else None,
        "tables": opts.tables,
        "batch_size": opts.batch_size,
        "no_backup": opts.no_backup,
        "reason": opts.reason,
        "allow_rejects": opts.allow_rejects,
        "run_id": opts.run_id,
    }
    places = (source, target)
    if resume_run is not None and not (source and target):
        from handover.migrate.models import MigrateRun

        with ws.store.session() as s:  # the places the run itself recorded
            row = s.get(MigrateRun, resume_run)
            if row is not None:
                places = (source or row.source, target or row.target)
    claims_ = migrate_claims(places[0] or "", places[1] or "", opts.run_id)
    return Plan(
        "migrate", decision, shown or str(opts.run_id), params, run, resume_of, lang, claims_
    )


def plan_verify(
    console: Console,
    actor: str,
    source: str,
    target: str,
    tables: str,
    lang: str,
    executor: str = "",
) -> Plan:
    """A row-by-row comparison, decided as ``handover verify`` is (``verify`` in clear),
    run on ``executor``."""
    from handover.flows.verify import authorize_verify, verify, verify_claims

    ws = console.ws
    only = table_list(tables)
    decision = authorize_verify(ws, only, actor=actor, now=console.now())
    src = console_path(ws, source, "source")
    dst = console_path(ws, target, "target")
    where = executor_choice(ws, executor)

    def run(progress: Progress) -> dict[str, Any]:
        res = verify(src, dst, only, ws=ws, progress=progress, authorized=decision, executor=where)
        return res.details  # counts only: never a differing row's key

    params = {
        "source": mask_spec(src),
        "target": mask_spec(dst),
        "tables": only,
        "executor": mask_spec(where),
    }
    shown = f"{mask_spec(src)} → {mask_spec(dst)}"
    return Plan(
        "verify",
        decision,
        shown,
        params,
        run,
        lang=lang,
        claims=verify_claims(src, dst),
        differs=lambda result: result.get("equal") is False,
    )


def plan_extract(
    console: Console,
    actor: str,
    source: str,
    name: str,
    tables: str,
    k: int,
    lang: str,
    executor: str = "",
    reading: FileReading = PLAIN,
) -> Plan:
    """The due-diligence extract of ``source`` into the workspace's ``extracts/<name>``,
    decided as ``handover dd-extract`` is (``dd.extract`` on the tables, tokenised), its
    row kernels run on ``executor`` (``reading``: as :func:`plan_scan`)."""
    from handover.deid.extract import MAX_SUPPRESSION, XLSX_LIMIT, check_request
    from handover.flows.extract import authorize_extract, dd_extract, extract_claims

    ws = console.ws
    only = table_list(tables)
    decision = authorize_extract(ws, only, actor=actor, now=console.now())
    spec = console_path(ws, source, "source")
    out = new_folder(ws.path / EXTRACTS, name)
    check_request(
        out, k=k, max_suppression=MAX_SUPPRESSION, l_diversity=None, xlsx_limit=XLSX_LIMIT
    )
    where = executor_choice(ws, executor)

    def run(progress: Progress) -> dict[str, Any]:
        res = dd_extract(
            ws,
            spec,
            out,
            k=k,
            tables=only,
            lang=lang,
            progress=progress,
            executor=where,
            authorized=decision,
            reading=reading,
        )
        return {
            "tables": len(res.tables),
            "rows": res.rows,
            "refused": len(res.refused),
            "key_id": res.token_key,
        }

    params = {
        "source": mask_spec(spec),
        "extract": out.name,
        "tables": only,
        "k": k,
        "executor": mask_spec(where),
        **_read_params(reading),
    }
    claims_ = extract_claims(spec, out)
    return Plan("dd-extract", decision, mask_spec(spec), params, run, lang=lang, claims=claims_)


@dataclass(frozen=True)
class SendForm:
    """The send form of a campaign: the source, the SMTP server and SMS account (their
    secrets are settings of the server, never typed into a page), batch and rate."""

    campaign: int
    source: str
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    sender: str = ""
    smtp_connections: int = 1
    sms_endpoint: str = ""
    sms_key_id: str = ""
    sms_sign: str = ""
    sms_template: str = ""
    batch: int = 200
    rate: float | None = None

    def to_json(self) -> dict[str, Any]:
        """What the job keeps of it (no secret is part of it)."""
        return {
            "campaign": self.campaign,
            "smtp_host": self.smtp_host,
            "smtp_port": self.smtp_port,
            "smtp_security": self.smtp_security,
            "smtp_user": self.smtp_user,
            "sender": self.sender,
            "smtp_connections": self.smtp_connections,
            "sms_endpoint": self.sms_endpoint,
            "sms_key_id": self.sms_key_id,
            "sms_sign": self.sms_sign,
            "sms_template": self.sms_template,
            "batch": self.batch,
            "rate": self.rate,
        }


def plan_send(
    console: Console,
    actor: str,
    form: SendForm,
    *,
    resume: bool = False,
    resume_of: int | None = None,
) -> Plan:
    """Sending a campaign (or continuing it with ``resume``), decided as ``handover notices
    send`` is (``notices.send`` in clear on the contact columns) and checked as it is
    (approved grant, not started, an SMTP server for e-mail) before the job starts."""
    from handover.flows.notices import authorize_send, check_send, send_campaign, send_claims
    from handover.notices.channels import SECURITIES, SmtpConfig
    from handover.notices.sms import AliyunSmsConfig
    from handover.settings import secret_value

    ws = console.ws
    with _refused_first(console, actor, "notices.send"):
        spec = console_path(ws, form.source, "source")
    decision = authorize_send(ws, form.campaign, spec, actor=actor, when=console.now())
    smtp = None
    if form.smtp_host.strip():
        if form.smtp_security not in SECURITIES:
            raise BadInput.msg("web.invalid", fields="smtp_security")
        if not form.sender.strip():
            raise BadInput.msg("web.invalid", fields="sender")
        password = secret_value(ws.settings.smtp_password)
        if password is not None:
            host = form.smtp_host.strip()
            host = f"[{host}]" if ":" in host and not host.startswith("[") else host
            given = f"{host}:{form.smtp_port}"
            _secret_for(ws.settings.smtp_server, given, "smtp_host", "smtp_password", "smtp_server")
        smtp = SmtpConfig(
            host=form.smtp_host.strip(),
            port=form.smtp_port,
            sender=form.sender.strip(),
            security=form.smtp_security,  # type: ignore[arg-type]
            username=form.smtp_user.strip() or None,
            password=password,
        )
    sms = None
    if form.sms_endpoint.strip():
        if not (form.sms_key_id.strip() and form.sms_sign.strip() and form.sms_template.strip()):
            raise BadInput.msg("web.invalid", fields="sms_key_id, sms_sign, sms_template")
        secret = secret_value(ws.settings.sms_secret)
        if secret is not None:
            given = form.sms_endpoint.strip()
            _secret_for(
                ws.settings.sms_endpoint, given, "sms_endpoint", "sms_secret", "sms_endpoint"
            )
        sms = AliyunSmsConfig(
            endpoint=form.sms_endpoint.strip(),
            access_key_id=form.sms_key_id.strip(),
            access_key_secret=secret or "",
            sign_name=form.sms_sign.strip(),
            template_code=form.sms_template.strip(),
        )
        # a proxy setting or variable that names no http proxy: refused here (400), not
        # once the job runs
        ws.settings.sms_proxy_for(sms.endpoint)
    check_send(ws, form.campaign, resume=resume, email=smtp is not None, at=console.now())

    def run(progress: Progress) -> dict[str, Any]:
        report = send_campaign(
            ws,
            form.campaign,
            spec,
            smtp=smtp,
            sms=sms,
            resume=resume,
            batch=form.batch,
            rate=form.rate,
            progress=progress,
            smtp_connections=form.smtp_connections,
            authorized=decision,
        )
        return report.to_json()

    params = {**form.to_json(), "source": mask_spec(spec)}
    shown = f"campaign {form.campaign} · {mask_spec(spec)}"
    claims_ = send_claims(form.campaign, spec)
    return Plan("notices.send", decision, shown, params, run, resume_of, ws.settings.lang, claims_)


def _secret_for(configured: str | None, given: str, field: str, secret: str, setting: str) -> None:
    """BadInput naming ``field`` unless ``given`` (``host:port``, or an endpoint URL) is
    the server the setting ``setting`` names, the one the server's ``secret`` is for: a
    form must not make the server hand its password to, or sign requests for, a server
    its user typed (a host without a port in the setting matches any port)."""

    def norm(text: str) -> tuple[str, str]:
        text = text.strip().lower().rstrip("/")
        if is_url(text):
            return text, ""
        if text.startswith("["):  # an IPv6 address: [::1] or [::1]:587
            host, _, rest = text[1:].partition("]")
            return host, rest.removeprefix(":")
        if text.count(":") == 1:
            host, _, port = text.partition(":")
            return host, port
        return text, ""  # a name, or a bare IPv6 address: no port

    if configured:
        want, got = norm(configured), norm(given)
        if want[0] == got[0] and want[1] in ("", got[1]):
            return
    raise BadInput.msg(
        "web.jobs.secret_bound",
        field=field,
        secret=secret,
        setting=setting,
        configured=configured or "-",
    )


@dataclass(frozen=True)
class ShredForm:
    """The shred form: what to destroy and who validates (the executor is the person
    logged in); extra paths and retention files stay with the CLI."""

    source: str = ""
    target: str = ""
    tables: str = ""
    media: tuple[str, ...] = ()
    validated_by: str = ""
    #: the validator types their password at the executor's screen (dual control in person)
    validator_password: str = ""
    force: bool = False
    reason: str = ""


def plan_shred(console: Console, actor: str, form: ShredForm, lang: str) -> Plan:
    """A destruction with its certificate, decided as ``handover shred`` is: the person
    logged in executes (``shred`` on everything in clear), another person validates, and
    the plan, dual control and verify gate are checked before the job starts."""
    from handover.erase import Scope
    from handover.flows.shred import authorize_shred, check_shred, shred

    ws = console.ws
    decision = authorize_shred(ws, actor=actor, now=console.now())
    source = console_path(ws, form.source, "source") if form.source.strip() else None
    target = console_path(ws, form.target, "target") if form.target.strip() else None
    scope = Scope(
        source=source,
        tables=table_list(form.tables),
        target=target,
        media=list(form.media) or None,
    )
    validator = form.validated_by.strip() or None
    reason = form.reason.strip() or None
    # the validator's password is checked here: a wrong one is a 400 and nothing starts
    _plan, _gate, validated = check_shred(
        ws,
        scope,
        executed_by=decision.actor,
        validated_by=validator,
        validator_password=form.validator_password,
        force=form.force,
        reason=reason,
    )

    def run(progress: Progress) -> dict[str, Any]:
        res = shred(
            ws,
            scope,
            validated_by=validator,
            validator_password=form.validator_password,
            force=form.force,
            reason=reason,
            lang=lang,
            progress=progress,
            authorized=decision,
            validated=validated,
        )
        return {
            "run_id": res.run_id,
            "passed": res.passed,
            "samples": res.samples,
            "found": res.found,
            "certificate": str(res.certificate_dir) if res.certificate_dir else None,
            **res.counts(),
        }

    params = {
        "source": mask_spec(source) if source else None,
        "target": mask_spec(target) if target else None,
        "tables": scope.tables,
        "media": scope.media,
        "validated_by": validator,
        "force": form.force,
        "reason": reason,
    }
    shown = mask_spec(source) if source else ",".join(scope.media or ("*",))
    # everything a shred may destroy is the transfer's data: no other job runs meanwhile
    return Plan("shred", decision, shown, params, run, lang=lang, claims=claims.EVERYTHING)


def plan_dossier(console: Console, actor: str, lang: str) -> Plan:
    """The regulator's dossier, decided as ``handover dossier build`` is
    (``compliance.check``); the job's result names the dossier built."""
    from handover.flows.dossier import DOSSIER_CLAIMS, authorize_dossier, build_dossier

    ws = console.ws
    decision = authorize_dossier(ws, actor=actor, now=console.now())

    def run(progress: Progress) -> dict[str, Any]:
        res = build_dossier(ws, now=console.now(), progress=progress, authorized=decision)
        return {
            "name": res.folder.name,
            "documents": res.sealed.documents,
            "files": res.sealed.files,
            "manifest_sha256": res.sealed.manifest_sha256,
            "score": res.score,
            "warnings": len(res.warnings),
            "build_seq": res.build_seq,
            "export_seq": res.export_seq,
        }

    return Plan("dossier", decision, "reports/dossier", {}, run, lang=lang, claims=DOSSIER_CLAIMS)


def plan_resume(
    console: Console,
    actor: str,
    job_id: int,
    lang: str,
    *,
    source: str = "",
    target: str = "",
) -> Plan:
    """A new job continuing job ``job_id``'s run (a migration or a campaign that failed or
    was interrupted), decided now for ``actor``. ``source``/``target`` give the places
    again (e.g. a URL with its password, which the job never kept)."""
    job = get_job(console.ws, job_id)
    if not job.resumable:
        raise BadInput.msg("web.jobs.not_resumable", id=job_id, kind=job.kind, status=job.status)
    p = job.params
    if job.kind == "migrate":
        form = MigrateForm(
            source=source,
            target=target,
            tables=",".join(p.get("tables") or ()),
            batch_size=int(p.get("batch_size") or 50_000),
            no_backup=bool(p.get("no_backup")),
            reason=str(p.get("reason") or ""),
            allow_rejects=int(p.get("allow_rejects") or 0),
        )
        return plan_migrate(
            console,
            actor,
            form,
            lang,
            resume_run=str(p["run_id"]),
            resume_of=job_id,
            shown=job.source,
        )
    send = SendForm(
        **{k: v for k, v in p.items() if k in SendForm.__dataclass_fields__ and k != "source"},
        source=source or str(p.get("source") or ""),
    )
    return plan_send(console, actor, send, resume=True, resume_of=job_id)
