"""The JSON API's incident handling: security events recorded, dismissed or promoted to
incidents, grades raised, the individuals' notice decided (PIPL Art. 57 ¶2), incidents
listed, an incident's facts recorded, its reports filed (and their files downloaded, each
checked against the SHA-256 registered when it was filed), duties met, follow-up actions,
handling ended, closing; drills scheduled, started and finished. Each call is the flow ``handover incidents`` calls,
decided for this token's person (``incident.manage``); refusals are 403 and ledgered.
Same authentication as :mod:`handover.web.api`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from handover.errors import BadInput
from handover.web.api import ERRORS, FILE_ERRORS, JSON, Session
from handover.web.security import RowId, console_of

router = APIRouter(prefix="/api", tags=["incidents"])
#: a local time as the CLI takes it (``2026-01-31T10:00``, in the incidents' time zone)
When = Annotated[str, Field(max_length=40, description="local time, e.g. 2026-01-31T10:00")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class FactsIn(BaseModel):
    """Report facts to add (``incidents facts --set``): fact name → text."""

    facts: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=4000)]] = (
        Field(min_length=1, max_length=40)
    )


class ReportIn(BaseModel):
    """The kind of report to file next."""

    kind: str = Field(max_length=20, description="initial, supplement or summary")


class MetIn(BaseModel):
    """A duty of the incident met outside handover (a call, a letter), with a note."""

    obligation: int = Field(ge=1, le=2**31 - 1)
    note: Text
    at: When = ""


class HandledIn(BaseModel):
    """When handling ended (empty: now)."""

    at: When = ""


class ActionIn(BaseModel):
    """A follow-up action with its owner (a registered person) and due date."""

    what: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=64)
    due_on: dt.date


class CloseIn(BaseModel):
    """The review closing a handled incident."""

    root_cause: Text
    lessons: Text


class DrillIn(BaseModel):
    """A drill to schedule: a scenario, when, and registered participants."""

    scenario: str = Field(min_length=1, max_length=60)
    at: When = Field(min_length=1)
    participants: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=50
    )


class EventIn(BaseModel):
    """A security event as noticed: what, when (local time), the systems and the data
    involved (tables or table.column, as the inventory names them)."""

    title: str = Field(min_length=1, max_length=300)
    noticed_at: When = Field(min_length=1)
    description: str = Field(default="", max_length=4000)
    systems: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )
    data: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=200
    )


class DismissIn(BaseModel):
    """Why the event is no incident."""

    reason: Text


class PromoteIn(BaseModel):
    """The decision making an event an incident (``incidents promote``): the grade and the
    duties follow from the rules; a higher grade, a people count or qualitative criteria
    each need their reason."""

    reason: Text
    category: str = Field(default="data_leak", max_length=40)
    aware_at: When = ""
    lead: str = Field(default="", max_length=64)
    grade: str = Field(default="", max_length=40)
    grade_reason: str = Field(default="", max_length=2000)
    people: int | None = Field(default=None, ge=0, le=10**10)
    people_reason: str = Field(default="", max_length=2000)
    direct_loss_cny: int | None = Field(default=None, ge=0, le=10**13)
    suspected_crime: bool = False
    criteria: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=30
    )
    criteria_reason: str = Field(default="", max_length=2000)


class GradeIn(BaseModel):
    """New facts or a decided grade (``incidents grade``): the grade only ever rises."""

    grade: str = Field(default="", max_length=40)
    reason: str = Field(default="", max_length=2000)
    people: int | None = Field(default=None, ge=0, le=10**10)
    direct_loss_cny: int | None = Field(default=None, ge=0, le=10**13)
    criteria: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=30
    )


class IndividualsIn(BaseModel):
    """PIPL Art. 57 ¶2: whether the individuals are told after all, and why."""

    notify: bool
    reason: Text


class LessonsIn(BaseModel):
    """What a drill taught."""

    lessons: Text


def _when(request: Request, value: str, field: str) -> dt.datetime | None:
    from handover.flows.incidents import local_time

    return local_time(console_of(request).ws, value.strip() or None, field)


def _incident(request: Request, incident_id: int) -> JSON:
    """One incident as ``GET /api/incidents/{id}`` answers it."""
    from handover.flows.incidents import incident_timeline
    from handover.incidents.records import get_incident

    console = console_of(request)
    inc = get_incident(console.ws, incident_id)
    return {**inc.to_json(console.now()), "timeline": incident_timeline(console.ws, incident_id)}


@router.get("/incidents", responses=ERRORS)
def api_incidents(request: Request, me: Session) -> JSON:
    """Open duties soonest first with the seconds left, incidents, events and drills."""
    from handover.flows.incidents import status
    from handover.incidents.drills import list_drills
    from handover.incidents.records import list_events, list_incidents

    console = console_of(request)
    st = status(console.ws, clock=console.now)
    return {
        "at": st.at.isoformat(),
        "duties": [d.to_json(st.at) for d in st.duties],
        "incidents": [i.to_json(st.at) for i in reversed(list_incidents(console.ws))],
        "events": [e.to_json() for e in reversed(list_events(console.ws))],
        "drills": [d.to_json() for d in reversed(list_drills(console.ws))],
    }


@router.post("/incidents/events", responses=ERRORS)
def api_event(request: Request, me: Session, body: EventIn) -> JSON:
    """Record a security event (anyone registered may; ``incidents event``); the event."""
    from handover.flows.incidents import report_event

    console = console_of(request)
    when = _when(request, body.noticed_at, "noticed_at")
    if when is None:
        raise BadInput.msg("web.invalid", fields="noticed_at")
    ev = report_event(
        console.ws,
        body.title,
        noticed_at=when,
        description=body.description,
        systems=body.systems,
        data=body.data,
        clock=console.now,
        actor=me.person.name,
    )
    return ev.to_json()


@router.post("/incidents/events/{event_id}/dismiss", responses=ERRORS)
def api_event_dismiss(request: Request, me: Session, event_id: RowId, body: DismissIn) -> JSON:
    """Decide the event is no incident, with the reason (``incidents dismiss``)."""
    from handover.flows.incidents import dismiss_event

    console = console_of(request)
    ev = dismiss_event(
        console.ws, event_id, reason=body.reason, clock=console.now, actor=me.person.name
    )
    return ev.to_json()


@router.post("/incidents/events/{event_id}/promote", responses=ERRORS)
def api_event_promote(request: Request, me: Session, event_id: RowId, body: PromoteIn) -> JSON:
    """Promote the event to an incident by my recorded decision; the incident with its
    duties and their clocks, the grade decided and why, and the affected people."""
    from handover.flows.incidents import promote

    console = console_of(request)
    done = promote(
        console.ws,
        event_id,
        reason=body.reason,
        clock=console.now,
        actor=me.person.name,
        aware_at=_when(request, body.aware_at, "aware_at"),
        category=body.category,
        lead=body.lead.strip() or None,
        grade=body.grade.strip() or None,
        grade_reason=body.grade_reason.strip() or None,
        people=body.people,
        people_reason=body.people_reason.strip() or None,
        direct_loss_cny=body.direct_loss_cny,
        suspected_crime=body.suspected_crime,
        criteria=body.criteria,
        criteria_reason=body.criteria_reason.strip() or None,
    )
    return {
        **_incident(request, done.incident.id),
        "decision": done.grade.to_json(),
        "affected_count": done.affected.people,
    }


@router.post("/incidents/{incident_id}/grade", responses=ERRORS)
def api_incident_grade(request: Request, me: Session, incident_id: RowId, body: GradeIn) -> JSON:
    """New facts or a decided grade; the duties a higher grade adds start at awareness."""
    from handover.flows.incidents import regrade

    console = console_of(request)
    regrade(
        console.ws,
        incident_id,
        clock=console.now,
        actor=me.person.name,
        grade=body.grade.strip() or None,
        reason=body.reason.strip() or None,
        people=body.people,
        direct_loss_cny=body.direct_loss_cny,
        criteria=body.criteria,
    )
    return _incident(request, incident_id)


@router.post("/incidents/{incident_id}/individuals", responses=ERRORS)
def api_incident_individuals(
    request: Request, me: Session, incident_id: RowId, body: IndividualsIn
) -> JSON:
    """Record whether the individuals are told (PIPL Art. 57 ¶2: not, when the measures
    taken effectively avoid harm — the measures must be among the facts); the duty."""
    from handover.flows.incidents import decide_individuals

    console = console_of(request)
    ob = decide_individuals(
        console.ws,
        incident_id,
        notify=body.notify,
        reason=body.reason,
        clock=console.now,
        actor=me.person.name,
    )
    return ob.to_json(console.now())


@router.get("/incidents/{incident_id}", responses=ERRORS)
def api_incident(request: Request, me: Session, incident_id: RowId) -> JSON:
    """One incident: duties with the seconds left now, facts, reports, actions, timeline."""
    return _incident(request, incident_id)


@router.post("/incidents/{incident_id}/facts", responses=ERRORS)
def api_incident_facts(request: Request, me: Session, incident_id: RowId, body: FactsIn) -> JSON:
    """Add report facts (an unknown fact name is 400 naming it); the incident."""
    from handover.flows.incidents import set_facts

    console = console_of(request)
    set_facts(console.ws, incident_id, body.facts, clock=console.now, actor=me.person.name)
    return _incident(request, incident_id)


@router.post("/incidents/{incident_id}/reports", responses=ERRORS)
def api_incident_report(request: Request, me: Session, incident_id: RowId, body: ReportIn) -> JSON:
    """File the next report of ``kind``: HTML, PDF and DOCX in zh-CN and en, hashed into
    the ledger (``incidents report``); the report, its files at
    ``/api/incidents/{id}/reports/{report}/{name}``."""
    from handover.flows.incidents import file_report

    console = console_of(request)
    rep = file_report(console.ws, incident_id, body.kind, clock=console.now, actor=me.person.name)
    return rep.to_json()


@router.get("/incidents/{incident_id}/reports/{report_id}/{name}", responses=FILE_ERRORS)
def api_incident_report_file(
    request: Request,
    me: Session,
    incident_id: RowId,
    report_id: RowId,
    name: Annotated[str, Path(min_length=1, max_length=160)],
) -> Response:
    """One file of a filed report, served only while it still has the SHA-256 registered
    when it was filed (409 when it was altered)."""
    from handover.web.pages_incidents import report_file

    return report_file(console_of(request).ws, incident_id, report_id, name)


@router.post("/incidents/{incident_id}/met", responses=ERRORS)
def api_incident_met(request: Request, me: Session, incident_id: RowId, body: MetIn) -> JSON:
    """A duty of this incident met outside handover (``incidents done``)."""
    from handover.flows.incidents import obligation_met
    from handover.incidents.records import get_incident

    console = console_of(request)
    if body.obligation not in {o.id for o in get_incident(console.ws, incident_id).obligations}:
        raise HTTPException(404)
    when = _when(request, body.at, "at")
    ob = obligation_met(
        console.ws,
        body.obligation,
        note=body.note,
        at=when,
        clock=console.now,
        actor=me.person.name,
    )
    return ob.to_json(console.now())


@router.post("/incidents/{incident_id}/handled", responses=ERRORS)
def api_incident_handled(
    request: Request, me: Session, incident_id: RowId, body: HandledIn | None = None
) -> JSON:
    """Handling ended (now, or at ``at``): the summary report's clocks start."""
    from handover.flows.incidents import mark_handled

    console = console_of(request)
    when = _when(request, body.at if body is not None else "", "at")
    mark_handled(console.ws, incident_id, at=when, clock=console.now, actor=me.person.name)
    return _incident(request, incident_id)


