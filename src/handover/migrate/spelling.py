"""Dates and times as text, vectorised over Arrow, so that a SQLite copy keeps the
seller's text.

SQLite has no date/time type: a ``TIMESTAMP`` column holds the text the seller's
applications wrote (``2019-03-02 12:57:46``, ``…46.5``, ``2019-03-02T12:57:46``,
``…+08:00``), and those applications query that text (``WHERE cjsj = '…'``,
``LIKE '2019-03%'``). A copy must not respell it.

The spellings themselves (``YYYY-MM-DD HH:MM:SS.fff`` …), what reflection finds in a
SQLite file and the column comment that carries them through PostgreSQL or MariaDB are
:mod:`handover.db.spelling` and the SQLite dialect. Here: :func:`render` writes typed
Arrow values in a spelling (the fraction has at least as many digits as there are
``f``\\ s and more only when the value needs them; with no ``f`` a value has a fraction
only when it is not zero, and without trailing zeros, as PostgreSQL prints a timestamp)
and :func:`parse` reads every text SQLite accepts as a date/time into typed values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from handover.db.reflect import kind_arrow_type
from handover.db.spelling import DEFAULT, TEMPORAL, Spelling, parse_spelling
from handover.i18n import Msg

if TYPE_CHECKING:
    from handover.db.reflect import ColumnDef, TableDef

# a time of day followed by a zone: Z, +08, +0800, +08:00
_ZONED = r"[T ]\d{1,2}:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$"
_TIME = r"^(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?$"
_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError)

__all__ = ["DEFAULT", "TEMPORAL", "as_text", "parse", "render", "spelling_of", "target_notes"]


def spelling_of(col: ColumnDef) -> Spelling:
    """The spelling ``col``'s values are written in to SQLite (its own, else the default)."""
    return _or_default(col.spelling, col.kind)


def _or_default(spelling: str | None, kind: str) -> Spelling:
    sp = parse_spelling(spelling, kind) or parse_spelling(DEFAULT[kind], kind)
    assert sp is not None
    return sp


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
    typ = kind_arrow_type(kind)
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
    try:
        # Arrow's cast to a timestamp without a zone refuses every text that ends in one
        # (Z, +08, +0800, +08:00: tests/test_sqlite_text.py pins it), so a batch it
        # takes whole has no zoned value, and the zone search (a regex over every text,
        # three times the cast's time) is needed only for a batch it refuses
        stamps = pc.cast(strings, pa.timestamp("us"))
    except _ERRORS:
        stamps = _zoned_stamps(strings)  # zones, or misfits (raises)
    return pc.cast(stamps, kind_arrow_type(kind))


def _zoned_stamps(strings: pa.Array) -> pa.Array:
    """``strings`` as timestamps, each with a zone counted as that instant in UTC."""
    zoned = pc.fill_null(pc.match_substring_regex(strings, _ZONED), False)
    if pc.any(zoned).as_py():
        none = pa.scalar(None, pa.string())
        wall = pc.cast(pc.if_else(zoned, none, strings), pa.timestamp("us"))
        utc = pc.cast(pc.if_else(zoned, strings, none), pa.timestamp("us", tz="UTC"))
        return pc.if_else(zoned, pc.cast(utc, pa.timestamp("us")), wall)
    return pc.cast(strings, pa.timestamp("us"))


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


# --- what a run reports ----------------------------------------------------------------------


def target_notes(defs: list[TableDef], family: str) -> list[Msg]:
    """Notes for the run's result: into SQLite, the spelling typed dates and times are
    written in (per spelling, the columns); elsewhere, the SQLite columns carried as text
    and the spellings recorded in column comments."""
    groups: dict[tuple[str, bool], list[str]] = {}
    notes: list[Msg] = []
    for d in defs:
        for c in d.columns:
            if c.kind not in TEMPORAL:
                continue
            where = f"{d.name}.{c.name}"
            if family == "sqlite":
                if not c.stored_text:
                    groups.setdefault((spelling_of(c).text, c.spelling is None), []).append(where)
            elif c.stored_text and c.spelling is None:
                notes.append(Msg("migrate.note.as_text", column=where))
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
        notes.append(Msg(key, spelling=spelling, columns=", ".join(columns)))
    return notes
