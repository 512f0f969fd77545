"""The canonical rendering of :mod:`handover.verify.normalize` written in each engine's SQL.

One function per dialect turns (column, kind, declared side type) into an SQL text
expression that yields exactly :func:`~handover.verify.normalize.render_value` (without
NFC) for the usual storage of that type; rows and segment keys are then hashed inside
the database. SQLite has no hash function: :func:`register_sqlite` adds deterministic
ones (``ho_h32`` and the ``ho_sum60`` aggregate) computing the same MD5 prefixes.
"""

from __future__ import annotations

from typing import Any

from handover.verify.normalize import NULL_MARK, SideType, key_hash32, row_hash60

# --- PostgreSQL -------------------------------------------------------------------------


def _pg_value(col: str, kind: str, side: SideType) -> str:
    if kind == "int":
        return f"({col})::text" if side.kind != "bool" else f"(({col})::int)::text"
    if kind in ("decimal", "float"):
        if side.kind in ("decimal", "float", "int"):
            return f"trim_scale(({col})::numeric)::text"
        return f"({col})::text"
    if kind == "bool":
        if side.kind == "bool":
            return f"CASE WHEN {col} THEN '1' ELSE '0' END"
        if side.kind in ("int", "decimal", "float"):
            return f"CASE WHEN {col} <> 0 THEN '1' ELSE '0' END"
        return (
            f"CASE WHEN lower(btrim(({col})::text)) IN ('1','t','true','y','yes','on') "
            "THEN '1' ELSE '0' END"
        )
    if kind == "timestamp":
        if side.kind == "timestamp":
            src = f"({col} AT TIME ZONE 'UTC')" if side.tz else col
            return f"to_char({src}, 'YYYY-MM-DD HH24:MI:SS.US')"
        if side.kind == "date":
            return f"({col})::text || ' 00:00:00.000000'"
        return f"({col})::text"
    if kind == "date":
        # a date prints as YYYY-MM-DD under DateStyle ISO (the "verify" session), about
        # four times cheaper than to_char
        if side.kind == "date":
            return f"({col})::text"
        if side.kind == "timestamp":
            return f"to_char({col}, 'YYYY-MM-DD')"
        return f"({col})::text"
    if kind == "bytes":
        if side.kind == "bytes":
            return f"encode({col}, 'hex')"
        return f"encode(convert_to(({col})::text, 'UTF8'), 'hex')"
    return f"({col})::text"


#: native types whose PostgreSQL hash agrees with equality of the canonical text
_PG_NATIVE_TEXT = frozenset({"text", "varchar", "char", "string", "unicode", "unicodetext"})


def pg_native_ok(kind: str, a: SideType, b: SideType) -> bool:
    """Whether a column may be hashed as stored on two PostgreSQL sides (same declared type).

    Equal stored values then have equal canonical texts; a rare hash difference for
    values the text deems equal (e.g. floats beyond 15 digits) only costs a row fetch,
    since the final comparison renders both rows in Python.
    """
    if a != b or a.kind != kind or a.native.startswith("other:"):
        return False
    return kind != "text" or a.native in _PG_NATIVE_TEXT


def pg_native_digest(columns: list[str]) -> str:
    """PostgreSQL↔PostgreSQL segment digest: XOR of 64-bit ``hash_record_extended`` row hashes.

    Per-type hash functions over the stored values (PostgreSQL ≥ 14): no text rendering
    and no MD5 per row, which dominate the portable digest's cost. ``bit_xor`` costs
    about a fifth less than ``sum``, which accumulates in 128 bits; rows are unique by
    key, so none cancels another.
    """
    return f"bit_xor(hash_record_extended(ROW({', '.join(columns)}), 0))"


def _pg_encode(values: list[str]) -> str:
    enc = [f"coalesce(char_length({v})::text || ':' || {v}, '{NULL_MARK}')" for v in values]
    return " || ".join(enc) if enc else "''"


# --- MariaDB / MySQL --------------------------------------------------------------------

_MY_TEXT = "CHAR CHARACTER SET utf8mb4"


