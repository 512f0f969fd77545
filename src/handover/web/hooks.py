"""What the SMS provider pushes back: delivery receipts (``SmsReport``) and people's
replies (``SmsUp``), each a JSON array POSTed to one URL for every campaign.

The provider authenticates as the ``sms_hook`` service account (``handover people
service sms-hook --role sms_hook``): its token in ``Authorization: Bearer`` — never in the
URL. The routes only adapt: :func:`handover.flows.notices.push_receipts` and
:func:`~handover.flows.notices.push_replies` decide, match by keyed token and ledger the
counts. The answer is the provider's convention: ``{"code": 0}`` when everything was taken;
``{"code": 1}`` when some receipts match no notice yet (a receipt can overtake the send's
own answer), so the provider pushes them again — a receipt taken twice changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from handover.i18n import t
from handover.web.api import ERRORS
from handover.web.security import LoginNeeded, bearer, console_of

router = APIRouter(prefix="/api/hooks/sms", tags=["provider hooks"])
#: entries of one push at most (Aliyun pushes up to 100 receipts a request)
MAX_ENTRIES = 10_000
Entries = Annotated[list[dict[str, Any]], Body(max_length=MAX_ENTRIES)]


def _service(request: Request) -> str:
    """The service account of the request's bearer token: 401 without one, 403 (Refused,
    ledgered) for an unknown, revoked or expired one."""
    from handover.governance.service import service_actor

    console = console_of(request)
    token = bearer(request)
    if token is None:
        raise LoginNeeded()
    return service_actor(console.ws, token, now=console.now())


#: the pushing service account, decided before the body is read
Service = Annotated[str, Depends(_service)]


def _answer(request: Request, counts: dict[str, int], retry: bool) -> JSONResponse:
    lang = console_of(request).lang_of(request)
    key = "web.hooks.retry" if retry else "web.hooks.taken"
    return JSONResponse({"code": 1 if retry else 0, "msg": t(key, lang), "counts": counts})


@router.post("/receipts", responses=ERRORS)
def sms_receipts(request: Request, actor: Service, entries: Entries) -> JSONResponse:
    """Delivery receipts of any campaign's SMS (an ``SmsReport`` JSON array)."""
    from handover.flows.notices import push_receipts

    counts = push_receipts(console_of(request).ws, entries, actor=actor)
    return _answer(request, counts, counts["unmatched"] > 0)


@router.post("/replies", responses=ERRORS)
def sms_replies(request: Request, actor: Service, entries: Entries) -> JSONResponse:
    """People's replies by SMS (an ``SmsUp`` JSON array)."""
    from handover.flows.notices import push_replies

    console = console_of(request)
    counts = push_replies(console.ws, entries, actor=actor, now=console.now)
    return _answer(request, counts, False)
