"""The console's pages: each one a view of library state, each action one library call
(the same the CLI makes), rendered on the server; htmx swaps parts of a page when the
browser runs it, and every form works without it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from handover.errors import Refused
from handover.governance.policy import DATA_ACTIONS, MODES, TIERS
from handover.web import fmt
from handover.web.charts import TIER_ORDER, tiers_chart
from handover.web.security import (
    LANG_COOKIE,
    PASSWORD_PAGE,
    PRE_COOKIE,
    SESSION_COOKIE,
    RowId,
    Seq,
    console_of,
    cookie,
    cookie_name,
    csrf_checked,
    session_of,
    signed_in,
    signed_in_any,
)
from handover.web.sessions import WebSession
from handover.web.views import InventoryQuery, inventory_query

router = APIRouter(include_in_schema=False)
CSRF = [Depends(csrf_checked)]
Session = Annotated[WebSession, Depends(signed_in)]
#: a session also opened with a one-time password: only the password page and logout
AnySession = Annotated[WebSession, Depends(signed_in_any)]
LANG_DAYS = 365


def _cookie(resp: Response, request: Request, name: str, value: str, max_age: int) -> None:
    resp.set_cookie(
        cookie_name(request, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=console_of(request).secure_cookies,
    )


def _drop(resp: Response, request: Request, name: str) -> None:
    resp.delete_cookie(
        cookie_name(request, name),
        path="/",
        httponly=True,
        samesite="strict",
        secure=console_of(request).secure_cookies,
    )


def _safe_next(target: str | None) -> str:
    """A local path to go back to; anything else (another site, a scheme) is the dashboard."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    return target


def partial(request: Request, target: str) -> bool:
    """Whether ``request`` is htmx asking for the part ``#target`` only."""
    return (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == target
    )


# --- login, logout, language -------------------------------------------------------------


