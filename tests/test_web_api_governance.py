"""The JSON API's governance registers and incident handling over real HTTP (uvicorn on
127.0.0.1, bearer tokens): NDAs, training, vendors, an incident's actions and drills.
Each call is the library's own, checked through what the library then holds and what the
ledger records; refusals are 403 and ``access.refuse``; a bad field is 422 naming it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handover.governance.demo import DEMO_VENDOR_ANSWERS, VENDOR_ORG
from web_support import (
    PASSWORDS,
    TestClock,
    build_scanned_workspace,
    copy_workspace,
    ledger_events,
    served,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime]:
    path = tmp_path_factory.mktemp("webapigov") / "ws"
    return path, build_scanned_workspace(path, customers=60)


@pytest.fixture
def api(template: tuple[Path, dt.datetime], tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    import httpx2

    path = copy_workspace(template[0], tmp_path / "ws")
    with (
        served(path, clock=TestClock(template[1] + dt.timedelta(minutes=1))) as base,
        httpx2.Client(base_url=base, timeout=120) as client,
    ):
        yield client, path


def token(client: Any, name: str) -> dict[str, str]:
    r = client.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def refused(path: Path, name: str, action: str) -> bool:
    """Whether the ledger holds a refusal of ``action`` for ``name``."""
    return (name, action) in {
        (e.actor, e.details["action"]) for e in ledger_events(path, "access.refuse")
    }


def test_ndas_through_the_api(api: tuple[Any, Path]) -> None:
    client, path = api
    dpo, analyst = token(client, "wangmin"), token(client, "chenjing")
    before = client.get("/api/ndas", headers=analyst).json()
    assert before and all(n["status"] for n in before)  # the demo's NDAs, readable by all
    body = {
        "title": "接口保密协议",
        "parties": [VENDOR_ORG, before[0]["parties"][0]],
        "signatories": ["huangtao"],
        "scope": "C1,C2",
        "effective_on": "2026-01-01",
        "expires_on": "2036-01-01",
    }
    r = client.post("/api/ndas", json=body, headers=analyst)
    assert r.status_code == 403 and refused(path, "chenjing", "governance.manage")
    r = client.post("/api/ndas", json={**body, "expires_on": "soon"}, headers=dpo)
    assert r.status_code == 422 and "expires_on" in r.json()["error"]["message"]
    assert len(client.get("/api/ndas", headers=dpo).json()) == len(before)  # nothing added
    r = client.post("/api/ndas", json=body, headers=dpo)
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    nid = r.json()["id"]
    signed = "签署版 / signed copy".encode()
    r = client.post(
        f"/api/ndas/{nid}/sign",
        data={"signed_on": "2026-01-02"},
        files={"document": ("nda 签署.pdf", signed, "application/pdf")},
        headers=dpo,
    )
    assert r.status_code == 200, r.text
    assert r.json()["document_sha256"] == hashlib.sha256(signed).hexdigest()
    assert r.json()["signed_on"] == "2026-01-02" and r.json()["status"] != "pending"
    r = client.post(f"/api/ndas/{nid}/sign", data={"signed_on": "2026-01-02"}, headers=dpo)
    assert r.status_code == 422 and "document" in r.json()["error"]["message"]
    breach = {"person": "huangtao", "description": "外发 / sent out", "follow_up": "追回"}
    r = client.post(f"/api/ndas/{nid}/breaches", json=breach, headers=analyst)
    assert r.status_code == 403
    r = client.post(f"/api/ndas/{nid}/breaches", json=breach, headers=dpo)
    assert r.status_code == 200 and r.json()["status"] == "breached"
    one = client.get(f"/api/ndas/{nid}", headers=analyst).json()
    assert one["breaches"][0]["person"] == "huangtao" and one["title"] == "接口保密协议"
    assert client.get("/api/ndas/999999", headers=dpo).status_code == 400
    assert [e.actor for e in ledger_events(path, "governance.nda.breach")] == ["wangmin"]


def _right_answers(path: Path, code: str, seed: int) -> dict[str, str]:
    """The letters a person who knows the course answers (from the course bank)."""
    from handover.governance.training import draw_questions, get_course
    from handover.workspace import open_workspace

    ws = open_workspace(path)
    try:
        course = get_course(ws, code)
    finally:
        ws.close()
    return {
        str(n): "ABCDEFGH"[order.index(q.answer)]
        for n, (q, order) in enumerate(draw_questions(course, seed), start=1)
    }


def test_training_through_the_api(api: tuple[Any, Path]) -> None:
    client, path = api
    me = token(client, "chenjing")
    courses = client.get("/api/training/courses", headers=me).json()
    code = courses[0]["code"]
    assert "questions" not in courses[0]  # the answers stay on the server
    had = len(client.get("/api/training/records", headers=me).json())
    drawn = client.post(f"/api/training/{code}/attempts", headers=me).json()
    seed, tag = drawn["seed"], drawn["tag"]
    assert len(drawn["questions"]) == courses[0]["questions_per_attempt"]
    assert all(len(q["options"]) >= 2 for q in drawn["questions"])
    right = _right_answers(path, code, seed)
    # Another session's tag, one answer missing, a bad field: nothing is recorded.
    other = client.post(f"/api/training/{code}/attempts", headers=token(client, "chenjing"))
    stale = {"seed": seed, "tag": other.json()["tag"], "answers": right}
    r = client.post(f"/api/training/{code}/answers", json=stale, headers=me)
    assert r.status_code == 400 and r.json()["error"]["key"] == "web.training.stale"
    partial = {"seed": seed, "tag": tag, "answers": dict(list(right.items())[1:])}
    r = client.post(f"/api/training/{code}/answers", json=partial, headers=me)
    assert r.status_code == 400 and r.json()["error"]["key"] == "gov.training_aborted"
    r = client.post(f"/api/training/{code}/answers", json={"seed": -1, "tag": tag}, headers=me)
    assert r.status_code == 422 and "seed" in r.json()["error"]["message"]
    assert len(client.get("/api/training/records", headers=me).json()) == had
    full = {"seed": seed, "tag": tag, "answers": right}
    r = client.post(f"/api/training/{code}/answers", json=full, headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["passed"] is True and r.json()["score"] == 1.0 and r.json()["wrong"] == []
    records = client.get("/api/training/records", headers=me).json()
    assert len(records) == had + 1 and records[0]["id"] == r.json()["id"]
    taken = ledger_events(path, "governance.training.take")[-1]
    assert taken.actor == "chenjing" and taken.details["passed"] is True


def test_vendors_through_the_api(api: tuple[Any, Path]) -> None:
    client, path = api
    dpo, analyst = token(client, "wangmin"), token(client, "chenjing")
    listed = client.get("/api/vendors", headers=analyst).json()
    assert [v["name"] for v in listed] == [VENDOR_ORG]
    questions = client.get("/api/vendors/questionnaire", headers=analyst).json()
    assert {q["key"] for q in questions} == set(DEMO_VENDOR_ANSWERS)
    worse = {**DEMO_VENDOR_ANSWERS, "data_location": "outside"}
    r = client.post("/api/vendors/score", json={"answers": worse}, headers=analyst)
    assert r.status_code == 200 and r.json()["risk"] == "critical"
    assert r.json()["knockouts"] == ["data_location"]
    assert len(ledger_events(path, "governance.vendor.assess")) == 1  # scoring records nothing
    bad = {k: v for k, v in DEMO_VENDOR_ANSWERS.items() if k != "encryption"}
    r = client.post("/api/vendors/score", json={"answers": bad}, headers=analyst)
    assert r.status_code == 400 and "encryption" in r.json()["error"]["message"]
    url = f"/api/vendors/{VENDOR_ORG}/assessments"
    r = client.post(url, json={"answers": worse}, headers=analyst)
    assert r.status_code == 403 and refused(path, "chenjing", "governance.manage")
    r = client.post(url, json={"answers": worse}, headers=dpo)
    assert r.status_code == 200 and r.json()["score"]["decision"] == "rejected", r.text
    one = client.get(f"/api/vendors/{VENDOR_ORG}", headers=analyst).json()
    assert one["latest_assessment"]["risk"] == "critical"
    assert one["latest_assessment"]["assessed_by"] == "wangmin"
    assert client.get("/api/vendors/无此公司", headers=dpo).status_code == 400
    assert [e.actor for e in ledger_events(path, "governance.vendor.assess")][-1] == "wangmin"


def test_incident_actions_and_drills_through_the_api(api: tuple[Any, Path]) -> None:
    client, path = api
    dpo, analyst = token(client, "wangmin"), token(client, "chenjing")
    drill = {"scenario": "dd_extract_leak", "at": "2026-03-01T10:00", "participants": ["wangmin"]}
    r = client.post("/api/drills", json=drill, headers=analyst)
    assert r.status_code == 403 and refused(path, "chenjing", "incident.manage")
    r = client.post("/api/drills", json={**drill, "participants": []}, headers=dpo)
    assert r.status_code == 422 and "participants" in r.json()["error"]["message"]
    r = client.post("/api/drills", json={**drill, "at": "  "}, headers=dpo)
    assert r.status_code == 400 and r.json()["error"]["key"] == "web.invalid"
    r = client.post("/api/drills", json=drill, headers=dpo)
    assert r.status_code == 200, r.text
    did = r.json()["id"]
    r = client.post(f"/api/drills/{did}/start", headers=dpo)
    assert r.status_code == 200, r.text
    inc = r.json()
    iid, duties = inc["id"], inc["obligations"]
    assert duties and inc["timeline"]
    listed = client.get("/api/incidents", headers=analyst).json()
    assert iid in [i["id"] for i in listed["incidents"]] and listed["drills"][0]["id"] == did
    # facts
    r = client.post(f"/api/incidents/{iid}/facts", json={"facts": {"nope": "x"}}, headers=dpo)
    assert r.status_code == 400 and "nope" in r.json()["error"]["message"]
    facts = {"facts": {"location": "接口 / API", "cause": "演练"}}
    assert (
        client.post(f"/api/incidents/{iid}/facts", json=facts, headers=analyst).status_code == 403
    )
    r = client.post(f"/api/incidents/{iid}/facts", json=facts, headers=dpo)
    assert r.status_code == 200 and r.json()["facts"]["location"] == "接口 / API"
    # a report, downloaded as filed, refused once altered
    r = client.post(f"/api/incidents/{iid}/reports", json={"kind": "initial"}, headers=dpo)
    assert r.status_code == 200, r.text
    rep = r.json()
    name = next(n for n in rep["files"] if n.endswith(".json"))
    url = f"/api/incidents/{iid}/reports/{rep['id']}/{name}"
    got = client.get(url, headers=analyst)
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == rep["files"][name]
    assert (
        client.get(f"/api/incidents/{iid}/reports/{rep['id']}/x.json", headers=dpo).status_code
        == 404
    )
    # follow-up action
    act = {"what": "复盘 / review", "owner": "zhaolei", "due_on": "2031-01-01"}
    r = client.post(f"/api/incidents/{iid}/actions", json={**act, "due_on": "x"}, headers=dpo)
    assert r.status_code == 422 and "due_on" in r.json()["error"]["message"]
    r = client.post(f"/api/incidents/{iid}/actions", json=act, headers=dpo)
    assert r.status_code == 200, r.text
    aid = r.json()["id"]
    r = client.post(f"/api/incidents/{iid}/actions/{aid}/done", headers=dpo)
    assert r.status_code == 200 and r.json()["done_at"]
    # closing needs handling ended and every duty met
    close = {"root_cause": "演练", "lessons": "更快 / faster"}
    r = client.post(f"/api/incidents/{iid}/close", json=close, headers=dpo)
    assert r.status_code == 400 and r.json()["error"]["key"] == "incidents.not_handled"
    r = client.post(f"/api/incidents/{iid}/handled", json={}, headers=dpo)
    assert r.status_code == 200 and r.json()["status"] == "handled"
    for ob in client.get(f"/api/incidents/{iid}", headers=dpo).json()["obligations"]:
        if ob["status"] == "open":
            met = {"obligation": ob["id"], "note": "电话 / by phone"}
            r = client.post(f"/api/incidents/{iid}/met", json=met, headers=dpo)
            assert r.status_code == 200 and r.json()["status"] == "met", r.text
    r = client.post(f"/api/incidents/{iid}/close", json=close, headers=dpo)
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    r = client.post(f"/api/drills/{did}/finish", json={"lessons": "好 / good"}, headers=dpo)
    assert r.status_code in (200, 400), r.text
    for action in ("incident.facts", "incident.report", "incident.close"):
        assert [e.actor for e in ledger_events(path, action)] == ["wangmin"], action


def test_an_incident_begins_through_the_api(api: tuple[Any, Path]) -> None:
    """An event recorded by anyone registered, dismissed or promoted by the DPO's decision,
    its grade raised with a reason, the individuals' notice waived only once the measures
    are on record (PIPL Art. 57 ¶2) — the same flows as the pages and the CLI."""
    client, path = api
    dpo, analyst = token(client, "wangmin"), token(client, "chenjing")
    event = {
        "title": "导出文件误发外部邮箱",
        "noticed_at": "2026-03-01T09:30",
        "systems": ["dd-export"],
        "data": ["cust_info"],
    }
    r = client.post("/api/incidents/events", json={**event, "noticed_at": ""}, headers=analyst)
    assert r.status_code == 422 and "noticed_at" in r.json()["error"]["message"]
    r = client.post("/api/incidents/events", json=event, headers=analyst)
    assert r.status_code == 200, r.text
    eid = r.json()["id"]
    assert r.json()["status"] == "open" and r.json()["data"] == ["cust_info"]
    other = client.post("/api/incidents/events", json={**event, "title": "误报"}, headers=dpo)
    r = client.post(
        f"/api/incidents/events/{other.json()['id']}/dismiss",
        json={"reason": "test mail to ourselves"},
        headers=dpo,
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    # promoting is a decision of incident.manage: the analyst is refused and ledgered
    promote = {"reason": "客户数据离开了公司", "category": "data_leak"}
    r = client.post(f"/api/incidents/events/{eid}/promote", json=promote, headers=analyst)
    assert r.status_code == 403 and refused(path, "chenjing", "incident.manage")
    r = client.post(
        f"/api/incidents/events/{eid}/promote", json={**promote, "category": "x"}, headers=dpo
    )
    assert r.status_code == 400 and r.json()["error"]["key"] == "incidents.bad_category"
    r = client.post(f"/api/incidents/events/{eid}/promote", json=promote, headers=dpo)
    assert r.status_code == 200, r.text
    inc = r.json()
    iid = inc["id"]
    assert inc["event"] == eid and inc["obligations"] and inc["decision"]["grade"] == inc["grade"]
    assert inc["affected_count"] == inc["people_affected"] > 0  # counted from the inventory
    # the grade only rises, and a decided higher grade needs its reason
    up = {"grade": "especially_major"}
    r = client.post(f"/api/incidents/{iid}/grade", json=up, headers=dpo)
    assert r.status_code == 400 and r.json()["error"]["key"] == "incidents.grade_reason"
    r = client.post(
        f"/api/incidents/{iid}/grade", json={**up, "reason": "客户身份证号码外泄"}, headers=dpo
    )
    assert r.status_code == 200, r.text
    assert r.json()["grade"] == "especially_major"
    down = {"grade": "major", "reason": "x"}
    r = client.post(f"/api/incidents/{iid}/grade", json=down, headers=dpo)
    assert r.status_code == 400 and r.json()["error"]["key"] == "incidents.grade_lower"
    # Art. 57 ¶2: the waiver rests on the measures taken, which must be on record first
    waive = {"notify": False, "reason": "邮件已撤回并确认删除"}
    r = client.post(f"/api/incidents/{iid}/individuals", json=waive, headers=dpo)
    assert r.status_code == 400 and r.json()["error"]["key"] == "incidents.waiver_needs_measures"
    facts = {"facts": {"measures": "撤回邮件,收件方书面确认删除"}}
    assert client.post(f"/api/incidents/{iid}/facts", json=facts, headers=dpo).status_code == 200
    r = client.post(f"/api/incidents/{iid}/individuals", json=waive, headers=dpo)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "waived" and r.json()["waiver"]["by"] == "wangmin"
    actions = [e.action for e in ledger_events(path, "incident")]
    for action in (
        "incident.event.record",
        "incident.event.dismiss",
        "incident.promote",
        "incident.grade",
        "incident.individuals",
    ):
        assert action in actions, action
