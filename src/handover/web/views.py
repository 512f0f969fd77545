"""What the console shows, read from the library: one function per page, returning plain
data that the HTML templates and the JSON API both render. No view writes anything but
what the library it calls records (an authorisation, a checkpoint)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Query
from sqlalchemy import func, select

from handover.governance.people import Person
from handover.i18n import Msg

if TYPE_CHECKING:
    from handover.governance.authorize import Decision
    from handover.workspace import Workspace


# --- dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StageDef:
    """A stage of the transfer and the ledger action that proves it ran (None: the stage
    has no library yet, shown as not available)."""

    key: str
    action: str | None
    purpose: str | None = None
    ok_flag: str | None = None


#: The transfer's stages in order (issue 19): inventory → PIA → grants → seal → migrate →
#: verify → notices → shred → dossier. ``ok_flag`` names the details field that says
#: whether a run passed (verify: rows equal; shred: sampled identifiers all gone).
STAGES: tuple[StageDef, ...] = (
    StageDef("inventory", "scan.run"),
    StageDef("pia", "pia.approve"),
    StageDef("grants", "governance.grant.approve"),
    StageDef("seal", "package.seal", purpose="transfer"),
    StageDef("migrate", "migrate.done"),
    StageDef("verify", "verify.run", ok_flag="equal"),
    StageDef("notices", None),
    StageDef("shred", "erase.done", ok_flag="passed"),
    StageDef("dossier", "dossier.export"),
)


@dataclass
class Stage:
    """One stage's state: ``done``, ``failed``, ``not_started`` or ``unavailable``."""

    key: str
    status: str
    seq: int | None = None
    ts: str | None = None
    actor: str | None = None
    subject: str | None = None
    runs: int = 0

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "stage": self.key,
            "status": self.status,
            "evidence_seq": self.seq,
            "at": self.ts,
            "actor": self.actor,
            "subject": self.subject,
            "runs": self.runs,
        }


def stages(ws: Workspace) -> list[Stage]:
    """Each stage's status from the ledger: the newest event of its action is the evidence."""
    from handover.ledger import entries

    out: list[Stage] = []
    for d in STAGES:
        if d.action is None:
            out.append(Stage(d.key, "unavailable"))
            continue
        found = [
            e
            for e in entries(ws, action=d.action)
            if e.action == d.action and (d.purpose is None or e.purpose == d.purpose)
        ]
        if not found:
            out.append(Stage(d.key, "not_started"))
            continue
        last = found[-1]
        ok = d.ok_flag is None or bool(last.details.get(d.ok_flag))
        out.append(
            Stage(
                d.key,
                "done" if ok else "failed",
                last.seq,
                last.ts,
                last.actor,
                last.subject,
                len(found),
            )
        )
    return out


@dataclass
class Dashboard:
    """The dashboard: stages, deadlines, pending approvals, grants by state, the chart data."""

    transfer: dict[str, Any]
    stages: list[Stage]
    deadlines: list[dict[str, Any]]
    pending: list[dict[str, Any]]
    refusals: int
    grants: dict[str, int]
    tiers: list[dict[str, Any]]
    scan_id: int | None

    def to_json(self) -> dict[str, Any]:
        """Machine form (``GET /api/dashboard``)."""
        return {
            "transfer": self.transfer,
            "stages": [s.to_json() for s in self.stages],
            "deadlines": self.deadlines,
            "pending_approvals": self.pending,
            "refusals_last_7_days": self.refusals,
            "grants_by_state": self.grants,
            "pii_columns_by_tier": self.tiers,
            "scan_id": self.scan_id,
        }


