"""The incidents page: open duties with their legal clocks counting down, incidents and
security events; record an event (anyone registered), promote it to an incident and
raise a grade (the DPO or compliance officer). Each action is the flow
``handover incidents`` calls, decided for the person logged in."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handover.web.pages import CSRF, Session, partial
from handover.web.security import console_of

if TYPE_CHECKING:
    from handover.incidents.records import Obligation

router = APIRouter(include_in_schema=False)

Reason = Annotated[str, Form(min_length=1, max_length=2000)]
Count = Annotated[int | None, Form(ge=0, le=2_000_000_000)]
NOTICES = ("event", "promoted", "graded", "drill_scheduled", "drill_started", "drill_finished")


def clock_of(ob: Obligation, at: dt.datetime) -> dict[str, Any]:
    """How a duty's clock stands at ``at``: the time left (a message: hours and minutes,
    or days for a clock in days), ``late`` once missed, ``soon`` past the share of its time
    at which the library sends its reminder (``REMIND_AT``), ``due_day``, the last day
    of a clock in days counted in the console's zone, and ``due_ends``, when that day ends
    (24:00, or when the recipient's business hours end). A duty met or waived has no
    clock."""
    from handover.incidents.duties import REMIND_AT
    from handover.web.fmt import ZONE

    # "24:00 of the last day" where the period's day is the console's (Beijing time, as
    # every other time it shows); a period counted in another zone: its deadline's minute
    period = ob.period
    day: dict[str, Any] = {"due_day": None, "due_ends": None}
    if period is not None and period.timezone == ZONE.key:
        day = {"due_day": period.last_day, "due_ends": period.ends}
    if ob.status != "open":
        return {"left": None, "late": False, "soon": False, **day}
    seconds = int(ob.left(at).total_seconds())
    return {
        "left": ob.time_left(at),
        "late": seconds < 0,
        "soon": seconds >= 0 and ob.elapsed(at) >= REMIND_AT,
        **day,
    }


def _context(request: Request) -> dict[str, Any]:
    from handover.flows.incidents import status
    from handover.incidents.drills import list_drills, load_scenarios
    from handover.incidents.records import CATEGORIES, list_events, list_incidents
    from handover.incidents.rules import GRADES

    console = console_of(request)
    st = status(console.ws, clock=console.now)
    lang = console.lang_of(request)
    duties = [
        {
            **d.to_json(st.at),
            **clock_of(d.obligation, st.at),
            "recipient_shown": d.obligation.recipient_in(lang),
        }
        for d in st.duties
    ]
    incidents = list_incidents(console.ws)
    events = list_events(console.ws)
    return {
        "at": st.at,
        "duties": duties,
        "next_drill": st.next_drill,
        "incidents": list(reversed(incidents)),
        "open_incidents": [i for i in incidents if i.status != "closed"],
        "events": list(reversed(events)),
        "open_events": [e for e in events if e.status == "open"],
        "categories": CATEGORIES,
        "grades": GRADES,
        "tz": console.ws.settings.incidents.timezone,
        "drills": list(reversed(list_drills(console.ws))),
        "scenarios": load_scenarios(),
    }


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, me: Session, notice: str = "", id: int = 0) -> Response:
    """Open duties soonest first with the time left (refreshed every minute), incidents,
    events, and the forms that record, promote and grade."""
    console = console_of(request)
    ctx = _context(request)
    if partial(request, "duties"):
        return console.render(request, "_duties.html", **ctx)
    return console.render(
        request,
        "incidents.html",
        notice=notice if notice in NOTICES else "",
        notice_id=id,
        **ctx,
    )


def _when(request: Request, value: str, field: str) -> dt.datetime | None:
    from handover.flows.incidents import local_time

    return local_time(console_of(request).ws, value.strip() or None, field)


@router.post("/incidents/events", dependencies=CSRF)
def incidents_event(
    request: Request,
    me: Session,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    noticed_at: Annotated[str, Form(max_length=40)],
    description: Annotated[str, Form(max_length=4000)] = "",
    systems: Annotated[str, Form(max_length=1000)] = "",
    data: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record a security event as the person logged in (``handover incidents event``)."""
    from handover.errors import BadInput
    from handover.flows.incidents import report_event
    from handover.web.jobs import table_list

    console = console_of(request)
    when = _when(request, noticed_at, "noticed_at")
    if when is None:
        raise BadInput.msg("web.invalid", fields="noticed_at")
    ev = report_event(
        console.ws,
        title,
        noticed_at=when,
        description=description,
        systems=table_list(systems) or (),
        data=table_list(data) or (),
        clock=console.now,
        actor=me.person.name,
    )
    return RedirectResponse(f"/incidents?notice=event&id={ev.id}", 303)


@router.post("/incidents/promote", dependencies=CSRF)
def incidents_promote(
    request: Request,
    me: Session,
    event: Annotated[int, Form(ge=1, le=2**31 - 1)],
    reason: Reason,
    category: Annotated[str, Form(max_length=40)] = "data_leak",
    aware_at: Annotated[str, Form(max_length=40)] = "",
    grade: Annotated[str, Form(max_length=40)] = "",
    grade_reason: Annotated[str, Form(max_length=2000)] = "",
    people: Count = None,
    people_reason: Annotated[str, Form(max_length=2000)] = "",
    loss: Count = None,
    suspected_crime: Annotated[bool, Form()] = False,
) -> Response:
    """Promote an event to an incident by my recorded decision (``incidents promote``):
    the grade and the duties with their clocks follow from the rules."""
    from handover.flows.incidents import promote

    console = console_of(request)
    done = promote(
        console.ws,
        event,
        reason=reason,
        clock=console.now,
        actor=me.person.name,
        aware_at=_when(request, aware_at, "aware_at"),
        category=category,
        grade=grade or None,
        grade_reason=grade_reason.strip() or None,
        people=people,
        people_reason=people_reason.strip() or None,
        direct_loss_cny=loss,
        suspected_crime=suspected_crime,
    )
    return RedirectResponse(f"/incidents?notice=promoted&id={done.incident.id}", 303)


@router.post("/incidents/grade", dependencies=CSRF)
def incidents_grade(
    request: Request,
    me: Session,
    incident: Annotated[int, Form(ge=1, le=2**31 - 1)],
    to: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    people: Count = None,
    loss: Count = None,
) -> Response:
    """Raise an incident's grade (``incidents grade``): only ever up, with a reason."""
    from handover.flows.incidents import regrade

    console = console_of(request)
    inc = regrade(
        console.ws,
        incident,
        clock=console.now,
        actor=me.person.name,
        grade=to or None,
        reason=reason.strip() or None,
        people=people,
        direct_loss_cny=loss,
    )
    return RedirectResponse(f"/incidents?notice=graded&id={inc.id}", 303)


# --- one incident ----------------------------------------------------------------------------

#: what each action on an incident's page says once done (``web.incidents.did.<key>``)
DID = ("facts", "report", "handled", "met", "action", "action_done", "closed", "drill_finished")
IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _detail(request: Request, incident_id: int) -> dict[str, Any]:
    from handover.flows.incidents import incident_timeline
    from handover.governance.people import list_people
    from handover.incidents.drills import list_drills
    from handover.incidents.incidents import REPORT_KINDS
    from handover.incidents.records import FACTS, get_event, get_incident, utc

    console = console_of(request)
    inc = get_incident(console.ws, incident_id)
    at = utc(console.now())
    drill = next((d for d in list_drills(console.ws) if d.id == inc.drill_id), None)
    return {
        "inc": inc,
        "event": get_event(console.ws, inc.event_id),
        "at": at,
        "obligations": [{"ob": o, **clock_of(o, at)} for o in inc.obligations],
        "facts": FACTS,
        "report_kinds": REPORT_KINDS,
        "steps": incident_timeline(console.ws, incident_id),
        "drill": drill,
        "people": [p.name for p in list_people(console.ws) if p.active],
        "tz": console.ws.settings.incidents.timezone,
    }


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request, me: Session, incident_id: IncidentId, did: str = ""
) -> Response:
    """One incident: its duties with their clocks, facts, filed reports (each file to
    download), follow-up actions, the timeline from the ledger, and the forms that move
    it on (the DPO's or compliance officer's; anyone registered may read)."""
    console = console_of(request)
    ctx = _detail(request, incident_id)
    if partial(request, "inc-duties"):
        return console.render(request, "_incident_duties.html", **ctx)
    return console.render(request, "incident.html", did=did if did in DID else "", **ctx)


