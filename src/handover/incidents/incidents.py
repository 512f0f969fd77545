"""Events, incidents, grades, obligations with legal clocks, reminders and escalations.

The kernel of ``handover incidents``: it keeps the incident tables and reports every
change through the event sink the flow hands it (the ledger, under the deciding person's
name). Time is always injected: ``clock`` gives "now"; nothing reads the wall clock.

The clock of a duty starts at awareness (``aware_at``, 发现或获知) or, for the summary
report, at the end of handling (``handled_at``); its deadline comes from the rules file
(:mod:`handover.incidents.rules`) or, for duties the law says are due "immediately"
(立即), from the workspace's internal target ``immediately_hours``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover.errors import BadInput
from handover.events import EventSink
from handover.incidents.affected import Affected, affected_people, check_items
from handover.incidents.alerts import AlertStats, MailPlan
from handover.incidents.alerts import queue as queue_alerts
from handover.incidents.models import (
    ActionRow,
    IncidentRow,
    ObligationRow,
    ReportRow,
    SecurityEventRow,
)
from handover.incidents.rules import GRADES, ObligationRule, Rules, due_at

if TYPE_CHECKING:
    from handover.settings import IncidentSettings
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
REMIND_AT = 0.8
PURPOSE = "incident response"
#: recipients whose name comes from the workspace settings
RECIPIENT_SETTING = {
    "provincial_cac": "provincial_cac",
    "pi_regulator": "pi_regulator",
    "sector_regulator": "sector_regulator",
}


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as aware UTC (SQLite hands stored times back naive, in UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _now(clock: Clock) -> dt.datetime:
    return utc(clock())


def _past(value: dt.datetime, field_name: str, now: dt.datetime) -> dt.datetime:
    """``value`` as aware UTC, refused when naive or later than ``now``."""
    if value.tzinfo is None:
        raise BadInput.msg("incidents.naive_time", field=field_name)
    value = utc(value)
    if value > now:
        raise BadInput.msg(
            "incidents.future",
            field=field_name,
            value=value.isoformat(timespec="minutes"),
            now=now.isoformat(timespec="minutes"),
        )
    return value


def not_future(value: dt.datetime | None, field_name: str, clock: Clock) -> dt.datetime | None:
    """``value`` as aware UTC; BadInput when naive or later than the clock's now. Flows
    call it before authorising, so refused input leaves even the ledger untouched."""
    return None if value is None else _past(value, field_name, _now(clock))


def _text(value: str, field_name: str, limit: int = 300) -> str:
    value = (value or "").strip()
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
        if now is not None:
            out["seconds_left"] = int(self.left(now).total_seconds())
        return out


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


def _event(row: SecurityEventRow) -> SecurityEvent:
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


def _opt(value: dt.datetime | None) -> dt.datetime | None:
    return utc(value) if value is not None else None


def _obligation(row: ObligationRow) -> Obligation:
    return Obligation(
        row.id,
        row.incident_id,
        row.rule,
        row.regime,
        row.kind,
        row.recipient,
        row.recipient_name,
        utc(row.starts_at),
        utc(row.due_at),
        row.hours,
        row.legal_clock,
        row.source,
        row.verified,
        row.status,
        _opt(row.met_at),
        row.met_by,
        row.waiver,
        _opt(row.reminded_at),
        _opt(row.escalated_at),
    )


def _report(row: ReportRow) -> Report:
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


def _load(s: Session, row: IncidentRow) -> Incident:
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
        _opt(row.handled_at),
        _opt(row.closed_at),
        row.review,
        row.drill_id,
    )
    inc.obligations = [
        _obligation(o)
        for o in s.scalars(
            select(ObligationRow)
            .where(ObligationRow.incident_id == row.id)
            .order_by(ObligationRow.due_at, ObligationRow.id)
        )
    ]
    inc.reports = [
        _report(r)
        for r in s.scalars(
            select(ReportRow).where(ReportRow.incident_id == row.id).order_by(ReportRow.id)
        )
    ]
    inc.actions = [
        FollowUp(a.id, a.incident_id, a.what, a.owner, a.due_on, _opt(a.done_at))
        for a in s.scalars(
            select(ActionRow).where(ActionRow.incident_id == row.id).order_by(ActionRow.id)
        )
    ]
    return inc


def _incident_row(s: Session, incident_id: int, *, for_update: bool = False) -> IncidentRow:
    row = s.get(IncidentRow, incident_id, with_for_update=for_update)
    if row is None:
        raise BadInput.msg("incidents.no_incident", id=incident_id)
    return row


def _open_row(s: Session, incident_id: int) -> IncidentRow:
    """The incident, refused when it is closed: a closed incident changes no more."""
    row = _incident_row(s, incident_id, for_update=True)
    if row.status == "closed":
        raise BadInput.msg("incidents.closed", id=incident_id)
    return row


def get_incident(ws: Workspace, incident_id: int) -> Incident:
    """The incident ``incident_id`` with its duties, reports and actions."""
    with ws.store.session() as s:
        return _load(s, _incident_row(s, incident_id))


def list_incidents(ws: Workspace, *, status: str | None = None) -> list[Incident]:
    """Every incident (in ``status``), newest first."""
    with ws.store.session() as s:
        stmt = select(IncidentRow).order_by(IncidentRow.id.desc())
        if status is not None:
            stmt = stmt.where(IncidentRow.status == status)
        return [_load(s, r) for r in s.scalars(stmt)]


def get_event(ws: Workspace, event_id: int) -> SecurityEvent:
    """The security event ``event_id``."""
    with ws.store.session() as s:
        row = s.get(SecurityEventRow, event_id)
        if row is None:
            raise BadInput.msg("incidents.no_event", id=event_id)
        return _event(row)


def list_events(ws: Workspace, *, status: str | None = None) -> list[SecurityEvent]:
    """Every security event (in ``status``), newest first."""
    with ws.store.session() as s:
        stmt = select(SecurityEventRow).order_by(SecurityEventRow.id.desc())
        if status is not None:
            stmt = stmt.where(SecurityEventRow.status == status)
        return [_event(r) for r in s.scalars(stmt)]


# --- events ----------------------------------------------------------------------------------


def record_event(
    ws: Workspace,
    title: str,
    *,
    noticed_at: dt.datetime,
    noticed_by: str,
    reported_by: str,
    events: EventSink,
    clock: Clock,
    description: str = "",
    systems: Sequence[str] = (),
    data: Sequence[str] = (),
    source: str = "manual",
    warning_key: str | None = None,
    drill_id: int | None = None,
) -> SecurityEvent:
    """Record a security event noticed at ``noticed_at`` (not later than now) by
    ``noticed_by``; records ``incident.event.record``. ``warning_key`` makes an
    early-warning finding open its event once."""
    now = _now(clock)
    title = _text(title, "title")
    noticed = _past(noticed_at, "noticed_at", now)
    items = check_items(data)
    sys_list = [x.strip() for x in systems if x.strip()]
    with ws.store.session() as s:
        if warning_key is not None:
            old = s.scalars(
                select(SecurityEventRow).where(SecurityEventRow.warning_key == warning_key)
            ).first()
            if old is not None:
                return _event(old)
        row = SecurityEventRow(
            title=title,
            description=(description or "").strip(),
            noticed_at=noticed,
            noticed_by=_text(noticed_by, "noticed_by", 200),
            reported_by=reported_by,
            reported_at=now,
            systems=sys_list,
            data=items,
            source=source,
            warning_key=warning_key,
            status="open",
            drill_id=drill_id,
        )
        s.add(row)
        s.flush()
        ev = _event(row)
    events(
        "incident.event.record",
        f"event {ev.id}",
        PURPOSE,
        {
            "event": ev.id,
            "at": now.isoformat(),
            "title": ev.title,
            "noticed_at": ev.noticed_at.isoformat(),
            "noticed_by": ev.noticed_by,
            "systems": ev.systems,
            "data": ev.data,
            "source": source,
            "drill": drill_id is not None,
        },
    )
    return ev


def dismiss_event(
    ws: Workspace, event_id: int, *, reason: str, decided_by: str, events: EventSink, clock: Clock
) -> SecurityEvent:
    """Decide that event ``event_id`` is no incident, with the reason (``incident.event.dismiss``)."""
    now = _now(clock)
    reason = _text(reason, "reason", 2000)
    with ws.store.session() as s:
        row = s.get(SecurityEventRow, event_id, with_for_update=True)
        if row is None:
            raise BadInput.msg("incidents.no_event", id=event_id)
        if row.status != "open":
            raise BadInput.msg("incidents.event_not_open", id=event_id, status=row.status)
        row.status = "dismissed"
        row.decision = {
            "decision": "dismiss",
            "by": decided_by,
            "at": now.isoformat(),
            "reason": reason,
        }
        ev = _event(row)
    events(
        "incident.event.dismiss",
        f"event {event_id}",
        PURPOSE,
        {"event": event_id, "at": now.isoformat(), "reason": reason},
    )
    return ev


# --- obligations -----------------------------------------------------------------------------


def _clock_of(rule: ObligationRule, conf: IncidentSettings) -> tuple[float, bool]:
    """(hours, legal_clock) of a duty: the rule's figure, the sector's configured figure,
    or the internal target for 立即."""
    if rule.hours is not None:
        return rule.hours, True
    if rule.hours_from == "sector_hours":
        if conf.sector_hours is None or conf.sector_hours <= 0:
            raise BadInput.msg("incidents.sector_hours", regulator=conf.sector_regulator or "-")
        return float(conf.sector_hours), True
    return float(conf.immediately_hours), False


def _condition(rule: ObligationRule, row: IncidentRow, conf: IncidentSettings) -> bool:
    if rule.when == "personal_information":
        return row.personal_information
    if rule.when == "suspected_crime":
        return row.suspected_crime
    if rule.when == "sector_configured":
        return bool(conf.sector_regulator) and row.grade in conf.sector_grades
    return True


def _recipient_name(recipient: str, conf: IncidentSettings, drill: bool) -> str:
    from handover.i18n import t

    setting = RECIPIENT_SETTING.get(recipient)
    name = str(getattr(conf, setting) or "") if setting else ""
    if not name:
        name = t(f"incidents.recipient.{recipient}", "zh-CN")
    # A drill's duties never name a real addressee without saying it is a drill.
    return f"[演练 DRILL] {name}" if drill else name


def _add_obligations(
    s: Session,
    row: IncidentRow,
    rules: Rules,
    conf: IncidentSettings,
    starts: str,
    start_at: dt.datetime,
) -> list[ObligationRow]:
    """Create the duties of ``row`` whose clock starts at ``starts`` and that it lacks."""
    have = set(s.scalars(select(ObligationRow.rule).where(ObligationRow.incident_id == row.id)))
    added: list[ObligationRow] = []
    for rule in rules.obligations:
        if rule.starts != starts or rule.id in have:
            continue
        if not rule.applies(row.grade, row.operator_kind) or not _condition(rule, row, conf):
            continue
        hours, legal = _clock_of(rule, conf)
        ob = ObligationRow(
            incident_id=row.id,
            rule=rule.id,
            regime=rule.regime,
            kind=rule.kind,
            recipient=rule.recipient,
            recipient_name=_recipient_name(rule.recipient, conf, row.drill_id is not None),
            starts_at=start_at,
            due_at=due_at(start_at, hours),
            hours=hours,
            legal_clock=legal,
            source=rule.source,
            verified=rule.verified,
            status="open",
        )
        s.add(ob)
        added.append(ob)
    s.flush()
    return added


def _brief(obs: Sequence[ObligationRow]) -> list[dict[str, Any]]:
    return [
        {
            "obligation": o.id,
            "rule": o.rule,
            "regime": o.regime,
            "kind": o.kind,
            "recipient": o.recipient,
            "due_at": utc(o.due_at).isoformat(),
            "hours": o.hours,
            "legal_clock": o.legal_clock,
        }
        for o in obs
    ]


# --- promotion and grading -----------------------------------------------------------------


@dataclass(frozen=True)
class GradeDecision:
    """The grade the rules give, the grade decided, and why: the quantitative criteria
    met (``criteria``) and the qualitative ones a person judged met (``judged``)."""

    computed: str
    grade: str
    criteria: list[dict[str, Any]]
    reason: str | None
    judged: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Machine form (stored as the incident's grade basis)."""
        return {
            "computed": self.computed,
            "grade": self.grade,
            "criteria": self.criteria,
            "reason": self.reason,
            "judged": self.judged,
        }


