"""Drills (应急演练): a scenario run with a clock against the same incident workflow,
flagged as a drill so that its duties name no real addressee and no notice can reach a
real customer; timings per duty against the deadlines, and lessons learned."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from handover.errors import BadInput
from handover.events import EventSink
from handover.incidents import records
from handover.incidents.affected import affected_people
from handover.incidents.duties import check_clocks
from handover.incidents.incidents import dismiss_event, promote, record_event
from handover.incidents.models import DrillRow, IncidentRow, ObligationRow
from handover.incidents.records import (
    PURPOSE,
    Clock,
    Incident,
    checked_text,
    drill_status,
    get_incident,
    now_utc,
    opt_utc,
    utc,
)
from handover.incidents.rules import GRADES, Rules

if TYPE_CHECKING:
    from handover.settings import IncidentSettings
    from handover.workspace import Workspace

SCENARIOS_FILE = Path(__file__).parent / "scenarios.toml"


@dataclass(frozen=True)
class Scenario:
    """A drill scenario template."""

    name: str
    title: dict[str, str]
    description: dict[str, str]
    category: str
    systems: tuple[str, ...]
    data: tuple[str, ...]
    suspected_crime: bool
    grade: str | None


def load_scenarios(path: Path = SCENARIOS_FILE) -> dict[str, Scenario]:
    """The scenario templates by name."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        name: Scenario(
            name,
            {"zh-CN": s["zh-CN"], "en": s["en"]},
            {"zh-CN": s["description_zh"], "en": s["description_en"]},
            s["category"],
            tuple(s.get("systems") or ()),
            tuple(s.get("data") or ()),
            bool(s.get("suspected_crime")),
            s.get("grade"),
        )
        for name, s in doc.items()
    }


@functools.cache
def _builtin_scenarios() -> dict[str, Scenario]:
    # the shipped file does not change while handover runs
    return load_scenarios()


@dataclass(frozen=True)
class Drill:
    """A drill as stored."""

    id: int
    scenario: str
    scheduled_for: dt.datetime
    participants: list[str]
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    incident_id: int | None
    result: dict[str, Any] | None

    @property
    def scenario_title(self) -> dict[str, str] | None:
        """The scenario's name in zh-CN and en (None for a scenario no longer shipped)."""
        found = _builtin_scenarios().get(self.scenario)
        return dict(found.title) if found is not None else None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "scenario": self.scenario,
            "scenario_title": self.scenario_title,
            "scheduled_for": self.scheduled_for.isoformat(),
            "participants": self.participants,
            "status": self.status,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "incident": self.incident_id,
            "result": self.result,
        }


def _drill(row: DrillRow) -> Drill:
    return Drill(
        row.id,
        row.scenario,
        utc(row.scheduled_for),
        list(row.participants),
        row.status,
        opt_utc(row.started_at),
        opt_utc(row.finished_at),
        row.incident_id,
        row.result,
    )


def list_drills(ws: Workspace) -> list[Drill]:
    """Every drill, soonest scheduled first."""
    with ws.store.session() as s:
        return [_drill(r) for r in s.scalars(select(DrillRow).order_by(DrillRow.scheduled_for))]


def get_drill(ws: Workspace, drill_id: int) -> Drill:
    """Drill ``drill_id``."""
    with ws.store.session() as s:
        row = s.get(DrillRow, drill_id)
        if row is None:
            raise BadInput.msg("incidents.no_drill", id=drill_id)
        return _drill(row)


def schedule_drill(
    ws: Workspace,
    scenario: str,
    *,
    scheduled_for: dt.datetime,
    participants: Sequence[str],
    events: EventSink,
    clock: Clock,
) -> Drill:
    """Schedule a tabletop exercise of ``scenario`` with ``participants`` (registered
    people; the flow checks) at ``scheduled_for`` (``incident.drill.schedule``)."""
    now = now_utc(clock)
    scenarios = load_scenarios()
    if scenario not in scenarios:
        raise BadInput.msg(
            "incidents.bad_scenario", scenario=scenario, scenarios=", ".join(scenarios)
        )
    names = [p.strip() for p in participants if p.strip()]
    if not names:
        raise BadInput.msg("incidents.empty", field="participants")
    if scheduled_for.tzinfo is None:
        raise BadInput.msg("incidents.naive_time", field="scheduled_for")
    with ws.store.session() as s:
        row = DrillRow(
            scenario=scenario,
            scheduled_for=utc(scheduled_for),
            participants=names,
            status="scheduled",
        )
        s.add(row)
        s.flush()
        drill = _drill(row)
    events(
        "incident.drill.schedule",
        f"drill {drill.id}",
        PURPOSE,
        {"drill": drill.id, "at": now.isoformat(), **drill.to_json()},
    )
    return drill


