"""A scanned table's rows (masked, clear per tier when allowed and asked for, every clear
view in the ledger), and the records the regulator asks for: destruction certificates (each checked as
``handover certificate verify`` checks it: signature, signer, ledger proofs) and the
regulator's dossier (built as ``handover dossier build`` builds it, in a background
job, listed, checked
offline as its ``verify.py`` does, downloaded). Files come only from the workspace's
reports folder; URLs name a run or a dossier and a plain file name, nothing else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handover.web.pages import CSRF, Session
from handover.web.security import Rows, TableName, console_of

router = APIRouter(include_in_schema=False)

#: a shred run's id (``shred-<UTC time>-<hex>``) or a dossier folder's name
RecordName = Annotated[
    str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
FileName = Annotated[str, Path(min_length=1, max_length=160)]


# --- a table's rows ---------------------------------------------------------------------------


@router.get("/records/{table}", response_class=HTMLResponse)
def records_page(
    request: Request,
    me: Session,
    table: TableName,
    clear: bool = False,
    rows: Rows = 20,
) -> Response:
    """The first rows of a scanned table, masked; with ``clear`` the columns of each tier
    my grant allows in clear are shown clear and the view is recorded (``records.view``).
    Who may not see a scan's evidence (the auditor, anyone without a grant) gets 403."""
    from handover.flows.records import view_records

    console = console_of(request)
    view = view_records(
        console.ws, table, actor=me.person.name, clear=clear, limit=rows, now=console.now()
    )
    return console.render(request, "records.html", view=view, rows_shown=rows)


# --- certificates ----------------------------------------------------------------------------


@router.get("/certificates", response_class=HTMLResponse)
def certificates_page(request: Request, me: Session) -> Response:
    """Every certificate issued, newest first: the run, what was destroyed, kept and not
    reached, the signature and ledger-proof check, and its files to download."""
    from handover.flows.shred import certificates

    console = console_of(request)
    found = certificates(console.ws)
    lang = console.lang_of(request)
    return console.render(
        request, "certificates.html", certs=found, note_of=lambda i: _note_of(i, lang)
    )


def _note_of(item: dict[str, Any], lang: str) -> str:
    """An item's note in the reader's language when the certificate carries it as a
    catalogue message (``note_key``/``note_params``), else its recorded English."""
    from handover.i18n import t

    key, params = item.get("note_key"), item.get("note_params")
    if isinstance(key, str) and isinstance(params, dict):
        try:
            return t(key, lang, **params)
        except (KeyError, ValueError, IndexError):
            pass
    return str(item.get("note") or "")


@router.get("/certificates/{run_id}/{name}")
def certificate_file(request: Request, me: Session, run_id: RecordName, name: FileName) -> Response:
    """One file of a certificate's folder (JSON, signature, HTML, PDF)."""
    from handover.flows.shred import certificates
    from handover.web.files import download

    console = console_of(request)
    cert = next((c for c in certificates(console.ws) if c.run_id == run_id), None)
    if cert is None or name not in cert.files:
        raise HTTPException(404)
    return download(console.ws, cert.folder, name, None)


# --- the regulator's dossier -----------------------------------------------------------------


@router.get("/dossiers", response_class=HTMLResponse)
def dossiers_page(request: Request, me: Session, built: str = "") -> Response:
    """The dossiers built, newest first, and the form that builds a new one."""
    from handover.flows.dossier import dossiers

    console = console_of(request)
    found = dossiers(console.ws)
    done = built if any(d.name == built for d in found) else ""
    return console.render(request, "dossiers.html", dossiers=found, built=done)


@router.post("/dossiers", dependencies=CSRF)
def dossier_build(request: Request, me: Session) -> Response:
    """Build a dossier in the background (``dossier build``: the checklist evaluated
    afresh, every record gathered, bound to the ledger, signed), decided now as
    ``compliance.check`` (refused: 403, no job); the job's page follows it and links the
    dossier once built."""
    from handover.web.jobs import plan_dossier, start

    console = console_of(request)
    job = start(console, plan_dossier(console, me.person.name, console.lang_of(request)))
    return RedirectResponse(f"/jobs/{job.id}", 303)


@router.get("/dossiers/{name}", response_class=HTMLResponse)
def dossier_page(request: Request, me: Session, name: RecordName, built: int = 0) -> Response:
    """One dossier: its record, its offline check (files, ledger bundle, signature,
    bindings; the ledger key pinned to this workspace's), its files to download."""
    from handover.errors import CheckFailed
    from handover.flows.dossier import check_dossier, find_dossier
    from handover.web.files import NAME

    console = console_of(request)
    d = find_dossier(console.ws, name)
    result = failure = None
    try:
        result = check_dossier(console.ws, name)
    except CheckFailed as exc:
        failure = exc.render(console.lang_of(request))
    files = (
        sorted(p.name for p in d.folder.iterdir() if p.is_file() and NAME.match(p.name))
        if d.present
        else []
    )
    return console.render(
        request,
        "dossier.html",
        d=d,
        result=result,
        failure=failure,
        files=files,
        built=bool(built),
    )


@router.get("/dossiers/{name}/archive.zip")
def dossier_zip(request: Request, me: Session, name: RecordName) -> Response:
    """The whole dossier folder as one zip."""
    from handover.flows.dossier import archive

    console = console_of(request)
    body = archive(console.ws, name)
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )


@router.get("/dossiers/{name}/{file}")
def dossier_file(request: Request, me: Session, name: RecordName, file: FileName) -> Response:
    """One top-level file of a dossier (its renderings, manifest, verify.py)."""
    from handover.flows.dossier import find_dossier
    from handover.web.files import download

    console = console_of(request)
    d = find_dossier(console.ws, name)
    return download(console.ws, d.folder, file, None)