def judge(
    rules: Rules,
    criteria: Sequence[str],
    *,
    reason: str | None,
    by: str,
    at: dt.datetime,
) -> list[dict[str, Any]]:
    """The qualitative criteria ``criteria`` (ids of the rules file) as judged met by
    ``by`` at ``at`` for ``reason`` (needed): each with its text and legal source."""
    ids = list(dict.fromkeys(c.strip() for c in criteria if c.strip()))
    if not ids:
        return []
    why = (reason or "").strip()
    if not why:
        raise BadInput.msg("incidents.criterion_reason", criteria=", ".join(ids))
    return [
        {**rules.criterion(c).to_json(), "by": by, "at": at.isoformat(), "reason": why[:2000]}
        for c in ids
    ]


def decide_grade(
    rules: Rules,
    people: int | None,
    direct_loss_cny: int | None,
    grade: str | None = None,
    reason: str | None = None,
    judged: Sequence[dict[str, Any]] = (),
) -> GradeDecision:
    """The rules' grade: the highest of the quantitative criteria the counts meet and the
    qualitative criteria a person judged met (:func:`judge`); a person may decide a
    higher grade still with a reason, never a lower one."""
    quantitative, met = rules.grade_for(
        {"people_affected": people, "direct_loss_cny": direct_loss_cny}
    )
    computed = max([quantitative, *(j["grade"] for j in judged)], key=GRADES.index)
    criteria = [
        {
            "grade": g.grade,
            "metric": g.metric,
            "min": g.min,
            "source": g.source,
            "verified": g.verified,
        }
        for g in met
    ]
    judged = list(judged)
    if grade is None:
        return GradeDecision(computed, computed, criteria, None, judged)
    if grade not in GRADES:
        raise BadInput.msg("incidents.bad_grade", grade=grade, grades=", ".join(GRADES))
    if GRADES.index(grade) < GRADES.index(computed):
        raise BadInput.msg("incidents.grade_lower", grade=grade, computed=computed)
    if grade != computed and not (reason or "").strip():
        raise BadInput.msg("incidents.grade_reason", grade=grade, computed=computed)
    return GradeDecision(computed, grade, criteria, (reason or "").strip() or None, judged)


