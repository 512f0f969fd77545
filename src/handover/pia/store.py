"""Assessments in the platform store: immutable versions, the maker-checker path
(submit → approve/reject by a different person, the named signatory), exports, and the
risk register.

Nothing here decides who may act (the flow asks governance) or writes the ledger (the flow
records what these functions return); here live the rules of the assessment itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover.crypto import sha256_hex
from handover.errors import MAX_ID, BadInput
from handover.i18n import Msg
from handover.ledger.canonical import canonical_json_of
from handover.pia.assessment import gaps, register_entries
from handover.pia.method import load_method
from handover.pia.models import (
    PiaAssessmentRow,
    PiaDecisionRow,
    PiaExportRow,
    PiaVersionRow,
    RiskRow,
)

if TYPE_CHECKING:
    from handover.erase.retention import RetentionRule
    from handover.workspace import Workspace

RISK_STATUS = ("open", "mitigated", "accepted", "closed")


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as aware UTC (SQLite gives stored times back naive)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def digest(doc: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``doc``: the identity of a version."""
    return sha256_hex(canonical_json_of(doc))


@dataclass(frozen=True)
class Decision:
    """One maker-checker step on a version."""

    version: int
    actor: str
    decision: str
    reason: str
    at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "version": self.version,
            "actor": self.actor,
            "decision": self.decision,
            "reason": self.reason,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True)
