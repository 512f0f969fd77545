"""The console's change-password page (/account/password), against the real console
served on 127.0.0.1 over real HTTP (and once in chromium), on a workspace outside a demo
so that the password rule and one-time passwords are the real ones.

The page is ``handover people password`` in a browser: the same rule, the current
password checked and throttled like a login (failures here and at the login form count
together), every session of the person ended and this browser given a new one, the same
``governance.person.password`` ledger event. A person whose password somebody else set
(one-time) is sent to this page after logging in and can open nothing else but logout.
Bad input is the form again (4xx) naming the field; no password is ever in a response,
a URL or the ledger."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handover.web.security import SESSION_COOKIE
from web_support import CSRF, Http, TestClock, copy_workspace, error_line, served

OWN = {"wangmin": "Wangmin-own-2026", "eng": "eng-own-choice-7"}
#: the one-time password the DPO gave newbie
GIVEN = "newbie-set-by-dpo-1"
#: passwords the tests choose (each must never appear in a response or the ledger)
NEW = "eng-new-choice-8"
NEWBIE_OWN = "newbie-own-choice-9"
WRONG = "not-the-current-7"
SECRETS = (*OWN.values(), GIVEN, NEW, NEWBIE_OWN, WRONG)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace outside a demo: the DPO, a data engineer with a password of their own,
    and newbie, whose password the DPO set (one-time)."""
    from handover.flows.workspace import init_workspace
    from handover.governance.people import add_person, set_password
    from handover.workspace import DEMO_TRANSFER

    seller = DEMO_TRANSFER["seller"]["name"]
    path = tmp_path_factory.mktemp("password") / "ws"
    ws = init_workspace(path, DEMO_TRANSFER, demo=False)
    try:
        add_person(ws, "wangmin", "王敏", seller, ["dpo", "compliance_officer"], OWN["wangmin"])
        add_person(
            ws, "eng", "工程师", seller, ["data_engineer"], "eng-set-by-dpo-1", actor="wangmin"
        )
        set_password(ws, "eng", OWN["eng"], current="eng-set-by-dpo-1")
        add_person(ws, "newbie", "新人", seller, ["auditor"], GIVEN, actor="wangmin")
    finally:
        ws.close()
    return path


class Browser(Http):
    """Real HTTP as one browser, keeping every response to look for passwords in."""

    __test__ = False

    def __init__(self, base: str, seen: list[str]) -> None:
        super().__init__(base)
        self.seen = seen

    def _keep(self, r: Any) -> Any:
        self.seen.append(f"{r.request.url}\n{r.headers}\n{r.text}")
        return r

    def get(self, path: str, **kw: Any) -> Any:
        return self._keep(self.client.get(path, **kw))

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> Any:
        return self._keep(super().post(path, data, csrf=csrf))

    def form_login(self, name: str, password: str) -> Any:
        """Post the login form; keeps the CSRF token of the page it leads to."""
        found = CSRF.search(self.get("/login").text)
        assert found is not None
        r = self._keep(
            self.client.post(
                "/login", data={"name": name, "password": password, "csrf_token": found[1]}
            )
        )
        if r.status_code == 303:
            token = CSRF.search(self.get("/account/password").text)
            assert token is not None
            self.csrf = token[1]
        return r

    def change(self, current: str, new: str, again: str | None = None, *, csrf: bool = True) -> Any:
        body = {
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        }
        return self.post("/account/password", body, csrf=csrf)


Console = tuple[str, Path, TestClock, list[str]]


@pytest.fixture
def console(template: Path, tmp_path: Path) -> Iterator[Console]:
    path = copy_workspace(template, tmp_path / "ws")
    clock = TestClock(dt.datetime.now(dt.UTC))
    seen: list[str] = []
    with served(path, clock=clock) as base:
        yield base, path, clock, seen
    for text in seen:  # whatever a test did, no password was ever sent back
        for secret in SECRETS:
            assert secret not in text, secret
    no_password_in_ledger(path)


def browser(console: Console) -> Browser:
    return Browser(console[0], console[3])


def no_password_in_ledger(path: Path) -> None:
    for e in ledger(path, ""):
        body = e.body.decode("utf-8", errors="replace")
        for secret in SECRETS:
            assert secret not in body, (e.action, secret)


def ledger(path: Path, action: str) -> list[Any]:
    """Entries whose action is ``action`` exactly (every entry for "")."""
    from handover.ledger import entries
    from handover.workspace import open_workspace

    ws = open_workspace(path)
    try:
        return [e for e in entries(ws) if not action or e.action == action]
    finally:
        ws.close()


