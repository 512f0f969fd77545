"""``handover pia`` (impact assessment), ``handover risks`` (risk register) and
``handover compliance`` (checklist evaluated from the ledger). Each command parses, calls
one function of :mod:`handover.flows.pia`, renders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from handover.cli.common import coded, handled, json_option, lang_of, print_json, workspace_of
from handover.errors import MAX_ID

if TYPE_CHECKING:
    from handover.pia.store import Assessment
    from handover.workspace import Workspace

pia_app = typer.Typer(
    help="个人信息保护影响评估 / personal information protection impact assessment "
    "(GB/T 39335-2020; PIPL Arts. 55-56).",
    no_args_is_help=True,
)
risks_app = typer.Typer(help="风险登记册 / the risk register.", no_args_is_help=True)
compliance_app = typer.Typer(
    help="合规检查清单(由账本评估)/ the compliance checklist, evaluated from the ledger.",
    no_args_is_help=True,
)
JSON_OPT = json_option()


def _date(value: str, option: str) -> dt.date:
    from handover.errors import BadInput

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        with handled():
            raise BadInput.msg("cli.bad_date", option=option, value=value) from None
    raise AssertionError  # handled() always exits


def _summary(a: Any, lang: str) -> None:
    from handover.i18n import t

    typer.echo(
        t(
            "pia.cli.summary",
            lang,
            id=a.id,
            version=a.version,
            status=coded("web.pia.status", a.status, lang),
            sha=a.sha256[:16],
            title=a.title,
        )
    )


def _step(ctx: typer.Context, json_out: bool, call: Callable[[Workspace], Assessment]) -> None:
    """Run one assessment step in the workspace and show the assessment it leaves."""
    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        a = call(ws)
    print_json(a.to_json()) if json_out else _summary(a, lang)


@pia_app.command("new")
def new(
    ctx: typer.Context,
    title: str = typer.Option("", help="Title (default: from the transfer's name)."),
    json_out: bool = JSON_OPT,
) -> None:
    """Start an assessment pre-filled from the inventory, the transfer and the ledger."""
    from handover.flows.pia import new_assessment

    _step(ctx, json_out, lambda ws: new_assessment(ws, title=title or None))


@pia_app.command("edit")
def edit_cmd(
    ctx: typer.Context,
    assessment: int = typer.Argument(..., help="Assessment id.", min=1, max=MAX_ID),
    file: Path = typer.Argument(..., help="Edits (TOML or JSON), see docs/pia.md."),
    json_out: bool = JSON_OPT,
) -> None:
    """Apply an edits file as a new version (versions are kept)."""
    from handover.flows.pia import edit

    _step(ctx, json_out, lambda ws: edit(ws, assessment, file))


@pia_app.command("opinion")
def opinion_cmd(
    ctx: typer.Context,
    assessment: int = typer.Argument(..., help="Assessment id.", min=1, max=MAX_ID),
    text: str = typer.Option(..., "--text", help="The DPO's opinion."),
    json_out: bool = JSON_OPT,
) -> None:
    """Record the data protection officer's opinion (role dpo) as a new version."""
    from handover.flows.pia import opinion

    _step(ctx, json_out, lambda ws: opinion(ws, assessment, text))


@pia_app.command("submit")
def submit_cmd(
    ctx: typer.Context,
    assessment: int = typer.Argument(..., help="Assessment id.", min=1, max=MAX_ID),
    json_out: bool = JSON_OPT,
) -> None:
    """Submit the current version to its named signatory for approval."""
    from handover.flows.pia import submit

    _step(ctx, json_out, lambda ws: submit(ws, assessment))


@pia_app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    assessment: int = typer.Argument(..., help="Assessment id.", min=1, max=MAX_ID),
    json_out: bool = JSON_OPT,
) -> None:
    """Approve the submitted version (only its named signatory, never its maker)."""
    from handover.flows.pia import approve

    _step(ctx, json_out, lambda ws: approve(ws, assessment))


