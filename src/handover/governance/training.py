"""Training: courses with a question bank (zh-CN + en), assessments taken in the
terminal with shuffled questions and options, scored records with an expiry.

The shipped course ``pipl-jrt0171`` (PIPL and JR/T 0171-2020) lives in
``governance/courses/`` and is installed into a workspace on first use.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover.crypto.digest import sha256_hex
from handover.errors import BadInput, Refused
from handover.governance.models import CourseRow, PersonRow, TrainingRecordRow
from handover.governance.people import Person, load_person
from handover.governance.policy import ALL, MANAGE, now_utc, utc
from handover.i18n import LANGS, normalize_lang

if TYPE_CHECKING:
    from handover.workspace import Workspace

COURSES_DIR = Path(__file__).parent / "courses"
LETTERS = "ABCDEFGH"
MAX_TRIES = 3


@dataclass(frozen=True)
class Question:
    """One question of a bank: prompt and options in every language, the right option."""

    id: str
    reference: str
    prompt: dict[str, str]
    options: tuple[dict[str, str], ...]
    answer: int
    explanation: dict[str, str]


@dataclass(frozen=True)
class Course:
    """A course: title, pass mark (0-1), validity, questions per attempt and its bank."""

    code: str
    version: int
    title: dict[str, str]
    pass_mark: float
    validity_days: int
    questions_per_attempt: int
    required: bool
    questions: tuple[Question, ...]

    def to_json(self) -> dict[str, Any]:
        """Machine form (without the answers)."""
        return {
            "code": self.code,
            "version": self.version,
            "title": self.title,
            "pass_mark": self.pass_mark,
            "validity_days": self.validity_days,
            "questions_per_attempt": self.questions_per_attempt,
            "bank_size": len(self.questions),
            "required": self.required,
        }


def parse_course(doc: Any, where: str) -> Course:
    """Validate a course document (the JSON of a course file); BadInput names the spot."""

    def need(cond: bool, what: str, **values: Any) -> None:
        if not cond:
            raise BadInput.msg(f"gov.course.{what}", where=where, **values)

    def texts(value: Any, field: str, **question: Any) -> dict[str, str]:
        # ``field`` is the JSON field (title, prompt, options[i], explanation)
        pre = "q_" if question else ""
        need(isinstance(value, dict), f"{pre}texts", field=field, **question)
        for lang in LANGS:
            need(
                isinstance(value.get(lang), str) and value[lang].strip() != "",
                f"{pre}text_lacks",
                field=field,
                lang=lang,
                **question,
            )
        return {lang: str(value[lang]) for lang in LANGS}

    need(isinstance(doc, dict), "not_object")
    code = doc.get("code")
    need(isinstance(code, str) and 2 <= len(code) <= 64, "code")
    version = doc.get("version")
    need(isinstance(version, int) and version >= 1, "version")
    pass_mark = doc.get("pass_mark")
    need(isinstance(pass_mark, (int, float)) and 0 < pass_mark <= 1, "pass_mark")
    validity = doc.get("validity_days")
    need(isinstance(validity, int) and 1 <= validity <= 3660, "validity")
    raw_qs = doc.get("questions")
    need(isinstance(raw_qs, list) and len(raw_qs) >= 1, "questions")
    questions: list[Question] = []
    seen: set[str] = set()
    for n, q in enumerate(raw_qs, start=1):
        need(isinstance(q, dict), "question_object", n=n)
        qid = q.get("id")
        need(isinstance(qid, str) and qid != "" and qid not in seen, "question_id", n=n)
        seen.add(qid)
        opts = q.get("options")
        need(
            isinstance(opts, list) and 2 <= len(opts) <= len(LETTERS),
            "options",
            n=n,
            qid=qid,
            max=len(LETTERS),
        )
        answer = q.get("answer")
        need(isinstance(answer, int) and 0 <= answer < len(opts), "answer", n=n, qid=qid)
        questions.append(
            Question(
                id=qid,
                reference=str(q.get("reference", "")),
                prompt=texts(q.get("prompt"), "prompt", n=n, qid=qid),
                options=tuple(texts(o, f"options[{i}]", n=n, qid=qid) for i, o in enumerate(opts)),
                answer=answer,
                explanation=texts(q.get("explanation"), "explanation", n=n, qid=qid),
            )
        )
    per = doc.get("questions_per_attempt", len(questions))
    need(isinstance(per, int) and 1 <= per <= len(questions), "per_attempt")
    return Course(
        code=code,
        version=version,
        title=texts(doc.get("title"), "title"),
        pass_mark=float(pass_mark),
        validity_days=validity,
        questions_per_attempt=per,
        required=bool(doc.get("required", True)),
        questions=tuple(questions),
    )


def load_course_file(path: Path) -> tuple[Course, dict[str, Any], str]:
    """Read and validate a course file: the course, its document and its SHA-256."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput.msg(
            "gov.file_unreadable", path=path, reason=exc.strerror or type(exc).__name__
        ) from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput.msg("gov.course.json", path=path, detail=str(exc).splitlines()[0]) from None
    return parse_course(doc, str(path)), doc, sha256_hex(raw)


