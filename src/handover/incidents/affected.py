"""Who is affected: people and categories of personal information, from the stored scan
inventory and the tables/columns an event names (never guessed from the data itself)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handover.errors import BadInput

ITEM = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
#: the categories PIPL Art. 57 ¶1 names ("发生或者可能发生个人信息泄露、篡改、丢失的"): an
#: event of one of them that names no data may concern personal information
PI_CATEGORIES: tuple[str, ...] = ("data_leak", "data_tamper", "data_loss")


def check_items(items: Sequence[str]) -> list[str]:
    """Data items ``table`` or ``table.column``, stripped, deduplicated (BadInput naming a
    malformed one)."""
    out: list[str] = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        if not ITEM.match(item):
            raise BadInput.msg("incidents.bad_item", item=item)
        if item not in out:
            out.append(item)
    return out


@dataclass
class Affected:
    """The affected-people estimate and what it rests on.

    ``people`` is the upper bound (the rows of every leaked table holding personal
    information, added up: the same person may appear in two tables), ``people_min`` the
    lower bound (the largest such table). Grading uses the upper bound, so a count never
    makes a grade too low.
    """

    people: int | None
    people_min: int | None
    tables: list[dict[str, Any]] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    sensitive: bool = False
    unknown: list[str] = field(default_factory=list)
    scan_id: int | None = None
    source: str | None = None
    basis: str = "inventory"

    @property
    def personal_information(self) -> bool:
        """Whether personal information is or may be concerned: a leaked column classified
        as personal information, an item the inventory does not know (or no inventory at
        all), or a leak, tampering or loss that names no data (``basis`` ``no_data``).

        Conservative on purpose: the PIPL Art. 57 duties are created whenever it cannot be
        ruled out; a person may still waive telling the individuals (Art. 57 ¶2)."""
        return bool(self.types) or bool(self.unknown) or self.basis == "no_data"

    def to_json(self) -> dict[str, Any]:
        """Machine form (stored with the incident, ledger details)."""
        return {
            "people": self.people,
            "people_min": self.people_min,
            "tables": self.tables,
            "types": self.types,
            "tiers": self.tiers,
            "sensitive": self.sensitive,
            "unknown": self.unknown,
            "scan_id": self.scan_id,
            "source": self.source,
            "basis": self.basis,
        }


def affected_people(
    inventory: dict[str, Any] | None, items: Sequence[str], category: str | None = None
) -> Affected:
    """Count the people whose information the leaked ``items`` hold, from ``inventory``
    (the :func:`handover.detect.store.latest_inventory` shape).

    A table counts with its stored row count when a named column of it (or, for a whole
    table, any column) was classified as personal information; tables or columns the
    inventory does not know are listed in ``unknown``. An event of a ``category`` of
    :data:`PI_CATEGORIES` that names no data counts nobody (``people`` None) and may
    concern personal information.
    """
    names = check_items(items)
    if not names and category in PI_CATEGORIES:
        scan = inventory or {}
        return Affected(
            None, None, scan_id=scan.get("scan_id"), source=scan.get("source"), basis="no_data"
        )
    if inventory is None:
        return Affected(None, None, unknown=names, basis="no_inventory")
    tables = {t["name"]: t for t in inventory.get("tables", [])}
    wanted: dict[str, set[str] | None] = {}
    unknown: list[str] = []
    for item in names:
        table, _, column = item.partition(".")
        t = tables.get(table)
        if t is None or (column and column not in {c["name"] for c in t["columns"]}):
            unknown.append(item)
            continue
        if not column:
            wanted[table] = None  # the whole table
        elif table not in wanted:
            wanted[table] = {column}
        elif (cols := wanted[table]) is not None:
            cols.add(column)
    out = Affected(
        0, 0, unknown=unknown, scan_id=inventory.get("scan_id"), source=inventory.get("source")
    )
    types: set[str] = set()
    tiers: set[str] = set()
    for table, cols in wanted.items():
        t = tables[table]
        pii = [c for c in t["columns"] if c.get("primary") and (cols is None or c["name"] in cols)]
        if not pii:
            continue
        rows = int(t.get("rows") or 0)
        out.tables.append(
            {
                "table": table,
                "rows": rows,
                "columns": [c["name"] for c in pii],
                "types": sorted({str(c["primary"]) for c in pii}),
            }
        )
        types.update(str(c["primary"]) for c in pii)
        tiers.update(str(c["tier"]) for c in pii if c.get("tier"))
        out.sensitive = out.sensitive or any(bool(c.get("sensitive")) for c in pii)
        assert out.people is not None and out.people_min is not None
        out.people += rows
        out.people_min = max(out.people_min, rows)
    out.types = sorted(types)
    out.tiers = sorted(tiers)
    if not out.tables and unknown:
        out.people = out.people_min = None
    return out
