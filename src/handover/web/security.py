"""Who is asking and may they: the session behind a request (cookie for pages, bearer
token for /api), CSRF on every state-changing page request, and the security headers of
every response."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Path, Query, Request

from handover.web.sessions import WebSession, csrf_matches, resume_session

if TYPE_CHECKING:
    from handover.web.app import Console

SESSION_COOKIE = "ho_session"
#: the pre-login secret the login form's CSRF token is bound to
PRE_COOKIE = "ho_pre"
LANG_COOKIE = "ho_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: where a person sets their own password (the one page a one-time password opens)
PASSWORD_PAGE = "/account/password"

#: No inline script or style anywhere (htmx is configured by a meta tag, charts are SVG
#: with attributes), nothing framed, no referrer leaks a URL, no plugin, forms post home.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
#: pages show personal names and governance state: never cached by the browser or a proxy
NO_STORE = "no-store"


#: a stored row id in a URL: beyond the database's integers it is bad input, not a crash
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: a ledger sequence number in a URL
Seq = Annotated[int, Path(ge=0, le=2**62)]
#: a table name of the inventory in a URL (no personal data, no path)
TableName = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\W\d][\w$.-]*$")]
#: how many of a table's rows a records view shows
Rows = Annotated[int, Query(ge=1, le=50)]


class LoginNeeded(Exception):
    """The request needs a live session and has none (pages: go to /login; API: 401)."""


class PasswordFirst(Exception):
    """The session's person holds a one-time password: setting their own (and logging
    out) is all it may do (pages: go to /account/password; API: 403)."""


class CsrfRefused(Exception):
    """A state-changing request without the CSRF token of its session (403)."""


def console_of(request: Request) -> Console:
    """The console (workspace, clock, templates) serving ``request``."""
    console: Console = request.app.state.console
    return console


def cookie_name(request: Request, base: str) -> str:
    """The name of the console's cookie ``base`` for ``request``: served over HTTPS (secure
    cookies) with the ``__Host-`` prefix, which browsers take only from this very host,
    Secure and for the whole site, so that no sibling host can plant one (a session of
    its choosing, or a pre-login secret)."""
    return f"__Host-{base}" if console_of(request).secure_cookies else base


def cookie(request: Request, base: str) -> str | None:
    """The value of the console's cookie ``base`` (:func:`cookie_name`) on ``request``."""
    return request.cookies.get(cookie_name(request, base))


def bearer(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def session_of(request: Request) -> WebSession | None:
    """The live session of ``request`` (cached on it): the bearer token under /api, the
    session cookie elsewhere; a token never crosses over, so the API needs no CSRF."""
    if hasattr(request.state, "web_session"):
        cached: WebSession | None = request.state.web_session
        return cached
    console = console_of(request)
    if request.url.path.startswith("/api/"):
        token = bearer(request)
    else:
        token = cookie(request, SESSION_COOKIE)
    found = resume_session(console.ws, token, clock=console.clock)
    request.state.web_session = found
    if found is not None:
        request.state.actor = found.person.name
    return found


def signed_in(request: Request) -> WebSession:
    """Dependency: the live session, or :class:`LoginNeeded`; :class:`PasswordFirst` while
    its person's password is one-time (somebody else set it)."""
    found = signed_in_any(request)
    if found.person.one_time_password:
        raise PasswordFirst()
    return found


def signed_in_any(request: Request) -> WebSession:
    """Dependency of the password page and logout only: the live session, also one
    opened with a one-time password, or :class:`LoginNeeded`."""
    found = session_of(request)
    if found is None:
        raise LoginNeeded()
    return found


async def csrf_checked(request: Request) -> None:
    """Dependency of every page route that changes state: the request carries the CSRF
    token (form field or header) derived from its session token, or, only where it has no
    live session (the login form), from the pre-login cookie. Both are HttpOnly,
    SameSite=Strict: a cross-site page can read neither, so it cannot forge the token.
    The pre-login cookie is not secret enough beside a session: a sibling host or a
    plain-HTTP man in the middle can plant one of their choosing, and the token it gives
    must not pass for the session's."""
    if request.method not in UNSAFE:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        content = request.headers.get("content-type", "")
        if content.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
    from starlette.concurrency import run_in_threadpool

    found = await run_in_threadpool(session_of, request)
    secret = found.token if found is not None else cookie(request, PRE_COOKIE)
    if not (secret and csrf_matches(secret, given)):
        raise CsrfRefused()