def builtin_course_files() -> list[Path]:
    """The course files shipped with handover."""
    return sorted(COURSES_DIR.glob("*.json"))


def _install(s: Session, course: Course, doc: dict[str, Any], digest: str, at: dt.datetime) -> bool:
    row = s.scalars(select(CourseRow).where(CourseRow.code == course.code)).one_or_none()
    if row is not None:
        if row.version > course.version or row.content_sha256 == digest:
            return False
        if row.version == course.version:
            raise BadInput.msg("gov.course_conflict", code=course.code, version=course.version)
        row.version, row.content, row.content_sha256 = course.version, doc, digest
        row.required = course.required
        return True
    s.add(
        CourseRow(
            code=course.code,
            version=course.version,
            content=doc,
            content_sha256=digest,
            required=course.required,
            created_at=at,
        )
    )
    return True


@functools.lru_cache(maxsize=1)
def _builtin_courses() -> tuple[tuple[Course, dict[str, Any], str], ...]:
    # Shipped files never change within a process; the store may (a demo recreates it),
    # so only the parsing is cached, never the "installed" state.
    return tuple(load_course_file(path) for path in builtin_course_files())


def ensure_builtin_courses(ws: Workspace, *, now: dt.datetime | None = None) -> None:
    """Install (or upgrade) the shipped courses in the workspace store."""
    at = now_utc(now)
    with ws.store.session() as s:
        for course, doc, digest in _builtin_courses():
            _install(s, course, doc, digest, at)


def import_course(
    ws: Workspace, path: Path, *, actor: str | None = None, now: dt.datetime | None = None
) -> Course:
    """Install a course file (needs ``governance.manage``); a newer version replaces the old."""
    from handover.governance.authorize import require
    from handover.ledger import record

    course, doc, digest = load_course_file(path)
    who = require(ws, MANAGE, ALL, actor=actor, now=now).actor
    with ws.store.session() as s:
        changed = _install(s, course, doc, digest, now_utc(now))
    if changed:
        record(
            ws,
            who,
            "governance.course.import",
            f"course {course.code}",
            "training",
            {"version": course.version, "sha256": digest, "questions": len(course.questions)},
        )
    return course


def _course(s: Session, code: str) -> Course:
    row = s.scalars(select(CourseRow).where(CourseRow.code == code)).one_or_none()
    if row is None:
        raise BadInput.msg("gov.no_course", code=code)
    return parse_course(row.content, f"course {code}")


def get_course(ws: Workspace, code: str) -> Course:
    """The installed course ``code``."""
    ensure_builtin_courses(ws)
    with ws.store.session() as s:
        return _course(s, code)


def list_courses(ws: Workspace) -> list[Course]:
    """Every installed course."""
    ensure_builtin_courses(ws)
    with ws.store.session() as s:
        return [
            parse_course(r.content, f"course {r.code}")
            for r in s.scalars(select(CourseRow).order_by(CourseRow.code))
        ]


@dataclass(frozen=True)
class AskedQuestion:
    """A question as shown to the person: number, text and lettered options in one language."""

    number: int
    total: int
    prompt: str
    options: tuple[str, ...]
    attempt: int

    @property
    def letters(self) -> str:
        """The letters that are valid answers."""
        return LETTERS[: len(self.options)]


Ask = Callable[[AskedQuestion], str | None]


@dataclass(frozen=True)
class TrainingRecord:
    """One assessment result."""

    id: int
    person: str
    course: str
    version: int
    score: float
    passed: bool
    taken_at: dt.datetime
    expires_at: dt.datetime | None
    wrong: tuple[str, ...] = ()

    def current(self, now: dt.datetime) -> bool:
        """Whether it counts at ``now``: passed, taken at or before ``now`` (a record
        stamped later, e.g. under an injected or wrong clock, does not yet exist then) and
        not expired."""
        return (
            self.passed
            and self.taken_at <= now
            and self.expires_at is not None
            and self.expires_at > now
        )

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "person": self.person,
            "course": self.course,
            "version": self.version,
            "score": round(self.score, 4),
            "passed": self.passed,
            "taken_at": self.taken_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "wrong": list(self.wrong),
        }


def draw_questions(course: Course, seed: int) -> list[tuple[Question, list[int]]]:
    """The questions of one attempt and each one's option order, fixed by ``seed``."""
    rng = random.Random(seed)
    drawn = rng.sample(list(course.questions), course.questions_per_attempt)
    out = []
    for q in drawn:
        order = list(range(len(q.options)))
        rng.shuffle(order)
        out.append((q, order))
    return out


