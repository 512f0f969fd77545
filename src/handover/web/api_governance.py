"""The JSON API's governance registers besides grants: NDAs (list, register, sign with the
signed file's hash, record a breach, one), training (courses, an attempt drawn and
graded, records) and vendors (list, the questionnaire, a score, an assessment recorded,
one). Each call is the governance function the CLI's ``handover nda``/``training``/
``vendors`` calls, decided for this token's person; refusals are 403 and ledgered. Same
authentication as :mod:`handover.web.api`."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from pydantic import BaseModel, Field

from handover.errors import BadInput
from handover.web.api import ERRORS, JSON, Session
from handover.web.security import RowId, console_of

router = APIRouter(prefix="/api", tags=["governance"])
#: a course code (no personal data)
CourseCode = Annotated[
    str, Path(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
#: a vendor's organisation name as registered
VendorName = Annotated[str, Path(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class NdaIn(BaseModel):
    """An NDA to register, as ``handover nda add`` (unsigned until its file is given)."""

    title: str = Field(min_length=1, max_length=300)
    parties: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20
    )
    signatories: list[Name] = Field(default_factory=list, max_length=50)
    scope: str = Field("C1,C2,C3", max_length=2000, description="C1,C2,C3, tables, columns")
    purposes: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=lambda: ["*"], min_length=1, max_length=20
    )
    duties: str = Field("", max_length=4000)
    liability_clause: str = Field("", max_length=4000)
    effective_on: dt.date
    expires_on: dt.date


class BreachIn(BaseModel):
    """A breach of an NDA by a person, as ``handover nda breach``."""

    person: Name
    description: str = Field(min_length=1, max_length=4000)
    follow_up: str = Field(min_length=1, max_length=4000)
    occurred_on: dt.date | None = None


class AttemptOut(BaseModel):
    """An attempt drawn for this session: its seed and tag (send both back with the
    answers) and the questions with their lettered options in the reader's language."""

    course: str
    seed: int
    tag: str
    questions: list[JSON]


class AnswersIn(BaseModel):
    """The answers of an attempt: one letter per question number (``{"1": "B", ...}``)."""

    seed: int = Field(ge=0, lt=2**31)
    tag: str = Field(min_length=64, max_length=64)
    answers: dict[Annotated[str, Field(pattern=r"^\d{1,3}$")], str] = Field(max_length=100)


class QuestionnaireIn(BaseModel):
    """Questionnaire answers: question key → choice (a list for multiple-choice ones)."""

    answers: dict[Annotated[str, Field(max_length=60)], str | list[str]] = Field(max_length=40)


# --- NDAs ----------------------------------------------------------------------------------


@router.get("/ndas", responses=ERRORS)
def api_ndas(request: Request, me: Session) -> list[JSON]:
    """Every NDA with its status today, newest first."""
    from handover.governance.ndas import list_ndas

    console = console_of(request)
    return [n.to_json() for n in reversed(list_ndas(console.ws, now=console.now()))]


@router.post("/ndas", responses=ERRORS)
def api_nda_add(request: Request, me: Session, body: NdaIn) -> JSON:
    """Register an NDA (``nda add``; governance.manage); pending until signed."""
    from handover.governance.ndas import add_nda

    console = console_of(request)
    return add_nda(
        console.ws,
        **body.model_dump(),
        actor=me.person.name,
        now=console.now(),
    ).to_json()


@router.get("/ndas/{nda_id}", responses=ERRORS)
def api_nda(request: Request, me: Session, nda_id: RowId) -> JSON:
    """One NDA with its status today, parties, signatories, scope and breaches."""
    from handover.governance.ndas import get_nda

    console = console_of(request)
    return get_nda(console.ws, nda_id, now=console.now()).to_json()


@router.post("/ndas/{nda_id}/sign", responses=ERRORS)
async def api_nda_sign(
    request: Request,
    me: Session,
    nda_id: RowId,
    signed_on: Annotated[dt.date, Form()],
    document: Annotated[UploadFile, File(description="the signed file: hashed, not kept")],
) -> JSON:
    """Mark an NDA signed (``nda sign``): the signed file's SHA-256 is kept, the file is not."""
    from handover.web.pages_governance import sign_uploaded

    nda = await sign_uploaded(console_of(request), me.person.name, nda_id, signed_on, document)
    return nda.to_json()


@router.post("/ndas/{nda_id}/breaches", responses=ERRORS)
def api_nda_breach(request: Request, me: Session, nda_id: RowId, body: BreachIn) -> JSON:
    """Record a breach (``nda breach``): the NDA stops covering anyone."""
    from handover.governance.ndas import record_breach

    console = console_of(request)
    return record_breach(
        console.ws,
        nda_id,
        body.person,
        description=body.description,
        follow_up=body.follow_up,
        occurred_on=body.occurred_on,
        actor=me.person.name,
        now=console.now(),
    ).to_json()


