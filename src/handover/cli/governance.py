"""Governance commands: login/logout/whoami/status and the people, nda, training,
vendors and grants groups. Each parses, calls one library function, renders."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from handover.cli.common import (
    ask_password,
    coded,
    fail,
    handled,
    json_option,
    lang_of,
    print_json,
    workspace_of,
)

if TYPE_CHECKING:
    from handover.governance.training import AskedQuestion

people_app = typer.Typer(
    help="People, organisations and roles (人员、组织与角色).", no_args_is_help=True
)
nda_app = typer.Typer(help="Non-disclosure agreements (保密协议).", no_args_is_help=True)
training_app = typer.Typer(
    help="Training courses and assessments (培训与考核).", no_args_is_help=True
)
vendors_app = typer.Typer(
    help="Vendors and security assessments (第三方管理).", no_args_is_help=True
)
grants_app = typer.Typer(
    help="Data access grants with maker-checker approval (数据访问授权与审批).",
    no_args_is_help=True,
)

JSON_OPT = json_option()


def _date(value: str | None, what: str) -> dt.date | None:
    from handover.errors import BadInput

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        with handled():
            raise BadInput.msg("cli.bad_date", option=what, value=value) from None
    return None


def _password(ws_password: Any, prompt: str) -> str:
    return ask_password(ws_password, prompt)


def _echo(text: str) -> None:
    typer.echo(text)


# --- session ---------------------------------------------------------------------------


def login(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name."),
    hours: float = typer.Option(8.0, help="Session length in hours (at most 24)."),
    json_out: bool = JSON_OPT,
) -> None:
    """Log in (password from the prompt or HANDOVER_PASSWORD); the session expires."""
    from handover.governance.policy import local_text
    from handover.governance.session import login as do_login
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        password = _password(ws.settings.password, "Password / 密码")
        info = do_login(ws, name, password, hours=hours)
        expires = local_text(ws, info.expires_at)
    if json_out:
        print_json(info.to_json())
    else:
        _echo(
            t(
                "gov.logged_in",
                lang,
                name=info.person.name,
                display=info.person.display_name,
                expires=expires,
            )
        )


def logout(ctx: typer.Context) -> None:
    """End this workspace's session and delete its token file."""
    from handover.governance.session import logout as do_logout
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        person = do_logout(ws)
    _echo(t("gov.logged_out", lang, name=person.name) if person else t("gov.not_logged_in", lang))


