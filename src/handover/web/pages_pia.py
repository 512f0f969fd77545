"""The impact assessment page (GB/T 39335, PIPL Art. 55/56): every assessment's status,
the risk register with overdue reviews, and the compliance checklist — its last run's
score and failing items, and a new run (``handover compliance check``) whose results are
shown item by item with their evidence and counter-examples, each a ledger entry."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handover.web.pages import CSRF, Session
from handover.web.security import console_of
from handover.web.sessions import WebSession

router = APIRouter(include_in_schema=False)


def _context(request: Request) -> dict[str, Any]:
    from handover.flows.pia import risks, status
    from handover.governance.people import list_people
    from handover.pia.method import load_method
    from handover.pia.store import RISK_STATUS

    console = console_of(request)
    lang = console.lang_of(request)
    now = console.now()
    method = load_method()
    return {
        "st": status(console.ws, now=now),
        "risks": risks(console.ws, now=now),
        "label": lambda kind, key: method.label(kind, key, lang),
        "method": method,
        "risk_status": RISK_STATUS,
        "people": [p.name for p in list_people(console.ws) if p.active],
    }


@router.get("/pia", response_class=HTMLResponse)
def pia_page(request: Request, me: Session, did: str = "") -> Response:
    """Assessments, risks (overdue reviews first in the warnings), the last checklist run,
    and the forms that create an assessment and add or review a register risk."""
    console = console_of(request)
    done = did if did in ("risk_added", "risk_reviewed") else ""
    return console.render(request, "pia.html", results=None, did=done, **_context(request))


@router.post("/pia/checklist", dependencies=CSRF)
def pia_check(request: Request, me: Session) -> Response:
    """Evaluate the checklist now from the ledger (recomputed first) and the governance
    facts, as ``handover compliance check`` (``compliance.check``: DPO, compliance officer,
    auditor; refused: 403 and ledgered); the results are recorded and shown."""
    from handover.flows.pia import check

    console = console_of(request)
    report = check(console.ws, actor=me.person.name, now=console.now())
    lang = console.lang_of(request)
    items = [r.to_json(lang) for r in report.results]
    return console.render(
        request,
        "pia.html",
        results={"line": report.line(lang), "seq": report.seq, "items": items},
        **_context(request),
    )


# --- the assessment editor -------------------------------------------------------------------

#: what each action on an assessment's page says once done (``web.pia.did.<key>``)
DID = (
    "created",
    "edited",
    "risk",
    "measure",
    "opinion",
    "submitted",
    "approved",
    "rejected",
    "exported",
)
PiaId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=4000)]
Short = Annotated[str, Form(max_length=300)]
#: a risk or measure id of an assessment, a risk code of the register (no personal data)
Code = Annotated[str, Form(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
CodePath = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


def _back(assessment_id: int, did: str) -> RedirectResponse:
    return RedirectResponse(f"/pia/{assessment_id}?did={did}", 303)


def _editor(request: Request, assessment_id: int, version: int | None) -> dict[str, Any]:
    from handover.flows.pia import exports
    from handover.governance.people import list_people
    from handover.pia.assessment import MEASURE_STATUS, TREATMENTS, gaps
    from handover.pia.method import load_method
    from handover.pia.store import get, note_message, versions

    console = console_of(request)
    lang = console.lang_of(request)
    method = load_method()
    a = get(console.ws, assessment_id, version)
    people = [p for p in list_people(console.ws) if p.active]
    return {
        "a": a,
        "doc": a.document,
        "viewing": version,
        "gaps": gaps(a.document),
        "versions": versions(console.ws, assessment_id),
        "exports": exports(console.ws, assessment_id),
        "people": [p.name for p in people],
        "method": method,
        "treatments": TREATMENTS,
        "measure_status": MEASURE_STATUS,
        "pair": lambda v: (v[0] if lang == "zh-CN" else v[1]) if isinstance(v, list) else v,
        "label": lambda kind, key: method.label(kind, key, lang),
        "note_of": lambda note: note_message(str(note or "")).render(lang),
    }


@router.post("/pia", dependencies=CSRF)
def pia_create(request: Request, me: Session, title: Short = "") -> Response:
    """Create an assessment pre-filled from what handover holds (``pia new``)."""
    from handover.flows.pia import new_assessment

    console = console_of(request)
    a = new_assessment(console.ws, title=title, actor=me.person.name, now=console.now())
    return _back(a.id, "created")


@router.get("/pia/{assessment_id}", response_class=HTMLResponse)
def pia_assessment(
    request: Request,
    me: Session,
    assessment_id: PiaId,
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    did: str = "",
) -> Response:
    """One assessment: where it stands and what stops it (gaps), its risks (severity ×
    likelihood) and measures, the DPO's opinion, versions and signed exports, and the
    forms that edit, submit, approve or reject it (``version``: a kept one, read-only)."""
    console = console_of(request)
    ctx = _editor(request, assessment_id, version)
    return console.render(request, "pia_edit.html", did=did if did in DID else "", **ctx)


def _team(text: str) -> list[dict[str, str]]:
    """Team lines ``name role`` (one person a line) as the edits' ``team`` list."""
    out = []
    for line in text.splitlines():
        name, _, role = line.strip().partition(" ")
        if name:
            out.append({"name": name, "role": role.strip()})
    return out