class Assessment:
    """An assessment with its current version's document and its decisions."""

    id: int
    title: str
    status: str
    version: int
    document: dict[str, Any]
    sha256: str
    created_by: str
    version_by: str
    submitted_version: int | None
    submitted_by: str | None
    approved_version: int | None
    retain_until: dt.date | None
    decisions: tuple[Decision, ...]

    def to_json(self) -> dict[str, Any]:
        """Machine form (``--json``), the document included."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "version": self.version,
            "sha256": self.sha256,
            "created_by": self.created_by,
            "version_by": self.version_by,
            "submitted_version": self.submitted_version,
            "submitted_by": self.submitted_by,
            "approved_version": self.approved_version,
            "retain_until": self.retain_until.isoformat() if self.retain_until else None,
            "decisions": [d.to_json() for d in self.decisions],
            "document": self.document,
        }


def _load(s: Session, row: PiaAssessmentRow, version: int | None = None) -> Assessment:
    # Versions count from 1: 0 is no version (it used to mean the current one), and a
    # number the store cannot hold is none either (it used to crash the query).
    if version is not None and not 0 < version <= MAX_ID:
        raise BadInput.msg("pia.no_version", id=row.id, version=version)
    v = s.scalars(
        select(PiaVersionRow).where(
            PiaVersionRow.assessment_id == row.id,
            PiaVersionRow.version == (row.current_version if version is None else version),
        )
    ).first()
    if v is None:
        raise BadInput.msg("pia.no_version", id=row.id, version=version)
    decisions = tuple(
        Decision(d.version, d.actor, d.decision, d.reason, utc(d.decided_at))
        for d in s.scalars(
            select(PiaDecisionRow)
            .where(PiaDecisionRow.assessment_id == row.id)
            .order_by(PiaDecisionRow.id)
        )
    )
    return Assessment(
        id=row.id,
        title=row.title,
        status=row.status,
        version=v.version,
        document=dict(v.document),
        sha256=v.sha256,
        created_by=row.created_by,
        version_by=v.created_by,
        submitted_version=row.submitted_version,
        submitted_by=row.submitted_by,
        approved_version=row.approved_version,
        retain_until=row.retain_until,
        decisions=decisions,
    )


def _row(s: Session, assessment_id: int) -> PiaAssessmentRow:
    # an id the store cannot hold is no assessment, not an overflow in the query
    if not 0 < assessment_id <= MAX_ID:
        raise BadInput.msg("pia.no_assessment", id=assessment_id)
    row = s.get(PiaAssessmentRow, assessment_id)
    if row is None:
        raise BadInput.msg("pia.no_assessment", id=assessment_id)
    return row


def create(ws: Workspace, doc: dict[str, Any], *, actor: str, now: dt.datetime) -> Assessment:
    """Store a new assessment whose version 1 is ``doc`` (status ``draft``)."""
    with ws.store.session() as s:
        row = PiaAssessmentRow(
            title=str(doc["title"])[:300],
            status="draft",
            current_version=1,
            created_at=now,
            created_by=actor,
        )
        s.add(row)
        s.flush()
        s.add(_version_row(row.id, 1, doc, actor, now, "created"))
        s.flush()
        return _load(s, row)


def _version_row(
    aid: int, version: int, doc: dict[str, Any], actor: str, now: dt.datetime, note: str
) -> PiaVersionRow:
    body = dict(doc, assessment_id=aid, version=version)
    return PiaVersionRow(
        assessment_id=aid,
        version=version,
        document=body,
        sha256=digest(body),
        created_at=now,
        created_by=actor,
        note=note[:2000],
    )


def add_version(
    ws: Workspace,
    assessment_id: int,
    doc: dict[str, Any],
    *,
    actor: str,
    now: dt.datetime,
    note: str,
) -> Assessment:
    """Keep ``doc`` as the next version; a submitted assessment goes back to ``draft``
    (its pending submission lapses), an approved one keeps its approved version."""
    with ws.store.session() as s:
        row = _row(s, assessment_id)
        row.current_version += 1
        row.title = str(doc["title"])[:300]
        if row.status in ("submitted", "rejected", "approved"):
            row.status = "draft"
            row.submitted_version = None
            row.submitted_by = None
        s.add(_version_row(row.id, row.current_version, doc, actor, now, note))
        s.flush()
        return _load(s, row)


def get(ws: Workspace, assessment_id: int, version: int | None = None) -> Assessment:
    """Assessment ``assessment_id`` at ``version`` (default its current one)."""
    with ws.store.session() as s:
        return _load(s, _row(s, assessment_id), version)


def list_assessments(ws: Workspace) -> list[Assessment]:
    """Every assessment at its current version, oldest first."""
    with ws.store.session() as s:
        return [
            _load(s, r) for r in s.scalars(select(PiaAssessmentRow).order_by(PiaAssessmentRow.id))
        ]


#: the notes :mod:`handover.flows.pia` keeps with a version (a machine form, also in the
#: API), each shown through its catalogue key
NOTE_KEYS = {
    "created": "pia.version.created",
    "DPO opinion": "pia.version.opinion",
    "edit console": "pia.version.edit_console",
    "edit api": "pia.version.edit_api",
}


def note_message(note: str) -> Msg:
    """A version's note in the reader's language: a known note by its catalogue key,
    ``edit <file>`` naming the edits file, anything else as it was kept."""
    if note in NOTE_KEYS:
        return Msg(NOTE_KEYS[note])
    if note.startswith("edit ") and len(note) > len("edit "):
        return Msg("pia.version.edit_file", file=note[len("edit ") :])
    return Msg("pia.version.other", note=note)


def versions(ws: Workspace, assessment_id: int) -> list[dict[str, Any]]:
    """Every kept version: number, SHA-256, author, time, note."""
    with ws.store.session() as s:
        _row(s, assessment_id)
        return [
            {
                "version": v.version,
                "sha256": v.sha256,
                "by": v.created_by,
                "at": utc(v.created_at).isoformat(),
                "note": v.note,
            }
            for v in s.scalars(
                select(PiaVersionRow)
                .where(PiaVersionRow.assessment_id == assessment_id)
                .order_by(PiaVersionRow.version)
            )
        ]


Refusal = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    """The result of a maker-checker step: the assessment after it, or the refusal."""

    assessment: Assessment
    refusal: Refusal | None = None
    retention: RetentionRule | None = None


def submit(ws: Workspace, assessment_id: int, *, actor: str, now: dt.datetime) -> Outcome:
    """Submit the current version for approval (the maker is ``actor``); refused while
    the document has gaps (:func:`handover.pia.assessment.gaps`) or is not a draft."""
    with ws.store.session() as s:
        row = _row(s, assessment_id)
        current = _load(s, row)
        if row.status != "draft":
            return Outcome(current, ("pia.refuse.not_draft", {"id": row.id, "status": row.status}))
        missing = gaps(current.document)
        if missing:
            return Outcome(current, ("pia.refuse.gaps", _gap_values(row.id, missing)))
        row.status = "submitted"
        row.submitted_version = row.current_version
        row.submitted_by = actor
        s.add(
            PiaDecisionRow(
                assessment_id=row.id,
                version=row.current_version,
                actor=actor,
                decision="submit",
                reason="",
                decided_at=now,
            )
        )
        s.flush()
        return Outcome(_load(s, row))


def _gap_values(assessment_id: int, missing: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A gaps refusal's values: how many, and the first gap as a message."""
    key, values = missing[0]
    return {"id": assessment_id, "n": len(missing), "gap": Msg(key, **values)}


def _last_decided(s: Session, assessment_id: int) -> int:
    """The version of the assessment's last approval or rejection (0 before any)."""
    last = s.scalars(
        select(PiaDecisionRow.version)
        .where(
            PiaDecisionRow.assessment_id == assessment_id,
            PiaDecisionRow.decision.in_(("approve", "reject")),
        )
        .order_by(PiaDecisionRow.id.desc())
    ).first()
    return int(last or 0)