@router.post("/incidents/{incident_id}/actions", responses=ERRORS)
def api_incident_action(request: Request, me: Session, incident_id: RowId, body: ActionIn) -> JSON:
    """Add a follow-up action."""
    from handover.flows.incidents import add_action

    console = console_of(request)
    a = add_action(
        console.ws,
        incident_id,
        body.what,
        owner=body.owner,
        due_on=body.due_on,
        clock=console.now,
        actor=me.person.name,
    )
    return a.to_json()


@router.post("/incidents/{incident_id}/actions/{action_id}/done", responses=ERRORS)
def api_incident_action_done(
    request: Request, me: Session, incident_id: RowId, action_id: RowId
) -> JSON:
    """Mark a follow-up action of this incident done."""
    from handover.flows.incidents import finish_action
    from handover.incidents.records import get_incident

    console = console_of(request)
    if action_id not in {a.id for a in get_incident(console.ws, incident_id).actions}:
        raise HTTPException(404)
    return finish_action(console.ws, action_id, clock=console.now, actor=me.person.name).to_json()


@router.post("/incidents/{incident_id}/close", responses=ERRORS)
def api_incident_close(request: Request, me: Session, incident_id: RowId, body: CloseIn) -> JSON:
    """Close a handled incident with its review."""
    from handover.flows.incidents import close

    console = console_of(request)
    close(
        console.ws,
        incident_id,
        root_cause=body.root_cause,
        lessons=body.lessons,
        clock=console.now,
        actor=me.person.name,
    )
    return _incident(request, incident_id)