def _back(incident_id: int, did: str) -> RedirectResponse:
    return RedirectResponse(f"/incidents/{incident_id}?did={did}", 303)


async def _facts_form(request: Request) -> dict[str, str]:
    from handover.incidents.records import FACTS

    form = await request.form()
    out = {}
    for key in FACTS:
        value = form.get(f"fact_{key}")
        if isinstance(value, str) and value.strip():
            out[key] = value
    return out


@router.post("/incidents/{incident_id}/facts", dependencies=CSRF)
def incident_facts(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    updates: Annotated[dict[str, str], Depends(_facts_form)],
) -> Response:
    """Add the report facts filled in (``incidents facts --set``); empty fields are left
    as they are; none filled is bad input."""
    from handover.flows.incidents import set_facts

    console = console_of(request)
    set_facts(console.ws, incident_id, updates, clock=console.now, actor=me.person.name)
    return _back(incident_id, "facts")


@router.post("/incidents/{incident_id}/reports", dependencies=CSRF)
def incident_report(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    kind: Annotated[str, Form(max_length=20)],
) -> Response:
    """File the next report of ``kind`` (initial, supplement, summary): HTML, PDF and DOCX
    in zh-CN and en, hashed into the ledger (``incidents report``)."""
    from handover.flows.incidents import file_report

    console = console_of(request)
    file_report(console.ws, incident_id, kind, clock=console.now, actor=me.person.name)
    return _back(incident_id, "report")


@router.get("/incidents/{incident_id}/reports/{report_id}/{name}")
def incident_report_file(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    report_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    name: Annotated[str, Path(max_length=160)],
) -> Response:
    """One file of a filed report, as registered (name and SHA-256) when it was filed."""
    return report_file(console_of(request).ws, incident_id, report_id, name)


def report_file(ws: Any, incident_id: int, report_id: int, name: str) -> Response:
    """File ``name`` of report ``report_id`` of incident ``incident_id`` (404 when either is
    not there), served only while it has the SHA-256 registered when it was filed (409)."""
    from handover.incidents.records import get_incident
    from handover.web.files import download

    inc = get_incident(ws, incident_id)
    rep = next((r for r in inc.reports if r.id == report_id), None)
    if rep is None:
        raise HTTPException(404)
    return download(ws, rep.folder, name, rep.files)


@router.post("/incidents/{incident_id}/handled", dependencies=CSRF)
def incident_handled(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Handling ended (now, or at the time given): the summary-report clocks start."""
    from handover.flows.incidents import mark_handled

    console = console_of(request)
    when = _when(request, at, "at")
    mark_handled(console.ws, incident_id, at=when, clock=console.now, actor=me.person.name)
    return _back(incident_id, "handled")


@router.post("/incidents/{incident_id}/met", dependencies=CSRF)
def incident_met(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    obligation: Annotated[int, Form(ge=1, le=2**31 - 1)],
    note: Reason,
    at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """A duty met outside handover (a call, a letter), with a note (``incidents done``)."""
    from handover.flows.incidents import obligation_met
    from handover.incidents.records import get_incident

    console = console_of(request)
    if obligation not in {o.id for o in get_incident(console.ws, incident_id).obligations}:
        raise HTTPException(404)
    when = _when(request, at, "at")
    obligation_met(
        console.ws, obligation, note=note, at=when, clock=console.now, actor=me.person.name
    )
    return _back(incident_id, "met")


@router.post("/incidents/{incident_id}/actions", dependencies=CSRF)
def incident_action(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    what: Annotated[str, Form(min_length=1, max_length=300)],
    owner: Annotated[str, Form(min_length=1, max_length=64)],
    due_on: Annotated[dt.date, Form()],
) -> Response:
    """A follow-up action with its owner (a registered person) and due date."""
    from handover.flows.incidents import add_action

    console = console_of(request)
    add_action(
        console.ws,
        incident_id,
        what,
        owner=owner,
        due_on=due_on,
        clock=console.now,
        actor=me.person.name,
    )
    return _back(incident_id, "action")


@router.post("/incidents/{incident_id}/actions/{action_id}/done", dependencies=CSRF)
def incident_action_done(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    action_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    """Mark a follow-up action of this incident done."""
    from handover.flows.incidents import finish_action
    from handover.incidents.records import get_incident

    console = console_of(request)
    if action_id not in {a.id for a in get_incident(console.ws, incident_id).actions}:
        raise HTTPException(404)
    finish_action(console.ws, action_id, clock=console.now, actor=me.person.name)
    return _back(incident_id, "action_done")


@router.post("/incidents/{incident_id}/close", dependencies=CSRF)
def incident_close(
    request: Request,
    me: Session,
    incident_id: IncidentId,
    root_cause: Reason,
    lessons: Reason,
) -> Response:
    """Close a handled incident with its review (root cause, lessons)."""
    from handover.flows.incidents import close

    console = console_of(request)
    close(
        console.ws,
        incident_id,
        root_cause=root_cause,
        lessons=lessons,
        clock=console.now,
        actor=me.person.name,
    )
    return _back(incident_id, "closed")


# --- drills ----------------------------------------------------------------------------------


@router.post("/incidents/drills", dependencies=CSRF)
def drill_schedule(
    request: Request,
    me: Session,
    scenario: Annotated[str, Form(min_length=1, max_length=60)],
    at: Annotated[str, Form(min_length=1, max_length=40)],
    participants: Annotated[str, Form(min_length=1, max_length=1000)],
) -> Response:
    """Schedule a drill of a scenario with registered participants (``drills schedule``)."""
    from handover.errors import BadInput
    from handover.flows.incidents import schedule
    from handover.web.jobs import table_list

    console = console_of(request)
    when = _when(request, at, "at")
    if when is None:  # blank: no time given
        raise BadInput.msg("web.invalid", fields="at")
    d = schedule(
        console.ws,
        scenario,
        at=when,
        participants=table_list(participants) or (),
        clock=console.now,
        actor=me.person.name,
    )
    return RedirectResponse(f"/incidents?notice=drill_scheduled&id={d.id}", 303)


@router.post("/incidents/drills/{drill_id}/start", dependencies=CSRF)
def drill_start(
    request: Request, me: Session, drill_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> Response:
    """Start a scheduled drill: its scenario becomes a drill incident (nothing is sent)."""
    from handover.flows.incidents import start

    console = console_of(request)
    inc = start(console.ws, drill_id, clock=console.now, actor=me.person.name)
    return RedirectResponse(f"/incidents/{inc.id}", 303)


@router.post("/incidents/drills/{drill_id}/finish", dependencies=CSRF)
def drill_finish(
    request: Request,
    me: Session,
    drill_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    lessons: Reason,
) -> Response:
    """Finish a running drill with its lessons; the time used per duty is computed."""
    from handover.flows.incidents import finish

    console = console_of(request)
    d = finish(console.ws, drill_id, lessons=lessons, clock=console.now, actor=me.person.name)
    if d.incident_id is not None:
        return _back(d.incident_id, "drill_finished")
    return RedirectResponse(f"/incidents?notice=drill_finished&id={d.id}", 303)
