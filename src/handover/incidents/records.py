"""The incident records: events, incidents, duties, reports and follow-ups as the
store keeps them, read back as frozen results, and the checks every transition applies
to its input (times never in the future, texts bounded). Time is always injected."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover.errors import BadInput
from handover.i18n import Msg
from handover.incidents.models import (
    ActionRow,
    IncidentRow,
    ObligationRow,
    ReportRow,
    SecurityEventRow,
)
from handover.incidents.rules import DayClocks, DayPeriod, rules_file

if TYPE_CHECKING:
    from handover.workspace import Workspace

Clock = Callable[[], dt.datetime]

#: incident categories (事件类型)
CATEGORIES: tuple[str, ...] = (
    "data_leak",
    "data_tamper",
    "data_loss",
    "ransomware",
    "intrusion",
    "outage",
    "other",
)
#: the facts a report and an Art. 57 notice are written from (docs/incidents.md)
FACTS: tuple[str, ...] = (
    "location",
    "impact",
    "measures",
    "trend",
    "cause",
    "leads",
    "next_steps",
    "support",
    "scene",
    "harm",
    "advice",
    "contact",
    "accountability",
    "lessons",
    "other",
)
PURPOSE = "incident response"


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as aware UTC (SQLite hands stored times back naive, in UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def now_utc(clock: Clock) -> dt.datetime:
    return utc(clock())


def status_of(status: str) -> Msg:
    """An incident's or a duty's status in the reader's language (never the bare code)."""
    return Msg(f"incidents.status.{status}")


def event_status(status: str) -> Msg:
    """A security event's status (open, promoted, dismissed) in the reader's language."""
    return Msg(f"incidents.event_status.{status}")


def drill_status(status: str) -> Msg:
    """A drill's status (scheduled, running, finished) in the reader's language."""
    return Msg(f"incidents.drill_status.{status}")


def event_source(source: str) -> Msg:
    """Where a security event came from: by hand, a drill, or an early-warning rule
    (``warning:<rule>``, the rule named as it is)."""
    kind, _, rule = source.partition(":")
    if kind == "warning":
        return Msg("incidents.source.warning", rule=rule)
    return (
        Msg(f"incidents.source.{kind}")
        if kind in ("manual", "drill")
        else Msg("incidents.source.other", source=source)
    )


def zoned(value: dt.datetime, tz: str, sep: str = "T") -> str:
    """``value`` in zone ``tz`` with its offset, to the minute (``2026-12-08T11:50+08:00``):
    a refusal shows times as the user typed them, in the workspace's zone."""
    from zoneinfo import ZoneInfo

    return utc(value).astimezone(ZoneInfo(tz)).isoformat(sep=sep, timespec="minutes")


def past(value: dt.datetime, field_name: str, now: dt.datetime, tz: str = "UTC") -> dt.datetime:
    """``value`` as aware UTC, refused when naive or later than ``now`` (the refusal
    shows both in zone ``tz``)."""
    if value.tzinfo is None:
        raise BadInput.msg("incidents.naive_time", field=field_name)
    value = utc(value)
    if value > now:
        raise BadInput.msg(
            "incidents.future",
            field=field_name,
            value=zoned(value, tz),
            now=zoned(now, tz),
        )
    return value


def not_before_noticed(
    aware: dt.datetime, event_id: int, noticed_at: dt.datetime, tz: str = "UTC"
) -> None:
    """BadInput when the awareness time ``aware`` (UTC) is earlier than event
    ``event_id`` was noticed: a typo there would start every legal clock long ago."""
    noticed = utc(noticed_at)
    if aware < noticed:
        raise BadInput.msg(
            "incidents.aware_before_noticed",
            field="aware_at",
            value=zoned(aware, tz),
            id=event_id,
            noticed=zoned(noticed, tz),
        )