def take_course(
    ws: Workspace,
    code: str,
    ask: Ask,
    *,
    person: str | None = None,
    seed: int | None = None,
    lang: str | None = None,
    now: dt.datetime | None = None,
) -> TrainingRecord:
    """Run an assessment of course ``code``: ``questions_per_attempt`` questions drawn and
    shuffled (options too) by ``seed``, each answered through ``ask`` (a letter; None
    aborts). The logged-in person takes it unless ``person`` is given (library use).
    Nothing is recorded when the assessment is aborted.
    """
    from handover.governance.session import current_person
    from handover.ledger import record

    language = normalize_lang(lang or ws.settings.lang)
    if person is None:
        me = current_person(ws, now=now)
        if me is None:
            raise Refused.msg("gov.login_needed")
        person = me.name
    course = get_course(ws, code)
    seed = secrets.randbelow(2**31) if seed is None else seed
    drawn = draw_questions(course, seed)
    results: list[dict[str, Any]] = []
    for n, (q, order) in enumerate(drawn, start=1):
        shown = tuple(q.options[i][language] for i in order)
        letter: str | None = None
        for attempt in range(1, MAX_TRIES + 1):
            reply = ask(AskedQuestion(n, len(drawn), q.prompt[language], shown, attempt))
            if reply is None:
                raise BadInput.msg("gov.training_aborted", n=n)
            reply = reply.strip().upper()
            if len(reply) == 1 and reply in LETTERS[: len(shown)]:
                letter = reply
                break
        if letter is None:
            raise BadInput.msg("gov.training_bad_answer", n=n)
        chosen = order[LETTERS.index(letter)]
        results.append({"id": q.id, "chosen": chosen, "correct": chosen == q.answer})
    score = sum(r["correct"] for r in results) / len(results)
    passed = score + 1e-9 >= course.pass_mark
    at = now_utc(now)
    expires = at + dt.timedelta(days=course.validity_days) if passed else None
    with ws.store.session() as s:
        prow = s.scalars(select(PersonRow).where(PersonRow.name == person)).one_or_none()
        if prow is None:
            raise BadInput.msg("gov.no_person", name=person)
        row = TrainingRecordRow(
            person_id=prow.id,
            course_code=course.code,
            course_version=course.version,
            score=score,
            passed=passed,
            taken_at=at,
            expires_at=expires,
            seed=seed,
            details={"questions": results},
        )
        s.add(row)
        s.flush()
        rec = TrainingRecord(
            row.id,
            person,
            course.code,
            course.version,
            score,
            passed,
            at,
            expires,
            tuple(r["id"] for r in results if not r["correct"]),
        )
    record(
        ws,
        person,
        "governance.training.take",
        f"course {course.code}",
        "training",
        {
            "score": round(score, 4),
            "passed": passed,
            "version": course.version,
            "expires_at": expires.isoformat() if expires else None,
        },
    )
    return rec


def all_records(s: Session, person_id: int | None = None) -> list[TrainingRecord]:
    """Training records (of one person), oldest first."""
    stmt = (
        select(TrainingRecordRow, PersonRow.name)
        .join(PersonRow, PersonRow.id == TrainingRecordRow.person_id)
        .order_by(TrainingRecordRow.taken_at, TrainingRecordRow.id)
    )
    if person_id is not None:
        stmt = stmt.where(TrainingRecordRow.person_id == person_id)
    out = []
    for r, name in s.execute(stmt).all():
        wrong = tuple(q["id"] for q in (r.details or {}).get("questions", []) if not q["correct"])
        out.append(
            TrainingRecord(
                r.id,
                name,
                r.course_code,
                r.course_version,
                r.score,
                r.passed,
                utc(r.taken_at),
                utc(r.expires_at) if r.expires_at else None,
                wrong,
            )
        )
    return out


def list_records(ws: Workspace, person: str | None = None) -> list[TrainingRecord]:
    """Training records, oldest first; of one person when ``person`` is given."""
    with ws.store.session() as s:
        pid = load_person(s, person).id if person is not None else None
        return all_records(s, pid)


@dataclass(frozen=True)
class TrainingGap:
    """A required course a person lacks at some time: never passed, or lapsed on a date."""

    course: str
    lapsed_at: dt.datetime | None


def training_gaps(s: Session, person: Person, now: dt.datetime) -> list[TrainingGap]:
    """Required courses without a current passing record for ``person`` at ``now``."""
    required = s.scalars(select(CourseRow.code).where(CourseRow.required.is_(True))).all()
    recs = all_records(s, person.id)
    gaps = []
    for code in sorted(required):
        # Only what was taken by ``now``: a later record neither counts nor "lapsed".
        mine = [r for r in recs if r.course == code and r.passed and r.taken_at <= now]
        if any(r.current(now) for r in mine):
            continue
        last = max((r.expires_at for r in mine if r.expires_at), default=None)
        gaps.append(TrainingGap(code, last))
    return gaps