def whoami(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """Show who is logged in to this workspace, and until when."""
    from handover.governance.policy import local_text
    from handover.governance.session import current_session
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        info = current_session(ws)
        expires = local_text(ws, info.expires_at) if info is not None else ""
    if json_out:
        print_json(info.to_json() if info else None)
        return
    if info is None:
        _echo(t("gov.not_logged_in", lang))
        raise typer.Exit(1)
    p = info.person
    _echo(
        t(
            "gov.whoami",
            lang,
            name=p.name,
            display=p.display_name,
            org=p.org,
            roles=",".join(p.roles),
            expires=expires,
        )
    )


def status(
    ctx: typer.Context,
    days: int = typer.Option(30, help="Show what expires within this many days."),
    json_out: bool = JSON_OPT,
) -> None:
    """What expires soon (NDAs, training, vendors, grants), pending approvals, refusals,
    overdue risk reviews, the compliance score with what changed since the run before, and
    the open incident duties with the time left."""
    from handover.cli.incidents import echo_status
    from handover.cli.pia import echo_overdue, echo_trend
    from handover.flows import incidents
    from handover.flows.pia import overview
    from handover.governance.status import governance_status
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        st = governance_status(ws, days=days)
        pia = overview(ws)
        duties = incidents.status(ws)
        tz = ws.settings.incidents.timezone
    if json_out:
        print_json({**st.to_json(), **pia.to_json(), "incidents": duties.to_json()})
        return
    none = t("gov.status.none", lang)
    _echo(t("gov.status.expiring", lang, days=days))
    for e in st.expiring:
        _echo(f"  {e.kind:<9} {e.ref:<40} {e.who:<30} {e.ends}  ({e.days_left:+d})")
    if not st.expiring:
        _echo(f"  {none}")
    _echo(t("gov.status.pending", lang))
    for p in st.pending:
        _echo(
            f"  #{p['grant']:<5} {p['grantee']:<12} {','.join(p['scope'])}/{p['mode']}  "
            f"{len(p['approved_by'])}/{p['approvals_needed']}  {p['purpose']}"
        )
    if not st.pending:
        _echo(f"  {none}")
    _echo(t("gov.status.refusals", lang, n=st.refusal_count))
    for r in st.refusals[:20]:
        _echo(f"  {r['at']}  {r['actor']:<12} {r['action']:<14} {r['resource']:<20} {r['reason']}")
    echo_overdue(pia.overdue, lang)
    echo_trend(pia.checklist, lang)
    _echo(t("gov.status.incidents", lang, open=len(duties.duties), overdue=len(duties.overdue)))
    echo_status(duties, lang, tz, indent="  ")


# --- people ----------------------------------------------------------------------------


@people_app.command("org-add")
def org_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Legal name of the organisation."),
    kind: str = typer.Option(..., help="seller, buyer, advisor or vendor."),
) -> None:
    """Register an organisation."""
    from handover.governance.people import add_org
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        org = add_org(ws, name, kind)
    _echo(t("gov.org_added", lang, name=org.name, kind=org.kind))


@people_app.command("add")
def people_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name (lower-case letters, digits, . _ -)."),
    org: str = typer.Option(..., help="Organisation the person belongs to."),
    role: list[str] = typer.Option(..., "--role", help="Role; repeat for several."),
    display_name: str = typer.Option("", help="Full name, e.g. 王敏."),
) -> None:
    """Register a person; the initial password comes from the prompt or HANDOVER_PASSWORD."""
    from handover.governance.people import add_person
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        password = _password(ws.settings.password, f"Password for {name} / {name} 的密码")
        person = add_person(ws, name, display_name, org, role, password)
    _echo(t("gov.person_added", lang, name=person.name, roles=",".join(person.roles)))


