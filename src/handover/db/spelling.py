"""Spellings of dates and times as text, and the column comment that carries them.

SQLite has no date/time type: a ``TIMESTAMP`` column holds the text the seller's
applications wrote, and a copy must keep that text (docs/migrate.md). A *spelling* names
one text form: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` (or with ``T`` between date and
time), ``HH:MM:SS``, optionally followed by ``.f`` … ``.ffffff``. Reflection records a
column's spelling in its :class:`~handover.db.reflect.ColumnDef`; a copy into PostgreSQL or
MariaDB carries a SQLite column's declared type and spelling in the column comment
(:func:`column_comment` / :func:`from_comment`), so that SQLite → PostgreSQL → SQLite
gives back the same declared types and the same text. Rendering and parsing values in a
spelling (vectorised over Arrow) is :mod:`handover.migrate.spelling`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handover.db.reflect import ColumnDef

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


def engine_spelling(kind: str, fsp: int | None = None) -> str | None:
    """How a PostgreSQL (``fsp`` None) or MariaDB (``fsp`` = declared fractional digits)
    date/time column prints its values: the seller's own spelling of a typed source."""
    if kind not in TEMPORAL:
        return None
    if kind == "date":
        return DEFAULT[kind]
    digits = min(max(int(fsp or 0), 0), 6)
    return DEFAULT[kind] + ("." + "f" * digits if digits else "")


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