@dataclass
class Promotion:
    """What :func:`promote` decided: the incident, its grade and the affected count."""

    incident: Incident
    grade: GradeDecision
    affected: Affected


def promote(
    ws: Workspace,
    event_id: int,
    *,
    decided_by: str,
    reason: str,
    rules: Rules,
    conf: IncidentSettings,
    inventory: dict[str, Any] | None,
    events: EventSink,
    clock: Clock,
    aware_at: dt.datetime | None = None,
    category: str = "data_leak",
    lead: str | None = None,
    grade: str | None = None,
    grade_reason: str | None = None,
    people: int | None = None,
    people_reason: str | None = None,
    direct_loss_cny: int | None = None,
    suspected_crime: bool = False,
    criteria: Sequence[str] = (),
    criteria_reason: str | None = None,
) -> Promotion:
    """Promote event ``event_id`` to an incident by ``decided_by``'s recorded decision.

    The clock starts at ``aware_at`` (default: when the event was noticed; never later
    than now). The affected people are counted from ``inventory`` for the tables and
    columns the event names, unless ``people`` is given with ``people_reason``; the grade
    follows the rules (:func:`decide_grade`); one duty is created per (regime, recipient)
    the rules give for the grade. Records ``incident.promote``.
    """
    now = _now(clock)
    reason = _text(reason, "reason", 2000)
    if category not in CATEGORIES:
        raise BadInput.msg(
            "incidents.bad_category", category=category, categories=", ".join(CATEGORIES)
        )
    if people is not None and (people < 0 or not (people_reason or "").strip()):
        raise BadInput.msg("incidents.people_reason")
    if direct_loss_cny is not None and direct_loss_cny < 0:
        raise BadInput.msg("incidents.bad_loss", value=direct_loss_cny)
    judged = judge(rules, criteria, reason=criteria_reason, by=decided_by, at=now)
    with ws.store.session() as s:
        ev = s.get(SecurityEventRow, event_id, with_for_update=True)
        if ev is None:
            raise BadInput.msg("incidents.no_event", id=event_id)
        if ev.status != "open":
            raise BadInput.msg("incidents.event_not_open", id=event_id, status=ev.status)
        aware = _past(aware_at, "aware_at", now) if aware_at is not None else utc(ev.noticed_at)
        affected = affected_people(inventory, ev.data)
        count = people if people is not None else affected.people
        decision = decide_grade(rules, count, direct_loss_cny, grade, grade_reason, judged)
        affected_json = affected.to_json()
        if people is not None:
            affected_json["override"] = {"people": people, "reason": (people_reason or "").strip()}
        row = IncidentRow(
            event_id=ev.id,
            title=ev.title,
            category=category,
            aware_at=aware,
            promoted_at=now,
            promoted_by=decided_by,
            operator_kind=conf.operator_kind,
            grade=decision.grade,
            grade_basis=decision.to_json(),
            people_affected=count,
            affected=affected_json,
            direct_loss_cny=direct_loss_cny,
            suspected_crime=suspected_crime,
            personal_information=affected.personal_information or bool(people),
            lead=(lead or decided_by).strip(),
            facts={},
            status="open",
            drill_id=ev.drill_id,
        )
        s.add(row)
        s.flush()
        obs = _add_obligations(s, row, rules, conf, "aware", aware)
        ev.status = "promoted"
        ev.decision = {
            "decision": "promote",
            "by": decided_by,
            "at": now.isoformat(),
            "reason": reason,
            "incident": row.id,
        }
        inc = _load(s, row)
    events(
        "incident.promote",
        f"incident {inc.id}",
        PURPOSE,
        {
            "incident": inc.id,
            "event": event_id,
            "at": now.isoformat(),
            "reason": reason,
            "aware_at": inc.aware_at.isoformat(),
            "category": category,
            "lead": inc.lead,
            "operator_kind": inc.operator_kind,
            "grade": decision.to_json(),
            "people_affected": count,
            "affected": {k: v for k, v in affected_json.items() if k != "tables"},
            "tables": [t["table"] for t in affected.tables],
            "suspected_crime": suspected_crime,
            "personal_information": inc.personal_information,
            "obligations": _brief(obs),
            "rules": str(rules.path.name),
            "drill": inc.drill,
        },
    )
    return Promotion(inc, decision, affected)


