"""The console in a real browser: Debian's chromium driven by Playwright against the
console served by uvicorn on a free local port.

The requester asks for a clear-mode grant, the approver approves it, the dashboard
changes, the page switches to English; a data engineer starts a scan and watches its
progress until it is done (and after a reload); no page logs a console error (a CSP violation by
htmx or a template would); axe-core finds no serious or critical violation on the main
pages. Screenshots are kept in the test's tmp directory. Without chromium the tests skip
with the reason, except under CI=true where that is a failure (make deps-system installs it).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from web_support import PASSWORDS, build_scanned_workspace, served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The console over a scanned demo workspace, served by uvicorn in a thread."""
    from handover.flows.dossier import build_dossier
    from handover.flows.incidents import file_report, schedule, start
    from handover.flows.pia import new_assessment
    from handover.workspace import open_workspace

    path = tmp_path_factory.mktemp("browser") / "ws"
    ready = build_scanned_workspace(path)
    ws = open_workspace(path)
    try:  # incident 1 (a drill with its initial report) and assessment 1, for their pages
        drill = schedule(ws, "dd_extract_leak", at=ready, participants=["wangmin"], actor="wangmin")
        inc = start(ws, drill.id, actor="wangmin")
        file_report(ws, inc.id, "initial", actor="wangmin")
        new_assessment(ws, title="浏览器评估 / browser PIA", actor="wangmin")
        build_dossier(ws, actor="liuyang")  # for the dossier's page
    finally:
        ws.close()
    with served(path) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        _unavailable("chromium not installed (apt-get install chromium; make deps-system)")
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Error as exc:
            _unavailable(f"chromium does not start ({str(exc).splitlines()[0][:120]})")
        yield b
        b.close()


class Tab:
    """One browser page that records console errors and takes numbered screenshots."""

    def __init__(self, page: Any, base: str, shots: Path) -> None:
        self.page, self.base, self.shots = page, base, shots
        self.errors: list[str] = []
        self.n = 0
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        self.n += 1
        out = self.shots / f"{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(out), full_page=True)
        return out

    def login(self, name: str) -> None:
        self.go("/login")
        self.page.fill("#name", name)
        self.page.fill("#password", PASSWORDS[name])
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url("**/dashboard")

    def logout(self) -> None:
        self.page.click("header form button[type=submit]")
        self.page.wait_for_url("**/login")


