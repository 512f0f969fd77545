"""``handover notices …``: PIPL Art. 22 customer notice campaigns (docs/notices.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from handover.cli.common import (
    allow_bad_rows_option,
    console,
    file_reading,
    handled,
    json_option,
    lang_of,
    mysql_escapes_option,
    no_header_option,
    print_json,
    workspace_of,
)
from handover.errors import MAX_ID

app = typer.Typer(
    help="客户告知(个人信息保护法第二十二条)/ customer notices (PIPL Art. 22).",
    no_args_is_help=True,
)


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@app.command("create")
def create(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="The scanned seller database (SQLite file or URL)."),
    name: str = typer.Option("PIPL Art. 22", "--name", help="Name of the campaign."),
    channel: list[str] = typer.Option(
        ["email,sms"], "--channel", "-c", help="email, sms, letter (repeat or comma-separate)."
    ),
    tables: list[str] = typer.Option([], "--tables", "-t", help="Only these people tables."),
    exclude: list[str] = typer.Option([], "--exclude", help="Leave out these people tables."),
    content: Path | None = typer.Option(
        None, "--content", help="TOML file with the element texts (purposes, retention …)."
    ),
    template_email: Path | None = typer.Option(
        None, "--template-text", help="Jinja2 template of the full notice (plain text)."
    ),
    template_html: Path | None = typer.Option(
        None, "--template-html", help="Jinja2 template of the full notice (HTML e-mail)."
    ),
    template_sms: Path | None = typer.Option(None, "--template-sms", help="Jinja2 SMS template."),
    link: str | None = typer.Option(
        None, "--link", help="Where the full notice is published (SMS)."
    ),
    sms_max: int = typer.Option(
        500, "--sms-max-chars", min=1, max=500, help="Provider's SMS length limit (at most 500)."
    ),
    lang: str | None = typer.Option(None, "--lang", help="Notice language: zh-CN (default) or en."),
    kind: str = typer.Option(
        "notice", "--kind", help="notice (PIPL Art. 22) or consent (a new purpose, Art. 14)."
    ),
    new_purpose: str | None = typer.Option(
        None, "--new-purpose", help="The new purpose a consent campaign asks about."
    ),
    allow_bad_rows: int = allow_bad_rows_option(),
    no_header: bool = no_header_option(),
    mysql_escapes: str = mysql_escapes_option(),
    json_out: bool = json_option(),
) -> None:
    """Create a campaign (no data read) and request the grant sending needs; an approver
    other than you approves it with `handover notices approve`."""
    from handover.flows.notices import create_campaign
    from handover.i18n import t

    ui = lang_of(ctx)
    templates = {
        k: v
        for k, v in (
            ("notice.txt", template_email),
            ("notice.html", template_html),
            ("sms.txt", template_sms),
        )
        if v is not None
    }
    with handled(), workspace_of(ctx, data=True) as ws:
        camp = create_campaign(
            ws,
            source,
            name=name,
            channels=_split(channel),
            lang=lang,
            tables=_split(tables),
            exclude=_split(exclude),
            content_file=content,
            templates=templates,
            link=link,
            sms_max_chars=sms_max,
            kind=kind,
            new_purpose=new_purpose,
            reading=file_reading(allow_bad_rows, no_header, mysql_escapes),
        )
    if json_out:
        print_json(camp.to_json())
        return
    console.print(
        t("notices.created", ui, id=camp.id, tables=len(camp.people), grant=camp.grant_id)
    )


@app.command("preview")
def preview(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    channel: str = typer.Option("email", "--channel", "-c", help="email, sms or letter."),
    html: bool = typer.Option(False, "--html", help="The HTML e-mail instead of the text."),
) -> None:
    """Render the campaign's notice for a sample person with masked data."""
    from handover.flows.notices import preview as render_preview

    with handled(), workspace_of(ctx) as ws:
        text = render_preview(ws, campaign, channel, html=html)
    typer.echo(text)


