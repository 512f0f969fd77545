"""The console's detail pages over real HTTP (uvicorn on 127.0.0.1, real cookies and CSRF
tokens): one incident with its clocks, facts, reports and drill; the impact assessment
editor; destruction certificates; the regulator's dossier. Each action is the flow the
CLI calls, checked through what the library then holds and what the ledger records;
downloads come only from the reports folder and only with the hash the library recorded.
"""

from __future__ import annotations

import datetime as dt
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
    ledger_events,
    served,
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
        from handover.incidents.incidents import REMIND_AT, get_incident

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