@pia_app.command("reject")
def reject_cmd(
    ctx: typer.Context,
    assessment: int = typer.Argument(..., help="Assessment id.", min=1, max=MAX_ID),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the ledger)."),
    json_out: bool = JSON_OPT,
) -> None:
    """Reject the submitted version with a reason; the next edit starts a new draft."""
    from handover.flows.pia import reject

    _step(ctx, json_out, lambda ws: reject(ws, assessment, reason))


@pia_app.command("show")
def show(
    ctx: typer.Context,
    assessment: int = typer.Argument(..., help="Assessment id.", min=1, max=MAX_ID),
    version: int | None = typer.Option(
        None, min=1, max=MAX_ID, help="A kept version (default the current one)."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Show an assessment: state, risks with levels, measures, gaps, versions."""
    from handover.i18n import t
    from handover.pia import gaps, load_method
    from handover.pia.store import get, versions

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        a = get(ws, assessment, version)
        kept = versions(ws, assessment)
    if json_out:
        print_json({**a.to_json(), "versions": kept})
        return
    method = load_method()
    i = 0 if lang == "zh-CN" else 1
    _summary(a, lang)
    doc = a.document
    typer.echo(t("pia.cli.signatory", lang, name=doc.get("signatory") or "-"))
    typer.echo(t("pia.cli.risks", lang))
    for r in doc["risks"]:
        title = r["title"][i] if isinstance(r["title"], list) else r["title"]
        typer.echo(
            f"  {r['id']:<4} {method.label('level', r['level'], lang):<8} "
            f"{method.label('impact', r['impact'], lang)} × {method.label('likelihood', r['likelihood'], lang)}  "
            f"{title}  [{r.get('owner') or '-'}, {r.get('review_on') or '-'}]"
        )
    typer.echo(t("pia.cli.measures", lang))
    for m in doc["measures"]:
        typer.echo(
            f"  {m['id']:<4} {coded('web.pia.measure_status', m['status'], lang):<8} {m['title'][i]}  [{m.get('owner') or '-'}, {m.get('due') or '-'}]"
        )
    missing = gaps(doc)
    if missing:
        typer.echo(t("pia.cli.gaps", lang, n=len(missing)))
        for key, values in missing:
            typer.echo("  - " + t(key, lang, **values))
    typer.echo(t("pia.cli.versions", lang))
    for v in kept:
        typer.echo(f"  v{v['version']:<3} {v['sha256'][:16]}  {v['by']:<12} {v['at']}  {v['note']}")


@pia_app.command("list")
def list_cmd(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List the assessments and where they stand."""
    from handover.pia.store import list_assessments

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        found = list_assessments(ws)
    if json_out:
        print_json([{k: v for k, v in a.to_json().items() if k != "document"} for a in found])
        return
    for a in found:
        _summary(a, lang)


@pia_app.command("export")
def export_cmd(
    ctx: typer.Context,
    assessment: int = typer.Argument(..., help="Assessment id.", min=1, max=MAX_ID),
    version: int | None = typer.Option(
        None, min=1, max=MAX_ID, help="Version (default: the approved one, else the current one)."
    ),
    out: Path | None = typer.Option(None, help="Folder (default reports/pia/<id>-v<version>)."),
    json_out: bool = JSON_OPT,
) -> None:
    """Write the signed report: pia.json + pia.sig, HTML and PDF in zh-CN and en."""
    from handover.flows.pia import export
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        x = export(ws, assessment, version=version, out=out)
    if json_out:
        print_json(x.to_json())
    else:
        typer.echo(t("pia.cli.exported", lang, folder=x.folder, sha=x.sha256, seq=x.seq))


@pia_app.command("status")
def status_cmd(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """Assessments, overdue risk reviews (warnings), the last checklist score and what changed."""
    from handover.flows.pia import status

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        st = status(ws)
    if json_out:
        print_json(st.to_json())
        return
    for a in st.assessments:
        _summary(a, lang)
    echo_overdue(st.overdue, lang)
    echo_trend(st.checklist, lang)


def echo_trend(c: dict[str, Any] | None, lang: str) -> None:
    """The last checklist score and what changed since the run before (also used by
    ``handover status``); nothing before the first run."""
    from handover.i18n import t

    if c is None:
        typer.echo(t("pia.cli.no_check", lang))
        return
    typer.echo(
        t(
            "pia.cli.trend",
            lang,
            score=(c["score"] or 0) * 100,
            seq=c["seq"],
            worse=", ".join(c["newly_not_met"]) or "-",
            better=", ".join(c["resolved"]) or "-",
        )
    )
    if c["not_met"]:
        typer.echo(t("pia.cli.still_not_met", lang, items=", ".join(c["not_met"])))


def echo_overdue(risks: list[Any], lang: str) -> None:
    """One warning line per risk whose review is overdue (also used by ``handover status``)."""
    from handover.i18n import t

    for r in risks:
        typer.echo(
            t(
                "pia.cli.overdue",
                lang,
                code=r.code,
                days=r.overdue_days,
                owner=r.owner,
                date=r.review_on.isoformat(),
            )
        )


@risks_app.command("list")
def risks_list(
    ctx: typer.Context,
    overdue: bool = typer.Option(False, "--overdue", help="Only risks whose review is overdue."),
    json_out: bool = JSON_OPT,
) -> None:
    """The risk register, highest level first."""
    from handover.flows.pia import risks
    from handover.pia import load_method

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        found = risks(ws, overdue=overdue)
    if json_out:
        print_json([r.to_json() for r in found])
        return
    method = load_method()
    for r in found:
        late = f"  ! {r.overdue_days}d" if r.overdue else ""
        links = "".join(f" #{i}" for i in r.incident_ids)
        typer.echo(
            f"{r.code:<10} {method.label('level', r.level, lang):<8} "
            f"{coded('web.pia.risk_status', r.status, lang):<9} "
            f"{r.owner:<12} {r.review_on.isoformat()}{late}  {r.title}"
            + (f"  [{links.strip()}]" if links else "")
        )


@risks_app.command("show")
def risks_show(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Risk code."),
    json_out: bool = JSON_OPT,
) -> None:
    """Show a risk with the assessment finding it comes from and the incidents linked to it."""
    from handover.flows.pia import risk_detail
    from handover.i18n import t
    from handover.pia import load_method

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        d = risk_detail(ws, code)
    if json_out:
        print_json(d.to_json())
        return
    method = load_method()
    r = d.risk
    typer.echo(
        f"{r.code} {method.label('level', r.level, lang)} "
        f"{coded('web.pia.risk_status', r.status, lang)} "
        f"{r.owner} {r.review_on.isoformat()}  {r.title}"
    )
    for c in r.controls:
        typer.echo(f"  - {c}")
    if d.assessment is not None:
        f = d.finding or {}
        typer.echo(
            t(
                "pia.cli.finding",
                lang,
                id=d.assessment["id"],
                version=d.assessment["version"],
                finding=r.finding or "-",
                level=method.label("level", f["level"], lang) if f.get("level") else "-",
            )
        )
    for inc in d.incidents:
        typer.echo(
            t(
                "pia.cli.incident",
                lang,
                id=inc["id"],
                grade=inc["grade"],
                status=inc["status"],
                title=inc["title"],
            )
        )
    echo_overdue([r] if r.overdue else [], lang)


@risks_app.command("link")
def risks_link(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Risk code."),
    incident: int = typer.Option(
        ..., "--incident", min=1, max=MAX_ID, help="Incident id (handover incidents list)."
    ),
    unlink: bool = typer.Option(False, "--unlink", help="Remove the link instead."),
    json_out: bool = JSON_OPT,
) -> None:
    """Link an incident that realised this risk (or remove the link)."""
    from handover.flows.pia import link_incident

    with handled(), workspace_of(ctx) as ws:
        r = link_incident(ws, code, incident, unlink=unlink)
    print_json(r.to_json()) if json_out else typer.echo(
        f"{r.code} → {', '.join(f'#{i}' for i in r.incident_ids) or '-'}"
    )


@risks_app.command("add")
def risks_add(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Risk code, e.g. R-12."),
    title: str = typer.Option(..., help="What could go wrong."),
    source: str = typer.Option(..., help="Risk source: network, process, people, business."),
    impact: str = typer.Option(..., help="low, medium, high, severe."),
    likelihood: str = typer.Option(..., help="very_low, low, medium, high."),
    owner: str = typer.Option(..., help="Login name of the owner."),
    review: str = typer.Option(..., help="Review date (YYYY-MM-DD)."),
    control: list[str] = typer.Option([], help="A control in place (repeat)."),
    pia: int | None = typer.Option(
        None, min=1, max=MAX_ID, help="Assessment this risk is a finding of."
    ),
    finding: str | None = typer.Option(None, help="The risk id in that assessment."),
    json_out: bool = JSON_OPT,
) -> None:
    """Add a risk to the register (level from the method's matrix)."""
    from handover.flows.pia import add_risk
    from handover.pia import load_method

    day = _date(review, "--review")
    with handled(), workspace_of(ctx) as ws:
        r = add_risk(
            ws,
            code=code,
            title=title,
            source=source,
            impact=impact,
            likelihood=likelihood,
            owner=owner,
            review_on=day,
            controls=control,
            assessment_id=pia,
            finding=finding,
        )
    if json_out:
        print_json(r.to_json())
        return
    level = load_method().label("level", r.level, lang_of(ctx))
    typer.echo(f"{r.code} {level} {r.review_on}")


@risks_app.command("review")
def risks_review(
    ctx: typer.Context,
    code: str = typer.Argument(..., help="Risk code."),
    next_review: str = typer.Option(..., "--next", help="Next review date (YYYY-MM-DD)."),
    status: str | None = typer.Option(None, help="open, mitigated, accepted, closed."),
    impact: str | None = typer.Option(None, help="New impact."),
    likelihood: str | None = typer.Option(None, help="New likelihood."),
    json_out: bool = JSON_OPT,
) -> None:
    """Record a review of a risk and set its next review date."""
    from handover.flows.pia import review_risk
    from handover.pia import load_method

    day = _date(next_review, "--next")
    with handled(), workspace_of(ctx) as ws:
        r = review_risk(
            ws, code, next_review=day, status=status, impact=impact, likelihood=likelihood
        )
    if json_out:
        print_json(r.to_json())
        return
    lang = lang_of(ctx)
    level = load_method().label("level", r.level, lang)
    typer.echo(f"{r.code} {level} {coded('web.pia.risk_status', r.status, lang)} {r.review_on}")


@compliance_app.command("check")
def compliance_check(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """Evaluate every checklist item from the ledger; exit 1 when an item is not met."""
    from handover.flows.pia import check
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        report = check(ws)
    doc = report.to_json(lang)
    if json_out:
        print_json(doc)
    else:
        for it in doc["items"]:
            mark = t(f"pia.cli.status.{it['status']}", lang)
            typer.echo(f"{mark:<8} {it['id']:<24} {it['title']}")
            typer.echo(f"         {it['source']}")
            if it["reason"]:
                typer.echo(f"         {it['reason']}")
            for c in it["counter_examples"][:10]:
                seq = f"#{c['seq']} " if c.get("seq") is not None else ""
                typer.echo(f"         ✗ {seq}{c['what']}")
            if it["counter_count"] > 10:
                typer.echo(f"         … {it['counter_count'] - 10}")
        typer.echo(report.line(lang))
    if report.score["not_met"]:
        raise typer.Exit(1)


@compliance_app.command("attest")
def compliance_attest(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Checklist item id."),
    note: str = typer.Option(..., "--note", help="What you attest, and on which documents."),
    not_applicable: bool = typer.Option(
        False, "--not-applicable", help="Attest that the item does not apply."
    ),
) -> None:
    """Attest an item handover cannot compute (recorded in the ledger with your name)."""
    from handover.flows.pia import attest
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        seq = attest(ws, item, note, applies=not not_applicable)
    typer.echo(t("pia.cli.attested", lang, item=item, seq=seq))


def register(app: typer.Typer) -> None:
    """Add the pia, risks and compliance groups to the root ``handover`` app."""
    app.add_typer(pia_app, name="pia")
    app.add_typer(risks_app, name="risks")
    app.add_typer(compliance_app, name="compliance")
