"""``handover pia`` / ``risks`` / ``compliance``: authorise through governance, gather the
evidence (ledger, governance facts, inventory, transfer), run the pia room, and record
every step in the ledger with the deciding actor (docs/pia.md)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handover.errors import BadInput, Refused
from handover.governance import require
from handover.governance.policy import (
    COMPLIANCE,
    PIA_APPROVE,
    PIA_EDIT,
    covers,
    local_zone,
    now_utc,
)
from handover.i18n import Msg, t
from handover.ledger import Recorder, entries, record
from handover.pia import store
from handover.pia.assessment import apply_edits, draft, read_edits, with_opinion
from handover.pia.checklist import Result, evaluate, load_checklist, score
from handover.pia.evidence import (
    Evidence,
    GrantFact,
    NdaFact,
    PersonFact,
    TrainingFact,
    VendorFact,
)
from handover.pia.store import Assessment, Outcome, Risk
from handover.workspace import Workspace

PURPOSE = "个人信息保护影响评估 / PIA (PIPL Art. 55)"
RISK_PURPOSE = "风险登记册 / risk register"
CHECK_PURPOSE = "合规检查 / compliance checklist"


def gather(ws: Workspace, *, now: dt.datetime, check_ledger: bool = False) -> Evidence:
    """Everything the pia room reads, from the ledger, the governance store, the stored
    inventory and the workspace's transfer; with ``check_ledger`` the ledger is
    recomputed too (audit verify)."""
    from handover.detect.store import latest_inventory
    from handover.governance.grants import list_grants
    from handover.governance.ndas import list_ndas
    from handover.governance.people import list_people
    from handover.governance.training import list_courses, list_records
    from handover.governance.vendors import list_vendors

    tr = ws.settings.transfer
    ev = Evidence(
        entries=entries(ws),
        people=[
            PersonFact(p.name, p.display_name, p.org, tuple(p.roles), p.active)
            for p in list_people(ws)
        ],
        ndas=[
            NdaFact(
                n.id,
                n.title,
                tuple(n.parties),
                tuple(n.signatories),
                tuple(n.items),
                n.signed_on,
                n.effective_on,
                n.expires_on,
                tuple((b.person, b.occurred_on) for b in n.breaches),
            )
            for n in list_ndas(ws, now=now)
        ],
        training=[
            TrainingFact(r.person, r.course, r.passed, r.taken_at, r.expires_at)
            for r in list_records(ws)
        ],
        required_courses=tuple(sorted(c.code for c in list_courses(ws) if c.required)),
        grants=[
            GrantFact(
                g.id,
                g.grantee,
                tuple(g.scope),
                g.mode,
                g.purpose,
                g.state,
                g.approved_by,
                g.approvals_needed,
            )
            for g in list_grants(ws, now=now)
        ],
        vendors=[
            VendorFact(
                v.name,
                v.latest.decision if v.latest else None,
                v.latest.risk if v.latest else None,
                v.latest.reassess_on if v.latest else None,
            )
            for v in list_vendors(ws)
        ],
        inventory=latest_inventory(ws),
        transfer=tr.model_dump(mode="json") if tr is not None else None,
        suite=ws.settings.crypto_suite,
        covers=covers,
        drill_every_days=ws.settings.incidents.drill_every_days,
        zone=local_zone(ws),
    )
    if check_ledger:
        from handover.ledger import verify_ledger

        report = verify_ledger(ws)
        ev.ledger_ok = report.ok
        ev.ledger_problems = [f"{p.where}: {p.message}" for p in report.problems[:50]]
    return ev


def _details(a: Assessment, **extra: Any) -> dict[str, Any]:
    return {"version": a.version, "sha256": a.sha256, "status": a.status, **extra}


def new_assessment(
    ws: Workspace,
    *,
    title: str | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Create an assessment pre-filled from what handover holds (GB/T 39335-2020 5.1–5.8);
    authorised as ``pia.edit``; records ``pia.create``."""
    at = now_utc(now)
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    ev = gather(ws, now=at)
    tr = ws.settings.transfer
    name = (title or "").strip() or t(
        "pia.default_title", ws.settings.lang, transfer=tr.name if tr else "-"
    )
    doc = draft(ev, title=name[:300], now=at)
    a = store.create(ws, doc, actor=decision.actor, now=at)
    record(
        ws,
        decision.actor,
        "pia.create",
        f"pia {a.id}",
        PURPOSE,
        _details(a, title=a.title, scan_id=doc["data_map"]["scan_id"], risks=len(doc["risks"])),
    )
    return a