def regrade(
    ws: Workspace,
    incident_id: int,
    *,
    decided_by: str,
    rules: Rules,
    conf: IncidentSettings,
    events: EventSink,
    clock: Clock,
    grade: str | None = None,
    reason: str | None = None,
    people: int | None = None,
    direct_loss_cny: int | None = None,
    criteria: Sequence[str] = (),
) -> Incident:
    """New facts (a count, a loss, qualitative ``criteria`` judged met for ``reason``) or
    a decided grade: the grade may only rise, and the duties a higher grade adds start at
    awareness like the others (``incident.grade``). Criteria judged earlier stay."""
    now = _now(clock)
    new = judge(rules, criteria, reason=reason, by=decided_by, at=now)
    with ws.store.session() as s:
        row = _open_row(s, incident_id)
        count = people if people is not None else row.people_affected
        loss = direct_loss_cny if direct_loss_cny is not None else row.direct_loss_cny
        before_judged = list((row.grade_basis or {}).get("judged") or [])
        known = {j["id"] for j in before_judged}
        judged = before_judged + [j for j in new if j["id"] not in known]
        decision = decide_grade(rules, count, loss, grade or None, reason, judged)
        if GRADES.index(decision.grade) < GRADES.index(row.grade):
            raise BadInput.msg("incidents.grade_lower", grade=decision.grade, computed=row.grade)
        if people is not None:
            if not (reason or "").strip():
                raise BadInput.msg("incidents.people_reason")
            row.affected = {**row.affected, "override": {"people": people, "reason": reason}}
            row.personal_information = row.personal_information or people > 0
        before = row.grade
        row.grade = decision.grade
        row.grade_basis = decision.to_json()
        row.people_affected = count
        row.direct_loss_cny = loss
        obs = _add_obligations(s, row, rules, conf, "aware", utc(row.aware_at))
        if row.status == "handled" and row.handled_at is not None:
            obs += _add_obligations(s, row, rules, conf, "handled", utc(row.handled_at))
        inc = _load(s, row)
    events(
        "incident.grade",
        f"incident {incident_id}",
        PURPOSE,
        {
            "incident": incident_id,
            "at": now.isoformat(),
            "from": before,
            "grade": decision.to_json(),
            "people_affected": count,
            "direct_loss_cny": loss,
            "obligations": _brief(obs),
        },
    )
    return inc


