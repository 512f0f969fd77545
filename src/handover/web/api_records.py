"""The JSON API's governance records: impact assessments (create, edit, opinion, submit,
approve, reject), the risk register (list, add, review), destruction certificates (list,
each checked) and the regulator's dossier (build as a background job, list, check). Each call
is the flow the CLI's command calls, decided for this token's person; refusals are 403
and ledgered. Same authentication as :mod:`handover.web.api`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from handover.web.api import ERRORS, FILE_ERRORS, JSON, Session
from handover.web.security import RowId, Rows, TableName, console_of

router = APIRouter(prefix="/api", tags=["records"])
#: a risk code of the register (no personal data)
Code = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class PiaIn(BaseModel):
    """A new assessment's title (empty: the default title of the transfer)."""

    title: str = Field("", max_length=300)


class EditsIn(BaseModel):
    """Edits of an assessment: the sections and fields of an edits file (docs/pia.md,
    "Editing"): title, necessity, team, signatory, processing, risks, measures, conclusion."""

    edits: dict[str, Any] = Field(min_length=1, max_length=8)


class TextIn(BaseModel):
    """A text: the DPO's opinion, or the reason of a rejection."""

    text: str = Field(max_length=4000)


class RiskIn(BaseModel):
    """A risk for the register, as ``handover risks add``."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = Field(min_length=1, max_length=300)
    source: str = Field(max_length=40, description="network, process, people, business")
    impact: str = Field(max_length=40, description="low, medium, high, severe")
    likelihood: str = Field(max_length=40, description="very_low, low, medium, high")
    owner: str = Field(min_length=1, max_length=64)
    review_on: dt.date
    controls: list[str] = Field(default_factory=list, max_length=50)


class ReviewIn(BaseModel):
    """A review of a register risk, as ``handover risks review``."""

    next_review: dt.date
    status: str | None = Field(None, max_length=40)
    impact: str | None = Field(None, max_length=40)
    likelihood: str | None = Field(None, max_length=40)


def _assessment(a: Any, versions: list[JSON] | None = None) -> JSON:
    out: JSON = a.to_json()
    if versions is not None:
        out["versions"] = versions
    return out


# --- impact assessments ----------------------------------------------------------------------


@router.get("/pia", responses=ERRORS)
def api_pia(request: Request, me: Session) -> JSON:
    """Every assessment's state, the overdue risk reviews, the last checklist run."""
    from handover.flows.pia import status

    console = console_of(request)
    return status(console.ws, now=console.now()).to_json()


@router.post("/pia", responses=ERRORS)
def api_pia_create(request: Request, me: Session, body: PiaIn) -> JSON:
    """Create an assessment pre-filled from what handover holds (``pia new``; pia.edit)."""
    from handover.flows.pia import new_assessment

    console = console_of(request)
    a = new_assessment(console.ws, title=body.title, actor=me.person.name, now=console.now())
    return _assessment(a)


@router.get("/pia/{assessment_id}", responses=ERRORS)
def api_pia_one(request: Request, me: Session, assessment_id: RowId) -> JSON:
    """One assessment at its current version, its decisions, every version kept."""
    from handover.pia.store import get, versions

    console = console_of(request)
    return _assessment(get(console.ws, assessment_id), versions(console.ws, assessment_id))


@router.post("/pia/{assessment_id}/edits", responses=ERRORS)
def api_pia_edit(request: Request, me: Session, assessment_id: RowId, body: EditsIn) -> JSON:
    """Apply edits as a new version (``pia edit``); nothing changes when one value is bad."""
    from handover.flows.pia import edit_values

    console = console_of(request)
    a = edit_values(
        console.ws,
        assessment_id,
        body.edits,
        where="api",
        actor=me.person.name,
        now=console.now(),
    )
    return _assessment(a)


class ExportIn(BaseModel):
    """Which version to export (default: the approved one, else the current)."""

    version: int | None = Field(default=None, ge=1, le=100_000)


@router.post("/pia/{assessment_id}/exports", responses=ERRORS)
def api_pia_export(
    request: Request, me: Session, assessment_id: RowId, body: ExportIn | None = None
) -> JSON:
    """Write the signed report (pia.json + pia.sig, HTML and PDF in zh-CN and en) under
    reports/pia (``pia export``); the export with a download address per file."""
    from handover.flows.pia import export, exports

    console = console_of(request)
    version = body.version if body is not None else None
    export(console.ws, assessment_id, version=version, actor=me.person.name, now=console.now())
    newest = exports(console.ws, assessment_id)[0]
    base = f"/api/pia/{assessment_id}/exports/{newest['id']}"
    return {**newest, "download": {n: f"{base}/{n}" for n in newest["files"]}}


@router.get("/pia/{assessment_id}/exports/{export_id}/{name}", responses=FILE_ERRORS)
def api_pia_export_file(
    request: Request,
    me: Session,
    assessment_id: RowId,
    export_id: RowId,
    name: Annotated[str, Path(min_length=1, max_length=160)],
) -> Response:
    """One file of a signed export, served only while it has the SHA-256 recorded when it
    was written (409 once altered)."""
    from handover.web.pages_pia import export_file

    return export_file(console_of(request).ws, assessment_id, export_id, name)


@router.post("/compliance/check", responses=ERRORS)
def api_compliance_check(request: Request, me: Session) -> JSON:
    """Evaluate the compliance checklist now (``handover compliance check``:
    ``compliance.check``), recorded in the ledger; every item with its evidence."""
    from handover.flows.pia import check

    console = console_of(request)
    report = check(console.ws, actor=me.person.name, now=console.now())
    return report.to_json(console.lang_of(request))