def _check_people(ws: Workspace, doc: dict[str, Any]) -> None:
    from handover.governance.people import list_people

    known = {p.name for p in list_people(ws)}
    names = [("signatory", doc.get("signatory"))] + [
        (f"team[{i}].name", m["name"]) for i, m in enumerate(doc.get("team", []))
    ]
    for field, name in names:
        if name and name not in known:
            raise BadInput.msg("pia.unknown_person", field=field, name=name)


def edit(
    ws: Workspace,
    assessment_id: int,
    path: Path,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Apply the edits file ``path`` (TOML or JSON) as a new version; nothing changes
    (and nothing is recorded) when one value is bad. Authorised as ``pia.edit``; records
    ``pia.edit``."""
    from handover.crypto import sha256_file

    at = now_utc(now)
    edits = read_edits(path)
    return _edit(
        ws,
        actor,
        assessment_id,
        edits,
        where=str(path),
        note=f"edit {path.name}",
        extra={"file": path.name, "file_sha256": sha256_file(path)},
        at=at,
    )


#: the forms :func:`edit_values` is told edits come from, named in the reader's language
FORM_KEYS = {"console": "pia.where.console", "api": "pia.where.api"}


def edit_values(
    ws: Workspace,
    assessment_id: int,
    edits: dict[str, Any],
    *,
    where: str,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Apply ``edits`` (the same sections and fields as an edits file, docs/pia.md) as a
    new version, e.g. from the console's editor; ``where`` names the form in a bad
    value's message. Authorised as ``pia.edit``; records ``pia.edit`` with the SHA-256
    of the edits."""
    from handover.crypto import sha256_hex
    from handover.ledger.canonical import canonical_json_of

    at = now_utc(now)
    digest = sha256_hex(canonical_json_of(edits))
    return _edit(
        ws,
        actor,
        assessment_id,
        edits,
        where=Msg(FORM_KEYS[where]) if where in FORM_KEYS else where,
        note=f"edit {where}",
        extra={"form": where, "edits_sha256": digest},
        at=at,
    )


def _edit(
    ws: Workspace,
    actor: str | None,
    assessment_id: int,
    edits: dict[str, Any],
    *,
    where: str | Msg,
    note: str,
    extra: dict[str, Any],
    at: dt.datetime,
) -> Assessment:
    # Every value is checked before anything is written, the governance decision too.
    current = store.get(ws, assessment_id)
    doc = apply_edits(current.document, edits, where)
    _check_people(ws, doc)
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    a = store.add_version(ws, assessment_id, _strip(doc), actor=decision.actor, now=at, note=note)
    record(
        ws,
        decision.actor,
        "pia.edit",
        f"pia {a.id}",
        PURPOSE,
        _details(a, **extra, sections=sorted(edits)),
    )
    return a


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without the identity fields a stored version adds."""
    return {k: v for k, v in doc.items() if k not in ("assessment_id", "version")}


def opinion(
    ws: Workspace,
    assessment_id: int,
    text: str,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Record the DPO's opinion (the actor must hold the ``dpo`` role) as a new version,
    bound to the content it speaks to (a later change of content drops it, and submitting
    needs it again); records ``pia.opinion``."""
    from handover.governance.people import get_person

    at = now_utc(now)
    if not text.strip():
        raise BadInput.msg("pia.opinion_empty")
    current = store.get(ws, assessment_id)
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    if "dpo" not in get_person(ws, decision.actor).roles:
        values = {"name": decision.actor}
        record(
            ws,
            decision.actor,
            "pia.opinion.refused",
            f"pia {assessment_id}",
            PURPOSE,
            {
                "reason_key": "pia.refuse.opinion_role",
                "params": values,
                "reason": t("pia.refuse.opinion_role", "en", **values),
            },
        )
        raise Refused.msg("pia.refuse.opinion_role", name=decision.actor)
    doc = with_opinion(
        _strip(current.document),
        by=decision.actor,
        at=at,
        text=text.strip()[:4000],
        version=current.version + 1,
    )
    a = store.add_version(ws, assessment_id, doc, actor=decision.actor, now=at, note="DPO opinion")
    record(ws, decision.actor, "pia.opinion", f"pia {a.id}", PURPOSE, _details(a))
    return a


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Msg) else v for k, v in values.items()}


