"""How dates and times are spelt as text, so that a SQLite copy keeps the seller's text.

SQLite has no date/time type: a ``TIMESTAMP`` column holds the text the seller's
applications wrote (``2019-03-02 12:57:46``, ``…46.5``, ``2019-03-02T12:57:46``,
``…+08:00``), and those applications query that text (``WHERE cjsj = '…'``,
``LIKE '2019-03%'``). A copy must not respell it.

- A *spelling* names one text form: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` (or with ``T``
  between date and time), ``HH:MM:SS``, optionally followed by ``.f`` … ``.ffffff``. The
  fraction has at least as many digits as there are ``f``\\ s and more only when the
  value needs them; with no ``f`` a value has a fraction only when it is not zero, and
  without trailing zeros (how PostgreSQL prints a timestamp). :func:`render` writes
  typed Arrow values in a spelling and :func:`parse` reads every text SQLite accepts as
  a date/time into typed values, both vectorised.
- :func:`sqlite_native` gives a SQLite source's columns their declared type as written
  and, per date/time column, the spelling all its stored values share (one aggregate
  query per table) — or none, when they are spelt in more than one way.
- :func:`column_comment` / :func:`from_comment` carry a SQLite column's declared type and
  spelling through a PostgreSQL or MariaDB target in the column comment, so that
  SQLite → PostgreSQL → SQLite gives back the same declared types and the same text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from handover.i18n import t

if TYPE_CHECKING:
    import sqlalchemy as sa

    from handover.migrate.schema import ColumnDef, TableDef

#: neutral kinds whose values a SQLite source stores as text
TEMPORAL = ("date", "time", "timestamp", "timestamptz")
#: the spelling used when a column records none (a file source, an older package)
DEFAULT = {
    "date": "YYYY-MM-DD",
    "time": "HH:MM:SS",
    "timestamp": "YYYY-MM-DD HH:MM:SS",
    "timestamptz": "YYYY-MM-DD HH:MM:SS",
}
#: marks a column comment written by handover (the rest is JSON)
COMMENT_PREFIX = "handover:"

_SPELLING = re.compile(
    r"^(?P<date>YYYY-MM-DD)?(?P<sep>[ T])?(?P<time>HH:MM:SS)?(?:\.(?P<f>f{1,6}))?$"
)
# a time of day followed by a zone: Z, +08, +0800, +08:00
_ZONED = r"[T ]\d{1,2}:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$"
_TIME = r"^(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?$"
_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError)
# a declared type SQLite reads as one: words, then optionally (n) or (n, m); it is written
# into CREATE TABLE as is, so nothing else (a comment or package could hold anything)
#: words that start a column constraint, which a declared type must not hold
_CONSTRAINT_WORDS = {"AS", "CHECK", "COLLATE", "CONSTRAINT", "DEFAULT", "GENERATED", "KEY"}
_CONSTRAINT_WORDS |= {"NOT", "NULL", "PRIMARY", "REFERENCES", "UNIQUE"}
_SQLITE_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]*(\(\s*[+-]?\d+\s*(,\s*[+-]?\d+\s*)?\))?$")


@dataclass(frozen=True)
class Spelling:
    """One text form of a date, a time of day or a timestamp (see the module text)."""

    date: bool
    time: bool
    sep: str = " "
    digits: int = 0

    @property
    def text(self) -> str:
        """The spelling's name, e.g. ``YYYY-MM-DDTHH:MM:SS.fff``."""
        out = "YYYY-MM-DD" if self.date else ""
        if self.time:
            out += (self.sep if self.date else "") + "HH:MM:SS"
        return out + ("." + "f" * self.digits if self.digits else "")


def parse_spelling(text: str | None, kind: str) -> Spelling | None:
    """The spelling named ``text`` if it can spell values of ``kind``, else None."""
    m = _SPELLING.match(text or "")
    if m is None:
        return None
    date, time, sep = bool(m["date"]), bool(m["time"]), m["sep"]
    digits = len(m["f"] or "")
    if kind == "date":
        ok = date and not time and not sep and not digits
    elif kind == "time":
        ok = time and not date and not sep
    else:
        ok = date and time and bool(sep)
    return Spelling(date, time, sep or " ", digits) if ok else None