def set_facts(
    ws: Workspace,
    incident_id: int,
    updates: dict[str, str],
    *,
    events: EventSink,
    clock: Clock,
) -> Incident:
    """Set report facts (:data:`FACTS`) of an open incident (``incident.facts``)."""
    now = _now(clock)
    bad = next((k for k in updates if k not in FACTS), None)
    if bad is not None:
        raise BadInput.msg("incidents.bad_fact", key=bad, keys=", ".join(FACTS))
    clean = {k: _text(v, k, 4000) for k, v in updates.items()}
    if not clean:
        raise BadInput.msg("incidents.empty", field="facts")
    with ws.store.session() as s:
        row = _open_row(s, incident_id)
        row.facts = {**row.facts, **clean}
        inc = _load(s, row)
    events(
        "incident.facts",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "at": now.isoformat(), "facts": clean},
    )
    return inc


def decide_individuals(
    ws: Workspace,
    incident_id: int,
    *,
    notify: bool,
    reason: str,
    decided_by: str,
    events: EventSink,
    clock: Clock,
) -> Obligation:
    """PIPL Art. 57 ¶2: record that the individuals will not be told because the measures
    taken effectively avoid harm (the duty is waived, with the reason and who decided),
    or that they will be after all (``incident.individuals``)."""
    now = _now(clock)
    reason = _text(reason, "reason", 2000)
    with ws.store.session() as s:
        inc_row = _open_row(s, incident_id)
        if not notify and not (inc_row.facts or {}).get("measures"):
            # Art. 57 ¶2 rests the waiver on the measures taken: they must be on record.
            raise BadInput.msg("incidents.waiver_needs_measures", id=incident_id)
        row = s.scalars(
            select(ObligationRow).where(
                ObligationRow.incident_id == incident_id,
                ObligationRow.recipient == "individuals",
            )
        ).first()
        if row is None:
            raise BadInput.msg("incidents.no_individuals", id=incident_id)
        if row.status == "met":
            raise BadInput.msg("incidents.obligation_met", id=row.id)
        if notify:
            row.status, row.waiver = "open", None
        else:
            row.status = "waived"
            row.waiver = {"by": decided_by, "at": now.isoformat(), "reason": reason}
        ob = _obligation(row)
    events(
        "incident.individuals",
        f"incident {incident_id}",
        PURPOSE,
        {
            "incident": incident_id,
            "at": now.isoformat(),
            "notify": notify,
            "reason": reason,
            "obligation": ob.id,
            "basis": "个人信息保护法 第五十七条第二款",
        },
    )
    return ob