def _settle(
    ws: Workspace, actor: str, action: str, out: Outcome, extra: dict[str, Any]
) -> Assessment:
    """Ledger the outcome of a maker-checker step; a refusal is ledgered with its reason
    (English text, key and values) and raised in the user's language."""
    a = out.assessment
    if out.refusal is not None:
        key, values = out.refusal
        record(
            ws,
            actor,
            f"{action}.refused",
            f"pia {a.id}",
            PURPOSE,
            {"reason_key": key, "params": _plain(values), "reason": t(key, "en", **values)},
        )
        raise Refused.msg(key, **values)
    record(ws, actor, action, f"pia {a.id}", PURPOSE, _details(a, **extra))
    return a


def submit(
    ws: Workspace, assessment_id: int, *, actor: str | None = None, now: dt.datetime | None = None
) -> Assessment:
    """Submit the current version for approval (the maker); refused while it has gaps.
    Authorised as ``pia.edit``; records ``pia.submit`` or ``pia.submit.refused``."""
    at = now_utc(now)
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    out = store.submit(ws, assessment_id, actor=decision.actor, now=at)
    return _settle(ws, decision.actor, "pia.submit", out, {})


def approve(
    ws: Workspace, assessment_id: int, *, actor: str | None = None, now: dt.datetime | None = None
) -> Assessment:
    """Approve the submitted version as its named signatory (checker ≠ maker); the report
    is then kept at least 3 years and its risks enter the register. Authorised as
    ``pia.approve``; records ``pia.approve`` (or ``.refused``) and ``risk.sync``. A value
    the register cannot hold is a BadInput naming the field, before anything is written."""
    at = now_utc(now)
    store.approvable(ws, assessment_id)
    decision = require(ws, PIA_APPROVE, "*", actor=actor, now=at)
    out = store.decide(ws, assessment_id, "approve", actor=decision.actor, reason="", now=at)
    extra: dict[str, Any] = {"at": at.isoformat()}
    if out.refusal is None:
        doc = out.assessment.document
        rule = out.retention
        extra.update(
            retain_until=rule.until.isoformat() if rule and rule.until else None,
            retention=rule.to_json() if rule else None,
            cross_border=bool(doc["necessity"]["triggers"].get("cross_border", {}).get("applies")),
            risks={r["id"]: r["level"] for r in doc["risks"]},
        )
    a = _settle(ws, decision.actor, "pia.approve", out, extra)
    risks = store.sync_findings(
        ws,
        store.get(ws, a.id, a.approved_version),
        actor=decision.actor,
        now=at,
        lang=ws.settings.lang,
    )
    record(
        ws,
        decision.actor,
        "risk.sync",
        f"pia {a.id}",
        RISK_PURPOSE,
        {"version": a.approved_version, "risks": [r.code for r in risks]},
    )
    return a