def tiers_by_table(inv: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Per table of the stored inventory: how many columns hold C3, C2, C1 and no PII."""
    if inv is None:
        return []
    out = []
    for tb in inv["tables"]:
        counts = {"C3": 0, "C2": 0, "C1": 0, "none": 0}
        for c in tb["columns"]:
            counts[c.get("tier") or "none"] = counts.get(c.get("tier") or "none", 0) + 1
        out.append({"table": tb["name"], "rows": tb["rows"], **counts})
    return out


def dashboard(ws: Workspace, now: dt.datetime) -> Dashboard:
    """The dashboard at ``now`` (deadlines within governance's 30-day horizon)."""
    from handover.detect.store import latest_inventory
    from handover.governance.grants import list_grants
    from handover.governance.status import governance_status

    st = governance_status(ws, now=now)
    by_state: dict[str, int] = {}
    for g in list_grants(ws, now=now):
        by_state[g.state] = by_state.get(g.state, 0) + 1
    inv = latest_inventory(ws)
    tr = ws.settings.transfer
    transfer = tr.model_dump(mode="json") if tr is not None else {}
    return Dashboard(
        transfer=transfer,
        stages=stages(ws),
        deadlines=[e.to_json() for e in st.expiring],
        pending=st.pending,
        refusals=st.refusal_count,
        grants=by_state,
        tiers=tiers_by_table(inv),
        scan_id=inv.get("scan_id") if inv else None,
    )


# --- inventory -----------------------------------------------------------------------------


@dataclass
class InventoryQuery:
    """Search and filters of the inventory browser (all optional)."""

    q: str = ""
    tier: str = ""
    table: str = ""
    sensitive: bool = False

    def to_json(self) -> dict[str, Any]:
        """Machine form (echoed in the API answer)."""
        return {"q": self.q, "tier": self.tier, "table": self.table, "sensitive": self.sensitive}


def inventory_query(
    q: Annotated[str, Query(max_length=100)] = "",
    tier: Annotated[str, Query(pattern="^(|C1|C2|C3|none)$")] = "",
    table: Annotated[str, Query(max_length=300)] = "",
    sensitive: bool = False,
) -> InventoryQuery:
    """Dependency of the inventory page and API: the search and filters of a request."""
    return InventoryQuery(q.strip(), tier, table, sensitive)


@dataclass
class InventoryView:
    """Columns of the newest scan matching a query; ``examples`` only when authorised."""

    scan_id: int | None
    source: str | None
    tables: list[dict[str, Any]]
    columns: list[dict[str, Any]]
    total: int
    examples: bool = False
    decision: Decision | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form (``GET /api/inventory``)."""
        return {
            "scan_id": self.scan_id,
            "source": self.source,
            "tables": self.tables,
            "columns": self.columns,
            "total_columns": self.total,
            "examples": self.examples,
        }


def _matches(table: str, c: dict[str, Any], q: InventoryQuery) -> bool:
    if q.table and table != q.table:
        return False
    tier = c.get("tier") or "none"
    if q.tier and tier != q.tier:
        return False
    if q.sensitive and not c.get("sensitive"):
        return False
    if q.q:
        needle = q.q.lower()
        hay = [table, c["name"], c.get("primary") or "", *(p["type"] for p in c.get("pii") or [])]
        if not any(needle in h.lower() for h in hay):
            return False
    return True


def inventory(
    ws: Workspace,
    q: InventoryQuery,
    lang: str,
    *,
    examples_for: Person | None = None,
    now: dt.datetime | None = None,
) -> InventoryView:
    """The newest stored inventory filtered by ``q``. With ``examples_for`` the masked
    examples (evidence) are included once ``scan.evidence`` on the shown tables in masked
    mode is allowed for that person (the decision is ledgered; refused: Refused)."""
    from handover.detect.messages import from_json, render
    from handover.detect.store import latest_inventory

    inv = latest_inventory(ws)
    if inv is None:
        return InventoryView(None, None, [], [], 0)
    tables = [{"name": t["name"], "rows": t["rows"]} for t in inv["tables"]]
    cols: list[dict[str, Any]] = []
    total = 0
    for t in inv["tables"]:
        for c in t["columns"]:
            total += 1
            if not _matches(t["name"], c, q):
                continue
            cols.append(
                {
                    "table": t["name"],
                    "column": c["name"],
                    "db_type": c["db_type"],
                    "primary": c.get("primary"),
                    "types": [p["type"] for p in c.get("pii") or []],
                    "tier": c.get("tier"),
                    "level": c.get("level"),
                    "sensitive": bool(c.get("sensitive")),
                    "free_text": bool(c.get("free_text")),
                    "confidence": c.get("confidence"),
                    "evidence": [
                        render(from_json(k), lang) if k.get("key") else str(text)
                        for text, k in zip(
                            c.get("evidence") or [], c.get("evidence_keys") or [], strict=False
                        )
                    ],
                }
            )
    view = InventoryView(inv.get("scan_id"), inv.get("source"), tables, cols, total)
    if examples_for is None:
        for c in cols:
            c.pop("evidence")
        return view
    from handover.governance import data_resource, require

    shown = sorted({c["table"] for c in cols})
    # Every table shown: ask for the tiers, as a scan does, not a list of every table.
    named = shown if shown and len(shown) < len(tables) else None
    view.decision = require(
        ws, "scan.evidence", data_resource(named, "masked"), actor=examples_for.name, now=now
    )
    view.examples = True
    return view


# --- ledger ------------------------------------------------------------------------------


def purpose_label(purpose: str, lang: str) -> str:
    """A recorded purpose in the reader's language: the library's purpose codes
    (``access control``, ``migration`` …) through ``ledger.purpose.<code>``; a purpose
    recorded otherwise (bilingual, or a person's) as it was recorded."""
    from handover.i18n import t

    key = "ledger.purpose." + re.sub(r"[^a-z0-9]+", "_", purpose.strip().lower())
    try:
        return t(key, lang)
    except KeyError:
        return purpose


def utc_bound(value: dt.datetime | None) -> dt.datetime | None:
    """A time bound in UTC (naive: taken as UTC). A bound UTC cannot hold (before year 1
    or after 9999) lies beyond every entry, which is exactly no bound: None."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except OverflowError:
        return None


@dataclass
class LedgerQuery:
    """Filters of the ledger explorer: actor (exact), action (prefix), subject (contains),
    time window, and the page."""

    actor: str = ""
    action: str = ""
    subject: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    page: int = 1
    per_page: int = 50

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "page": self.page,
            "per_page": self.per_page,
        }


@dataclass
class LedgerPage:
    """Entries of one page, newest first, the number matching, the ledger's size."""

    entries: list[dict[str, Any]]
    matching: int
    size: int
    query: LedgerQuery
    checkpoints: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Machine form (``GET /api/ledger``)."""
        return {
            "query": self.query.to_json(),
            "matching": self.matching,
            "size": self.size,
            "entries": self.entries,
            "checkpoints": [
                {**c, "problem": None if c["problem"] is None else str(c["problem"])}
                for c in self.checkpoints
            ],
        }


def ledger_page(ws: Workspace, q: LedgerQuery) -> LedgerPage:
    """One page of ledger entries matching ``q``, newest first, with the newest signed
    checkpoints and whether each signature verifies against the workspace's keys."""
    from handover.ledger import LedgerEntry, entry_filter, ledger_size
    from handover.ledger.models import LedgerEntryRow

    with ws.store.engine.connect() as conn:
        conds = entry_filter(
            conn,
            since=utc_bound(q.since),
            until=utc_bound(q.until),
            actor=q.actor or None,
            action=q.action or None,
        )
        if q.subject:
            conds.append(LedgerEntryRow.subject.contains(q.subject, autoescape=True))
        matching = conn.execute(
            select(func.count()).select_from(LedgerEntryRow).where(*conds)
        ).scalar_one()
        rows = conn.execute(
            select(LedgerEntryRow.body, LedgerEntryRow.leaf_hash)
            .where(*conds)
            .order_by(LedgerEntryRow.seq.desc())
            .limit(q.per_page)
            .offset((q.page - 1) * q.per_page)
        ).all()
    found = [LedgerEntry.from_body(r.body.encode("utf-8"), bytes(r.leaf_hash)) for r in rows]
    return LedgerPage(
        [e.to_json() for e in found],
        int(matching),
        ledger_size(ws),
        q,
        checkpoints(ws, limit=5),
    )


def checkpoints(ws: Workspace, *, limit: int = 5) -> list[dict[str, Any]]:
    """The newest ``limit`` stored checkpoints, each with ``valid``: its signed note opens
    with one of the workspace's signing keys and names the stored size and root."""
    from handover.ledger.ledger import trusted_keys
    from handover.ledger.models import LedgerCheckpointRow, LedgerHeadRow

    with ws.store.engine.connect() as conn:
        origin = conn.execute(
            select(LedgerHeadRow.origin).where(LedgerHeadRow.id == 1)
        ).scalar_one_or_none()
        rows = conn.execute(
            select(
                LedgerCheckpointRow.id,
                LedgerCheckpointRow.size,
                LedgerCheckpointRow.root,
                LedgerCheckpointRow.issued_at,
                LedgerCheckpointRow.note,
            )
            .order_by(LedgerCheckpointRow.id.desc())
            .limit(limit)
        ).all()
    keys = trusted_keys(ws)
    out = []
    for r in rows:
        problem = checkpoint_problem(r.note, origin or "", keys, int(r.size), bytes(r.root))
        out.append(
            {
                "id": r.id,
                "size": int(r.size),
                "root": bytes(r.root).hex(),
                "issued_at": r.issued_at.isoformat(),
                "valid": problem is None,
                "problem": problem,
            }
        )
    return out


def checkpoint_problem(
    note: str, origin: str, keys: list[bytes], size: int, root: bytes
) -> Msg | None:
    """None when ``note`` is signed by one of ``keys`` under ``origin`` and states ``size``
    and ``root``; else what is wrong (a catalogue message)."""
    from handover.ledger.note import NoteError, open_note, parse_checkpoint

    try:
        cp = parse_checkpoint(open_note(note, origin, *keys))
    except NoteError as exc:
        return exc.text
    if cp.origin != origin or cp.size != size or cp.root != root:
        return Msg("web.ledger.cp_mismatch", size=size)
    return None


@dataclass
class EntryProof:
    """One entry, its inclusion proof against the newest checkpoint, both checked here."""

    entry: dict[str, Any]
    size: int
    root: str
    proof: list[str]
    inclusion_valid: bool
    checkpoint_valid: bool
    problem: Msg | None
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        """Machine form (``GET /api/ledger/{seq}``)."""
        return {
            "entry": self.entry,
            "tree_size": self.size,
            "root": self.root,
            "proof": self.proof,
            "inclusion_valid": self.inclusion_valid,
            "checkpoint_valid": self.checkpoint_valid,
            "problem": str(self.problem) if self.problem is not None else None,
            "checkpoint": self.checkpoint,
        }


def entry_proof(ws: Workspace, seq: int, actor: str) -> EntryProof:
    """Entry ``seq`` with its inclusion proof, recomputed here from the body (RFC 6962) and
    the checkpoint's signature checked against the workspace keys. A proof the store cannot
    give (a tampered ledger) comes back with ``inclusion_valid`` false and the reason."""
    from handover.errors import CheckFailed
    from handover.ledger import LedgerEntry, prove
    from handover.ledger.ledger import latest_checkpoint, trusted_keys
    from handover.ledger.merkle import verify_inclusion
    from handover.ledger.models import LedgerEntryRow, LedgerHeadRow

    with ws.store.engine.connect() as conn:
        row = conn.execute(
            select(LedgerEntryRow.body, LedgerEntryRow.leaf_hash).where(LedgerEntryRow.seq == seq)
        ).one_or_none()
        origin = conn.execute(
            select(LedgerHeadRow.origin).where(LedgerHeadRow.id == 1)
        ).scalar_one_or_none()
    if row is None:
        from handover.errors import BadInput

        raise BadInput.msg("ledger.no_entry", seq=seq)
    entry = LedgerEntry.from_body(row.body.encode("utf-8"), bytes(row.leaf_hash)).to_json()
    try:
        p = prove(ws, seq, actor=actor)
    except CheckFailed as exc:
        cp = latest_checkpoint(ws, actor=actor)
        why = exc.message or Msg("web.ledger.unproven", seq=seq)
        return EntryProof(entry, cp.size, cp.root.hex(), [], False, False, why, cp.note)
    inclusion = verify_inclusion(p.body, p.seq, p.size, p.proof, p.root)
    problem = checkpoint_problem(p.checkpoint, origin or "", trusted_keys(ws), p.size, p.root)
    return EntryProof(
        entry,
        p.size,
        p.root.hex(),
        [h.hex() for h in p.proof],
        inclusion,
        problem is None,
        problem,
        p.checkpoint,
    )
