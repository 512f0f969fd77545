"""The incident lifecycle: events recorded or dismissed, promoted to incidents, regraded,
facts set, handled, reports filed, follow-ups, closed.

The kernel of ``handover incidents``: it keeps the incident tables and reports every
change through the event sink the flow hands it (the ledger, under the deciding person's
name). Time is always injected: ``clock`` gives "now"; nothing reads the wall clock.

Duties and their clocks live in :mod:`handover.incidents.duties`, grading in
:mod:`handover.incidents.grading`, the records read back in :mod:`handover.incidents.records`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from handover.errors import BadInput
from handover.events import EventSink
from handover.incidents.affected import Affected, affected_people, check_items
from handover.incidents.duties import (
    add_obligations,
    brief,
)
from handover.incidents.grading import (
    GradeDecision,
    decide_grade,
    judge,
)
from handover.incidents.models import (
    ActionRow,
    IncidentRow,
    ObligationRow,
    ReportRow,
    SecurityEventRow,
)
from handover.incidents.records import (
    CATEGORIES,
    FACTS,
    PURPOSE,
    Clock,
    FollowUp,
    Incident,
    Report,
    SecurityEvent,
    checked_text,
    day_clocks,
    event_of,
    event_status,
    load_incident,
    not_before_noticed,
    now_utc,
    open_row,
    past,
    plain_text,
    report_of,
    status_of,
    utc,
    zoned,
)
from handover.incidents.rules import GRADES, DayClocks, Rules

if TYPE_CHECKING:
    from handover.settings import IncidentSettings
    from handover.workspace import Workspace

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
    now = now_utc(clock)
    title = checked_text(title, "title")
    noticed = past(noticed_at, "noticed_at", now, ws.settings.incidents.timezone)
    items = check_items(data)
    sys_list = [x for x in (plain_text(x, "systems") for x in systems) if x]
    with ws.store.session() as s:
        if warning_key is not None:
            old = s.scalars(
                select(SecurityEventRow).where(SecurityEventRow.warning_key == warning_key)
            ).first()
            if old is not None:
                return event_of(old)
        row = SecurityEventRow(
            title=title,
            description=plain_text(description, "description"),
            noticed_at=noticed,
            noticed_by=checked_text(noticed_by, "noticed_by", 200),
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
        ev = event_of(row)
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
    now = now_utc(clock)
    reason = checked_text(reason, "reason", 2000)
    with ws.store.session() as s:
        row = s.get(SecurityEventRow, event_id, with_for_update=True)
        if row is None:
            raise BadInput.msg("incidents.no_event", id=event_id)
        if row.status != "open":
            raise BadInput.msg(
                "incidents.event_not_open", id=event_id, status=event_status(row.status)
            )
        row.status = "dismissed"
        row.decision = {
            "decision": "dismiss",
            "by": decided_by,
            "at": now.isoformat(),
            "reason": reason,
        }
        ev = event_of(row)
    events(
        "incident.event.dismiss",
        f"event {event_id}",
        PURPOSE,
        {"event": event_id, "at": now.isoformat(), "reason": reason},
    )
    return ev


def check_counts(
    people: int | None,
    people_reason: str | None,
    direct_loss_cny: int | None,
    *,
    people_key: str = "incidents.people_reason",
) -> None:
    """Refuse (BadInput) a negative count or loss, or a count given by hand without its
    reason (``people_key`` names the option in the message); flows call it before
    authorising, so refused input records nothing."""
    if people is not None and (people < 0 or not (people_reason or "").strip()):
        raise BadInput.msg(people_key)
    if direct_loss_cny is not None and direct_loss_cny < 0:
        raise BadInput.msg("incidents.bad_loss", value=direct_loss_cny)


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
    than now, nor earlier than the event was noticed). The affected people are counted from ``inventory`` for the tables and
    columns the event names, unless ``people`` is given with ``people_reason``; the grade
    follows the rules (:func:`decide_grade`); one duty is created per (regime, recipient)
    the rules give for the grade. Records ``incident.promote``.
    """
    now = now_utc(clock)
    reason = checked_text(reason, "reason", 2000)
    if category not in CATEGORIES:
        raise BadInput.msg(
            "incidents.bad_category", category=category, categories=", ".join(CATEGORIES)
        )
    check_counts(people, people_reason, direct_loss_cny)
    people_reason = plain_text(people_reason, "people_reason") or None
    grade_reason = plain_text(grade_reason, "grade_reason") or None
    criteria_reason = plain_text(criteria_reason, "criteria_reason") or None
    judged = judge(rules, criteria, reason=criteria_reason, by=decided_by, at=now)
    clocks = DayClocks.of(rules, conf)
    with ws.store.session() as s:
        ev = s.get(SecurityEventRow, event_id, with_for_update=True)
        if ev is None:
            raise BadInput.msg("incidents.no_event", id=event_id)
        if ev.status != "open":
            raise BadInput.msg(
                "incidents.event_not_open", id=event_id, status=event_status(ev.status)
            )
        aware = (
            past(aware_at, "aware_at", now, conf.timezone)
            if aware_at is not None
            else utc(ev.noticed_at)
        )
        not_before_noticed(aware, event_id, ev.noticed_at, conf.timezone)
        affected = affected_people(inventory, ev.data, category)
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
        obs = add_obligations(s, row, rules, conf, "aware", aware)
        ev.status = "promoted"
        ev.decision = {
            "decision": "promote",
            "by": decided_by,
            "at": now.isoformat(),
            "reason": reason,
            "incident": row.id,
        }
        inc = load_incident(s, row, clocks)
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
            "obligations": brief(obs, clocks),
            "rules": str(rules.path.name),
            "drill": inc.drill,
        },
    )
    return Promotion(inc, decision, affected)


