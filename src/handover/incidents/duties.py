"""Duties with legal clocks: which (regime, recipient) duties an incident gets, their
deadlines, reminders at 80 % and escalations once missed, duties met, waived (PIPL
Art. 57 ¶2) or met by a breach campaign, and the open duties of every incident. The
clock of a duty starts at awareness (发现或获知) or, for the summary report, at the end
of handling; its deadline comes from the rules file (hours from the start, or whole local
days ending at 24:00, 民法典 第二百零一条、第二百零三条, moved off a listed statutory holiday
by 第二百零三条第一款, ending when the recipient's business hours end where the workspace
gives them, 第二百零三条第二款) or, for duties due "immediately" (立即), from the workspace's
internal target ``immediately_hours``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover.errors import BadInput
from handover.events import EventSink
from handover.incidents.alerts import AlertStats, MailPlan
from handover.incidents.alerts import queue as queue_alerts
from handover.incidents.models import (
    IncidentRow,
    ObligationRow,
)
from handover.incidents.records import (
    DRILL_MARK,
    PURPOSE,
    Clock,
    Obligation,
    checked_text,
    day_clocks,
    incident_row,
    now_utc,
    obligation_of,
    open_row,
    past,
    status_of,
    utc,
    zoned,
)
from handover.incidents.rules import (
    BUSINESS_HOURS_BASIS,
    BUSINESS_HOURS_TEXT,
    HOLIDAY_BASIS,
    DayClocks,
    DayPeriod,
    ObligationRule,
    Rules,
    day_period,
    due_at,
)

if TYPE_CHECKING:
    from handover.settings import IncidentSettings
    from handover.workspace import Workspace

REMIND_AT = 0.8
#: recipients whose name comes from the workspace settings
RECIPIENT_SETTING = {
    "provincial_cac": "provincial_cac",
    "pi_regulator": "pi_regulator",
    "sector_regulator": "sector_regulator",
}


def _clock_of(rule: ObligationRule, conf: IncidentSettings) -> tuple[float, bool]:
    """(hours, legal_clock) of an hours clock: the rule's figure, the sector's configured
    figure, or the internal target for 立即."""
    if rule.hours is not None:
        return rule.hours, True
    if rule.hours_from == "sector_hours":
        if conf.sector_hours is None or conf.sector_hours <= 0:
            raise BadInput.msg("incidents.sector_hours", regulator=conf.sector_regulator or "-")
        return float(conf.sector_hours), True
    return float(conf.immediately_hours), False


def period_of(
    rule: ObligationRule, conf: IncidentSettings, start_at: dt.datetime
) -> DayPeriod | None:
    """The period of a duty of ``rule`` counted in days from ``start_at``, in ``[incidents]
    timezone``, moved off the listed ``holidays`` and ending when its recipient's
    ``business_hours_end``; None for an hours clock."""
    if rule.days is None:
        return None
    closes = conf.business_closes().get(rule.recipient)
    return day_period(start_at, rule.days, conf.timezone, conf.holiday_dates(), closes)


def deadline(
    rule: ObligationRule, conf: IncidentSettings, start_at: dt.datetime
) -> tuple[dt.datetime, float, bool]:
    """(due_at, hours allowed, legal_clock) of a duty of ``rule`` whose clock starts at
    ``start_at``. A clock in days ends at 24:00 local (``[incidents] timezone``) of its
    last day, or when the recipient's business hours end on it, the start day not counted,
    a last day on a listed holiday moved to the day after it (:func:`period_of`); its hours
    are the time that leaves."""
    period = period_of(rule, conf, start_at)
    if period is not None:
        due = period.due
        return due, (due - start_at).total_seconds() / 3600, True
    hours, legal = _clock_of(rule, conf)
    return due_at(start_at, hours), hours, legal


#: how a rule's text reckons a period counted in days to its end (民法典 第二百零三条第二款)
_DAY_ENDS = "24时止"


def basis_of(source: str, period: DayPeriod | None) -> str:
    """The basis a duty records: its rule's legal source, whose reckoning of a period in
    days ("…第30日当地时间24时止") says instead when the recipient's business hours end
    it, followed by :func:`period_note`."""
    if period is not None and period.closes is not None:
        source = source.replace(_DAY_ENDS, f"{period.ends}止")
    return source + period_note(period)


def period_note(period: DayPeriod | None) -> str:
    """What the record of a duty says when a holiday moved its last day or business hours
    end it before 24:00 (kept with its legal source, in the language of the sources); ""
    for an hours clock or a period as its days count it."""
    if period is None:
        return ""
    note = ""
    if period.holiday is not None:
        first, last = (d.isoformat() for d in period.holiday)
        ends = "24 时" if period.closes is None else period.ends
        note += (
            f";最后一日 {first} 为法定休假日({first} 至 {last},[incidents] holidays),依 "
            f"{HOLIDAY_BASIS} 顺延至 {period.last_day.isoformat()} {ends}"
        )
    if period.closes is not None:
        note += (
            f";接收方停止业务活动的时间为 {period.ends}([incidents] business_hours_end),依 "
            f"{BUSINESS_HOURS_BASIS}({BUSINESS_HOURS_TEXT})截止于 "
            f"{period.last_day.isoformat()} {period.ends}"
        )
    return note


def check_clocks(rules: Rules, conf: IncidentSettings) -> None:
    """Refuse (BadInput) when a duty the settings can create has no clock, before anything
    is recorded: callers that record an event and then promote it check first."""
    for rule in rules.obligations:
        if rule.days is not None or (
            rule.when == "sector_configured" and not conf.sector_regulator
        ):
            continue
        _clock_of(rule, conf)


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
    return f"{DRILL_MARK}{name}" if drill else name


def add_obligations(
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
        due, hours, legal = deadline(rule, conf, start_at)
        period = period_of(rule, conf, start_at)
        ob = ObligationRow(
            incident_id=row.id,
            rule=rule.id,
            regime=rule.regime,
            kind=rule.kind,
            recipient=rule.recipient,
            recipient_name=_recipient_name(rule.recipient, conf, row.drill_id is not None),
            starts_at=start_at,
            due_at=due,
            hours=hours,
            legal_clock=legal,
            source=basis_of(rule.source, period),
            verified=rule.verified,
            status="open",
        )
        s.add(ob)
        added.append(ob)
    s.flush()
    return added


def brief(obs: Sequence[ObligationRow], clocks: DayClocks) -> list[dict[str, Any]]:
    """The duties ``obs`` as the ledger event that created them records them; a clock in
    days with its period (last day, and the holiday that moved it)."""
    out = []
    for o in obs:
        period = clocks.period(o.rule, utc(o.starts_at), utc(o.due_at))
        out.append(
            {
                "obligation": o.id,
                "rule": o.rule,
                "regime": o.regime,
                "kind": o.kind,
                "recipient": o.recipient,
                "due_at": utc(o.due_at).isoformat(),
                "hours": o.hours,
                "legal_clock": o.legal_clock,
                **({"period": period.to_json()} if period is not None else {}),
            }
        )
    return out


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
    now = now_utc(clock)
    reason = checked_text(reason, "reason", 2000)
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        inc_row = open_row(s, incident_id)
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
        ob = obligation_of(row, clocks)
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
    ``at`` (default now; never later, never before the duty's clock started), with a
    note (``incident.obligation.met``)."""
    now = now_utc(clock)
    note = checked_text(note, "note", 2000)
    clocks = day_clocks(ws)
    when = past(at, "at", now, clocks.timezone) if at is not None else now
    with ws.store.session() as s:
        row = s.get(ObligationRow, obligation_id, with_for_update=True)
        if row is None:
            raise BadInput.msg("incidents.no_obligation", id=obligation_id)
        open_row(s, row.incident_id)
        if row.status != "open":
            raise BadInput.msg(
                "incidents.obligation_not_open", id=obligation_id, status=status_of(row.status)
            )
        _not_before_start(row, when, clocks.timezone)
        row.status, row.met_at, row.met_by = "met", when, met_by
        ob = obligation_of(row, clocks)
    _met(events, ob, when, note)
    return ob