@router.get("/")
def home() -> RedirectResponse:
    """The dashboard (or the login page when not logged in)."""
    return RedirectResponse("/dashboard", 303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The login form; a fresh pre-login secret binds its CSRF token."""
    if session_of(request) is not None:
        return RedirectResponse("/dashboard", 303)
    return _login_page(request, None, 200)


def _login_page(request: Request, error: str | None, status: int) -> Response:
    from handover.crypto.passwords import new_session_token

    fresh = None if cookie(request, PRE_COOKIE) else new_session_token()
    resp = console_of(request).render(request, "login.html", status, csrf_secret=fresh, error=error)
    if fresh is not None:
        _cookie(resp, request, PRE_COOKIE, fresh, 3600)
    return resp


@router.post("/login", dependencies=CSRF)
def login(
    request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    """Start a session: a new token in a new cookie (an old session of this browser ends)."""
    from handover.web.sessions import end_session, start_session

    console = console_of(request)
    client = request.client.host if request.client else "-"
    try:
        new = start_session(
            console.ws, name, password, client, clock=console.clock, one_time_ok=True
        )
    except Refused as exc:
        return _login_page(request, exc.render(console.lang_of(request)), 403)
    old = session_of(request)
    if old is not None:
        end_session(console.ws, old, clock=console.clock, why="replaced")
    request.state.actor = new.person.name
    # a one-time password opens the page to set one's own, and nothing else
    resp = _session_cookie(request, new, PASSWORD_PAGE if new.person.one_time_password else "")
    _drop(resp, request, PRE_COOKIE)
    return resp


def _session_cookie(request: Request, session: WebSession, to: str) -> Response:
    """A redirect to ``to`` (default the dashboard) setting ``session``'s cookie."""
    resp = RedirectResponse(to or "/dashboard", 303)
    max_age = int((session.expires_at - console_of(request).now()).total_seconds())
    _cookie(resp, request, SESSION_COOKIE, session.token, max_age)
    return resp


@router.post("/logout", dependencies=CSRF)
def logout(request: Request, me: AnySession) -> Response:
    """End this session in the store (the token is dead even if a copy survives)."""
    from handover.web.sessions import end_session

    console = console_of(request)
    end_session(console.ws, me, clock=console.clock)
    resp = RedirectResponse("/login", 303)
    _drop(resp, request, SESSION_COOKIE)
    return resp


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Switch the console's language (zh-CN or en) and go back to the page."""
    from handover.i18n import normalize_lang

    try:
        lang = normalize_lang(code)
    except ValueError:
        lang = "zh-CN"
    resp = RedirectResponse(_safe_next(next), 303)
    _cookie(resp, request, LANG_COOKIE, lang, LANG_DAYS * 86400)
    return resp


# --- dashboard ---------------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, me: Session) -> Response:
    """Stages with evidence, deadlines, pending approvals, grants, PII by tier per table."""
    from handover.i18n import t
    from handover.web.views import dashboard

    console = console_of(request)
    lang = console.lang_of(request)
    d = dashboard(console.ws, console.now())
    legend = {k: t(f"web.tier.{k}", lang) for k in TIER_ORDER}
    chart = tiers_chart(d.tiers, t("web.chart.tiers", lang), legend, lang) if d.tiers else None
    return console.render(request, "dashboard.html", d=d, chart=chart)


# --- inventory ---------------------------------------------------------------------------


@router.get("/inventory", response_class=HTMLResponse)
def inventory_page(
    request: Request,
    me: Session,
    query: Annotated[InventoryQuery, Depends(inventory_query)],
    examples: bool = False,
) -> Response:
    """Tables → columns → PII types, tiers, levels; masked examples only on request, once
    ``scan.evidence`` in masked mode is allowed (ledgered; refused: 403)."""
    from handover.web.views import inventory

    console = console_of(request)
    view = inventory(
        console.ws,
        query,
        console.lang_of(request),
        examples_for=me.person if examples else None,
        now=console.now(),
    )
    params = {k: v for k, v in query.to_json().items() if v}
    ctx: dict[str, Any] = {
        "view": view,
        "query": query,
        "tiers": (*TIERS, "none"),
        "examples_url": "/inventory?" + urlencode({**params, "examples": "true"}),
    }
    if partial(request, "inv-rows"):
        return console.render(request, "_inventory_rows.html", **ctx)
    return console.render(request, "inventory.html", **ctx)


# --- grants ------------------------------------------------------------------------------


def _grants_context(request: Request, me: WebSession) -> dict[str, Any]:
    from handover.governance.grants import (
        approval_refusal,
        list_grants,
        may_request_for_others,
        may_revoke,
    )
    from handover.governance.people import list_people

    console = console_of(request)
    grants = list(reversed(list_grants(console.ws, now=console.now())))
    return {
        "grants": grants,
        "people": list_people(console.ws),
        "modes": MODES,
        "actions": DATA_ACTIONS,
        # the library's own rules decide which buttons a page offers (it decides again)
        "revocable": {g.id for g in grants if may_revoke(me.person, g)},
        "decidable": {g.id for g in grants if approval_refusal(me.person, g) is None},
        "for_others": may_request_for_others(me.person),
    }


@router.get("/grants", response_class=HTMLResponse)
def grants_page(
    request: Request, me: Session, notice: str = "", grant: int | None = None
) -> Response:
    """Grants with their approvals; request one; approve, reject or revoke."""
    ctx = _grants_context(request, me)
    known = notice in ("requested", "approve", "reject", "revoke")
    return console_of(request).render(
        request, "grants.html", notice=notice if known else "", notice_id=grant, **ctx
    )


@router.post("/grants", dependencies=CSRF)
def grants_request(
    request: Request,
    me: Session,
    grantee: Annotated[str, Form()],
    scope: Annotated[str, Form()],
    mode: Annotated[str, Form()],
    purpose: Annotated[str, Form()],
    days: Annotated[int, Form(ge=1, le=366)] = 30,
    actions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Request a grant as the logged-in person (the maker), as ``handover grants request``."""
    from handover.governance.grants import request_grant

    console = console_of(request)
    now = console.now()
    g = request_grant(
        console.ws,
        grantee,
        scope=scope,
        mode=mode,
        purpose=purpose,
        actions=actions or (),
        valid_from=now,
        valid_until=now + dt.timedelta(days=days),
        actor=me.person.name,
        now=now,
    )
    return RedirectResponse(f"/grants?notice=requested&grant={g.id}", 303)


@router.post("/grants/{grant_id}/{decision}", dependencies=CSRF)
def grants_decide(request: Request, me: Session, grant_id: RowId, decision: str) -> Response:
    """Approve, reject or revoke a grant (the library checks who may: maker-checker)."""
    from handover.governance.grants import approve_grant, reject_grant, revoke_grant

    console = console_of(request)
    fn = {"approve": approve_grant, "reject": reject_grant, "revoke": revoke_grant}.get(decision)
    if fn is None:
        from fastapi import HTTPException

        raise HTTPException(404)
    fn(console.ws, grant_id, actor=me.person.name, now=console.now())
    return RedirectResponse(f"/grants?notice={decision}&grant={grant_id}", 303)


@router.get("/grants/check", response_class=HTMLResponse)
def grants_check(
    request: Request, me: Session, action: str = "seal", resource: str = "*"
) -> Response:
    """Would ``action`` on ``resource`` be allowed for me now? (``handover grants check``;
    the decision is ledgered either way.) 403 when refused."""
    from handover.governance import authorize

    console = console_of(request)
    d = authorize(console.ws, me.person.name, action, resource, now=console.now())
    ctx = _grants_context(request, me)
    return console.render(
        request, "grants.html", 200 if d.allowed else 403, decision=d, notice="", **ctx
    )


# --- ledger ------------------------------------------------------------------------------


def _day(value: str, *, end: bool = False) -> dt.datetime | None:
    """A ``YYYY-MM-DD`` of the date picker as the start (or the end) of that day in Beijing
    time, in UTC; an unreadable date is ignored rather than guessed, a day past the
    calendar's ends bounds nothing."""
    from handover.web.views import utc_bound

    try:
        day = dt.date.fromisoformat(value.strip())
        start = dt.datetime.combine(day, dt.time(), fmt.ZONE)
        return utc_bound(start + dt.timedelta(days=1) if end else start)
    except (ValueError, OverflowError):  # unreadable, or beyond the calendar: no bound
        return None


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page_view(
    request: Request,
    me: Session,
    actor: str = "",
    action: str = "",
    subject: str = "",
    since: str = "",
    until: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Ledger entries, newest first, filtered by actor, action, subject and dates; the
    newest checkpoints with their signatures checked."""
    from handover.web.views import LedgerQuery, ledger_page

    console = console_of(request)
    q = LedgerQuery(
        actor.strip()[:200],
        action.strip()[:100],
        subject.strip()[:200],
        _day(since),
        _day(until, end=True),
        page,
    )
    view = ledger_page(console.ws, q)
    form = {"actor": q.actor, "action": q.action, "subject": q.subject}
    form.update(since=since[:10], until=until[:10])
    base = {k: v for k, v in form.items() if v}
    ctx: dict[str, Any] = {
        "view": view,
        "form": form,
        "prev_url": "/ledger?" + urlencode({**base, "page": page - 1}) if page > 1 else None,
        "next_url": (
            "/ledger?" + urlencode({**base, "page": page + 1})
            if page * q.per_page < view.matching
            else None
        ),
    }
    if partial(request, "ledger-rows"):
        return console.render(request, "_ledger_rows.html", **ctx)
    return console.render(request, "ledger.html", **ctx)


@router.get("/ledger/{seq}", response_class=HTMLResponse)
def ledger_entry(request: Request, me: Session, seq: Seq) -> Response:
    """One entry with its inclusion proof and the checkpoint's signature, checked here."""
    from handover.web.views import entry_proof, purpose_label

    console = console_of(request)
    p = entry_proof(console.ws, seq, me.person.name)
    purpose = purpose_label(str(p.entry["purpose"]), console.lang_of(request))
    return console.render(request, "ledger_entry.html", p=p, purpose=purpose)


# --- account -----------------------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, me: Session, notice: str = "") -> Response:
    """Who I am, my roles, my live sessions (revocable)."""
    from handover.web.sessions import live_sessions

    console = console_of(request)
    sessions = live_sessions(console.ws, me.person, clock=console.clock)
    known = notice if notice in ("password",) else ""
    return console.render(request, "account.html", sessions=sessions, notice=known)


#: the password form's fields, in its order: (form field, label's catalogue key)
PASSWORD_FIELDS = (
    ("current_password", "web.password.current"),
    ("new_password", "web.password.new"),
    ("new_password_again", "web.password.again"),
)
#: a refusal of the password check names the current password; any other, the new one
CURRENT_KEYS = frozenset({"gov.bad_credentials", "gov.login_throttled"})
Secret = Annotated[str, Form(min_length=1, max_length=1024)]


def _password_page(
    request: Request, status: int = 200, *, error: str = "", field: str = ""
) -> Response:
    from handover.governance.people import password_rule

    console = console_of(request)
    return console.render(
        request,
        "password.html",
        status,
        fields=PASSWORD_FIELDS,
        rule=password_rule(console.ws),
        error=error,
        bad=field,
    )


@router.get(PASSWORD_PAGE, response_class=HTMLResponse)
def password_form(request: Request, me: AnySession) -> Response:
    """Change my password: the current one, the new one twice (the one page a one-time
    password opens)."""
    return _password_page(request)


@router.post(PASSWORD_PAGE, dependencies=CSRF)
def password_change(
    request: Request,
    me: AnySession,
    current_password: Secret,
    new_password: Secret,
    new_password_again: Secret,
) -> Response:
    """Set my own password as ``handover people password`` does: the same rule, the
    current one checked and throttled like a login, every session of mine ended and this
    browser given a new one; a refusal is the form again (4xx) naming the field, never
    echoing a password."""
    from handover.errors import HandoverError
    from handover.i18n import Msg
    from handover.web.sessions import change_password

    console = console_of(request)
    lang = console.lang_of(request)

    def refused(status: int, field: str, reason: Msg | str) -> Response:
        label = dict(PASSWORD_FIELDS)[field]
        text = Msg("web.password.field", label=Msg(label), field=field, reason=reason)
        return _password_page(request, status, error=text.render(lang), field=field)

    if new_password != new_password_again:
        return refused(400, "new_password_again", Msg("web.password.mismatch"))
    client = request.client.host if request.client else "-"
    try:
        renewed = change_password(
            console.ws, me, current_password, new_password, client, clock=console.clock
        )
    except HandoverError as exc:
        key = exc.message.key if exc.message is not None else ""
        field = "current_password" if key in CURRENT_KEYS else "new_password"
        status = 403 if isinstance(exc, Refused) else 400
        return refused(status, field, exc.message or str(exc))
    request.state.actor = renewed.person.name
    return _session_cookie(request, renewed, "/account?notice=password")


@router.post("/account/sessions/{session_id}/revoke", dependencies=CSRF)
def revoke(request: Request, me: Session, session_id: RowId) -> Response:
    """End one of my sessions (e.g. a browser left logged in elsewhere)."""
    from handover.web.sessions import revoke_session

    console = console_of(request)
    revoke_session(console.ws, me.person, session_id, clock=console.clock)
    if session_id == me.id:
        resp = RedirectResponse("/login", 303)
        _drop(resp, request, SESSION_COOKIE)
        return resp
    return RedirectResponse("/account", 303)