def spelling_of(col: ColumnDef) -> Spelling:
    """The spelling ``col``'s values are written in to SQLite (its own, else the default)."""
    return _or_default(col.spelling, col.kind)


def _or_default(spelling: str | None, kind: str) -> Spelling:
    sp = parse_spelling(spelling, kind) or parse_spelling(DEFAULT[kind], kind)
    assert sp is not None
    return sp


def engine_spelling(kind: str, fsp: int | None = None) -> str | None:
    """How a PostgreSQL (``fsp`` None) or MariaDB (``fsp`` = declared fractional digits)
    date/time column prints its values: the seller's own spelling of a typed source."""
    if kind not in TEMPORAL:
        return None
    if kind == "date":
        return DEFAULT[kind]
    digits = min(max(int(fsp or 0), 0), 6)
    return DEFAULT[kind] + ("." + "f" * digits if digits else "")


def as_text(col: ColumnDef, family: str) -> bool:
    """Whether ``col`` is written to a ``family`` target as its source's stored text: always
    into SQLite, and into PostgreSQL/MariaDB when its values share no one spelling."""
    return col.stored_text and (family == "sqlite" or col.spelling is None)


# --- typed values → text ------------------------------------------------------------------


def render(arr: pa.Array, kind: str, spelling: str | None) -> pa.Array:
    """Typed date/time values (``kind``) as text in ``spelling`` (None: the default);
    zone-aware timestamps as their UTC wall time. Nulls stay null."""
    sp = _or_default(spelling, kind)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if kind == "date":
        return pc.cast(arr, pa.string())
    if kind == "time":
        micros = pc.cast(arr, pa.int64())
        secs = pc.divide(micros, 1_000_000)
        minutes = pc.divide(secs, 60)
        hours = pc.divide(minutes, 60)
        clock = [
            hours,
            pc.subtract(minutes, pc.multiply(hours, 60)),
            pc.subtract(secs, pc.multiply(minutes, 60)),
        ]
        base = pc.binary_join_element_wise(*(_padded(x) for x in clock), ":")
        return _with_fraction(base, pc.subtract(micros, pc.multiply(secs, 1_000_000)), sp.digits)
    stamps = pc.cast(arr, pa.timestamp("us"))  # zone-aware: the UTC wall time
    # built from calendar fields: a third of the cost of Arrow's strftime
    day = [_padded(pc.year(stamps), 4), _padded(pc.month(stamps)), _padded(pc.day(stamps))]
    clock = [_padded(pc.hour(stamps)), _padded(pc.minute(stamps)), _padded(pc.second(stamps))]
    base = pc.binary_join_element_wise(
        pc.binary_join_element_wise(*day, "-"), pc.binary_join_element_wise(*clock, ":"), sp.sep
    )
    micro = pc.add(pc.multiply(pc.millisecond(stamps), 1000), pc.microsecond(stamps))
    return _with_fraction(base, micro, sp.digits)


def _padded(numbers: pa.Array, width: int = 2) -> pa.Array:
    return pc.utf8_lpad(pc.cast(numbers, pa.string()), width=width, padding="0")


def _with_fraction(base: pa.Array, micro: pa.Array, digits: int) -> pa.Array:
    """``base`` followed by ``.`` and the fraction: at least ``digits`` digits, more only
    where the value needs them, none when it is zero and ``digits`` is 0."""
    six = pc.utf8_lpad(pc.cast(micro, pa.string()), width=6, padding="0")
    frac = pc.utf8_rtrim(six, characters="0")
    if digits:
        frac = pc.utf8_rpad(frac, width=digits, padding="0")
    dotted = pc.binary_join_element_wise(base, frac, ".")
    return pc.if_else(pc.equal(pc.utf8_length(frac), 0), base, dotted)


# --- text → typed values --------------------------------------------------------------------