@app.command("approve")
def approve(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    actor: str | None = typer.Option(None, "--as", help="Approver (default: who is logged in)."),
    json_out: bool = json_option(),
) -> None:
    """Approve a campaign (maker-checker: an approver other than its maker)."""
    from handover.flows.notices import approve_campaign
    from handover.i18n import t

    ui = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        res = approve_campaign(ws, campaign, actor=actor)
    if json_out:
        print_json(res)
        return
    console.print(
        t(
            "notices.approved",
            ui,
            id=campaign,
            state=res["state"],
            have=len(res["approved_by"]),
            need=res["approvals_needed"],
        )
    )


def _positive(value: float | None) -> float | None:
    """``--rate``: more than 0 (0 or less would never send, or send unthrottled)."""
    if value is not None and not value > 0:
        raise typer.BadParameter("Input should be greater than 0")
    return value


@app.command("send")
def send(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    source: str = typer.Argument(..., help="The source the campaign was created on."),
    resume: bool = typer.Option(False, "--resume", help="Continue a started campaign."),
    smtp_host: str | None = typer.Option(None, "--smtp-host", help="SMTP submission server."),
    smtp_port: int = typer.Option(587, "--smtp-port", min=1, max=65535, help="SMTP port."),
    smtp_security: str = typer.Option(
        "starttls", "--smtp-security", help="starttls (default), ssl or none."
    ),
    smtp_user: str | None = typer.Option(
        None, "--smtp-user", help="SMTP user (password from HANDOVER_SMTP_PASSWORD)."
    ),
    sender: str | None = typer.Option(None, "--sender", help="From: address of the e-mails."),
    sms_endpoint: str | None = typer.Option(
        None, "--sms-endpoint", help="Aliyun SMS endpoint (or the local stand-in's URL)."
    ),
    sms_key_id: str | None = typer.Option(
        None, "--sms-key-id", help="AccessKey id (secret from HANDOVER_SMS_SECRET)."
    ),
    sms_sign: str | None = typer.Option(None, "--sms-sign", help="Registered SMS signature."),
    sms_template: str | None = typer.Option(
        None, "--sms-template", help="Registered TemplateCode of the notice SMS."
    ),
    smtp_connections: int = typer.Option(
        1,
        "--smtp-connections",
        min=1,
        max=16,
        help="SMTP connections used at once (at most one message in flight on each).",
    ),
    batch: int = typer.Option(
        200, "--batch", min=1, max=10_000, help="Notices claimed per transaction."
    ),
    rate: float | None = typer.Option(
        None,
        "--rate",
        max=100_000,
        callback=_positive,
        help="At most this many messages a second (more than 0).",
    ),
    json_out: bool = json_option(),
) -> None:
    """Send every pending notice of an approved campaign exactly once."""
    from handover.errors import BadInput
    from handover.flows.notices import send_campaign
    from handover.i18n import t
    from handover.notices.channels import SECURITIES, SmtpConfig
    from handover.notices.sms import AliyunSmsConfig
    from handover.settings import is_address, secret_value

    ui = lang_of(ctx)
    with handled():
        if sender is not None and not is_address(sender.strip()):
            # checked before the workspace is opened: nothing is recorded or sent
            raise BadInput.msg("notices.bad_sender", value=sender[:100])
    with handled(), workspace_of(ctx, data=True) as ws:
        smtp = None
        if smtp_host:
            if smtp_security not in SECURITIES:
                raise BadInput.msg(
                    "notices.bad_security", value=smtp_security, values=", ".join(SECURITIES)
                )
            if not sender:
                raise BadInput.msg("notices.no_smtp", id=campaign)
            smtp = SmtpConfig(
                host=smtp_host,
                port=smtp_port,
                sender=sender.strip(),
                security=smtp_security,  # type: ignore[arg-type]
                username=smtp_user,
                password=secret_value(ws.settings.smtp_password),
            )
        sms = None
        if sms_endpoint:
            if not (sms_key_id and sms_sign and sms_template):
                raise BadInput.msg("notices.no_sms", id=campaign)
            sms = AliyunSmsConfig(
                endpoint=sms_endpoint,
                access_key_id=sms_key_id,
                access_key_secret=secret_value(ws.settings.sms_secret) or "",
                sign_name=sms_sign,
                template_code=sms_template,
            )
        report = send_campaign(
            ws,
            campaign,
            source,
            smtp=smtp,
            sms=sms,
            resume=resume,
            batch=batch,
            rate=rate,
            smtp_connections=smtp_connections,
        )
    if json_out:
        print_json(report.to_json())
        return
    for st in report.channels:
        console.print(
            t(
                "notices.sent_line",
                ui,
                channel=st.channel,
                sent=st.sent,
                retry=st.retry,
                failed=st.failed,
                in_doubt=st.in_doubt,
            )
        )
        if st.settle_wait_s:
            waited = f"{st.settle_wait_s:.0f}"
            console.print(t("notices.settle_waited", ui, channel=st.channel, seconds=waited))
    for ch in report.skipped_channels:
        console.print(t("notices.channel_later", ui, channel=ch))
    console.print(
        t(
            "notices.sent_total",
            ui,
            id=campaign,
            pending=report.pending,
            unreachable=report.unreachable,
        )
    )