def mark_met(
    ws: Workspace,
    obligation_id: int,
    *,
    note: str,
    met_by: str,
    events: EventSink,
    clock: Clock,
    at: dt.datetime | None = None,
) -> Obligation:
    """Record that a duty was met outside handover (a call to 12387, a letter), at
    ``at`` (default now, never later), with a note (``incident.obligation.met``)."""
    now = _now(clock)
    note = _text(note, "note", 2000)
    when = _past(at, "at", now) if at is not None else now
    with ws.store.session() as s:
        row = s.get(ObligationRow, obligation_id, with_for_update=True)
        if row is None:
            raise BadInput.msg("incidents.no_obligation", id=obligation_id)
        _open_row(s, row.incident_id)
        if row.status != "open":
            raise BadInput.msg("incidents.obligation_not_open", id=obligation_id, status=row.status)
        row.status, row.met_at, row.met_by = "met", when, met_by
        ob = _obligation(row)
    _met(events, ob, when, note)
    return ob


def _met(events: EventSink, ob: Obligation, when: dt.datetime, note: str, **extra: Any) -> None:
    """Record that duty ``ob`` was met at ``when`` (``incident.obligation.met``)."""
    events(
        "incident.obligation.met",
        f"incident {ob.incident_id}",
        PURPOSE,
        {
            "incident": ob.incident_id,
            "obligation": ob.id,
            "rule": ob.rule,
            "at": when.isoformat(),
            "note": note,
            "late": when > ob.due_at,
            **extra,
        },
    )


def notice_campaign_done(
    ws: Workspace,
    incident_id: int,
    campaign_id: int,
    *,
    counts: dict[str, int],
    met_by: str,
    events: EventSink,
    clock: Clock,
) -> Obligation | None:
    """A breach campaign (PIPL Art. 57) of the incident has settled every notice: its
    duty to tell the individuals is met now when it is still open (not when it was
    waived or met), and the campaign's counts are recorded (``incident.notice.done``,
    and ``incident.obligation.met`` for the duty)."""
    now = _now(clock)
    ob: Obligation | None = None
    with ws.store.session() as s:
        row = _incident_row(s, incident_id, for_update=True)
        duty = s.scalars(
            select(ObligationRow).where(
                ObligationRow.incident_id == incident_id,
                ObligationRow.recipient == "individuals",
                ObligationRow.status == "open",
            )
        ).first()
        if duty is not None and row.status != "closed":
            duty.status, duty.met_at, duty.met_by = "met", now, met_by
            ob = _obligation(duty)
    events(
        "incident.notice.done",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "campaign": campaign_id, "at": now.isoformat(), **counts},
    )
    if ob is not None:
        _met(events, ob, now, f"notices campaign {campaign_id}", campaign=campaign_id)
    return ob


# --- clocks ----------------------------------------------------------------------------------


@dataclass
class Tick:
    """What one check of the clocks did: reminders (80 % used) and escalations (missed)."""

    at: dt.datetime
    reminded: list[Obligation] = field(default_factory=list)
    escalated: list[Obligation] = field(default_factory=list)
    #: e-mails queued for them (0 without ``[incidents.mail]``)
    mails: int = 0
    #: what sending the due e-mails did (None: no mail configured)
    sent: AlertStats | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "at": self.at.isoformat(),
            "reminded": [o.to_json(self.at) for o in self.reminded],
            "escalated": [o.to_json(self.at) for o in self.escalated],
            "mails_queued": self.mails,
            "mail": self.sent.to_json() if self.sent is not None else None,
        }