def not_future(
    value: dt.datetime | None, field_name: str, clock: Clock, tz: str = "UTC"
) -> dt.datetime | None:
    """``value`` as aware UTC; BadInput when naive or later than the clock's now (shown in
    zone ``tz``). Flows call it before authorising, so refused input leaves even the
    ledger untouched."""
    return None if value is None else past(value, field_name, now_utc(clock), tz)


#: line breaks as other programs write them: CR LF (a browser's text box), CR, and the
#: vertical tab and form feed Word's soft line and page breaks paste as
_BREAKS = re.compile(r"\r\n?|[\x0b\x0c]")
#: the other control characters, the two noncharacters XML refuses and lone surrogates
#: (a byte that is no UTF-8 on the command line): no report (Word, XML) can hold them
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def plain_text(value: str | None, field_name: str) -> str:
    """``value`` trimmed (may be empty), its line breaks as ``\n``; BadInput naming
    ``field_name`` when it holds a control character (it would stop every report of the
    incident, the 4-hour one included, from being written)."""
    value = _BREAKS.sub("\n", value or "").strip()
    bad = _CONTROL.search(value)
    if bad is not None:
        raise BadInput.msg(
            "incidents.control_char", field=field_name, code=f"{ord(bad.group()):04X}"
        )
    return value


def checked_text(value: str, field_name: str, limit: int = 300) -> str:
    """:func:`plain_text`, refused also when empty or longer than ``limit``."""
    value = plain_text(value, field_name)
    if not value:
        raise BadInput.msg("incidents.empty", field=field_name)
    if len(value) > limit:
        raise BadInput.msg("incidents.too_long", field=field_name, limit=limit)
    return value


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SecurityEvent:
    """A reported security event."""

    id: int
    title: str
    description: str
    noticed_at: dt.datetime
    noticed_by: str
    reported_by: str
    systems: list[str]
    data: list[str]
    source: str
    status: str
    drill_id: int | None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "noticed_at": self.noticed_at.isoformat(),
            "noticed_by": self.noticed_by,
            "reported_by": self.reported_by,
            "systems": self.systems,
            "data": self.data,
            "source": self.source,
            "status": self.status,
            "drill": self.drill_id is not None,
        }


#: the mark a drill's duty carries before its addressee (never a real one unmarked)
DRILL_MARK = "[演练 DRILL] "


def recipient_text(recipient: str, stored: str, lang: str) -> str:
    """A duty's addressee ``stored`` in ``lang``: where it is the catalogue's name of
    ``recipient`` (kept in zh-CN when the duty was made) that name in ``lang``, a drill's
    mark kept; a configured name (the province's CAC office …) as it was stored."""
    from handover.i18n import catalog, t

    key = f"incidents.recipient.{recipient}"
    mark = DRILL_MARK if stored.startswith(DRILL_MARK) else ""
    if key in catalog() and stored.removeprefix(mark) == t(key, "zh-CN"):
        return mark + t(key, lang)
    return stored


