"""``handover status``: what expires soon, what waits for approval, what was refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from handover.errors import BadInput
from handover.governance.grants import load_grant
from handover.governance.models import GrantRow
from handover.governance.ndas import list_ndas
from handover.governance.policy import EXPIRING_DAYS, local_date, local_text, now_utc
from handover.governance.training import all_records
from handover.governance.vendors import list_vendors

if TYPE_CHECKING:
    from handover.workspace import Workspace

REFUSAL_DAYS = 7
MAX_REFUSALS = 100
#: the longest look ahead (ten years): longer is a typo, not a plan
MAX_DAYS = 3660


@dataclass(frozen=True)
class Expiring:
    """Something that stops counting soon (or already has, for vendor reassessments)."""

    kind: str
    ref: str
    who: str
    ends: str
    days_left: int

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "kind": self.kind,
            "ref": self.ref,
            "who": self.who,
            "ends": self.ends,
            "days_left": self.days_left,
        }


@dataclass
class GovernanceStatus:
    """The status report: expiring items, pending approvals, recent refusals."""

    at: dt.datetime
    days: int
    expiring: list[Expiring] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)
    refusal_count: int = 0

    def to_json(self) -> dict[str, Any]:
        """Machine form (``--json``)."""
        return {
            "at": self.at.isoformat(),
            "days": self.days,
            "expiring": [e.to_json() for e in self.expiring],
            "pending_approvals": self.pending,
            "refusals_last_7_days": self.refusal_count,
            "refusals": self.refusals,
        }


def governance_status(
    ws: Workspace, *, days: int = EXPIRING_DAYS, now: dt.datetime | None = None
) -> GovernanceStatus:
    """What expires within ``days`` (NDAs, training, vendor assessments, grants), pending
    grant approvals, and the refusals of the last 7 days. Dates and days left are
    counted on the workspace's local calendar; ``days`` is 1 to :data:`MAX_DAYS`."""
    if not 0 < days <= MAX_DAYS:
        raise BadInput.msg("gov.status_days", days=days, max=MAX_DAYS)
    at = now_utc(now)
    today = local_date(ws, at)
    horizon = at + dt.timedelta(days=days)
    last_day = local_date(ws, horizon)
    out = GovernanceStatus(at=at, days=days)
    for n in list_ndas(ws, now=at):
        if n.in_force and n.expires_on <= last_day:
            out.expiring.append(
                Expiring(
                    "nda",
                    f"#{n.id} {n.title}",
                    ",".join(n.parties),
                    n.expires_on.isoformat(),
                    (n.expires_on - today).days,
                )
            )
    for v in list_vendors(ws):
        a = v.latest
        if (
            a is not None
            and a.decision in ("approved", "conditional")
            and a.reassess_on <= last_day
        ):
            out.expiring.append(
                Expiring(
                    "vendor",
                    v.name,
                    a.decision,
                    a.reassess_on.isoformat(),
                    (a.reassess_on - today).days,
                )
            )
    with ws.store.session() as s:
        latest: dict[tuple[str, str], Any] = {}
        for r in all_records(s):
            if r.passed:
                latest[(r.person, r.course)] = r
        for (person, course), r in sorted(latest.items()):
            if r.expires_at is not None and at < r.expires_at <= horizon:
                out.expiring.append(
                    Expiring(
                        "training",
                        course,
                        person,
                        local_date(ws, r.expires_at).isoformat(),
                        (local_date(ws, r.expires_at) - today).days,
                    )
                )
        for row in s.scalars(
            select(GrantRow)
            .where(GrantRow.status.in_(("approved", "pending")))
            .order_by(GrantRow.id)
        ):
            g = load_grant(s, row, at)
            if g.state == "active" and g.valid_until <= horizon:
                out.expiring.append(
                    Expiring(
                        "grant",
                        f"#{g.id}",
                        g.grantee,
                        local_text(ws, g.valid_until, sep="T"),
                        (local_date(ws, g.valid_until) - today).days,
                    )
                )
            if g.state == "pending":
                out.pending.append(
                    {
                        "grant": g.id,
                        "grantee": g.grantee,
                        "requested_by": g.requested_by,
                        "scope": list(g.scope),
                        "mode": g.mode,
                        "purpose": g.purpose,
                        "approved_by": list(g.approved_by),
                        "approvals_needed": g.approvals_needed,
                    }
                )
    out.refusals = recent_refusals(ws, now=at)
    out.refusal_count = len(out.refusals)
    out.refusals = out.refusals[:MAX_REFUSALS]
    out.expiring.sort(key=lambda e: (e.days_left, e.kind, e.ref))
    return out


def recent_refusals(
    ws: Workspace, *, days: int = REFUSAL_DAYS, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Refused authorisations of the last ``days`` days from the ledger, newest first,
    with the reason in the workspace language."""
    from handover.i18n import t
    from handover.ledger import entries

    at = now_utc(now)
    lang = ws.settings.lang
    out: list[dict[str, Any]] = []
    for e in entries(ws, since=at - dt.timedelta(days=days), action="access.refuse"):
        when = dt.datetime.fromisoformat(e.ts.replace("Z", "+00:00"))
        if when > at:
            continue
        d = e.details
        try:
            reason = t(str(d["reason_key"]), lang, **dict(d.get("params") or {}))
        except (KeyError, IndexError, ValueError):
            reason = str(d.get("reason_en") or d.get("reason") or "")
        out.append(
            {
                "at": when.isoformat(timespec="seconds"),
                "seq": e.seq,
                "actor": e.actor,
                "action": str(d.get("action", "")),
                "resource": str(d.get("resource", "")),
                "reason": reason,
            }
        )
    out.reverse()
    return out