@router.post("/pia/{assessment_id}/opinion", responses=ERRORS)
def api_pia_opinion(request: Request, me: Session, assessment_id: RowId, body: TextIn) -> JSON:
    """Record the DPO's opinion (only a person holding the dpo role)."""
    from handover.flows.pia import opinion

    console = console_of(request)
    a = opinion(console.ws, assessment_id, body.text, actor=me.person.name, now=console.now())
    return _assessment(a)


@router.post("/pia/{assessment_id}/submit", responses=ERRORS)
def api_pia_submit(request: Request, me: Session, assessment_id: RowId) -> JSON:
    """Submit the current version for approval (refused while it has gaps)."""
    from handover.flows.pia import submit

    console = console_of(request)
    return _assessment(submit(console.ws, assessment_id, actor=me.person.name, now=console.now()))


@router.post("/pia/{assessment_id}/approve", responses=ERRORS)
def api_pia_approve(request: Request, me: Session, assessment_id: RowId) -> JSON:
    """Approve the submitted version as its named signatory (checker ≠ maker)."""
    from handover.flows.pia import approve

    console = console_of(request)
    a = approve(console.ws, assessment_id, actor=me.person.name, now=console.now())
    return _assessment(a)


@router.post("/pia/{assessment_id}/reject", responses=ERRORS)
def api_pia_reject(request: Request, me: Session, assessment_id: RowId, body: TextIn) -> JSON:
    """Reject the submitted version with a reason, as its named signatory."""
    from handover.flows.pia import reject

    console = console_of(request)
    a = reject(console.ws, assessment_id, body.text, actor=me.person.name, now=console.now())
    return _assessment(a)


# --- the risk register -----------------------------------------------------------------------


@router.get("/risks", responses=ERRORS)
def api_risks(request: Request, me: Session, overdue: bool = False) -> list[JSON]:
    """The register (only the overdue reviews with ``overdue=true``)."""
    from handover.flows.pia import risks

    console = console_of(request)
    return [r.to_json() for r in risks(console.ws, overdue=overdue, now=console.now())]


@router.post("/risks", responses=ERRORS)
def api_risk_add(request: Request, me: Session, body: RiskIn) -> JSON:
    """Add a risk (``risks add``; pia.edit); its level follows from the method's matrix."""
    from handover.flows.pia import add_risk

    console = console_of(request)
    r = add_risk(
        console.ws,
        **body.model_dump(exclude={"review_on", "controls"}),
        review_on=body.review_on,
        controls=[c.strip() for c in body.controls if c.strip()],
        actor=me.person.name,
        now=console.now(),
    )
    return r.to_json()


@router.post("/risks/{code}/review", responses=ERRORS)
def api_risk_review(request: Request, me: Session, code: Code, body: ReviewIn) -> JSON:
    """Record a review of risk ``code`` and its next review date (``risks review``)."""
    from handover.flows.pia import review_risk

    console = console_of(request)
    r = review_risk(
        console.ws,
        code,
        next_review=body.next_review,
        status=body.status,
        impact=body.impact,
        likelihood=body.likelihood,
        actor=me.person.name,
        now=console.now(),
    )
    return r.to_json()


# --- a table's rows --------------------------------------------------------------------------


@router.get("/records/{table}", responses=ERRORS)
def api_records_view(
    request: Request,
    me: Session,
    table: TableName,
    clear: bool = False,
    rows: Rows = 20,
) -> JSON:
    """The first rows of a scanned table as the records page shows them: masked
    (``scan.evidence`` masked; refused: 403), with ``clear=true`` clear for each tier
    allowed in clear (the refused tiers listed with their reasons), a clear view recorded
    as ``records.view`` (its ``ledger_seq``)."""
    from handover.flows.records import view_records

    console = console_of(request)
    view = view_records(
        console.ws, table, actor=me.person.name, clear=clear, limit=rows, now=console.now()
    )
    return view.to_json(console.lang_of(request))


# --- certificates, the dossier, incidents ----------------------------------------------------


@router.get("/certificates", responses=ERRORS)
def api_certificates(request: Request, me: Session) -> list[JSON]:
    """Every destruction certificate issued, newest first, each with its check
    (signature, signer, ledger proofs) as ``certificate verify`` gives it."""
    from handover.flows.shred import certificates

    return [c.to_json() for c in certificates(console_of(request).ws)]


@router.get("/dossiers", responses=ERRORS)
def api_dossiers(request: Request, me: Session) -> list[JSON]:
    """Every dossier built, newest first (from the ledger)."""
    from handover.flows.dossier import dossiers

    return [d.to_json() for d in dossiers(console_of(request).ws)]


@router.post("/dossiers", responses=ERRORS)
def api_dossier_build(request: Request, me: Session) -> JSON:
    """Build the regulator's dossier in the background (``dossier build``), decided now as
    ``compliance.check`` (refused: 403, no job): the job, followed at ``/api/jobs/{id}``;
    its ``result.name`` is the dossier's, at ``/api/dossiers/{name}``."""
    from handover.web.jobs import plan_dossier, start

    console = console_of(request)
    plan = plan_dossier(console, me.person.name, console.lang_of(request))
    return start(console, plan).to_json()


@router.get("/dossiers/{name}", responses=ERRORS)
def api_dossier(
    request: Request,
    me: Session,
    name: Annotated[
        str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ],
) -> JSON:
    """One dossier and its offline check (``valid`` false with the reason when it fails)."""
    from handover.errors import CheckFailed
    from handover.flows.dossier import check_dossier, find_dossier

    console = console_of(request)
    d = find_dossier(console.ws, name)
    try:
        return {**d.to_json(), "valid": True, "check": check_dossier(console.ws, name)}
    except CheckFailed as exc:
        return {**d.to_json(), "valid": False, "problem": exc.render(console.lang_of(request))}