def test_request_approve_dashboard_and_english(server: str, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = Tab(context.new_page(), server, tmp_path)
    page = tab.page

    tab.login("wangmin")
    assert page.inner_text("#grants-active") == "4"
    assert page.inner_text("#pending-count") == "0"
    tab.shot("dashboard-zh")
    tab.go("/grants")
    page.select_option("#grantee", "chenjing")
    page.fill("#scope", "C1,C2")
    page.select_option("#mode", "clear")
    page.fill("#purpose", "尽职调查抽查 / due-diligence sample check")
    page.click("form[action='/grants'] button[type=submit]")
    notice = page.locator("p.notice")
    notice.wait_for()
    gid = int(re.search(r"#(\d+)", notice.inner_text()).group(1))  # type: ignore[union-attr]
    assert page.locator(f"#grant-{gid} td.state").inner_text() == "待审批"
    tab.shot("requested")
    tab.go("/dashboard")
    assert page.inner_text("#pending-count") == "1"
    tab.logout()

    tab.login("zhoujie")
    tab.go("/grants")
    # htmx posts the approval with the CSRF header and swaps the page's main part.
    page.click(f"#grant-{gid} form[action$='/approve'] button")
    page.locator(f"#grant-{gid} td.state", has_text="生效").wait_for()
    assert "已批准授权" in page.inner_text("p.notice")
    tab.shot("approved")
    tab.go("/dashboard")
    assert page.inner_text("#grants-active") == "5"
    assert page.inner_text("#pending-count") == "0"
    tab.shot("dashboard-after")

    page.click("a.lang")
    page.wait_for_url("**/dashboard")
    assert page.get_attribute("html", "lang") == "en"
    assert "Stages of the transfer" in page.inner_text("main")
    tab.shot("dashboard-en")
    # Live search: htmx replaces the rows as one types.
    tab.go("/inventory")
    before = page.inner_text("#inv-rows p.count")
    page.fill("#q", "mobile")
    # (no wait_for_function: the CSP forbids the eval it uses, as it should)
    expect(page.locator("#inv-rows p.count")).not_to_have_text(before)
    rows = page.locator("#inv-rows tbody tr").count()
    assert 0 < rows < 20
    tab.shot("inventory-search")
    assert tab.errors == []
    assert len(list(tmp_path.glob("*.png"))) == 6
    context.close()


def test_start_a_scan_and_watch_its_progress(server: str, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = Tab(context.new_page(), server, tmp_path)
    tab.login("zhaolei")
    tab.go("/jobs")
    urls: list[str] = []
    tab.page.on("request", lambda r: urls.append(r.url))
    assert tab.page.input_value("#scan-source") == "seller.db"
    tab.page.click("form[action='/jobs/scan'] button[type=submit]")
    tab.page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    tab.shot("job-started")
    # The page follows the job's server-sent events (htmx polling is the fallback)
    # until the background scan is done.
    expect(tab.page.locator("#job-status")).to_have_text("已完成", timeout=60_000)
    job = tab.page.url.rsplit("/", 1)[1]
    assert f"{server}/jobs/{job}/events" in urls
    assert int(tab.page.inner_text("#job-steps").split(" ")[0]) >= 10
    assert "扫描完成" in tab.page.inner_text("#job")
    tab.shot("job-done")
    tab.page.reload()
    expect(tab.page.locator("#job-status")).to_have_text("已完成")
    assert tab.errors == []
    context.close()


def test_seal_from_the_jobs_page_and_watch_it_finish(
    server: str, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = Tab(context.new_page(), server, tmp_path)
    page = tab.page
    tab.login("zhaolei")
    tab.go("/jobs")
    page.fill("#seal-name", "pkg-browser")
    page.click("#form-seal button[type=submit]")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    assert page.inner_text("#job-kind") == "封装"
    tab.shot("seal-started")
    # htmx polls the job's part until the background seal is done; its tasks (one per
    # table) come through the progress protocol.
    expect(page.locator("#job-status")).to_have_text("已完成", timeout=120_000)
    assert page.locator("table.tasks tbody tr").count() == 15
    assert "封装完成:传输包 pkg-browser,15 张表" in page.inner_text("#job-outcome")
    tab.shot("seal-done")
    page.reload()
    expect(page.locator("#job-status")).to_have_text("已完成")
    tab.go("/jobs")
    assert "封装" in page.inner_text("#jobs tbody tr:first-child")
    assert tab.errors == []
    context.close()


#: the pages added with the long jobs, and their headings in zh-CN
NEW_PAGES = {
    "/jobs": "后台任务",
    "/notices": "客户告知",
    "/incidents": "安全事件",
    "/pia": "影响评估",
    "/ndas": "保密协议",
    "/training": "培训考核",
    "/vendors": "第三方",
    "/certificates": "销毁证明",
    "/dossiers": "报送材料包",
}


def test_walk_the_new_pages_in_chinese(server: str, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = Tab(context.new_page(), server, tmp_path)
    page = tab.page
    tab.login("wangmin")
    for path, heading in NEW_PAGES.items():
        page.click(f"nav a[href='{path}']")
        page.wait_for_url(f"**{path}")
        assert page.get_attribute("html", "lang") == "zh-CN"
        assert page.inner_text("main h1") == heading, path
        assert page.locator(f"nav a[href='{path}'][aria-current='page']").count() == 1
        tab.shot(path.strip("/"))
    # An action on one of them in the browser: report a security event.
    tab.go("/incidents")
    page.fill("#e-title", "浏览器中报告的事件")
    page.fill("#e-noticed", "2020-01-01T09:30")
    page.fill("#e-data", "cust_info")
    page.click("#form-event button[type=submit]")
    expect(page.locator("p.notice")).to_contain_text("已记录安全事件")
    assert "浏览器中报告的事件" in page.inner_text("#event-table")
    # The assessment, in the browser: the questions of one attempt, in Chinese.
    tab.go("/training")
    page.click("a[href='/training/pipl-jrt0171/take']")
    assert page.locator("fieldset.question").count() >= 5
    assert page.inner_text("fieldset.question legend >> nth=0").startswith("第 1/")
    tab.shot("training-take")
    assert tab.errors == []
    context.close()


#: the pages of one record (the server fixture makes incident 1 and assessment 1)
DETAIL_PAGES = ("/incidents/1", "/pia/1")


def test_pia_editor_in_the_browser(server: str, browser: Any, tmp_path: Path) -> None:
    """The DPO creates an assessment, names the signatory, scores a risk, gives the
    opinion and submits; the signatory approves; the signed export is downloaded."""
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    tab = Tab(context.new_page(), server, tmp_path)
    page = tab.page
    tab.login("wangmin")
    tab.go("/pia")
    page.fill("#pn-title", "浏览器中新建的评估")
    page.click("#form-pia-new button[type=submit]")
    page.wait_for_url(re.compile(r".*/pia/\d+\?did=created$"))
    url = page.url.split("?")[0]
    expect(page.locator("p.notice")).to_have_text("评估已创建(草稿)。")
    assert "未指定报告签署人" in page.inner_text("#gaps")
    page.select_option("#pe-sign", "liqiang")
    page.click("#form-edit button[type=submit]")
    expect(page.locator("#pia-signatory")).to_have_text("liqiang")
    page.click("#risk-editor summary")
    page.fill("#pr-id", "R1")
    page.select_option("#pr-impact", "severe")
    page.select_option("#pr-likelihood", "high")
    page.click("#form-prisk button[type=submit]")
    expect(page.locator("p.notice")).to_have_text("风险已保存为新版本。")
    assert "严重" in page.inner_text("#prisk-R1")
    page.fill("#po-text", "同意在上述措施落实后转移")
    page.click("#form-opinion button[type=submit]")
    expect(page.locator("#opinion")).to_contain_text("同意在上述措施落实后转移")
    page.click("#form-submit button[type=submit]")
    expect(page.locator("#pia-status")).to_contain_text("已提交")
    tab.shot("pia-submitted")
    tab.logout()
    tab.login("liqiang")
    page.goto(url)
    page.click("#form-approve button[type=submit]")
    expect(page.locator("#pia-status")).to_have_text("已批准")
    page.click("#form-export button[type=submit]")
    link = page.locator("#pia-exports a", has_text="pia.json")
    link.wait_for()
    with page.expect_download() as got:
        link.click()
    assert got.value.suggested_filename == "pia.json"
    assert b'"schema":"handover.pia-export/1"' in Path(got.value.path()).read_bytes()
    tab.shot("pia-exported")
    assert tab.errors == []
    context.close()


def test_incident_detail_in_the_browser(server: str, browser: Any, tmp_path: Path) -> None:
    """The DPO opens the drill's incident from the list, records a fact, sees the duties'
    clocks and downloads the initial report."""
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
    )
    tab = Tab(context.new_page(), server, tmp_path)
    page = tab.page
    tab.login("wangmin")
    tab.go("/incidents")
    page.click("#incident-1 a >> nth=0")
    page.wait_for_url("**/incidents/1")
    assert page.inner_text("main h1") == "安全事件 #1"
    assert page.locator("#obligations td.countdown").count() >= 1
    page.click("#facts + details summary")
    page.fill("#f-cause", "分享链接设为公开")
    page.click("#form-facts button[type=submit]")
    expect(page.locator("#fact-cause")).to_have_text("分享链接设为公开")
    with page.expect_download() as got:
        page.click("#reports a:text('report.zh-CN.pdf')")
    assert got.value.suggested_filename == "report.zh-CN.pdf"
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")
    tab.shot("incident-detail")
    assert tab.errors == []
    context.close()


def test_no_serious_accessibility_violations(server: str, browser: Any, tmp_path: Path) -> None:
    # axe is injected as a script: only this context bypasses the CSP to let it in.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    tab = Tab(context.new_page(), server, tmp_path)
    found: dict[str, list[str]] = {}
    tab.go("/login")
    pages = [
        "/login",
        "/dashboard",
        "/inventory",
        "/grants",
        "/ledger",
        "/ledger/1",
        "/account",
        *NEW_PAGES,
        "/training/pipl-jrt0171/take",
        *DETAIL_PAGES,
    ]
    for path in pages:
        if path == "/dashboard":
            tab.login("liuyang")
        tab.go(path)
        if path == "/dossiers":  # and the dossier built for the server, by its link
            pages.append(str(tab.page.get_attribute("#dossier-table a", "href")))
        tab.page.add_script_tag(path=str(AXE))
        result = tab.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in result["violations"]
            if v["impact"] in SERIOUS
        ]
        if bad:
            found[path] = bad
    assert found == {}
    context.close()


def test_records_masked_then_clear_and_a_dossier_built_as_a_job(
    server: str, browser: Any, tmp_path: Path
) -> None:
    """The data engineer opens a table's rows from the inventory (masked), asks for the
    clear values (his grant allows them; the view is recorded) — the page passes axe;
    the auditor builds a dossier from its page and watches the job link it."""
    from playwright.sync_api import expect

    context = browser.new_context(
        bypass_csp=True, viewport={"width": 1280, "height": 900}, locale="zh-CN"
    )
    tab = Tab(context.new_page(), server, tmp_path)
    tab.login("zhaolei")
    tab.go("/inventory?table=yhk_info")
    tab.page.click("a[href='/records/yhk_info']")
    tab.page.wait_for_url("**/records/yhk_info")
    expect(tab.page.locator("#records-masked")).to_be_visible()
    tab.page.click("#ask-clear")
    expect(tab.page.locator("#records-clear")).to_contain_text("已记入账本")
    expect(tab.page.locator("#mode-cvn2")).to_have_text("明文")
    tab.shot("records-clear")
    tab.page.add_script_tag(path=str(AXE))
    result = tab.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    assert [v["id"] for v in result["violations"] if v["impact"] in SERIOUS] == []
    tab.logout()
    tab.login("liuyang")
    tab.go("/dossiers")
    tab.page.click("#form-dossier button[type=submit]")
    tab.page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    expect(tab.page.locator("#job-status")).to_have_text("已完成", timeout=120_000)
    tab.shot("dossier-job-done")
    tab.page.click("#job-result")
    expect(tab.page.locator("#dossier-check")).to_have_class("valid")
    assert tab.errors == []
    context.close()
