"""Governance through the real CLI on real stores: logins, NDAs, training, vendors,
grants with maker-checker approval, enforcement and its ledger trail, status."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from handover.cli.main import app
from handover.errors import BadInput, Refused
from handover.flows.workspace import init_workspace
from handover.governance import authorize, require
from handover.governance.demo import DEMO_CAST
from handover.governance.grants import list_grants, request_grant, revoke_grant
from handover.governance.models import GrantApprovalRow, GrantRow, PersonRow, SessionRow
from handover.governance.ndas import nda_status
from handover.governance.training import LETTERS, draw_questions, get_course, parse_course
from handover.governance.vendors import score_answers
from handover.ledger import entries
from handover.workspace import Workspace, open_workspace

PASSWORDS = {m.name: m.password for m in DEMO_CAST}
runner = CliRunner()


def cli(ws_path: Path, *args: str, password: str | None = None, input: str | None = None) -> Any:
    env = {"HANDOVER_WORKSPACE": str(ws_path)}
    if password is not None:
        env["HANDOVER_PASSWORD"] = password
    return runner.invoke(app, list(args), env=env, input=input)


def login(ws_path: Path, name: str) -> None:
    res = cli(ws_path, "login", name, password=PASSWORDS[name])
    assert res.exit_code == 0, res.output


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    ws = init_workspace(tmp_path / "ws", demo=True)
    ws.close()
    return tmp_path / "ws"


def _open(path: Path) -> Workspace:
    return open_workspace(path)


# --- passwords and sessions -----------------------------------------------------------


def test_password_hashes_are_argon2id_and_verify() -> None:
    from handover.crypto.passwords import hash_password, token_digest, verify_password

    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password("correct horse battery", h)
    assert not verify_password("correct horse batterY", h)
    assert not verify_password("anything", None)
    assert hash_password("correct horse battery") != h  # fresh salt each time
    assert token_digest("abc") == hashlib.sha256(b"abc").hexdigest()


def test_login_stores_only_token_hash_and_file_is_0600(demo: Path) -> None:
    login(demo, "zhaolei")
    token_file = demo / ".session"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    ws = _open(demo)
    try:
        with ws.store.session() as s:
            rows = s.scalars(select(SessionRow)).all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        assert token.encode() not in (demo / "handover.db").read_bytes()
        res = cli(demo, "whoami", "--json")
        assert json.loads(res.output)["person"]["name"] == "zhaolei"
        # Flows record their events as current_actor(): the logged-in person.
        from handover.governance import current_actor
        from handover.ledger import record

        assert current_actor(ws) == "zhaolei"
        assert record(ws, current_actor(ws), "test.event", "x", "test").actor == "zhaolei"
        # The session expires: eight hours later it says so, and what is recorded then
        # is the OS account's, never the person's (nor a demo stand-in's).
        from handover.governance.session import SessionExpired, current_person, os_actor

        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8, minutes=1)
        with pytest.raises(SessionExpired, match="session expired"):
            current_person(ws, now=later)
        assert current_actor(ws, now=later) == os_actor()
    finally:
        ws.close()
    res = cli(demo, "logout")
    assert res.exit_code == 0 and "zhaolei" in res.output
    assert not token_file.exists()
    assert cli(demo, "whoami").exit_code == 1


def test_wrong_password_is_refused_and_ledgered(demo: Path) -> None:
    # bad credentials (exit 2), not a policy refusal
    res = cli(demo, "login", "zhaolei", password="not-the-password")
    assert res.exit_code == 2
    assert "not-the-password" not in res.output
    res = cli(demo, "--lang", "en", "login", "nobody", password="whatever-123")
    assert res.exit_code == 2 and "bad credentials" in res.output
    assert not (demo / ".session").exists()
    ws = _open(demo)
    try:
        refused = entries(ws, action="governance.login.refused")
        assert [e.subject for e in refused] == ["person zhaolei", "person nobody"]
        assert all("not-the-password" not in e.body.decode() for e in entries(ws))
    finally:
        ws.close()


def test_loose_token_file_is_not_honoured(demo: Path) -> None:
    login(demo, "zhaolei")
    os.chmod(demo / ".session", 0o644)
    res = cli(demo, "whoami")
    assert res.exit_code == 1


# --- bootstrapping a real (non-demo) workspace ----------------------------------------


def test_non_demo_workspace_bootstrap_and_refusal_without_login(tmp_path: Path) -> None:
    path = tmp_path / "real"
    res = runner.invoke(
        app,
        ["--workspace", str(path), "init", "--seller", "甲小贷", "--buyer", "乙金控"],
    )
    assert res.exit_code == 0, res.output
    # init registered the seller and the buyer: the next step (people add --org) works
    res = cli(path, "--lang", "en", "people", "org-add", "甲小贷", "--kind", "seller")
    assert res.exit_code == 2 and "organisation '甲小贷' already exists" in res.output
    # Nobody logged in outside a demo: every data-touching action is refused (exit 3).
    res = cli(path, "grants", "check", "scan.evidence", "C2/masked")
    assert res.exit_code == 3
    # The first person must be a DPO or compliance officer, needs no login.
    res = cli(
        path,
        "people",
        "add",
        "ops",
        "--org",
        "甲小贷",
        "--role",
        "data_engineer",
        password="long-enough-pw",
    )
    assert res.exit_code == 3
    res = cli(
        path,
        "people",
        "add",
        "dpo",
        "--org",
        "甲小贷",
        "--role",
        "dpo",
        "--display-name",
        "王敏",
        password="short",
    )
    assert res.exit_code == 2  # outside a demo, passwords have at least 10 characters
    res = cli(
        path, "people", "add", "dpo", "--org", "甲小贷", "--role", "dpo", password="long-enough-pw"
    )
    assert res.exit_code == 0, res.output
    # Later people need a logged-in manager.
    res = cli(
        path,
        "people",
        "add",
        "ops",
        "--org",
        "甲小贷",
        "--role",
        "data_engineer",
        password="another-long-pw",
    )
    assert res.exit_code == 3
    assert cli(path, "login", "dpo", password="long-enough-pw").exit_code == 0
    res = cli(
        path,
        "people",
        "add",
        "ops",
        "--org",
        "甲小贷",
        "--role",
        "data_engineer",
        password="another-long-pw",
    )
    assert res.exit_code == 0, res.output
    # The DPO chose ops's password: a one-time one, good only for setting ops's own.
    assert cli(path, "logout").exit_code == 0
    res = cli(path, "--lang", "en", "login", "ops", password="another-long-pw")
    assert res.exit_code == 2 and "handover people password ops" in res.output
    res = cli(
        path, "people", "password", "ops", password="ops-own-pw-2026", input="another-long-pw\n"
    )
    assert res.exit_code == 0, res.output
    assert cli(path, "login", "ops", password="ops-own-pw-2026").exit_code == 0
    res = cli(path, "--lang", "en", "grants", "check", "seal", "*")
    assert res.exit_code == 3 and "no NDA" in res.output


# --- NDAs ------------------------------------------------------------------------------


def test_nda_status_rules() -> None:
    today = dt.date(2027, 1, 1)
    eff, exp = dt.date(2026, 1, 1), dt.date(2027, 6, 1)
    assert nda_status(None, eff, exp, 0, today) == "pending"
    assert nda_status(eff, dt.date(2027, 2, 1), exp, 0, today) == "pending"
    assert nda_status(eff, eff, exp, 0, today) == "active"
    assert nda_status(eff, eff, dt.date(2027, 1, 31), 0, today) == "expiring"
    assert nda_status(eff, eff, dt.date(2027, 2, 1), 0, today) == "active"
    assert nda_status(eff, eff, dt.date(2027, 1, 1), 0, today) == "expiring"
    assert nda_status(eff, eff, dt.date(2026, 12, 31), 0, today) == "expired"
    assert nda_status(eff, eff, exp, 1, today) == "breached"


def test_nda_add_keeps_document_hash_and_breach_blocks_access(demo: Path, tmp_path: Path) -> None:
    doc = tmp_path / "signed.pdf"
    doc.write_bytes(b"%PDF-1.4 signed NDA scan\n" * 100)
    login(demo, "wangmin")
    today = dt.date.today()
    res = cli(
        demo,
        "nda",
        "add",
        "--title",
        "补充保密协议",
        "--party",
        "示例市诚信小额贷款有限公司",
        "--party",
        "示例普惠金融控股有限公司",
        "--signatory",
        "chenjing",
        "--scope",
        "C1,C2",
        "--purpose",
        "尽职调查 / due diligence",
        "--signed",
        str(today),
        "--effective",
        str(today),
        "--expires",
        str(today + dt.timedelta(days=20)),
        "--document",
        str(doc),
        "--json",
    )
    assert res.exit_code == 0, res.output
    nda = json.loads(res.output)
    assert nda["document_sha256"] == hashlib.sha256(doc.read_bytes()).hexdigest()
    assert nda["status"] == "expiring"
    # Bad input: expiry before effect, missing document → exit 2, nothing registered.
    res = cli(
        demo,
        "nda",
        "add",
        "--title",
        "x",
        "--party",
        "示例市诚信小额贷款有限公司",
        "--party",
        "示例普惠金融控股有限公司",
        "--effective",
        "2027-01-02",
        "--expires",
        "2027-01-01",
    )
    assert res.exit_code == 2
    res = cli(
        demo,
        "nda",
        "add",
        "--title",
        "x",
        "--party",
        "示例市诚信小额贷款有限公司",
        "--party",
        "示例普惠金融控股有限公司",
        "--effective",
        "2026-01-01",
        "--expires",
        "2027-01-01",
        "--signed",
        "2026-01-01",
        "--document",
        str(tmp_path / "missing.pdf"),
    )
    assert res.exit_code == 2 and "missing.pdf" in res.output
    assert len(json.loads(cli(demo, "nda", "list", "--json").output)) == 3
    # states in the reader's words, as the console shows them (were the stored codes)
    assert "生效" in cli(demo, "nda", "list").output
    assert " active " not in cli(demo, "grants", "list").output
    assert " active " in cli(demo, "--lang", "en", "grants", "list").output
    # A breach of the transaction NDA stops it covering anyone.
    res = cli(
        demo,
        "nda",
        "breach",
        "1",
        "--person",
        "chenjing",
        "--description",
        "把样本数据发到私人邮箱",
        "--follow-up",
        "已删除并书面警告;通知买方",
    )
    assert res.exit_code == 0, res.output
    # zhaolei is still bound by the seller-vendor agreement, whose purpose is narrower.
    login(demo, "zhaolei")
    res = cli(demo, "--lang", "en", "grants", "check", "seal", "*")
    assert res.exit_code == 3 and "outside every NDA in force" in res.output
    login(demo, "chenjing")
    res = cli(demo, "--lang", "en", "grants", "check", "dd.extract", "*/tokenised")
    assert res.exit_code == 3 and "breach" in res.output
    # chenjing's own supplementary NDA covers C1,C2 for due diligence only.
    login(demo, "chenjing")
    assert cli(demo, "grants", "check", "dd.extract", "C1,C2/tokenised").exit_code == 0
    assert cli(demo, "grants", "check", "dd.extract", "C3/tokenised").exit_code == 3


# --- training --------------------------------------------------------------------------


def test_shipped_course_is_bilingual_with_enough_questions(demo: Path) -> None:
    path = Path(__file__).resolve().parents[1] / "src/handover/governance/courses/pipl-jrt0171.json"
    course = parse_course(json.loads(path.read_text(encoding="utf-8")), str(path))
    assert len(course.questions) >= 10
    assert all(q.prompt["zh-CN"] and q.prompt["en"] for q in course.questions)
    with pytest.raises(BadInput, match=r"question 1 \(tier-c3\): answer must index"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["questions"][0]["answer"] = 9
        parse_course(doc, str(path))


def _answers(ws_path: Path, seed: int, right: bool) -> str:
    ws = _open(ws_path)
    try:
        course = get_course(ws, "pipl-jrt0171")
    finally:
        ws.close()
    letters = []
    for q, order in draw_questions(course, seed):
        good = order.index(q.answer)
        letters.append(LETTERS[good if right else (good + 1) % len(order)])
    return "\n".join(letters) + "\n"


def test_training_take_through_stdin(demo: Path) -> None:
    login(demo, "chenjing")
    ws = _open(demo)
    try:
        course = get_course(ws, "pipl-jrt0171")
    finally:
        ws.close()
    assert [q.id for q, _ in draw_questions(course, 7)] == [
        q.id for q, _ in draw_questions(course, 7)
    ]
    assert [q.id for q, _ in draw_questions(course, 7)] != [
        q.id for q, _ in draw_questions(course, 8)
    ]
    res = cli(
        demo,
        "--lang",
        "en",
        "training",
        "take",
        "pipl-jrt0171",
        "--seed",
        "7",
        input=_answers(demo, 7, right=True),
    )
    assert res.exit_code == 0, res.output
    assert "Question 1/10" in res.output and "Passed" in res.output
    # Invalid letters are asked again; all wrong answers fail (exit 1) and are recorded.
    wrong = "Z\n" + _answers(demo, 8, right=False)
    res = cli(demo, "training", "take", "--seed", "8", "--json", input=wrong)
    assert res.exit_code == 1
    rec = json.loads(res.stdout)
    assert rec["passed"] is False and rec["score"] == 0
    # Stdin ends early: nothing recorded, exit 2.
    res = cli(demo, "training", "take", "--seed", "9", input="A\nB\n")
    assert res.exit_code == 2
    records = json.loads(cli(demo, "training", "records", "--person", "chenjing", "--json").output)
    assert [r["passed"] for r in records] == [True, True, False]
    taken = dt.datetime.fromisoformat(records[1]["taken_at"])
    assert dt.datetime.fromisoformat(records[1]["expires_at"]) - taken == dt.timedelta(days=365)


def test_training_counts_only_from_the_moment_it_was_taken(demo: Path) -> None:
    """A record stamped later than a decision (a wrong or injected clock) did not exist
    at that moment: it is neither current then nor a training that lapsed."""
    from handover.governance.people import add_person, list_people
    from handover.governance.training import TrainingRecord, list_records, take_course

    t0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
    rec = TrainingRecord(1, "x", "c", 1, 1.0, True, t0, t0 + dt.timedelta(days=365))
    assert not rec.current(t0 - dt.timedelta(seconds=1))
    assert rec.current(t0) and rec.current(t0 + dt.timedelta(days=364))
    assert not rec.current(t0 + dt.timedelta(days=365))

    ws = _open(demo)
    try:
        now = dt.datetime.now(dt.UTC)
        seller = next(p.org for p in list_people(ws) if p.name == "zhaolei")
        add_person(
            ws,
            "weilin",
            "魏琳",
            seller,
            ["data_engineer"],
            "weilin-test-2027",
            actor="wangmin",
            now=now,
        )
        course = get_course(ws, "pipl-jrt0171")
        right = {
            q.prompt[ws.settings.lang]: q.options[q.answer][ws.settings.lang]
            for q in course.questions
        }
        later = now + dt.timedelta(days=30)
        take_course(
            ws,
            "pipl-jrt0171",
            lambda q: LETTERS[q.options.index(right[q.prompt])],
            person="weilin",
            seed=1,
            now=later,
        )
        assert [r.passed for r in list_records(ws, "weilin")] == [True]
        before = authorize(ws, "weilin", "seal", "C1/masked", now=now + dt.timedelta(days=1))
        assert not before.allowed and before.reason_key == "gov.refuse.training_never"
        after = authorize(ws, "weilin", "seal", "C1/masked", now=later + dt.timedelta(hours=1))
        assert not after.reason_key.startswith("gov.refuse.training"), after.reason_key
    finally:
        ws.close()


# --- vendors ---------------------------------------------------------------------------


def test_vendor_scoring_formula() -> None:
    best = {
        "encryption": "both",
        "access_control": "mfa_least_privilege",
        "incident_response": "plan_tested",
        "certifications": ["iso27001", "mlps3"],
        "sub_processors": "none",
        "data_location": "mainland",
    }
    s = score_answers(best)
    assert (s.score, s.risk, s.decision, s.reassess_days) == (100, "low", "approved", 365)
    mid = dict(
        best,
        access_control="mfa",
        incident_response="plan",
        certifications=["mlps2"],
        sub_processors="disclosed_bound",
    )
    s = score_answers(mid)
    # 20 + 20*0.7 + 15*0.5 + 20*0.25 + 10*0.7 + 15 = 68.5
    assert (s.score, s.risk, s.decision, s.reassess_days) == (68.5, "medium", "conditional", 180)
    s = score_answers(dict(best, data_location="outside"))
    assert (s.score, s.risk, s.decision) == (85, "critical", "rejected")
    s = score_answers(dict(best, encryption="none"))
    assert (s.score, s.risk, s.knockouts) == (80, "high", ("encryption",))
    with pytest.raises(BadInput, match="encryption = 'rot13'"):
        score_answers(dict(best, encryption="rot13"))
    with pytest.raises(BadInput, match="missing answer for 'data_location'"):
        score_answers({k: v for k, v in best.items() if k != "data_location"})


def test_vendor_staff_need_a_passing_assessment(demo: Path, tmp_path: Path) -> None:
    login(demo, "huangtao")
    assert cli(demo, "grants", "check", "migrate", "*").exit_code == 0
    login(demo, "wangmin")
    answers = tmp_path / "answers.json"
    answers.write_text(
        json.dumps(
            {
                "encryption": "in_transit",
                "access_control": "shared_accounts",
                "incident_response": "none",
                "certifications": [],
                "sub_processors": "undisclosed",
                "data_location": "outside",
            }
        ),
        encoding="utf-8",
    )
    assert (
        cli(
            demo, "vendors", "assess", "示例数据迁移服务有限公司", "--answers", str(answers)
        ).exit_code
        == 2
    )  # certifications: [] is not an answer
    answers.write_text(answers.read_text().replace("[]", '["none"]'), encoding="utf-8")
    res = cli(
        demo, "vendors", "assess", "示例数据迁移服务有限公司", "--answers", str(answers), "--json"
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["vendor"]["latest_assessment"]["decision"] == "rejected"
    login(demo, "huangtao")
    res = cli(demo, "--lang", "en", "grants", "check", "migrate", "*")
    assert res.exit_code == 3 and "no passing security assessment" in res.output


# --- grants: clear access needs two distinct approvers --------------------------------


def test_clear_c3_needs_two_distinct_approvers_by_any_command(demo: Path) -> None:
    login(demo, "zhoujie")  # an approver asks for clear C3 access for himself
    res = cli(
        demo,
        "grants",
        "request",
        "--for",
        "zhoujie",
        "--scope",
        "C3",
        "--mode",
        "clear",
        "--purpose",
        "核对",
        "--json",
    )
    assert res.exit_code == 0, res.output
    own = json.loads(res.output)["id"]
    assert cli(demo, "grants", "approve", str(own)).exit_code == 3  # self-approval

    login(demo, "wangmin")  # the maker requests for the data engineer
    res = cli(
        demo,
        "grants",
        "request",
        "--for",
        "zhaolei",
        "--scope",
        "customers.id_no",
        "--mode",
        "clear",
        "--purpose",
        "交接:封装、迁移、校验与销毁 / handover: seal, migrate, verify, shred",
        "--days",
        "10",
        "--json",
    )
    grant = json.loads(res.output)
    gid = str(grant["id"])
    assert grant["approvals_needed"] == 2 and grant["state"] == "pending"
    assert cli(demo, "grants", "approve", gid).exit_code == 3  # requester, and not an approver
    login(demo, "zhaolei")
    assert cli(demo, "grants", "approve", gid).exit_code == 3  # grantee, not an approver
    login(demo, "liuyang")
    assert cli(demo, "grants", "approve", gid).exit_code == 3  # no approver role
    login(demo, "zhoujie")
    res = cli(demo, "grants", "approve", gid, "--json")
    assert res.exit_code == 0 and json.loads(res.output)["state"] == "pending"
    assert cli(demo, "grants", "approve", gid).exit_code == 3  # same approver twice
    ws = _open(demo)
    try:
        # The demo's blanket grant #1 would cover this too: revoke it first.
        revoke_grant(ws, 1, reason="test", actor="wangmin")
        d = authorize(ws, "zhaolei", "seal", "customers.id_no/clear")
        assert not d.allowed and d.reason_key == "gov.refuse.grant_pending"
        assert d.params["have"] == 1 and d.params["need"] == 2
    finally:
        ws.close()
    login(demo, "liqiang")
    res = cli(demo, "grants", "approve", gid, "--json")
    assert res.exit_code == 0 and json.loads(res.output)["state"] == "active"
    assert cli(demo, "grants", "approve", gid).exit_code == 3  # no longer pending
    login(demo, "zhaolei")
    assert cli(demo, "grants", "check", "seal", "customers.id_no/clear").exit_code == 0
    assert cli(demo, "grants", "check", "seal", "customers/clear").exit_code == 3
    ws = _open(demo)
    try:
        refused = entries(ws, action="governance.grant.approve.refused")
        assert len(refused) == 6
    finally:
        ws.close()


def test_forged_approvals_in_the_store_do_not_open_clear_access(demo: Path) -> None:
    ws = _open(demo)
    try:
        g = request_grant(
            ws,
            "zhaolei",
            scope="C3",
            mode="clear",
            purpose="伪造测试",
            valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            actor="zhaolei",
        )
        with ws.store.session() as s:
            row = s.get(GrantRow, g.id)
            assert row is not None
            people = {r.name: r.id for r in s.execute(select(PersonRow.name, PersonRow.id))}
            now = dt.datetime.now(dt.UTC)
            # Self-approval plus one real approver, written straight into the store.
            s.add(
                GrantApprovalRow(
                    grant_id=g.id, approver_id=people["zhaolei"], decision="approve", decided_at=now
                )
            )
            s.add(
                GrantApprovalRow(
                    grant_id=g.id, approver_id=people["zhoujie"], decision="approve", decided_at=now
                )
            )
            row.status, row.approvals_needed = "approved", 1
        revoke_grant(ws, 1, actor="wangmin")
        with pytest.raises(Refused, match=r"#5") as err:
            require(ws, "seal", "C3/clear", actor="zhaolei")
        assert "2" in str(err.value)
    finally:
        ws.close()


# --- enforcement is ledgered -----------------------------------------------------------


def test_request_for_others_needs_a_manager_and_refusals_are_ledgered(demo: Path) -> None:
    """One rule for every adapter (the CLI here, the console in test_web_matrix): anyone
    may ask for themselves, only a manager for somebody else; a refused request or revoke
    is a ledger event as a refused approval is, and changes nothing."""
    args = ("--scope", "C1", "--mode", "masked", "--purpose", "抽查 / spot check")
    login(demo, "zhaolei")  # a data engineer: for himself yes, for a colleague no
    mine = cli(demo, "grants", "request", "--for", "zhaolei", *args, "--json")
    assert mine.exit_code == 0, mine.output
    res = cli(demo, "--lang", "en", "grants", "request", "--for", "chenjing", *args)
    assert res.exit_code == 3
    assert "may request a grant only for themselves" in res.output
    login(demo, "chenjing")  # not the requester, not an approver, not a manager
    gid = str(json.loads(mine.output)["id"])
    assert cli(demo, "grants", "revoke", gid).exit_code == 3
    ws = _open(demo)
    try:
        asked = entries(ws, action="governance.grant.request.refused")
        assert [(e.actor, e.subject, e.details["reason_key"]) for e in asked] == [
            ("zhaolei", "grant for chenjing", "gov.request_for_other")
        ]
        revoked = entries(ws, action="governance.grant.revoke.refused")
        assert [(e.actor, e.subject, e.details["reason_key"]) for e in revoked] == [
            ("chenjing", f"grant {gid}", "gov.revoke_refused")
        ]
        # Nothing was made or changed by the refusals.
        grants = {g.id: g for g in list_grants(ws)}
        assert grants[int(gid)].state == "pending"
        assert not [g for g in grants.values() if g.grantee == "chenjing" and g.scope == ("C1",)]
        # The manager may ask for others (the demo's own grants were made that way).
        g = request_grant(
            ws,
            "chenjing",
            scope="C1",
            mode="masked",
            purpose="抽查",
            valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            actor="wangmin",
        )
        assert g.requested_by == "wangmin" and g.grantee == "chenjing"
    finally:
        ws.close()


def test_every_allow_and_refuse_is_in_the_ledger(demo: Path) -> None:
    login(demo, "chenjing")
    assert cli(demo, "grants", "check", "dd.extract", "C2,C3/masked").exit_code == 0
    assert cli(demo, "grants", "check", "dd.extract", "C2/clear").exit_code == 3
    assert cli(demo, "grants", "check", "seal", "*").exit_code == 3
    assert cli(demo, "grants", "check", "nonsense", "*").exit_code == 2
    assert cli(demo, "grants", "check", "seal", "bad item!").exit_code == 2
    ws = _open(demo)
    try:
        got = [
            (e.action, e.actor, e.details["action"], e.details["resource"], e.details["reason_key"])
            for e in entries(ws, action="access")
            if e.actor == "chenjing"
        ]
    finally:
        ws.close()
    assert got == [
        ("access.allow", "chenjing", "dd.extract", "C2,C3/masked", "gov.allow"),
        ("access.refuse", "chenjing", "dd.extract", "C2/clear", "gov.refuse.no_grant"),
        ("access.refuse", "chenjing", "seal", "*/clear", "gov.refuse.role"),
    ]


def test_demo_workspace_acts_as_the_cast_when_nobody_is_logged_in(demo: Path) -> None:
    ws = _open(demo)
    try:
        for action, resource in (
            ("seal", "*"),
            ("dd.extract", "C1,C2,C3/tokenised"),
            ("verify", "*"),
            ("migrate", "*"),
            ("shred", "*"),
            ("key.manage", "*"),
            ("scan.evidence", "*"),
            ("unseal", "*"),
        ):
            d = require(ws, action, resource)
            assert d.allowed, d.reason
        assert require(ws, "dd.extract", "*/masked").actor == "chenjing"
        with pytest.raises(Refused):
            require(ws, "dd.extract", "*/clear")
    finally:
        ws.close()


# --- status ----------------------------------------------------------------------------


def test_status_lists_expiring_pending_and_refusals(demo: Path) -> None:
    login(demo, "wangmin")
    res = cli(
        demo,
        "grants",
        "request",
        "--for",
        "chenjing",
        "--scope",
        "C1",
        "--mode",
        "masked",
        "--purpose",
        "尽职调查 / due diligence",
        "--days",
        "5",
    )
    assert res.exit_code == 0
    cli(demo, "grants", "check", "seal", "*")  # refused: wrong role
    res = cli(demo, "status", "--json")
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert [p["grant"] for p in st["pending_approvals"]] == [5]
    assert st["refusals_last_7_days"] == 1
    assert st["refusals"][0]["actor"] == "wangmin" and st["refusals"][0]["action"] == "seal"
    assert st["expiring"] == []  # the demo's NDAs, training and grants run longer
    res = cli(demo, "status", "--days", "400", "--json")
    kinds = {e["kind"] for e in json.loads(res.output)["expiring"]}
    assert kinds == {"nda", "training", "vendor", "grant"}
    res = cli(demo, "--lang", "en", "status")
    assert (
        "Grants awaiting approval" in res.output and "Refusals in the last 7 days: 1" in res.output
    )


def test_all_governance_messages_exist_in_both_languages() -> None:
    from handover.i18n import catalog

    keys = [k for k in catalog() if k.startswith("gov.")]
    assert len(keys) > 60
    for k in keys:
        texts = catalog()[k]
        assert texts["zh-CN"] and texts["en"]


@pytest.mark.postgres
def test_governance_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    ws = init_workspace(tmp_path / "pg", demo=True, database_url=pg_url)
    try:
        assert require(ws, "seal", "*").actor == "zhaolei"
        with pytest.raises(Refused):
            require(ws, "seal", "*", actor="chenjing")
    finally:
        ws.close()
    login(tmp_path / "pg", "liuyang")
    assert cli(tmp_path / "pg", "grants", "check", "verify", "*").exit_code == 0
    assert cli(tmp_path / "pg", "grants", "check", "migrate", "*").exit_code == 3