# --- drills ----------------------------------------------------------------------------------


@router.post("/drills", responses=ERRORS)
def api_drill_schedule(request: Request, me: Session, body: DrillIn) -> JSON:
    """Schedule a drill (``drills schedule``)."""
    from handover.flows.incidents import schedule

    console = console_of(request)
    when = _when(request, body.at, "at")
    if when is None:  # blank: no time given
        raise BadInput.msg("web.invalid", fields="at")
    d = schedule(
        console.ws,
        body.scenario,
        at=when,
        participants=body.participants,
        clock=console.now,
        actor=me.person.name,
    )
    return d.to_json()


@router.post("/drills/{drill_id}/start", responses=ERRORS)
def api_drill_start(request: Request, me: Session, drill_id: RowId) -> JSON:
    """Start a scheduled drill: its scenario becomes a drill incident (nothing is sent);
    the incident."""
    from handover.flows.incidents import start

    console = console_of(request)
    inc = start(console.ws, drill_id, clock=console.now, actor=me.person.name)
    return _incident(request, inc.id)


@router.post("/drills/{drill_id}/finish", responses=ERRORS)
def api_drill_finish(request: Request, me: Session, drill_id: RowId, body: LessonsIn) -> JSON:
    """Finish a running drill with its lessons; the time used per duty is computed."""
    from handover.flows.incidents import finish

    console = console_of(request)
    return finish(
        console.ws, drill_id, lessons=body.lessons, clock=console.now, actor=me.person.name
    ).to_json()