@app.command("receipts")
def receipts(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    reports: str = typer.Argument(
        ..., help="SmsReport receipts: a JSON file, or the http:// URL that serves them."
    ),
    json_out: bool = json_option(),
) -> None:
    """Apply SMS delivery receipts (SmsReport JSON) to a campaign's notices."""
    from handover.flows.notices import record_receipts
    from handover.i18n import t

    ui = lang_of(ctx)
    with handled():
        data = _read_json(reports, "notices.receipts_unreadable")
        with workspace_of(ctx) as ws:
            res = record_receipts(ws, campaign, data)
    if json_out:
        print_json(res)
        return
    console.print(t("notices.receipts_line", ui, id=campaign, **res))


@app.command("status")
def status(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    json_out: bool = json_option(),
) -> None:
    """A campaign and its notices per channel and state."""
    from handover.flows.notices import campaign_status

    with handled(), workspace_of(ctx) as ws:
        res = campaign_status(ws, campaign)
    if json_out:
        print_json(res)
        return
    from rich.table import Table

    from handover.i18n import t

    ui = lang_of(ctx)
    table = Table(title=t("notices.status_title", ui, id=campaign, name=res["name"]))
    table.add_column(t("notices.col.channel", ui))
    table.add_column(t("notices.col.state", ui))
    table.add_column(t("notices.col.count", ui), justify="right")
    for ch, states in sorted(res["outbox"].items()):
        for st, n in sorted(states.items()):
            table.add_row(ch, st, f"{n:,}")
    console.print(table)


