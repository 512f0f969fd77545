"""The governance pages besides grants: NDAs (register, sign with the signed file's hash,
record a breach), training (courses, my records, taking an assessment in the browser)
and vendors (the security questionnaire, its score, risk and decision). Each action is
the governance call the CLI's ``handover nda``/``training``/``vendors`` makes, decided
for the person logged in."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handover.errors import BadInput
from handover.web.pages import CSRF, Session
from handover.web.security import RowId, console_of
from handover.web.sessions import WebSession

if TYPE_CHECKING:
    from handover.governance.ndas import Nda
    from handover.governance.training import TrainingRecord

router = APIRouter(include_in_schema=False)

Day = Annotated[dt.date, Form()]
#: a signed NDA's file is hashed, never kept; at most this many bytes are read
MAX_DOCUMENT = 20 * 1024 * 1024
#: what remains of an uploaded file's name (recorded with its hash)
SAFE_NAME = re.compile(r"[^A-Za-z0-9._\-\u4e00-\u9fff]+")


def _list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


# --- NDAs ----------------------------------------------------------------------------------


@router.get("/ndas", response_class=HTMLResponse)
def ndas_page(request: Request, me: Session, notice: str = "", id: int = 0) -> Response:
    """Every NDA with its status today, its parties, signatories, scope and breaches."""
    from handover.governance.ndas import list_ndas
    from handover.governance.people import list_orgs, list_people

    console = console_of(request)
    return console.render(
        request,
        "ndas.html",
        ndas=list(reversed(list_ndas(console.ws, now=console.now()))),
        orgs=list_orgs(console.ws),
        people=[p for p in list_people(console.ws) if p.active],
        notice=notice if notice in ("added", "signed", "breach") else "",
        notice_id=id,
    )


@router.post("/ndas", dependencies=CSRF)
def ndas_add(
    request: Request,
    me: Session,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    parties: Annotated[list[str], Form()],
    effective_on: Day,
    expires_on: Day,
    signatories: Annotated[list[str] | None, Form()] = None,
    scope: Annotated[str, Form(max_length=2000)] = "C1,C2,C3",
    purposes: Annotated[str, Form(max_length=2000)] = "*",
    duties: Annotated[str, Form(max_length=4000)] = "",
    liability_clause: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Register an NDA, unsigned until its signed file is given (``handover nda add``)."""
    from handover.governance.ndas import add_nda

    console = console_of(request)
    nda = add_nda(
        console.ws,
        title=title,
        parties=parties,
        signatories=signatories or (),
        scope=scope,
        purposes=_list(purposes) or ["*"],
        duties=duties,
        liability_clause=liability_clause,
        effective_on=effective_on,
        expires_on=expires_on,
        actor=me.person.name,
        now=console.now(),
    )
    return RedirectResponse(f"/ndas?notice=added&id={nda.id}", 303)