@router.post("/pia/{assessment_id}/edit", dependencies=CSRF)
async def pia_edit(request: Request, me: Session, assessment_id: PiaId) -> Response:
    """Title, necessity (PIPL Art. 55 triggers and note), team, signatory, processing
    note and conclusion as a new version (``pia edit``); the triggers are checkboxes, so
    each is sent true or false."""
    from starlette.concurrency import run_in_threadpool

    from handover.pia.assessment import TRIGGERS

    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    edits: dict[str, Any] = {
        "title": text("title"),
        "conclusion": text("conclusion"),
        "signatory": text("signatory"),
        "necessity": {
            "note": text("necessity_note"),
            **{key: form.get(f"trigger_{key}") == "true" for key in TRIGGERS},
        },
        "processing": {"note": text("processing_note")},
    }
    team = _team(text("team"))
    if team:
        edits["team"] = team
    return await run_in_threadpool(_apply, request, me, assessment_id, edits, "edited")


def _apply(
    request: Request, me: WebSession, assessment_id: int, edits: dict[str, Any], did: str
) -> Response:
    from handover.flows.pia import edit_values

    console = console_of(request)
    edit_values(
        console.ws,
        assessment_id,
        edits,
        where="console",
        actor=me.person.name,
        now=console.now(),
    )
    return _back(assessment_id, did)


@router.post("/pia/{assessment_id}/risks", dependencies=CSRF)
def pia_risk(
    request: Request,
    me: Session,
    assessment_id: PiaId,
    risk: Code,
    title: Short = "",
    source: Short = "",
    impact: Short = "",
    likelihood: Short = "",
    owner: Short = "",
    review_on: Short = "",
    treatment: Short = "",
    measures: Annotated[list[str] | None, Form(max_length=200)] = None,
) -> Response:
    """Add or change one risk of the assessment (a new id needs a title); the fields left
    empty keep their value; its level follows from the method's matrix."""
    given = {
        "title": title,
        "source": source,
        "impact": impact,
        "likelihood": likelihood,
        "owner": owner,
        "review_on": review_on,
        "treatment": treatment,
    }
    fields: dict[str, Any] = {k: v.strip() for k, v in given.items() if v.strip()}
    if measures is not None:
        fields["measures"] = [m for m in measures if m]
    return _apply(request, me, assessment_id, {"risks": {risk: fields}}, "risk")


@router.post("/pia/{assessment_id}/measures", dependencies=CSRF)
def pia_measure(
    request: Request,
    me: Session,
    assessment_id: PiaId,
    measure: Code,
    title: Short = "",
    owner: Short = "",
    due: Short = "",
    status: Short = "",
) -> Response:
    """Add or change one measure (owner, due date, done or planned); empty fields keep
    their value; a new id needs a title."""
    given = {"title": title, "owner": owner, "due": due, "status": status}
    fields = {k: v.strip() for k, v in given.items() if v.strip()}
    return _apply(request, me, assessment_id, {"measures": {measure: fields}}, "measure")


@router.post("/pia/{assessment_id}/opinion", dependencies=CSRF)
def pia_opinion(request: Request, me: Session, assessment_id: PiaId, text: Text) -> Response:
    """Record the DPO's opinion (only a person holding the dpo role) as a new version."""
    from handover.flows.pia import opinion

    console = console_of(request)
    opinion(console.ws, assessment_id, text, actor=me.person.name, now=console.now())
    return _back(assessment_id, "opinion")