def _read_json(where: str, key: str) -> object:
    """JSON from a file or the http(s) URL serving it (BadInput with ``key`` otherwise)."""
    import json

    from handover.errors import BadInput

    try:
        if where.startswith(("http://", "https://")):
            import urllib.request

            with urllib.request.urlopen(where, timeout=30) as resp:
                return json.loads(resp.read())
        return json.loads(Path(where).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput.msg(key, path=where, reason=type(exc).__name__) from None


@app.command("replies")
def replies_cmd(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    replies: str = typer.Argument(
        ..., help="SmsUp replies: a JSON file, or the http:// URL that serves them."
    ),
    json_out: bool = json_option(),
) -> None:
    """Record SMS replies (objections, opt-outs, deletion requests, yes/no to consent)."""
    from handover.flows.notices import import_replies
    from handover.i18n import t

    ui = lang_of(ctx)
    with handled():
        data = _read_json(replies, "notices.replies_unreadable")
        with workspace_of(ctx) as ws:
            res = import_replies(ws, campaign, data)
    if json_out:
        print_json(res)
        return
    kinds = ", ".join(
        f"{t(f'notices.reply.{k}', ui)} {n}"
        for k, n in res.items()
        if k not in ("recorded", "duplicate", "cancelled", "unmatched") and n
    )
    console.print(
        t(
            "notices.replies_line",
            ui,
            id=campaign,
            recorded=res["recorded"],
            duplicate=res["duplicate"],
            unmatched=res.get("unmatched", 0),
            kinds=kinds or "-",
        )
    )


@app.command("objection")
def objection(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    kind: str = typer.Option(
        "objection",
        "--kind",
        help="objection, opt_out, deletion, consent_yes, consent_no or other.",
    ),
    via: str = typer.Option(
        "letter", "--via", help="How it came: letter, phone, counter, email, sms, web."
    ),
    reference: str | None = typer.Option(
        None, "--reference", help="The reference printed on the person's notice."
    ),
    mobile: str | None = typer.Option(None, "--mobile", help="Or the person's mobile."),
    email: str | None = typer.Option(None, "--email", help="Or the person's e-mail."),
    json_out: bool = json_option(),
) -> None:
    """Record one person's objection, opt-out, deletion request or consent answer."""
    from handover.flows.notices import record_reply
    from handover.i18n import t

    ui = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        res = record_reply(
            ws, campaign, kind, via=via, reference=reference, mobile=mobile, email=email
        )
    if json_out:
        print_json(res)
        return
    if res["recorded"]:
        console.print(
            t(
                "notices.replied",
                ui,
                id=campaign,
                kind=t(f"notices.reply.{kind}", ui),
                recipient=res["recipient"][:12],
            )
        )
    else:
        console.print(t("notices.reply_again", ui, id=campaign))


@app.command("announce")
def announce(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    out: Path | None = typer.Option(None, "--out", help="Folder (default: in the workspace)."),
    template_text: Path | None = typer.Option(
        None, "--template-text", help="Jinja2 template of the announcement (text, for the PDF)."
    ),
    template_html: Path | None = typer.Option(
        None, "--template-html", help="Jinja2 template of the announcement (HTML)."
    ),
    json_out: bool = json_option(),
) -> None:
    """Write the public announcement (HTML + PDF) for the people not reached one by one."""
    from handover.flows.notices import announce_campaign
    from handover.i18n import t

    ui = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        ann = announce_campaign(
            ws, campaign, out=out, text_template=template_text, html_template=template_html
        )
    if json_out:
        print_json(
            {
                "html": str(ann.html),
                "pdf": str(ann.pdf),
                "sha256": ann.sha256,
                "unreachable": ann.unreachable,
            }
        )
        return
    console.print(
        t(
            "notices.announced",
            ui,
            id=campaign,
            unreachable=ann.unreachable,
            files=f"{ann.html}, {ann.pdf}",
        )
    )


@app.command("report")
def report(
    ctx: typer.Context,
    campaign: int = typer.Argument(..., help="Campaign id.", min=1, max=MAX_ID),
    out: Path | None = typer.Option(None, "--out", help="Folder (default: workspace reports/)."),
    lang: str | None = typer.Option(None, "--lang", help="zh-CN (default) or en."),
    json_out: bool = json_option(),
) -> None:
    """The campaign report (XLSX + HTML): reach per channel, delivery, replies, the
    unreachable list (masked)."""
    from handover.flows.notices import campaign_report
    from handover.i18n import t

    ui = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        files = campaign_report(ws, campaign, lang=lang or ui, out=out)
    if json_out:
        print_json({"files": [str(f) for f in files]})
        return
    console.print(t("notices.reported", ui, id=campaign, files=", ".join(str(f) for f in files)))


def register(root: typer.Typer) -> None:
    """Add ``notices`` to the root command."""
    root.add_typer(app, name="notices")
