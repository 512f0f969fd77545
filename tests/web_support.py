"""What the console's tests share: a scanned demo workspace built once per module and
copied per test, an injected clock, and logging in through the real login form."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from handover.governance.demo import DEMO_CAST

PASSWORDS = {m.name: m.password for m in DEMO_CAST}
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


class TestClock:
    """A clock the test moves by hand; it starts at the real time the workspace was made,
    so the demo cast's NDAs, training and grants (dated from then) are in force."""

    __test__ = False  # not a test class for pytest

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


def build_scanned_workspace(path: Path, customers: int = 150) -> dt.datetime:
    """A demo workspace at ``path`` with a synthetic seller database scanned into the
    inventory (the demo cast acts: zhaolei scans); returns when it was ready (after every
    record it holds, so a clock starting there finds the demo grants in force)."""
    from handover.flows.scan import run_scan
    from handover.flows.workspace import init_workspace
    from handover.synth import synthesize

    ws = init_workspace(path, demo=True)
    try:
        synthesize(str(path / "seller.db"), customers=customers, seed=7)
        run_scan(ws, path / "seller.db")
    finally:
        ws.close()
    return dt.datetime.now(dt.UTC)


def copy_workspace(src: Path, dst: Path) -> Path:
    """A private copy of a closed workspace (store, keys, reports)."""
    shutil.copytree(src, dst)
    return dst


def app_routes(app: Any) -> list[APIRoute]:
    """Every endpoint of the app, also those of included routers (which FastAPI keeps
    behind one entry each in ``app.routes``)."""
    out: list[APIRoute] = []
    pending = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            out.append(route)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending.extend(inner.routes)
    return out


def csrf_of(client: TestClient, path: str = "/account") -> str:
    """The CSRF token a page carries for this client's session (or pre-login secret)."""
    page = client.get(path)
    found = CSRF.search(page.text)
    assert found is not None, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def login(client: TestClient, name: str, password: str | None = None) -> str:
    """Log in through the login form (already logged in: with that session's token, as a
    second tab's form would); returns the new session's CSRF token."""
    form = client.get("/login")
    token = csrf_of(client, "/login" if form.status_code == 200 else "/account")
    r = client.post(
        "/login",
        data={"name": name, "password": password or PASSWORDS[name], "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    return csrf_of(client)


def api_token(client: TestClient, name: str, password: str | None = None) -> dict[str, str]:
    """Bearer headers of a fresh API session for ``name``."""
    r = client.post("/api/login", json={"name": name, "password": password or PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


# --- a real console on 127.0.0.1, spoken to over real HTTP ----------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(path: Path, clock: Any = None, **options: Any) -> Iterator[str]:
    """The console over the workspace at ``path`` (``options`` go to ``create_app``)
    served by uvicorn on 127.0.0.1 in a thread of this process; yields its base URL,
    stops it afterwards."""
    from handover.web.app import create_app

    with served_app(create_app(path, clock=clock, **options)) as base:
        yield base


@contextmanager
def served_app(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread of this process (so a test can
    reach its console, e.g. to start a job in it); yields its base URL."""
    import threading
    import time

    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.025)
    else:
        raise RuntimeError("the console did not start within 10 s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


class Http:
    """One browser's worth of real HTTP to a served console: its cookies, its CSRF token
    (read from the pages, as a browser's form carries it), and helpers for forms and
    background jobs."""

    __test__ = False

    def __init__(self, base: str) -> None:
        import httpx2

        self.base = base
        self.client = httpx2.Client(base_url=base, follow_redirects=False, timeout=60)
        self.csrf = ""

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def login(self, name: str, password: str | None = None) -> Http:
        """Log in through the login form; keeps the session's CSRF token."""
        page = self.client.get("/login")
        found = CSRF.search(page.text)
        assert found is not None, page.text[:300]
        r = self.client.post(
            "/login",
            data={"name": name, "password": password or PASSWORDS[name], "csrf_token": found[1]},
        )
        assert r.status_code == 303, r.text[:300]
        token = CSRF.search(self.client.get("/account").text)
        assert token is not None
        self.csrf = token[1]
        return self

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> Any:
        """A form post, with the session's CSRF token unless ``csrf`` is False."""
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(path, data=body)

    def wait_job(self, location: str, *, seconds: float = 300) -> str:
        """Follow a job's page (as the page's htmx does) until it no longer runs; its
        final HTML."""
        import time

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            page = self.client.get(location, headers={"HX-Request": "true", "HX-Target": "job"})
            assert page.status_code == 200, page.text[:300]
            if 'class="job job-running"' not in page.text:
                return str(page.text)
            time.sleep(0.1)
        raise AssertionError(f"{location} still running after {seconds} s")


def wait_api_job(client: Any, job: int, headers: dict[str, str], *, seconds: float = 300) -> Any:
    """Follow ``GET /api/jobs/{job}`` until the job no longer runs; its final state."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/jobs/{job}", headers=headers).json()
        if state["status"] != "running":
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job} still running after {seconds} s")


def error_line(html: str) -> str:
    """The error line of a page ("" when none)."""
    found = re.search(r'<p class="error"[^>]*>([^<]*)</p>', html)
    return found.group(1) if found else ""


def english(http: Http, path: str) -> str:
    """``path`` after the language switch to English (the switch's own redirect)."""
    r = http.get("/lang/en", params={"next": path})
    assert r.status_code == 303 and r.headers["location"] == path
    return str(http.get(path).text)


def job_field(html: str, name: str) -> str:
    """The text of ``id="job-<name>"`` in a job's page ("" when absent)."""
    found = re.search(rf'id="job-{name}"[^>]*>(.*?)</(?:dd|p|code|ul)>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip() if found else ""


def ledger_events(path: Path, action: str) -> list[Any]:
    """The ledger entries of ``action`` (prefix) in the workspace at ``path``."""
    from handover.ledger import entries
    from handover.workspace import open_workspace

    ws = open_workspace(path)
    try:
        return entries(ws, action=action)
    finally:
        ws.close()


def rescan(base: str) -> None:
    """The data engineer scans this console's ``seller.db`` (a copied workspace's
    inventory names the template's path, and a campaign needs this very source's)."""
    engineer = Http(base).login("zhaolei")
    try:
        r = engineer.post("/jobs/scan", {"source": "seller.db"})
        assert job_field(engineer.wait_job(r.headers["location"]), "status") == "已完成"
    finally:
        engineer.close()


MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
RESIDENT_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")
#: the page's own random hex (CSRF tokens, digests): eleven digits in a row inside one
#: are no mobile number, however they fall
_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{32,}(?![0-9a-f])")


def no_clear_values(html: str) -> None:
    """No clear mobile number or resident ID anywhere on the page."""
    text = _HEX.sub("", html)
    assert not MOBILE.search(text), MOBILE.search(text)
    assert not RESIDENT_ID.search(text), RESIDENT_ID.search(text)
