"""MySQL and MariaDB: server-built CSV pages, session settings, types, digests, sanitization."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from handover.db.dialects.base import NULL_MARK, Dialect, DigestSide, Kind

if TYPE_CHECKING:
    from handover.db.reflect import ColumnDef

#: MariaDB cannot index TEXT/BLOB without a prefix; key columns of those kinds get this length
KEY_LENGTH = 255
# errors that say nothing about the row: retrying later can help
_TRANSIENT = {1040, 1053, 1205, 1213, 1317, 2002, 2003, 2006, 2013, 2014, 2055}


class MySQL(Dialect):
    """MySQL/MariaDB through PyMySQL, always in utf8mb4."""

    name: ClassVar[str] = "mysql"
    backends: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")
    driver: ClassVar[str | None] = "pymysql"
    url_query: ClassVar[dict[str, str]] = {"charset": "utf8mb4"}
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        # temporal values compare and print in UTC, as every other engine holds them
        "verify": ("SET time_zone = '+00:00'",),
    }

    def quote(self, name: str) -> str:
        """``name`` quoted with backticks."""
        return "`" + name.replace("`", "``") + "`"

    # --- reflection ------------------------------------------------------------------

    def kind_of(self, t: Any) -> Kind | None:
        """TINYINT(1) is MariaDB's BOOLEAN; YEAR and MEDIUMINT are small integers; a SET
        holds a comma-separated list of its members, up to all of them."""
        if isinstance(t, mysql.TINYINT):
            if getattr(t, "display_width", None) == 1:
                return "bool", None, None, None
            return "int16", None, None, None
        if isinstance(t, mysql.YEAR):
            return "int16", None, None, None
        if isinstance(t, mysql.MEDIUMINT):
            return "int32", None, None, None
        if isinstance(t, mysql.DOUBLE):
            return "float64", None, None, None
        if isinstance(t, mysql.SET):
            members = [str(v) for v in t.values]
            return "string", max(sum(len(v) for v in members) + len(members) - 1, 1), None, None
        return None

    # --- migrate: the tables a copy creates ---------------------------------------------

    def type_of(self, col: ColumnDef, *, key: bool = False) -> sa.types.TypeEngine[Any]:
        """Unbounded decimals as DECIMAL(65,30); FLOAT/DOUBLE; TIME(6) and DATETIME(6) (no
        zone-aware type: values are UTC); long text and blobs as LONGTEXT/LONGBLOB, or a
        255-character prefix where the column is indexed."""
        k = col.kind
        if k == "decimal" and col.precision is None:
            return mysql.DECIMAL(65, 30)
        if k == "float32":
            return mysql.FLOAT()
        if k == "float64":
            return mysql.DOUBLE()
        if k == "time":
            return mysql.TIME(fsp=6)
        if k in ("timestamp", "timestamptz"):
            return mysql.DATETIME(fsp=6)
        if k == "string" and (col.length or 0) > 16383:
            return mysql.LONGTEXT()
        if k == "text":
            return sa.String(KEY_LENGTH) if key else mysql.LONGTEXT()
        if k == "binary":
            return mysql.VARBINARY(KEY_LENGTH) if key else mysql.LONGBLOB()
        return super().type_of(col, key=key)

    def table_options(self, *, exact: bool = True) -> dict[str, Any]:
        """utf8mb4 InnoDB tables; binary collation for copied data keeps the source's
        case-sensitive comparisons and unique keys."""
        opts = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}
        if exact:
            opts["mysql_collate"] = "utf8mb4_bin"
        return opts

    # --- migrate: bulk writes ------------------------------------------------------------

    def prepare_writes(self, dbapi: Any) -> tuple[str, ...]:
        """Strict SQL mode (a misfit is an error, never a silent change), UTC, and no
        foreign key checks while tables load in any order. ``executemany`` of one INSERT
        is rewritten by PyMySQL into multi-row INSERTs of up to ~1 MB each."""
        dbapi.autocommit(False)
        return (
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'",
            "SET SESSION time_zone = '+00:00'",
            "SET SESSION foreign_key_checks = 0",
        )

    def is_data_error(self, exc: BaseException) -> bool:
        """A server error about the row, not one retrying later can help."""
        import pymysql

        if not isinstance(exc, pymysql.err.MySQLError):
            return False
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if code in _TRANSIENT or code >= 2000 or code == 0:
            return False
        return isinstance(
            exc,
            pymysql.err.DataError
            | pymysql.err.IntegrityError
            | pymysql.err.InternalError
            | pymysql.err.OperationalError,
        )

    def describe_error(self, exc: BaseException) -> tuple[str, str, str]:
        """The error number, its message and the column it names."""
        msg, code = str(exc), ""
        if exc.args and isinstance(exc.args[0], int):
            code = str(exc.args[0])
            msg = str(exc.args[1]) if len(exc.args) > 1 else msg
        m = re.search(r"column [`']([^`']+)[`']", msg)
        return (m.group(1) if m else ""), msg, code

    # --- verify: digests inside the database ----------------------------------------------

    int_div: ClassVar[str] = "DIV"

    def value_sql(self, col: str, kind: str, side: DigestSide) -> str:
        """See :meth:`Dialect.value_sql`."""
        return _value(col, kind, side)

    def row_expr(self, values: list[str]) -> str:
        """See :meth:`Dialect.row_expr`."""
        return _encode(values)

    def digest_value_expr(self, col: str, kind: str, side: DigestSide, scale: int | None) -> str:
        """A decimal of the compared scale prints every digit of it; a timestamp as its
        DATETIME text (see :func:`_stamp`); MariaDB converts a number or date inside
        CONCAT_WS exactly as CAST(… AS CHAR) does, and pure ASCII hashes alike in every
        charset: those casts (a fifth of the query) are left out."""
        if scale is not None and side.kind == "decimal" and side.scale == scale:
            return col
        if kind == "timestamp" and side.kind in ("timestamp", "date"):
            return _stamp(col, side)
        if kind == side.kind and kind in ("int", "date"):
            return col
        return self.value_expr(col, kind, side)

    def digest_row_expr(self, values: list[str], compact: list[bool]) -> str:
        """One CONCAT_WS (it skips NULL arguments)."""
        args = [
            f"{v}, ','" if c else f"CHAR_LENGTH({v}), ':', {v}"
            for v, c in zip(values, compact, strict=True)
        ]
        return f"CONCAT_WS('', {', '.join(args)})" if args else "''"

    def hash60_expr(self, text_sql: str) -> str:
        """See :meth:`Dialect.hash60_expr`."""
        return f"CAST(CONV(SUBSTRING(MD5({text_sql}), 1, 15), 16, 10) AS UNSIGNED)"

    def hash32_expr(self, text_sql: str) -> str:
        """See :meth:`Dialect.hash32_expr`."""
        return f"CAST(CONV(SUBSTRING(MD5({text_sql}), 1, 8), 16, 10) AS UNSIGNED)"

    def segment_int(self, seg: str) -> str:
        """See :meth:`Dialect.segment_int`."""
        return f"CAST({seg} AS SIGNED)"

    def key_ranges(self, table: str, seg: str, ranges: Sequence[tuple[int, int]]) -> str:
        """MariaDB's range optimiser turns an OR of key ranges into one index range scan;
        joined to a derived table of ranges it scans the whole table instead."""
        ors = " OR ".join(f"({seg} >= {a} AND {seg} < {b})" for a, b in ranges)
        return f" FROM {table} WHERE {ors}"

    def split_scans(self, inline: bool) -> bool:
        """MariaDB runs each query on one thread: two halves use both cores."""
        return True

    # --- erase: sanitization -------------------------------------------------------------

    sanitization: ClassVar[str] = "mariadb.optimize"
    identity_sql: ClassVar[tuple[str, str]] = ("SELECT VERSION()", "SELECT DATABASE()")
    # rows that dropped tables refer to may go in any order
    change_guard: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]] = (
        ("SET FOREIGN_KEY_CHECKS=0",),
        ("SET FOREIGN_KEY_CHECKS=1",),
    )

    def reclaim_sql(self, quoted: list[str]) -> list[str]:
        """``OPTIMIZE TABLE`` rebuilds each table's tablespace."""
        return [f"OPTIMIZE TABLE {q}" for q in quoted]


DIALECT = MySQL()


# --- verify: the canonical text in MariaDB's SQL ---------------------------------------------

_MY_TEXT = "CHAR CHARACTER SET utf8mb4"


def _value(col: str, kind: str, side: DigestSide) -> str:
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


def _encode(values: list[str]) -> str:
    enc = [f"IFNULL(CONCAT(CHAR_LENGTH({v}), ':', {v}), '{NULL_MARK}')" for v in values]
    return f"CONCAT({', '.join(enc)})" if enc else "''"


def _stamp(col: str, side: DigestSide) -> str:
    """A timestamp's digest text on MariaDB: DATETIME(p) text, fraction without zeros."""
    if side.kind == "date":
        return f"CONCAT({col}, ' 00:00:00')"
    if not side.fsp:
        return col
    # DATETIME(p) prints exactly p fractional digits: drop the trailing zeros of a
    # fraction that is not zero, and the whole fraction of one that is
    return f"IF(MICROSECOND({col}), TRIM(TRAILING '0' FROM {col}), LEFT({col}, 19))"