def _my_value(col: str, kind: str, side: SideType) -> str:
    if kind == "int":
        return f"CAST({col} AS {_MY_TEXT})"
    if kind in ("decimal", "float"):
        if side.kind == "decimal" and (side.scale or 0) > 0:
            return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST({col} AS {_MY_TEXT})))"
        if side.kind == "float":
            v = f"CAST(CAST({col} AS DECIMAL(65,30)) AS {_MY_TEXT})"
            return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {v}))"
        return f"CAST({col} AS {_MY_TEXT})"
    if kind == "bool":
        if side.kind in ("bool", "int", "decimal", "float"):
            return f"CASE WHEN {col} <> 0 THEN '1' ELSE '0' END"
        return (
            f"CASE WHEN LOWER(TRIM(CAST({col} AS {_MY_TEXT}))) IN ('1','t','true','y','yes','on') "
            "THEN '1' ELSE '0' END"
        )
    if kind == "timestamp":
        if side.kind == "timestamp":
            # a DATETIME(p) prints with exactly p fractional digits, cheaper than DATE_FORMAT
            fsp = side.fsp or 0
            if fsp == 6:
                return f"CAST({col} AS {_MY_TEXT})"
            pad = ("." if fsp == 0 else "") + "0" * (6 - fsp)
            return f"CONCAT(CAST({col} AS {_MY_TEXT}), '{pad}')"
        if side.kind == "date":
            return f"CONCAT(CAST({col} AS {_MY_TEXT}), ' 00:00:00.000000')"
        return f"CAST({col} AS {_MY_TEXT})"
    if kind == "date":
        if side.kind == "date":
            return f"CAST({col} AS {_MY_TEXT})"
        if side.kind == "timestamp":
            return f"DATE_FORMAT({col}, '%Y-%m-%d')"
        return f"CAST({col} AS {_MY_TEXT})"
    if kind == "bytes":
        return f"LOWER(HEX({col}))"
    return f"CAST({col} AS {_MY_TEXT})"


def _my_encode(values: list[str]) -> str:
    enc = [f"IFNULL(CONCAT(CHAR_LENGTH({v}), ':', {v}), '{NULL_MARK}')" for v in values]
    return f"CONCAT({', '.join(enc)})" if enc else "''"


# --- SQLite -----------------------------------------------------------------------------


def _sl_strip(v: str) -> str:
    """Drop trailing zeros (and a bare '.') of a plain decimal literal."""
    return (
        f"CASE WHEN instr({v}, '.') > 0 AND instr(lower({v}), 'e') = 0 "
        f"THEN rtrim(rtrim({v}, '0'), '.') ELSE {v} END"
    )


def _sl_value(col: str, kind: str, side: SideType) -> str:
    if kind == "stored":
        # storage class and every byte (a REAL exactly: 15 digits, or 20 when needed)
        return f"quote({col})"
    if kind == "int":
        return (
            f"CASE WHEN typeof({col}) = 'real' AND {col} = CAST({col} AS INTEGER) "
            f"THEN CAST(CAST({col} AS INTEGER) AS TEXT) ELSE CAST({col} AS TEXT) END"
        )
    if kind in ("decimal", "float"):
        # REAL prints with 15 significant digits ('%!.15g'); text and real get their
        # trailing zeros dropped; integers are already canonical
        t = f"CAST({col} AS TEXT)"
        return f"CASE WHEN typeof({col}) = 'integer' THEN {t} ELSE {_sl_strip(t)} END"
    if kind == "bool":
        return (
            f"CASE WHEN typeof({col}) IN ('integer', 'real') THEN "
            f"(CASE WHEN {col} <> 0 THEN '1' ELSE '0' END) "
            f"WHEN lower(trim({col})) IN ('1','t','true','y','yes','on') THEN '1' ELSE '0' END"
        )
    if kind == "timestamp":
        v = f"replace(trim({col}), 'T', ' ')"
        return (
            f"CASE WHEN typeof({col}) <> 'text' THEN CAST({col} AS TEXT) "
            f"WHEN length({v}) = 10 THEN {v} || ' 00:00:00.000000' "
            f"WHEN length({v}) = 19 THEN {v} || '.000000' "
            f"ELSE substr({v} || '000000', 1, 26) END"
        )
    if kind == "date":
        return f"CASE WHEN typeof({col}) = 'text' THEN substr({col}, 1, 10) ELSE CAST({col} AS TEXT) END"
    if kind == "bytes":
        return f"lower(hex({col}))"
    return f"CAST({col} AS TEXT)"


def _sl_encode(values: list[str]) -> str:
    enc = [f"coalesce(length({v}) || ':' || {v}, '{NULL_MARK}')" for v in values]
    return " || ".join(enc) if enc else "''"


# --- per dialect ------------------------------------------------------------------------


def value_expr(dialect: str, col: str, kind: str, side: SideType) -> str:
    """SQL giving the canonical text of quoted column ``col`` (NULL stays NULL)."""
    if dialect == "postgresql":
        expr = _pg_value(col, kind, side)
    elif dialect in ("mysql", "mariadb"):
        expr = _my_value(col, kind, side)
    elif dialect == "sqlite":
        expr = _sl_value(col, kind, side)
    else:
        raise ValueError(f"unsupported dialect {dialect}")
    # CASE … ELSE '0', SQLite's hex(NULL) = '' and quote(NULL) = 'NULL' would turn NULL
    # into a value
    if kind == "bool" or (dialect == "sqlite" and kind in ("bytes", "stored")):
        return f"CASE WHEN {col} IS NULL THEN NULL ELSE {expr} END"
    return expr


def row_expr(dialect: str, values: list[str]) -> str:
    """SQL concatenating value expressions prefix-free (see ``normalize.encode_row``)."""
    if dialect == "postgresql":
        return _pg_encode(values)
    if dialect in ("mysql", "mariadb"):
        return _my_encode(values)
    return _sl_encode(values)