def reject(
    ws: Workspace,
    assessment_id: int,
    reason: str,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Reject the submitted version with ``reason`` as its named signatory; the rejected
    version is kept and a new edit starts a new draft. Records ``pia.reject``."""
    at = now_utc(now)
    decision = require(ws, PIA_APPROVE, "*", actor=actor, now=at)
    out = store.decide(ws, assessment_id, "reject", actor=decision.actor, reason=reason, now=at)
    return _settle(ws, decision.actor, "pia.reject", out, {"reason": reason.strip()})


def _version_status(a: Assessment, version: int) -> str:
    """Where one version stands: its last decision, else submitted or draft."""
    last = [d.decision for d in a.decisions if d.version == version][-1:]
    if last and last[0] in ("approve", "reject"):
        return "approved" if last[0] == "approve" else "rejected"
    return "submitted" if a.status == "submitted" and a.submitted_version == version else "draft"


@dataclass(frozen=True)
class Export:
    """A signed export: the folder, the SHA-256 of ``pia.json``, the files, the ledger seq."""

    assessment_id: int
    version: int
    folder: Path
    sha256: str
    files: dict[str, str]
    seq: int

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "assessment": self.assessment_id,
            "version": self.version,
            "folder": str(self.folder),
            "sha256": self.sha256,
            "files": self.files,
            "ledger_seq": self.seq,
        }


def export(
    ws: Workspace,
    assessment_id: int,
    *,
    version: int | None = None,
    out: Path | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Export:
    """Write ``pia.json`` (assessment header and document, canonical JSON), its detached
    Ed25519 signature by the workspace key, and HTML + PDF in zh-CN and en into
    ``out`` (default ``reports/pia/<id>-v<version>``); records ``pia.export`` with every
    file's SHA-256. Default version: the approved one, else the current one."""
    from handover.crypto import sha256_file, sha256_hex, signature
    from handover.ledger.canonical import canonical_json_of
    from handover.reports.pia import write_renderings

    at = now_utc(now)
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    current = store.get(ws, assessment_id)
    # an explicit --version 0 is refused by the store, not taken for the default
    chosen = version if version is not None else current.approved_version or current.version
    a = store.get(ws, assessment_id, chosen)
    mine = [d for d in a.decisions if d.version == chosen]
    approval = next((d for d in reversed(mine) if d.decision == "approve"), None)
    header = {
        "id": a.id,
        "version": chosen,
        "sha256": a.sha256,
        "status": _version_status(a, chosen),
        "approval": f"{approval.actor} {approval.at.isoformat()}" if approval else None,
        "retain_until": a.retain_until.isoformat() if approval and a.retain_until else None,
        "decisions": [d.to_json() for d in a.decisions if d.version == chosen],
        "exported_at": at.isoformat(),
        "exported_by": decision.actor,
    }
    doc = {"schema": "handover.pia-export/1", "assessment": header, "document": a.document}
    folder = out or ws.settings.reports_dir / "pia" / f"{a.id}-v{chosen}"
    if folder.exists() and any(folder.iterdir()):
        raise BadInput.msg("pia.export_exists", path=folder)
    folder.mkdir(parents=True, exist_ok=True)
    body = canonical_json_of(doc)
    sig = {
        **signature(ws, body, events=Recorder(ws, decision.actor)).to_json(),
        "sha256": sha256_hex(body),
    }
    (folder / "pia.json").write_bytes(body)
    (folder / "pia.sig").write_text(json.dumps(sig, indent=1) + "\n", encoding="utf-8")
    write_renderings(doc, sig, folder)
    files = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}
    entry = record(
        ws,
        decision.actor,
        "pia.export",
        f"pia {a.id}",
        PURPOSE,
        {
            "version": chosen,
            "sha256": sig["sha256"],
            "document_sha256": a.sha256,
            "folder": str(folder),
            "files": files,
            "key_id": sig["key_id"],
            "key_version": sig["key_version"],
        },
    )
    store.record_export(
        ws,
        a.id,
        chosen,
        folder=str(folder),
        sha256=sig["sha256"],
        signature=sig,
        files=files,
        actor=decision.actor,
        now=at,
    )
    return Export(a.id, chosen, folder, sig["sha256"], files, entry.seq)


def exports(ws: Workspace, assessment_id: int) -> list[dict[str, Any]]:
    """The assessment's signed exports, newest first: id, version, folder, the SHA-256 of
    ``pia.json`` and of every file, who and when (reading needs no decision)."""
    return store.list_exports(ws, assessment_id)


# --- risk register ---------------------------------------------------------------------------


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
    assessment_id: int | None = None,
    finding: str | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Risk:
    """Add a risk to the register; authorised as ``pia.edit``; records ``risk.add``."""
    from handover.governance.people import get_person

    at = now_utc(now)
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    get_person(ws, owner)
    risk = store.add_risk(
        ws,
        code=code,
        title=title,
        source=source,
        impact=impact,
        likelihood=likelihood,
        owner=owner,
        review_on=review_on,
        controls=controls,
        actor=decision.actor,
        now=at,
        assessment_id=assessment_id,
        finding=finding,
    )
    record(ws, decision.actor, "risk.add", f"risk {risk.code}", RISK_PURPOSE, risk.to_json())
    return risk