def account(path: Path, name: str) -> tuple[Any, ...]:
    """The stored password of ``name`` and who set it, whether it is one-time."""
    from sqlalchemy import select

    from handover.governance.models import PersonRow
    from handover.workspace import open_workspace

    ws = open_workspace(path)
    try:
        with ws.store.session() as s:
            row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one()
            return row.password_hash, row.password_set_by, row.password_one_time
    finally:
        ws.close()


def invalid(page: str) -> list[str]:
    """The fields the form marks invalid."""
    return re.findall(r'name="([a-z_]+)"[^>]*aria-invalid="true"', page)


# --- changing one's own password ---------------------------------------------------------


def test_the_page_changes_the_password(console: Console) -> None:
    _, path, _, _ = console
    eng = browser(console)
    assert eng.form_login("eng", OWN["eng"]).headers["location"] == "/dashboard"
    # the header shows who is logged in, with the way to this page
    dash = eng.get("/dashboard").text
    assert 'href="/account/password"' in dash and "修改密码" in dash
    page = eng.get("/account/password")
    assert page.status_code == 200
    for field in ("current_password", "new_password", "new_password_again"):
        assert f'name="{field}" type="password"' in page.text
    assert "至少 10 个字符" in page.text  # the rule of this workspace, shown
    r = eng.change(OWN["eng"], NEW)
    assert r.status_code == 303 and r.headers["location"] == "/account?notice=password"
    assert any(c.startswith(SESSION_COOKIE) for c in r.headers.get_list("set-cookie"))
    done = eng.get(r.headers["location"])
    assert done.status_code == 200 and "密码已修改;您的其他会话已结束。" in done.text
    # the old password no longer logs in; the new one does
    assert browser(console).form_login("eng", OWN["eng"]).status_code == 403
    assert browser(console).form_login("eng", NEW).headers["location"] == "/dashboard"
    # recorded as the CLI records it: set by eng, not one-time; then this browser's new
    # session
    ev = ledger(path, "governance.person.password")[-1]
    assert (ev.actor, ev.subject) == ("eng", "person eng")
    assert ev.details["set_by"] == "eng" and ev.details["one_time_password"] is False
    renewed = [e for e in ledger(path, "web.login") if e.details.get("after") == "password"]
    assert len(renewed) == 1 and renewed[0].actor == "eng"
    assert account(path, "eng")[1:] == ("eng", False)


def test_every_other_session_ends(console: Console) -> None:
    from handover.governance.session import current_session, login
    from handover.workspace import open_workspace

    _, path, clock, _ = console
    here, elsewhere = browser(console), browser(console)
    here.form_login("eng", OWN["eng"])
    elsewhere.form_login("eng", OWN["eng"])
    ws = open_workspace(path)
    try:
        login(ws, "eng", OWN["eng"], now=clock())  # and a CLI session
        old = here.client.cookies[SESSION_COOKIE]
        assert here.change(OWN["eng"], NEW).status_code == 303
        assert current_session(ws, now=clock()) is None
    finally:
        ws.close()
    assert elsewhere.get("/dashboard").headers["location"] == "/login"
    assert here.get("/dashboard").status_code == 200  # with its new session
    assert here.client.cookies[SESSION_COOKIE] != old
    stolen = browser(console)  # the token from before the change is dead too
    stolen.client.cookies.set(SESSION_COOKIE, old)
    assert stolen.get("/dashboard").headers["location"] == "/login"
    ended = ledger(path, "governance.person.password")[-1].details["cli_sessions_ended"]
    assert ended == 1


# --- refusals ------------------------------------------------------------------------------


def test_a_wrong_current_password_is_refused_and_throttled(console: Console) -> None:
    _, path, clock, _ = console
    eng = browser(console)
    eng.form_login("eng", OWN["eng"])
    before = account(path, "eng")
    for _ in range(5):
        clock.advance(seconds=10)  # failures count after the login's success
        r = eng.change(WRONG, NEW)
        assert r.status_code == 400
        assert invalid(r.text) == ["current_password"]
        assert error_line(r.text).startswith("当前密码(current_password):凭据错误")
    refused = ledger(path, "governance.login.refused")
    assert len(refused) == 5 and {e.actor for e in refused} == {"eng"}
    assert {e.details["for"] for e in refused} == {"password change"}
    # the sixth is refused without checking even the right current password
    r = eng.change(OWN["eng"], NEW)
    assert r.status_code == 403 and invalid(r.text) == ["current_password"]
    assert "失败次数过多" in error_line(r.text)
    assert ledger(path, "governance.login.throttled")[-1].details["for"] == "password change"
    assert account(path, "eng") == before
    # one throttle: the login form now refuses eng's right password as well
    r = browser(console).form_login("eng", OWN["eng"])
    assert r.status_code == 403 and "失败次数过多" in error_line(r.text)


