"""The JSON API under ``/api``: the console's views and grant actions for the buyer's
systems, with the OpenAPI schema at ``/api/openapi.json``.

Authentication is a bearer token from ``POST /api/login`` (a console session like the
browser's, same expiry and revocation); cookies are never read here, so a cross-site page
cannot ride on a browser's login and the API needs no CSRF token. Refusals answer 403 with
the reason in the ``Accept-Language`` language, recorded in the ledger as in the CLI.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from handover.web.security import RowId, Seq, console_of, signed_in
from handover.web.sessions import WebSession
from handover.web.views import InventoryQuery, inventory_query

router = APIRouter(prefix="/api", tags=["console"])
Session = Annotated[WebSession, Depends(signed_in)]
JSON = dict[str, Any]


class Error(BaseModel):
    """An error: HTTP status, catalogue key (when there is one), one-line message."""

    status: int
    key: str | None = None
    message: str


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: Error


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input (named in the message)"},
    401: {"model": ErrorBody, "description": "No live session: log in first"},
    403: {"model": ErrorBody, "description": "Refused by policy (recorded in the ledger)"},
}
#: a recorded file served: also not there (404), or changed since it was recorded (409)
FILE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"description": "No such record or file"},
    409: {"description": "The file changed since its SHA-256 was recorded"},
}


class LoginIn(BaseModel):
    """Credentials of a person (the same accounts as ``handover login``)."""

    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginOut(BaseModel):
    """A new session: its bearer token (shown once) and when it expires."""

    token: str
    expires_at: dt.datetime
    person: JSON


class GrantIn(BaseModel):
    """A grant request, as ``handover grants request``."""

    grantee: str = Field(min_length=1, max_length=64)
    scope: str = Field(
        min_length=1, max_length=2000, description="*, C1,C2,C3, tables, table.column"
    )
    mode: str = Field(description="masked, tokenised or clear")
    purpose: str = Field(min_length=1, max_length=300)
    days: int = Field(30, ge=1, le=366)
    actions: list[str] = Field(default_factory=list, max_length=20)


class RevokeIn(BaseModel):
    """Why a grant is revoked (kept in the ledger)."""

    reason: str = Field("", max_length=500)


@router.post("/login", responses=ERRORS)
def api_login(request: Request, body: LoginIn) -> LoginOut:
    """Start a session; throttled per account and per client like the login page."""
    from handover.web.sessions import start_session

    console = console_of(request)
    client = request.client.host if request.client else "-"
    s = start_session(console.ws, body.name, body.password, client, clock=console.clock)
    request.state.actor = s.person.name
    return LoginOut(token=s.token, expires_at=s.expires_at, person=s.person.to_json())


@router.post("/logout", responses=ERRORS)
def api_logout(request: Request, me: Session) -> JSON:
    """End this session: its token is refused from now on."""
    from handover.web.sessions import end_session

    console = console_of(request)
    end_session(console.ws, me, clock=console.clock)
    return {"ended": me.id}


@router.get("/me", responses=ERRORS)
def api_me(me: Session) -> JSON:
    """Who this token belongs to, and until when."""
    return me.to_json()


@router.get("/dashboard", responses=ERRORS)
def api_dashboard(request: Request, me: Session) -> JSON:
    """Stages with evidence, deadlines, pending approvals, grants by state, PII by tier."""
    from handover.web.views import dashboard

    console = console_of(request)
    return dashboard(console.ws, console.now()).to_json()


@router.get("/inventory", responses=ERRORS)
def api_inventory(
    request: Request,
    me: Session,
    query: Annotated[InventoryQuery, Depends(inventory_query)],
    examples: bool = False,
) -> JSON:
    """The newest inventory's columns; ``examples=true`` adds the masked evidence once
    ``scan.evidence`` in masked mode is allowed (ledgered; refused: 403)."""
    from handover.web.views import inventory

    console = console_of(request)
    view = inventory(
        console.ws,
        query,
        console.lang_of(request),
        examples_for=me.person if examples else None,
        now=console.now(),
    )
    return view.to_json()


@router.get("/grants", responses=ERRORS)
def api_grants(
    request: Request,
    me: Session,
    person: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[
        str | None, Query(pattern="^(active|pending|not_yet|expired|rejected|revoked)$")
    ] = None,
) -> list[JSON]:
    """Grants with their approvals and state now (of one grantee; in one state)."""
    from handover.governance.grants import list_grants

    console = console_of(request)
    return [
        g.to_json() for g in list_grants(console.ws, person=person, state=state, now=console.now())
    ]


@router.post("/grants", responses=ERRORS)
def api_grant_request(request: Request, me: Session, body: GrantIn) -> JSON:
    """Request a grant as this session's person (the maker)."""
    from handover.governance.grants import request_grant

    console = console_of(request)
    now = console.now()
    g = request_grant(
        console.ws,
        body.grantee,
        scope=body.scope,
        mode=body.mode,
        purpose=body.purpose,
        actions=body.actions,
        valid_from=now,
        valid_until=now + dt.timedelta(days=body.days),
        actor=me.person.name,
        now=now,
    )
    return g.to_json()