def digest_value_expr(dialect: str, col: str, kind: str, side: SideType, scale: int | None) -> str:
    """SQL for :func:`~handover.verify.normalize.render_digest` on PostgreSQL or MariaDB."""
    pg = dialect == "postgresql"
    if scale is not None and side.kind == "decimal" and side.scale == scale:
        # a decimal column of that scale prints every digit of it
        return f"({col})::text" if pg else col
    if kind == "timestamp" and side.kind in ("timestamp", "date"):
        return _pg_stamp(col, side) if pg else _my_stamp(col, side)
    if not pg and kind == side.kind and kind in ("int", "date"):
        # MariaDB converts a number or date inside CONCAT_WS exactly as CAST(… AS CHAR)
        # does, and pure ASCII hashes alike in every charset: the casts cost a fifth
        return col
    return value_expr(dialect, col, kind, side)


def _pg_stamp(col: str, side: SideType) -> str:
    """A timestamp's digest text on PostgreSQL: its ISO text, fraction without zeros."""
    if side.kind == "date":
        return f"({col})::text || ' 00:00:00'"
    # under DateStyle ISO a timestamp prints its fraction without trailing zeros: half
    # the cost of to_char
    return f"(({col} AT TIME ZONE 'UTC'))::text" if side.tz else f"({col})::text"


def _my_stamp(col: str, side: SideType) -> str:
    """A timestamp's digest text on MariaDB: DATETIME(p) text, fraction without zeros."""
    if side.kind == "date":
        return f"CONCAT({col}, ' 00:00:00')"
    if not side.fsp:
        return col
    # DATETIME(p) prints exactly p fractional digits: drop the trailing zeros of a
    # fraction that is not zero, and the whole fraction of one that is
    return f"IF(MICROSECOND({col}), TRIM(TRAILING '0' FROM {col}), LEFT({col}, 19))"


def plain_text(value_sql: str, col: str) -> bool:
    """Whether ``value_sql`` is ``col`` itself or its ``::text`` (cheap to evaluate twice)."""
    return value_sql in (col, f"({col})::text")


def digest_row_expr(dialect: str, values: list[str], compact: list[bool]) -> str:
    """SQL for :func:`~handover.verify.normalize.encode_digest_row` (PostgreSQL, MariaDB).

    One CONCAT_WS on MariaDB (it skips NULL arguments); a chain of ``||`` on PostgreSQL,
    whose ``concat()`` looks up each argument's output function on every row.
    """
    if dialect == "postgresql":
        parts = [
            f"coalesce({v}, '') || ','"
            if c
            else f"coalesce(char_length({v})::text || ':' || {v}, ':')"
            for v, c in zip(values, compact, strict=True)
        ]
        return " || ".join(parts) if parts else "''"
    args = [
        f"{v}, ','" if c else f"CHAR_LENGTH({v}), ':', {v}"
        for v, c in zip(values, compact, strict=True)
    ]
    return f"CONCAT_WS('', {', '.join(args)})" if args else "''"


def hash60_expr(dialect: str, text_sql: str) -> str | None:
    """SQL for the 60-bit row hash of ``text_sql``; None on SQLite (use ``ho_sum60``)."""
    if dialect == "postgresql":
        return f"('x' || substr(md5({text_sql}), 1, 15))::bit(60)::bigint"
    if dialect in ("mysql", "mariadb"):
        return f"CAST(CONV(SUBSTRING(MD5({text_sql}), 1, 15), 16, 10) AS UNSIGNED)"
    return None


def hash32_expr(dialect: str, text_sql: str) -> str:
    """SQL for the 32-bit segment key of a non-integer primary key."""
    if dialect == "postgresql":
        return f"('x' || substr(md5({text_sql}), 1, 8))::bit(32)::bigint"
    if dialect in ("mysql", "mariadb"):
        return f"CAST(CONV(SUBSTRING(MD5({text_sql}), 1, 8), 16, 10) AS UNSIGNED)"
    return f"ho_h32({text_sql})"


def digest_sql(dialect: str, row_sql: str) -> str:
    """The aggregate that sums 60-bit row hashes of a segment (exact, no overflow)."""
    h = hash60_expr(dialect, row_sql)
    if h is None:
        return f"ho_sum60({row_sql})"
    return f"sum({h})"


class _Sum60:
    """SQLite aggregate: exact sum of the 60-bit MD5 prefixes, returned as decimal text."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, text: str | None) -> None:
        if text is not None:
            self.total += row_hash60(text)

    def finalize(self) -> str:
        return str(self.total)


def _h32(text: str | None) -> int | None:
    return None if text is None else key_hash32(text)


def register_sqlite(dbapi_conn: Any, _record: Any = None) -> None:
    """Add ``ho_h32`` and ``ho_sum60`` to a sqlite3 connection (deterministic)."""
    dbapi_conn.create_function("ho_h32", 1, _h32, deterministic=True)
    dbapi_conn.create_aggregate("ho_sum60", 1, _Sum60)
