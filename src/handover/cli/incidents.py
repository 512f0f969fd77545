"""``handover incidents`` and ``handover drills``: parse, call one flow of
:mod:`handover.flows.incidents`, render. Times without an offset are read in the
workspace's time zone (``[incidents] timezone``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from handover.cli.common import (
    allow_bad_rows_option,
    fail,
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

if TYPE_CHECKING:
    from handover.incidents import Incident, Obligation

#: the largest count of people and loss in CNY taken, as the console's (a larger number
#: is a usage error, not an overflow in the store)
MAX_PEOPLE = 2_000_000_000
MAX_LOSS = 10**13

incidents_app = typer.Typer(
    help="安全事件与报告时限(国家网络安全事件报告管理办法、个人信息保护法第五十七条) / "
    "security incidents, legal reporting clocks, reports, early warning.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
drills_app = typer.Typer(
    help="应急演练 / incident drills (tabletop exercises flagged as drills; nothing is sent).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

JSON_OPT = json_option()


def _echo(text: str) -> None:
    typer.echo(text)


def _duty(o: Obligation, now: dt.datetime, lang: str, tz: str) -> str:
    """One duty: due when (a clock in days: its last day, 24:00 or when the recipient's
    business hours end) and the time left in hours or days; a holiday that moved its last
    day, and business hours that end it, on the lines below."""
    from handover.i18n import t

    left = (
        o.time_left(now).render(lang)
        if o.status == "open"
        else t(f"incidents.status.{o.status}", lang)
    )
    line = t(
        "incidents.cli.duty",
        lang,
        id=o.id,
        regime=t(f"incidents.regime.{o.regime}", lang),
        recipient=o.recipient_in(lang),
        kind=t(f"incidents.kind.{o.kind}", lang),
        due=o.due_text(tz),
        left=left,
    )
    for why in (o.extended(), o.business_hours()):
        if why is not None:
            line += "\n" + t("incidents.cli.duty_extended", lang, why=why.render(lang))
    return line


def _local(value: dt.datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _stamp(value: dt.datetime, tz: str) -> str:
    """A time in the workspace's zone with its offset (``2026-03-02 09:00+08:00``), for
    lines that stand alone in a listing."""
    from handover.incidents.records import zoned

    return zoned(value, tz, " ")


def _at(text: str, tz: str) -> str:
    """An ISO time from a result's or the ledger's JSON (UTC), as :func:`_stamp` shows it."""
    value = dt.datetime.fromisoformat(text)
    return _stamp(value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC), tz)


def _show(inc: Incident, lang: str, tz: str) -> None:
    from handover.i18n import t
    from handover.incidents.records import utc

    now = utc(dt.datetime.now(dt.UTC))
    _echo(
        t(
            "incidents.cli.promoted",
            lang,
            id=inc.id,
            grade=t(f"incidents.grade.{inc.grade}", lang),
            people="-" if inc.people_affected is None else f"{inc.people_affected:,}",
            aware=_local(inc.aware_at, tz),
            n=len(inc.obligations),
        )
    )
    if inc.affected.get("unknown"):
        _echo(t("incidents.cli.unknown_items", lang, items=", ".join(inc.affected["unknown"])))
    for o in inc.obligations:
        _echo(_duty(o, now, lang, tz))


def _facts(values: list[str]) -> dict[str, str]:
    from handover.errors import BadInput

    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise BadInput.msg("incidents.bad_fact", key=item, keys="KEY=VALUE")
        out[key.strip()] = value
    return out


# --- events and incidents ----------------------------------------------------------------------


@incidents_app.command("event")
def event(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="What happened, in one line."),
    noticed_at: str = typer.Option(
        ..., "--noticed-at", help="When it was noticed (ISO 8601; never in the future)."
    ),
    noticed_by: str | None = typer.Option(None, "--by", help="Who noticed it (default: you)."),
    description: str = typer.Option("", "--description", help="What is known so far."),
    system: list[str] = typer.Option([], "--system", help="A system concerned; repeatable."),
    data: list[str] = typer.Option(
        [], "--data", help="A table or table.column concerned; repeatable."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Record a security event (anyone registered may)."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        at = flow.local_time(ws, noticed_at, "--noticed-at")
        assert at is not None
        ev = flow.report_event(
            ws,
            title,
            noticed_at=at,
            noticed_by=noticed_by,
            description=description,
            systems=system,
            data=data,
        )
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json(ev.to_json())
    else:
        _echo(
            t(
                "incidents.cli.event_recorded",
                lang_of(ctx),
                id=ev.id,
                title=ev.title,
                at=_local(ev.noticed_at, tz),
            )
        )


@incidents_app.command("dismiss")
def dismiss(
    ctx: typer.Context,
    event_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Security event number."),
    reason: str = typer.Option(..., "--reason", help="Why this is no incident."),
) -> None:
    """Decide that a security event is no incident, with the reason."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        flow.dismiss_event(ws, event_id, reason=reason)
    _echo(t("incidents.cli.event_dismissed", lang_of(ctx), id=event_id))