def test_weak_mismatched_or_missing_passwords_name_their_field(console: Console) -> None:
    _, path, _, _ = console
    eng = browser(console)
    eng.form_login("eng", OWN["eng"])
    before = account(path, "eng")
    r = eng.get("/lang/en", params={"next": "/account/password"})
    assert r.status_code == 303
    cases = [
        (
            (OWN["eng"], "short-1"),
            "new_password",
            "New password (new_password): password too short",
        ),
        ((OWN["eng"], "eng"), "new_password", "too short"),
        ((OWN["eng"], "aaaaaaaaaaaa"), "new_password", "one character repeated"),
        ((OWN["eng"], "abcdefghijkl"), "new_password", "plain run"),
        ((OWN["eng"], "onlylowercase"), "new_password", "two kinds"),
        ((OWN["eng"], OWN["eng"]), "new_password", "must differ from the current one"),
        (
            (OWN["eng"], NEW, NEW + "x"),
            "new_password_again",
            "New password again (new_password_again): the two new passwords differ",
        ),
    ]
    for args, field, text in cases:
        r = eng.change(*args)
        assert r.status_code == 400, (args, r.status_code)
        assert invalid(r.text) == [field], args
        assert text in error_line(r.text), (args, error_line(r.text))
        assert 'value="' + args[1] not in r.text
    # a field left empty: the request is invalid, the field named
    r = eng.post("/account/password", {"current_password": OWN["eng"], "new_password": NEW})
    assert r.status_code == 400 and "new_password_again" in error_line(r.text)
    # none of these checked the current password, none counts against eng
    assert ledger(path, "governance.login.refused") == []
    assert account(path, "eng") == before
    assert eng.get("/dashboard").status_code == 200  # still logged in


def test_without_the_csrf_token_nothing_changes(console: Console) -> None:
    _, path, _, _ = console
    eng = browser(console)
    eng.form_login("eng", OWN["eng"])
    before = account(path, "eng")
    changes = len(ledger(path, "governance.person.password"))  # eng's own, at the start
    assert eng.change(OWN["eng"], NEW, csrf=False).status_code == 403
    r = eng.post("/account/password", {"current_password": OWN["eng"]}, csrf=False)
    assert r.status_code == 403
    body = {"current_password": OWN["eng"], "new_password": NEW, "new_password_again": NEW}
    r = eng.post("/account/password", {**body, "csrf_token": "0" * 64}, csrf=False)
    assert r.status_code == 403 and "CSRF" in error_line(r.text)
    assert account(path, "eng") == before
    assert len(ledger(path, "governance.person.password")) == changes
    # not logged in: the login page
    assert browser(console).get("/account/password").headers["location"] == "/login"


# --- a one-time password ---------------------------------------------------------------------


def test_a_one_time_password_opens_this_page_only_then_sets_ones_own(console: Console) -> None:
    _, path, _, _ = console
    newbie = browser(console)
    r = newbie.form_login("newbie", GIVEN)
    assert r.status_code == 303 and r.headers["location"] == "/account/password"
    page = newbie.get("/account/password")
    assert page.status_code == 200 and 'id="one-time"' in page.text
    assert "您的密码由 wangmin 设置,属于一次性密码" in page.text
    assert 'aria-label="主导航"' not in page.text and 'href="/dashboard"' in page.text
    login = ledger(path, "web.login")[-1]
    assert login.actor == "newbie" and login.details["one_time_password"] is True
    # every other page, and any action, sends it back here; the API refuses it
    for url in ("/dashboard", "/account", "/grants", "/ledger", "/training"):
        assert newbie.get(url).headers["location"] == "/account/password", url
    form = {"grantee": "newbie", "scope": "*", "mode": "masked", "purpose": "x"}
    assert newbie.post("/grants", form).headers["location"] == "/account/password"
    token = newbie.client.cookies[SESSION_COOKIE]
    api = newbie.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 403 and api.json()["error"]["key"] == "web.password_first"
    assert ledger(path, "governance.grant.request") == []
    # logging out works
    assert newbie.post("/logout").headers["location"] == "/login"
    assert newbie.get("/account/password").headers["location"] == "/login"
    # the API's login points to this page
    r = newbie.client.post("/api/login", json={"name": "newbie", "password": GIVEN})
    assert r.status_code == 403 and "/account/password" in r.json()["error"]["message"]
    # back in, newbie sets their own
    newbie.form_login("newbie", GIVEN)
    r = newbie.change(GIVEN, NEWBIE_OWN)
    assert r.status_code == 303 and r.headers["location"] == "/account?notice=password"
    assert newbie.get("/dashboard").status_code == 200
    assert 'aria-label="主导航"' in newbie.get("/account").text
    assert account(path, "newbie")[1:] == ("newbie", False)
    ev = ledger(path, "governance.person.password")[-1]
    assert ev.details == {"set_by": "newbie", "one_time_password": False, "cli_sessions_ended": 0}
    # the one-time password is spent; their own logs in
    assert browser(console).form_login("newbie", GIVEN).status_code == 403
    assert browser(console).form_login("newbie", NEWBIE_OWN).headers["location"] == "/dashboard"


