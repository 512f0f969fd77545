"""``handover transparency``: the public transparency report of the transfer (个人信息转移
透明度报告, the 社会责任报告 of seed §12). Aggregates only — counts, shares, dates, the
measures taken — read from the ledger (and, for the notice reach, the outbox counts), never
a person's data; HTML and PDF in zh-CN and en with charts; the files' SHA-256 recorded in
the ledger (docs/dossier.md)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handover.errors import BadInput
from handover.governance import require
from handover.governance.policy import COMPLIANCE, now_utc
from handover.ledger import LedgerEntry, entries, record
from handover.workspace import Workspace

PURPOSE = "透明度报告 / transparency report (PIPL Art. 7, seed §12)"


@dataclass(frozen=True)
class TransparencyResult:
    """A written report: folder, files with their SHA-256, the ledger entry."""

    folder: Path
    files: dict[str, str]
    seq: int

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {"folder": str(self.folder), "files": self.files, "ledger_seq": self.seq}


def _of(log: list[LedgerEntry], action: str) -> list[LedgerEntry]:
    return [e for e in log if e.action == action]


def _grades(log: list[LedgerEntry]) -> dict[Any, str]:
    """Each real (not drill) incident's current grade: the last of its promotion and its
    regradings (``incidents grade`` only raises it)."""
    grades: dict[Any, str] = {}
    drills: set[Any] = set()
    for e in log:
        if e.action not in ("incident.promote", "incident.grade"):
            continue
        incident = e.details.get("incident")
        if e.action == "incident.promote" and e.details.get("drill"):
            drills.add(incident)
        grades[incident] = str((e.details.get("grade") or {}).get("grade", "-"))
    return {k: v for k, v in grades.items() if k not in drills}


def figures(ws: Workspace, *, now: dt.datetime) -> dict[str, Any]:
    """The report's figures: aggregates from the ledger, the stored inventory and the
    notice outboxes. Nothing here names or counts fewer than a whole campaign's people."""
    from handover.crypto.suites import SUITES
    from handover.detect.store import latest_inventory
    from handover.governance.people import list_people
    from handover.governance.training import list_records
    from handover.notices.campaign import list_campaigns
    from handover.notices.report import report_data
    from handover.pia import data_map
    from handover.pia.checklist import TRANSFER_ACTIONS

    log = entries(ws)
    tr = ws.settings.transfer
    dm = data_map(latest_inventory(ws))
    seals = _of(log, "package.seal")
    extracts = _of(log, "dd.extract")
    verifies = _of(log, "verify.run")
    done = _of(log, "erase.done")
    checks = _of(log, "compliance.check")
    approvals = _of(log, "pia.approve")
    # the same ordering as the checklist's pia_before_transfer: the first approval against
    # the first seal or migration
    moved = next((e for e in log if e.action in TRANSFER_ACTIONS), None)
    promotes = _of(log, "incident.promote")
    staff = [p for p in list_people(ws) if p.active]
    trained = {r.person for r in list_records(ws) if r.current(now)}
    campaigns = []
    for camp in list_campaigns(ws, newest_first=False):
        if camp.kind != "notice":
            continue
        data = report_data(ws, camp)
        campaigns.append(
            {
                "people": data["people"],
                "not_reached": data["not_reached"],
                "channels": {
                    ch["channel"]: {"sent": ch["sent"], "delivered": ch["delivered"]}
                    for ch in data["channels"]
                },
                "replies": {k: v for k, v in data["replies"].items() if isinstance(v, int)},
                "announced": any(
                    e.subject == f"campaign {camp.id}" for e in _of(log, "notices.announcement")
                ),
            }
        )
    duties = [
        o
        for e in _of(log, "incident.report.file")
        if not any(
            p.details.get("incident") == e.details.get("incident") and p.details.get("drill")
            for p in promotes
        )
        for o in e.details.get("obligations") or []
    ]
    last_check = checks[-1].details if checks else {}
    return {
        "schema": "handover.transparency/1",
        "generated_at": now.isoformat(),
        "ledger_size": len(log),
        "transfer": {
            "name": tr.name if tr else None,
            "purpose": tr.purpose if tr else None,
            "announced": tr.announced.isoformat() if tr and tr.announced else None,
            "closing": tr.closing.isoformat() if tr and tr.closing else None,
            "seller": tr.seller.model_dump(mode="json", exclude={"address"}) if tr else None,
            "buyer": tr.buyer.model_dump(mode="json", exclude={"address"}) if tr else None,
        },
        "inventory": {
            "tables": dm["totals"]["tables"],
            "pii_columns": dm["totals"]["pii_columns"],
            "sensitive_columns": dm["totals"]["sensitive_columns"],
            "by_tier": dm["totals"]["by_tier"],
            "by_level": dm["totals"]["by_level"],
        },
        "measures": {
            "pia_approved": approvals[0].details.get("at") if approvals else None,
            "data_first_moved": moved.ts if moved else None,
            "pia_before_transfer": (
                None if not approvals else moved is None or approvals[0].seq < moved.seq
            ),
            "pia_retained_until": approvals[-1].details.get("retain_until") if approvals else None,
            "suites": sorted(
                {
                    SUITES[str(e.details["suite"])].aead
                    for e in seals
                    if str(e.details.get("suite")) in SUITES
                }
            ),
            "packages": len(seals),
            "separate_tier_keys": bool(seals)
            and all(
                len(
                    {
                        v
                        for k, v in (e.details.get("column_keys") or {}).items()
                        if k in ("C2", "C3")
                    }
                )
                == 2
                for e in seals
            ),
            "extract_k": min(
                (int(e.details["k"]) for e in extracts if isinstance(e.details.get("k"), int)),
                default=None,
            ),
            "verified_rows": sum(
                sum(int(t.get("source_rows") or 0) for t in e.details.get("tables") or [])
                for e in verifies
                if e.details.get("equal") is True
            ),
            "verifications": sum(1 for e in verifies if e.details.get("equal") is True),
            "staff": len(staff),
            "staff_trained": sum(1 for p in staff if p.name in trained),
            "access_decisions": {
                "allowed": len(_of(log, "access.allow")),
                "refused": len(_of(log, "access.refuse")),
            },
        },
        "notices": campaigns,
        "incidents": {
            "by_grade": dict(Counter(_grades(log).values())),
            "drills": len(_of(log, "incident.drill.finish")),
            "duties_filed": len(duties),
            "duties_late": sum(1 for o in duties if o.get("late")),
        },
        "destruction": {
            "runs": len(done),
            "rows": sum(int(e.details.get("rows") or 0) for e in done),
            "files": sum(int(e.details.get("files") or 0) for e in done),
            "keys": sum(int(e.details.get("keys") or 0) for e in done),
            "samples": sum(int(e.details.get("samples") or 0) for e in done),
            "found": sum(int(e.details.get("found") or 0) for e in done),
            "certificates": len(_of(log, "erase.certificate")),
        },
        "compliance": {
            "score": (last_check.get("score") or {}).get("score"),
            "met": (last_check.get("score") or {}).get("met"),
            "attested": (last_check.get("score") or {}).get("attested"),
            "applicable": (last_check.get("score") or {}).get("applicable"),
            "checked_at_seq": checks[-1].seq if checks else None,
            "checklist_version": last_check.get("checklist_version"),
        },
    }