def tick(ws: Workspace, *, events: EventSink, clock: Clock, mail: MailPlan | None = None) -> Tick:
    """Check every open duty at now: a reminder once 80 % of its time is used
    (``incident.obligation.remind``), an escalation once its deadline passed
    (``incident.obligation.escalate``). Each is recorded once; reruns change nothing.
    With ``mail`` each is also queued as e-mails to the DPO and the people responsible
    in the same transaction (:mod:`handover.incidents.alerts`)."""
    now = _now(clock)
    out = Tick(now)
    with ws.store.session() as s:
        rows = s.scalars(
            select(ObligationRow)
            .join(IncidentRow, IncidentRow.id == ObligationRow.incident_id)
            .where(ObligationRow.status == "open", IncidentRow.status != "closed")
            .order_by(ObligationRow.due_at, ObligationRow.id)
            .with_for_update()
        ).all()
        owners = {
            i: (drill, lead)
            for i, drill, lead in s.execute(
                select(IncidentRow.id, IncidentRow.drill_id, IncidentRow.lead).where(
                    IncidentRow.id.in_({r.incident_id for r in rows})
                )
            ).all()
        }
        drills = {i: d for i, (d, _) in owners.items()}
        changed: dict[str, list[ObligationRow]] = {"remind": [], "escalate": []}
        for row in rows:
            ob = _obligation(row)
            if now >= ob.due_at:
                if row.escalated_at is None:
                    row.escalated_at = now
                    row.reminded_at = row.reminded_at or now
                    out.escalated.append(_obligation(row))
                    changed["escalate"].append(row)
            elif ob.elapsed(now) >= REMIND_AT and row.reminded_at is None:
                row.reminded_at = now
                out.reminded.append(_obligation(row))
                changed["remind"].append(row)
        if mail is not None:
            leads = {i: lead for i, (_, lead) in owners.items()}
            for kind, changed_rows in changed.items():
                out.mails += queue_alerts(s, changed_rows, kind, mail, leads, now)
    for action, obs in (
        ("incident.obligation.remind", out.reminded),
        ("incident.obligation.escalate", out.escalated),
    ):
        for ob in obs:
            events(
                action,
                f"incident {ob.incident_id}",
                PURPOSE,
                {
                    "incident": ob.incident_id,
                    "obligation": ob.id,
                    "rule": ob.rule,
                    "recipient": ob.recipient,
                    "due_at": ob.due_at.isoformat(),
                    "at": now.isoformat(),
                    "seconds_left": int(ob.left(now).total_seconds()),
                    "drill": drills.get(ob.incident_id) is not None,
                },
            )
    return out


@dataclass(frozen=True)
class OpenDuty:
    """An open duty with the incident it belongs to, as ``incidents status`` shows it."""

    incident_id: int
    title: str
    grade: str
    drill: bool
    obligation: Obligation

    def to_json(self, now: dt.datetime) -> dict[str, Any]:
        """Machine form."""
        return {
            "incident": self.incident_id,
            "title": self.title,
            "grade": self.grade,
            "drill": self.drill,
            **self.obligation.to_json(now),
        }


def open_duties(ws: Workspace) -> list[OpenDuty]:
    """Every open duty of an incident not closed, soonest deadline first."""
    with ws.store.session() as s:
        rows = s.execute(
            select(ObligationRow, IncidentRow.title, IncidentRow.grade, IncidentRow.drill_id)
            .join(IncidentRow, IncidentRow.id == ObligationRow.incident_id)
            .where(ObligationRow.status == "open", IncidentRow.status != "closed")
            .order_by(ObligationRow.due_at, ObligationRow.id)
        ).all()
        return [
            OpenDuty(o.incident_id, title, grade, drill is not None, _obligation(o))
            for o, title, grade, drill in rows
        ]


# --- handling, reports, follow-up, closing -----------------------------------------------------


def mark_handled(
    ws: Workspace,
    incident_id: int,
    *,
    rules: Rules,
    conf: IncidentSettings,
    events: EventSink,
    clock: Clock,
    at: dt.datetime | None = None,
) -> Incident:
    """Handling ended at ``at`` (default now; not before awareness, not in the future):
    the summary-report duties start (``incident.handled``)."""
    now = _now(clock)
    when = _past(at, "at", now) if at is not None else now
    with ws.store.session() as s:
        row = _open_row(s, incident_id)
        if row.status != "open":
            raise BadInput.msg("incidents.not_open", id=incident_id, status=row.status)
        if when < utc(row.aware_at):
            raise BadInput.msg(
                "incidents.before_aware", field="at", aware=utc(row.aware_at).isoformat()
            )
        row.status, row.handled_at = "handled", when
        obs = _add_obligations(s, row, rules, conf, "handled", when)
        inc = _load(s, row)
    events(
        "incident.handled",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "at": when.isoformat(), "obligations": _brief(obs)},
    )
    return inc


#: which open duties a filed report meets
MEETS: dict[str, tuple[str, ...]] = {
    "initial": ("initial",),
    "summary": ("summary",),
    "supplement": (),
}
REPORT_KINDS: tuple[str, ...] = ("initial", "supplement", "summary")


def check_report(inc: Incident, kind: str) -> int:
    """The number the next ``kind`` report of ``inc`` gets; refused for a closed incident,
    a supplement before the initial report, a summary before handling ended."""
    if kind not in REPORT_KINDS:
        raise BadInput.msg("incidents.bad_report_kind", kind=kind, kinds=", ".join(REPORT_KINDS))
    if inc.status == "closed":
        raise BadInput.msg("incidents.closed", id=inc.id)
    if kind == "supplement" and not any(r.kind == "initial" for r in inc.reports):
        raise BadInput.msg("incidents.no_initial", id=inc.id)
    if kind == "summary" and inc.status != "handled":
        raise BadInput.msg("incidents.not_handled", id=inc.id)
    return 1 + sum(r.kind == kind for r in inc.reports)