def _authored_since_decision(s: Session, row: PiaAssessmentRow, actor: str) -> list[int]:
    """The versions ``actor`` wrote since the assessment's last approval or rejection."""
    since = _last_decided(s, row.id)
    return [
        int(v)
        for v in s.scalars(
            select(PiaVersionRow.version)
            .where(
                PiaVersionRow.assessment_id == row.id,
                PiaVersionRow.version > since,
                PiaVersionRow.created_by == actor,
            )
            .order_by(PiaVersionRow.version)
        )
    ]


def approvable(ws: Workspace, assessment_id: int) -> None:
    """Check, writing nothing, that the submitted version (if any) can be entered in the
    risk register on approval; BadInput naming the field otherwise."""
    with ws.store.session() as s:
        row = _row(s, assessment_id)
        if row.status == "submitted" and row.submitted_version is not None:
            register_entries(_load(s, row, row.submitted_version).document)


def decide(
    ws: Workspace,
    assessment_id: int,
    decision: str,
    *,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> Outcome:
    """Approve or reject the submitted version as ``actor`` (the checker).

    Refused when nothing is submitted, when ``actor`` is not the document's named
    signatory (GB/T 39335-2020 5.2.1), or is a maker (maker-checker, as grants:
    docs/governance.md): the person who created the assessment, who submitted it, or who
    wrote any version since its last approval or rejection. A rejection needs a reason;
    an approval a version without gaps (the DPO's opinion given on its content) whose
    risks the register can hold (BadInput naming the field, nothing written). An
    approval keeps the report at least 3 years (PIPL Art. 56): a retention rule of basis
    ``pia`` (erase/retention.toml) counted from the approval day.
    """
    from handover.erase.retention import parse_rules

    with ws.store.session() as s:
        row = _row(s, assessment_id)
        current = _load(s, row)
        refusal: Refusal | None = None
        if decision not in ("approve", "reject"):
            raise BadInput.msg("pia.bad_decision", decision=decision)
        if row.status != "submitted" or row.submitted_version is None:
            refusal = ("pia.refuse.not_submitted", {"id": row.id, "status": row.status})
        else:
            version = _load(s, row, row.submitted_version)
            signatory = version.document.get("signatory")
            if actor != signatory:
                refusal = (
                    "pia.refuse.not_signatory",
                    {"id": row.id, "name": actor, "signatory": signatory or "-"},
                )
            elif actor == row.created_by:
                refusal = ("pia.refuse.creator", {"id": row.id, "name": actor})
            elif actor == row.submitted_by:
                refusal = ("pia.refuse.self", {"id": row.id, "name": actor})
            elif wrote := _authored_since_decision(s, row, actor):
                versions = ", ".join(f"v{n}" for n in wrote)
                refusal = (
                    "pia.refuse.author",
                    {"id": row.id, "name": actor, "versions": versions},
                )
            elif decision == "reject" and not reason.strip():
                refusal = ("pia.refuse.reason", {"id": row.id})
            elif decision == "approve" and (missing := gaps(version.document)):
                values = _gap_values(row.id, missing)
                refusal = ("pia.refuse.approve_gaps", {**values, "version": version.version})
            elif decision == "approve":
                register_entries(version.document)
        if refusal is not None:
            return Outcome(current, refusal)
        assert row.submitted_version is not None
        s.add(
            PiaDecisionRow(
                assessment_id=row.id,
                version=row.submitted_version,
                actor=actor,
                decision=decision,
                reason=reason.strip()[:2000],
                decided_at=now,
            )
        )
        rule = None
        if decision == "approve":
            row.status = "approved"
            row.approved_version = row.submitted_version
            rule = parse_rules(
                [
                    {
                        "id": f"pia-{row.id}-v{row.submitted_version}",
                        "tables": ["pia_assessments"],
                        "basis": "pia",
                        "relationship_end": ws.local_date(now),
                    }
                ],
                "pia",
            )[0]
            if row.retain_until is None or (rule.until and rule.until > row.retain_until):
                row.retain_until = rule.until
        else:
            row.status = "rejected"
        s.flush()
        return Outcome(_load(s, row), None, rule)


def record_export(
    ws: Workspace,
    assessment_id: int,
    version: int,
    *,
    folder: str,
    sha256: str,
    signature: dict[str, Any],
    files: dict[str, str],
    actor: str,
    now: dt.datetime,
) -> int:
    """Keep the export's folder, digest and signature; returns its id."""
    with ws.store.session() as s:
        _row(s, assessment_id)
        row = PiaExportRow(
            assessment_id=assessment_id,
            version=version,
            folder=folder,
            sha256=sha256,
            signature=signature,
            files=files,
            created_at=now,
            created_by=actor,
        )
        s.add(row)
        s.flush()
        return int(row.id)


def list_exports(ws: Workspace, assessment_id: int) -> list[dict[str, Any]]:
    """Every export of the assessment kept by :func:`record_export`, newest first."""
    with ws.store.session() as s:
        _row(s, assessment_id)
        return [
            {
                "id": r.id,
                "version": r.version,
                "folder": r.folder,
                "sha256": r.sha256,
                "files": dict(r.files),
                "key_id": (r.signature or {}).get("key_id"),
                "at": utc(r.created_at).isoformat(),
                "by": r.created_by,
            }
            for r in s.scalars(
                select(PiaExportRow)
                .where(PiaExportRow.assessment_id == assessment_id)
                .order_by(PiaExportRow.id.desc())
            )
        ]


# --- risk register -------------------------------------------------------------------------


@dataclass(frozen=True)
class Risk:
    """An entry of the risk register with its state at the time read."""

    code: str
    title: str
    source: str
    impact: str
    likelihood: str
    level: str
    owner: str
    controls: tuple[str, ...]
    review_on: dt.date
    status: str
    assessment_id: int | None
    finding: str | None
    incident_ids: tuple[int, ...]
    reviewed_at: dt.datetime | None
    reviewed_by: str | None
    overdue_days: int

    @property
    def overdue(self) -> bool:
        """Whether its review date has passed while it is still open."""
        return self.overdue_days > 0

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "code": self.code,
            "title": self.title,
            "source": self.source,
            "impact": self.impact,
            "likelihood": self.likelihood,
            "level": self.level,
            "owner": self.owner,
            "controls": list(self.controls),
            "review_on": self.review_on.isoformat(),
            "status": self.status,
            "assessment_id": self.assessment_id,
            "finding": self.finding,
            "incident_ids": list(self.incident_ids),
            "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
            "reviewed_by": self.reviewed_by,
            "overdue_days": self.overdue_days,
        }


