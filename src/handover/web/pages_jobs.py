"""The jobs pages: start a scan, seal, migration, verification, due-diligence extract or
shred in the background (scan, seal, verify and the extract on a chosen executor)
(each decided in the request as its CLI command is), follow one job's progress, resume an
unfinished migration or campaign. Notice campaigns are sent from their own page
(pages_notices)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from handover.web.pages import CSRF, Session, partial
from handover.web.security import RowId, console_of

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=500)]
Names = Annotated[str, Form(max_length=2000)]
Executor = Annotated[str, Form(max_length=200)]
#: the "no header row" box and the "MySQL escapes" choice of the forms that read CSV
#: files (``--no-header``, ``--mysql-escapes``)
NoHeader = Annotated[bool, Form()]
MysqlEscapes = Annotated[str, Form(max_length=20)]


def _started(job_id: int) -> RedirectResponse:
    return RedirectResponse(f"/jobs/{job_id}", 303)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, me: Session) -> Response:
    """Background jobs (newest first) and the forms that start each kind."""
    from handover.engine.executor import configured
    from handover.erase.plan import MEDIA
    from handover.flows.claims import held_claims
    from handover.governance.people import list_people
    from handover.web.jobs import list_jobs, source_default

    console = console_of(request)
    others = [p for p in list_people(console.ws) if p.active and p.name != me.person.name]
    return console.render(
        request,
        "jobs.html",
        jobs=list_jobs(console.ws),
        held=held_claims(console.ws),
        source=source_default(console.ws),
        media=MEDIA,
        validators=others,
        executors=configured(console.ws.settings),
        executor=console.ws.settings.executor,
    )


@router.post("/jobs/scan", dependencies=CSRF)
def jobs_scan(
    request: Request,
    me: Session,
    source: Text,
    executor: Executor = "",
    no_header: NoHeader = False,
    mysql_escapes: MysqlEscapes = "",
) -> Response:
    """Start a scan, authorised now as ``handover scan`` is (refused: 403, and no job)."""
    from handover.web.jobs import form_reading, plan_scan, start

    console = console_of(request)
    lang = console.lang_of(request)
    reading = form_reading(no_header, mysql_escapes)
    plan = plan_scan(console, me.person.name, source, lang, executor, reading)
    return _started(start(console, plan).id)


@router.post("/jobs/seal", dependencies=CSRF)
def jobs_seal(
    request: Request,
    me: Session,
    source: Text,
    name: Annotated[str, Form(max_length=100)],
    tables: Names = "",
    executor: Executor = "",
    no_header: NoHeader = False,
    mysql_escapes: MysqlEscapes = "",
) -> Response:
    """Seal a source into ``packages/<name>`` (``handover seal``)."""
    from handover.web.jobs import form_reading, plan_seal, start

    console = console_of(request)
    lang = console.lang_of(request)
    reading = form_reading(no_header, mysql_escapes)
    plan = plan_seal(console, me.person.name, source, name, tables, lang, executor, reading)
    return _started(start(console, plan).id)


@router.post("/jobs/migrate", dependencies=CSRF)
def jobs_migrate(
    request: Request,
    me: Session,
    source: Text,
    target: Text,
    tables: Names = "",
    batch_size: Annotated[int, Form(ge=1, le=1_000_000)] = 50_000,
    no_backup: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=500)] = "",
    allow_rejects: Annotated[int, Form(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    """Copy a database (``handover migrate``): a backup first unless refused with a reason."""
    from handover.web.jobs import MigrateForm, plan_migrate, start

    console = console_of(request)
    form = MigrateForm(source, target, tables, batch_size, no_backup, reason, allow_rejects)
    plan = plan_migrate(console, me.person.name, form, console.lang_of(request))
    return _started(start(console, plan).id)


@router.post("/jobs/verify", dependencies=CSRF)
def jobs_verify(
    request: Request,
    me: Session,
    source: Text,
    target: Text,
    tables: Names = "",
    executor: Executor = "",
) -> Response:
    """Compare two databases row by row (``handover verify``)."""
    from handover.web.jobs import plan_verify, start

    console = console_of(request)
    lang = console.lang_of(request)
    plan = plan_verify(console, me.person.name, source, target, tables, lang, executor)
    return _started(start(console, plan).id)


@router.post("/jobs/dd-extract", dependencies=CSRF)
def jobs_extract(
    request: Request,
    me: Session,
    source: Text,
    name: Annotated[str, Form(max_length=100)],
    tables: Names = "",
    k: Annotated[int, Form(ge=2, le=1000)] = 5,
    executor: Executor = "",
    no_header: NoHeader = False,
    mysql_escapes: MysqlEscapes = "",
) -> Response:
    """Write a due-diligence extract into ``extracts/<name>`` (``handover dd-extract``)."""
    from handover.web.jobs import form_reading, plan_extract, start

    console = console_of(request)
    lang = console.lang_of(request)
    reading = form_reading(no_header, mysql_escapes)
    plan = plan_extract(console, me.person.name, source, name, tables, k, lang, executor, reading)
    return _started(start(console, plan).id)


@router.post("/jobs/shred", dependencies=CSRF)
def jobs_shred(
    request: Request,
    me: Session,
    source: Text = "",
    target: Text = "",
    tables: Names = "",
    media: Annotated[list[str] | None, Form()] = None,
    validated_by: Annotated[str, Form(max_length=64)] = "",
    validator_password: Annotated[str, Form(max_length=1024)] = "",
    force: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Destroy and certify (``handover shred``): I execute, the chosen person validates."""
    from handover.web.jobs import ShredForm, plan_shred, start

    console = console_of(request)
    form = ShredForm(
        source,
        target,
        tables,
        tuple(media or ()),
        validated_by,
        validator_password,
        force,
        reason,
    )
    plan = plan_shred(console, me.person.name, form, console.lang_of(request))
    return _started(start(console, plan).id)