@router.post("/grants/{grant_id}/approve", responses=ERRORS)
def api_grant_approve(request: Request, me: Session, grant_id: RowId) -> JSON:
    """Approve as this session's person (an approver, not the requester or grantee)."""
    from handover.governance.grants import approve_grant

    console = console_of(request)
    return approve_grant(console.ws, grant_id, actor=me.person.name, now=console.now()).to_json()


@router.post("/grants/{grant_id}/reject", responses=ERRORS)
def api_grant_reject(request: Request, me: Session, grant_id: RowId) -> JSON:
    """Reject (same conditions as approving); the grant can never become valid."""
    from handover.governance.grants import reject_grant

    console = console_of(request)
    return reject_grant(console.ws, grant_id, actor=me.person.name, now=console.now()).to_json()


@router.post("/grants/{grant_id}/revoke", responses=ERRORS)
def api_grant_revoke(
    request: Request, me: Session, grant_id: RowId, body: RevokeIn | None = None
) -> JSON:
    """Revoke: its requester, any approver or a manager may stop a grant."""
    from handover.governance.grants import revoke_grant

    console = console_of(request)
    reason = body.reason if body is not None else ""
    return revoke_grant(
        console.ws, grant_id, reason=reason, actor=me.person.name, now=console.now()
    ).to_json()


@router.get("/grants/check", responses=ERRORS)
def api_grant_check(
    request: Request,
    me: Session,
    action: Annotated[str, Query(max_length=40)],
    resource: Annotated[str, Query(max_length=2000)] = "*",
) -> JSONResponse:
    """The decision for this person on ``action`` over ``resource`` now, ledgered either
    way; 403 (with the decision) when refused, as ``handover grants check`` exits 3."""
    from handover.governance import authorize

    console = console_of(request)
    d = authorize(console.ws, me.person.name, action, resource, now=console.now())
    lang = console.lang_of(request)
    out = {**d.to_json(), "reason": d.reason_en if lang == "en" else d.reason}
    return JSONResponse(out, 200 if d.allowed else 403)


@router.get("/ledger", responses=ERRORS)
def api_ledger(
    request: Request,
    me: Session,
    actor: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=100)] = "",
    subject: Annotated[str, Query(max_length=200)] = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSON:
    """Ledger entries newest first (actor exact, action prefix, subject contains, time
    window), and the newest checkpoints with their signatures checked."""
    from handover.web.views import LedgerQuery, ledger_page, utc_bound

    console = console_of(request)
    q = LedgerQuery(actor, action, subject, utc_bound(since), utc_bound(until), page, per_page)
    return ledger_page(console.ws, q).to_json()


@router.get("/ledger/{seq}", responses=ERRORS)
def api_ledger_entry(request: Request, me: Session, seq: Seq) -> JSON:
    """One entry, its inclusion proof recomputed and its checkpoint's signature checked."""
    from handover.web.views import entry_proof

    console = console_of(request)
    return entry_proof(console.ws, seq, me.person.name).to_json()