@dataclass(frozen=True)
class Obligation:
    """One duty with its clock."""

    id: int
    incident_id: int
    rule: str
    regime: str
    kind: str
    recipient: str
    recipient_name: str
    starts_at: dt.datetime
    due_at: dt.datetime
    hours: float
    legal_clock: bool
    source: str
    verified: str
    status: str
    met_at: dt.datetime | None
    met_by: str | None
    waiver: dict[str, Any] | None
    reminded_at: dt.datetime | None
    escalated_at: dt.datetime | None
    #: a clock in whole days: its last day and the holiday that moved it (None: hours)
    period: DayPeriod | None = None

    def recipient_in(self, lang: str) -> str:
        """The addressee in ``lang`` (:func:`recipient_text`)."""
        return recipient_text(self.recipient, self.recipient_name, lang)

    def left(self, now: dt.datetime) -> dt.timedelta:
        """Time left until the deadline (negative when missed)."""
        return self.due_at - utc(now)

    def elapsed(self, now: dt.datetime) -> float:
        """Fraction of the allowed time used at ``now``."""
        total = (self.due_at - self.starts_at).total_seconds()
        return (utc(now) - self.starts_at).total_seconds() / total if total > 0 else 1.0

    def to_json(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Machine form; with ``now`` also the seconds left."""
        out: dict[str, Any] = {
            "id": self.id,
            "incident": self.incident_id,
            "rule": self.rule,
            "regime": self.regime,
            "kind": self.kind,
            "recipient": self.recipient,
            "recipient_name": self.recipient_name,
            # the addressee as each language names it (recipient_text)
            "recipient_shown": {lang: self.recipient_in(lang) for lang in ("zh-CN", "en")},
            "starts_at": self.starts_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "hours": self.hours,
            "legal_clock": self.legal_clock,
            "source": self.source,
            "verified": self.verified,
            "status": self.status,
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "met_by": self.met_by,
            "waiver": self.waiver,
            "reminded_at": self.reminded_at.isoformat() if self.reminded_at else None,
            "escalated_at": self.escalated_at.isoformat() if self.escalated_at else None,
        }
        out["period"] = self.period.to_json() if self.period is not None else None
        if now is not None:
            out["seconds_left"] = int(self.left(now).total_seconds())
            out["days_left"] = self.period.days_left(now) if self.period is not None else None
        return out

    def due_text(self, timezone: str) -> str:
        """The deadline as a person reads it: ``2026-04-01 24:00`` for a clock in days (the
        last day and its end, 24:00 or when the recipient's business hours end, 民法典
        第二百零三条第二款), else local minute in ``timezone``."""
        if self.period is not None:
            return f"{self.period.last_day.isoformat()} {self.period.ends}"
        from zoneinfo import ZoneInfo

        return self.due_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")

    def time_left(self, now: dt.datetime) -> Msg:
        """How the clock stands at ``now``: hours and minutes left (or over) for an hours
        clock; for a clock in days the days left, the hours and minutes on its last day,
        the days over once missed."""
        seconds = int(self.left(now).total_seconds())
        if self.period is None:
            h, m = divmod(abs(seconds) // 60, 60)
            return Msg("incidents.cli.left" if seconds >= 0 else "incidents.cli.overdue", h=h, m=m)
        n = self.period.days_left(now)
        if seconds <= 0 and n >= 0:  # the last day, after the recipient's business hours
            h, m = divmod(-seconds // 60, 60)
            return Msg("incidents.cli.overdue", h=h, m=m)
        if seconds <= 0:  # at 24:00 of the last day the period has ended (tick escalates)
            return Msg("incidents.clock.day_over" if n == -1 else "incidents.clock.days_over", n=-n)
        if n <= 0:
            h, m = divmod(seconds // 60, 60)
            return Msg("incidents.clock.last_day", h=h, m=m, ends=self.period.ends)
        return Msg("incidents.clock.day_left" if n == 1 else "incidents.clock.days_left", n=n)

    def extended(self) -> Msg | None:
        """Why a clock in days ends later than its days say: its last day fell on a listed
        statutory holiday (民法典 第二百零三条第一款); None otherwise."""
        if self.period is None or self.period.holiday is None:
            return None
        first, last = self.period.holiday
        return Msg(
            "incidents.clock.extended",
            first=first.isoformat(),
            last=last.isoformat(),
            day=self.period.last_day.isoformat(),
        )

    def business_hours(self) -> Msg | None:
        """Why a clock in days ends before 24:00 of its last day: the recipient's business
        hours end then (民法典 第二百零三条第二款); None otherwise."""
        if self.period is None or self.period.closes is None:
            return None
        return Msg("incidents.clock.business_hours", ends=self.period.ends)


@dataclass(frozen=True)
class Report:
    """A filed report and the SHA-256 of each of its files."""

    id: int
    incident_id: int
    kind: str
    number: int
    filed_at: dt.datetime
    filed_by: str
    folder: str
    files: dict[str, str]
    obligations: list[int]

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "incident": self.incident_id,
            "kind": self.kind,
            "number": self.number,
            "filed_at": self.filed_at.isoformat(),
            "filed_by": self.filed_by,
            "folder": self.folder,
            "files": self.files,
            "obligations": self.obligations,
        }


@dataclass(frozen=True)
class FollowUp:
    """A follow-up action with its owner and due date."""

    id: int
    incident_id: int
    what: str
    owner: str
    due_on: dt.date
    done_at: dt.datetime | None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "incident": self.incident_id,
            "what": self.what,
            "owner": self.owner,
            "due_on": self.due_on.isoformat(),
            "done_at": self.done_at.isoformat() if self.done_at else None,
        }


@dataclass
class Incident:
    """An incident with its duties, filed reports and follow-up actions."""

    id: int
    event_id: int
    title: str
    category: str
    aware_at: dt.datetime
    promoted_at: dt.datetime
    promoted_by: str
    operator_kind: str
    grade: str
    grade_basis: dict[str, Any]
    people_affected: int | None
    affected: dict[str, Any]
    direct_loss_cny: int | None
    suspected_crime: bool
    personal_information: bool
    lead: str
    facts: dict[str, str]
    status: str
    handled_at: dt.datetime | None
    closed_at: dt.datetime | None
    review: dict[str, Any] | None
    drill_id: int | None
    obligations: list[Obligation] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    actions: list[FollowUp] = field(default_factory=list)

    @property
    def drill(self) -> bool:
        """Whether this incident is a drill (nothing is ever sent for it)."""
        return self.drill_id is not None

    def to_json(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "event": self.event_id,
            "title": self.title,
            "category": self.category,
            "aware_at": self.aware_at.isoformat(),
            "promoted_at": self.promoted_at.isoformat(),
            "promoted_by": self.promoted_by,
            "operator_kind": self.operator_kind,
            "grade": self.grade,
            "grade_basis": self.grade_basis,
            "people_affected": self.people_affected,
            "affected": self.affected,
            "direct_loss_cny": self.direct_loss_cny,
            "suspected_crime": self.suspected_crime,
            "personal_information": self.personal_information,
            "lead": self.lead,
            "facts": self.facts,
            "status": self.status,
            "handled_at": self.handled_at.isoformat() if self.handled_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "review": self.review,
            "drill": self.drill,
            "obligations": [o.to_json(now) for o in self.obligations],
            "reports": [r.to_json() for r in self.reports],
            "actions": [a.to_json() for a in self.actions],
        }


def event_of(row: SecurityEventRow) -> SecurityEvent:
    return SecurityEvent(
        row.id,
        row.title,
        row.description,
        utc(row.noticed_at),
        row.noticed_by,
        row.reported_by,
        list(row.systems),
        list(row.data),
        row.source,
        row.status,
        row.drill_id,
    )


def opt_utc(value: dt.datetime | None) -> dt.datetime | None:
    return utc(value) if value is not None else None


def day_clocks(ws: Workspace) -> DayClocks:
    """How the workspace's duties in days are read back (:class:`DayClocks`). A rules file
    that cannot be read only costs the reading in days: the duties still show, their
    clocks in hours and minutes, and every step that creates duties refuses that file."""
    try:
        rules = rules_file(ws)  # settings a step that creates duties refuses still read
    except BadInput:
        return DayClocks(ws.settings.incidents.timezone)
    return DayClocks.of(rules, ws.settings.incidents)


def obligation_of(row: ObligationRow, clocks: DayClocks | None = None) -> Obligation:
    starts_at, due_at = utc(row.starts_at), utc(row.due_at)
    return Obligation(
        row.id,
        row.incident_id,
        row.rule,
        row.regime,
        row.kind,
        row.recipient,
        row.recipient_name,
        starts_at,
        due_at,
        row.hours,
        row.legal_clock,
        row.source,
        row.verified,
        row.status,
        opt_utc(row.met_at),
        row.met_by,
        row.waiver,
        opt_utc(row.reminded_at),
        opt_utc(row.escalated_at),
        clocks.period(row.rule, starts_at, due_at) if clocks is not None else None,
    )


def report_of(row: ReportRow) -> Report:
    return Report(
        row.id,
        row.incident_id,
        row.kind,
        row.number,
        utc(row.filed_at),
        row.filed_by,
        row.folder,
        dict(row.files),
        list(row.obligations),
    )


def load_incident(s: Session, row: IncidentRow, clocks: DayClocks | None = None) -> Incident:
    """The incident of ``row`` with its duties (read in days through ``clocks``), reports
    and follow-up actions."""
    inc = Incident(
        row.id,
        row.event_id,
        row.title,
        row.category,
        utc(row.aware_at),
        utc(row.promoted_at),
        row.promoted_by,
        row.operator_kind,
        row.grade,
        dict(row.grade_basis),
        row.people_affected,
        dict(row.affected),
        row.direct_loss_cny,
        row.suspected_crime,
        row.personal_information,
        row.lead,
        dict(row.facts),
        row.status,
        opt_utc(row.handled_at),
        opt_utc(row.closed_at),
        row.review,
        row.drill_id,
    )
    inc.obligations = [
        obligation_of(o, clocks)
        for o in s.scalars(
            select(ObligationRow)
            .where(ObligationRow.incident_id == row.id)
            .order_by(ObligationRow.due_at, ObligationRow.id)
        )
    ]
    inc.reports = [
        report_of(r)
        for r in s.scalars(
            select(ReportRow).where(ReportRow.incident_id == row.id).order_by(ReportRow.id)
        )
    ]
    inc.actions = [
        FollowUp(a.id, a.incident_id, a.what, a.owner, a.due_on, opt_utc(a.done_at))
        for a in s.scalars(
            select(ActionRow).where(ActionRow.incident_id == row.id).order_by(ActionRow.id)
        )
    ]
    return inc


def incident_row(s: Session, incident_id: int, *, for_update: bool = False) -> IncidentRow:
    row = s.get(IncidentRow, incident_id, with_for_update=for_update)
    if row is None:
        raise BadInput.msg("incidents.no_incident", id=incident_id)
    return row


def open_row(s: Session, incident_id: int) -> IncidentRow:
    """The incident, refused when it is closed: a closed incident changes no more."""
    row = incident_row(s, incident_id, for_update=True)
    if row.status == "closed":
        raise BadInput.msg("incidents.closed", id=incident_id)
    return row


def get_incident(ws: Workspace, incident_id: int) -> Incident:
    """The incident ``incident_id`` with its duties, reports and actions."""
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        return load_incident(s, incident_row(s, incident_id), clocks)


def list_incidents(ws: Workspace, *, status: str | None = None) -> list[Incident]:
    """Every incident (in ``status``), newest first."""
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        stmt = select(IncidentRow).order_by(IncidentRow.id.desc())
        if status is not None:
            stmt = stmt.where(IncidentRow.status == status)
        return [load_incident(s, r, clocks) for r in s.scalars(stmt)]


def get_event(ws: Workspace, event_id: int) -> SecurityEvent:
    """The security event ``event_id``."""
    with ws.store.session() as s:
        row = s.get(SecurityEventRow, event_id)
        if row is None:
            raise BadInput.msg("incidents.no_event", id=event_id)
        return event_of(row)


def list_events(ws: Workspace, *, status: str | None = None) -> list[SecurityEvent]:
    """Every security event (in ``status``), newest first."""
    with ws.store.session() as s:
        stmt = select(SecurityEventRow).order_by(SecurityEventRow.id.desc())
        if status is not None:
            stmt = stmt.where(SecurityEventRow.status == status)
        return [event_of(r) for r in s.scalars(stmt)]
