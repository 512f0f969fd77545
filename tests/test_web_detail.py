"""The console's detail pages over real HTTP (uvicorn on 127.0.0.1, real cookies and CSRF
tokens): one incident with its clocks, facts, reports and drill; the impact assessment
editor; destruction certificates; the regulator's dossier. Each action is the flow the
CLI calls, checked through what the library then holds and what the ledger records;
downloads come only from the reports folder and only with the hash the library recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from handover.workspace import open_workspace
from web_support import (
    Http,
    TestClock,
    build_scanned_workspace,
    copy_workspace,
    english,
    error_line,
    job_field,
    ledger_events,
    served,
    wait_api_job,
)

ledger = ledger_events


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime]:
    path = tmp_path_factory.mktemp("webdetail") / "ws"
    return path, build_scanned_workspace(path)


@pytest.fixture
def clock(template: tuple[Path, dt.datetime]) -> TestClock:
    return TestClock(template[1] + dt.timedelta(minutes=1))


@pytest.fixture
def console(
    template: tuple[Path, dt.datetime], tmp_path: Path, clock: TestClock
) -> Iterator[tuple[str, Path]]:
    path = copy_workspace(template[0], tmp_path / "ws")
    with served(path, clock=clock) as base:
        yield base, path


def notice(html: str) -> str:
    found = re.search(r'<p class="notice" role="status"[^>]*>([^<]*)</p>', html)
    return found.group(1) if found else ""


# --- one incident --------------------------------------------------------------------------


def test_incident_detail_drill_clocks_facts_reports(
    console: tuple[str, Path], clock: TestClock
) -> None:
    from handover.crypto.digest import sha256_hex

    base, path = console
    dpo = Http(base).login("wangmin")
    r = dpo.post(
        "/incidents/drills",
        {
            "scenario": "dd_extract_leak",
            "at": "2020-01-01T10:00",
            "participants": "wangmin, nobody",
        },
    )
    assert r.status_code == 400 and "nobody" in error_line(r.text)
    blank = {"scenario": "dd_extract_leak", "at": "  ", "participants": "wangmin"}
    r = dpo.post("/incidents/drills", blank)  # a blank time: named, not a crash
    assert r.status_code == 400 and "at" in error_line(r.text)
    r = dpo.post(
        "/incidents/drills",
        {
            "scenario": "dd_extract_leak",
            "at": "2020-01-01T10:00",
            "participants": "wangmin, zhaolei",
        },
    )
    assert r.status_code == 303, error_line(r.text)
    drill = int(r.headers["location"].rsplit("=", 1)[1])
    page = dpo.get(r.headers["location"]).text
    assert f"已安排演练 #{drill}" in page and f'id="drill-{drill}"' in page
    r = dpo.post(f"/incidents/drills/{drill}/start")
    assert r.status_code == 303
    iid = int(r.headers["location"].rsplit("/", 1)[1])
    page = dpo.get(f"/incidents/{iid}").text
    assert "<h1>安全事件 #" in page and "演练 #" in page and "进行中" in page
    # Every open duty shows its time left; past REMIND_AT of its time it is "soon".
    ws = open_workspace(path)
    try:
        from handover.incidents.duties import REMIND_AT
        from handover.incidents.records import get_incident

        inc = get_incident(ws, iid)
    finally:
        ws.close()
    first = min((o for o in inc.obligations if o.status == "open"), key=lambda o: o.due_at)
    rows = re.findall(
        r'<tr id="ob-(\d+)" class="([a-z]*)">.*?<td class="countdown">([^<]*)', page, re.S
    )
    assert rows and all(re.fullmatch(r"剩余 \d+ 小时 \d+ 分", left) for _, _, left in rows), rows
    total = first.due_at - first.starts_at
    clock.at = first.starts_at + total * (REMIND_AT + (1 - REMIND_AT) / 2)
    dpo.close()
    dpo = Http(base).login("wangmin")  # the first session went idle meanwhile
    part = dpo.get(f"/incidents/{iid}", headers={"HX-Request": "true", "HX-Target": "inc-duties"})
    assert part.text.startswith('<section id="inc-duties"') and "<html" not in part.text
    row = re.search(rf'<tr id="ob-{first.id}" class="soon">.*?</tr>', part.text, re.S)
    assert row is not None and "即将到期" in row.group(0)
    clock.at = first.due_at + dt.timedelta(minutes=90)
    dpo.close()
    dpo = Http(base).login("wangmin")
    part = dpo.get(f"/incidents/{iid}", headers={"HX-Request": "true", "HX-Target": "inc-duties"})
    row = re.search(rf'<tr id="ob-{first.id}" class="late">.*?</tr>', part.text, re.S)
    assert row is not None and "已超时 1 小时 30 分" in row.group(0)

    # Facts: the ones filled in are set; none filled is bad input naming the field.
    r = dpo.post(f"/incidents/{iid}/facts", {"fact_location": "", "fact_cause": "  "})
    assert r.status_code == 400 and "facts" in error_line(r.text)
    facts = {"fact_location": "尽调共享网盘", "fact_measures": "撤销链接 / link revoked"}
    r = dpo.post(f"/incidents/{iid}/facts", facts)
    assert r.status_code == 303
    page = dpo.get(r.headers["location"]).text
    assert notice(page) == "事实已保存。"
    assert '<dd id="fact-location">尽调共享网盘</dd>' in page

    # A summary before handling ended is refused; the initial report is filed and hashed.
    r = dpo.post(f"/incidents/{iid}/reports", {"kind": "summary"})
    assert r.status_code == 400
    r = dpo.post(f"/incidents/{iid}/reports", {"kind": "initial"})
    assert r.status_code == 303, error_line(r.text)
    page = dpo.get(f"/incidents/{iid}").text
    links = re.findall(rf'href="(/incidents/{iid}/reports/(\d+)/([^"]+))" download', page)
    names = {name for _, _, name in links}
    assert {"report.zh-CN.pdf", "report.en.docx", "report.zh-CN.html", "report.json"} <= names
    filed = ledger(path, "incident.report.file")[-1].details
    for url, _, name in links:
        got = dpo.get(url)
        assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
        assert sha256_hex(got.content) == filed["sha256"][name]
    assert dpo.get(links[0][0]).headers["content-type"].startswith("application/vnd.openxmlformats")
    rid = links[0][1]
    # Only registered files, only inside the reports folder.
    for bad in ("handover.toml", "..%2F..%2F..%2Fhandover.toml", ".hidden", "x%00.pdf"):
        assert dpo.get(f"/incidents/{iid}/reports/{rid}/{bad}").status_code in (404, 400), bad
    assert dpo.get(f"/incidents/{iid}/reports/999/report.json").status_code == 404
    # A file altered after filing is not served.
    folder = Path(filed["folder"])
    (folder / "report.json").write_text("{}", encoding="utf-8")
    r = dpo.get(f"/incidents/{iid}/reports/{rid}/report.json")
    assert r.status_code == 409 and "report.json" in error_line(r.text)

    # Someone without incident.manage reads the page but cannot act: 403, ledgered.
    analyst = Http(base).login("chenjing")
    assert analyst.get(f"/incidents/{iid}").status_code == 200
    r = analyst.post(f"/incidents/{iid}/facts", {"fact_cause": "x"})
    assert r.status_code == 403
    analyst.close()
    assert ("chenjing", "incident.manage") in [
        (e.actor, e.details["action"]) for e in ledger(path, "access.refuse")
    ]

    # The drill ends with its lessons: the incident closes, the time used per duty is kept.
    r = dpo.post(f"/incidents/drills/{drill}/finish", {"lessons": "分享链接须设有效期"})
    assert r.status_code == 303
    page = dpo.get(r.headers["location"]).text
    assert notice(page).startswith("演练已结束") and "已结束" in page
    assert 'id="inc-status">已关闭<' in page and 'id="form-facts"' not in page
    steps = re.findall(r'<li><a href="/ledger/(\d+)">#\d+</a>', page)
    assert len(steps) >= 6
    page = english(dpo, f"/incidents/{iid}")
    assert f"<h1>Incident #{iid}</h1>" in page and "Timeline (from the ledger)" in page
    dpo.close()
    assert [e.actor for e in ledger(path, "incident.facts")] == ["wangmin"]
    assert [e.actor for e in ledger(path, "incident.drill.finish")] == ["wangmin"]


def test_incident_follow_up_handled_met_and_close(console: tuple[str, Path]) -> None:
    base, path = console
    dpo = Http(base).login("wangmin")
    r = dpo.post(
        "/incidents/events",
        {"title": "外包导出", "noticed_at": "2020-01-01T09:00", "data": "cust_info"},
    )
    eid = int(r.headers["location"].rsplit("=", 1)[1])
    r = dpo.post("/incidents/promote", {"event": str(eid), "reason": "确认"})
    iid = int(r.headers["location"].rsplit("=", 1)[1])
    page = dpo.get(f"/incidents/{iid}").text
    ob = re.search(r'<select id="m-ob" name="obligation" required><option value="(\d+)"', page)
    assert ob is not None
    r = dpo.post(f"/incidents/{iid}/met", {"obligation": ob.group(1), "note": "电话报告网信办"})
    assert r.status_code == 303
    page = dpo.get(f"/incidents/{iid}").text
    assert re.search(rf'<tr id="ob-{ob.group(1)}" class="">.*?已履行', page, re.S)
    assert (
        dpo.post(f"/incidents/{iid}/met", {"obligation": "99999", "note": "x"}).status_code == 404
    )
    r = dpo.post(
        f"/incidents/{iid}/actions",
        {"what": "轮换令牌密钥", "owner": "zhaolei", "due_on": "2031-01-31"},
    )
    assert r.status_code == 303
    page = dpo.get(f"/incidents/{iid}").text
    action = re.search(r'action="/incidents/\d+/actions/(\d+)/done"', page)
    assert action is not None and "轮换令牌密钥" in page
    assert dpo.post(f"/incidents/{iid}/actions/{action.group(1)}/done").status_code == 303
    assert dpo.post(f"/incidents/{iid}/handled").status_code == 303
    page = dpo.get(f"/incidents/{iid}").text
    assert 'id="inc-status">处置结束<' in page and 'id="form-close"' in page
    review = {"root_cause": "权限过宽", "lessons": "最小权限"}
    r = dpo.post(f"/incidents/{iid}/close", review)
    assert r.status_code == 400 and "#" in error_line(r.text)  # a duty is still open
    # Every open duty met (the summary report's too), then it closes.
    while True:
        page = dpo.get(f"/incidents/{iid}").text
        ob = re.search(r'<select id="m-ob" name="obligation" required><option value="(\d+)"', page)
        if ob is None:
            break
        r = dpo.post(f"/incidents/{iid}/met", {"obligation": ob.group(1), "note": "书面报告已寄出"})
        assert r.status_code == 303, error_line(r.text)
    r = dpo.post(f"/incidents/{iid}/close", review)
    assert r.status_code == 303, error_line(r.text)
    assert 'id="inc-status">已关闭<' in dpo.get(f"/incidents/{iid}").text
    assert dpo.get("/incidents/424242").status_code == 400
    dpo.close()
    assert {e.actor for e in ledger(path, "incident.obligation.met")} == {"wangmin"}
    for action_name in ("incident.handled", "incident.close"):
        assert [e.actor for e in ledger(path, action_name)] == ["wangmin"], action_name


# --- the impact assessment editor ------------------------------------------------------------


def test_pia_editor_versions_maker_checker_and_export(console: tuple[str, Path]) -> None:
    from handover.crypto.digest import sha256_hex

    base, path = console
    analyst = Http(base).login("chenjing")
    assert analyst.post("/pia", {"title": "x"}).status_code == 403  # pia.edit: DPO, officer
    analyst.close()
    dpo = Http(base).login("wangmin")
    r = dpo.post("/pia", {"title": "交接影响评估 / transfer PIA"})
    assert r.status_code == 303
    aid = int(re.search(r"/pia/(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    page = dpo.get(r.headers["location"]).text
    assert notice(page) == "评估已创建(草稿)。" and 'id="pia-version">v1' in page
    assert "未指定报告签署人" in page  # a gap the library finds
    # Basics: a new version; unchecked triggers are false; an unknown person is refused.
    basics = {
        "title": "交接影响评估",
        "signatory": "liqiang",
        "team": "wangmin 个人信息保护负责人\nzhaolei 数据工程",
        "trigger_sensitive": "true",
        "trigger_provide_to_processor": "true",
        "necessity_note": "出售贷款资产须转移客户信息",
        "processing_note": "加密封装与数据库迁移",
        "conclusion": "采取措施后风险可接受",
    }
    r = dpo.post(f"/pia/{aid}/edit", {**basics, "team": "nobody 外人"})
    assert r.status_code == 400 and "team[0].name" in error_line(r.text)
    r = dpo.post(f"/pia/{aid}/edit", basics)
    assert r.status_code == 303
    page = dpo.get(f"/pia/{aid}").text
    assert 'id="pia-version">v2' in page and 'id="pia-signatory">liqiang<' in page
    assert 'name="trigger_entrusted" value="true">' in page  # now unchecked
    # A risk: severity × likelihood gives its level from the method's matrix.
    r = dpo.post(
        f"/pia/{aid}/risks",
        {"risk": "R1", "impact": "severe", "likelihood": "high", "owner": "zhaolei"},
    )
    assert r.status_code == 303
    row = re.search(r'<tr id="prisk-R1">(.*?)</tr>', dpo.get(f"/pia/{aid}").text, re.S)
    assert row is not None and "严重" in row.group(1) and "zhaolei" in row.group(1)
    r = dpo.post(f"/pia/{aid}/risks", {"risk": "R1", "impact": "catastrophic"})
    assert r.status_code == 400 and "risks.R1.impact" in error_line(r.text)
    r = dpo.post(
        f"/pia/{aid}/risks",
        {
            "risk": "R9",
            "title": "买方超范围使用 / buyer over-use",
            "source": "business",
            "impact": "high",
            "likelihood": "low",
            "owner": "wangmin",
            "review_on": "2031-06-30",
            "treatment": "transfer",
            "measures": ["M3", "M9"],
        },
    )
    assert r.status_code == 303, error_line(r.text)
    r = dpo.post(
        f"/pia/{aid}/measures",
        {"measure": "M11", "title": "买方承诺书", "owner": "wangmin", "due": "2031-03-31"},
    )
    assert r.status_code == 303, error_line(r.text)
    page = dpo.get(f"/pia/{aid}").text
    assert re.search(r'<tr id="prisk-R9">.*?转移.*?M3, M9', page, re.S)
    assert re.search(r'<tr id="measure-M11">.*?计划中.*?wangmin', page, re.S)
    # Submitting with gaps is refused (no DPO opinion yet); the DPO gives it, then submits.
    r = dpo.post(f"/pia/{aid}/submit")
    assert r.status_code == 403 and "意见" in error_line(r.text)
    assert dpo.post(f"/pia/{aid}/opinion", {"text": "同意 / agreed"}).status_code == 303
    assert dpo.post(f"/pia/{aid}/submit").status_code == 303
    page = dpo.get(f"/pia/{aid}").text
    assert 'id="pia-status">已提交' in page and 'id="form-edit"' in page
    assert 'id="form-approve"' in page and 'id="edit-lapses"' in page  # an edit withdraws it
    # The maker cannot approve; the named signatory rejects with a reason, then approves.
    assert dpo.post(f"/pia/{aid}/approve").status_code == 403
    dpo.close()
    signer = Http(base).login("liqiang")
    assert signer.post(f"/pia/{aid}/reject", {"reason": " "}).status_code == 403
    r = signer.post(f"/pia/{aid}/reject", {"reason": "R1 缺少措施"})
    assert r.status_code == 303
    page = signer.get(r.headers["location"]).text
    assert 'id="pia-status">已退回' in page and "R1 缺少措施" in page
    signer.close()
    dpo = Http(base).login("wangmin")
    r = dpo.post(f"/pia/{aid}/risks", {"risk": "R1", "measures": ["M1", "M7"]})
    assert r.status_code == 303
    assert dpo.post(f"/pia/{aid}/submit").status_code == 303
    dpo.close()
    signer = Http(base).login("liqiang")
    r = signer.post(f"/pia/{aid}/approve")
    assert r.status_code == 303, error_line(r.text)
    page = signer.get(f"/pia/{aid}").text
    assert 'id="pia-status">已批准' in page
    # Every version is kept and can be read back.
    versions = re.findall(r'<tr id="version-(\d+)">', page)
    assert len(versions) >= 7
    old = signer.get(f"/pia/{aid}", params={"version": "1"}).text
    assert 'id="pia-signatory">-<' in old and "正在查看保存的版本" in old
    signer.close()
    # The signed export: written, ledgered, each file downloadable with its recorded hash.
    dpo = Http(base).login("wangmin")
    r = dpo.post(f"/pia/{aid}/export")
    assert r.status_code == 303, error_line(r.text)
    page = dpo.get(f"/pia/{aid}").text
    links = re.findall(rf'href="(/pia/{aid}/exports/(\d+)/([^"]+))" download', page)
    assert {"pia.json", "pia.sig"} <= {n for _, _, n in links}
    assert any(n.endswith(".pdf") for _, _, n in links) and any(
        n.endswith(".html") for _, _, n in links
    )
    exported = ledger(path, "pia.export")[-1].details
    for url, _, name in links:
        got = dpo.get(url)
        assert got.status_code == 200 and sha256_hex(got.content) == exported["files"][name]
    eid = links[0][1]
    assert dpo.get(f"/pia/{aid}/exports/{eid}/..%2F..%2Fhandover.toml").status_code == 404
    assert dpo.get(f"/pia/{aid}/exports/999/pia.json").status_code == 404
    page = english(dpo, f"/pia/{aid}")
    assert f"<h1>Impact assessment #{aid}</h1>" in page and "Signed exports" in page
    dpo.close()
    decided = [(e.action, e.actor) for e in ledger(path, "pia")]
    assert ("pia.approve.refused", "wangmin") in decided  # the maker
    assert ("pia.reject.refused", "liqiang") in decided  # no reason
    assert [d for d in decided if d[0] in ("pia.approve", "pia.reject")] == [
        ("pia.reject", "liqiang"),
        ("pia.approve", "liqiang"),
    ]
    edits = ledger(path, "pia.edit")
    assert len(edits) == 5 and {e.details["form"] for e in edits} == {"console"}
    assert ("chenjing", "pia.edit") in [
        (e.actor, e.details["action"]) for e in ledger(path, "access.refuse")
    ]


def test_risk_register_add_and_review(console: tuple[str, Path], clock: TestClock) -> None:
    base, path = console
    dpo = Http(base).login("wangmin")
    soon = (clock.at + dt.timedelta(days=3)).date().isoformat()
    form = {
        "code": "R-VEND-1",
        "title": "外包人员越权 / vendor over-reach",
        "source": "people",
        "impact": "high",
        "likelihood": "medium",
        "owner": "zhaolei",
        "review_on": soon,
        "controls": "最小权限\n双人审批",
    }
    r = dpo.post("/pia/risks", {**form, "code": "../etc"})
    assert r.status_code == 400 and "code" in error_line(r.text)
    r = dpo.post("/pia/risks", {**form, "impact": "huge"})
    assert r.status_code == 400 and "huge" in error_line(r.text)
    r = dpo.post("/pia/risks", form)
    assert r.status_code == 303
    page = dpo.get("/pia?did=risk_added").text
    assert notice(page) == "风险已登记。"
    row = re.search(r'<tr id="risk-R-VEND-1">(.*?)</tr>', page, re.S)
    assert row is not None and "高" in row.group(1)
    clock.advance(days=5)  # the review is now late: the page warns
    dpo.close()
    dpo = Http(base).login("wangmin")
    page = dpo.get("/pia").text
    assert re.search(r'<tr id="risk-R-VEND-1" class="late">.*?逾期 2 天', page, re.S)
    later = (clock.at + dt.timedelta(days=90)).date().isoformat()
    r = dpo.post(
        "/pia/risks/review",
        {"code": "R-VEND-1", "next_review": later, "status": "mitigated", "likelihood": "low"},
    )
    assert r.status_code == 303
    page = dpo.get("/pia").text
    row = re.search(r'<tr id="risk-R-VEND-1">(.*?)</tr>', page, re.S)
    assert row is not None and "已缓解" in row.group(1)
    dpo.close()
    assert [e.actor for e in ledger(path, "risk.add")] == ["wangmin"]
    review = ledger(path, "risk.review")[-1].details
    assert review["before"]["overdue_days"] == 2 and review["after"]["status"] == "mitigated"


# --- destruction certificates and the regulator's dossier -------------------------------------


def _shred_cust_info(path: Path) -> Path:
    """A shred run of seller.db's cust_info (forced: no migration to verify against),
    executed by the data engineer and validated by the auditor; its certificate folder."""
    from handover.erase.plan import Scope
    from handover.flows.shred import authorize_shred, shred
    from web_support import PASSWORDS

    ws = open_workspace(path)
    try:
        res = shred(
            ws,
            Scope(source=str(path / "seller.db"), tables=["cust_info"], media=["source"]),
            validated_by="liuyang",
            validator_password=PASSWORDS["liuyang"],
            force=True,
            reason="测试 / test",
            authorized=authorize_shred(ws, actor="zhaolei"),
        )
    finally:
        ws.close()
    assert res.certificate_dir is not None
    return res.certificate_dir


def test_certificates_listed_checked_and_downloaded(
    template: tuple[Path, dt.datetime], tmp_path: Path, clock: TestClock
) -> None:
    from handover.crypto.digest import sha256_hex

    path = copy_workspace(template[0], tmp_path / "ws")
    folder = _shred_cust_info(path)
    run_id = folder.name
    clock.at = dt.datetime.now(dt.UTC)
    with served(path, clock=clock) as base:
        auditor = Http(base).login("liuyang")
        page = auditor.get("/certificates").text
        section = re.search(
            rf'<section class="card cert" id="cert-{run_id}".*?</section>', page, re.S
        )
        assert section is not None
        cert = section.group(0)
        assert '<p class="valid cert-check">销毁证明有效' in cert
        assert "执行人 zhaolei,验证人 liuyang" in cert and "未经迁移核验强制执行" in cert
        destroyed = re.search(r'<table class="cert-items cert-destroyed">.*?</table>', cert, re.S)
        assert destroyed is not None and "seller.db#cust_info" in destroyed.group(0)
        assert ">150<" in destroyed.group(0)
        assert "未能触及、未销毁(0 项)" in cert and "依法保留(15 项)" in cert
        # an item's note in the page's language (the certificate keeps its catalogue key)
        kept = re.search(r'<table class="cert-items cert-retained">.*?</table>', cert, re.S)
        assert kept is not None and "账本、个人信息资产清单、校验与销毁记录" in kept.group(0)
        assert "no clear personal data" not in kept.group(0)
        files = re.findall(rf'href="/certificates/{run_id}/([^"]+)" download', cert)
        assert {"certificate.json", "certificate.sig", "certificate.zh-CN.pdf"} <= set(files)
        body = auditor.get(f"/certificates/{run_id}/certificate.json")
        assert body.status_code == 200
        recorded = ledger(path, "erase.certificate")[-1].details["sha256"]
        assert sha256_hex(body.content) == recorded
        pdf = auditor.get(f"/certificates/{run_id}/certificate.en.pdf")
        assert pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
        for bad in ("..%2Fhandover.db", "handover.toml", "%2Fetc%2Fpasswd"):
            assert auditor.get(f"/certificates/{run_id}/{bad}").status_code in (400, 404), bad
        assert auditor.get("/certificates/shred-nope/certificate.json").status_code == 404
        assert auditor.get("/certificates/..%2F..%2Fkeys/x").status_code in (400, 404)
        # A certificate altered after signing shows invalid, naming what is wrong.
        doc = (folder / "certificate.json").read_bytes().replace(b'"rows":150', b'"rows":15')
        (folder / "certificate.json").write_bytes(doc)
        page = auditor.get("/certificates").text
        assert (
            '<div class="invalid cert-check"><p>销毁证明无效:certificate.json:Ed25519 签名与文件内容不符'
            in page
        )
        page = english(auditor, "/certificates")
        assert "Destroyed (1)" in page and "executed by zhaolei, validated by liuyang" in page
        auditor.close()


def test_dossier_built_checked_and_downloaded(console: tuple[str, Path]) -> None:
    import io
    import zipfile

    base, path = console
    analyst = Http(base).login("chenjing")
    assert analyst.post("/dossiers").status_code == 403  # compliance.check only
    analyst.close()
    auditor = Http(base).login("liuyang")
    r = auditor.post("/dossiers")
    assert r.status_code == 303, error_line(r.text)
    # Built in the background: the job's page follows it and links the dossier when done.
    assert re.fullmatch(r"/jobs/\d+", r.headers["location"]), r.headers["location"]
    done = auditor.wait_job(r.headers["location"])
    assert job_field(done, "status") == "已完成" and job_field(done, "kind") == "报送材料包"
    link = re.search(r'<a href="/dossiers/([^"?]+)" id="job-result">', done)
    assert link is not None, done[-2000:]
    name = link.group(1)
    assert "材料包已生成并签名" in job_field(done, "outcome")
    page = auditor.get(f"/dossiers/{name}").text
    check = re.search(r'<p class="(valid|invalid)" id="dossier-check">([^<]*)</p>', page)
    assert check is not None and check.group(1) == "valid", check and check.group(2)
    listed = auditor.get("/dossiers").text
    assert f'<tr id="dossier-{name}">' in listed
    archive = auditor.get(f"/dossiers/{name}/archive.zip")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert f"{name}/manifest.json" in names and f"{name}/verify.py" in names
    assert any(n.startswith(f"{name}/ledger/") for n in names)
    manifest = auditor.get(f"/dossiers/{name}/manifest.json")
    assert manifest.status_code == 200 and b'"files"' in manifest.content
    for bad in ("..%2F..%2Fhandover.toml", "ledger", ".x"):
        assert auditor.get(f"/dossiers/{name}/{bad}").status_code in (400, 404), bad
    assert auditor.get("/dossiers/dossier-nope").status_code == 400
    # Altered after it was sealed: the page's offline check fails, naming the file.
    export = ledger(path, "dossier.export")[-1].details
    folder = Path(export["folder"])
    target = folder / "documents" / "risks.json"
    target.write_text("[]", encoding="utf-8")
    page = auditor.get(f"/dossiers/{name}").text
    check = re.search(r'<p class="(valid|invalid)" id="dossier-check">([^<]*)</p>', page)
    assert check is not None and check.group(1) == "invalid" and "risks.json" in check.group(2)
    auditor.close()
    assert [e.actor for e in ledger(path, "dossier.build")] == ["liuyang"]
    assert ("chenjing", "compliance.check") in [
        (e.actor, e.details["action"]) for e in ledger(path, "access.refuse")
    ]


# --- the same records through the JSON API ---------------------------------------------------


def test_records_through_the_api(console: tuple[str, Path]) -> None:
    import httpx2

    base, path = console
    with httpx2.Client(base_url=base, timeout=120) as client:

        def token(name: str) -> dict[str, str]:
            from web_support import PASSWORDS

            r = client.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['token']}"}

        dpo, signer, auditor = token("wangmin"), token("liqiang"), token("liuyang")
        r = client.post("/api/pia", json={"title": "API 评估"}, headers=dpo)
        assert r.status_code == 200 and r.json()["status"] == "draft"
        aid = r.json()["id"]
        bad = {"edits": {"risks": {"R1": {"impact": "huge"}}}}
        r = client.post(f"/api/pia/{aid}/edits", json=bad, headers=dpo)
        assert r.status_code == 400 and "risks.R1.impact" in r.json()["error"]["message"]
        edits = {
            "signatory": "liqiang",
            "team": [{"name": "wangmin", "role": "DPO"}],
            "risks": {"R1": {"impact": "severe", "likelihood": "high"}},
        }
        r = client.post(f"/api/pia/{aid}/edits", json={"edits": edits}, headers=dpo)
        assert r.status_code == 200 and r.json()["version"] == 2
        assert r.json()["document"]["risks"][0]["level"]
        r = client.post(f"/api/pia/{aid}/submit", headers=dpo)
        assert r.status_code == 403 and r.json()["error"]["key"] == "pia.refuse.gaps"
        r = client.post(f"/api/pia/{aid}/opinion", json={"text": "同意"}, headers=dpo)
        assert r.status_code == 200
        assert client.post(f"/api/pia/{aid}/submit", headers=dpo).status_code == 200
        r = client.post(f"/api/pia/{aid}/approve", headers=dpo)
        assert r.status_code == 403 and r.json()["error"]["key"] == "pia.refuse.not_signatory"
        r = client.post(f"/api/pia/{aid}/approve", headers=signer)
        assert r.status_code == 200 and r.json()["status"] == "approved"
        one = client.get(f"/api/pia/{aid}", headers=auditor).json()
        assert [v["version"] for v in one["versions"]] == [1, 2, 3]
        # The signed export of the approved version, its files served while unchanged.
        assert client.post(f"/api/pia/{aid}/exports", headers=auditor).status_code == 403
        r = client.post(f"/api/pia/{aid}/exports", json={"version": 99}, headers=dpo)
        assert r.status_code == 400, r.text
        r = client.post(f"/api/pia/{aid}/exports", headers=dpo)
        assert r.status_code == 200 and r.json()["version"] == 3, r.text
        exported = r.json()
        assert {"pia.json", "pia.sig"} <= set(exported["download"])
        got = client.get(exported["download"]["pia.json"], headers=auditor)
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == exported["files"]["pia.json"]
        missing = exported["download"]["pia.json"].replace("pia.json", "nope.json")
        assert client.get(missing, headers=auditor).status_code == 404
        # The checklist evaluated on request, recorded in the ledger.
        assert client.post("/api/compliance/check", headers=token("zhaolei")).status_code == 403
        r = client.post("/api/compliance/check", headers=auditor)
        assert r.status_code == 200 and r.json()["items"], r.text
        assert r.json()["ledger_seq"] and 0 <= r.json()["score"]["score"] <= 1
        # The approval put the assessment's risks in the register.
        codes = {x["code"] for x in client.get("/api/risks", headers=auditor).json()}
        assert f"PIA{aid}-R1" in codes, codes
        risk = {
            "code": "R-API",
            "title": "接口风险",
            "source": "process",
            "impact": "medium",
            "likelihood": "low",
            "owner": "zhaolei",
            "review_on": "2031-01-01",
        }
        assert client.post("/api/risks", json=risk, headers=auditor).status_code == 403
        r = client.post("/api/risks", json=risk, headers=dpo)
        assert r.status_code == 200 and r.json()["level"]
        r = client.post(
            "/api/risks/R-API/review",
            json={"next_review": "2031-06-01", "status": "closed"},
            headers=dpo,
        )
        assert r.status_code == 200 and r.json()["status"] == "closed"
        assert client.get("/api/certificates", headers=auditor).json() == []
        r = client.post("/api/dossiers", headers=token("chenjing"))  # compliance.check only
        assert r.status_code == 403
        r = client.post("/api/dossiers", headers=auditor)
        assert r.status_code == 200 and r.json()["kind"] == "dossier", r.text
        state = wait_api_job(client, r.json()["id"], auditor)
        assert state["status"] == "done", state
        assert state["tasks"] == [{"name": "documents", "total": 8, "done": 8, "rejects": 0}]
        name = state["result"]["name"]
        listed = client.get("/api/dossiers", headers=auditor).json()
        assert [d["name"] for d in listed] == [name]
        checked = client.get(f"/api/dossiers/{name}", headers=auditor).json()
        assert checked["valid"] is True and checked["check"]["key_pinned"] is True
        # The dashboard's PIA and dossier stages are done, each with its evidence.
        stages = client.get("/api/dashboard", headers=auditor).json()["stages"]
        done = {s["stage"]: s for s in stages if s["status"] == "done"}
        assert done["pia"]["actor"] == "liqiang" and done["dossier"]["subject"] == name
    assert ("liuyang", "pia.edit") in [
        (e.actor, e.details["action"]) for e in ledger(path, "access.refuse")
    ]
