"""The authorisation matrix through the console: the same rules as the CLI matrix
(tests/test_governance_matrix.py), every role × route with allowed or refused, and every
refusal in the ledger.

- ``test_matrix_through_api``: the CLI matrix's plan (7 roles × 8 actions with everything
  in order, plus every single fault per role) through ``GET /api/grants/check`` and the
  page ``/grants/check``, compared with the same expected reason as the CLI's.
- ``test_routes_by_role``: the demo cast, one person per role, × every page and API
  route: who gets 200/303 and who gets 403, and the refusals' ledger events.
- ``test_record_routes_by_role``: every state-changing route of the incident, assessment
  and register pages × every role (403 and ``access.refuse`` for the refused,
  ``access.allow`` for the allowed), then the downloads and a job's event stream for all.
- ``test_every_route_needs_a_session``: every route of the app (found by walking it), with
  no session: pages go to /login, the API answers 401.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from handover.flows.workspace import init_workspace
from handover.governance.demo import DEMO_VENDOR_ANSWERS, VENDOR_ORG
from handover.governance.policy import DATA_ACTIONS, ROLES
from handover.ledger import entries
from handover.web.app import create_app
from handover.workspace import open_workspace
from test_governance_matrix import (
    BASELINE,
    PASSWORD,
    SINGLE_FAULTS,
    _cli_plan,
    build_cast,
    expected,
    play,
)
from web_support import (
    TestClock,
    api_token,
    app_routes,
    build_scanned_workspace,
    copy_workspace,
    login,
)

#: who plays each role in the demo cast (wangmin is also compliance officer, liqiang also dpo)
CAST = {
    "dpo": "wangmin",
    "approver": "zhoujie",
    "data_engineer": "zhaolei",
    "dd_analyst": "chenjing",
    "auditor": "liuyang",
    "vendor_staff": "huangtao",
    "dpo+approver": "liqiang",
}
READ_PAGES = (
    "/dashboard",
    "/inventory",
    "/grants",
    "/ledger",
    "/ledger/1",
    "/account",
    "/jobs",
    "/notices",
    "/incidents",
    "/pia",
    "/ndas",
    "/training",
    "/vendors",
    "/incidents/1",
    "/pia/1",
    "/pia/1?version=1",
    "/certificates",
    "/dossiers",
)
READ_API = (
    "/api/me",
    "/api/dashboard",
    "/api/inventory",
    "/api/grants",
    "/api/ledger",
    "/api/ledger/1",
    "/api/pia",
    "/api/pia/1",
    "/api/risks",
    "/api/certificates",
    "/api/dossiers",
    "/api/incidents/1",
)
#: (route, the cast members it allows); everyone else is refused with 403
DECIDED = {
    # scan.evidence masked on every tier: data engineers and DPOs may, with a grant;
    # only zhaolei holds one (handover: * clear).
    "GET /inventory?examples=true": {"zhaolei"},
    # verify on everything: roles data_engineer/auditor/compliance_officer/vendor_staff, with a
    # grant naming verify (liuyang, huangtao) or naming no action (zhaolei).
    "GET /grants/check?action=verify&resource=*": {"zhaolei", "liuyang", "huangtao"},
    # maker-checker: an approver who is neither the requester (wangmin) nor the grantee.
    "POST /grants/{id}/approve": {"zhoujie", "liqiang"},
    "POST /grants/{id}/reject": {"zhoujie", "liqiang"},
    # revoke: the requester, any approver, or a manager (dpo, compliance officer).
    "POST /grants/{id}/revoke": {"wangmin", "zhoujie", "liqiang"},
    # anyone active may ask for themselves (the grant still needs its approvers) ...
    "POST /grants": set(CAST.values()),
    # ... for somebody else only a manager (dpo, compliance officer), as in the CLI
    "POST /grants (for chenjing)": {"wangmin", "liqiang", "chenjing"},
    # compliance.check: DPO, compliance officer, auditor (a role is enough)
    "POST /pia/checklist": {"wangmin", "liqiang", "liuyang"},
    # seal in clear on every tier: only the data engineer holds a grant for it
    "POST /jobs/seal": {"zhaolei"},
    # incident.manage: the DPO or the compliance officer (a role is enough)
    "POST /incidents/drills": {"wangmin", "liqiang"},
    "POST /incidents/1/facts": {"wangmin", "liqiang"},
    # pia.edit: the DPO or the compliance officer
    "POST /pia": {"wangmin", "liqiang"},
    "POST /pia/1/measures": {"wangmin", "liqiang"},
    "POST /pia/risks": {"wangmin", "liqiang"},
    # the dossier is built as compliance.check: DPO, compliance officer, auditor
    "POST /dossiers": {"wangmin", "liqiang", "liuyang"},
    # a table's rows: scan.evidence masked (the roles of a scan's evidence, with a grant:
    # only zhaolei); the auditor never, whatever is asked
    "GET /records/yhk_info": {"zhaolei"},
    "GET /records/yhk_info?clear=true": {"zhaolei"},
}
#: the ledger event a refusal of the route leaves
REFUSAL_EVENT = {
    "GET /inventory?examples=true": "access.refuse",
    "GET /grants/check?action=verify&resource=*": "access.refuse",
    "POST /grants/{id}/approve": "governance.grant.approve.refused",
    "POST /grants/{id}/reject": "governance.grant.reject.refused",
    "POST /grants/{id}/revoke": "governance.grant.revoke.refused",
    "POST /grants (for chenjing)": "governance.grant.request.refused",
    "POST /pia/checklist": "access.refuse",
    "POST /jobs/seal": "access.refuse",
    "POST /incidents/drills": "access.refuse",
    "POST /incidents/1/facts": "access.refuse",
    "POST /pia": "access.refuse",
    "POST /pia/1/measures": "access.refuse",
    "POST /pia/risks": "access.refuse",
    "POST /dossiers": "access.refuse",
    "GET /records/yhk_info": "access.refuse",
    "GET /records/yhk_info?clear=true": "access.refuse",
}
#: the form a route is posted with in the matrix (besides the CSRF token)
FORMS = {
    "/incidents/drills": {
        "scenario": "dd_extract_leak",
        "at": "2020-01-01T10:00",
        "participants": "wangmin",
    },
    "/incidents/1/facts": {"fact_location": "矩阵 / matrix"},
    "/pia": {"title": "矩阵 / matrix"},
    "/pia/1/measures": {"measure": "M1", "owner": "wangmin"},
    "/pia/risks": {
        "code": "R-{name}",  # one risk per person allowed
        "title": "矩阵 / matrix",
        "source": "people",
        "impact": "low",
        "likelihood": "low",
        "owner": "wangmin",
        "review_on": "2031-01-01",
    },
}


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.mark.slow
def test_matrix_through_api(tmp_path: Path, now: dt.datetime) -> None:
    path = tmp_path / "ws"
    ws = init_workspace(path, demo=True)
    try:
        cast = build_cast(ws, [BASELINE, *SINGLE_FAULTS], now)
        plan = _cli_plan(ROLES)
        assert len(plan) == len(ROLES) * (len(DATA_ACTIONS) + 5)
        app = create_app(path, clock=TestClock(now + dt.timedelta(seconds=1)))
        with TestClient(app, follow_redirects=False) as client:
            tokens: dict[str, dict[str, str]] = {}
            wrong = []
            for role, action, cond in plan:
                play(ws, cast, role)
                name = cast.name(role, cond)
                if name not in tokens:
                    tokens[name] = api_token(client, name, PASSWORD)
                r = client.get(
                    "/api/grants/check",
                    params={"action": action, "resource": "*"},
                    headers=tokens[name],
                )
                want = expected(role, action, cond)
                got = r.json()["reason_key"]
                if got != want or r.status_code != (200 if want == "gov.allow" else 403):
                    wrong.append((role, action, cond, r.status_code, got, want))
            assert wrong == []
            # The page gives the same answers (status and reason) for the baseline cells.
            browser = TestClient(app, follow_redirects=False)
            for role in ROLES:
                play(ws, cast, role)
                name = cast.name(role, BASELINE)
                browser.cookies.clear()
                login(browser, name, PASSWORD)
                for action in ("seal", "verify", "dd.extract"):
                    r = browser.get("/grants/check", params={"action": action, "resource": "*"})
                    want = expected(role, action, BASELINE)
                    assert r.status_code == (200 if want == "gov.allow" else 403), (role, action)
        decided = [
            e
            for e in entries(ws, action="access")
            if e.actor.startswith(("mx-", "mv-")) and e.details["resource"] == "*/clear"
        ]
        assert len(decided) == len(plan) + 3 * len(ROLES)
        for e in decided:
            assert e.action == ("access.allow" if e.details["allowed"] else "access.refuse")
            assert e.details["reason_key"] and e.details["reason_en"]
    finally:
        ws.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime]:
    from handover.flows.incidents import schedule, start
    from handover.flows.pia import new_assessment

    path = tmp_path_factory.mktemp("webmatrix") / "ws"
    ready = build_scanned_workspace(path)
    ws = open_workspace(path)
    try:  # incident 1: a drill, for the incident's own page
        drill = schedule(ws, "dd_extract_leak", at=ready, participants=["wangmin"], actor="wangmin")
        start(ws, drill.id, actor="wangmin")
        new_assessment(ws, title="矩阵 / matrix", actor="wangmin")  # assessment 1
    finally:
        ws.close()
    return path, dt.datetime.now(dt.UTC)


@pytest.fixture
def console(
    template: tuple[Path, dt.datetime], tmp_path: Path
) -> Iterator[tuple[TestClient, Path]]:
    src, ready = template
    path = copy_workspace(src, tmp_path / "ws")
    app = create_app(path, clock=TestClock(ready + dt.timedelta(minutes=1)))
    with TestClient(app, follow_redirects=False) as client:
        yield client, path


def _pending_grant(client: TestClient) -> int:
    """A fresh grant for chenjing requested by wangmin, pending one approval."""
    headers = api_token(client, "wangmin")
    body = {"grantee": "chenjing", "scope": "C1", "mode": "masked", "purpose": "矩阵 / matrix"}
    r = client.post("/api/grants", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def test_routes_by_role(console: tuple[TestClient, Path]) -> None:
    client, path = console
    wrong = []
    refused_seen: dict[str, set[str]] = {}
    for role, name in CAST.items():
        browser = TestClient(client.app, follow_redirects=False)
        token = login(browser, name)
        api = api_token(client, name)
        # Reading: every role sees every view (the auditor too); none of them shows a value.
        for page in READ_PAGES:
            if browser.get(page).status_code != 200:
                wrong.append((role, page))
        for route in READ_API:
            if client.get(route, headers=api).status_code != 200:
                wrong.append((role, route))
        for route, allowed in DECIDED.items():
            method, _, target = route.partition(" ")
            target, _, other = target.partition(" (for ")
            gid = _pending_grant(client) if "{id}" in target else None
            url = target.replace("{id}", str(gid))
            if method == "GET":
                r = browser.get(url)
            elif url == "/grants":
                grantee = other.rstrip(")") or name
                form = {"grantee": grantee, "scope": "C1", "mode": "masked", "purpose": "矩阵"}
                r = browser.post(url, data={**form, "csrf_token": token})
            elif url in ("/jobs/seal", "/dossiers"):
                form = (
                    {"source": "seller.db", "name": f"matrix-{name}"} if url != "/dossiers" else {}
                )
                r = browser.post(url, data={**form, "csrf_token": token})
                if r.status_code == 303:  # let the job end before the workspace goes
                    for _ in range(1200):
                        if "job-running" not in browser.get(r.headers["location"]).text:
                            break
                        time.sleep(0.05)
            elif url in FORMS:
                form = {k: v.replace("{name}", name) for k, v in FORMS[url].items()}
                r = browser.post(url, data={**form, "csrf_token": token})
            else:
                r = browser.post(url, data={"csrf_token": token})
            # a page that answers in place (the checklist's results) is 200, a redirect 303
            ok = 200 if method == "GET" or url == "/pia/checklist" else 303
            want = ok if name in allowed else 403
            if r.status_code != want:
                wrong.append((role, route, r.status_code, want))
            if want == 403 and route in REFUSAL_EVENT:
                refused_seen.setdefault(route, set()).add(name)
        # The records' actions through the API: pia.edit for the DPO and compliance officer,
        # the checklist for those who may check compliance.
        r = client.post("/api/compliance/check", headers=api)
        want = 200 if name in DECIDED["POST /pia/checklist"] else 403
        if r.status_code != want:
            wrong.append((role, "api /api/compliance/check", r.status_code, want))
        for route, body in (
            ("/api/pia", {"title": "矩阵 API"}),
            ("/api/pia/1/edits", {"edits": {"conclusion": f"{name} 的结论"}}),
            ("/api/pia/1/exports", {}),
            (
                "/api/risks",
                {
                    "code": f"R-API-{name}",
                    "title": "矩阵 API",
                    "source": "people",
                    "impact": "low",
                    "likelihood": "low",
                    "owner": "wangmin",
                    "review_on": "2031-01-01",
                },
            ),
        ):
            r = client.post(route, json=body, headers=api)
            want = 200 if name in {"wangmin", "liqiang"} else 403
            if r.status_code != want:
                wrong.append((role, f"api {route}", r.status_code, want))
        # The same decisions through the API for the grant actions.
        for decision in ("approve", "reject", "revoke"):
            gid = _pending_grant(client)
            r = client.post(f"/api/grants/{gid}/{decision}", headers=api)
            want = 200 if name in DECIDED[f"POST /grants/{{id}}/{decision}"] else 403
            if r.status_code != want:
                wrong.append((role, f"api {decision}", r.status_code, want))
    assert wrong == []
    # Every refusal the library ledgers is there, as the refused person's.
    for route, names in refused_seen.items():
        events = ledger_events(path, REFUSAL_EVENT[route])
        assert names <= {e.actor for e in events}, route


def ledger_events(path: Path, action: str):  # type: ignore[no-untyped-def]
    ws = open_workspace(path)
    try:
        return entries(ws, action=action)
    finally:
        ws.close()


#: who may take each decision of the record pages (the CLI's roles, policy.ACTION_ROLES)
MANAGERS = {"wangmin", "liqiang"}  # incident.manage, pia.edit: DPO, compliance officer
SIGNERS = {"wangmin", "zhoujie", "liqiang"}  # pia.approve: DPO, approver
#: every state-changing route of the record pages, in an order that keeps them possible:
#: (route, form, the action deciding it, who is allowed, what an allowed person gets: the
#: action done, or the library's answer to the state it finds — e.g. a second "handling
#: ended" is bad input, an approval of a draft is refused by the maker-checker rule)
RECORD_ROUTES: tuple[tuple[str, dict[str, str], str, set[str], set[int]], ...] = (
    ("/incidents/1/facts", {"fact_cause": "矩阵"}, "incident.manage", MANAGERS, {303}),
    ("/incidents/1/reports", {"kind": "initial"}, "incident.manage", MANAGERS, {303}),
    (
        "/incidents/1/met",
        {"obligation": "{ob}", "note": "矩阵"},
        "incident.manage",
        MANAGERS,
        {303, 400},
    ),
    (
        "/incidents/1/actions",
        {"what": "矩阵", "owner": "zhaolei", "due_on": "2031-01-01"},
        "incident.manage",
        MANAGERS,
        {303},
    ),
    ("/incidents/1/actions/{action}/done", {}, "incident.manage", MANAGERS, {303, 400}),
    ("/incidents/1/handled", {}, "incident.manage", MANAGERS, {303, 400}),
    (
        "/incidents/1/close",
        {"root_cause": "矩阵", "lessons": "矩阵"},
        "incident.manage",
        MANAGERS,
        {400},
    ),
    ("/incidents/drills/1/start", {}, "incident.manage", MANAGERS, {400}),
    ("/incidents/drills/1/finish", {"lessons": "矩阵"}, "incident.manage", MANAGERS, {303, 400}),
    ("/pia/1/edit", {"title": "矩阵", "signatory": "liqiang"}, "pia.edit", MANAGERS, {303}),
    ("/pia/1/risks", {"risk": "R1", "impact": "low"}, "pia.edit", MANAGERS, {303}),
    ("/pia/1/opinion", {"text": "矩阵"}, "pia.edit", MANAGERS, {303}),
    ("/pia/1/submit", {}, "pia.edit", MANAGERS, {303, 403}),
    ("/pia/1/reject", {"reason": "矩阵"}, "pia.approve", SIGNERS, {303, 403}),
    ("/pia/1/approve", {}, "pia.approve", SIGNERS, {403}),
    ("/pia/1/export", {}, "pia.edit", MANAGERS, {303, 400}),
    (
        "/pia/risks/review",
        {"code": "R-MX", "next_review": "2031-06-01"},
        "pia.edit",
        MANAGERS,
        {303},
    ),
)


def test_record_routes_by_role(console: tuple[TestClient, Path]) -> None:
    """Every state-changing route of the incident, assessment and register pages × every
    role: who is not allowed gets 403 and an ``access.refuse`` of the route's action; who
    is allowed is decided ``access.allow`` and gets the action done or the library's own
    answer. Then every reading route (downloads, the job's event stream) for every role."""
    from handover.flows.dossier import build_dossier
    from handover.flows.pia import add_risk
    from handover.incidents.records import get_incident

    client, path = console
    ws = open_workspace(path)
    try:
        ob = get_incident(ws, 1).obligations[0].id
        add_risk(
            ws,
            code="R-MX",
            title="矩阵",
            source="people",
            impact="low",
            likelihood="low",
            owner="wangmin",
            review_on=dt.date(2031, 1, 1),
            controls=[],
            actor="wangmin",
        )
        dossier = build_dossier(ws, actor="liuyang").folder.name
    finally:
        ws.close()
    browsers = {}
    for name in CAST.values():
        browser = TestClient(client.app, follow_redirects=False)
        browsers[name] = (browser, login(browser, name))
    wrong = []
    action_id = "0"
    for route, form, _, allowed, ok in RECORD_ROUTES:
        # the refused first (nothing changes), then the allowed
        for name in sorted(CAST.values(), key=lambda n: (n in allowed, n)):
            browser, token = browsers[name]
            url = route.replace("{action}", action_id)
            data = {k: v.replace("{ob}", str(ob)) for k, v in form.items()}
            r = browser.post(url, data={**data, "csrf_token": token})
            want = ok if name in allowed else {403}
            if r.status_code not in want:
                wrong.append((name, route, r.status_code, want))
        if route == "/incidents/1/actions":
            page = browsers["wangmin"][0].get("/incidents/1").text
            found = re.search(r'action="/incidents/1/actions/(\d+)/done"', page)
            assert found is not None
            action_id = found.group(1)
    assert wrong == []
    decided = {(e.action, e.actor, e.details["action"]) for e in ledger_events(path, "access")}
    for _, _, action, allowed, _ in RECORD_ROUTES:
        for name in CAST.values():
            event = "access.allow" if name in allowed else "access.refuse"
            assert (event, name, action) in decided, (event, name, action)
    # Reading: every role may download the records and follow a job.
    reader = browsers["wangmin"][0]
    page = reader.get("/incidents/1").text
    report = re.search(r'href="(/incidents/1/reports/\d+/report\.json)"', page)
    page = reader.get("/pia/1").text
    export = re.search(r'href="(/pia/1/exports/\d+/pia\.json)"', page)
    assert report is not None and export is not None
    engineer, token = browsers["zhaolei"]
    r = engineer.post("/jobs/scan", data={"source": "seller.db", "csrf_token": token})
    job = r.headers["location"]
    for _ in range(1200):
        if "job-running" not in engineer.get(job).text:
            break
        time.sleep(0.05)
    reads = (
        report.group(1),
        export.group(1),
        f"/dossiers/{dossier}",
        f"/dossiers/{dossier}/manifest.json",
        f"/dossiers/{dossier}/archive.zip",
        f"{job}/events",
    )
    for name in CAST.values():
        browser, _ = browsers[name]
        for url in reads:
            r = browser.get(url)
            if r.status_code != 200:
                wrong.append((name, url, r.status_code))
    assert wrong == []


PUBLIC = {"/", "/login", "/lang/{code}", "/api/login", "/api/openapi.json"}


def test_every_route_needs_a_session(console: tuple[TestClient, Path]) -> None:
    client, _ = console
    pre = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get("/login").text)
    assert pre is not None
    checked = 0
    for route in app_routes(client.app):
        if route.path in PUBLIC:
            continue
        url = re.sub(r"\{[a-z_]+\}", "1", route.path)
        for method in route.methods:
            checked += 1
            if route.path.startswith("/api/"):
                r = client.request(method, url)
                assert r.status_code == 401, (method, url, r.status_code)
            elif method == "GET":
                assert client.get(url).headers.get("location") == "/login", url
            else:
                # With the login form's CSRF token, the missing session is what refuses.
                r = client.request(method, url, data={"csrf_token": pre.group(1)})
                assert r.headers.get("location") == "/login", (method, url, r.status_code)
    assert checked >= 20  # every page and API route (23 today): the walk found them


