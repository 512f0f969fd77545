"""The web console through the app client: sessions (fixation, logout, expiry, throttling),
CSRF, security headers, language switch, the pages and the JSON API, on a real scanned
demo workspace with an injected clock. The authorisation matrix is in test_web_matrix.py,
the real browser in test_web_browser.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from handover.ledger import LedgerEntry, entries
from handover.web.app import create_app
from handover.web.security import CSP, PRE_COOKIE, SESSION_COOKIE, csrf_checked
from handover.workspace import open_workspace
from web_support import (
    CSRF,
    PASSWORDS,
    TestClock,
    api_token,
    app_routes,
    build_scanned_workspace,
    copy_workspace,
    csrf_of,
    login,
    no_clear_values,
)

Console = tuple[TestClient, TestClock, Path]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime]:
    path = tmp_path_factory.mktemp("web") / "ws"
    return path, build_scanned_workspace(path)


@pytest.fixture
def console(template: tuple[Path, dt.datetime], tmp_path: Path) -> Iterator[Console]:
    src, ready = template
    path = copy_workspace(src, tmp_path / "ws")
    clock = TestClock(ready + dt.timedelta(minutes=1))
    with TestClient(create_app(path, clock=clock), follow_redirects=False) as client:
        yield client, clock, path


def ledger(path: Path, action: str) -> list[LedgerEntry]:
    ws = open_workspace(path)
    try:
        return entries(ws, action=action)
    finally:
        ws.close()


# --- headers, login, CSRF ------------------------------------------------------------------


def test_security_headers_on_pages_static_errors_and_api(console: Console) -> None:
    client, _, _ = console
    for path in ("/login", "/static/htmx.min.js", "/no-such-page", "/api/me", "/dashboard"):
        r = client.get(path)
        assert r.headers["content-security-policy"] == CSP, path
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
        assert "frame-ancestors 'none'" in CSP
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/api/me").status_code == 401
    assert client.get("/dashboard").headers["location"] == "/login"
    # No inline script anywhere: every <script> has a src.
    page = client.get("/login").text
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert " style=" not in page


def test_login_sets_strict_httponly_cookie_and_is_ledgered(console: Console) -> None:
    client, _, path = console
    pre = client.get("/login")
    assert (
        "HttpOnly" in pre.headers["set-cookie"] and "SameSite=strict" in pre.headers["set-cookie"]
    )
    token = CSRF.search(pre.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login",
        data={"name": "zhoujie", "password": PASSWORDS["zhoujie"], "csrf_token": token},
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.get("/dashboard").status_code == 200
    logins = ledger(path, "web.login")
    assert [(e.actor, e.action) for e in logins] == [("zhoujie", "web.login")]
    assert PASSWORDS["zhoujie"] not in logins[0].body.decode()


def test_secure_cookies_when_served_over_https(
    template: tuple[Path, dt.datetime], tmp_path: Path
) -> None:
    src, ready = template
    path = copy_workspace(src, tmp_path / "ws")
    app = create_app(path, clock=TestClock(ready), secure_cookies=True)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        login(client, "zhoujie")
        assert client.get("/dashboard").status_code == 200
        r = client.post("/api/login", json={"name": "zhoujie", "password": PASSWORDS["zhoujie"]})
        assert r.status_code == 200
        page = client.get("/login")  # logged in: redirect, no cookie needed
        assert page.status_code == 303
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        r = client.get("/login")
        assert "Secure" in r.headers["set-cookie"]
        # __Host-: a sibling host cannot plant the pre-login secret or a session
        assert r.headers["set-cookie"].startswith(f"__Host-{PRE_COOKIE}=")
        token = login(client, "zhoujie")
        assert client.cookies.get(f"__Host-{SESSION_COOKIE}")
        assert client.cookies.get(SESSION_COOKIE) is None
        # a cookie without the prefix (what a sibling host could set) is not read
        client.cookies.set(SESSION_COOKIE, "planted")
        assert client.get("/dashboard").status_code == 200
        client.cookies.delete(f"__Host-{SESSION_COOKIE}")
        assert client.get("/dashboard").headers["location"] == "/login"
        assert client.post("/logout", data={"csrf_token": token}).status_code == 403


def test_wrong_password_refused_alike_and_ledgered(console: Console) -> None:
    client, _, path = console
    token = csrf_of(client, "/login")
    for name, pw in (("zhoujie", "wrong-password"), ("nobody", "whatever-pass"), ("zhoujie", "")):
        r = client.post("/login", data={"name": name, "password": pw, "csrf_token": token})
        assert r.status_code in (400, 403), (name, r.status_code)
        assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    refused = ledger(path, "web.login.refused")
    assert [e.subject for e in refused] == ["person zhoujie", "person nobody"]
    assert all(e.actor == "web:anonymous" for e in refused)
    assert "wrong-password" not in "".join(e.body.decode() for e in refused)


def test_csrf_refused_without_or_with_a_wrong_token(console: Console) -> None:
    client, _, path = console
    # Even the login form needs its token.
    r = client.post("/login", data={"name": "zhoujie", "password": PASSWORDS["zhoujie"]})
    assert r.status_code == 403 and "CSRF" in r.text
    token = login(client, "wangmin")
    form = {"grantee": "chenjing", "scope": "C1", "mode": "masked", "purpose": "尽调抽样"}
    before = len(ledger(path, "governance.grant.request"))
    assert client.post("/grants", data=form).status_code == 403
    assert client.post("/grants", data={**form, "csrf_token": "0" * 64}).status_code == 403
    other = TestClient(client.app, follow_redirects=False)
    other_token = login(other, "zhoujie")  # a real token, of another session
    assert client.post("/grants", data={**form, "csrf_token": other_token}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert len(ledger(path, "governance.grant.request")) == before  # nothing happened
    # The form field and htmx's header both work.
    r = client.post("/grants", data={**form, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/grants?notice=requested")
    r = client.post("/grants", data=form, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 303
    assert len(ledger(path, "governance.grant.request")) == before + 2


def test_a_planted_pre_login_cookie_does_not_pass_beside_a_session(console: Console) -> None:
    """A cookie a sibling host (or a man in the middle on plain HTTP) can plant, with the
    CSRF token derived from it, must not pass on a logged-in request: only the session's
    own token does (the review's forged grant approval)."""
    from handover.web.sessions import csrf_token

    client, _, path = console
    token = login(client, "wangmin")
    client.cookies.set(PRE_COOKIE, "attacker-chosen")
    form = {"grantee": "chenjing", "scope": "C1", "mode": "masked", "purpose": "尽调抽样"}
    before = len(ledger(path, "governance.grant.request"))
    forged = csrf_token("attacker-chosen")
    assert client.post("/grants", data={**form, "csrf_token": forged}).status_code == 403
    assert client.post("/logout", data={"csrf_token": forged}).status_code == 403
    assert len(ledger(path, "governance.grant.request")) == before
    assert client.post("/grants", data={**form, "csrf_token": token}).status_code == 303
    # without a session the same cookie still binds the login form's token
    anonymous = TestClient(client.app, follow_redirects=False)
    anonymous.cookies.set(PRE_COOKIE, "attacker-chosen")
    r = anonymous.post(
        "/login",
        data={"name": "zhoujie", "password": PASSWORDS["zhoujie"], "csrf_token": forged},
    )
    assert r.status_code == 303


def test_every_state_changing_page_route_checks_csrf(console: Console) -> None:
    client, _, _ = console
    changing = [
        r
        for r in app_routes(client.app)
        if r.methods & {"POST", "PUT", "PATCH", "DELETE"} and not r.path.startswith("/api/")
    ]
    assert {r.path for r in changing} >= {
        "/login",
        "/logout",
        "/grants",
        "/grants/{grant_id}/{decision}",
    }
    unchecked = [
        r.path for r in changing if csrf_checked not in [d.call for d in r.dependant.dependencies]
    ]
    assert unchecked == []
    # The API never reads the session cookie, so it needs no CSRF token: a logged-in
    # browser's cookie does not authenticate an API call.
    login(client, "zhoujie")
    assert client.get("/api/me").status_code == 401
    assert client.post("/api/grants/1/approve").status_code == 401


# --- sessions ------------------------------------------------------------------------------


def test_session_fixation_impossible(console: Console) -> None:
    client, _, path = console
    planted = "attacker-chosen-token-0123456789abcdef"
    client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
    client.cookies.set(PRE_COOKIE, planted, domain="testserver.local")
    login(client, "zhoujie")
    issued = client.cookies.get(SESSION_COOKIE)
    assert issued and issued != planted
    # The planted value is no session, and the pre-login secret never becomes one.
    attacker = TestClient(client.app, follow_redirects=False)
    attacker.cookies.set(SESSION_COOKIE, planted)
    assert attacker.get("/dashboard").headers["location"] == "/login"
    # Logging in again replaces the session: the old token is dead.
    old = issued
    login(client, "zhoujie")
    assert client.cookies.get(SESSION_COOKIE) != old
    attacker.cookies.set(SESSION_COOKIE, old)
    assert attacker.get("/dashboard").status_code == 303
    assert [e.action for e in ledger(path, "web.replaced")] == ["web.replaced"]


def test_logout_revokes_the_token_everywhere(console: Console) -> None:
    client, _, path = console
    token = login(client, "zhoujie")
    stolen = client.cookies.get(SESSION_COOKIE)
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    replay = TestClient(client.app, follow_redirects=False)
    replay.cookies.set(SESSION_COOKIE, stolen)
    assert replay.get("/dashboard").headers["location"] == "/login"
    assert replay.get("/api/me", headers={"Authorization": f"Bearer {stolen}"}).status_code == 401
    assert [e.actor for e in ledger(path, "web.logout")] == ["zhoujie"]
    # API logout likewise.
    headers = api_token(client, "zhoujie")
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.post("/api/logout", headers=headers).status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 401


def test_expired_and_idle_sessions_are_refused(console: Console) -> None:
    client, clock, _ = console
    login(client, "zhoujie")
    clock.advance(minutes=29)
    assert client.get("/dashboard").status_code == 200  # activity resets the idle timer
    clock.advance(minutes=29)
    assert client.get("/dashboard").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/dashboard").headers["location"] == "/login"  # idle too long
    # The absolute limit: 8 hours even when active all along.
    login(client, "zhoujie")
    for _ in range(17):
        clock.advance(minutes=28)
        assert client.get("/account").status_code == 200
    clock.advance(minutes=28)  # 8 h 24 min after login
    assert client.get("/account").headers["location"] == "/login"


def test_deactivated_person_loses_the_session(console: Console) -> None:
    from handover.governance.people import deactivate

    client, clock, path = console
    login(client, "chenjing")
    ws = open_workspace(path)
    try:
        deactivate(ws, "chenjing", actor="wangmin", now=clock())
    finally:
        ws.close()
    assert client.get("/dashboard").headers["location"] == "/login"


def test_login_throttled_per_account_and_per_client(console: Console) -> None:
    client, clock, path = console
    token = csrf_of(client, "/login")

    def attempt(name: str, pw: str, who: TestClient = client) -> int:
        return who.post(
            "/login", data={"name": name, "password": pw, "csrf_token": token}
        ).status_code

    for _ in range(5):
        assert attempt("zhoujie", "wrong-password-1") == 403
    # The sixth try is refused without checking even a right password.
    assert attempt("zhoujie", PASSWORDS["zhoujie"]) == 403
    assert len(ledger(path, "web.login.throttled")) == 1
    r = client.post(
        "/login", data={"name": "zhoujie", "password": PASSWORDS["zhoujie"], "csrf_token": token}
    )
    assert "分钟后再试" in r.text
    # Another account from this client still logs in (per-client limit is 20).
    assert attempt("liqiang", PASSWORDS["liqiang"]) == 303
    client.cookies.delete(SESSION_COOKIE)
    token = csrf_of(client, "/login")
    clock.advance(minutes=16)  # the window has passed
    assert attempt("zhoujie", PASSWORDS["zhoujie"]) == 303
    client.cookies.delete(SESSION_COOKIE)
    token = csrf_of(client, "/login")
    # One client guessing many names is throttled after 20 failures, for every name.
    for i in range(20):
        assert attempt(f"guess{i}", "wrong-password-2") == 403
    assert attempt("liqiang", PASSWORDS["liqiang"]) == 403
    elsewhere = TestClient(client.app, follow_redirects=False, client=("198.51.100.7", 4000))
    token = csrf_of(elsewhere, "/login")
    assert attempt("liqiang", PASSWORDS["liqiang"], elsewhere) == 303


# --- language ------------------------------------------------------------------------------


def test_language_switch_on_every_page(console: Console) -> None:
    client, _, _ = console
    login(client, "zhoujie")
    for page in ("/dashboard", "/inventory", "/grants", "/ledger", "/account", "/ledger/3"):
        r = client.get(page)
        assert r.status_code == 200, page
        assert '<html lang="zh-CN">' in r.text and 'hreflang="en"' in r.text, page
    assert "交接阶段" in client.get("/dashboard").text
    r = client.get("/lang/en", params={"next": "/grants?notice=approve&grant=1"})
    assert r.status_code == 303 and r.headers["location"] == "/grants?notice=approve&grant=1"
    page = client.get("/dashboard").text
    assert '<html lang="en">' in page and "Stages of the transfer" in page
    assert 'hreflang="zh-CN"' in page
    # Dates follow the language: 4 Dec 2026 / 2026年12月4日.
    assert re.search(r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}", page)
    client.get("/lang/zh-CN")
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", client.get("/dashboard").text)
    # The switch never sends anyone to another site.
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert client.get("/lang/en", params={"next": evil}).headers["location"] == "/dashboard"


# --- pages ---------------------------------------------------------------------------------


def test_dashboard_shows_stages_deadlines_and_chart(console: Console) -> None:
    client, _, _ = console
    login(client, "liuyang")
    page = client.get("/dashboard").text
    # The scan ran in the template workspace: inventory done, with its evidence link.
    scan = ledger(console[2], "scan.run")[-1]
    assert f'href="/ledger/{scan.seq}"' in page
    assert page.count('class="stage done"') == 2  # inventory, and the demo's grant approvals
    # PIA (an approval), seal, migrate, verify, shred, dossier (one built)
    assert page.count('class="stage not_started"') == 6
    assert page.count('class="stage unavailable"') == 1  # notices
    assert '<svg class="chart"' in page and "cust_info" in page
    api = client.get("/api/dashboard", headers=api_token(client, "liuyang")).json()
    assert [s["stage"] for s in api["stages"]][:3] == ["inventory", "pia", "grants"]
    assert api["grants_by_state"] == {"active": 4}
    by_table = {r["table"]: r for r in api["pii_columns_by_tier"]}
    assert by_table["sys_user"]["C3"] >= 1  # password hashes are C3


def test_inventory_search_filter_and_masked_examples(console: Console) -> None:
    client, _, path = console
    login(client, "zhaolei")
    everything = client.get("/inventory").text
    assert "ho_session" not in everything
    r = client.get("/inventory", params={"q": "mobile"})
    # each table name links to its rows (/records/{table})
    rows = re.findall(r'<tr>\s*<td><a href="/records/\w+">(\w+)</a></td><td>([^<]+)</td>', r.text)
    assert rows and len(rows) < everything.count("<tr>")
    # htmx asks for the rows only.
    part = client.get(
        "/inventory", params={"tier": "C3"}, headers={"HX-Request": "true", "HX-Target": "inv-rows"}
    ).text
    assert "<html" not in part and "C3" in part and ">C2<" not in part
    # No example is shown until asked for; then masked only, and the read is ledgered.
    assert "****" not in everything
    shown = client.get("/inventory", params={"examples": "true"})
    assert shown.status_code == 200 and "****" in shown.text
    no_clear_values(shown.text)
    allowed = ledger(path, "access.allow")[-1]
    assert allowed.actor == "zhaolei" and allowed.details["action"] == "scan.evidence"
    assert allowed.details["resource"] == "C1,C2,C3/masked"


def test_grant_maker_checker_through_the_pages(console: Console) -> None:
    client, _, path = console
    token = login(client, "wangmin")
    form = {
        "grantee": "chenjing",
        "scope": "*",
        "mode": "clear",
        "purpose": "尽职调查抽查 / DD sample check",
        "days": "7",
        "csrf_token": token,
    }
    r = client.post("/grants", data=form)
    gid = int(re.search(r"grant=(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    page = client.get(r.headers["location"]).text
    assert f"#{gid}" in page and 'id="pending-count"' not in page
    # The maker may not approve (and holds no approver role anyway).
    r = client.post(f"/grants/{gid}/approve", data={"csrf_token": token})
    assert r.status_code == 403
    client.cookies.delete(SESSION_COOKIE)
    # Two different approvers for clear access that may reach C3.
    token = login(client, "zhoujie")
    assert client.post(f"/grants/{gid}/approve", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/grants/{gid}/approve", data={"csrf_token": token}).status_code == 403
    client.cookies.delete(SESSION_COOKIE)
    token = login(client, "liqiang")
    before = client.get("/dashboard").text
    assert re.search(r'id="grants-active">4<', before)
    assert client.post(f"/grants/{gid}/approve", data={"csrf_token": token}).status_code == 303
    after = client.get("/dashboard").text
    assert re.search(r'id="grants-active">5<', after)
    # The grantee's new grant lets the check pass; the approvals are in the ledger.
    decided = [e for e in ledger(path, "governance.grant") if e.subject == f"grant {gid}"]
    assert [(e.actor, e.action) for e in decided] == [
        ("wangmin", "governance.grant.request"),
        ("wangmin", "governance.grant.approve.refused"),
        ("zhoujie", "governance.grant.approve"),
        ("zhoujie", "governance.grant.approve.refused"),
        ("liqiang", "governance.grant.approve"),
    ]
    # Revoke by an approver; then it is no longer active.
    assert client.post(f"/grants/{gid}/revoke", data={"csrf_token": token}).status_code == 303
    assert re.search(r'id="grants-active">4<', client.get("/dashboard").text)


def test_refusal_page_is_one_line_in_the_readers_language(console: Console) -> None:
    client, _, path = console
    login(client, "liuyang")  # the auditor
    r = client.get("/grants/check", params={"action": "seal", "resource": "*"})
    assert r.status_code == 403
    client.get("/lang/en")
    r = client.get("/inventory", params={"examples": "true"})
    assert r.status_code == 403
    alert = re.search(r'<p class="error" role="alert">([^<]*)</p>', r.text)
    assert alert and "\n" not in alert.group(1).strip() and "liuyang" in alert.group(1)
    assert "scan.evidence" in alert.group(1) and "拒绝" not in alert.group(1)
    refused = ledger(path, "access.refuse")
    assert [(e.actor, e.details["action"]) for e in refused[-2:]] == [
        ("liuyang", "seal"),
        ("liuyang", "scan.evidence"),
    ]


def test_ledger_explorer_filters_proofs_and_tampering(console: Console) -> None:
    client, _, path = console
    login(client, "liuyang")
    page = client.get("/ledger", params={"actor": "zhaolei", "action": "scan"}).text
    seqs = [int(s) for s in re.findall(r'<a href="/ledger/(\d+)">', page)]
    scans = [e.seq for e in ledger(path, "scan") if e.actor == "zhaolei"]
    assert seqs == sorted(scans, reverse=True) and seqs
    assert 'class="valid"' in page and "invalid" not in page.split("checkpoints")[-1].lower()
    entry = client.get(f"/ledger/{seqs[0]}").text
    assert 'id="inclusion" class="valid"' in entry and 'id="checkpoint" class="valid"' in entry
    api = client.get(f"/api/ledger/{seqs[0]}", headers=api_token(client, "liuyang")).json()
    assert api["inclusion_valid"] and api["checkpoint_valid"] and api["proof"]
    # Subject search and dates.
    api_all = client.get(
        "/api/ledger", params={"subject": "seller.db"}, headers=api_token(client, "liuyang")
    )
    assert api_all.json()["matching"] >= 1
    none = client.get("/ledger", params={"since": "2000-01-01", "until": "2000-01-02"}).text
    assert "<td><a href" not in none
    # Tamper with one stored entry: its page says the proof fails.
    ws = open_workspace(path)
    try:
        with ws.store.engine.begin() as conn:
            body = conn.execute(
                text("SELECT body FROM ledger_entries WHERE seq = :s"), {"s": seqs[0]}
            ).scalar_one()
            conn.execute(
                text("UPDATE ledger_entries SET body = :b WHERE seq = :s"),
                {"b": body.replace("zhaolei", "mallory"), "s": seqs[0]},
            )
    finally:
        ws.close()
    entry = client.get(f"/ledger/{seqs[0]}").text
    assert 'id="inclusion" class="invalid"' in entry


def test_forged_checkpoint_signature_shown_invalid(console: Console) -> None:
    client, _, path = console
    login(client, "liuyang")
    ws = open_workspace(path)
    try:
        with ws.store.engine.begin() as conn:
            note = conn.execute(
                text("SELECT note FROM ledger_checkpoints ORDER BY id DESC LIMIT 1")
            ).scalar_one()
            head, sig = note.rsplit(" ", 1)
            forged = head + " " + ("A" * (len(sig) - 2)) + sig[-2:]
            conn.execute(
                text(
                    "UPDATE ledger_checkpoints SET note = :n WHERE id = (SELECT max(id) FROM ledger_checkpoints)"
                ),
                {"n": forged},
            )
    finally:
        ws.close()
    page = client.get("/ledger").text
    cps = page.split('id="cp-h"')[1]
    assert cps.count('class="invalid"') == 1 and cps.count('class="valid"') >= 1


# --- API -----------------------------------------------------------------------------------


def test_api_grants_and_check(console: Console) -> None:
    client, _, _path = console
    maker = api_token(client, "wangmin")
    body = {"grantee": "chenjing", "scope": "C1,C2", "mode": "clear", "purpose": "对账"}
    g = client.post("/api/grants", json=body, headers=maker).json()
    assert g["state"] == "pending" and g["approvals_needed"] == 1 and g["requested_by"] == "wangmin"
    r = client.post(f"/api/grants/{g['id']}/approve", headers=maker)
    assert r.status_code == 403 and r.json()["error"]["key"] == "gov.approve_not_approver"
    approver = api_token(client, "zhoujie")
    r = client.post(f"/api/grants/{g['id']}/approve", headers=approver)
    assert r.status_code == 200 and r.json()["state"] == "active"
    grantee = api_token(client, "chenjing")
    r = client.get(
        "/api/grants/check",
        params={"action": "dd.extract", "resource": "C1,C2/clear"},
        headers=grantee,
    )
    assert r.status_code == 200 and r.json()["reason_key"] == "gov.allow"
    r = client.get(
        "/api/grants/check",
        params={"action": "seal", "resource": "*"},
        headers={**grantee, "Accept-Language": "en"},
    )
    assert r.status_code == 403 and r.json()["reason_key"] == "gov.refuse.role"
    assert r.json()["reason"].startswith("refused") or "role" in r.json()["reason"]
    assert client.get("/api/grants", params={"state": "active"}, headers=grantee).status_code == 200
    r = client.post("/api/grants", json={**body, "mode": "loud"}, headers=maker)
    assert r.status_code == 400 and "loud" in r.json()["error"]["message"]
    r = client.post("/api/grants", json={"grantee": "chenjing"}, headers=maker)
    assert r.status_code == 422 and "scope" in r.json()["error"]["message"]
    schema = client.get("/api/openapi.json").json()
    assert {"/api/login", "/api/grants", "/api/ledger/{seq}", "/api/inventory"} <= set(
        schema["paths"]
    )
    assert not any(p.startswith(("/dashboard", "/login")) for p in schema["paths"])


def test_extreme_ids_and_times_are_bad_input_not_crashes(console: Console) -> None:
    # Found by the fuzzer (test_web_fuzz.py): an id beyond SQLite's integers, a time
    # bound UTC cannot hold, a day past the calendar's end were server errors.
    client, _, _ = console
    token = login(client, "zhoujie")
    api = api_token(client, "zhoujie")
    huge = 2**63
    assert client.post(f"/api/grants/{huge}/approve", headers=api).status_code == 422
    assert client.get(f"/api/ledger/{huge}", headers=api).status_code == 422
    assert client.post(f"/grants/{huge}/approve", data={"csrf_token": token}).status_code == 400
    size = client.get("/api/ledger", headers=api).json()["matching"]
    for bound in ("since=0001-01-01T00:00:00%2B14:00", "until=9999-12-31T23:59:59-14:00"):
        r = client.get(f"/api/ledger?{bound}", headers=api)
        assert r.status_code == 200 and r.json()["matching"] >= size, bound
    r = client.get("/ledger", params={"since": "0001-01-01", "until": "9999-12-31"})
    assert r.status_code == 200 and "<td><a href" in r.text


@pytest.mark.postgres
def test_console_on_a_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    from handover.flows.workspace import init_workspace

    path = tmp_path / "pg"
    init_workspace(path, demo=True, database_url=pg_url).close()
    clock = TestClock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    with TestClient(create_app(path, clock=clock), follow_redirects=False) as client:
        token = login(client, "wangmin")
        form = {"grantee": "chenjing", "scope": "C1", "mode": "masked", "purpose": "PG"}
        assert client.post("/grants", data={**form, "csrf_token": token}).status_code == 303
        client.cookies.clear()
        token = login(client, "zhoujie")
        assert client.post("/grants/5/approve", data={"csrf_token": token}).status_code == 303
        assert re.search(r'id="grants-active">5<', client.get("/dashboard").text)
        assert client.post("/logout", data={"csrf_token": token}).status_code == 303
        clock.advance(minutes=31)
        assert client.get("/dashboard").headers["location"] == "/login"
        page = client.get("/login")
        assert page.status_code == 200
    assert [e.actor for e in ledger(path, "web.login")] == ["wangmin", "zhoujie"]


# --- background jobs -----------------------------------------------------------------------


def _wait(client: TestClient, headers: dict[str, str], job_id: int) -> dict[str, object]:
    # A real thread does the work: wait for its outcome (generous bound, not a timing).
    import time

    for _ in range(1200):
        job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running after 60 s")


def test_scan_job_runs_in_the_background_with_progress(console: Console) -> None:
    client, _, path = console
    token = login(client, "zhaolei")
    api = api_token(client, "zhaolei")
    before = client.get("/api/inventory", headers=api).json()
    r = client.post("/jobs/scan", data={"source": "seller.db", "csrf_token": token})
    assert r.status_code == 303
    job_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/jobs/{job_id}").text
    assert "seller.db" in page and 'id="job"' in page
    job = _wait(client, api, job_id)
    assert job["status"] == "done", job
    tables = len(before["tables"])
    assert job["steps"] == tables and job["result"]["tables"] == tables  # type: ignore[index]
    assert job["result"]["scan_id"] == before["scan_id"] + 1  # type: ignore[index]
    assert client.get("/api/inventory", headers=api).json()["scan_id"] == before["scan_id"] + 1
    # A reload shows the outcome, and no longer polls.
    page = client.get(f"/jobs/{job_id}").text
    assert 'id="job-status">已完成<' in page and "hx-trigger" not in page
    part = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true", "HX-Target": "job"}).text
    assert part.lstrip().startswith('<section id="job"') and "<html" not in part
    assert f'href="/jobs/{job_id}"' in client.get("/jobs").text
    runs = ledger(path, "scan.run")
    assert runs[-1].actor == "zhaolei" and runs[-1].details["scan_id"] == before["scan_id"] + 1
    # One decision for the job, as for a CLI scan (the flow reuses it).
    decisions = [e for e in ledger(path, "access.allow") if e.seq > runs[-2].seq]
    assert [(e.actor, e.details["action"]) for e in decisions] == [("zhaolei", "scan.evidence")]


def test_scan_job_refused_or_outside_the_workspace_starts_nothing(console: Console) -> None:
    client, _, path = console
    token = login(client, "chenjing")
    for source in ("seller.db", "/etc/passwd"):  # refused first: no hint whether it exists
        r = client.post("/jobs/scan", data={"source": source, "csrf_token": token})
        assert r.status_code == 403
        assert ledger(path, "access.refuse")[-1].actor == "chenjing"
    client.cookies.clear()
    token = login(client, "zhaolei")
    for bad in ("../", "/etc/passwd", "no-such.db", "keys/../../x"):
        r = client.post("/jobs/scan", data={"source": bad, "csrf_token": token})
        assert r.status_code == 400, bad
    assert client.get("/api/jobs", headers=api_token(client, "zhaolei")).json() == []


def test_jobs_left_running_by_a_stopped_console_are_interrupted(console: Console) -> None:
    from handover.web.models import WebJobRow

    _, clock, path = console
    ws = open_workspace(path)
    try:
        with ws.store.session() as s:
            s.add(
                WebJobRow(
                    kind="scan",
                    actor="zhaolei",
                    source="seller.db",
                    status="running",
                    steps=3,
                    current="cust_info",
                    started_at=clock(),
                    updated_at=clock(),
                    result={},
                )
            )
    finally:
        ws.close()
    with TestClient(create_app(path, clock=clock), follow_redirects=False) as again:
        job = again.get("/api/jobs/1", headers=api_token(again, "zhaolei")).json()
        assert job["status"] == "interrupted" and job["error_key"] == "web.jobs.interrupted"