#: the message of a bad ``--people`` in ``incidents grade`` (its reason is ``--reason``)
REGRADE_PEOPLE = "incidents.regrade_people"


def _regrade_decision(
    rules: Rules,
    row: IncidentRow,
    grade: str | None,
    reason: str | None,
    count: int | None,
    loss: int | None,
    new: list[dict[str, Any]],
) -> GradeDecision:
    """The grade of ``row`` on new facts: never below its grade; a grade a person decided
    (with a reason) stays the floor, one the counts gave is refused to fall."""
    basis = row.grade_basis or {}
    before_judged = list(basis.get("judged") or [])
    known = {j["id"] for j in before_judged}
    judged = before_judged + [j for j in new if j["id"] not in known]
    current = GRADES.index(row.grade)
    if grade and grade in GRADES and GRADES.index(grade) < current:
        raise BadInput.msg("incidents.grade_lower", grade=grade, computed=row.grade)
    decision = decide_grade(rules, count, loss, grade or None, reason, judged)
    if GRADES.index(decision.grade) >= current:
        return decision
    decided_reason = str(basis.get("reason") or "").strip()
    if not decided_reason:
        # The grade came from the counts, which the new facts no longer reach: a grade
        # never falls, and keeping it is a decision someone must make (--to, --reason).
        raise BadInput.msg(
            "incidents.grade_facts_lower", id=row.id, computed=decision.grade, current=row.grade
        )
    # A grade a person decided stays the floor, with that person's reason.
    return decide_grade(rules, count, loss, row.grade, decided_reason, judged)


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
    awareness like the others (``incident.grade``). Criteria judged earlier stay; a grade
    a person decided (with its reason) stays the floor when new facts give less."""
    now = now_utc(clock)
    check_counts(people, reason, direct_loss_cny, people_key=REGRADE_PEOPLE)
    new = judge(rules, criteria, reason=reason, by=decided_by, at=now)
    clocks = DayClocks.of(rules, conf)
    with ws.store.session() as s:
        row = open_row(s, incident_id)
        count = people if people is not None else row.people_affected
        loss = direct_loss_cny if direct_loss_cny is not None else row.direct_loss_cny
        decision = _regrade_decision(rules, row, grade, reason, count, loss, new)
        if people is not None:
            row.affected = {**row.affected, "override": {"people": people, "reason": reason}}
            row.personal_information = row.personal_information or people > 0
        before = row.grade
        row.grade = decision.grade
        row.grade_basis = decision.to_json()
        row.people_affected = count
        row.direct_loss_cny = loss
        obs = add_obligations(s, row, rules, conf, "aware", utc(row.aware_at))
        if row.status == "handled" and row.handled_at is not None:
            obs += add_obligations(s, row, rules, conf, "handled", utc(row.handled_at))
        inc = load_incident(s, row, clocks)
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
            "obligations": brief(obs, clocks),
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
    now = now_utc(clock)
    bad = next((k for k in updates if k not in FACTS), None)
    if bad is not None:
        raise BadInput.msg("incidents.bad_fact", key=bad, keys=", ".join(FACTS))
    clean = {k: checked_text(v, k, 4000) for k, v in updates.items()}
    if not clean:
        raise BadInput.msg("incidents.empty", field="facts")
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        row = open_row(s, incident_id)
        row.facts = {**row.facts, **clean}
        inc = load_incident(s, row, clocks)
    events(
        "incident.facts",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "at": now.isoformat(), "facts": clean},
    )
    return inc


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
    now = now_utc(clock)
    when = past(at, "at", now, conf.timezone) if at is not None else now
    clocks = DayClocks.of(rules, conf)
    with ws.store.session() as s:
        row = open_row(s, incident_id)
        if row.status != "open":
            raise BadInput.msg("incidents.not_open", id=incident_id, status=status_of(row.status))
        if when < utc(row.aware_at):
            raise BadInput.msg(
                "incidents.before_aware", field="at", aware=zoned(row.aware_at, conf.timezone)
            )
        row.status, row.handled_at = "handled", when
        obs = add_obligations(s, row, rules, conf, "handled", when)
        inc = load_incident(s, row, clocks)
    events(
        "incident.handled",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "at": when.isoformat(), "obligations": brief(obs, clocks)},
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
    now = now_utc(clock)
    with ws.store.session() as s:
        row = open_row(s, incident_id)
        number = check_report(load_incident(s, row), kind)
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
        report = report_of(rep)
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
    now = now_utc(clock)
    what = checked_text(what, "what", 2000)
    owner = checked_text(owner, "owner", 200)
    with ws.store.session() as s:
        open_row(s, incident_id)
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
    now = now_utc(clock)
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
    now = now_utc(clock)
    review = {
        "root_cause": checked_text(root_cause, "root_cause", 4000),
        "lessons": checked_text(lessons, "lessons", 4000),
        "by": closed_by,
        "at": now.isoformat(),
    }
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        row = open_row(s, incident_id)
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
        inc = load_incident(s, row, clocks)
    open_actions = [a.id for a in inc.actions if a.done_at is None]
    events(
        "incident.close",
        f"incident {incident_id}",
        PURPOSE,
        {"incident": incident_id, "at": now.isoformat(), **review, "open_actions": open_actions},
    )
    return inc