def arrow_kind_type(kind: str) -> pa.DataType:
    """The Arrow type of typed values of a date/time ``kind``."""
    return {
        "date": pa.date32(),
        "time": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
    }[kind]


def parse(strings: pa.Array, kind: str) -> tuple[pa.Array, list[int]]:
    """Date/time text → typed values of ``kind``, and the rows that are no valid date/time.

    Accepted: what SQLite's date functions read — ``YYYY-MM-DD``, then optionally a time
    ``HH:MM[:SS[.f…]]`` after a space or ``T``, then optionally a zone (``Z``, ``+08``,
    ``+0800``, ``+08:00``; the value then counts as that instant in UTC). Times of day:
    ``H:MM:SS[.ffffff]``. A misfit's row is null in the result.
    """
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    if kind == "time":
        return _parse_times(strings)
    try:
        return _parse_stamps(strings, kind), []
    except _ERRORS:
        pass
    # Slow path, only for a batch holding misfits: find them one by one.
    typ = arrow_kind_type(kind)
    pieces: list[pa.Array] = []
    bad: list[int] = []
    for i, value in enumerate(strings.to_pylist()):
        try:
            pieces.append(_parse_stamps(pa.array([value], pa.string()), kind))
        except _ERRORS:
            pieces.append(pa.nulls(1, typ))
            bad.append(i)
    return (pa.concat_arrays(pieces) if pieces else pa.array([], typ)), bad


def _parse_stamps(strings: pa.Array, kind: str) -> pa.Array:
    zoned = pc.fill_null(pc.match_substring_regex(strings, _ZONED), False)
    if pc.any(zoned).as_py():
        none = pa.scalar(None, pa.string())
        wall = pc.cast(pc.if_else(zoned, none, strings), pa.timestamp("us"))
        utc = pc.cast(pc.if_else(zoned, strings, none), pa.timestamp("us", tz="UTC"))
        stamps = pc.if_else(zoned, pc.cast(utc, pa.timestamp("us")), wall)
    else:
        stamps = pc.cast(strings, pa.timestamp("us"))
    return pc.cast(stamps, arrow_kind_type(kind))


def _parse_times(strings: pa.Array) -> tuple[pa.Array, list[int]]:
    parts = pc.extract_regex(strings, _TIME)
    h, m, s, f = (pc.struct_field(parts, n) for n in ("h", "m", "s", "f"))
    hours, minutes, secs = (
        pc.cast(pc.if_else(parts.is_valid(), x, "0"), pa.int64()) for x in (h, m, s)
    )
    fits = pc.and_(
        parts.is_valid(),
        pc.and_(pc.less(hours, 24), pc.and_(pc.less(minutes, 60), pc.less(secs, 60))),
    )
    fraction = pc.cast(
        pc.utf8_rpad(pc.if_else(parts.is_valid(), f, ""), width=6, padding="0"), pa.int64()
    )
    micros = pc.add(
        pc.multiply(
            pc.add(pc.multiply(pc.add(pc.multiply(hours, 60), minutes), 60), secs), 1_000_000
        ),
        fraction,
    )
    fits = pc.fill_null(fits, False)
    typed = pc.cast(pc.if_else(fits, micros, pa.scalar(None, pa.int64())), pa.time64("us"))
    misfit = pc.and_(pc.invert(fits), strings.is_valid())
    bad = [int(i) for i in pc.indices_nonzero(misfit).to_pylist()]
    return typed, bad


# --- a SQLite source: declared types and spellings ------------------------------------------

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


