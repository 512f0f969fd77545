"""The impact assessment page (GB/T 39335, PIPL Art. 55/56): every assessment's status,
the risk register with overdue reviews, and the compliance checklist — its last run's
score and failing items, and a new run (``handover compliance check``) whose results are
shown item by item with their evidence and counter-examples, each a ledger entry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from handover.web.pages import CSRF, Session
from handover.web.security import console_of

router = APIRouter(include_in_schema=False)


def _context(request: Request) -> dict[str, Any]:
    from handover.flows.pia import risks, status
    from handover.pia.method import load_method

    console = console_of(request)
    lang = console.lang_of(request)
    now = console.now()
    method = load_method()
    return {
        "st": status(console.ws, now=now),
        "risks": risks(console.ws, now=now),
        "label": lambda kind, key: method.label(kind, key, lang),
    }


@router.get("/pia", response_class=HTMLResponse)
def pia_page(request: Request, me: Session) -> Response:
    """Assessments, risks (overdue reviews first in the warnings), the last checklist run."""
    console = console_of(request)
    return console.render(request, "pia.html", results=None, **_context(request))


@router.post("/pia/checklist", dependencies=CSRF)
def pia_check(request: Request, me: Session) -> Response:
    """Evaluate the checklist now from the ledger (recomputed first) and the governance
    facts, as ``handover compliance check`` (``compliance.check``: DPO, compliance officer,
    auditor; refused: 403 and ledgered); the results are recorded and shown."""
    from handover.flows.pia import check

    console = console_of(request)
    report = check(console.ws, actor=me.person.name, now=console.now())
    lang = console.lang_of(request)
    items = [r.to_json(lang) for r in report.results]
    return console.render(
        request,
        "pia.html",
        results={"line": report.line(lang), "seq": report.seq, "items": items},
        **_context(request),
    )
