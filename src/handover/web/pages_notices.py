"""The notices pages (PIPL Art. 22 campaigns): every campaign with its counts and reach,
one campaign with its grant's approvals, a masked preview of each channel's notice, the
checker's approval, and sending as a background job. Each action is the flow call the
CLI's ``handover notices`` makes; no customer value is shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handover.i18n import Lang
from handover.web.pages import CSRF, Session
from handover.web.security import RowId, console_of

router = APIRouter(include_in_schema=False)


@router.get("/notices", response_class=HTMLResponse)
def notices_page(request: Request, me: Session, notice: str = "", campaign: int = 0) -> Response:
    """Every campaign (newest first) with its state, and the form that creates one."""
    from handover.flows.notices import campaign_status
    from handover.i18n import LANGS
    from handover.notices.campaign import CAMPAIGN_KINDS, CHANNELS, list_campaigns
    from handover.web.jobs import source_default

    console = console_of(request)
    rows = [campaign_status(console.ws, c.id, now=console.now) for c in list_campaigns(console.ws)]
    return console.render(
        request,
        "notices.html",
        campaigns=rows,
        channels=CHANNELS,
        kinds=tuple(k for k in CAMPAIGN_KINDS if k != "breach"),  # breach: from an incident
        notice_langs=LANGS,
        notice_lang=console.ws.settings.lang,  # the customers' language, not the reader's
        source=source_default(console.ws),
        notice="created" if notice == "created" else "",
        notice_id=campaign,
    )


@router.post("/notices", dependencies=CSRF)
def notices_create(
    request: Request,
    me: Session,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    source: Annotated[str, Form(max_length=500)],
    channels: Annotated[list[str], Form()],
    kind: Annotated[str, Form(pattern="^(notice|consent)$")] = "notice",
    lang: Annotated[Lang | None, Form()] = None,
    tables: Annotated[str, Form(max_length=2000)] = "",
    link: Annotated[str, Form(max_length=500)] = "",
    new_purpose: Annotated[str, Form(max_length=500)] = "",
    no_header: Annotated[bool, Form()] = False,
    mysql_escapes: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Create a campaign as ``handover notices create`` does: templates checked, people
    tables from the inventory, the sending grant requested (I am its maker); the notices in
    the language chosen, else the workspace's (never the reader's screen language)."""
    from handover.flows.notices import create_campaign
    from handover.web.jobs import console_path, form_reading, table_list

    console = console_of(request)
    spec = console_path(console.ws, source, "source")
    camp = create_campaign(
        console.ws,
        spec,
        name=name,
        channels=channels,
        lang=lang,
        tables=table_list(tables) or (),
        link=link.strip() or None,
        kind=kind,
        new_purpose=new_purpose.strip() or None,
        actor=me.person.name,
        now=console.now,
        reading=form_reading(no_header, mysql_escapes),
    )
    return RedirectResponse(f"/notices/{camp.id}?notice=created", 303)


@router.get("/notices/{campaign_id}", response_class=HTMLResponse)
def notice_page(
    request: Request,
    me: Session,
    campaign_id: RowId,
    preview: Annotated[str, Query(pattern="^(|email|email_html|sms|letter)$")] = "",
    notice: str = "",
) -> Response:
    """One campaign: status, grant and approvals, reach per channel, replies, the
    masked preview asked for, approval and the send form."""
    from handover.flows.notices import campaign_status
    from handover.flows.notices import preview as render_preview
    from handover.governance.grants import approval_refusal, list_grants
    from handover.notices.channels import SECURITIES
    from handover.web.jobs import list_jobs, source_default

    console = console_of(request)
    status = campaign_status(console.ws, campaign_id, now=console.now)
    shown = None
    if preview:
        channel = "email" if preview == "email_html" else preview
        shown = render_preview(console.ws, campaign_id, channel, html=preview == "email_html")
    grant = next(
        (g for g in list_grants(console.ws, now=console.now()) if g.id == status["grant_id"]),
        None,
    )
    # The library's maker-checker rule decides whether the button is offered (and again
    # when it is pressed).
    may_approve = grant is not None and approval_refusal(me.person, grant) is None
    jobs = [
        j
        for j in list_jobs(console.ws)
        if j.kind == "notices.send" and j.params.get("campaign") == campaign_id
    ]
    return console.render(
        request,
        "notice.html",
        c=status,
        preview=preview,
        shown=shown,
        may_approve=may_approve,
        securities=SECURITIES,
        source=source_default(console.ws),
        jobs=jobs,
        notice=notice if notice in ("created", "approved") else "",
    )


@router.post("/notices/{campaign_id}/approve", dependencies=CSRF)
def notice_approve(request: Request, me: Session, campaign_id: RowId) -> Response:
    """Approve the campaign's grant as the checker (``handover notices approve``): an
    approver other than its maker; refusals are ledgered by the library."""
    from handover.flows.notices import approve_campaign

    console = console_of(request)
    approve_campaign(console.ws, campaign_id, actor=me.person.name, now=console.now)
    return RedirectResponse(f"/notices/{campaign_id}?notice=approved", 303)


@router.post("/notices/{campaign_id}/send", dependencies=CSRF)
def notice_send(
    request: Request,
    me: Session,
    campaign_id: RowId,
    source: Annotated[str, Form(max_length=500)],
    smtp_host: Annotated[str, Form(max_length=255)] = "",
    smtp_port: Annotated[int, Form(ge=1, le=65535)] = 587,
    smtp_security: Annotated[str, Form(max_length=20)] = "starttls",
    smtp_user: Annotated[str, Form(max_length=255)] = "",
    sender: Annotated[str, Form(max_length=255)] = "",
    smtp_connections: Annotated[int, Form(ge=1, le=16)] = 1,
    sms_endpoint: Annotated[str, Form(max_length=500)] = "",
    sms_key_id: Annotated[str, Form(max_length=100)] = "",
    sms_sign: Annotated[str, Form(max_length=100)] = "",
    sms_template: Annotated[str, Form(max_length=100)] = "",
    batch: Annotated[int, Form(ge=1, le=10_000)] = 200,
    rate: Annotated[float | None, Form(gt=0, le=100_000)] = None,
    resume: Annotated[bool, Form()] = False,
) -> Response:
    """Send the campaign in the background (``handover notices send``; ``resume``: continue
    a started one, as ``--resume``), decided now: ``notices.send`` on its contact columns
    in clear, its grant approved."""
    from handover.web.api_notices import check_sender
    from handover.web.jobs import SendForm, plan_send, start

    console = console_of(request)
    check_sender(sender)
    form = SendForm(
        campaign=campaign_id,
        source=source,
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        smtp_security=smtp_security,
        smtp_user=smtp_user,
        sender=sender,
        smtp_connections=smtp_connections,
        sms_endpoint=sms_endpoint,
        sms_key_id=sms_key_id,
        sms_sign=sms_sign,
        sms_template=sms_template,
        batch=batch,
        rate=rate,
    )
    job = start(console, plan_send(console, me.person.name, form, resume=resume))
    return RedirectResponse(f"/jobs/{job.id}", 303)