def _risk(r: RiskRow, today: dt.date) -> Risk:
    late = (today - r.review_on).days if r.status in ("open", "accepted") else 0
    return Risk(
        code=r.code,
        title=r.title,
        source=r.source,
        impact=r.impact,
        likelihood=r.likelihood,
        level=r.level,
        owner=r.owner,
        controls=tuple(r.controls or ()),
        review_on=r.review_on,
        status=r.status,
        assessment_id=r.assessment_id,
        finding=r.finding,
        incident_ids=tuple(r.incident_ids or ()),
        reviewed_at=utc(r.reviewed_at) if r.reviewed_at else None,
        reviewed_by=r.reviewed_by,
        overdue_days=max(late, 0),
    )


def sync_findings(
    ws: Workspace, a: Assessment, *, actor: str, now: dt.datetime, lang: str
) -> list[Risk]:
    """Enter (or update) every risk of assessment ``a`` in the register as
    ``PIA<id>-<risk id>``, linked to its finding, with the measures as controls."""
    i = 0 if lang == "zh-CN" else 1
    entries = register_entries(a.document)
    out = []
    with ws.store.session() as s:
        for r in entries:
            code = f"PIA{a.id}-{r['id']}"
            row = s.scalars(select(RiskRow).where(RiskRow.code == code)).first()
            values = {
                "title": r["title"][i][:300],
                "source": r["source"],
                "impact": r["impact"],
                "likelihood": r["likelihood"],
                "level": r["level"],
                "owner": r["owner"],
                "controls": r["controls"][i],
                "review_on": r["review_on"],
            }
            if row is None:
                row = RiskRow(
                    code=code,
                    assessment_id=a.id,
                    finding=r["id"],
                    status="open",
                    incident_ids=[],
                    created_at=now,
                    created_by=actor,
                    **values,
                )
                s.add(row)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            s.flush()
            out.append(_risk(row, ws.local_date(now)))
    return out


