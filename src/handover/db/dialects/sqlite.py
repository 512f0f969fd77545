"""SQLite: what handover does differently on SQLite files.

Reflection: declared types as written and dates/times as the text the file stores, with
the one spelling a column's values share (:func:`native`, one aggregate query per table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from handover.db.dialects.base import Dialect, Kind
from handover.db.spelling import DEFAULT, TEMPORAL, Spelling, sqlite_type

if TYPE_CHECKING:
    import sqlalchemy as sa

    from handover.db.reflect import TableDef


class SQLite(Dialect):
    """SQLite through the standard ``sqlite3`` module."""

    name: ClassVar[str] = "sqlite"
    backends: ClassVar[tuple[str, ...]] = ("sqlite",)
    placeholder: ClassVar[str] = "?"
    typed_temporals: ClassVar[bool] = False
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        # the platform store: concurrent readers, waits instead of "database is locked",
        # enforced foreign keys, and a commit that survives a power cut
        "store": (
            "PRAGMA journal_mode=WAL",
            "PRAGMA busy_timeout=30000",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=FULL",
        ),
    }

    # --- reflection ------------------------------------------------------------------

    def kind_of(self, t: Any) -> Kind | None:
        """SQLite INTEGER is 64-bit whatever the spelling, REAL is 8 bytes, and CHAR(n) is
        never padded (its limit is kept, not the padding)."""
        import sqlalchemy as sa

        st = sa.types
        if isinstance(t, st.Integer) and not isinstance(t, st.SmallInteger):
            return "int64", None, None, None
        if isinstance(t, st.Float):
            return "float64", None, None, None
        if isinstance(t, st.CHAR | st.NCHAR):
            n = t.length
            return ("string", n, None, None) if n else ("text", None, None, None)
        return None

    def is_integer_key(self, t: Any) -> bool:
        """Only a column declared exactly INTEGER aliases the rowid (auto-assigned)."""
        import sqlalchemy as sa

        return type(t) is sa.INTEGER

    def autoincrement(self, info: dict[str, Any], auto: bool, *, sole_int_pk: bool) -> bool:
        """The rowid alias is the only auto-assigned column."""
        return sole_int_pk

    def native_tables(
        self, conn: sa.Connection, defs: list[TableDef], *, spellings: bool = True
    ) -> list[TableDef]:
        """Each table with its declared types as written and its dates and times as the
        text the file stores (see :func:`native`)."""
        return [native(conn, d, spellings=spellings) for d in defs]


DIALECT = SQLite()


# --- declared types and the spelling of dates and times -----------------------------------

_DIGITS = "[0-9][0-9]"
_HEAD = {
    "date": (10, f"{_DIGITS}{_DIGITS}-{_DIGITS}-{_DIGITS}"),
    "timestamp": (19, f"{_DIGITS}{_DIGITS}-{_DIGITS}-{_DIGITS}[ T]{_DIGITS}:{_DIGITS}:{_DIGITS}"),
    "time": (8, f"{_DIGITS}:{_DIGITS}:{_DIGITS}"),
}


#: a misfit's weight in the profile's sum (a value counts 1 when its separator is ``T``)
_MISFIT = 1 << 32


def _profile_sql(q: str, kind: str) -> list[str]:
    """Five aggregates over column ``q``: misfits (any value not text in one of the shapes)
    times 2^32 plus the values with a ``T``; the values; and, from one length per value
    with 100 added when its fraction ends in 0, the largest and smallest such number and
    the smallest with the 100 subtracted. Each costs one expression per row: SQLite does
    not share work between aggregates."""
    head, glob = _HEAD["timestamp" if kind == "timestamptz" else kind]
    if kind == "date":
        shaped = f"length({q}) = {head} AND {q} GLOB '{glob}'"
    else:
        shaped = (
            f"CASE WHEN length({q}) = {head} THEN {q} GLOB '{glob}' "
            f"ELSE length({q}) BETWEEN {head + 2} AND {head + 7} AND {q} GLOB '{glob}.[0-9]*' "
            f"AND substr({q}, {head + 2}) NOT GLOB '*[^0-9]*' END"
        )
    tee = f"substr({q}, 11, 1) = 'T'" if kind in ("timestamp", "timestamptz") else "0"
    code = (
        f"CASE WHEN {q} IS NULL THEN 0 WHEN typeof({q}) = 'text' AND ({shaped}) THEN {tee} "
        f"ELSE {_MISFIT} END"
    )
    zero = f"100 * (length({q}) > {head} AND substr({q}, -1) = '0')"
    return [
        f"sum({code})",
        f"count({q})",
        f"max(length({q}) + {zero})",
        f"min(length({q}) - {zero})",
        f"min(length({q}) + {zero})",
    ]


def _decide(kind: str, agg: Sequence[Any]) -> str | None:
    """The one spelling the profiled values share, or None."""
    total, values, high, low_zero, low = (int(x or 0) for x in agg)
    tees = total % _MISFIT
    if total >= _MISFIT or (tees and tees != values):
        return None
    if kind == "date":
        return DEFAULT["date"]
    head = _HEAD["timestamp" if kind == "timestamptz" else kind][0]

    def digits(length: int) -> int:
        return max(length - head - 1, 0)

    if high >= 100:
        # a fraction ending in 0 shows exactly the spelling's digits, the others at least
        zeros = (digits(low_zero + 100), digits(high - 100))
        if zeros[0] != zeros[1] or (low < 100 and digits(low) < zeros[0]):
            return None
        n = zeros[0]
    else:
        n = digits(low) if values else 0
    return Spelling(kind != "time", True, "T" if tees else " ", n).text


def native(conn: sa.Connection, d: TableDef, *, spellings: bool = True) -> TableDef:
    """``d`` (reflected from SQLite) with each column's declared type as written and its
    date/time values carried as their stored text, with the spelling they share if any.

    ``spellings=False`` skips the one query per table that finds the spellings (a full
    scan): for a copy into SQLite, which writes the stored text as it is.
    """
    from handover.db.reflect import sqlite_columns

    q = '"' + d.name.replace('"', '""') + '"'
    raw = conn.connection.driver_connection
    declared = {c.name: c.declared for c in sqlite_columns(raw, d.name)}
    temporal = [c for c in d.columns if c.kind in TEMPORAL]
    found: dict[str, str | None] = {}
    if temporal and spellings:
        exprs: list[str] = []
        for c in temporal:
            exprs += _profile_sql('"' + c.name.replace('"', '""') + '"', c.kind)
        row = conn.exec_driver_sql(f"SELECT {', '.join(exprs)} FROM {q}").one()
        for i, c in enumerate(temporal):
            found[c.name] = _decide(c.kind, row[5 * i : 5 * i + 5])
    columns = []
    for c in d.columns:
        change: dict[str, Any] = {"sqlite_type": sqlite_type(declared.get(c.name))}
        if c.kind in TEMPORAL:
            change.update(stored_text=True, spelling=found.get(c.name))
        columns.append(replace(c, **change))
    return replace(d, columns=columns)