def transparency_report(
    ws: Workspace,
    out: Path | None = None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> TransparencyResult:
    """Write ``transparency.json`` and the HTML and PDF in zh-CN and en into ``out``
    (default ``reports/transparency/transparency-<UTC time>``; an existing non-empty
    folder is refused) and record ``transparency.report`` with every file's SHA-256.
    Authorised as ``compliance.check``."""
    import json

    from handover.crypto import sha256_file
    from handover.dossier import check_out
    from handover.reports.transparency import write_renderings

    at = now_utc(now)
    folder = out or ws.settings.reports_dir / "transparency" / f"transparency-{at:%Y%m%dT%H%M%SZ}"
    check_out(folder)  # a bad --out is refused before anything is decided or recorded
    decision = require(ws, COMPLIANCE, "*", actor=actor, now=at)
    data = figures(ws, now=at)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # made unwritable since the check
        raise BadInput.msg("reports.out_folder", path=folder, reason=type(exc).__name__) from None
    try:
        (folder / "transparency.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        write_renderings(data, folder)
        files = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    entry = record(
        ws,
        decision.actor,
        "transparency.report",
        folder.name,
        PURPOSE,
        {"folder": str(folder), "files": files, "ledger_size": data["ledger_size"]},
    )
    return TransparencyResult(folder, files, entry.seq)