#: the governance and incident routes of the JSON API: (method, route, body, the action
#: deciding it, who is allowed, what an allowed person gets besides 200 — the library's
#: answer to the state it finds, e.g. a drill started twice is bad input)
API_ROUTES: tuple[tuple[str, str, dict[str, Any] | None, str | None, set[str], set[int]], ...] = (
    (
        "POST",
        "/api/ndas",
        {
            "title": "矩阵 / matrix",
            "parties": ["{org}", "{org2}"],
            "effective_on": "2026-01-01",
            "expires_on": "2030-01-01",
        },
        "governance.manage",
        MANAGERS,
        set(),
    ),
    (
        "POST",
        "/api/ndas/1/breaches",
        {"person": "huangtao", "description": "矩阵", "follow_up": "矩阵"},
        "governance.manage",
        MANAGERS,
        set(),
    ),
    (
        "POST",
        "/api/vendors/score",
        {"answers": DEMO_VENDOR_ANSWERS},
        None,
        set(CAST.values()),
        set(),
    ),
    (
        "POST",
        "/api/vendors/{vendor}/assessments",
        {"answers": DEMO_VENDOR_ANSWERS},
        "governance.manage",
        MANAGERS,
        set(),
    ),
    ("POST", "/api/training/pipl-jrt0171/attempts", None, None, set(CAST.values()), set()),
    (
        "POST",
        "/api/drills",
        {"scenario": "dd_extract_leak", "at": "2026-03-01T10:00", "participants": ["wangmin"]},
        "incident.manage",
        MANAGERS,
        set(),
    ),
    ("POST", "/api/drills/2/start", None, "incident.manage", MANAGERS, {400}),
    (
        "POST",
        "/api/incidents/1/facts",
        {"facts": {"cause": "矩阵"}},
        "incident.manage",
        MANAGERS,
        set(),
    ),
    ("POST", "/api/incidents/1/reports", {"kind": "initial"}, "incident.manage", MANAGERS, {400}),
    (
        "POST",
        "/api/incidents/1/actions",
        {"what": "矩阵", "owner": "zhaolei", "due_on": "2031-01-01"},
        "incident.manage",
        MANAGERS,
        set(),
    ),
    ("POST", "/api/incidents/1/handled", {}, "incident.manage", MANAGERS, {400}),
    (
        "POST",
        "/api/incidents/1/met",
        {"obligation": "{ob}", "note": "矩阵"},
        "incident.manage",
        MANAGERS,
        {400},
    ),
    (
        "POST",
        "/api/incidents/1/close",
        {"root_cause": "矩阵", "lessons": "矩阵"},
        "incident.manage",
        MANAGERS,
        {400},
    ),
    ("POST", "/api/drills/1/finish", {"lessons": "矩阵"}, "incident.manage", MANAGERS, {400}),
    (
        "POST",
        "/api/incidents/events",
        {"title": "矩阵", "noticed_at": "2026-01-01T10:00"},
        "incident.report",
        set(CAST.values()),
        set(),
    ),
    (
        "POST",
        "/api/incidents/events/1/dismiss",
        {"reason": "矩阵"},
        "incident.manage",
        MANAGERS,
        {400},
    ),
    (
        "POST",
        "/api/incidents/events/1/promote",
        {"reason": "矩阵"},
        "incident.manage",
        MANAGERS,
        {400},
    ),
    (
        "POST",
        "/api/incidents/1/grade",
        {"reason": "矩阵", "people": 1},
        "incident.manage",
        MANAGERS,
        {400},
    ),
    (
        "POST",
        "/api/incidents/1/individuals",
        {"notify": True, "reason": "矩阵"},
        "incident.manage",
        MANAGERS,
        {400},
    ),
)
API_READS = (
    "/api/ndas",
    "/api/ndas/1",
    "/api/training/courses",
    "/api/training/records",
    "/api/vendors",
    "/api/vendors/questionnaire",
    "/api/vendors/{vendor}",
    "/api/incidents",
    "/api/incidents/1",
)


