"""The legal rules (``rules.toml``): grades and the reporting duties each grade creates.

Loaded once per call and checked completely: an unknown regime, grade, operator kind,
start, condition or a rule without its legal source is refused with the file and the
rule named, before anything is created from it.

A clock in ``hours`` runs from the moment it starts. A clock in ``days`` is counted in
whole local days as 民法典 第二百零一条 and 第二百零三条 say: the day it starts does not
count, and it ends at 24:00 of its last day (:func:`day_period`); a last day that is a
statutory holiday the workspace lists (``[incidents] holidays``) moves to the first day
after the holiday that is not listed (第二百零三条第一款). Nothing else moves it: a day not
listed is no holiday here, so the deadline shown is never later than the law's. A recipient
the workspace gives business hours (``[incidents] business_hours_end``) takes a day period's
report only until they end: the period then ends at that time of its last day
(第二百零三条第二款, second sentence).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handover.errors import BadInput

if TYPE_CHECKING:
    from handover.settings import IncidentSettings
    from handover.workspace import Workspace

RULES_FILE = Path(__file__).parent / "rules.toml"

#: least to most severe (一般, 较大, 重大, 特别重大)
GRADES: tuple[str, ...] = ("general", "significant", "major", "especially_major")
REGIMES: tuple[str, ...] = ("cac", "pipl57", "sector", "police")
OPERATORS: tuple[str, ...] = ("ordinary", "cii", "central_organ")
KINDS: tuple[str, ...] = ("initial", "summary", "notice")
STARTS: tuple[str, ...] = ("aware", "handled")
CONDITIONS: tuple[str, ...] = (
    "always",
    "personal_information",
    "suspected_crime",
    "sector_configured",
)
METRICS: tuple[str, ...] = ("people_affected", "direct_loss_cny")
VERIFIED: tuple[str, ...] = ("reproduction", "quotation", "fragments", "unverified")
HOURS_FROM: tuple[str, ...] = ("sector_hours",)


@dataclass(frozen=True)
class GradeRule:
    """A quantitative criterion of the grading guide: ``metric >= min`` gives ``grade``."""

    grade: str
    metric: str
    min: int
    source: str
    verified: str


@dataclass(frozen=True)
class CriterionRule:
    """A qualitative criterion of the grading guide: met when a person judges it is (and
    records why); the incident's grade is then at least ``grade``."""

    id: str
    grade: str
    text: dict[str, str]
    source: str
    verified: str

    def to_json(self) -> dict[str, Any]:
        """Machine form (stored in the grade basis, ``incidents criteria --json``)."""
        return {
            "id": self.id,
            "grade": self.grade,
            "text": self.text,
            "source": self.source,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class ObligationRule:
    """One duty: report ``kind`` to ``recipient`` under ``regime`` within a clock."""

    id: str
    regime: str
    kind: str
    recipient: str
    operator: str
    grades: tuple[str, ...]
    when: str
    starts: str
    hours: float | None
    immediately: bool
    hours_from: str | None
    waivable: str | None
    source: str
    verified: str
    #: a clock in whole days (民法典 第二百零一条、第二百零三条); ``hours`` is then None
    days: int | None = None

    def applies(self, grade: str, operator: str) -> bool:
        """Whether this duty exists for an incident of ``grade`` run by ``operator``."""
        return (self.operator in ("*", operator)) and ("*" in self.grades or grade in self.grades)

    def to_json(self) -> dict[str, Any]:
        """Machine form (ledger details, ``--json``)."""
        return {
            "rule": self.id,
            "regime": self.regime,
            "kind": self.kind,
            "recipient": self.recipient,
            "starts": self.starts,
            "hours": self.hours,
            "days": self.days,
            "immediately": self.immediately,
            "source": self.source,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class Rules:
    """Every grading criterion and duty of one rules file."""

    path: Path
    grades: tuple[GradeRule, ...]
    obligations: tuple[ObligationRule, ...]
    criteria: tuple[CriterionRule, ...] = ()

    def criterion(self, criterion_id: str) -> CriterionRule:
        """The criterion called ``criterion_id`` (BadInput listing the known ones)."""
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise BadInput.msg(
            "incidents.bad_criterion",
            criterion=criterion_id,
            criteria=", ".join(c.id for c in self.criteria) or "-",
        )

    def grade_for(self, metrics: dict[str, int | None]) -> tuple[str, list[GradeRule]]:
        """The highest grade whose criterion ``metrics`` meet (``general`` when none) and
        the criteria met, most severe first."""
        met = [
            g
            for g in self.grades
            if metrics.get(g.metric) is not None and int(metrics[g.metric] or 0) >= g.min
        ]
        met.sort(key=lambda g: -GRADES.index(g.grade))
        return (met[0].grade if met else "general"), met


def _fail(path: Path, where: str, field: str, value: object, allowed: tuple[str, ...]) -> BadInput:
    return BadInput.msg(
        "incidents.rules.bad",
        path=path,
        where=where,
        field=field,
        value=value,
        allowed=", ".join(allowed),
    )


def _choice(
    path: Path, where: str, doc: dict[str, Any], field: str, allowed: tuple[str, ...]
) -> str:
    value = doc.get(field)
    if value not in allowed:
        raise _fail(path, where, field, value, allowed)
    return str(value)


def _source(path: Path, where: str, doc: dict[str, Any]) -> tuple[str, str]:
    source = doc.get("source")
    if not isinstance(source, str) or not source.strip():
        raise BadInput.msg("incidents.rules.no_source", path=path, where=where)
    return source.strip(), _choice(path, where, doc, "verified", VERIFIED)


def _grade(path: Path, i: int, doc: dict[str, Any]) -> GradeRule:
    where = f"grade[{i}]"
    value = doc.get("min")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _fail(path, where, "min", value, ("a positive integer",))
    source, verified = _source(path, where, doc)
    return GradeRule(
        _choice(path, where, doc, "grade", GRADES),
        _choice(path, where, doc, "metric", METRICS),
        value,
        source,
        verified,
    )


def _criterion(path: Path, i: int, doc: dict[str, Any]) -> CriterionRule:
    where = f"criterion[{i}] {doc.get('id', '')}".strip()
    cid = doc.get("id")
    if not isinstance(cid, str) or not cid:
        raise _fail(path, where, "id", cid, ("a name",))
    text: dict[str, str] = {}
    for lang in ("zh-CN", "en"):
        value = doc.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise _fail(path, where, lang, value, ("the criterion's text",))
        text[lang] = value.strip()
    source, verified = _source(path, where, doc)
    return CriterionRule(cid, _choice(path, where, doc, "grade", GRADES), text, source, verified)


def _obligation(path: Path, i: int, doc: dict[str, Any]) -> ObligationRule:
    where = f"obligation[{i}] {doc.get('id', '')}".strip()
    rid = doc.get("id")
    if not isinstance(rid, str) or not rid:
        raise _fail(path, where, "id", rid, ("a name",))
    regime = _choice(path, where, doc, "regime", REGIMES)
    grades = doc.get("grades")
    if not isinstance(grades, list) or not grades:
        raise _fail(path, where, "grades", grades, ("*", *GRADES))
    for g in grades:
        if g != "*" and g not in GRADES:
            raise _fail(path, where, "grades", g, ("*", *GRADES))
    operator = doc.get("operator", "*")
    if operator != "*" and operator not in OPERATORS:
        raise _fail(path, where, "operator", operator, ("*", *OPERATORS))
    hours: float | None = None
    days: int | None = None
    if "days" in doc:
        # Whole days only: a period in days ends at 24:00 of its last day (民法典 第二百零三条).
        value = doc["days"]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise _fail(path, where, "days", value, ("a positive whole number",))
        days = value
    if "hours" in doc:
        hours = float(doc["hours"]) if isinstance(doc["hours"], int | float) else None
        if hours is None:
            raise _fail(path, where, "hours", doc["hours"], ("a number",))
    immediately = bool(doc.get("immediately", False))
    hours_from = doc.get("hours_from")
    if hours_from is not None and hours_from not in HOURS_FROM:
        raise _fail(path, where, "hours_from", hours_from, HOURS_FROM)
    clocks = sum(
        x for x in (hours is not None, days is not None, immediately, hours_from is not None)
    )
    if clocks != 1 or (hours is not None and hours <= 0):
        raise BadInput.msg("incidents.rules.clock", path=path, where=where)
    source, verified = _source(path, where, doc)
    waivable = doc.get("waivable")
    return ObligationRule(
        id=rid,
        regime=regime,
        kind=_choice(path, where, doc, "kind", KINDS),
        recipient=str(doc.get("recipient") or ""),
        operator=str(operator),
        grades=tuple(str(g) for g in grades),
        when=_choice(path, where, {"when": doc.get("when", "always")}, "when", CONDITIONS),
        starts=_choice(path, where, doc, "starts", STARTS),
        hours=hours,
        immediately=immediately,
        hours_from=hours_from,
        waivable=str(waivable) if waivable else None,
        source=source,
        verified=verified,
        days=days,
    )


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules of ``path`` (default the built-in ``rules.toml``), checked completely."""
    p = Path(path) if path is not None else RULES_FILE
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput.msg("incidents.rules.missing", path=p) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput.msg(
            "incidents.rules.unreadable", path=p, reason=type(exc).__name__
        ) from None
    grades = tuple(_grade(p, i, g) for i, g in enumerate(doc.get("grade") or []))
    obligations = tuple(_obligation(p, i, o) for i, o in enumerate(doc.get("obligation") or []))
    criteria = tuple(_criterion(p, i, c) for i, c in enumerate(doc.get("criterion") or []))
    for what, ids in (
        ("obligation", [o.id for o in obligations]),
        ("criterion", [c.id for c in criteria]),
    ):
        dup = next((x for x in ids if ids.count(x) > 1), None)
        if dup is not None:
            raise _fail(p, f"{what} {dup}", "id", dup, ("a unique name",))
    if not obligations:
        raise BadInput.msg("incidents.rules.empty", path=p)
    return Rules(p, grades, obligations, criteria)


def due_at(start: dt.datetime, hours: float) -> dt.datetime:
    """The deadline ``hours`` after ``start``."""
    return start + dt.timedelta(hours=hours)


#: the provision that moves the last day of a period off a statutory holiday
HOLIDAY_BASIS = "民法典 第二百零三条第一款"
#: how far listed holidays may move a last day, as :meth:`DayClocks.period` reads a
#: stored deadline back (one run is at most 31 days: ``settings.HOLIDAY_RUN_MAX_DAYS``)
MOVED_AT_MOST = 31
#: the provision that ends a period when the recipient's business hours end
BUSINESS_HOURS_BASIS = "民法典 第二百零三条第二款"
BUSINESS_HOURS_TEXT = "有业务时间的,停止业务活动的时间为截止时间"


@dataclass(frozen=True)
class DayPeriod:
    """A period of whole days as 民法典 第二百零一条、第二百零三条 count it, in ``timezone``:
    ``days`` after the start day, ending at 24:00 of ``last_day``. ``holiday`` is the run of
    listed statutory holidays (first, last) the nominal last day fell on, when it moved the
    end to the day after it (第二百零三条第一款)."""

    days: int
    timezone: str
    last_day: dt.date
    holiday: tuple[dt.date, dt.date] | None = None
    #: when the recipient's business hours end on the last day (第二百零三条第二款, second
    #: sentence); None: 24:00
    closes: dt.time | None = None

    @property
    def due(self) -> dt.datetime:
        """The deadline in UTC: 24:00 of the last day, i.e. 00:00 local of the day after,
        or the time business hours end on it."""
        zone = ZoneInfo(self.timezone)
        if self.closes is not None:
            end = dt.datetime.combine(self.last_day, self.closes, tzinfo=zone)
        else:
            end = dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
        return end.astimezone(dt.UTC)

    @property
    def ends(self) -> str:
        """The local time the last day ends: ``24:00``, or ``17:30`` when business hours end
        then."""
        return "24:00" if self.closes is None else self.closes.strftime("%H:%M")

    def clock(self) -> tuple[str, dict[str, Any]]:
        """The message key and values that say this clock: its days, to 24:00 of the last
        day or to when the recipient's business hours end."""
        if self.closes is None:
            return "incidents.report.legal_days", {"days": self.days}
        return "incidents.report.legal_days_closes", {"days": self.days, "ends": self.ends}

    def days_left(self, now: dt.datetime) -> int:
        """Whole local days from ``now``'s day to the last day: 0 on the last day itself,
        negative once past it."""
        today = now.astimezone(ZoneInfo(self.timezone)).date()
        return (self.last_day - today).days

    def to_json(self) -> dict[str, Any]:
        """Machine form (``--json``, ledger details)."""
        return {
            "days": self.days,
            "last_day": self.last_day.isoformat(),
            "ends": self.ends,
            "timezone": self.timezone,
            "business_hours": None
            if self.closes is None
            else {"ends": self.ends, "basis": BUSINESS_HOURS_BASIS},
            "extended": None
            if self.holiday is None
            else {
                "nominal_last_day": self.holiday[0].isoformat(),
                "holiday": [self.holiday[0].isoformat(), self.holiday[1].isoformat()],
                "basis": HOLIDAY_BASIS,
            },
        }


def day_period(
    start: dt.datetime,
    days: int,
    timezone: str,
    holidays: Collection[dt.date] = (),
    closes: dt.time | None = None,
) -> DayPeriod:
    """The period of ``days`` days starting at ``start`` (aware): the local day of
    ``start`` does not count (民法典 第二百零一条第一款), the period ends at 24:00 of its
    last day, or at ``closes`` where the recipient's business hours end then (第二百零三条
    第二款); a last day among ``holidays`` moves to the first day after them that is not one
    (第二百零三条第一款)."""
    nominal = start.astimezone(ZoneInfo(timezone)).date() + dt.timedelta(days=days)
    last = nominal
    while last in holidays:
        last += dt.timedelta(days=1)
    run = (nominal, last - dt.timedelta(days=1)) if last != nominal else None
    return DayPeriod(days, timezone, last, run, closes)


def due_after_days(
    start: dt.datetime, days: int, timezone: str, holidays: Collection[dt.date] = ()
) -> dt.datetime:
    """The deadline of a period of ``days`` days starting at ``start`` (aware), in UTC:
    24:00 local of its last day (:func:`day_period`)."""
    return day_period(start, days, timezone, holidays).due


@dataclass(frozen=True)
class DayClocks:
    """Which duties count in days, and how: the rules' day clocks by rule id, the zone and
    the listed holidays. Reads a stored duty's deadline back as its period (the store keeps
    the deadline, not how it was counted)."""

    timezone: str = "Asia/Shanghai"
    days: Mapping[str, int] = field(default_factory=dict)
    holidays: frozenset[dt.date] = frozenset()
    #: when business hours end, by rule id: the rules whose recipient has them
    closes: Mapping[str, dt.time] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: Rules, conf: IncidentSettings) -> DayClocks:
        """The day clocks of ``rules`` under the workspace's ``[incidents]`` settings."""
        hours = conf.business_closes()
        return cls(
            conf.timezone,
            {o.id: o.days for o in rules.obligations if o.days is not None},
            conf.holiday_dates(),
            {o.id: hours[o.recipient] for o in rules.obligations if o.recipient in hours},
        )

    def period(self, rule: str, starts_at: dt.datetime, due_at: dt.datetime) -> DayPeriod | None:
        """The period of a duty of ``rule`` whose clock started at ``starts_at`` and is
        due at ``due_at``; None for an hours clock. A deadline counted under other settings
        (a holiday list or business hours edited since, another zone) is read as it stands:
        its last day, ending at 24:00 or at the minute it ends (business hours), without
        saying why; one that ends at no local midnight and on no day its days could have
        ended on (from the nominal last day to a month after it, holidays) is no day
        clock's (its rule was changed)."""
        days = self.days.get(rule)
        if days is None:
            return None
        closes = self.closes.get(rule)
        counted = day_period(starts_at, days, self.timezone, self.holidays, closes)
        if counted.due == due_at:
            return counted
        end = due_at.astimezone(ZoneInfo(self.timezone))
        if end.time() == dt.time(0):
            return DayPeriod(days, self.timezone, end.date() - dt.timedelta(days=1))
        nominal = day_period(starts_at, days, self.timezone).last_day
        if nominal <= end.date() <= nominal + dt.timedelta(days=MOVED_AT_MOST):
            return DayPeriod(days, self.timezone, end.date(), closes=end.time())
        return None


def workspace_rules(ws: Workspace) -> Rules:
    """The workspace's deadline rules: its ``[incidents] rules`` file (relative to the
    workspace) or the built-in ``rules.toml``; checked completely."""
    rules = rules_file(ws)
    check_business_hours(rules, ws.settings.incidents)
    return rules


def rules_file(ws: Workspace) -> Rules:
    """The workspace's rules file as :func:`workspace_rules` loads it, without checking the
    settings against it: for reading duties already created."""
    path = ws.settings.incidents.rules
    if path is not None and not path.is_absolute():
        path = ws.path / path
    return load_rules(path)


def check_business_hours(rules: Rules, conf: IncidentSettings) -> None:
    """Refuse (BadInput) a ``[incidents] business_hours_end`` entry naming a recipient no
    duty counted in days reports to: a misspelt name would leave a deadline at 24:00 that
    the workspace meant to end earlier, and hours given to a recipient of hour clocks only
    would change nothing while seeming to."""
    recipients = sorted({o.recipient for o in rules.obligations if o.days is not None})
    for name in conf.business_hours_end:
        if name not in recipients:
            raise BadInput.msg(
                "incidents.business_hours.recipient",
                name=name,
                recipients=", ".join(recipients),
            )
