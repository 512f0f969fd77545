"""A few rows of a scanned table, for a person to look at (the console's records view):
masked by default, clear per tier only when asked for and allowed, every clear view a
ledger event.

Reading rows at all is ``scan.evidence`` in masked mode on the tiers the table holds (the
roles that may see a scan's evidence: DPO, compliance officer, data engineer — never the
auditor), decided and ledgered as a scan's is. Asking for clear values decides
``scan.evidence`` in clear mode once per tier of the table's personal columns: the
columns of an allowed tier are shown clear, the others stay masked. A view showing any
clear value records ``records.view`` (who, which table, which columns clear, how many
rows: never a value). Values are masked by their PII type's default rule (the taxonomy's,
as the scan's evidence is); a free-text column with personal information is redacted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.db.url import is_url
from handover.errors import BadInput
from handover.governance import authorize, require
from handover.governance.policy import now_utc
from handover.ledger import record

if TYPE_CHECKING:
    from handover.governance import Decision
    from handover.sources import FileReading
    from handover.workspace import Workspace

ACTION = "scan.evidence"
PURPOSE = "查看个人信息(控制台)/ viewing personal information (console)"
#: at most this many rows are shown
MAX_ROWS = 50
#: what a free-text column with personal information shows, masked
REDACTED = "[redacted]"


@dataclass
class RecordsView:
    """Rows of one table as shown: each column with its PII type, tier and whether its
    values are clear; the decisions taken (the refused clear ones with their reasons)."""

    table: str
    source: str
    columns: list[dict[str, Any]]
    rows: list[list[str | None]]
    asked_clear: bool
    refused: list[Decision] = field(default_factory=list)
    seq: int | None = None  # the ``records.view`` entry of a clear view

    @property
    def clear_columns(self) -> list[str]:
        """The columns shown in clear."""
        return [c["name"] for c in self.columns if c["clear"]]

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """Machine form (``GET /api/records/{table}``)."""
        return {
            "table": self.table,
            "source": self.source,
            "columns": self.columns,
            "rows": self.rows,
            "asked_clear": self.asked_clear,
            "clear_columns": self.clear_columns,
            "refused": [
                {
                    "resource": d.resource,
                    "reason_key": d.reason_key,
                    "reason": d.reason_en if lang == "en" else d.reason,
                }
                for d in self.refused
            ],
            "ledger_seq": self.seq,
        }


def _columns(inv: dict[str, Any], table: str) -> list[dict[str, Any]]:
    found = next((t for t in inv["tables"] if t["name"] == table), None)
    if found is None:
        names = ", ".join(t["name"] for t in inv["tables"])
        raise BadInput.msg("records.no_table", table=table[:100], tables=names[:500])
    return [
        {
            "name": c["name"],
            "primary": c.get("primary"),
            "tier": c.get("tier") if c.get("pii") else None,
            "free_text": bool(c.get("free_text")),
            "clear": False,
        }
        for c in found["columns"]
    ]


def _source(inv: dict[str, Any]) -> str:
    """The scanned source, when it can be opened again (a file that is still there, by
    the absolute path the scan recorded: the console may run in another folder than the
    scan did; a URL without a hidden password); else BadInput naming it."""
    spec = str(inv.get("source") or "")
    where = str(inv.get("located") or "")
    if where and not is_url(where) and Path(where).exists():
        return where
    if (is_url(spec) and "***" not in spec) or (spec and not is_url(spec) and Path(spec).exists()):
        return spec
    raise BadInput.msg("records.source_gone", source=spec[:200])


def _first_rows(spec: str, table: str, limit: int, reading: FileReading) -> Any:
    """The first ``limit`` rows of ``table`` as an Arrow table (strings), in key order,
    the source read as its scan read it (``reading``)."""
    import pyarrow as pa

    from handover.package.seal import open_reader

    reader = open_reader(spec, [table], reading=reading)
    try:
        tdef = next((t for t in reader.schema() if t.name == table), None)
        if tdef is None:
            raise BadInput.msg("records.no_table", table=table[:100], tables="-")
        batch = next(iter(reader.read(tdef, after=None, batch_size=limit)), None)
    finally:
        reader.close()
    if batch is None:
        return pa.table({})
    data = pa.Table.from_batches([batch.data]).slice(0, limit)
    return pa.table({n: _text(data.column(n)) for n in data.column_names})


def _text(values: Any) -> Any:
    """A column as strings for display (bytes and other types Arrow cannot cast: their
    text form, for the few rows shown)."""
    import pyarrow as pa

    try:
        return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in values.to_pylist()], pa.string())


def _masked(values: Any, column: dict[str, Any]) -> list[str | None]:
    """One displayed column's values masked by its type's rule (the few rows shown)."""
    from handover.taxonomy import mask_value

    out: list[str | None] = values.to_pylist()
    if column["free_text"]:
        return [None if v is None else REDACTED for v in out]
    kind = str(column["primary"])
    return [None if v is None else mask_value(kind, v) for v in out]


def view_records(
    ws: Workspace,
    table: str,
    *,
    actor: str,
    clear: bool = False,
    limit: int = 20,
    now: dt.datetime | None = None,
) -> RecordsView:
    """The first ``limit`` rows of ``table`` of the newest scan's source, for ``actor``:
    masked (``scan.evidence`` masked on the table's tiers, else Refused), with ``clear``
    the columns of each tier ``actor`` may see in clear shown clear and the view recorded
    as ``records.view``."""
    from handover.detect.store import inventory_reading, latest_inventory

    at = now_utc(now)
    inv = latest_inventory(ws)
    if inv is None:
        raise BadInput.msg("records.no_scan")
    columns = _columns(inv, table)
    if not 1 <= limit <= MAX_ROWS:
        raise BadInput.msg("records.bad_limit", limit=limit, most=MAX_ROWS)
    tiers = sorted({c["tier"] for c in columns if c["tier"]})
    decision = require(ws, ACTION, f"{','.join(tiers or ['C1'])}/masked", actor=actor, now=at)
    spec = _source(inv)
    refused: list[Decision] = []
    if clear:
        for tier in tiers:
            d = authorize(ws, decision.actor, ACTION, f"{tier}/clear", now=at)
            if d.allowed:
                for c in columns:
                    c["clear"] = c["clear"] or c["tier"] == tier
            else:
                refused.append(d)
    data = _first_rows(spec, table, limit, inventory_reading(inv))
    shown: list[list[str | None]] = []
    for c in columns:
        values = data.column(c["name"]) if c["name"] in data.column_names else None
        if values is None:
            shown.append([None] * data.num_rows)
        elif c["clear"] or c["tier"] is None:
            shown.append(values.to_pylist())
        else:
            shown.append(_masked(values, c))
    rows = [list(r) for r in zip(*shown, strict=True)] if shown else []
    view = RecordsView(table, str(inv.get("source")), columns, rows, clear, refused)
    if view.clear_columns:
        entry = record(
            ws,
            decision.actor,
            "records.view",
            f"table {table}",
            PURPOSE,
            {
                "mode": "clear",
                "clear_columns": view.clear_columns,
                "masked_columns": [c["name"] for c in columns if c["tier"] and not c["clear"]],
                "rows": len(rows),
                "scan_id": inv.get("scan_id"),
            },
        )
        view.seq = entry.seq
    return view