#: what the ``no_header`` field of the jobs that read CSV files says (``--no-header``)
NO_HEADER = "the CSV files have no header row: the first row is data (columns column_1 …)"
#: what their ``mysql_escapes`` field says (``--mysql-escapes``)
MYSQL_ESCAPES = (
    "the CSV files use MySQL's backslash escapes (SELECT … INTO OUTFILE): \\N is NULL, "
    "an empty field is an empty text; 'unenclosed' as MySQL writes by default, 'enclosed' "
    "for ENCLOSED BY '\"', each with '-crlf' for LINES TERMINATED BY '\\r\\n'; empty: RFC "
    "4180 quoting"
)
#: the layouts a MySQL export may have, and none
MysqlLayout = Literal["", "unenclosed", "enclosed", "unenclosed-crlf", "enclosed-crlf"]


class ScanIn(BaseModel):
    """A scan to start: a database URL, or a file or folder inside the workspace."""

    source: str = Field(min_length=1, max_length=500)
    executor: str = Field(
        "", max_length=200, description="a configured executor; empty: the executor setting"
    )
    no_header: bool = Field(False, description=NO_HEADER)
    mysql_escapes: MysqlLayout = Field("", description=MYSQL_ESCAPES)


class SealIn(BaseModel):
    """A package to seal into the workspace's ``packages/<name>``."""

    source: str = Field(min_length=1, max_length=500)
    name: str = Field(min_length=1, max_length=100, description="package folder name")
    tables: str = Field("", max_length=2000, description="comma-separated; empty: all")
    executor: str = Field(
        "", max_length=200, description="a configured executor; empty: the executor setting"
    )
    no_header: bool = Field(False, description=NO_HEADER)
    mysql_escapes: MysqlLayout = Field("", description=MYSQL_ESCAPES)


class ExtractIn(BaseModel):
    """A due-diligence extract into the workspace's ``extracts/<name>``."""

    source: str = Field(min_length=1, max_length=500)
    name: str = Field(min_length=1, max_length=100, description="extract folder name")
    tables: str = Field("", max_length=2000, description="comma-separated; empty: all")
    k: int = Field(5, ge=2, le=1000)
    executor: str = Field(
        "", max_length=200, description="a configured executor; empty: the executor setting"
    )
    no_header: bool = Field(False, description=NO_HEADER)
    mysql_escapes: MysqlLayout = Field("", description=MYSQL_ESCAPES)


class MigrateIn(BaseModel):
    """A migration, as ``handover migrate`` takes it."""

    source: str = Field(min_length=1, max_length=500)
    target: str = Field(min_length=1, max_length=500)
    tables: str = Field("", max_length=2000)
    batch_size: int = Field(50_000, ge=1, le=1_000_000)
    no_backup: bool = False
    reason: str = Field("", max_length=500)
    allow_rejects: int = Field(0, ge=0, le=1_000_000_000)


class VerifyIn(BaseModel):
    """A row-by-row comparison of two databases."""

    source: str = Field(min_length=1, max_length=500)
    target: str = Field(min_length=1, max_length=500)
    tables: str = Field("", max_length=2000)
    executor: str = Field(
        "", max_length=200, description="a configured executor; empty: the executor setting"
    )


class ShredIn(BaseModel):
    """A destruction: what, verified against which target, validated by whom."""

    source: str = Field("", max_length=500)
    target: str = Field("", max_length=500)
    tables: str = Field("", max_length=2000)
    media: list[str] = Field(default_factory=list, max_length=10)
    validated_by: str = Field("", max_length=64)
    validator_password: str = Field("", max_length=1024)
    force: bool = False
    reason: str = Field("", max_length=500)


class ResumeIn(BaseModel):
    """Where a resumed job reads and writes, when given again (e.g. URLs with passwords)."""

    source: str = Field("", max_length=500)
    target: str = Field("", max_length=500)


@router.post("/jobs/scan", responses=ERRORS)
def api_job_scan(request: Request, me: Session, body: ScanIn) -> JSON:
    """Start a scan in the background (authorised now; refused: 403 and no job)."""
    from handover.web.jobs import form_reading, plan_scan, start

    console = console_of(request)
    lang = console.lang_of(request)
    reading = form_reading(body.no_header, body.mysql_escapes)
    plan = plan_scan(console, me.person.name, body.source, lang, body.executor, reading)
    return start(console, plan).to_json()


