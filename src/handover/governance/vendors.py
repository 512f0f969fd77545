"""Vendors (第三方): registration, the security questionnaire with weighted scoring,
risk level, decision, reassessment date and the agreement that binds them.

Score = sum over questions of weight × the fraction earned by the answer (0-100).
Knock-outs: data kept outside mainland China is ``critical`` (PIPL Chapter III needs a
separate cross-border basis); no encryption or undisclosed sub-processors is at least
``high``. Risk: >= 80 low, >= 60 medium, >= 40 high, else critical. Decision: low →
approved (reassess in 365 days), medium → conditional (180 days), high/critical →
rejected (may be reassessed after 90 days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover.errors import BadInput
from handover.governance.models import NdaRow, OrganisationRow, VendorAssessmentRow, VendorRow
from handover.governance.people import Person, org_row
from handover.governance.policy import ALL, MANAGE, check_id, local_date, now_utc, utc

if TYPE_CHECKING:
    from handover.workspace import Workspace


@dataclass(frozen=True)
class VendorQuestion:
    """One questionnaire item: weight and the fraction each answer earns."""

    key: str
    weight: int
    choices: dict[str, float]
    multi: bool

    def prompt(self, lang: str) -> str:
        """The question in ``lang`` (catalogue key ``gov.vendor.q.<key>``)."""
        from handover.i18n import t

        return t(f"gov.vendor.q.{self.key}", lang)


QUESTIONNAIRE: tuple[VendorQuestion, ...] = (
    VendorQuestion(
        "encryption",
        20,
        {"none": 0.0, "in_transit": 0.4, "at_rest": 0.4, "both": 1.0},
        False,
    ),
    VendorQuestion(
        "access_control",
        20,
        {"shared_accounts": 0.0, "individual": 0.4, "mfa": 0.7, "mfa_least_privilege": 1.0},
        False,
    ),
    VendorQuestion(
        "incident_response",
        15,
        {"none": 0.0, "plan": 0.5, "plan_tested": 1.0},
        False,
    ),
    VendorQuestion(
        "certifications",
        20,
        {"iso27001": 0.5, "mlps3": 0.5, "mlps2": 0.25, "iso27701": 0.2, "none": 0.0},
        True,
    ),
    VendorQuestion(
        "sub_processors",
        10,
        {"none": 1.0, "disclosed_bound": 0.7, "undisclosed": 0.0},
        False,
    ),
    VendorQuestion(
        "data_location",
        15,
        {"mainland": 1.0, "outside": 0.0},
        False,
    ),
)
RISK_BANDS: tuple[tuple[float, str], ...] = (
    (80, "low"),
    (60, "medium"),
    (40, "high"),
    (0, "critical"),
)
RISK_ORDER = ("low", "medium", "high", "critical")
DECISIONS = {
    "low": ("approved", 365),
    "medium": ("conditional", 180),
    "high": ("rejected", 90),
    "critical": ("rejected", 90),
}
PASSING = ("approved", "conditional")


@dataclass(frozen=True)
class Score:
    """A scored questionnaire."""

    score: float
    risk: str
    decision: str
    reassess_days: int
    parts: dict[str, float]
    knockouts: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "score": self.score,
            "risk": self.risk,
            "decision": self.decision,
            "reassess_days": self.reassess_days,
            "parts": self.parts,
            "knockouts": list(self.knockouts),
        }


def score_answers(answers: dict[str, Any], where: str = "answers") -> Score:
    """Score a questionnaire (pure); BadInput names the question or answer at fault."""
    known = {q.key for q in QUESTIONNAIRE}
    extra = sorted(set(answers) - known)
    if extra:
        raise BadInput.msg(
            "gov.vendor.unknown_question",
            where=where,
            question=extra[0],
            known=", ".join(sorted(known)),
        )
    parts: dict[str, float] = {}
    for q in QUESTIONNAIRE:
        if q.key not in answers:
            raise BadInput.msg("gov.vendor.missing_answer", where=where, question=q.key)
        value = answers[q.key]
        values = list(value) if q.multi and isinstance(value, (list, tuple)) else [value]
        if not values:
            raise BadInput.msg(
                "gov.vendor.empty_answer", where=where, question=q.key, choices=", ".join(q.choices)
            )
        for v in values:
            # a number, a table or a nested list is no answer (and may not even hash)
            if not isinstance(v, str) or v not in q.choices:
                raise BadInput.msg(
                    "gov.vendor.bad_answer",
                    where=where,
                    question=q.key,
                    value=v,
                    choices=", ".join(q.choices),
                )
        fraction = min(1.0, sum(q.choices[v] for v in set(values)))
        parts[q.key] = round(q.weight * fraction, 2)
    total = round(sum(parts.values()), 2)
    risk = next(name for floor, name in RISK_BANDS if total >= floor)
    knockouts: list[str] = []
    if answers["data_location"] == "outside":
        knockouts.append("data_location")
        risk = "critical"
    for key, bad in (("encryption", "none"), ("sub_processors", "undisclosed")):
        if answers[key] == bad:
            knockouts.append(key)
            if RISK_ORDER.index(risk) < RISK_ORDER.index("high"):
                risk = "high"
    decision, days = DECISIONS[risk]
    return Score(total, risk, decision, days, parts, tuple(knockouts))


@dataclass(frozen=True)
class Assessment:
    """A vendor's assessment as recorded."""

    id: int
    score: float
    risk: str
    decision: str
    assessed_at: dt.datetime
    reassess_on: dt.date
    assessed_by: str

    def passing(self, today: dt.date) -> bool:
        """Approved or conditional, and not past its reassessment date."""
        return self.decision in PASSING and today <= self.reassess_on

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "score": self.score,
            "risk": self.risk,
            "decision": self.decision,
            "assessed_at": self.assessed_at.isoformat(),
            "reassess_on": self.reassess_on.isoformat(),
            "assessed_by": self.assessed_by,
        }