def register_report(
    ws: Workspace,
    incident_id: int,
    kind: str,
    *,
    folder: str,
    files: dict[str, str],
    filed_by: str,
    events: EventSink,
    clock: Clock,
) -> Report:
    """Record a report written to ``folder`` (``files``: name -> SHA-256) as submitted now,
    and the duties it meets: an initial report the open initial duties (not the police
    report of a suspected crime) and the Art. 57 notice to the department, a summary the
    summary duties (``incident.report.file``)."""
    now = _now(clock)
    with ws.store.session() as s:
        row = _open_row(s, incident_id)
        number = check_report(_load(s, row), kind)
        rep = ReportRow(
            incident_id=incident_id,
            kind=kind,
            number=number,
            filed_at=now,
            filed_by=filed_by,
            folder=folder,
            files=files,
            obligations=[],
        )
        s.add(rep)
        s.flush()
        met: list[ObligationRow] = []
        for ob in s.scalars(
            select(ObligationRow).where(
                ObligationRow.incident_id == incident_id, ObligationRow.status == "open"
            )
        ):
            # Reporting a suspected crime to the police (报案) is its own act, never met by
            # a report filed with the regulators.
            meets = (ob.kind in MEETS[kind] and ob.regime != "police") or (
                kind == "initial" and ob.recipient == "pi_regulator"
            )
            if meets:
                ob.status, ob.met_at, ob.met_by, ob.report_id = "met", now, filed_by, rep.id
                met.append(ob)
        rep.obligations = [o.id for o in met]
        report = _report(rep)
    events(
        "incident.report.file",
        f"incident {incident_id}",
        PURPOSE,
        {
            "incident": incident_id,
            "report": report.id,
            "kind": kind,
            "number": number,
            "at": now.isoformat(),
            "folder": folder,
            "sha256": files,
            "obligations": [
                {"obligation": o.id, "rule": o.rule, "late": now > utc(o.due_at)} for o in met
            ],
        },
    )
    return report


def add_action(
    ws: Workspace,
    incident_id: int,
    what: str,
    *,
    owner: str,
    due_on: dt.date,
    events: EventSink,
    clock: Clock,
) -> FollowUp:
    """A follow-up action for ``owner`` due on ``due_on`` (``incident.action.add``)."""
    now = _now(clock)
    what = _text(what, "what", 2000)
    owner = _text(owner, "owner", 200)
    with ws.store.session() as s:
        _open_row(s, incident_id)
        row = ActionRow(
            incident_id=incident_id, what=what, owner=owner, due_on=due_on, created_at=now
        )
        s.add(row)
        s.flush()
        action = FollowUp(row.id, incident_id, what, owner, due_on, None)
    events(
        "incident.action.add",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "action": action.id, "at": now.isoformat(), **action.to_json()},
    )
    return action


def finish_action(ws: Workspace, action_id: int, *, events: EventSink, clock: Clock) -> FollowUp:
    """Mark follow-up action ``action_id`` done (``incident.action.done``)."""
    now = _now(clock)
    with ws.store.session() as s:
        row = s.get(ActionRow, action_id, with_for_update=True)
        if row is None:
            raise BadInput.msg("incidents.no_action", id=action_id)
        if row.done_at is not None:
            raise BadInput.msg("incidents.action_done", id=action_id)
        row.done_at = now
        action = FollowUp(row.id, row.incident_id, row.what, row.owner, row.due_on, now)
    events(
        "incident.action.done",
        f"incident {action.incident_id}",
        PURPOSE,
        {"incident": action.incident_id, "action": action_id, "at": now.isoformat()},
    )
    return action


def close(
    ws: Workspace,
    incident_id: int,
    *,
    root_cause: str,
    lessons: str,
    closed_by: str,
    events: EventSink,
    clock: Clock,
) -> Incident:
    """Close a handled incident with its review (root cause, lessons); refused while a
    duty is open (``incident.close``)."""
    now = _now(clock)
    review = {
        "root_cause": _text(root_cause, "root_cause", 4000),
        "lessons": _text(lessons, "lessons", 4000),
        "by": closed_by,
        "at": now.isoformat(),
    }
    with ws.store.session() as s:
        row = _open_row(s, incident_id)
        if row.status != "handled":
            raise BadInput.msg("incidents.not_handled", id=incident_id)
        pending = s.scalars(
            select(ObligationRow).where(
                ObligationRow.incident_id == incident_id, ObligationRow.status == "open"
            )
        ).first()
        if pending is not None:
            raise BadInput.msg(
                "incidents.open_duty", id=incident_id, obligation=pending.id, rule=pending.rule
            )
        row.status, row.closed_at, row.review = "closed", now, review
        inc = _load(s, row)
    open_actions = [a.id for a in inc.actions if a.done_at is None]
    events(
        "incident.close",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "at": now.isoformat(), **review, "open_actions": open_actions},
    )
    return inc
