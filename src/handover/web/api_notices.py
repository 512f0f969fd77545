"""The JSON API's customer notices (PIPL Art. 22): campaigns listed, created, approved by
the checker, and sent as a background job — the flows ``handover notices create``,
``approve`` and ``send`` call, decided for this token's person; refusals are 403 and
ledgered. The SMTP password and the SMS secret are settings of the server, never part
of a request. Same authentication as :mod:`handover.web.api`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from handover.i18n import Lang
from handover.web.api import ERRORS, JSON, MYSQL_ESCAPES, NO_HEADER, MysqlLayout, Session
from handover.web.security import RowId, console_of

router = APIRouter(prefix="/api", tags=["notices"])


class CampaignIn(BaseModel):
    """A new campaign, as ``handover notices create`` (``breach`` campaigns come from an
    incident: ``handover incidents notify``)."""

    name: str = Field(min_length=1, max_length=200)
    source: str = Field(max_length=500, description="a file in the workspace, or a URL")
    channels: list[str] = Field(min_length=1, max_length=4, description="email, sms, letter")
    kind: str = Field("notice", pattern="^(notice|consent)$")
    lang: Lang | None = Field(
        None, description="the notices' language, zh-CN or en; absent: the workspace's"
    )
    tables: str = Field("", max_length=2000, description="comma-separated; empty: every one")
    link: str = Field("", max_length=500)
    new_purpose: str = Field("", max_length=500)
    no_header: bool = Field(False, description=NO_HEADER)
    mysql_escapes: MysqlLayout = Field("", description=MYSQL_ESCAPES)


class SendIn(BaseModel):
    """Where a campaign's notices go: the source again, the SMTP server and the SMS account
    (their secrets are the server's settings), batch and rate; ``resume`` continues a
    started campaign (``--resume``)."""

    source: str = Field(max_length=500)
    smtp_host: str = Field("", max_length=255)
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: str = Field("starttls", max_length=20)
    smtp_user: str = Field("", max_length=255)
    sender: str = Field("", max_length=255)
    smtp_connections: int = Field(1, ge=1, le=16)
    sms_endpoint: str = Field("", max_length=500)
    sms_key_id: str = Field("", max_length=100)
    sms_sign: str = Field("", max_length=100)
    sms_template: str = Field("", max_length=100)
    batch: int = Field(200, ge=1, le=10_000)
    rate: float | None = Field(None, gt=0, le=100_000)
    resume: bool = False


def check_sender(sender: str) -> None:
    """A ``sender`` given must have the shape of an e-mail address (a 400 naming the
    field, before anything is decided or sent); none given is the send's own check."""
    from handover.errors import BadInput
    from handover.settings import is_address

    if sender.strip() and not is_address(sender.strip()):
        raise BadInput.msg("web.invalid", fields="sender")


@router.get("/notices", responses=ERRORS)
def api_notices(request: Request, me: Session) -> list[JSON]:
    """Every campaign, newest first, with its state and reach per channel (no personal
    data: counts, masked source, hashes)."""
    from handover.flows.notices import campaign_status
    from handover.notices.campaign import list_campaigns

    console = console_of(request)
    return [campaign_status(console.ws, c.id, now=console.now) for c in list_campaigns(console.ws)]


@router.post("/notices", responses=ERRORS)
def api_notices_create(request: Request, me: Session, body: CampaignIn) -> JSON:
    """Create a campaign (templates checked, audience from the inventory, the sending grant
    requested with this person as its maker); its state. The notices are in ``lang``, else
    the workspace's language — never the caller's ``Accept-Language``: the customers read
    them, not the operator."""
    from handover.flows.notices import campaign_status, create_campaign
    from handover.web.jobs import console_path, form_reading, table_list

    console = console_of(request)
    camp = create_campaign(
        console.ws,
        console_path(console.ws, body.source, "source"),
        name=body.name,
        channels=body.channels,
        lang=body.lang,
        tables=table_list(body.tables) or (),
        link=body.link.strip() or None,
        kind=body.kind,
        new_purpose=body.new_purpose.strip() or None,
        actor=me.person.name,
        now=console.now,
        reading=form_reading(body.no_header, body.mysql_escapes),
    )
    return campaign_status(console.ws, camp.id, now=console.now)


@router.get("/notices/{campaign_id}", responses=ERRORS)
def api_notice(request: Request, me: Session, campaign_id: RowId) -> JSON:
    """One campaign: state, grant, reach per channel, replies."""
    from handover.flows.notices import campaign_status

    console = console_of(request)
    return campaign_status(console.ws, campaign_id, now=console.now)


@router.post("/notices/{campaign_id}/approve", responses=ERRORS)
def api_notice_approve(request: Request, me: Session, campaign_id: RowId) -> JSON:
    """Approve the campaign's sending grant as a checker other than its maker."""
    from handover.flows.notices import approve_campaign, campaign_status

    console = console_of(request)
    approve_campaign(console.ws, campaign_id, actor=me.person.name, now=console.now)
    return campaign_status(console.ws, campaign_id, now=console.now)


@router.post("/notices/{campaign_id}/send", responses=ERRORS)
def api_notice_send(request: Request, me: Session, campaign_id: RowId, body: SendIn) -> JSON:
    """Send the campaign in the background, decided now (``notices.send`` on its contact
    columns in clear, its grant approved): the job, followed at ``/api/jobs/{id}``."""
    from handover.web.jobs import SendForm, plan_send, start

    console = console_of(request)
    check_sender(body.sender)
    fields = body.model_dump(exclude={"resume"})
    form = SendForm(campaign=campaign_id, **fields)
    return start(console, plan_send(console, me.person.name, form, resume=body.resume)).to_json()