def sqlite_native(conn: sa.Connection, d: TableDef, *, spellings: bool = True) -> TableDef:
    """``d`` (reflected from SQLite) with each column's declared type as written and its
    date/time values carried as their stored text, with the spelling they share if any.

    ``spellings=False`` skips the one query per table that finds the spellings (a full
    scan): for a copy into SQLite, which writes the stored text as it is.
    """
    from sqlalchemy import text as sql_text

    q = '"' + d.name.replace('"', '""') + '"'
    declared = {r[1]: str(r[2] or "") for r in conn.execute(sql_text(f"PRAGMA table_info({q})"))}
    temporal = [c for c in d.columns if c.kind in TEMPORAL]
    found: dict[str, str | None] = {}
    if temporal and spellings:
        exprs: list[str] = []
        for c in temporal:
            exprs += _profile_sql('"' + c.name.replace('"', '""') + '"', c.kind)
        row = conn.execute(sql_text(f"SELECT {', '.join(exprs)} FROM {q}")).one()
        for i, c in enumerate(temporal):
            found[c.name] = _decide(c.kind, row[5 * i : 5 * i + 5])
    columns = []
    for c in d.columns:
        change: dict[str, Any] = {"sqlite_type": sqlite_type(declared.get(c.name))}
        if c.kind in TEMPORAL:
            change.update(stored_text=True, spelling=found.get(c.name))
        columns.append(replace(c, **change))
    return replace(d, columns=columns)


# --- the column comment on PostgreSQL / MariaDB ---------------------------------------------


def sqlite_type(declared: Any) -> str | None:
    """``declared`` if it is a plain SQLite type name (``TIMESTAMP``, ``NUMERIC(16,2)``,
    ``UNSIGNED BIG INT``) that can be written into ``CREATE TABLE`` as is, else None."""
    if not isinstance(declared, str) or not _SQLITE_TYPE.match(declared.strip()):
        return None
    words = set(declared.split("(")[0].upper().split())
    return None if words & _CONSTRAINT_WORDS else declared


def _family(kind: str) -> str:
    return "text" if kind in ("text", "string", "char") else kind


def column_comment(col: ColumnDef, target_kind: str) -> str | None:
    """The comment that carries ``col``'s SQLite declared type and spelling (None when the
    column did not come from SQLite); ``target_kind``: the kind it is created as."""
    if not col.sqlite_type:
        return None
    data: dict[str, Any] = {
        "kind": _family(target_kind),
        "nullable": col.nullable,
        "sqlite_type": col.sqlite_type,
    }
    if col.spelling:
        data["spelling"] = col.spelling
    return COMMENT_PREFIX + json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def from_comment(comment: Any, kind: str) -> dict[str, Any] | None:
    """What a handover column comment records, if the column is still of the kind it was
    created as (a column altered since then keeps only its own description)."""
    if not isinstance(comment, str) or not comment.startswith(COMMENT_PREFIX):
        return None
    try:
        data = json.loads(comment[len(COMMENT_PREFIX) :])
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") != _family(kind):
        return None
    declared = sqlite_type(data.get("sqlite_type"))
    if declared is None:
        return None
    spelling = data.get("spelling")
    return {
        "sqlite_type": declared,
        "spelling": spelling if parse_spelling(spelling, kind) else None,
        "nullable": data.get("nullable") is True,
    }


# --- what a run reports ----------------------------------------------------------------------


def target_notes(defs: list[TableDef], family: str, lang: str) -> list[str]:
    """Notes for the run's result: into SQLite, the spelling typed dates and times are
    written in (per spelling, the columns); elsewhere, the SQLite columns carried as text
    and the spellings recorded in column comments."""
    groups: dict[tuple[str, bool], list[str]] = {}
    notes: list[str] = []
    for d in defs:
        for c in d.columns:
            if c.kind not in TEMPORAL:
                continue
            where = f"{d.name}.{c.name}"
            if family == "sqlite":
                if not c.stored_text:
                    groups.setdefault((spelling_of(c).text, c.spelling is None), []).append(where)
            elif c.stored_text and c.spelling is None:
                notes.append(t("migrate.note.as_text", lang, column=where))
            elif c.stored_text and c.spelling:
                groups.setdefault((c.spelling, False), []).append(where)
    for (spelling, chosen), columns in groups.items():
        key = (
            "migrate.note.spelling_chosen"
            if chosen
            else "migrate.note.spelling"
            if family == "sqlite"
            else "migrate.note.spelling_recorded"
        )
        notes.append(t(key, lang, spelling=spelling, columns=", ".join(columns)))
    return notes