# --- training ------------------------------------------------------------------------------


@router.get("/training/courses", responses=ERRORS)
def api_courses(request: Request, me: Session) -> list[JSON]:
    """The installed courses (the shipped ones installed on first read)."""
    from handover.governance.training import ensure_builtin_courses, list_courses

    console = console_of(request)
    ensure_builtin_courses(console.ws, now=console.now())
    return [c.to_json() for c in list_courses(console.ws)]  # without the answers


@router.get("/training/records", responses=ERRORS)
def api_training_records(request: Request, me: Session) -> list[JSON]:
    """This person's assessment results, newest first."""
    from handover.governance.training import list_records

    console = console_of(request)
    return [r.to_json() for r in reversed(list_records(console.ws, me.person.name))]


@router.post("/training/{code}/attempts", responses=ERRORS)
def api_training_draw(request: Request, me: Session, code: CourseCode) -> AttemptOut:
    """Draw an attempt of course ``code``: questions and options shuffled by a fresh seed,
    bound to this session (answer with ``POST /api/training/{code}/answers``)."""
    from handover.governance.training import draw_questions, get_course
    from handover.web.sessions import attempt_tag

    console = console_of(request)
    lang = console.lang_of(request)
    course = get_course(console.ws, code)
    seed = secrets.randbelow(2**31)
    letters = "ABCDEFGH"
    questions = [
        {
            "number": n,
            "prompt": q.prompt[lang],
            "options": {letters[i]: q.options[o][lang] for i, o in enumerate(order)},
        }
        for n, (q, order) in enumerate(draw_questions(course, seed), start=1)
    ]
    tag = attempt_tag(me.token, course.code, seed)
    return AttemptOut(course=course.code, seed=seed, tag=tag, questions=questions)


@router.post("/training/{code}/answers", responses=ERRORS)
def api_training_take(request: Request, me: Session, code: CourseCode, body: AnswersIn) -> JSON:
    """Grade an attempt drawn for this session (``training take``): the score and whether
    it passed, recorded as this person's. A question left unanswered records nothing
    (400 naming it)."""
    from handover.governance.training import take_course
    from handover.web.sessions import attempt_matches

    console = console_of(request)
    if not attempt_matches(me.token, code, body.seed, body.tag):
        raise BadInput.msg("web.training.stale", field="seed")
    answers = {int(k): v for k, v in body.answers.items()}

    def ask(q: Any) -> str | None:
        return answers.get(q.number)

    rec = take_course(
        console.ws,
        code,
        ask,
        person=me.person.name,
        seed=body.seed,
        lang=console.lang_of(request),
        now=console.now(),
    )
    return rec.to_json()


# --- vendors -------------------------------------------------------------------------------


@router.get("/vendors", responses=ERRORS)
def api_vendors(request: Request, me: Session) -> list[JSON]:
    """Every registered vendor with its latest assessment."""
    from handover.governance.vendors import list_vendors

    return [v.to_json() for v in list_vendors(console_of(request).ws)]


@router.get("/vendors/questionnaire", responses=ERRORS)
def api_questionnaire(request: Request, me: Session) -> list[JSON]:
    """The security questionnaire: each question's key, text, weight and choices."""
    from handover.web.pages_governance import questionnaire

    return questionnaire(console_of(request).lang_of(request))


@router.post("/vendors/score", responses=ERRORS)
def api_vendor_score(request: Request, me: Session, body: QuestionnaireIn) -> JSON:
    """Score answers without recording anything (the questionnaire's rules, pure)."""
    from handover.governance.vendors import score_answers

    return score_answers(body.answers, "answers").to_json()


@router.get("/vendors/{name}", responses=ERRORS)
def api_vendor(request: Request, me: Session, name: VendorName) -> JSON:
    """One vendor with its latest assessment."""
    from handover.governance.vendors import get_vendor

    return get_vendor(console_of(request).ws, name).to_json()


@router.post("/vendors/{name}/assessments", responses=ERRORS)
def api_vendor_assess(
    request: Request, me: Session, name: VendorName, body: QuestionnaireIn
) -> JSON:
    """Score the questionnaire for vendor ``name`` and record the assessment and decision
    (``vendors assess``; governance.manage)."""
    from handover.governance.vendors import assess_vendor

    console = console_of(request)
    v, sc = assess_vendor(
        console.ws, name, dict(body.answers), actor=me.person.name, now=console.now()
    )
    return {"vendor": v.to_json(), "score": sc.to_json()}
