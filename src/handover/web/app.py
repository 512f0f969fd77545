"""The console application: ``create_app(workspace)`` builds the FastAPI app serving one
workspace — server-rendered pages (Jinja2, htmx for partial updates) and a JSON API under
``/api`` — as a thin adapter over the same library calls as the CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from handover import __version__
from handover.errors import BadInput, CheckFailed, HandoverError, Refused
from handover.i18n import Msg, normalize_lang, t
from handover.ledger import Clock, checkpoint_if_new, ledger_size, system_clock
from handover.web import fmt
from handover.web.security import (
    HEADERS,
    LANG_COOKIE,
    NO_STORE,
    PASSWORD_PAGE,
    CsrfRefused,
    LoginNeeded,
    PasswordFirst,
    cookie,
    session_of,
)
from handover.web.wakeups import Wakeups
from handover.workspace import Workspace, open_workspace

STATIC = Path(__file__).parent / "static"
LANG_NAMES = {"zh-CN": "中文", "en": "English"}
#: the pages and their titles' keys, in the order of the navigation bar
NAV = (
    ("/dashboard", "web.nav.dashboard"),
    ("/inventory", "web.nav.inventory"),
    ("/grants", "web.nav.grants"),
    ("/ledger", "web.nav.ledger"),
    ("/jobs", "web.nav.jobs"),
    ("/notices", "web.nav.notices"),
    ("/incidents", "web.nav.incidents"),
    ("/pia", "web.nav.pia"),
    ("/certificates", "web.nav.certificates"),
    ("/dossiers", "web.nav.dossiers"),
    ("/ndas", "web.nav.ndas"),
    ("/training", "web.nav.training"),
    ("/vendors", "web.nav.vendors"),
    ("/account", "web.nav.account"),
)


#: how often a job's event stream reads the row of a job this process is not running
#: (another console's); this process's own jobs wake their streams at once (web.wakeups)
EVENTS_FALLBACK = 2.0


@dataclass
class Console:
    """What every request of one console shares: the workspace, the clock, the templates,
    whether cookies are marked Secure (served over https), and the progress notifications
    of the jobs this process runs with the fallback interval for the others'."""

    ws: Workspace
    clock: Clock
    secure_cookies: bool
    env: Environment = field(repr=False)
    wakeups: Wakeups = field(default_factory=Wakeups, repr=False)
    events_fallback: float = EVENTS_FALLBACK

    def now(self) -> dt.datetime:
        """The console's current time (injected in tests)."""
        return self.clock()

    def lang_of(self, request: Request) -> str:
        """The reader's language: the switch's cookie, else the workspace's language."""
        if request.url.path.startswith("/api/"):
            wanted = request.headers.get("accept-language", "")
            return "en" if wanted.lower().startswith("en") else self.ws.settings.lang
        try:
            return normalize_lang(cookie(request, LANG_COOKIE) or self.ws.settings.lang)
        except ValueError:
            return self.ws.settings.lang

    def render(
        self,
        request: Request,
        template: str,
        status: int = 200,
        *,
        csrf_secret: str | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """``template`` rendered for ``request``: in its language, with its session, its
        CSRF token (``csrf_secret``: a pre-login secret set by this very response) and the
        language switch."""
        from handover.web.security import PRE_COOKIE
        from handover.web.sessions import csrf_token

        lang = self.lang_of(request)
        found = session_of(request)
        secret = csrf_secret or (found.token if found is not None else cookie(request, PRE_COOKIE))
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")

        def tr(key: str, /, **values: Any) -> str:
            return t(key, lang, **values)

        body = self.env.get_template(template).render(
            lang=lang,
            t=tr,
            msg=lambda m: m.render(lang) if isinstance(m, Msg) else ("" if m is None else m),
            me=found.person if found is not None else None,
            session=found,
            csrf=csrf_token(secret) if secret else "",
            here=here,
            other_lang="en" if lang == "zh-CN" else "zh-CN",
            lang_names=LANG_NAMES,
            date=lambda v: fmt.date(v, lang),
            datetime=lambda v: fmt.datetime(v, lang),
            number=lambda v, d=0: fmt.number(v, lang, d),
            version=__version__,
            nav=NAV,
            page=request.url.path,
            pretty=lambda v: json.dumps(v, ensure_ascii=False, indent=2, sort_keys=True),
            **context,
        )
        return HTMLResponse(body, status_code=status)


def _status_of(exc: HandoverError) -> int:
    if isinstance(exc, Refused):
        return 403
    if isinstance(exc, CheckFailed):
        return 409
    if isinstance(exc, BadInput):
        return 400
    return 400


def _error(request: Request, status: int, message: str, key: str | None) -> Response:
    console: Console = request.app.state.console
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"status": status, "key": key, "message": message}}, status)
    return console.render(request, "error.html", status, message=message, code=status)