def review_risk(
    ws: Workspace,
    code: str,
    *,
    next_review: dt.date,
    status: str | None = None,
    impact: str | None = None,
    likelihood: str | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Risk:
    """Record a review of risk ``code`` (next review date, optional new status or scores);
    authorised as ``pia.edit``; records ``risk.review`` with before and after."""
    at = now_utc(now)
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    before, after = store.review_risk(
        ws,
        code,
        next_review=next_review,
        actor=decision.actor,
        now=at,
        status=status,
        impact=impact,
        likelihood=likelihood,
    )
    record(
        ws,
        decision.actor,
        "risk.review",
        f"risk {code}",
        RISK_PURPOSE,
        {
            "before": {
                k: before.to_json()[k] for k in ("level", "status", "review_on", "overdue_days")
            },
            "after": {k: after.to_json()[k] for k in ("level", "status", "review_on")},
        },
    )
    return after


def link_incident(
    ws: Workspace,
    code: str,
    incident_id: int,
    *,
    unlink: bool = False,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Risk:
    """Link incident ``incident_id`` (it must exist) to risk ``code``, or remove the link;
    authorised as ``pia.edit``; records ``risk.link`` / ``risk.unlink`` when it changes."""
    from handover.incidents.records import get_incident

    at = now_utc(now)
    store.get_risk(ws, code, now=at)
    inc = get_incident(ws, incident_id)  # BadInput naming the incident when there is none
    decision = require(ws, PIA_EDIT, "*", actor=actor, now=at)
    risk, changed = store.link_incident(ws, code, inc.id, now=at, unlink=unlink)
    if changed:
        record(
            ws,
            decision.actor,
            "risk.unlink" if unlink else "risk.link",
            f"risk {code}",
            RISK_PURPOSE,
            {
                "risk": code,
                "incident": inc.id,
                "incident_grade": inc.grade,
                "drill": inc.drill,
                "incident_ids": list(risk.incident_ids),
            },
        )
    return risk


@dataclass(frozen=True)
class RiskDetail:
    """A risk with what it links to: the assessment finding it comes from (as written in
    the approved version, else the current one) and the incidents that realised it."""

    risk: Risk
    finding: dict[str, Any] | None
    assessment: dict[str, Any] | None
    incidents: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            **self.risk.to_json(),
            "pia": self.assessment,
            "pia_finding": self.finding,
            "incidents": self.incidents,
        }


def risk_detail(ws: Workspace, code: str, *, now: dt.datetime | None = None) -> RiskDetail:
    """Risk ``code`` with its PIA finding and linked incidents (reading needs no decision)."""
    from handover.incidents.records import get_incident

    at = now_utc(now)
    risk = store.get_risk(ws, code, now=at)
    finding = head = None
    if risk.assessment_id is not None:
        a = store.get(ws, risk.assessment_id)
        version = a.approved_version or a.version
        chosen = store.get(ws, a.id, version)
        head = {"id": a.id, "version": version, "status": a.status, "title": a.title}
        finding = store.finding_of(chosen, risk.finding) if risk.finding else None
    incidents = []
    for iid in risk.incident_ids:
        inc = get_incident(ws, iid)
        incidents.append(
            {
                "id": inc.id,
                "title": inc.title,
                "grade": inc.grade,
                "status": inc.status,
                "drill": inc.drill,
                "aware_at": inc.aware_at.isoformat(),
            }
        )
    return RiskDetail(risk, finding, head, incidents)


def risks(ws: Workspace, *, overdue: bool = False, now: dt.datetime | None = None) -> list[Risk]:
    """The register (only overdue reviews with ``overdue``); reading needs no decision."""
    return store.list_risks(ws, now=now_utc(now), overdue=overdue)


@dataclass(frozen=True)
class Status:
    """Where the assessments stand, which risk reviews are overdue, and the last
    checklist run compared with the one before it."""

    assessments: list[Assessment]
    overdue: list[Risk]
    at: dt.datetime
    checklist: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "at": self.at.isoformat(),
            "assessments": [
                {
                    "id": a.id,
                    "title": a.title,
                    "status": a.status,
                    "version": a.version,
                    "approved_version": a.approved_version,
                    "retain_until": a.retain_until.isoformat() if a.retain_until else None,
                }
                for a in self.assessments
            ],
            "overdue_reviews": [r.to_json() for r in self.overdue],
            "checklist": self.checklist,
        }