@people_app.command("list")
def people_list(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List people with their organisation and roles."""
    from handover.governance.people import list_people

    with handled(), workspace_of(ctx) as ws:
        people = list_people(ws)
    if json_out:
        print_json([p.to_json() for p in people])
        return
    from handover.i18n import t

    inactive = t("cli.gov.inactive", lang_of(ctx))
    for p in people:
        flag = "" if p.active else inactive
        _echo(f"{p.name:<12} {p.display_name:<8} {p.org:<24} {','.join(p.roles)}{flag}")


@people_app.command("roles")
def people_roles(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name."),
    add: list[str] = typer.Option([], "--add", help="Role to add; repeatable."),
    remove: list[str] = typer.Option([], "--remove", help="Role to remove; repeatable."),
) -> None:
    """Add or remove roles of a person (a manager, not the person themselves)."""
    from handover.governance.people import set_roles
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        person = set_roles(ws, name, add, remove)
    _echo(t("gov.roles_set", lang, name=person.name, roles=",".join(person.roles)))


@people_app.command("deactivate")
def people_deactivate(
    ctx: typer.Context, name: str = typer.Argument(..., help="Login name.")
) -> None:
    """Deactivate a person: their sessions end and every later access is refused."""
    from handover.governance.people import deactivate
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        deactivate(ws, name)
    _echo(t("gov.deactivated", lang, name=name))


@people_app.command("reactivate")
def people_reactivate(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name."),
    json_out: bool = JSON_OPT,
) -> None:
    """Reactivate a person with a new, one-time password; old sessions stay ended.

    The password comes from the prompt or HANDOVER_PASSWORD; the person sets their own
    before anything else. Their grants still open are named."""
    from handover.governance.people import reactivate
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        password = _password(ws.settings.password, f"New password for {name} / {name} 的新密码")
        done = reactivate(ws, name, password)
    if json_out:
        print_json(done.to_json())
        return
    one_time = done.person.one_time_password
    _echo(t("gov.reactivated_one_time" if one_time else "gov.reactivated", lang, name=name))
    if done.grants:
        grants = ", ".join(f"#{i} ({state})" for i, state in done.grants)
        _echo(t("gov.reactivated_grants", lang, name=name, grants=grants))


@people_app.command("service")
def people_service(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name of the service account, e.g. incident-clock."),
    org: str = typer.Option(..., help="Organisation that runs it (usually the seller)."),
    role: str = typer.Option(
        "incident_clock",
        "--role",
        help="Its one service role: incident_clock (incidents tick, warn) or sms_hook (the "
        "SMS provider pushing receipts and replies to the console).",
    ),
    days: int = typer.Option(366, "--days", help="Days until the token expires (at most 366)."),
    revoke: bool = typer.Option(False, "--revoke", help="Revoke its tokens instead."),
    json_out: bool = JSON_OPT,
) -> None:
    """Register a service account for a cron job or a provider (or issue it a new token,
    revoking the old): it can do its one role's action and nothing else. The token is
    shown once."""
    from handover.governance.service import issue_service_token, revoke_service_tokens
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        if revoke:
            n = revoke_service_tokens(ws, name)
        else:
            issued = issue_service_token(ws, name, org=org, role=role, days=days)
    if revoke:
        _echo(t("gov.service_revoked", lang, name=name, n=n))
        return
    if json_out:
        print_json(issued.to_json())
        return
    _echo(
        t(
            "gov.service_issued",
            lang,
            name=name,
            role=role,
            expires=issued.expires_at.isoformat(timespec="minutes"),
        )
    )
    typer.echo(issued.token)


@people_app.command("password")
def people_password(
    ctx: typer.Context, name: str = typer.Argument(..., help="Login name.")
) -> None:
    """Set a password (your own, or anyone's as a manager); from prompt or HANDOVER_PASSWORD."""
    from handover.governance.people import resets_password, set_password
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        # One's own password (or one set by somebody else, one-time) needs the current one.
        current = (
            None
            if resets_password(ws, name)
            else ask_password(None, f"Current password of {name} / {name} 的当前密码")
        )
        password = _password(ws.settings.password, f"New password for {name} / 新密码")
        person = set_password(ws, name, password, current=current)
    _echo(
        t("gov.password_reset" if person.one_time_password else "gov.password_set", lang, name=name)
    )


# --- NDAs ------------------------------------------------------------------------------


@nda_app.command("add")
def nda_add(
    ctx: typer.Context,
    title: str = typer.Option(..., help="Title of the agreement."),
    party: list[str] = typer.Option(..., "--party", help="Party organisation; repeat (>= 2)."),
    signatory: list[str] = typer.Option([], "--signatory", help="Person who signed; repeatable."),
    scope: str = typer.Option("C1,C2,C3", help="Data covered: *, tiers C1,C2,C3, tables."),
    purpose: list[str] = typer.Option(["*"], "--purpose", help="Purpose covered; repeatable."),
    duties: str = typer.Option("", help="Duties of the receiving parties."),
    liability: str = typer.Option("", help="Reference of the liability clause."),
    signed: str | None = typer.Option(None, help="Signing date (YYYY-MM-DD)."),
    effective: str = typer.Option(..., help="Effective date (YYYY-MM-DD)."),
    expires: str = typer.Option(..., help="Expiry date (YYYY-MM-DD)."),
    document: Path | None = typer.Option(None, help="Signed PDF/scan; its SHA-256 is kept."),
    json_out: bool = JSON_OPT,
) -> None:
    """Register an NDA (保密协议)."""
    from handover.governance.ndas import add_nda
    from handover.i18n import t

    lang = lang_of(ctx)
    eff, exp = _date(effective, "--effective"), _date(expires, "--expires")
    assert eff is not None and exp is not None
    with handled(), workspace_of(ctx) as ws:
        nda = add_nda(
            ws,
            title=title,
            parties=party,
            signatories=signatory,
            scope=scope,
            purposes=purpose,
            duties=duties,
            liability_clause=liability,
            signed_on=_date(signed, "--signed"),
            effective_on=eff,
            expires_on=exp,
            document=document,
        )
    if json_out:
        print_json(nda.to_json())
    else:
        _echo(t("gov.nda_added", lang, id=nda.id, title=nda.title, status=nda.status))


@nda_app.command("sign")
def nda_sign(
    ctx: typer.Context,
    nda_id: int = typer.Argument(..., help="NDA id."),
    document: Path = typer.Option(..., help="Signed PDF/scan; its SHA-256 is kept."),
    signed: str = typer.Option(..., help="Signing date (YYYY-MM-DD)."),
) -> None:
    """Mark an NDA signed and keep the signed document's SHA-256."""
    from handover.governance.ndas import sign_nda
    from handover.i18n import t

    lang = lang_of(ctx)
    day = _date(signed, "--signed")
    assert day is not None
    with handled(), workspace_of(ctx) as ws:
        nda = sign_nda(ws, nda_id, signed_on=day, document=document)
    _echo(t("gov.nda_signed", lang, id=nda.id, status=nda.status))


@nda_app.command("list")
def nda_list(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List NDAs with their derived status."""
    from handover.governance.ndas import list_ndas

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        ndas = list_ndas(ws)
    if json_out:
        print_json([n.to_json() for n in ndas])
        return
    for n in ndas:
        _echo(
            f"#{n.id:<4} {coded('web.ndas.status', n.status, lang):<9} {n.effective_on} → {n.expires_on}  {n.title}  "
            f"[{','.join(n.items)}]  {' / '.join(n.parties)}"
        )


@nda_app.command("breach")
def nda_breach(
    ctx: typer.Context,
    nda_id: int = typer.Argument(..., help="NDA id."),
    person: str = typer.Option(..., help="Who breached it."),
    description: str = typer.Option(..., help="What happened."),
    follow_up: str = typer.Option(..., help="What follows (remedy, notice, sanction)."),
    occurred: str | None = typer.Option(None, help="Date of the breach (YYYY-MM-DD)."),
) -> None:
    """Record a breach of an NDA by a person, with the follow-up."""
    from handover.governance.ndas import record_breach
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        record_breach(
            ws,
            nda_id,
            person,
            description=description,
            follow_up=follow_up,
            occurred_on=_date(occurred, "--occurred"),
        )
    _echo(t("gov.breach_recorded", lang, id=nda_id, person=person))


# --- training --------------------------------------------------------------------------


@training_app.command("courses")
def training_courses(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List installed courses (the shipped PIPL / JR/T 0171 course is always there)."""
    from handover.governance.training import list_courses

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        courses = list_courses(ws)
    if json_out:
        print_json([c.to_json() for c in courses])
        return
    from handover.i18n import t

    for c in courses:
        _echo(
            t(
                "cli.gov.course",
                lang,
                code=c.code,
                version=c.version,
                questions=len(c.questions),
                days=c.validity_days,
                title=c.title["en" if lang == "en" else "zh-CN"],
            )
        )


@training_app.command("import")
def training_import(
    ctx: typer.Context, path: Path = typer.Argument(..., help="Course file (JSON).")
) -> None:
    """Install a course file with its question bank."""
    from handover.governance.training import import_course
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        course = import_course(ws, path)
    _echo(
        t(
            "gov.course_imported",
            lang,
            code=course.code,
            version=course.version,
            n=len(course.questions),
        )
    )


@training_app.command("take")
def training_take(
    ctx: typer.Context,
    course: str = typer.Argument("pipl-jrt0171", help="Course code."),
    seed: int | None = typer.Option(None, help="Shuffle seed (default random)."),
    json_out: bool = JSON_OPT,
) -> None:
    """Take an assessment as the logged-in person; answers are letters read from stdin."""
    from handover.governance.policy import local_date
    from handover.governance.training import get_course, take_course
    from handover.i18n import t

    lang = lang_of(ctx)

    def ask(q: AskedQuestion) -> str | None:
        # With --json the questions go to stderr so stdout stays one JSON document.
        if q.attempt == 1:
            typer.echo("", err=json_out)
            typer.echo(
                t("gov.training_question", lang, n=q.number, total=q.total, prompt=q.prompt),
                err=json_out,
            )
            for letter, text in zip(q.letters, q.options, strict=True):
                typer.echo(f"  {letter}. {text}", err=json_out)
        typer.echo(
            t("gov.training_answer", lang, letters="/".join(q.letters)) + ": ",
            nl=False,
            err=json_out,
        )
        line = sys.stdin.readline()
        if not line:
            typer.echo("", err=json_out)
            return None
        return line

    with handled(), workspace_of(ctx) as ws:
        c = get_course(ws, course)
        if not json_out:
            typer.echo(
                t(
                    "gov.training_intro",
                    lang,
                    title=c.title["en" if lang == "en" else "zh-CN"],
                    n=c.questions_per_attempt,
                    mark=c.pass_mark,
                )
            )
        rec = take_course(ws, course, ask, seed=seed, lang=lang)
        # the day it lapses in the workspace's calendar, as `handover status` tells it
        expires = local_date(ws, rec.expires_at).isoformat() if rec.expires_at else "-"
    if json_out:
        print_json(rec.to_json())
    elif rec.passed and rec.expires_at is not None:
        _echo(
            t(
                "gov.training_passed",
                lang,
                course=rec.course,
                score=rec.score,
                expires=expires,
            )
        )
    else:
        _echo(
            t(
                "gov.training_failed",
                lang,
                course=rec.course,
                score=rec.score,
                mark=c.pass_mark,
                wrong=",".join(rec.wrong),
            )
        )
    if not rec.passed:
        raise typer.Exit(1)


@training_app.command("records")
def training_records(
    ctx: typer.Context,
    person: str | None = typer.Option(None, help="Only this person."),
    json_out: bool = JSON_OPT,
) -> None:
    """List assessment records: score, pass, expiry."""
    from handover.governance.policy import local_date
    from handover.governance.training import list_records

    with handled(), workspace_of(ctx) as ws:
        recs = list_records(ws, person)
        # days in the workspace's calendar, as `handover status` tells them
        days = [
            (local_date(ws, r.taken_at), local_date(ws, r.expires_at) if r.expires_at else None)
            for r in recs
        ]
    if json_out:
        print_json([r.to_json() for r in recs])
        return
    from handover.i18n import t

    lang = lang_of(ctx)
    for r, (taken, expires) in zip(recs, days, strict=True):
        until = expires.isoformat() if expires else "-"
        verdict = t("cli.gov.passed" if r.passed else "cli.gov.failed", lang)
        _echo(
            f"#{r.id:<4} {r.person:<12} {r.course:<16} {r.score:>5.0%} {verdict}  {taken} → {until}"
        )


# --- vendors ---------------------------------------------------------------------------


@vendors_app.command("add")
def vendors_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Vendor's legal name (created as a vendor org if new)."),
    services: str = typer.Option(..., help="What the vendor does for the transfer."),
    agreement: int | None = typer.Option(None, help="Id of the NDA/agreement binding it."),
) -> None:
    """Register a vendor (第三方)."""
    from handover.governance.vendors import register_vendor
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        v = register_vendor(ws, name, services=services, agreement_nda_id=agreement)
    _echo(t("gov.vendor_registered", lang, name=v.name))


@vendors_app.command("questionnaire")
def vendors_questionnaire(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """Print the security questionnaire: keys, weights and allowed answers."""
    from handover.governance.vendors import QUESTIONNAIRE
    from handover.i18n import t

    lang = lang_of(ctx)
    if json_out:
        print_json(
            [
                {
                    "key": q.key,
                    "weight": q.weight,
                    "choices": q.choices,
                    "multi": q.multi,
                    "text": {lang: q.prompt(lang) for lang in ("zh-CN", "en")},
                }
                for q in QUESTIONNAIRE
            ]
        )
        return
    for q in QUESTIONNAIRE:
        many = t("cli.vendors.multi", lang) if q.multi else ""
        _echo(f"{q.key} [{q.weight}]{many}: {q.prompt(lang)}")
        _echo("    " + ", ".join(f"{k}={v:g}" for k, v in q.choices.items()))


@vendors_app.command("assess")
def vendors_assess(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Vendor's name."),
    answers: Path = typer.Option(
        ..., help="Answers file (JSON or TOML), keys as in questionnaire."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Score a vendor's questionnaire and record risk level, decision, reassessment date."""
    from handover.governance.vendors import assess_vendor, read_answers
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        vendor, sc = assess_vendor(ws, name, read_answers(answers), where=str(answers))
    assert vendor.latest is not None
    if json_out:
        print_json({"vendor": vendor.to_json(), "parts": sc.parts, "knockouts": list(sc.knockouts)})
    else:
        _echo(
            t(
                "gov.vendor_assessed",
                lang,
                name=vendor.name,
                score=sc.score,
                risk=sc.risk,
                decision=sc.decision,
                date=vendor.latest.reassess_on.isoformat(),
            )
        )


@vendors_app.command("list")
def vendors_list(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
    """List vendors with their latest assessment."""
    from handover.governance.vendors import list_vendors

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        vendors = list_vendors(ws)
    if json_out:
        print_json([v.to_json() for v in vendors])
        return
    for v in vendors:
        a = v.latest
        state = (
            f"{a.score:g} {coded('web.vendors.risk', a.risk, lang)} "
            f"{coded('web.vendors.decision', a.decision, lang)} → {a.reassess_on}"
            if a
            else "-"
        )
        _echo(f"{v.name:<24} {state}  NDA #{v.agreement_nda_id or '-'}  {v.services}")


# --- grants ----------------------------------------------------------------------------


@grants_app.command("request")
def grants_request(
    ctx: typer.Context,
    grantee: str = typer.Option(..., "--for", help="Who receives the grant."),
    scope: str = typer.Option(..., help="Data: *, tiers C1,C2,C3, tables, table.columns."),
    mode: str = typer.Option(..., help="masked, tokenised or clear."),
    purpose: str = typer.Option(..., help="Why the data is needed."),
    action: list[str] = typer.Option([], "--action", help="Limit to these actions; repeatable."),
    days: int = typer.Option(30, help="Length of the window in days from now (or from --start)."),
    start: str | None = typer.Option(None, help="Start date (YYYY-MM-DD); default now."),
    json_out: bool = JSON_OPT,
) -> None:
    """Request a grant (maker); approvers decide it with `grants approve`."""
    from handover.governance.grants import grant_window, request_grant
    from handover.i18n import t

    lang = lang_of(ctx)
    day = _date(start, "--start")
    with handled(), workspace_of(ctx) as ws:
        begin, end = grant_window(ws, days, day)
        g = request_grant(
            ws,
            grantee,
            scope=scope,
            mode=mode,
            purpose=purpose,
            actions=action,
            valid_from=begin,
            valid_until=end,
        )
    if json_out:
        print_json(g.to_json())
    else:
        _echo(t("gov.grant_requested", lang, id=g.id, need=g.approvals_needed))


def _decided(ctx: typer.Context, grant_id: int, decision: str, json_out: bool) -> None:
    from handover.governance.grants import approve_grant, reject_grant
    from handover.i18n import t

    lang = lang_of(ctx)
    fn = approve_grant if decision == "approve" else reject_grant
    with handled(), workspace_of(ctx) as ws:
        g = fn(ws, grant_id)
    if json_out:
        print_json(g.to_json())
    else:
        _echo(
            t(
                "gov.grant_decided",
                lang,
                id=g.id,
                status=g.status,
                have=len(g.approved_by),
                need=g.approvals_needed,
            )
        )


@grants_app.command("approve")
def grants_approve(
    ctx: typer.Context,
    grant_id: int = typer.Argument(..., help="Grant id."),
    json_out: bool = JSON_OPT,
) -> None:
    """Approve a grant as the logged-in approver (not its requester or grantee)."""
    _decided(ctx, grant_id, "approve", json_out)


@grants_app.command("reject")
def grants_reject(
    ctx: typer.Context,
    grant_id: int = typer.Argument(..., help="Grant id."),
    json_out: bool = JSON_OPT,
) -> None:
    """Reject a grant as the logged-in approver."""
    _decided(ctx, grant_id, "reject", json_out)


@grants_app.command("revoke")
def grants_revoke(
    ctx: typer.Context,
    grant_id: int = typer.Argument(..., help="Grant id."),
    reason: str = typer.Option("", help="Why it is revoked."),
) -> None:
    """Revoke a grant (its requester, an approver or a manager)."""
    from handover.governance.grants import revoke_grant
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        revoke_grant(ws, grant_id, reason=reason)
    _echo(t("gov.grant_revoked", lang, id=grant_id))


@grants_app.command("list")
def grants_list(
    ctx: typer.Context,
    person: str | None = typer.Option(None, help="Only grants of this person."),
    state: str | None = typer.Option(
        None, help="pending, active, not_yet, expired, rejected or revoked."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """List grants with their current state."""
    from handover.governance.grants import list_grants
    from handover.governance.policy import local_text

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        grants = list_grants(ws, person=person, state=state)
        until = {g.id: local_text(ws, g.valid_until) for g in grants}
    if json_out:
        print_json([g.to_json() for g in grants])
        return
    for g in grants:
        _echo(
            f"#{g.id:<4} {coded('web.grant_state', g.state, lang):<8} {g.grantee:<12} {','.join(g.scope)}/{g.mode:<9} "
            f"{len(g.approved_by)}/{g.approvals_needed}  → {until[g.id]}  {g.purpose}"
        )


@grants_app.command("check")
def grants_check(
    ctx: typer.Context,
    action: str = typer.Argument(
        ..., help="scan.evidence, dd.extract, seal, unseal, migrate, verify, shred or key.manage."
    ),
    resource: str = typer.Argument(
        ..., help="ITEM[,ITEM...][/MODE], e.g. C2,C3/masked or */clear."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Authorise ACTION on RESOURCE as the logged-in person, exactly as the data commands
    do: exit 0 allowed, exit 3 refused with the reason (2: the session expired); ledgered
    either way."""
    from handover.governance.authorize import authorize

    with handled(), workspace_of(ctx) as ws:
        decision = authorize(ws, None, action, resource)
    if json_out:
        print_json(decision.to_json())
        if not decision.allowed:
            raise typer.Exit(decision.exit_code)
    else:
        from handover.i18n import t

        shown = t(decision.reason_key, lang_of(ctx), **decision.params)
        if decision.allowed:
            _echo(shown)
        else:
            fail(shown, decision.exit_code)


def register(app: typer.Typer) -> None:
    """Add the governance commands and groups to the ``handover`` app."""
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.command("status")(status)
    app.add_typer(people_app, name="people")
    app.add_typer(nda_app, name="nda")
    app.add_typer(training_app, name="training")
    app.add_typer(vendors_app, name="vendors")
    app.add_typer(grants_app, name="grants")