def _install_handlers(app: FastAPI) -> None:
    def lang(request: Request) -> str:
        console: Console = request.app.state.console
        return console.lang_of(request)

    @app.exception_handler(HandoverError)
    async def handover_error(request: Request, exc: HandoverError) -> Response:
        key = exc.message.key if exc.message is not None else None
        return await run_in_threadpool(
            _error, request, _status_of(exc), exc.render(lang(request)), key
        )

    @app.exception_handler(LoginNeeded)
    async def login_needed(request: Request, exc: LoginNeeded) -> Response:
        if request.url.path.startswith("/api/"):
            msg = t("web.login_needed", lang(request))
            return JSONResponse(
                {"error": {"status": 401, "key": "web.login_needed", "message": msg}},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if request.headers.get("hx-request"):
            # htmx follows this header with a full page load (a swap would nest the page).
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse("/login", 303)

    @app.exception_handler(PasswordFirst)
    async def password_first(request: Request, exc: PasswordFirst) -> Response:
        if request.url.path.startswith("/api/"):
            msg = t("web.password_first", lang(request))
            return JSONResponse(
                {"error": {"status": 403, "key": "web.password_first", "message": msg}}, 403
            )
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": PASSWORD_PAGE})
        return RedirectResponse(PASSWORD_PAGE, 303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return await run_in_threadpool(
            _error, request, 403, t("web.csrf", lang(request)), "web.csrf"
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        key = "web.not_found" if exc.status_code == 404 else "web.http_error"
        text = t(key, lang(request), status=exc.status_code)
        return await run_in_threadpool(_error, request, exc.status_code, text, key)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # Name the field at fault, never echo the value (it may be a password).
        fields = sorted({".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors()})
        text = t("web.invalid", lang(request), fields=", ".join(fields) or "-")
        status = 422 if request.url.path.startswith("/api/") else 400
        return await run_in_threadpool(_error, request, status, text, "web.invalid")

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        # A bug: one line, no traceback, no value; headers set here because this handler
        # runs outside the middleware that adds them.
        text = t("web.internal", lang(request))
        if request.url.path.startswith("/api/"):
            resp: Response = JSONResponse(
                {"error": {"status": 500, "key": "web.internal", "message": text}}, 500
            )
        else:
            resp = HTMLResponse(f"<!doctype html><title>500</title><p>{text}</p>", 500)
        resp.headers.update(HEADERS)
        return resp


def create_app(
    workspace: Path | str | None = None,
    *,
    clock: Clock | None = None,
    secure_cookies: bool = False,
    events_fallback: float = EVENTS_FALLBACK,
) -> FastAPI:
    """The console app over the workspace at ``workspace`` (opened now, closed at
    shutdown). ``clock`` gives the time for sessions, throttling and every decision;
    ``secure_cookies`` marks cookies Secure (set it when served over https);
    ``events_fallback`` is how often (seconds) a job's event stream reads the row of a
    job another process runs (this process's jobs wake their streams themselves)."""
    ws = open_workspace(workspace)
    env = Environment(
        loader=PackageLoader("handover.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    console = Console(
        ws, clock or system_clock, secure_cookies, env, events_fallback=events_fallback
    )
    from handover.web.jobs import interrupt_orphans

    # A job's thread dies with the console that ran it: say so instead of "running".
    interrupt_orphans(ws, clock=console.clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        ws.close()

    app = FastAPI(
        title="handover console API",
        version=__version__,
        description="The same actions as the handover CLI, for the buyer's systems. "
        "Log in with POST /api/login; send the token as `Authorization: Bearer TOKEN`.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.console = console
    _install_handlers(app)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        static = request.url.path.startswith("/static/")
        start = None if static else await run_in_threadpool(ledger_size, ws)
        response: Response = await call_next(request)
        if start is not None:
            # Whatever this request recorded is covered by a signed checkpoint, as when a
            # CLI command ends (flows.workspace.opened).
            actor = getattr(request.state, "actor", None)
            await run_in_threadpool(
                lambda: checkpoint_if_new(ws, since=start, actor=actor, clock=console.clock)
            )
        response.headers.update(HEADERS)
        if not static:
            response.headers["Cache-Control"] = NO_STORE
        return response

    from handover.web import (
        api,
        api_governance,
        api_incidents,
        api_notices,
        api_records,
        hooks,
        pages,
        pages_governance,
        pages_incidents,
        pages_jobs,
        pages_notices,
        pages_pia,
        pages_records,
    )

    app.include_router(pages.router)
    app.include_router(pages_jobs.router)
    app.include_router(pages_notices.router)
    app.include_router(pages_incidents.router)
    app.include_router(pages_pia.router)
    app.include_router(pages_records.router)
    app.include_router(pages_governance.router)
    app.include_router(api.router)
    app.include_router(api_records.router)
    app.include_router(api_notices.router)
    app.include_router(api_governance.router)
    app.include_router(api_incidents.router)
    app.include_router(hooks.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