def _not_before_start(row: ObligationRow, when: dt.datetime, tz: str) -> None:
    """A duty cannot be met before its clock started (awareness, or the end of handling);
    the refusal shows both times in zone ``tz``."""
    if when < utc(row.starts_at):
        raise BadInput.msg(
            "incidents.before_start",
            field="at",
            value=zoned(when, tz),
            id=row.id,
            start=zoned(row.starts_at, tz),
        )


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
    now = now_utc(clock)
    ob: Obligation | None = None
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        row = incident_row(s, incident_id, for_update=True)
        duty = s.scalars(
            select(ObligationRow).where(
                ObligationRow.incident_id == incident_id,
                ObligationRow.recipient == "individuals",
                ObligationRow.status == "open",
            )
        ).first()
        if duty is not None and row.status != "closed":
            duty.status, duty.met_at, duty.met_by = "met", now, met_by
            ob = obligation_of(duty, clocks)
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
    now = now_utc(clock)
    out = Tick(now)
    clocks = day_clocks(ws)
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
            ob = obligation_of(row)
            if now >= ob.due_at:
                if row.escalated_at is None:
                    row.escalated_at = now
                    row.reminded_at = row.reminded_at or now
                    out.escalated.append(obligation_of(row, clocks))
                    changed["escalate"].append(row)
            elif ob.elapsed(now) >= REMIND_AT and row.reminded_at is None:
                row.reminded_at = now
                out.reminded.append(obligation_of(row, clocks))
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
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        rows = s.execute(
            select(ObligationRow, IncidentRow.title, IncidentRow.grade, IncidentRow.drill_id)
            .join(IncidentRow, IncidentRow.id == ObligationRow.incident_id)
            .where(ObligationRow.status == "open", IncidentRow.status != "closed")
            .order_by(ObligationRow.due_at, ObligationRow.id)
        ).all()
        return [
            OpenDuty(o.incident_id, title, grade, drill is not None, obligation_of(o, clocks))
            for o, title, grade, drill in rows
        ]
