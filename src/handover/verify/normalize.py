"""The canonical rendering of a row: the one definition every engine must reproduce.

Each column gets a *kind* (int, decimal, float, bool, date, timestamp, time, bytes, text),
decided from the declared types on BOTH sides so that e.g. SQLite INTEGER 0/1 against
PostgreSQL BOOLEAN renders "0"/"1" on each. A value renders to canonical text (or NULL);
a row is the concatenation of ``<char count>:<text>`` per column, ``~`` for NULL, which
is prefix-free, so no separator can be forged by the data.

:func:`render_value` is the reference: the SQL in :mod:`handover.verify.sql` must give
the same bytes for the same stored data (tested on SQLite, PostgreSQL and MariaDB).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from handover.crypto.digest import md5_fingerprint
from handover.db.dialects.base import NULL_MARK

#: ``stored``: SQLite against SQLite, the value exactly as stored (``quote()``)
KINDS = ("int", "decimal", "float", "bool", "date", "timestamp", "time", "bytes", "text", "stored")
_TRUE = frozenset({"1", "t", "true", "y", "yes", "on"})


@dataclass(frozen=True)
class SideType:
    """What one side declares for a column: its kind and, for decimals, the scale."""

    kind: str
    scale: int | None = None
    tz: bool = False
    native: str = ""
    #: fractional-second digits of a MariaDB/MySQL DATETIME/TIMESTAMP (0 when undeclared)
    fsp: int | None = None


def classify(type_: Any, dialect: str) -> SideType:
    """The kind of a reflected SQLAlchemy column type on ``dialect``."""
    native = str(type_.__class__.__name__).lower()
    if isinstance(type_, sa.Boolean):
        return SideType("bool", native=native)
    if isinstance(type_, sa.Integer):
        # MariaDB/MySQL spell BOOLEAN as TINYINT(1)
        if dialect in ("mysql", "mariadb") and getattr(type_, "display_width", None) == 1:
            return SideType("bool", native=native)
        return SideType("int", native=native)
    if isinstance(type_, sa.Float):
        return SideType("float", native=native)
    if isinstance(type_, sa.Numeric):
        scale = type_.scale if isinstance(type_.scale, int) else None
        if scale == 0 and dialect != "sqlite":
            return SideType("int", native=native)
        return SideType("decimal", scale=scale, native=native)
    if isinstance(type_, sa.DateTime):
        tz = bool(getattr(type_, "timezone", False))
        fsp = (getattr(type_, "fsp", None) or 0) if dialect in ("mysql", "mariadb") else None
        return SideType("timestamp", tz=tz, native=native, fsp=fsp)
    if isinstance(type_, sa.Date):
        return SideType("date", native=native)
    if isinstance(type_, sa.Time):
        return SideType("time", tz=bool(getattr(type_, "timezone", False)), native=native)
    if isinstance(type_, sa.LargeBinary | sa.types._Binary):
        return SideType("bytes", native=native)
    if isinstance(type_, sa.String):
        return SideType("text", native=native)
    if isinstance(type_, sa.types.NullType):
        return SideType("any", native=native)
    return SideType("text", native="other:" + native)


_PAIR = {
    frozenset({"int", "bool"}): "bool",
    frozenset({"int", "decimal"}): "decimal",
    frozenset({"int", "float"}): "float",
    frozenset({"float", "decimal"}): "decimal",
    frozenset({"date", "timestamp"}): "timestamp",
}


def resolve_kind(a: SideType, b: SideType) -> str:
    """The kind both sides render a column as, given what each declares."""
    if a.kind == b.kind:
        return "text" if a.kind == "any" else a.kind
    if a.kind == "any":
        return b.kind
    if b.kind == "any":
        return a.kind
    pair = _PAIR.get(frozenset({a.kind, b.kind}))
    if pair:
        return pair
    # a typed value against text (SQLite keeps dates as TEXT): render the typed kind
    typed = {a.kind, b.kind} - {"text"}
    if len(typed) == 1:
        return typed.pop()
    return "text"


def _decimal_text(d: Decimal) -> str:
    if not d.is_finite():
        return str(d)
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        # 15 significant digits: what SQLite prints and PostgreSQL casts float8 with
        return Decimal(f"{value:.15g}")
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        d = value
    elif isinstance(value, dt.date):
        d = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            d = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d


def render_value(value: Any, kind: str, *, nfc: bool = False) -> str | None:
    """Canonical text of one stored value of a column of ``kind`` (None for NULL).

    ``nfc=True`` also applies Unicode NFC to text (used for the final row comparison;
    digests hash the stored code points because MariaDB and SQLite have no NFC).
    """
    if value is None:
        return None
    if isinstance(value, memoryview):
        value = value.tobytes()
    if kind == "stored":
        return sqlite_quote(value)
    if kind == "int":
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float | Decimal) and value == int(value):
            return str(int(value))
        return str(value)
    if kind in ("decimal", "float"):
        d = _to_decimal(value)
        return str(value) if d is None else _decimal_text(d)
    if kind == "bool":
        if isinstance(value, bool | int | float | Decimal):
            return "1" if value else "0"
        return "1" if str(value).strip().lower() in _TRUE else "0"
    if kind == "timestamp":
        stamp = _as_datetime(value)
        if stamp is None:
            return str(value)
        return stamp.isoformat(sep=" ", timespec="microseconds")
    if kind == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value)
        try:
            return dt.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            return text
    if kind == "bytes":
        if isinstance(value, bytes | bytearray):
            return bytes(value).hex()
        return str(value).encode("utf-8").hex()
    if kind == "time":
        if isinstance(value, dt.time | dt.timedelta):
            return clock_text(value)
        return clock_trim(
            value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        )
    # text
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", errors="replace")
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, dt.time | dt.timedelta):
        text = clock_text(value)
    else:
        text = str(value)
    return unicodedata.normalize("NFC", text) if nfc else text


def clock_text(value: dt.time | dt.timedelta) -> str:
    """A time as the engines' digest SQL prints it, the fraction without trailing zeros
    (as SQLite keeps the text): PostgreSQL ``time`` ``01:01:01.011`` and ``timetz``
    ``03:03:03+08``, ``12:00:00+05:30``; a MariaDB/MySQL TIME (PyMySQL's timedelta)
    ``-01:00:00``, ``838:59:59`` (``str()`` gives ``…011000``, ``-1 day, 23:00:00``)."""
    if isinstance(value, dt.timedelta):
        sign = "-" if value < dt.timedelta(0) else ""
        seconds, micro = divmod(abs(value) // dt.timedelta(microseconds=1), 1_000_000)
        minutes, second = divmod(seconds, 60)
        text = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}:{second:02d}"
        offset = None
    else:
        text, micro = value.replace(tzinfo=None).isoformat("seconds"), value.microsecond
        offset = value.utcoffset()
    if micro:
        text += f".{micro:06d}".rstrip("0")
    if offset is not None:
        # PostgreSQL prints an offset as +HH, +HH:MM or +HH:MM:SS
        sign = "-" if offset < dt.timedelta(0) else "+"
        minutes, second = divmod(int(abs(offset).total_seconds()), 60)
        text += f"{sign}{minutes // 60:02d}"
        if minutes % 60 or second:
            text += f":{minutes % 60:02d}" + (f":{second:02d}" if second else "")
    return text


_FRACTION_LAST = re.compile(r"[^.]*\.[0-9]*")


def clock_trim(text: str) -> str:
    """A time of day kept as text without the trailing zeros of its fraction, as the
    engines print their times (SQLAlchemy's SQLite TIME stores ``03:03:03.000000``, which
    PostgreSQL prints ``03:03:03``): only a text with one point and nothing but digits
    after it (``01:01:01.010+00`` keeps its offset whole). Every side's SQL does the
    same (:meth:`handover.db.dialects.base.Dialect.value_sql`, kind ``time``)."""
    return text.rstrip("0").rstrip(".") if _FRACTION_LAST.fullmatch(text) else text


def sqlite_quote(value: Any) -> str:
    """What SQLite's ``quote()`` gives for a stored value: it tells the storage classes
    apart (``5``, ``5.0``, ``'5'``, ``X'35'``) and keeps every byte of text.

    A REAL is ``%!.15g`` when that reads back as the same double; otherwise SQLite prints
    20 digits and this gives Python's shortest exact ``repr`` — a different text, but as
    exact, and both sides of a SQLite pair are rendered by the same function.
    """
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        if value == 0:
            return "0.0"
        mantissa, e, exponent = (f"{value:.15g}").partition("e")
        text = (mantissa if "." in mantissa else mantissa + ".0") + (e + exponent)
        return text if float(text) == value else repr(value)
    if isinstance(value, bytes | bytearray):
        return "X'" + bytes(value).hex().upper() + "'"
    return "'" + str(value).replace("'", "''") + "'"


#: what the comparison of a column pair does beyond comparing stored bytes, by kind
NORMALISATIONS = (
    "stored",
    "timestamp_instant",
    "date_text",
    "decimal_value",
    "float_15",
    "int_value",
    "bool_01",
    "time_fraction",
    "text_nfc",
    "char_padding",
)

#: column types a server pads with spaces to their length: the padding is not data
#: (PostgreSQL's ``char(n)`` compares and casts to text without it, MariaDB/MySQL drop
#: it when a value is read); SQLite never pads a CHAR(n)
PADDED_TYPES = frozenset({"char", "nchar"})


def padded(kind: str, a: SideType, b: SideType, sqlite: tuple[bool, bool]) -> tuple[bool, bool]:
    """Which side of a text column is a server's blank-padded CHAR(n): that side's values
    are compared without trailing spaces, as its digest text has them. The other side's
    are compared as they are: a trailing space it holds as data is not the padding, and a
    copy into a CHAR(n) that loses it is named."""
    text = kind == "text"
    return (
        text and a.native in PADDED_TYPES and not sqlite[0],
        text and b.native in PADDED_TYPES and not sqlite[1],
    )


def normalisations(
    kinds: list[str], a: list[SideType], b: list[SideType], sqlite: tuple[bool, bool]
) -> list[str]:
    """The normalisations (codes of :data:`NORMALISATIONS`) a table's comparison applies.

    A column typed alike on two server engines is compared by value and needs none but
    NFC for text; ``sqlite`` says which side is SQLite (text, any storage class).
    """
    found: set[str] = set()
    for kind, x, y in zip(kinds, a, b, strict=True):
        if kind == "stored":
            found.add("stored")
            continue
        if kind == "text":
            found.add("text_nfc")
            if any(padded(kind, x, y, sqlite)):
                found.add("char_padding")
            continue
        if x == y and not any(sqlite):
            continue
        code = {
            "timestamp": "timestamp_instant",
            "date": "date_text",
            "decimal": "decimal_value",
            "float": "float_15",
            "int": "int_value",
            "bool": "bool_01",
            "time": "time_fraction",
        }.get(kind)
        if code is not None:
            found.add(code)
    return [c for c in NORMALISATIONS if c in found]


def encode_row(texts: list[str | None]) -> str:
    """Concatenate rendered values prefix-free: ``<len>:<text>`` each, ``~`` for NULL."""
    return "".join(NULL_MARK if v is None else f"{len(v)}:{v}" for v in texts)


# --- the digest text of server pairs ------------------------------------------------------
#
# PostgreSQL and MariaDB/MySQL hold typed values, so their segment digests hash a cheaper
# text than ``encode_row``: a column typed on both sides as a number, boolean, date or
# timestamp renders ``<text>,`` (``,`` alone for NULL: such texts are never empty and
# never contain a comma), any other column ``<char count>:<text>`` (``:`` alone for NULL);
# both are prefix-free. A decimal declared with the same scale on both sides keeps that
# scale ("12.30"), which each engine prints as stored; a timestamp drops the trailing
# zeros of its fraction, as PostgreSQL prints it ("…:05.5", "…:05"). Equal digest texts
# mean equal canonical texts; the final comparison still uses :func:`render_value`.
# SQLite stores any value in any column and keeps the canonical ``encode_row`` text.

#: kinds whose canonical text can be neither empty nor contain a comma
COMPACT_KINDS = frozenset({"int", "decimal", "float", "bool", "date", "timestamp"})


def digest_form(kind: str, a: SideType, b: SideType) -> tuple[bool, int | None]:
    """(compact, fixed scale) of a column in the digest text of a server pair."""
    compact = kind in COMPACT_KINDS and a.kind in COMPACT_KINDS and b.kind in COMPACT_KINDS
    scale = None
    if kind == "decimal" and a.kind == b.kind == "decimal" and a.scale == b.scale:
        scale = a.scale if a.scale is not None and a.scale > 0 else None
    return compact, scale


def render_digest(value: Any, kind: str, scale: int | None) -> str | None:
    """The digest text of one value: :func:`render_value`, a decimal shown with ``scale``
    decimals, or a timestamp whose fraction has no trailing zeros
    (``2024-01-02 03:04:05.5``)."""
    text = render_value(value, kind)
    if kind == "timestamp":
        if text is None or len(text) != 26 or text[19] != ".":
            return text
        frac = text[20:].rstrip("0")
        return text[:19] + ("." + frac if frac else "")
    if scale is None or text is None or kind not in ("decimal", "float"):
        return text
    return pad_scale(text, scale)


#: a canonical decimal text (no exponent, no trailing zero)
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def pad_scale(text: str, scale: int) -> str:
    """A canonical decimal text shown with ``scale`` decimals (``12.3`` → ``12.30``, ``0``
    → ``0.00``), as an engine prints a DECIMAL of that scale. A text with more decimals
    (a SQLite value no such column could hold) or no number is kept: padding only ever
    appends zeros to a text that has none at its end, so distinct texts stay distinct."""
    if not _PLAIN_DECIMAL.fullmatch(text):
        return text
    point = text.find(".")
    decimals = 0 if point < 0 else len(text) - point - 1
    if decimals > scale:
        return text
    return text + ("." if point < 0 else "") + "0" * (scale - decimals)


#: the first character of a row text no server engine gives (see encode_digest_row)
FORGED = "\x00"


def encode_digest_row(texts: list[str | None], compact: list[bool]) -> str:
    """Concatenate digest texts: ``<text>,`` for compact columns, ``<len>:<text>`` else.

    A compact text is a server's number, date or time: never empty, never holding a
    comma. A SQLite side can hold either there (an empty text would read as NULL's bare
    ``,``, a comma could shift a column boundary): such a row starts with a NUL, which no
    server row text does, so it never equals one and the final comparison decides."""
    row = "".join(
        ("" if v is None else v) + "," if c else (":" if v is None else f"{len(v)}:{v}")
        for v, c in zip(texts, compact, strict=True)
    )
    if any(
        c and v is not None and (v == "" or "," in v) for v, c in zip(texts, compact, strict=True)
    ):
        return FORGED + row
    return row


# MD5 here is a fingerprint, not security: it is the one hash every engine has built in
# (PostgreSQL and MariaDB md5()), so rows are digested inside each database. The
# comparison guards against copy errors, not an adversary; the sealed package's
# signature and SHA-256 hashes do that.


def row_hash60(row_text: str) -> int:
    """The 60-bit row hash every engine computes: the first 15 hex digits of MD5."""
    return int.from_bytes(md5_fingerprint(row_text.encode("utf-8"))[:8], "big") >> 4


def key_hash32(key_text: str) -> int:
    """The 32-bit segment key of a non-integer primary key: the first 8 hex digits of MD5."""
    return int.from_bytes(md5_fingerprint(key_text.encode("utf-8"))[:4], "big")