@router.post("/jobs/seal", responses=ERRORS)
def api_job_seal(request: Request, me: Session, body: SealIn) -> JSON:
    """Start sealing a transfer package (``seal`` in clear; refused: 403 and no job)."""
    from handover.web.jobs import form_reading, plan_seal, start

    console = console_of(request)
    lang = console.lang_of(request)
    plan = plan_seal(
        console,
        me.person.name,
        body.source,
        body.name,
        body.tables,
        lang,
        body.executor,
        form_reading(body.no_header, body.mysql_escapes),
    )
    return start(console, plan).to_json()


@router.post("/jobs/migrate", responses=ERRORS)
def api_job_migrate(request: Request, me: Session, body: MigrateIn) -> JSON:
    """Start a migration (its run id is in ``params.run_id`` for ``--resume``)."""
    from handover.web.jobs import MigrateForm, plan_migrate, start

    console = console_of(request)
    form = MigrateForm(**body.model_dump())
    plan = plan_migrate(console, me.person.name, form, console.lang_of(request))
    return start(console, plan).to_json()


@router.post("/jobs/verify", responses=ERRORS)
def api_job_verify(request: Request, me: Session, body: VerifyIn) -> JSON:
    """Start a verification (``verify`` in clear; the result holds counts only)."""
    from handover.web.jobs import plan_verify, start

    console = console_of(request)
    lang = console.lang_of(request)
    plan = plan_verify(
        console, me.person.name, body.source, body.target, body.tables, lang, body.executor
    )
    return start(console, plan).to_json()


@router.post("/jobs/dd-extract", responses=ERRORS)
def api_job_extract(request: Request, me: Session, body: ExtractIn) -> JSON:
    """Start a due-diligence extract (``dd.extract`` tokenised; refused: 403 and no job)."""
    from handover.web.jobs import form_reading, plan_extract, start

    console = console_of(request)
    lang = console.lang_of(request)
    plan = plan_extract(
        console,
        me.person.name,
        body.source,
        body.name,
        body.tables,
        body.k,
        lang,
        body.executor,
        form_reading(body.no_header, body.mysql_escapes),
    )
    return start(console, plan).to_json()


@router.post("/jobs/shred", responses=ERRORS)
def api_job_shred(request: Request, me: Session, body: ShredIn) -> JSON:
    """Start a shred executed by this session's person and validated by another."""
    from handover.web.jobs import ShredForm, plan_shred, start

    console = console_of(request)
    form = ShredForm(**{**body.model_dump(), "media": tuple(body.media)})
    plan = plan_shred(console, me.person.name, form, console.lang_of(request))
    return start(console, plan).to_json()


@router.post("/jobs/{job_id}/resume", responses=ERRORS)
def api_job_resume(
    request: Request, me: Session, job_id: RowId, body: ResumeIn | None = None
) -> JSON:
    """Continue a failed or interrupted migration or campaign in a new job."""
    from handover.web.jobs import plan_resume, start

    console = console_of(request)
    given = body or ResumeIn()
    plan = plan_resume(
        console,
        me.person.name,
        job_id,
        console.lang_of(request),
        source=given.source,
        target=given.target,
    )
    return start(console, plan).to_json()


@router.get("/jobs", responses=ERRORS)
def api_jobs(request: Request, me: Session) -> list[JSON]:
    """The newest 50 jobs, newest first."""
    from handover.web.jobs import list_jobs

    return [j.to_json() for j in list_jobs(console_of(request).ws)]


@router.get("/claims", responses=ERRORS)
def api_claims(request: Request, me: Session) -> list[JSON]:
    """What running commands hold on this workspace (console jobs and CLI commands in
    any process), oldest first: ``handover claims --json``."""
    from handover.flows.claims import held_claims

    return held_claims(console_of(request).ws)


@router.get("/jobs/{job_id}", responses=ERRORS)
def api_job(request: Request, me: Session, job_id: RowId) -> JSON:
    """One job: status (running, done, failed, interrupted), steps done, outcome."""
    from handover.web.jobs import get_job

    return get_job(console_of(request).ws, job_id).to_json()