def start_drill(
    ws: Workspace,
    drill_id: int,
    *,
    started_by: str,
    rules: Rules,
    conf: IncidentSettings,
    inventory: dict[str, Any] | None,
    events: EventSink,
    clock: Clock,
) -> Incident:
    """Start drill ``drill_id`` now: its scenario becomes an event and, by the starter's
    decision, an incident flagged as a drill whose clocks start now
    (``incident.drill.start``). When the incident cannot be created the drill stays
    scheduled (the event recorded for it, if any, is dismissed with the reason)."""
    now = now_utc(clock)
    scenario_of = load_scenarios()
    with ws.store.session() as s:
        row = s.get(DrillRow, drill_id)
        if row is None:
            raise BadInput.msg("incidents.no_drill", id=drill_id)
        if row.status != "scheduled":
            raise BadInput.msg(
                "incidents.drill_state", id=drill_id, status=drill_status(row.status)
            )
        if row.scenario not in scenario_of:
            raise BadInput.msg(
                "incidents.bad_scenario", scenario=row.scenario, scenarios=", ".join(scenario_of)
            )
        sc = scenario_of[row.scenario]
    # What the promotion below would refuse is refused before the drill is touched.
    check_clocks(rules, conf)
    # The scenario's grade applies when it is above what the book's count gives.
    counted = affected_people(inventory, sc.data, sc.category).people
    computed = rules.grade_for({"people_affected": counted})[0]
    grade = sc.grade if sc.grade and GRADES.index(sc.grade) > GRADES.index(computed) else None
    with ws.store.session() as s:
        row = s.get(DrillRow, drill_id, with_for_update=True)
        assert row is not None
        if row.status != "scheduled":  # started meanwhile by someone else
            raise BadInput.msg(
                "incidents.drill_state", id=drill_id, status=drill_status(row.status)
            )
        row.status, row.started_at = "running", now
    event_id: int | None = None
    try:
        ev = record_event(
            ws,
            f"[演练 DRILL] {sc.title['zh-CN']} / {sc.title['en']}",
            noticed_at=now,
            noticed_by=started_by,
            reported_by=started_by,
            description=f"{sc.description['zh-CN']}\n{sc.description['en']}",
            systems=sc.systems,
            data=sc.data,
            source="drill",
            drill_id=drill_id,
            events=events,
            clock=clock,
        )
        event_id = ev.id
        promoted = promote(
            ws,
            ev.id,
            decided_by=started_by,
            reason=f"drill {drill_id}: {sc.name}",
            rules=rules,
            conf=conf,
            inventory=inventory,
            events=events,
            clock=clock,
            category=sc.category,
            suspected_crime=sc.suspected_crime,
            grade=grade,
            grade_reason=f"drill scenario {sc.name}" if grade else None,
        )
    except BaseException as exc:
        # The original error is what the user must see, even if undoing fails too.
        with contextlib.suppress(Exception):
            _unstart(ws, drill_id, event_id, started_by, exc, events, clock)
        raise
    with ws.store.session() as s:
        row = s.get(DrillRow, drill_id)
        assert row is not None
        row.incident_id = promoted.incident.id
    events(
        "incident.drill.start",
        f"drill {drill_id}",
        PURPOSE,
        {
            "drill": drill_id,
            "incident": promoted.incident.id,
            "scenario": sc.name,
            "at": now.isoformat(),
        },
    )
    return promoted.incident


def _unstart(
    ws: Workspace,
    drill_id: int,
    event_id: int | None,
    started_by: str,
    exc: BaseException,
    events: EventSink,
    clock: Clock,
) -> None:
    """A drill whose incident could not be created goes back to scheduled, and the event
    recorded for it is dismissed with the reason: nothing is left running or open."""
    with ws.store.session() as s:
        row = s.get(DrillRow, drill_id, with_for_update=True)
        if row is not None and row.status == "running" and row.incident_id is None:
            row.status, row.started_at = "scheduled", None
    if event_id is not None and records.get_event(ws, event_id).status == "open":
        dismiss_event(
            ws,
            event_id,
            reason=f"drill {drill_id} not started: {str(exc)[:300] or type(exc).__name__}",
            decided_by=started_by,
            events=events,
            clock=clock,
        )