@router.post("/pia/{assessment_id}/submit", dependencies=CSRF)
def pia_submit(request: Request, me: Session, assessment_id: PiaId) -> Response:
    """Submit the current version for approval (refused while it has gaps)."""
    from handover.flows.pia import submit

    console = console_of(request)
    submit(console.ws, assessment_id, actor=me.person.name, now=console.now())
    return _back(assessment_id, "submitted")


@router.post("/pia/{assessment_id}/approve", dependencies=CSRF)
def pia_approve(request: Request, me: Session, assessment_id: PiaId) -> Response:
    """Approve the submitted version as its named signatory (checker ≠ maker)."""
    from handover.flows.pia import approve

    console = console_of(request)
    approve(console.ws, assessment_id, actor=me.person.name, now=console.now())
    return _back(assessment_id, "approved")


@router.post("/pia/{assessment_id}/reject", dependencies=CSRF)
def pia_reject(request: Request, me: Session, assessment_id: PiaId, reason: Text = "") -> Response:
    """Reject the submitted version with a reason, as its named signatory."""
    from handover.flows.pia import reject

    console = console_of(request)
    reject(console.ws, assessment_id, reason, actor=me.person.name, now=console.now())
    return _back(assessment_id, "rejected")


@router.post("/pia/{assessment_id}/export", dependencies=CSRF)
def pia_export(
    request: Request,
    me: Session,
    assessment_id: PiaId,
    version: Annotated[int | None, Form(ge=1, le=100_000)] = None,
) -> Response:
    """Write the signed report (pia.json + pia.sig, HTML and PDF in zh-CN and en) under
    reports/pia (``pia export``); default version: the approved one, else the current."""
    from handover.flows.pia import export

    console = console_of(request)
    export(console.ws, assessment_id, version=version, actor=me.person.name, now=console.now())
    return _back(assessment_id, "exported")


@router.get("/pia/{assessment_id}/exports/{export_id}/{name}")
def pia_export_file(
    request: Request,
    me: Session,
    assessment_id: PiaId,
    export_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    name: Annotated[str, Path(max_length=160)],
) -> Response:
    """One file of a signed export, as recorded (name and SHA-256) when it was written."""
    return export_file(console_of(request).ws, assessment_id, export_id, name)


def export_file(ws: Any, assessment_id: int, export_id: int, name: str) -> Response:
    """File ``name`` of export ``export_id`` of the assessment (404 when either is not
    there), served only while it has the SHA-256 recorded when it was written (409)."""
    from handover.flows.pia import exports
    from handover.web.files import download

    found = next((x for x in exports(ws, assessment_id) if x["id"] == export_id), None)
    if found is None:
        raise HTTPException(404)
    return download(ws, found["folder"], name, found["files"])


# --- the risk register -----------------------------------------------------------------------


@router.post("/pia/risks", dependencies=CSRF)
def register_add(
    request: Request,
    me: Session,
    code: Code,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    source: Short,
    impact: Short,
    likelihood: Short,
    owner: Short,
    review_on: Annotated[dt.date, Form()],
    controls: Text = "",
) -> Response:
    """Add a risk to the register (``risks add``); its level follows from the matrix."""
    from handover.flows.pia import add_risk

    console = console_of(request)
    add_risk(
        console.ws,
        code=code,
        title=title,
        source=source,
        impact=impact,
        likelihood=likelihood,
        owner=owner,
        review_on=review_on,
        controls=[c.strip() for c in controls.splitlines() if c.strip()],
        actor=me.person.name,
        now=console.now(),
    )
    return RedirectResponse(f"/pia?did=risk_added#risk-{code}", 303)


@router.post("/pia/risks/review", dependencies=CSRF)
def register_review(
    request: Request,
    me: Session,
    code: Code,
    next_review: Annotated[dt.date, Form()],
    status: Short = "",
    impact: Short = "",
    likelihood: Short = "",
) -> Response:
    """Record a review of a register risk and its next review date (``risks review``)."""
    from handover.flows.pia import review_risk

    console = console_of(request)
    review_risk(
        console.ws,
        code,
        next_review=next_review,
        status=status or None,
        impact=impact or None,
        likelihood=likelihood or None,
        actor=me.person.name,
        now=console.now(),
    )
    return RedirectResponse(f"/pia?did=risk_reviewed#risk-{code}", 303)
