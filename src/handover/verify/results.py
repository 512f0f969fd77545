"""The verdict of a comparison: per table the rows on each side, the keys missing, extra
or changed (at most :data:`KEY_CAP` of each listed), and its costs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from handover.i18n import t
from handover.verify.normalize import NORMALISATIONS

#: how many keys each list of the JSON result keeps at most
KEY_CAP = 1000


@dataclass
class TableResult:
    """The verdict on one table and the cost of reaching it."""

    name: str
    source_rows: int
    target_rows: int
    missing: list[Any] = field(default_factory=list)
    extra: list[Any] = field(default_factory=list)
    changed: list[Any] = field(default_factory=list)
    n_missing: int = 0
    n_extra: int = 0
    n_changed: int = 0
    rows_fetched: int = 0
    queries: int = 0
    levels: int = 0
    segment_key: str = "int"
    seconds: float = 0.0
    #: what the comparison normalised (codes of ``normalize.NORMALISATIONS``)
    normalisations: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        # the counts too: rows whose keys compare equal once normalised are never "equal"
        # by vanishing into one another
        differences = self.n_missing or self.n_extra or self.n_changed
        return not differences and self.source_rows == self.target_rows

    @property
    def truncated(self) -> bool:
        return (
            self.n_missing > len(self.missing)
            or self.n_extra > len(self.extra)
            or self.n_changed > len(self.changed)
        )

    def to_json(self) -> dict[str, Any]:
        """The machine form: name, row counts, key lists, equal (+ truncated if capped)."""
        out: dict[str, Any] = {
            "name": self.name,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "missing": self.missing,
            "extra": self.extra,
            "changed": self.changed,
            "equal": self.equal,
            "normalisations": self.normalisations,
        }
        if self.truncated:
            out["truncated"] = True
        return out

    def stats(self) -> dict[str, Any]:
        """Counts and costs without any key value (safe for the ledger)."""
        return {
            "name": self.name,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "missing": self.n_missing,
            "extra": self.n_extra,
            "changed": self.n_changed,
            "equal": self.equal,
            "rows_fetched": self.rows_fetched,
            "queries": self.queries,
            "levels": self.levels,
            "segment_key": self.segment_key,
            "seconds": round(self.seconds, 3),
            "normalisations": self.normalisations,
        }


@dataclass
class VerifyResult:
    """The verdict on every compared table."""

    source: str
    target: str
    tables: list[TableResult]
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        return all(x.equal for x in self.tables)

    @property
    def rows_fetched(self) -> int:
        return sum(x.rows_fetched for x in self.tables)

    @property
    def normalisations(self) -> list[str]:
        """Every normalisation some table's comparison applied, in a fixed order."""
        used = {c for x in self.tables for c in x.normalisations}
        return [c for c in NORMALISATIONS if c in used]

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """``{"equal", "normalisations", "tables"}`` as documented in docs/verify.md; each
        normalisation's ``text`` is in ``lang``."""
        return {
            "equal": self.equal,
            "normalisations": [
                {"code": c, "text": t(f"verify.norm.{c}", lang)} for c in self.normalisations
            ],
            "tables": [x.to_json() for x in self.tables],
        }

    @property
    def details(self) -> dict[str, Any]:
        """Per-table counts, flags and costs, never a key value."""
        return {
            "source": self.source,
            "target": self.target,
            "equal": self.equal,
            "rows_fetched": self.rows_fetched,
            "seconds": round(self.seconds, 3),
            "tables": [x.stats() for x in self.tables],
        }


def json_key(values: Sequence[Any]) -> Any:
    def one(v: Any) -> Any:
        if isinstance(v, bool | int | str) or v is None:
            return v
        if isinstance(v, float):
            return v
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, dt.date | dt.datetime):
            return v.isoformat()
        if isinstance(v, bytes | bytearray | memoryview):
            return bytes(v).hex()
        return str(v)

    return one(values[0]) if len(values) == 1 else [one(v) for v in values]


def sort_key(k: Any) -> tuple[str, str]:
    return (type(k).__name__, repr(k)) if not isinstance(k, int) else ("", f"{k:+030d}")