async def signed_document(upload: UploadFile, folder: Path) -> Path:
    """The uploaded signed file written under ``folder`` with a safe name (hashed by the
    library, then deleted with the folder); BadInput naming the field when empty or too big."""
    data = await upload.read(MAX_DOCUMENT + 1)
    if not data or len(data) > MAX_DOCUMENT:
        raise BadInput.msg("web.ndas.bad_document", field="document", mb=MAX_DOCUMENT // 2**20)
    name = SAFE_NAME.sub("_", Path(upload.filename or "").name).strip("._") or "document"
    path = folder / name[:120]
    path.write_bytes(data)
    return path


async def sign_uploaded(
    console: Any, actor: str, nda_id: int, signed_on: dt.date, document: UploadFile
) -> Nda:
    """Sign NDA ``nda_id`` with an uploaded signed file: hashed by the library in a
    temporary folder, then deleted (``handover nda sign``); for the page and the API."""
    from starlette.concurrency import run_in_threadpool

    from handover.governance.ndas import sign_nda

    with tempfile.TemporaryDirectory(prefix="handover-nda-") as tmp:
        path = await signed_document(document, Path(tmp))
        return await run_in_threadpool(
            lambda: sign_nda(
                console.ws,
                nda_id,
                signed_on=signed_on,
                document=path,
                actor=actor,
                now=console.now(),
            )
        )


@router.post("/ndas/{nda_id}/sign", dependencies=CSRF)
async def ndas_sign(
    request: Request,
    me: Session,
    nda_id: RowId,
    signed_on: Day,
    document: UploadFile,
) -> Response:
    """Mark an NDA signed: the signed file's SHA-256 is kept, the file is not
    (``handover nda sign``)."""
    await sign_uploaded(console_of(request), me.person.name, nda_id, signed_on, document)
    return RedirectResponse(f"/ndas?notice=signed&id={nda_id}", 303)


@router.post("/ndas/breach", dependencies=CSRF)
def ndas_breach(
    request: Request,
    me: Session,
    nda: Annotated[int, Form(ge=1, le=2**31 - 1)],
    person: Annotated[str, Form(min_length=1, max_length=64)],
    description: Annotated[str, Form(min_length=1, max_length=4000)],
    follow_up: Annotated[str, Form(min_length=1, max_length=4000)],
    occurred_on: Annotated[dt.date | None, Form()] = None,
) -> Response:
    """Record a breach: the NDA stops covering anyone (``handover nda breach``)."""
    from handover.governance.ndas import record_breach

    console = console_of(request)
    record_breach(
        console.ws,
        nda,
        person,
        description=description,
        follow_up=follow_up,
        occurred_on=occurred_on,
        actor=me.person.name,
        now=console.now(),
    )
    return RedirectResponse(f"/ndas?notice=breach&id={nda}", 303)


# --- training ------------------------------------------------------------------------------


@router.get("/training", response_class=HTMLResponse)
def training_page(request: Request, me: Session) -> Response:
    """The courses (required ones marked) and my assessment records."""
    from handover.governance.training import ensure_builtin_courses

    console = console_of(request)
    ensure_builtin_courses(console.ws, now=console.now())
    return _training(request, me, None)


def _training(request: Request, me: WebSession, result: TrainingRecord | None) -> Response:
    from handover.governance.training import list_courses, list_records

    console = console_of(request)
    return console.render(
        request,
        "training.html",
        courses=list_courses(console.ws),
        records=list(reversed(list_records(console.ws, me.person.name))),
        now=console.now(),
        result=result,
    )


@router.get("/training/{code}/take", response_class=HTMLResponse)
def training_take_form(request: Request, me: Session, code: str) -> Response:
    """An attempt: the questions drawn and shuffled by a fresh seed, shown once; the seed
    travels with the form, bound to this session so the answers are graded on exactly
    the questions shown."""
    from handover.governance.training import draw_questions, get_course
    from handover.web.sessions import attempt_tag

    console = console_of(request)
    lang = console.lang_of(request)
    course = get_course(console.ws, code)
    seed = secrets.randbelow(2**31)
    drawn = [
        {"n": n, "prompt": q.prompt[lang], "options": [q.options[i][lang] for i in order]}
        for n, (q, order) in enumerate(draw_questions(course, seed), start=1)
    ]
    return console.render(
        request,
        "training_take.html",
        course=course,
        questions=drawn,
        seed=seed,
        tag=attempt_tag(me.token, course.code, seed),
        letters="ABCDEFGH",
    )


@router.post("/training/{code}/take", dependencies=CSRF)
async def training_take(request: Request, me: Session, code: str) -> Response:
    """Grade the attempt (``handover training take``): the answers of the form, one per
    question, for the questions the seed draws; recorded as mine. A missing answer aborts
    the attempt with nothing recorded (400 naming the question)."""
    from starlette.concurrency import run_in_threadpool

    from handover.governance.training import take_course
    from handover.web.sessions import attempt_matches

    console = console_of(request)
    form = await request.form()
    try:
        seed = int(str(form.get("seed", "")))
    except ValueError:
        raise BadInput.msg("web.invalid", fields="seed") from None
    if not 0 <= seed < 2**31 or not attempt_matches(me.token, code, seed, form.get("tag")):
        raise BadInput.msg("web.training.stale", field="seed")
    answers = {k: str(v) for k, v in form.items() if re.fullmatch(r"q\d{1,3}", k)}

    def ask(q: Any) -> str | None:
        return answers.get(f"q{q.number}")

    rec = await run_in_threadpool(
        lambda: take_course(
            console.ws,
            code,
            ask,
            person=me.person.name,
            seed=seed,
            lang=console.lang_of(request),
            now=console.now(),
        )
    )
    return _training(request, me, rec)


# --- vendors -------------------------------------------------------------------------------


def questionnaire(lang: str) -> list[dict[str, Any]]:
    from handover.governance.vendors import QUESTIONNAIRE

    return [
        {
            "key": q.key,
            "text": q.prompt(lang),
            "multi": q.multi,
            "weight": q.weight,
            "choices": list(q.choices),
        }
        for q in QUESTIONNAIRE
    ]


@router.get("/vendors", response_class=HTMLResponse)
def vendors_page(request: Request, me: Session) -> Response:
    """Registered vendors with their latest assessment, and the questionnaire."""
    from handover.governance.vendors import list_vendors

    console = console_of(request)
    return console.render(
        request,
        "vendors.html",
        vendors=list_vendors(console.ws),
        questions=questionnaire(console.lang_of(request)),
        scored=None,
    )


@router.post("/vendors/assess", dependencies=CSRF)
async def vendors_assess(request: Request, me: Session) -> Response:
    """Score the questionnaire for a vendor and record the assessment and decision
    (``handover vendors assess``; a manager's). A question left unanswered or an answer
    not offered is 400 naming the question; nothing is recorded."""
    from starlette.concurrency import run_in_threadpool

    from handover.governance.vendors import QUESTIONNAIRE, assess_vendor, list_vendors

    console = console_of(request)
    form = await request.form()
    vendor = str(form.get("vendor", "")).strip()
    if not vendor:
        raise BadInput.msg("web.invalid", fields="vendor")
    answers: dict[str, Any] = {}
    for q in QUESTIONNAIRE:
        given = [str(v) for v in form.getlist(q.key)]
        if q.multi:
            answers[q.key] = given
        elif given:
            answers[q.key] = given[0]
    v, sc = await run_in_threadpool(
        lambda: assess_vendor(console.ws, vendor, answers, actor=me.person.name, now=console.now())
    )
    return console.render(
        request,
        "vendors.html",
        vendors=list_vendors(console.ws),
        questions=questionnaire(console.lang_of(request)),
        scored={"vendor": v, "score": sc},
    )