@router.post("/jobs/{job_id}/resume", dependencies=CSRF)
def jobs_resume(
    request: Request, me: Session, job_id: RowId, source: Text = "", target: Text = ""
) -> Response:
    """Continue a failed or interrupted migration or campaign in a new job (the same run
    ``--resume`` continues), decided now for me."""
    from handover.web.jobs import plan_resume, start

    console = console_of(request)
    plan = plan_resume(
        console,
        me.person.name,
        job_id,
        console.lang_of(request),
        source=source,
        target=target,
    )
    return _started(start(console, plan).id)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, me: Session, job_id: RowId) -> Response:
    """One job; while it runs, htmx asks for its part again every second."""
    from handover.web.jobs import get_job

    console = console_of(request)
    job = get_job(console.ws, job_id)
    if partial(request, "job"):
        return console.render(request, "_job.html", job=job)
    return console.render(request, "job.html", job=job)


@router.get("/jobs/{job_id}/events")
async def job_events(request: Request, me: Session, job_id: RowId) -> Response:
    """The job's progress as server-sent events while it runs: each message one JSON
    object of the progress protocol (phase, task, advance), then an ``end`` event with
    the status, and the stream closes. A stream opened after a reload starts with where
    the job stands. A job this process runs wakes the stream each time it writes its
    progress (``console.wakeups``); a job of another process is read every
    ``console.events_fallback`` seconds. The page's htmx polling stays the fallback
    without EventSource."""
    import json

    from starlette.concurrency import run_in_threadpool

    from handover.web.jobs import RUNNING, Job, get_job, progress_events

    console = console_of(request)
    lang = console.lang_of(request)
    wakeups = console.wakeups
    # The counter is taken before each read: a write after the read wakes the next wait.
    seen = wakeups.version(job_id)
    first = await run_in_threadpool(get_job, console.ws, job_id)  # unknown: 400, no stream

    def message(doc: dict[str, object], event: str | None = None) -> str:
        head = f"event: {event}\n" if event else ""
        return f"{head}data: {json.dumps(doc, ensure_ascii=False)}\n\n"

    async def stream() -> AsyncIterator[str]:
        nonlocal seen
        before: Job | None = None
        job = first
        while True:
            for doc in progress_events(before, job):
                yield message(doc)
            if job.status != RUNNING:
                end = {
                    "status": job.status,
                    "steps": job.steps,
                    "error": job.error.render(lang) if job.error is not None else None,
                }
                yield message(end, "end")
                return
            if await request.is_disconnected():
                return
            await wakeups.wait(job_id, seen, console.events_fallback)
            seen = wakeups.version(job_id)
            before, job = job, await run_in_threadpool(get_job, console.ws, job_id)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )
