"""The incidents page: open duties with their legal clocks counting down, incidents and
security events; record an event (anyone registered), promote it to an incident and
raise a grade (the DPO or compliance officer). Each action is the flow
``handover incidents`` calls, decided for the person logged in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handover.web.pages import CSRF, Session, partial
from handover.web.security import console_of

router = APIRouter(include_in_schema=False)

Reason = Annotated[str, Form(min_length=1, max_length=2000)]
Count = Annotated[int | None, Form(ge=0, le=2_000_000_000)]
NOTICES = ("event", "promoted", "graded")


def left(seconds: int) -> tuple[str, dict[str, int]]:
    """A duty's time left as the catalogue's ``incidents.cli.left``/``overdue`` key and
    its hours and minutes (shown in the reader's language)."""
    h, m = divmod(abs(seconds) // 60, 60)
    return ("incidents.cli.left" if seconds >= 0 else "incidents.cli.overdue"), {"h": h, "m": m}


def _context(request: Request) -> dict[str, Any]:
    from handover.flows.incidents import status
    from handover.incidents.incidents import (
        CATEGORIES,
        REMIND_AT,
        list_events,
        list_incidents,
    )
    from handover.incidents.rules import GRADES

    console = console_of(request)
    st = status(console.ws, clock=console.now)
    duties = []
    for d in st.duties:
        seconds = int(d.obligation.left(st.at).total_seconds())
        key, values = left(seconds)
        duties.append(
            {
                **d.to_json(st.at),
                "left_key": key,
                "left_values": values,
                "late": seconds < 0,
                # past the share of its time at which the library sends a reminder
                "soon": seconds >= 0 and d.obligation.elapsed(st.at) >= REMIND_AT,
            }
        )
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