def status(ws: Workspace, *, now: dt.datetime | None = None) -> Status:
    """Every assessment's state, the overdue risk reviews (warnings), and the latest
    checklist score with the items that failed or recovered since the run before."""
    at = now_utc(now)
    return Status(
        store.list_assessments(ws),
        store.list_risks(ws, now=at, overdue=True),
        at,
        checklist_trend(entries(ws, action="compliance.check")),
    )


@dataclass(frozen=True)
class Overview:
    """What ``handover status`` adds from this room: overdue risk reviews (warnings) and
    the last checklist score with what changed since the run before."""

    overdue: list[Risk]
    checklist: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "overdue_risk_reviews": [r.to_json() for r in self.overdue],
            "checklist": self.checklist,
        }


def overview(ws: Workspace, *, now: dt.datetime | None = None) -> Overview:
    """Overdue risk reviews and the checklist trend, for ``handover status``."""
    at = now_utc(now)
    return Overview(
        store.list_risks(ws, now=at, overdue=True),
        checklist_trend(entries(ws, action="compliance.check")),
    )


def checklist_trend(runs: list[Any]) -> dict[str, Any] | None:
    """The newest ``compliance.check`` event's score, and which items are newly not met
    or met again compared with the previous run (None before the first run)."""
    if not runs:
        return None
    last = runs[-1]
    now_failing = set(last.details.get("not_met") or {})
    before = set(runs[-2].details.get("not_met") or {}) if len(runs) > 1 else set()
    return {
        "seq": last.seq,
        "ts": last.ts,
        "score": (last.details.get("score") or {}).get("score"),
        "not_met": sorted(now_failing),
        "newly_not_met": sorted(now_failing - before) if len(runs) > 1 else [],
        "resolved": sorted(before - now_failing),
        "previous_seq": runs[-2].seq if len(runs) > 1 else None,
    }


# --- compliance checklist ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistReport:
    """The evaluated checklist: results, score, the rules version, the ledger seq."""

    results: list[Result]
    score: dict[str, Any]
    version: int
    at: dt.datetime
    seq: int

    def line(self, lang: str) -> str:
        """The score in one line in ``lang``."""
        s = self.score
        return t(
            "pia.cli.score",
            lang,
            score=s["score"] * 100,
            met=s["met"],
            attested=s["attested"],
            not_met=s["not_met"],
            na=s["not_applicable"],
            seq=self.seq,
        )

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """Machine form with texts in ``lang``."""
        return {
            "at": self.at.isoformat(),
            "checklist_version": self.version,
            "score": self.score,
            "ledger_seq": self.seq,
            "items": [r.to_json(lang) for r in self.results],
        }


def check(
    ws: Workspace, *, actor: str | None = None, now: dt.datetime | None = None
) -> ChecklistReport:
    """Evaluate every checklist item from the ledger (recomputed first) and the governance
    facts; authorised as ``compliance.check``; records ``compliance.check`` with the score
    and the items not met."""
    at = now_utc(now)
    decision = require(ws, COMPLIANCE, "*", actor=actor, now=at)
    ev = gather(ws, now=at, check_ledger=True)
    rules = load_checklist()
    results = evaluate(ev, now=at, checklist=rules)
    sc = score(results)
    entry = record(
        ws,
        decision.actor,
        "compliance.check",
        f"checklist v{rules.version}",
        CHECK_PURPOSE,
        {
            "checklist_version": rules.version,
            "score": sc,
            "not_met": {
                r.item.id: [c.get("seq") for c in r.counter[:20]]
                for r in results
                if r.status == "not_met"
            },
            "ledger_size": len(ev.entries),
        },
    )
    return ChecklistReport(results, sc, rules.version, at, entry.seq)