def test_a_manager_reset_ends_the_one_time_session_it_did_not_open(console: Console) -> None:
    """A session from before a reset is ended, not turned into a one-time session — also
    one the reset missed (a login racing it, its row written after the reset's)."""
    from handover.crypto.passwords import new_session_token, token_digest
    from handover.governance.people import get_person, set_password
    from handover.web.models import WebSessionRow
    from handover.workspace import open_workspace

    _, path, clock, _ = console
    eng = browser(console)
    eng.form_login("eng", OWN["eng"])
    started = clock()
    raced = new_session_token()
    ws = open_workspace(path)
    try:
        clock.advance(minutes=1)
        set_password(ws, "eng", "eng-reset-by-dpo-2", actor="wangmin", now=clock())
        with ws.store.session() as s:
            s.add(
                WebSessionRow(
                    person_id=get_person(ws, "eng").id,
                    token_hash=token_digest(raced),
                    created_at=started,
                    expires_at=started + dt.timedelta(hours=8),
                    last_seen_at=clock(),
                )
            )
    finally:
        ws.close()
    assert eng.get("/account/password").headers["location"] == "/login"
    other = browser(console)
    other.client.cookies.set(SESSION_COOKIE, raced)
    assert other.get("/account/password").headers["location"] == "/login"
    assert other.get("/dashboard").headers["location"] == "/login"


# --- in a real browser -------------------------------------------------------------------------


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_in_chromium_a_one_time_password_is_replaced(console: Console, tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is not installed")
        pytest.skip("chromium not installed (apt-get install chromium; make deps-system)")
    from playwright.sync_api import expect, sync_playwright

    base, path, _, _ = console
    axe = Path(__file__).parent / "vendor" / "axe.min.js"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        try:
            context = b.new_context(bypass_csp=True, locale="zh-CN")
            page = context.new_page()
            errors: list[str] = []
            # a CSP violation or a script error would show here (the refusal's 400 is
            # logged as a resource that failed to load: that one is expected)
            page.on(
                "console",
                lambda m: (
                    m.type == "error"
                    and not m.text.startswith("Failed to load resource")
                    and errors.append(m.text)
                ),
            )
            page.goto(base + "/login")
            page.fill("#name", "newbie")
            page.fill("#password", GIVEN)
            page.click("form.login button[type=submit]")
            page.wait_for_url("**/account/password")
            expect(page.locator("#one-time")).to_contain_text("一次性密码")
            page.add_script_tag(path=str(axe))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [
                v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")
            ]
            assert serious == []
            page.fill("#current_password", GIVEN)
            page.fill("#new_password", NEWBIE_OWN)
            page.fill("#new_password_again", NEWBIE_OWN + "?")
            page.click("#form-password button[type=submit]")
            expect(page.locator("#password-error")).to_contain_text("new_password_again")
            assert page.input_value("#new_password") == ""  # never sent back
            page.screenshot(path=str(tmp_path / "password-refused.png"), full_page=True)
            page.fill("#current_password", GIVEN)
            page.fill("#new_password", NEWBIE_OWN)
            page.fill("#new_password_again", NEWBIE_OWN)
            page.click("#form-password button[type=submit]")
            page.wait_for_url("**/account?notice=password")
            expect(page.locator("p.notice")).to_contain_text("密码已修改")
            page.screenshot(path=str(tmp_path / "password-changed.png"), full_page=True)
            assert errors == []
        finally:
            b.close()
    assert account(path, "newbie")[1:] == ("newbie", False)