def _timings(inc: Incident, end: dt.datetime) -> list[dict[str, Any]]:
    out = []
    for o in inc.obligations:
        done = o.met_at
        used = ((done or end) - o.starts_at).total_seconds() / 3600
        state = o.status
        if o.status == "met":
            state = "late" if done and done > o.due_at else "in_time"
        elif o.status == "open":
            state = "missed" if end > o.due_at else "unfinished"
        out.append(
            {
                "obligation": o.id,
                "rule": o.rule,
                "recipient": o.recipient,
                "allowed_hours": o.hours,
                "used_hours": round(used, 2),
                **({"allowed_days": o.period.days} if o.period is not None else {}),
                "result": state,
            }
        )
    return out


def finish_drill(
    ws: Workspace,
    drill_id: int,
    *,
    lessons: str,
    finished_by: str,
    events: EventSink,
    clock: Clock,
) -> Drill:
    """Finish a running drill: the time each duty took against its deadline, the
    lessons; its incident is closed with them (``incident.drill.finish``)."""
    now = now_utc(clock)
    lessons = checked_text(lessons, "lessons", 4000)
    drill = get_drill(ws, drill_id)
    if drill.status != "running" or drill.incident_id is None:
        raise BadInput.msg("incidents.drill_state", id=drill_id, status=drill_status(drill.status))
    inc = get_incident(ws, drill.incident_id)
    timings = _timings(inc, now)
    result = {
        "timings": timings,
        "decision_minutes": round((inc.promoted_at - inc.aware_at).total_seconds() / 60, 1),
        "in_time": sum(t["result"] == "in_time" for t in timings),
        "late_or_missed": sum(t["result"] in ("late", "missed") for t in timings),
        "lessons": lessons,
        "by": finished_by,
    }
    with ws.store.session() as s:
        row = s.get(DrillRow, drill_id, with_for_update=True)
        irow = s.get(IncidentRow, drill.incident_id, with_for_update=True)
        assert row is not None and irow is not None
        row.status, row.finished_at, row.result = "finished", now, result
        # The drill's incident ends with the drill: its open duties are a drill's, not real.
        for ob in s.scalars(
            select(ObligationRow).where(
                ObligationRow.incident_id == irow.id, ObligationRow.status == "open"
            )
        ):
            ob.status = "waived"
            ob.waiver = {"by": finished_by, "at": now.isoformat(), "reason": "drill finished"}
        irow.status, irow.closed_at = "closed", now
        irow.review = {
            "lessons": lessons,
            "drill": drill_id,
            "by": finished_by,
            "at": now.isoformat(),
        }
        done = _drill(row)
    events(
        "incident.drill.finish",
        f"drill {drill_id}",
        PURPOSE,
        {"drill": drill_id, "incident": drill.incident_id, "at": now.isoformat(), **result},
    )
    return done


def next_drill(ws: Workspace, conf: IncidentSettings, now: dt.datetime) -> dict[str, Any]:
    """When the next drill is due: ``drill_every_days`` after the last finished one (now,
    when there was none), the days left counted in the workspace's calendar days, and the
    next drill scheduled ahead of now, if any. Past due with none ahead is overdue."""
    from zoneinfo import ZoneInfo

    now = utc(now)
    zone = ZoneInfo(conf.timezone)
    drills = list_drills(ws)
    finished = [utc(d.finished_at) for d in drills if d.finished_at is not None]
    due = (max(finished) + dt.timedelta(days=conf.drill_every_days)) if finished else now
    # A drill scheduled for a time already gone and never started is no plan: it
    # must not hide that the drill is overdue.
    ahead = [d for d in drills if d.status == "scheduled" and utc(d.scheduled_for) > now]
    return {
        "due_by": due.isoformat(),
        "days_left": (due.astimezone(zone).date() - now.astimezone(zone).date()).days,
        "overdue": due <= now and not ahead,
        "scheduled": ahead[0].to_json() if ahead else None,
    }