@dataclass(frozen=True)
class Vendor:
    """A registered vendor with its latest assessment."""

    id: int
    name: str
    services: str
    agreement_nda_id: int | None
    latest: Assessment | None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "name": self.name,
            "services": self.services,
            "agreement_nda_id": self.agreement_nda_id,
            "latest_assessment": self.latest.to_json() if self.latest else None,
        }


def _latest(s: Session, vendor_id: int) -> Assessment | None:
    row = s.scalars(
        select(VendorAssessmentRow)
        .where(VendorAssessmentRow.vendor_id == vendor_id)
        .order_by(VendorAssessmentRow.assessed_at.desc(), VendorAssessmentRow.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Assessment(
        row.id,
        row.score,
        row.risk,
        row.decision,
        utc(row.assessed_at),
        row.reassess_on,
        row.assessed_by,
    )


def _vendor(s: Session, row: VendorRow) -> Vendor:
    org = s.get(OrganisationRow, row.org_id)
    assert org is not None
    return Vendor(row.id, org.name, row.services, row.agreement_nda_id, _latest(s, row.id))


def _vendor_row(s: Session, name: str) -> VendorRow:
    org = org_row(s, name)
    row = s.scalars(select(VendorRow).where(VendorRow.org_id == org.id)).one_or_none()
    if row is None:
        raise BadInput.msg("gov.vendor.not_registered", name=name)
    return row


def register_vendor(
    ws: Workspace,
    name: str,
    *,
    services: str,
    agreement_nda_id: int | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Vendor:
    """Register organisation ``name`` (created as kind vendor if new) as a vendor bound by
    NDA/agreement ``agreement_nda_id``."""
    from handover.governance.authorize import require
    from handover.ledger import record

    if agreement_nda_id is not None:
        check_id(agreement_nda_id, "gov.no_nda_id")
    who = require(ws, MANAGE, ALL, actor=actor, now=now).actor
    at = now_utc(now)
    with ws.store.session() as s:
        org = s.scalars(select(OrganisationRow).where(OrganisationRow.name == name)).one_or_none()
        if org is None:
            org = OrganisationRow(name=name, kind="vendor", created_at=at)
            s.add(org)
            s.flush()
        elif org.kind != "vendor":
            raise BadInput.msg("gov.vendor.org_kind", name=name, kind=org.kind)
        if s.scalars(select(VendorRow).where(VendorRow.org_id == org.id)).first():
            raise BadInput.msg("gov.vendor.exists", name=name)
        if agreement_nda_id is not None and s.get(NdaRow, agreement_nda_id) is None:
            raise BadInput.msg("gov.no_nda_id", id=agreement_nda_id)
        row = VendorRow(
            org_id=org.id,
            services=services.strip(),
            agreement_nda_id=agreement_nda_id,
            created_at=at,
        )
        s.add(row)
        s.flush()
        vendor = _vendor(s, row)
    record(
        ws,
        who,
        "governance.vendor.register",
        f"vendor {name}",
        "vendor management",
        {"services": services, "agreement_nda_id": agreement_nda_id},
    )
    return vendor


def assess_vendor(
    ws: Workspace,
    name: str,
    answers: dict[str, Any],
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    where: str = "answers",
) -> tuple[Vendor, Score]:
    """Score ``answers`` for vendor ``name`` and record the assessment and decision;
    ``where`` (the answers' file) is named by a refusal."""
    from handover.governance.authorize import require
    from handover.ledger import record

    sc = score_answers(answers, where)
    who = require(ws, MANAGE, ALL, actor=actor, now=now).actor
    at = now_utc(now)
    with ws.store.session() as s:
        vrow = _vendor_row(s, name)
        s.add(
            VendorAssessmentRow(
                vendor_id=vrow.id,
                answers=dict(answers),
                score=sc.score,
                risk=sc.risk,
                decision=sc.decision,
                assessed_at=at,
                reassess_on=local_date(ws, at) + dt.timedelta(days=sc.reassess_days),
                assessed_by=who,
            )
        )
        s.flush()
        vendor = _vendor(s, vrow)
    record(
        ws,
        who,
        "governance.vendor.assess",
        f"vendor {name}",
        "vendor management",
        {
            "score": sc.score,
            "risk": sc.risk,
            "decision": sc.decision,
            "knockouts": list(sc.knockouts),
            "parts": sc.parts,
        },
    )
    return vendor, sc


def read_answers(path: Path) -> dict[str, Any]:
    """Questionnaire answers from a JSON or TOML file (BadInput naming the file)."""
    import json
    import tomllib

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput.msg(
            "gov.file_unreadable", path=path, reason=exc.strerror or type(exc).__name__
        ) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8")) if path.suffix == ".toml" else json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput.msg(
            "gov.vendor.answers_parse",
            path=path,
            fmt="TOML" if path.suffix == ".toml" else "JSON",
            detail=str(exc).splitlines()[0],
        ) from None
    if not isinstance(doc, dict):
        raise BadInput.msg("gov.vendor.answers_object", path=path)
    return doc


def get_vendor(ws: Workspace, name: str) -> Vendor:
    """Vendor ``name`` with its latest assessment (BadInput naming it when unregistered)."""
    with ws.store.session() as s:
        return _vendor(s, _vendor_row(s, name))


def list_vendors(ws: Workspace) -> list[Vendor]:
    """Every vendor with its latest assessment."""
    with ws.store.session() as s:
        return [_vendor(s, r) for r in s.scalars(select(VendorRow).order_by(VendorRow.id))]


def vendor_of(s: Session, person: Person) -> tuple[Vendor | None, bool]:
    """For a vendor's staff: (their vendor or None when unregistered, True)."""
    if person.org_kind != "vendor":
        return None, False
    org = org_row(s, person.org)
    row = s.scalars(select(VendorRow).where(VendorRow.org_id == org.id)).one_or_none()
    return (_vendor(s, row) if row is not None else None), True