def test_api_governance_routes_by_role(console: tuple[TestClient, Path]) -> None:
    """The JSON API's NDA, training, vendor, incident and drill routes × every role: the
    refused get 403 and an ``access.refuse`` of the route's action, the allowed 200 (or
    the library's own answer to the state it finds) and an ``access.allow``; every role
    reads every register."""
    from handover.incidents.records import get_incident

    client, path = console
    ws = open_workspace(path)
    try:
        ob = get_incident(ws, 1).obligations[0].id
    finally:
        ws.close()
    orgs = client.get("/api/ndas", headers=api_token(client, "wangmin")).json()[0]["parties"]
    values = {"{org}": orgs[0], "{org2}": orgs[1], "{vendor}": VENDOR_ORG}
    tokens = {name: api_token(client, name) for name in CAST.values()}
    wrong = []
    for method, route, body, _, allowed, also in API_ROUTES:
        url = route
        for k, v in values.items():
            url = url.replace(k, v)
        text = json.dumps(body, ensure_ascii=False) if body is not None else None
        for k, v in {**values, '"{ob}"': str(ob)}.items():
            text = text.replace(k, v) if text is not None else None
        for name in sorted(CAST.values(), key=lambda n: (n in allowed, n)):
            r = client.request(
                method,
                url,
                content=text,
                headers={**tokens[name], "Content-Type": "application/json"},
            )
            want = {200, *also} if name in allowed else {403}
            if r.status_code not in want:
                wrong.append((name, route, r.status_code, want, r.text[:200]))
    # The multipart signing (governance.manage) and an attempt answered (anyone's own).
    for name in sorted(CAST.values(), key=lambda n: (n in MANAGERS, n)):
        r = client.post(
            "/api/ndas/1/sign",
            data={"signed_on": "2026-01-02"},
            files={"document": ("nda.pdf", b"signed", "application/pdf")},
            headers=tokens[name],
        )
        want = {200, 400} if name in MANAGERS else {403}
        if r.status_code not in want:
            wrong.append((name, "/api/ndas/1/sign", r.status_code, want, r.text[:200]))
        drawn = client.post("/api/training/pipl-jrt0171/attempts", headers=tokens[name]).json()
        answers = {str(q["number"]): "A" for q in drawn["questions"]}
        body = {"seed": drawn["seed"], "tag": drawn["tag"], "answers": answers}
        r = client.post("/api/training/pipl-jrt0171/answers", json=body, headers=tokens[name])
        if r.status_code != 200 or r.json()["person"] != name:
            wrong.append((name, "/api/training/answers", r.status_code, r.text[:200]))
    for read in API_READS:
        for name in CAST.values():
            r = client.get(read.replace("{vendor}", VENDOR_ORG), headers=tokens[name])
            if r.status_code != 200:
                wrong.append((name, read, r.status_code))
    assert wrong == []
    decided = {(e.action, e.actor, e.details["action"]) for e in ledger_events(path, "access")}
    for _, route, _, action, allowed, _ in API_ROUTES:
        if action is None:
            continue
        for name in CAST.values():
            event = "access.allow" if name in allowed else "access.refuse"
            assert (event, name, action) in decided, (route, event, name, action)
