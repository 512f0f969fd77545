"""Retention rules: what ``handover shred`` keeps instead of destroying, and why.

Rules come from ``[[erase.retain]]`` tables in the workspace's handover.toml and from an
optional ``--retention FILE`` (same shape, ``[[retain]]`` or ``[[erase.retain]]``). A rule
names source tables, optionally a row filter (rows matching ``where`` are kept, the rest
destroyed), and a legal basis: a key of ``retention.toml`` beside this module (``aml``,
``pia``, ``accounting``, ``litigation``) or free text. Retained data is kept, listed on
the certificate with its basis and keeping period, and its access is frozen.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput

if TYPE_CHECKING:
    from handover.workspace import Workspace

BASES_FILE = Path(__file__).with_name("retention.toml")
_IDENT = re.compile(r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_$\u4e00-\u9fff]*$")
# A row filter is the operator's own SQL over their own database; these words could
# turn it into a second statement or a write, so they are refused outright.
_FORBIDDEN = re.compile(
    r";|--|/\*|\b(insert|update|delete|drop|alter|create|attach|pragma)\b", re.I
)


@dataclass(frozen=True)
class Basis:
    """A legal basis for keeping data: texts in both languages and the minimum years."""

    key: str
    zh: str
    en: str
    years: int

    def to_json(self) -> dict[str, Any]:
        """Certificate form."""
        return {"key": self.key, "zh-CN": self.zh, "en": self.en, "years": self.years}


@dataclass(frozen=True)
class RetentionRule:
    """Keep ``tables`` (or their rows matching ``where``) under ``basis`` until ``until``."""

    id: str
    tables: tuple[str, ...]
    basis: Basis
    where: str | None = None
    relationship_end: dt.date | None = None
    until: dt.date | None = None
    note: str = ""
    origin: str = ""

    def covers(self, table: str) -> bool:
        """Whether the rule names ``table`` (case-insensitive)."""
        return table.lower() in {t.lower() for t in self.tables}

    def to_json(self) -> dict[str, Any]:
        """Certificate / plan form."""
        return {
            "id": self.id,
            "tables": list(self.tables),
            "where": self.where,
            "basis": self.basis.to_json(),
            "relationship_end": self.relationship_end.isoformat()
            if self.relationship_end
            else None,
            "until": self.until.isoformat() if self.until else None,
            "note": self.note,
            "origin": self.origin,
        }


@dataclass
class RetentionRules:
    """Every rule in force for a run."""

    rules: list[RetentionRule] = field(default_factory=list)

    def for_table(self, table: str) -> list[RetentionRule]:
        """The rules naming ``table``."""
        return [r for r in self.rules if r.covers(table)]


def load_bases() -> dict[str, Basis]:
    """The legal bases shipped in ``retention.toml``."""
    data = tomllib.loads(BASES_FILE.read_text(encoding="utf-8"))
    return {
        k: Basis(k, str(v["zh-CN"]), str(v["en"]), int(v.get("years", 0))) for k, v in data.items()
    }


def _date(value: Any, origin: str, n: int, name: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise BadInput.msg("erase.rule_date", origin=origin, n=n, field=name, value=value) from None


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def parse_rules(
    raw: list[Any], origin: str, *, default_end: dt.date | None = None
) -> list[RetentionRule]:
    """Validate ``[[retain]]`` tables from ``origin``; BadInput names the rule and field."""
    bases = load_bases()
    out: list[RetentionRule] = []
    if not isinstance(raw, list):
        raise BadInput.msg("erase.retain_array", origin=origin)
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadInput.msg("erase.rule_table", origin=origin, n=i)
        unknown = set(item) - {
            "id",
            "tables",
            "where",
            "basis",
            "relationship_end",
            "until",
            "note",
        }
        if unknown:
            raise BadInput.msg("erase.rule_field", origin=origin, n=i, field=sorted(unknown)[0])
        tables = item.get("tables")
        if isinstance(tables, str):
            tables = [tables]
        if not tables or not all(isinstance(t, str) and _IDENT.match(t) for t in tables):
            raise BadInput.msg("erase.rule_tables", origin=origin, n=i)
        basis_raw = item.get("basis")
        if not isinstance(basis_raw, str) or not basis_raw.strip():
            raise BadInput.msg("erase.rule_basis", origin=origin, n=i, bases=", ".join(bases))
        basis = bases.get(basis_raw.strip()) or Basis(
            "custom", basis_raw.strip(), basis_raw.strip(), 0
        )
        cond = item.get("where")
        if cond is not None:
            if not isinstance(cond, str) or not cond.strip() or _FORBIDDEN.search(cond):
                raise BadInput.msg("erase.rule_where", origin=origin, n=i)
            cond = cond.strip()
        end = _date(item.get("relationship_end"), origin, i, "relationship_end") or default_end
        until = _date(item.get("until"), origin, i, "until")
        if until is None and end is not None and basis.years:
            until = _add_years(end, basis.years)
        rid = str(item.get("id") or f"{basis.key}-{i}")
        out.append(
            RetentionRule(
                id=rid,
                tables=tuple(tables),
                basis=basis,
                where=cond,
                relationship_end=end,
                until=until,
                note=str(item.get("note", "")),
                origin=origin,
            )
        )
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput.msg("erase.retention_missing", path=path) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput.msg(
            "erase.retention_toml", path=path, detail=str(exc).splitlines()[0]
        ) from None


def load_rules(ws: Workspace, extra: Path | None = None) -> RetentionRules:
    """Rules from the workspace's handover.toml ``[[erase.retain]]`` plus ``extra``."""
    tr = ws.settings.transfer
    default_end = tr.closing if tr is not None else None
    rules: list[RetentionRule] = []
    doc = _read_toml(ws.settings.toml_path) if ws.settings.toml_path.is_file() else {}
    section = doc.get("erase", {})
    if isinstance(section, dict) and "retain" in section:
        rules += parse_rules(section["retain"], str(ws.settings.toml_path), default_end=default_end)
    if extra is not None:
        data = _read_toml(extra)
        raw = data.get("retain", data.get("erase", {}).get("retain", []))
        rules += parse_rules(raw, str(extra), default_end=default_end)
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise BadInput.msg("erase.rule_twice", origin=r.origin, id=r.id)
        seen.add(r.id)
    return RetentionRules(rules)