def add_risk(
    ws: Workspace,
    *,
    code: str,
    title: str,
    source: str,
    impact: str,
    likelihood: str,
    owner: str,
    review_on: dt.date,
    controls: list[str],
    actor: str,
    now: dt.datetime,
    assessment_id: int | None = None,
    finding: str | None = None,
) -> Risk:
    """Add a risk to the register (its level from the method); BadInput on a taken code
    or a value off the method's scales."""
    method = load_method()
    level = method.level(impact, likelihood)
    if source not in method.sources:
        raise BadInput.msg(
            "pia.bad_scale", what="source", value=source, allowed=", ".join(method.sources)
        )
    if not code.strip() or len(code) > 40 or not title.strip():
        raise BadInput.msg("pia.risk_fields")
    with ws.store.session() as s:
        if s.scalars(select(RiskRow).where(RiskRow.code == code)).first() is not None:
            raise BadInput.msg("pia.risk_exists", code=code)
        if assessment_id is not None:
            found = _load(s, _row(s, assessment_id))
            if finding is not None and finding_of(found, finding) is None:
                raise BadInput.msg(
                    "pia.no_finding",
                    id=assessment_id,
                    finding=finding,
                    findings=", ".join(r["id"] for r in found.document.get("risks", [])) or "-",
                )
        elif finding is not None:
            raise BadInput.msg("pia.finding_needs_pia", finding=finding)
        row = RiskRow(
            code=code,
            assessment_id=assessment_id,
            finding=finding,
            title=title.strip()[:300],
            source=source,
            impact=impact,
            likelihood=likelihood,
            level=level,
            owner=owner,
            controls=list(controls),
            review_on=review_on,
            status="open",
            incident_ids=[],
            created_at=now,
            created_by=actor,
        )
        s.add(row)
        s.flush()
        return _risk(row, ws.local_date(now))


def review_risk(
    ws: Workspace,
    code: str,
    *,
    next_review: dt.date,
    actor: str,
    now: dt.datetime,
    status: str | None = None,
    impact: str | None = None,
    likelihood: str | None = None,
) -> tuple[Risk, Risk]:
    """Record a review of risk ``code``: the next review date (after today), and
    optionally a new status or scores; returns (before, after)."""
    if next_review <= ws.local_date(now):
        raise BadInput.msg("pia.review_past", date=next_review.isoformat())
    if status is not None and status not in RISK_STATUS:
        raise BadInput.msg(
            "pia.bad_scale", what="status", value=status, allowed=", ".join(RISK_STATUS)
        )
    method = load_method()
    with ws.store.session() as s:
        row = s.scalars(select(RiskRow).where(RiskRow.code == code)).first()
        if row is None:
            raise BadInput.msg("pia.no_risk", code=code)
        before = _risk(row, ws.local_date(now))
        row.impact = impact or row.impact
        row.likelihood = likelihood or row.likelihood
        row.level = method.level(row.impact, row.likelihood)
        row.status = status or row.status
        row.review_on = next_review
        row.reviewed_at = now
        row.reviewed_by = actor
        s.flush()
        return before, _risk(row, ws.local_date(now))


def link_incident(
    ws: Workspace, code: str, incident_id: int, *, now: dt.datetime, unlink: bool = False
) -> tuple[Risk, bool]:
    """Link incident ``incident_id`` to risk ``code`` (or remove the link with
    ``unlink``); returns the risk and whether anything changed (linking twice is a
    no-op). The flow checks that the incident exists."""
    with ws.store.session() as s:
        row = s.scalars(select(RiskRow).where(RiskRow.code == code)).first()
        if row is None:
            raise BadInput.msg("pia.no_risk", code=code)
        linked = list(row.incident_ids or [])
        changed = (incident_id in linked) == unlink
        if changed:
            row.incident_ids = (
                [i for i in linked if i != incident_id] if unlink else [*linked, incident_id]
            )
        s.flush()
        return _risk(row, ws.local_date(now)), changed


def get_risk(ws: Workspace, code: str, *, now: dt.datetime) -> Risk:
    """Risk ``code`` of the register; BadInput when there is none."""
    with ws.store.session() as s:
        row = s.scalars(select(RiskRow).where(RiskRow.code == code)).first()
        if row is None:
            raise BadInput.msg("pia.no_risk", code=code)
        return _risk(row, ws.local_date(now))


def finding_of(a: Assessment, finding: str) -> dict[str, Any] | None:
    """Risk ``finding`` as written in assessment ``a``'s document, if it is there."""
    return next((r for r in a.document.get("risks", []) if r.get("id") == finding), None)


def list_risks(ws: Workspace, *, now: dt.datetime, overdue: bool = False) -> list[Risk]:
    """The register, highest level first; only overdue reviews with ``overdue``."""
    method = load_method()
    today = ws.local_date(now)
    with ws.store.session() as s:
        risks = [_risk(r, today) for r in s.scalars(select(RiskRow).order_by(RiskRow.id))]
    if overdue:
        risks = [r for r in risks if r.overdue]
    return sorted(risks, key=lambda r: (-method.rank(r.level), r.review_on, r.code))