def attest(
    ws: Workspace,
    item: str,
    note: str,
    *,
    applies: bool = True,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Record a person's attestation of checklist item ``item`` (only items handover cannot
    compute); ``applies=False`` states it does not apply. Authorised as
    ``compliance.check``; records ``compliance.attest``; returns its ledger seq."""
    at = now_utc(now)
    rules = load_checklist()
    found = next((i for i in rules.items if i.id == item), None)
    if found is None:
        raise BadInput.msg(
            "pia.attest_unknown", item=item, items=", ".join(i.id for i in rules.items)
        )
    if found.check not in ("attestation", "cross_border"):
        raise BadInput.msg("pia.attest_computed", item=item)
    if not note.strip():
        raise BadInput.msg("pia.attest_note")
    decision = require(ws, COMPLIANCE, "*", actor=actor, now=at)
    entry = record(
        ws,
        decision.actor,
        "compliance.attest",
        f"checklist {item}",
        CHECK_PURPOSE,
        {
            "item": item,
            "applies": applies,
            "note": note.strip()[:2000],
            "at": at.isoformat(),
            "checklist_version": rules.version,
        },
    )
    return entry.seq


# --- demo --------------------------------------------------------------------------------------

DEMO_EDITS = """# Edits the demo applies to its assessment (docs/pia.md, "Editing").
signatory = "liqiang"
conclusion = "风险经处置后可接受,同意在计划措施按期完成的前提下交接 / residual risk acceptable; the transfer may proceed once the planned measures are done on time"

[processing]
note = "存量借款人信息随股权转让整体转移至买方,处理目的不变(PIPL 第二十二条) / the borrowers' information moves to the buyer with the company, purpose unchanged (PIPL Art. 22)"

[necessity]
note = "处理敏感个人信息并向买方提供,依 PIPL 第五十五条须事前评估 / sensitive information is provided to the buyer: PIPL Art. 55 requires a prior assessment"
"""


def demo_step(ctx: Any) -> str:
    """Demo step: the DPO drafts the assessment, the buyer's DPO (its named signatory)
    approves it before anything is sealed, and the signed report is exported."""
    ws = ctx.ws
    a = new_assessment(ws, actor="wangmin")
    edits = ws.path / "governance" / "demo-pia-edits.toml"
    edits.parent.mkdir(exist_ok=True)
    edits.write_text(DEMO_EDITS, encoding="utf-8")
    edit(ws, a.id, edits, actor="wangmin")
    opinion(
        ws,
        a.id,
        "同意评估结论;计划措施须在交割日前完成 / I agree; planned measures due before closing",
        actor="wangmin",
    )
    submit(ws, a.id, actor="wangmin")
    a = approve(ws, a.id, actor="liqiang")
    x = export(ws, a.id, actor="wangmin")
    from handover.pia import load_method

    method = load_method()
    found = {r["level"] for r in a.document["risks"]}
    levels = [method.label("level", x, ctx.lang) for x in method.levels if x in found]
    return t(
        "pia.demo_step",
        ctx.lang,
        id=a.id,
        version=a.version,
        risks=len(a.document["risks"]),
        levels=", ".join(levels),
        until=a.retain_until.isoformat() if a.retain_until else "-",
        folder=x.folder,
    )


#: the statements the demo cast makes for the items handover cannot compute (who, note)
DEMO_ATTESTATIONS: dict[str, tuple[str, str]] = {
    "lawful_basis": (
        "wangmin",
        "演示:股权转让协议第 3 条约定借款人信息随公司整体转移(PIPL 第二十二条) / "
        "demo: SPA clause 3, the borrowers' information moves with the company (PIPL Art. 22)",
    ),
    "sensitive_consent": (
        "wangmin",
        "演示:借款合同第 12 条已取得对身份证、银行卡信息的单独同意 / "
        "demo: loan contract clause 12 holds the separate consent for ID and card data",
    ),
    "compliance_audit": (
        "liuyang",
        "演示:顾问所已按《个人信息保护合规审计指引》完成本次交接的专项审计 / "
        "demo: the advisor audited this handover after the compliance audit guide",
    ),
}


def demo_check(ctx: Any) -> str:
    """Demo step: the demo cast attests what handover cannot compute, then the checklist
    is evaluated from the ledger of the whole run."""
    for item, (who, note) in DEMO_ATTESTATIONS.items():
        attest(ctx.ws, item, note, actor=who)
    return check(ctx.ws, actor="wangmin").line(ctx.lang)