@incidents_app.command("promote")
def promote(
    ctx: typer.Context,
    event_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Security event number."),
    reason: str = typer.Option(..., "--reason", help="Why this is an incident (recorded)."),
    aware_at: str | None = typer.Option(
        None, "--aware-at", help="When you became aware (default: when it was noticed)."
    ),
    category: str = typer.Option(
        "data_leak", help="data_leak, data_tamper, data_loss, ransomware, intrusion, outage, other."
    ),
    lead: str | None = typer.Option(None, "--lead", help="Responsible person (default: you)."),
    grade: str | None = typer.Option(
        None,
        "--grade",
        help="A grade above the computed one: significant, major, especially_major.",
    ),
    grade_reason: str | None = typer.Option(None, "--grade-reason", help="Why that grade."),
    people: int | None = typer.Option(
        None,
        "--people",
        min=0,
        max=MAX_PEOPLE,
        help="Affected people, when the inventory cannot count them.",
    ),
    people_reason: str | None = typer.Option(
        None, "--people-reason", help="Where --people comes from."
    ),
    loss: int | None = typer.Option(
        None, "--loss", min=0, max=MAX_LOSS, help="Direct economic loss in CNY."
    ),
    suspected_crime: bool = typer.Option(
        False, "--suspected-crime", help="A crime is suspected (report to the police)."
    ),
    criterion: list[str] = typer.Option(
        [],
        "--criterion",
        help="A qualitative criterion of the grading guide you judge met (handover incidents "
        "criteria); repeatable.",
    ),
    criterion_reason: str | None = typer.Option(
        None, "--criterion-reason", help="Why the criteria are met (recorded)."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Promote a security event to an incident: grade, obligations, clocks from awareness."""
    from handover.flows import incidents as flow

    with handled(), workspace_of(ctx) as ws:
        result = flow.promote(
            ws,
            event_id,
            reason=reason,
            aware_at=flow.local_time(ws, aware_at, "--aware-at"),
            category=category,
            lead=lead,
            grade=grade,
            grade_reason=grade_reason,
            people=people,
            people_reason=people_reason,
            direct_loss_cny=loss,
            suspected_crime=suspected_crime,
            criteria=criterion,
            criteria_reason=criterion_reason,
        )
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json(result.incident.to_json())
    else:
        _show(result.incident, lang_of(ctx), tz)


@incidents_app.command("list")
def list_(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List incidents and the security events not decided yet."""
    from handover.i18n import t
    from handover.incidents import list_events, list_incidents
    from handover.incidents.records import event_source

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        incs = list_incidents(ws)
        events = list_events(ws, status="open")
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json(
            {"incidents": [i.to_json() for i in incs], "events": [e.to_json() for e in events]}
        )
        return
    for i in incs:
        drill = " [DRILL]" if i.drill else ""
        _echo(
            f"#{i.id:<4} {t(f'incidents.status.{i.status}', lang):<6} "
            f"{t(f'incidents.grade.{i.grade}', lang):<12} {_stamp(i.aware_at, tz)}  {i.title}{drill}"
        )
    for e in events:
        source = event_source(e.source).render(lang)
        at = _stamp(e.noticed_at, tz)
        _echo(t("incidents.cli.event_line", lang, id=e.id, at=at, title=e.title, source=source))


@incidents_app.command("show")
def show(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    json_out: bool = JSON_OPT,
) -> None:
    """Show an incident: grade, obligations with time left, reports, follow-up actions."""
    from handover.i18n import t
    from handover.incidents import get_incident

    with handled(), workspace_of(ctx) as ws:
        inc = get_incident(ws, incident_id)
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json(inc.to_json(dt.datetime.now(dt.UTC)))
        return
    lang = lang_of(ctx)
    _show(inc, lang, tz)
    for r in inc.reports:
        kind = t(f"incidents.report.title.{r.kind}", lang, n=r.number)
        at = _stamp(r.filed_at, tz)
        _echo(t("incidents.cli.report_line", lang, id=r.id, kind=kind, at=at, folder=r.folder))
    for a in inc.actions:
        _echo(
            t(
                "incidents.cli.action_line",
                lang,
                id=a.id,
                owner=a.owner,
                due=a.due_on.isoformat(),
                what=a.what,
                done=" ✓" if a.done_at else "",
            )
        )


@incidents_app.command("status")
def status(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """Every open obligation with the time left, soonest first; when the next drill is due."""
    from handover.flows import incidents as flow

    with handled(), workspace_of(ctx) as ws:
        report = flow.status(ws)
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json(report.to_json())
        return
    echo_status(report, lang_of(ctx), tz)


def echo_status(report: Any, lang: str, tz: str, *, indent: str = "") -> None:
    """The open duties of every incident (overdue ones say so), when the next drill is
    due, and reminder mails still waiting; also ``handover status``'s incident section."""
    from handover.i18n import t

    shown: set[int] = set()
    for d in report.duties:
        if d.incident_id not in shown:
            shown.add(d.incident_id)
            drill = " [DRILL]" if d.drill else ""
            _echo(f"{indent}#{d.incident_id} {d.title}{drill}")
        _echo(indent + _duty(d.obligation, report.at, lang, tz))
    if not report.duties:
        _echo(indent + t("incidents.cli.no_duties", lang))
    nd = report.next_drill
    due = _at(nd["due_by"], tz)[:10]  # the workspace's date, not UTC's
    sc = nd["scheduled"]
    if nd.get("overdue"):  # past due and no drill scheduled ahead
        _echo(indent + t("incidents.cli.drill_overdue", lang, due=due))
    else:
        scheduled = (
            t(
                "incidents.cli.drill_scheduled",
                lang,
                id=sc["id"],
                scenario=_scenario(sc, lang),
                at=_at(sc["scheduled_for"], tz),
            )
            if sc
            else ""
        )
        _echo(
            indent
            + t(
                "incidents.cli.next_drill", lang, due=due, days=nd["days_left"], scheduled=scheduled
            )
        )
    if report.mails_pending:
        _echo(indent + t("incidents.cli.mails_pending", lang, n=report.mails_pending))


@incidents_app.command("tick")
def tick(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """Check the clocks now: reminders at 80 %, escalations once missed (ledger events)."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        result = flow.tick(ws)
        tz = ws.settings.incidents.timezone
    sent = result.sent
    if json_out:
        print_json(result.to_json())
    else:
        _echo(
            t(
                "incidents.cli.tick",
                lang,
                reminded=len(result.reminded),
                escalated=len(result.escalated),
            )
        )
        for key, obs in (("reminded", result.reminded), ("escalated", result.escalated)):
            for o in obs:
                _echo(
                    t(
                        f"incidents.cli.{key}",
                        lang,
                        incident=o.incident_id,
                        id=o.id,
                        recipient=o.recipient_in(lang),
                        # a clock in days: its last day, 24:00, as every other view
                        due=o.due_text(tz) if o.period is not None else _stamp(o.due_at, tz),
                    )
                )
        if sent is not None:
            _echo(
                t(
                    "incidents.cli.mail",
                    lang,
                    **{k: v for k, v in sent.to_json().items() if k != "stopped"},
                )
            )
    if sent is not None and sent.stopped is not None:
        # The clocks are recorded; the mails wait. Cron sees a failure it can report.
        fail(
            t("incidents.cli.mail_down", lang, reason=sent.stopped.render(lang)),
            sent.stopped.exit_code,
        )


@incidents_app.command("grade")
def grade(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    to: str | None = typer.Option(None, "--to", help="Decided grade (only higher)."),
    reason: str | None = typer.Option(None, "--reason", help="Why (needed for --to and --people)."),
    people: int | None = typer.Option(
        None, "--people", min=0, max=MAX_PEOPLE, help="New count of affected people."
    ),
    loss: int | None = typer.Option(
        None, "--loss", min=0, max=MAX_LOSS, help="Direct economic loss in CNY."
    ),
    criterion: list[str] = typer.Option(
        [], "--criterion", help="A qualitative criterion judged met (with --reason); repeatable."
    ),
) -> None:
    """Raise the grade on new facts; the obligations a higher grade adds are created."""
    from handover.flows import incidents as flow

    with handled(), workspace_of(ctx) as ws:
        inc = flow.regrade(
            ws,
            incident_id,
            grade=to,
            reason=reason,
            people=people,
            direct_loss_cny=loss,
            criteria=criterion,
        )
        tz = ws.settings.incidents.timezone
    _show(inc, lang_of(ctx), tz)


@incidents_app.command("criteria")
def criteria(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """The qualitative criteria of the grading guide a person may judge met, with their
    grade, text and legal source."""
    from handover.flows import incidents as flow
    from handover.i18n import normalize_lang, t

    lang = normalize_lang(lang_of(ctx))
    with handled(), workspace_of(ctx) as ws:
        found = flow.rules_of(ws).criteria
    if json_out:
        print_json([c.to_json() for c in found])
        return
    for c in found:
        _echo(
            t(
                "incidents.cli.criterion",
                lang,
                id=c.id,
                grade=t(f"incidents.grade.{c.grade}", lang),
                text=c.text[lang],
                verified=c.verified,
            )
        )
        _echo(f"{'':<35}{c.source}")


@incidents_app.command("facts")
def facts(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    set_: list[str] = typer.Option(
        ...,
        "--set",
        help="KEY=VALUE; keys: location, impact, measures, trend, cause, leads, next_steps, "
        "support, scene, harm, advice, contact, accountability, lessons, other.",
    ),
) -> None:
    """Add the facts the reports and the Art. 57 notice are written from."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        flow.set_facts(ws, incident_id, _facts(set_))
    _echo(t("incidents.cli.updated", lang_of(ctx), id=incident_id))


@incidents_app.command("individuals")
def individuals(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    notify: bool = typer.Option(
        ..., "--notify/--no-notify", help="Tell the individuals, or not (PIPL Art. 57 ¶2)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (recorded)."),
) -> None:
    """Record whether the individuals are told (PIPL Art. 57 ¶2 waiver, with the reason)."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        ob = flow.decide_individuals(ws, incident_id, notify=notify, reason=reason)
    _echo(
        t(
            "incidents.cli.obligation",
            lang,
            id=ob.id,
            status=t(f"incidents.status.{ob.status}", lang),
        )
    )


@incidents_app.command("done")
def done(
    ctx: typer.Context,
    obligation_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Obligation number."),
    note: str = typer.Option(..., "--note", help="How it was met (call, letter, portal)."),
    at: str | None = typer.Option(None, "--at", help="When (default now; never in the future)."),
) -> None:
    """Record an obligation met outside handover."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        ob = flow.obligation_met(ws, obligation_id, note=note, at=flow.local_time(ws, at, "--at"))
    _echo(
        t(
            "incidents.cli.obligation",
            lang,
            id=ob.id,
            status=t(f"incidents.status.{ob.status}", lang),
        )
    )


@incidents_app.command("handled")
def handled_(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    at: str | None = typer.Option(None, "--at", help="When handling ended (default now)."),
) -> None:
    """Handling ended: the 30-day summary-report clock starts."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        inc = flow.mark_handled(ws, incident_id, at=flow.local_time(ws, at, "--at"))
    n = sum(o.kind == "summary" for o in inc.obligations)
    _echo(t("incidents.cli.handled", lang_of(ctx), id=incident_id, n=n))


@incidents_app.command("report")
def report(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    kind: str = typer.Option("initial", "--kind", help="initial, supplement or summary."),
    json_out: bool = JSON_OPT,
) -> None:
    """Write a report (HTML, PDF and DOCX, zh-CN + en), hash it into the ledger, mark what it meets."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        rep = flow.file_report(ws, incident_id, kind)
    if json_out:
        print_json(rep.to_json())
    else:
        met = ", ".join(f"#{i}" for i in rep.obligations) or "-"
        _echo(
            t(
                "incidents.cli.report_filed",
                lang,
                kind=t(f"incidents.report.title.{kind}", lang, n=rep.number),
                folder=rep.folder,
                met=met,
            )
        )


@incidents_app.command("notice")
def notice(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    audience: str = typer.Option(
        "customers", "--audience", help="customers (a real incident) or participants (a drill)."
    ),
) -> None:
    """The PIPL Art. 57 notice content and audience as JSON, for the notices engine."""
    from handover.flows import incidents as flow

    with handled(), workspace_of(ctx) as ws:
        result = flow.prepare_notice(ws, incident_id, audience=audience)
    print_json(result)


@incidents_app.command("notify")
def notify(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    source: str = typer.Argument(..., help="The scanned seller database (SQLite file or URL)."),
    channel: list[str] = typer.Option(
        ["email,sms,letter"],
        "--channel",
        "-c",
        help="email, sms, letter (repeat or comma-separate).",
    ),
    link: str | None = typer.Option(
        None, "--link", help="Where the full notice is published (the SMS points there)."
    ),
    lang: str | None = typer.Option(None, "--lang", help="Notice language: zh-CN or en."),
    template_text: Path | None = typer.Option(
        None, "--template-text", help="Jinja2 template of the full notice (plain text)."
    ),
    template_html: Path | None = typer.Option(
        None, "--template-html", help="Jinja2 template of the full notice (HTML e-mail)."
    ),
    template_sms: Path | None = typer.Option(None, "--template-sms", help="Jinja2 SMS template."),
    allow_bad_rows: int = allow_bad_rows_option(),
    no_header: bool = no_header_option(),
    mysql_escapes: str = mysql_escapes_option(),
    json_out: bool = JSON_OPT,
) -> None:
    """Tell the individuals (PIPL Art. 57) through the notices engine: a campaign limited to
    the people of the leaked tables, approved and sent like every campaign."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    templates = {
        k: v
        for k, v in (
            ("notice.txt", template_text),
            ("notice.html", template_html),
            ("sms.txt", template_sms),
        )
        if v is not None
    }
    channels = [c.strip() for item in channel for c in item.split(",") if c.strip()]
    lang_ui = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        camp = flow.notify_individuals(
            ws,
            incident_id,
            source,
            channels=channels,
            link=link,
            lang=lang,
            templates=templates,
            reading=file_reading(allow_bad_rows, no_header, mysql_escapes),
        )
    if json_out:
        print_json(camp.to_json())
        return
    restriction = camp.restriction or {}
    leaked = [
        *restriction.get("tables", []),
        *(f"{t}.{c}" for t, c, _ in restriction.get("columns", [])),
    ]
    _echo(
        t(
            "incidents.cli.notify_created",
            lang_ui,
            id=incident_id,
            campaign=camp.id,
            channels=", ".join(camp.channels),
            tables=", ".join(leaked) or "-",
            grant=camp.grant_id,
        )
    )
    if camp.drill:
        _echo(t("incidents.cli.notify_drill", lang_ui))


@incidents_app.command("timeline")
def timeline(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    json_out: bool = JSON_OPT,
) -> None:
    """Who did what when, derived from the ledger."""
    from handover.flows import incidents as flow
    from handover.i18n import normalize_lang

    lang = normalize_lang(lang_of(ctx))
    with handled(), workspace_of(ctx) as ws:
        steps = flow.incident_timeline(ws, incident_id)
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json(steps)
        return
    for s in steps:
        _echo(f"{s['seq']:>6}  {_at(s['at'], tz)}  {s['actor']:<12} {s['what'][lang]}")


@incidents_app.command("action-add")
def action_add(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    what: str = typer.Argument(..., help="What is to be done."),
    owner: str = typer.Option(..., "--owner", help="Who answers for it (a registered person)."),
    due: str = typer.Option(..., "--due", help="Due date, e.g. 2026-04-30."),
) -> None:
    """Add a follow-up action with its owner and due date."""
    from handover.errors import BadInput
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        try:
            due_on = dt.date.fromisoformat(due)
        except ValueError:
            raise BadInput.msg("cli.bad_date", option="--due", value=due) from None
        a = flow.add_action(ws, incident_id, what, owner=owner, due_on=due_on)
    _echo(
        t(
            "incidents.cli.action_added",
            lang_of(ctx),
            id=a.id,
            what=a.what,
            owner=a.owner,
            due=a.due_on.isoformat(),
        )
    )


@incidents_app.command("action-done")
def action_done(
    ctx: typer.Context,
    action_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Action number."),
) -> None:
    """Mark a follow-up action done."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        flow.finish_action(ws, action_id)
    _echo(t("incidents.cli.action_done", lang_of(ctx), id=action_id))


@incidents_app.command("close")
def close(
    ctx: typer.Context,
    incident_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Incident number."),
    root_cause: str = typer.Option(..., "--root-cause", help="Root cause found."),
    lessons: str = typer.Option(..., "--lessons", help="Lessons learned."),
) -> None:
    """Close a handled incident with its review (no open obligation may remain)."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        flow.close(ws, incident_id, root_cause=root_cause, lessons=lessons)
    _echo(t("incidents.cli.closed", lang_of(ctx), id=incident_id))


@incidents_app.command("warn")
def warn(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """Run the early-warning rules over the ledger; each new finding opens a security event."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        result = flow.run_warnings(ws)
    if json_out:
        print_json(result)
        return
    lang = lang_of(ctx)
    _echo(t("incidents.cli.warnings", lang, n=len(result["findings"]), new=len(result["opened"])))
    for e in result["opened"]:
        _echo(t("incidents.cli.warning_event", lang, id=e["id"], title=e["title"]))


# --- drills ----------------------------------------------------------------------------------------------


@drills_app.command("scenarios")
def scenarios(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List the drill scenarios."""
    from handover.i18n import normalize_lang
    from handover.incidents.drills import load_scenarios

    lang = normalize_lang(lang_of(ctx))
    found = load_scenarios()
    if json_out:
        print_json({k: {"title": s.title, "data": list(s.data)} for k, s in found.items()})
        return
    for name, s in found.items():
        _echo(f"{name:<18} {s.title[lang]}")


@drills_app.command("schedule")
def schedule(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="Scenario name (handover drills scenarios)."),
    at: str = typer.Option(..., "--at", help="When the drill is to run (ISO 8601)."),
    participant: list[str] = typer.Option(
        ..., "--participant", help="A registered person taking part; repeatable."
    ),
) -> None:
    """Schedule a drill."""
    from handover.flows import incidents as flow

    with handled(), workspace_of(ctx) as ws:
        when = flow.local_time(ws, at, "--at")
        assert when is not None
        d = flow.schedule(ws, scenario, at=when, participants=participant)
        tz = ws.settings.incidents.timezone
    _drill_line(d.to_json(), lang_of(ctx), tz)


def _scenario(d: dict[str, Any], lang: str) -> str:
    """A drill's scenario by its name, with the id ``drills schedule`` takes."""
    from handover.i18n import normalize_lang

    title = (d.get("scenario_title") or {}).get(normalize_lang(lang))
    return f"{title} ({d['scenario']})" if title else str(d["scenario"])


def _drill_line(d: dict[str, Any], lang: str, tz: str) -> None:
    from handover.i18n import t

    _echo(
        t(
            "incidents.cli.drill",
            lang,
            id=d["id"],
            scenario=_scenario(d, lang),
            status=t(f"incidents.drill_status.{d['status']}", lang),
            at=_at(d["scheduled_for"], tz),
        )
    )


@drills_app.command("start")
def start(
    ctx: typer.Context, drill_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Drill number.")
) -> None:
    """Start a scheduled drill now: its scenario runs through the incident workflow."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        inc = flow.start(ws, drill_id)
    _echo(t("incidents.cli.drill_started", lang_of(ctx), id=drill_id, incident=inc.id))


@drills_app.command("finish")
def finish(
    ctx: typer.Context,
    drill_id: int = typer.Argument(..., min=1, max=MAX_ID, help="Drill number."),
    lessons: str = typer.Option(..., "--lessons", help="Lessons learned."),
    json_out: bool = JSON_OPT,
) -> None:
    """Finish a running drill: timings per obligation against the deadlines, lessons."""
    from handover.flows import incidents as flow
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        d = flow.finish(ws, drill_id, lessons=lessons)
    if json_out:
        print_json(d.to_json())
        return
    r = d.result or {}
    _echo(
        t(
            "incidents.cli.drill_finished",
            lang_of(ctx),
            id=drill_id,
            ok=r.get("in_time", 0),
            late=r.get("late_or_missed", 0),
            minutes=r.get("decision_minutes", 0),
        )
    )


@drills_app.command("list")
def list_drills(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List drills."""
    from handover.incidents.drills import list_drills as all_drills

    with handled(), workspace_of(ctx) as ws:
        drills = all_drills(ws)
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json([d.to_json() for d in drills])
        return
    for d in drills:
        _drill_line(d.to_json(), lang_of(ctx), tz)


def register(app: typer.Typer) -> None:
    """Add the incidents and drills groups to the ``handover`` app."""
    app.add_typer(incidents_app, name="incidents")
    app.add_typer(drills_app, name="drills")
