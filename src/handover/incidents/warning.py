"""Early warning (风险预警): declarative rules (``warnings.toml``) over ledger events.

:func:`evaluate` is a pure function of the rules, the ledger entries and the facts the
ledger alone does not hold (grant windows, vendor assessments, the local time zone),
which the flow reads from governance. Each finding has a key, so the event it opens is
opened once however often the check runs.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handover.errors import BadInput
from handover.incidents.report import EntryLike

WARNINGS_FILE = Path(__file__).parent / "warnings.toml"
KINDS: tuple[str, ...] = ("burst", "odd_hour", "grant_window", "grant_volume", "vendor_expired")


@dataclass(frozen=True)
class WarningRule:
    """One early-warning rule."""

    id: str
    kind: str
    actions: tuple[str, ...]
    title: dict[str, str]
    window_minutes: int = 60
    threshold: int = 1
    from_hour: int = 7
    to_hour: int = 22

    def matches(self, action: str) -> bool:
        """Whether ledger ``action`` is one this rule watches (name or prefix)."""
        return any(action == a or action.startswith(a + ".") for a in self.actions)


def load_warning_rules(path: Path = WARNINGS_FILE) -> list[WarningRule]:
    """The rules of ``path``, checked (BadInput naming the file and the rule)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput.msg(
            "incidents.rules.unreadable", path=path, reason=type(exc).__name__
        ) from None
    out: list[WarningRule] = []
    for i, r in enumerate(doc.get("rule") or []):
        where = f"rule[{i}] {r.get('id', '')}".strip()
        if r.get("kind") not in KINDS:
            raise BadInput.msg(
                "incidents.rules.bad",
                path=path,
                where=where,
                field="kind",
                value=r.get("kind"),
                allowed=", ".join(KINDS),
            )
        actions = r.get("actions")
        if not isinstance(actions, list) or not actions or not r.get("id"):
            raise BadInput.msg(
                "incidents.rules.bad",
                path=path,
                where=where,
                field="actions",
                value=actions,
                allowed="a list",
            )
        out.append(
            WarningRule(
                id=str(r["id"]),
                kind=str(r["kind"]),
                actions=tuple(str(a) for a in actions),
                title={"zh-CN": str(r.get("zh-CN", r["id"])), "en": str(r.get("en", r["id"]))},
                window_minutes=int(r.get("window_minutes", 60)),
                threshold=int(r.get("threshold", 1)),
                from_hour=int(r.get("from_hour", 7)),
                to_hour=int(r.get("to_hour", 22)),
            )
        )
    return out


@dataclass(frozen=True)
class Facts:
    """What the rules need beyond the ledger: grant windows by id, each vendor staff
    member's vendor and the last day its assessment passes (None: it does not pass)."""

    timezone: str = "Asia/Shanghai"
    grants: dict[int, tuple[dt.datetime, dt.datetime]] = field(default_factory=dict)
    vendor_staff: dict[str, tuple[str, dt.date | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One rule firing: the key that opens its event once, who, when, which entries."""

    rule: str
    key: str
    actor: str
    at: dt.datetime
    seqs: tuple[int, ...]
    title: dict[str, str]
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """Machine form (the opened event's ledger details)."""
        return {
            "rule": self.rule,
            "key": self.key,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "seqs": list(self.seqs),
            "title": self.title,
            "details": self.details,
        }


def _when(e: EntryLike) -> dt.datetime:
    return dt.datetime.fromisoformat(e.ts.replace("Z", "+00:00"))


def _clear_grant(e: EntryLike) -> int | None:
    d = e.details or {}
    if e.action != "access.allow" or not str(d.get("resource", "")).endswith("/clear"):
        return None
    gid = d.get("grant_id")
    return int(gid) if isinstance(gid, int) else None


def _bursts(rule: WarningRule, groups: dict[Any, list[EntryLike]], label: str) -> Iterable[Finding]:
    window = dt.timedelta(minutes=rule.window_minutes)
    for group, items in groups.items():
        i = 0
        while i < len(items):
            start = _when(items[i])
            j = i
            while j + 1 < len(items) and _when(items[j + 1]) - start <= window:
                j += 1
            if j - i + 1 >= rule.threshold:
                burst = items[i : j + 1]
                yield Finding(
                    rule.id,
                    f"{rule.id}:{label}={group}:{burst[0].seq}",
                    burst[0].actor,
                    _when(burst[-1]),
                    tuple(e.seq for e in burst),
                    rule.title,
                    {label: group, "count": len(burst), "window_minutes": rule.window_minutes},
                )
                i = j + 1
            else:
                i += 1


def evaluate(
    rules: Sequence[WarningRule], entries: Sequence[EntryLike], facts: Facts
) -> list[Finding]:
    """Every finding of ``rules`` on ``entries`` (in sequence order), in rule order."""
    tz = ZoneInfo(facts.timezone)
    out: list[Finding] = []
    for rule in rules:
        mine = [e for e in entries if rule.matches(e.action)]
        if rule.kind == "burst":
            by_actor: dict[Any, list[EntryLike]] = defaultdict(list)
            for e in mine:
                by_actor[e.actor].append(e)
            out += _bursts(rule, by_actor, "actor")
        elif rule.kind == "grant_volume":
            by_grant: dict[Any, list[EntryLike]] = defaultdict(list)
            for e in mine:
                if (gid := _clear_grant(e)) is not None:
                    by_grant[gid].append(e)
            out += _bursts(rule, by_grant, "grant")
        else:
            out += _single(rule, mine, facts, tz)
    return out


def _single(
    rule: WarningRule, mine: Sequence[EntryLike], facts: Facts, tz: ZoneInfo
) -> Iterable[Finding]:
    """Rules that judge one entry at a time; one finding per key (actor or grant, day)."""
    seen: dict[str, list[EntryLike]] = {}
    info: dict[str, dict[str, Any]] = {}
    for e in mine:
        local = _when(e).astimezone(tz)
        day = local.date().isoformat()
        key: str | None = None
        if rule.kind == "odd_hour":
            if not rule.from_hour <= local.hour < rule.to_hour:
                key = f"{rule.id}:actor={e.actor}:{day}"
                info.setdefault(key, {"local_time": local.strftime("%H:%M"), "action": e.action})
        elif rule.kind == "grant_window":
            gid = _clear_grant(e)
            window = facts.grants.get(gid) if gid is not None else None
            if gid is not None and (window is None or not window[0] <= _when(e) <= window[1]):
                key = f"{rule.id}:grant={gid}:{day}"
                info.setdefault(
                    key,
                    {
                        "grant": gid,
                        "valid_from": window[0].isoformat() if window else None,
                        "valid_until": window[1].isoformat() if window else None,
                    },
                )
        elif rule.kind == "vendor_expired" and e.actor in facts.vendor_staff:
            vendor, until = facts.vendor_staff[e.actor]
            if until is None or local.date() > until:
                key = f"{rule.id}:actor={e.actor}:{day}"
                info.setdefault(
                    key, {"vendor": vendor, "passing_until": until.isoformat() if until else None}
                )
        if key is not None:
            seen.setdefault(key, []).append(e)
    for key, items in seen.items():
        yield Finding(
            rule.id,
            key,
            items[0].actor,
            _when(items[0]),
            tuple(e.seq for e in items),
            rule.title,
            {**info[key], "count": len(items)},
        )
