"""The impact assessment, the risk register and the compliance checklist (docs/pia.md).

- On a real demo run (2,000 customers): the PIA is approved before the first seal, every
  computed checklist item is met, the signed export verifies and fails on one changed
  byte, and the CLI shows it all.
- On a workspace built through the library with an injected clock: the maker-checker
  path, edits and versions, retention, the risk register, and violations planted through
  the normal APIs that the checklist must flag with their ledger entries.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clock import Clock
from handover.cli.main import app
from handover.crypto import sha256_hex
from handover.crypto.signing import verify
from handover.errors import BadInput, Refused
from handover.flows import pia
from handover.flows.demo import run_demo
from handover.flows.workspace import init_workspace, opened
from handover.governance import authorize
from handover.governance.grants import approve_grant, request_grant
from handover.governance.ndas import add_nda, list_ndas, record_breach
from handover.governance.people import add_person
from handover.governance.training import LETTERS, get_course, take_course
from handover.ledger import entries
from handover.pia import store
from handover.pia.checklist import Result
from handover.pia.method import load_method
from handover.workspace import Workspace

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
MANAGER, SIGNER = "wangmin", "liqiang"  # demo cast: DPO of the seller, DPO of the buyer
SELLER_ORG = "示例市诚信小额贷款有限公司"
# Staff of the planted cases work here: no demo NDA (dated by the real clock) binds it.
TEST_ORG = "示例数据服务顾问有限公司"
runner = CliRunner()


def _item(results: list[Result], item: str) -> Result:
    return next(r for r in results if r.item.id == item)


# --- on a real demo run ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pia") / "demo"
    run_demo(path, customers=2000, seed=2026, lang="zh-CN", echo=lambda _line: None)
    return path


def test_demo_approves_the_pia_before_the_first_seal(demo: Path) -> None:
    with opened(demo) as ws:
        log = entries(ws)
        approve = next(e for e in log if e.action == "pia.approve")
        seal = next(e for e in log if e.action == "package.seal")
        assert approve.seq < seal.seq
        assert approve.actor == SIGNER and approve.details["retention"]["basis"]["key"] == "pia"
        report = pia.check(ws, actor=MANAGER)
    res = _item(report.results, "pia_before_transfer")
    assert res.status == "met" and res.evidence == [approve.seq, seal.seq]


def test_demo_meets_every_computed_item(demo: Path) -> None:
    with opened(demo) as ws:
        report = pia.check(ws, actor=MANAGER)
        last = entries(ws)[-1]
    computed = [r for r in report.results if r.item.check != "attestation"]
    assert len(computed) >= 18
    for r in computed:
        assert r.status in ("met", "not_applicable"), (r.item.id, r.to_json("en"))
        assert r.status == "met" or r.item.id in ("cross_border", "incident_duties_met")
    clear = _item(report.results, "clear_reads_covered")
    assert len(clear.evidence) >= 4, "seal, migrate, verify, shred were clear reads"
    # the demo's campaign left 149 SMS undelivered: letters and the announcement after
    # the last receipts cover them
    told = _item(report.results, "individuals_notified")
    assert told.status == "met" and len(told.evidence) == 4
    assert _item(report.results, "incident_plan").status == "met"  # the demo's drill
    attest = [r for r in report.results if r.item.check == "attestation"]
    assert attest and all(r.status == "attested" and r.attested_by for r in attest)
    assert report.score["score"] == 1.0 and report.score["not_met"] == 0
    assert last.action == "compliance.check" and last.seq == report.seq
    assert last.details["not_met"] == {}


def test_attestations_count_with_the_attester_and_computed_items_refuse_them(
    demo: Path,
) -> None:
    with opened(demo) as ws:
        with pytest.raises(BadInput):
            pia.attest(ws, "clear_reads_covered", "trust me", actor=MANAGER)
        with pytest.raises(BadInput):  # computed from the drills now
            pia.attest(ws, "incident_plan", "we have a plan", actor=MANAGER)
        with pytest.raises(BadInput):
            pia.attest(ws, "no_such_item", "x", actor=MANAGER)
        with pytest.raises(Refused):  # a data engineer may not attest
            pia.attest(ws, "lawful_basis", "合同第 3 条", actor="zhaolei")
        seq = pia.attest(ws, "lawful_basis", "股权转让协议第 3 条 / SPA clause 3", actor=SIGNER)
        pia.attest(ws, "sensitive_consent", "不处理敏感信息", applies=False, actor="liuyang")
        report = pia.check(ws, actor="liuyang")
    lawful = _item(report.results, "lawful_basis")
    assert (lawful.status, lawful.attested_by, lawful.evidence) == ("attested", SIGNER, [seq])
    consent = _item(report.results, "sensitive_consent")
    assert (consent.status, consent.attested_by) == ("not_applicable", "liuyang")
    assert report.score["attested"] == 2 and report.score["score"] == 1.0


def test_demo_export_is_signed_and_one_changed_byte_breaks_it(demo: Path) -> None:
    with opened(demo) as ws:
        event = next(e for e in entries(ws) if e.action == "pia.export")
    folder = Path(event.details["folder"])
    body = (folder / "pia.json").read_bytes()
    sig = json.loads((folder / "pia.sig").read_text("utf-8"))
    assert sha256_hex(body) == sig["sha256"] == event.details["sha256"]
    assert event.details["files"]["pia.json"] == sig["sha256"]
    key, value = bytes.fromhex(sig["public_key"]), base64.b64decode(sig["signature"])
    assert verify(key, body, value)
    changed = bytearray(body)
    changed[len(changed) // 2] ^= 0x01
    assert not verify(key, bytes(changed), value)
    doc = json.loads(body)
    assert doc["assessment"]["status"] == "approved"
    assert doc["document"]["data_map"]["totals"]["tables"] == 15
    for lang in ("zh-CN", "en"):
        assert (folder / f"pia.{lang}.pdf").read_bytes().startswith(b"%PDF")
        html = (folder / f"pia.{lang}.html").read_text("utf-8")
        assert sig["signature"] in html and "cust_info" in html
    assert "个人信息保护影响评估报告" in (folder / "pia.zh-CN.html").read_text("utf-8")
    from pypdf import PdfReader

    for lang, title in (("zh-CN", "个人信息保护影响评估报告"), ("en", "impact assessment")):
        reader = PdfReader(folder / f"pia.{lang}.pdf")
        text = "".join(page.extract_text() for page in reader.pages)
        assert title in text and "cust_info" in text and sig["signature"][:20] in text
        fonts = {
            str(f["/BaseFont"]): "/FontFile2" in f["/FontDescriptor"]
            for page in reader.pages
            for f in page["/Resources"]["/Font"].values()
            if "/FontDescriptor" in f
        }
        assert fonts and all(fonts.values()), fonts  # the Chinese font travels in the file
        assert any("R1" in str(o.title) or "5." in str(o.title) for o in reader.outline)


def test_cli_on_the_demo(demo: Path) -> None:
    res = runner.invoke(app, ["-w", str(demo), "--lang", "en", "compliance", "check"])
    assert res.exit_code == 0, res.output  # computed items met, the rest attested
    assert "pia_before_transfer" in res.output and "score" in res.output
    res = runner.invoke(app, ["-w", str(demo), "compliance", "check", "--json"])
    doc = json.loads(res.output)
    assert {i["status"] for i in doc["items"]} <= {"met", "not_met", "attested", "not_applicable"}
    res = runner.invoke(app, ["-w", str(demo), "--lang", "en", "pia", "show", "1"])
    assert res.exit_code == 0, res.output
    assert "R1" in res.output and "versions:" in res.output
    res = runner.invoke(app, ["-w", str(demo), "risks", "list", "--json"])
    codes = [r["code"] for r in json.loads(res.output)]
    assert codes and all(c.startswith("PIA1-R") for c in codes)
    # A risk whose review date passed shows as a warning in `handover status`.
    res = runner.invoke(
        app,
        [
            "-w", str(demo), "risks", "add", "OLD-1", "--title", "旧风险", "--source", "people",
            "--impact", "high", "--likelihood", "low", "--owner", "zhaolei",
            "--review", "2001-01-01",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    res_add = res.output
    res = runner.invoke(app, ["-w", str(demo), "risks", "list", "--overdue", "--json"])
    assert [r["code"] for r in json.loads(res.output)] == ["OLD-1"]
    # statuses and levels in the reader's words, as the console shows them (were the
    # stored codes in a zh-CN listing: [approved], open, medium); --json keeps the codes
    assert res_add.strip() == "OLD-1 中 2001-01-01"
    res = runner.invoke(app, ["-w", str(demo), "risks", "list"])
    assert "未处置" in res.output and " open " not in res.output
    res = runner.invoke(app, ["-w", str(demo), "--lang", "en", "risks", "list"])
    assert " open " in res.output
    res = runner.invoke(app, ["-w", str(demo), "pia", "list"])
    assert "[已批准]" in res.output and "approved" not in res.output
    res = runner.invoke(app, ["-w", str(demo), "--lang", "en", "status"])
    assert "risk OLD-1 is" in res.output and "overdue" in res.output
    # `handover status` also shows the last compliance score and what changed
    assert "last compliance check" in res.output and "scored 100%" in res.output
    res = runner.invoke(app, ["-w", str(demo), "status", "--json"])
    doc = json.loads(res.output)
    assert [r["code"] for r in doc["overdue_risk_reviews"]] == ["OLD-1"]
    assert doc["checklist"]["score"] == 1.0 and doc["checklist"]["not_met"] == []
    # the demo's drill is incident #1: link it to a risk it exercised, and show both
    res = runner.invoke(app, ["-w", str(demo), "risks", "link", "PIA1-R3", "--incident", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", str(demo), "--lang", "en", "risks", "show", "PIA1-R3"])
    assert res.exit_code == 0, res.output
    assert "finding R3 of assessment #1 v3" in res.output and "linked incident #1" in res.output
    res = runner.invoke(app, ["-w", str(demo), "risks", "link", "PIA1-R3", "--incident", "77"])
    assert res.exit_code == 2 and "77" in res.output


# --- on a workspace built through the library, clock injected ------------------------------------


def _oracle(ws: Workspace):  # type: ignore[no-untyped-def]
    course = get_course(ws, "pipl-jrt0171")
    lang = ws.settings.lang
    right = {q.prompt[lang]: q.options[q.answer][lang] for q in course.questions}
    return lambda q: LETTERS[q.options.index(right[q.prompt])]


def _staff(ws: Workspace, name: str, *, trained_at: dt.datetime) -> None:
    """A data engineer bound by an NDA in force around T0, trained at ``trained_at``, with
    a clear grant on everything approved by the two demo approvers."""
    from handover.governance.people import add_org, list_orgs

    if TEST_ORG not in {o.name for o in list_orgs(ws)}:
        add_org(ws, TEST_ORG, "advisor", actor=MANAGER, now=T0)
    add_person(
        ws, name, name, TEST_ORG, ["data_engineer"], "pia-test-password-1", actor=MANAGER, now=T0
    )
    doc = ws.path / f"{name}-nda.txt"
    doc.write_text(f"NDA {name}", encoding="utf-8")
    start = (T0 - dt.timedelta(days=30)).date()
    add_nda(
        ws,
        title=f"NDA {name}",
        parties=[TEST_ORG, SELLER_ORG],
        signatories=[name],
        scope="*",
        signed_on=start,
        effective_on=start,
        expires_on=(T0 + dt.timedelta(days=365)).date(),
        document=doc,
        actor=MANAGER,
        now=T0,
    )
    take_course(ws, "pipl-jrt0171", _oracle(ws), person=name, seed=1, now=trained_at)
    g = request_grant(
        ws,
        name,
        scope="*",
        mode="clear",
        purpose="测试",
        valid_from=T0 - dt.timedelta(days=1),
        valid_until=T0 + dt.timedelta(days=90),
        actor=MANAGER,
        now=T0 - dt.timedelta(days=1),
    )
    for approver in ("zhoujie", SIGNER):
        approve_grant(ws, g.id, actor=approver, now=T0 - dt.timedelta(days=1))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace with a scanned 150-customer seller database, built once."""
    from handover.flows.scan import run_scan
    from handover.synth import synthesize

    root = tmp_path_factory.mktemp("pia-lib")
    ws = init_workspace(root / "ws", demo=True)
    try:
        synthesize(str(root / "seller.db"), customers=150, seed=5)
        run_scan(ws, root / "seller.db", out_dir=root / "scan")
    finally:
        ws.close()
    return root


@pytest.fixture
def lib(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh copy of the template workspace (store, keys, ledger) for one test."""
    import shutil

    from handover.workspace import open_workspace

    shutil.copytree(template / "ws", tmp_path / "ws")
    ws = open_workspace(tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()


def _ready(ws: Workspace, tmp_path: Path) -> int:
    """A new assessment with a signatory, a DPO opinion, submitted by the seller's DPO."""
    a = pia.new_assessment(ws, actor=MANAGER, now=T0)
    edits = tmp_path / "edits.toml"
    edits.write_text(f'signatory = "{SIGNER}"\n', encoding="utf-8")
    pia.edit(ws, a.id, edits, actor=MANAGER, now=T0)
    pia.opinion(ws, a.id, "同意 / agreed", actor=MANAGER, now=T0)
    return a.id


def test_draft_is_prefilled_from_inventory_transfer_and_ledger(lib: Workspace) -> None:
    a = pia.new_assessment(lib, actor=MANAGER, now=T0)
    doc = a.document
    dm = doc["data_map"]
    assert dm["totals"]["tables"] == 15 and dm["totals"]["has_c3"]
    cust = next(t for t in dm["tables"] if t["name"] == "cust_info")
    assert cust["rows"] == 150 and cust["identifies_people"]
    assert {
        "column": "zjhm",
        "type": "cn_resident_id",
        "tier": "C2",
        "level": 3,
        "sensitive": True,
    } in cust["pii"]
    assert doc["processing"]["buyer"]["name"] == "示例普惠金融控股有限公司"
    assert doc["processing"]["closing"] == "2027-01-15"
    assert doc["necessity"]["required"] and doc["necessity"]["triggers"]["sensitive"]["applies"]
    method = load_method()
    for r in doc["risks"]:
        assert r["level"] == method.level(r["impact"], r["likelihood"]) and r["prefilled"]
    leak = next(r for r in doc["risks"] if r["id"] == "R1")
    assert leak["impact"] == "severe", "C3 data in scope makes a leak severe"
    measures = {m["id"]: m for m in doc["measures"]}
    assert measures["M2"]["status"] == "done" and measures["M2"]["evidence"]
    assert measures["M1"]["status"] == "planned" and measures["M1"]["due"] == "2027-01-15"
    created = [e for e in entries(lib) if e.action == "pia.create"]
    assert [(e.actor, e.details["sha256"]) for e in created] == [(MANAGER, a.sha256)]


def test_maker_checker_versions_and_retention(lib: Workspace, tmp_path: Path) -> None:
    a = pia.new_assessment(lib, actor=MANAGER, now=T0)
    with pytest.raises(Refused) as gaps:
        pia.submit(lib, a.id, actor=MANAGER, now=T0)
    assert "signatory" in gaps.value.render("en")
    refused = [e for e in entries(lib) if e.action == "pia.submit.refused"]
    assert refused[-1].details["reason_key"] == "pia.refuse.gaps"
    with pytest.raises(Refused):  # a data engineer may not write the assessment
        pia.new_assessment(lib, actor="zhaolei", now=T0)
    with pytest.raises(Refused):  # the opinion is the DPO's: an approver without dpo
        pia.opinion(lib, a.id, "ok", actor="zhoujie", now=T0)

    aid = _ready(lib, tmp_path)
    pia.submit(lib, aid, actor=MANAGER, now=T0)
    with pytest.raises(Refused) as not_signatory:
        pia.approve(lib, aid, actor=MANAGER, now=T0)
    assert not_signatory.value.render("en").startswith("wangmin is not the named signatory")
    with pytest.raises(Refused):
        pia.reject(lib, aid, "  ", actor=SIGNER, now=T0)
    rejected = pia.reject(lib, aid, "风险 R5 的措施不足 / R5 under-treated", actor=SIGNER, now=T0)
    assert rejected.status == "rejected"

    # The signatory edits the next version himself. His edit drops the DPO's opinion (it
    # spoke to the content before), so the maker cannot submit until it is given again.
    edits = tmp_path / "r5.toml"
    edits.write_text('[risks.R5]\nlikelihood = "low"\nowner = "zhaolei"\n', encoding="utf-8")
    v = pia.edit(lib, aid, edits, actor=SIGNER, now=T0)
    assert v.status == "draft" and v.document["risks"][4]["prefilled"] is False
    assert v.document["dpo_opinion"] is None
    with pytest.raises(Refused) as stale:
        pia.submit(lib, aid, actor=MANAGER, now=T0)
    assert "opinion is missing" in stale.value.render("en")
    pia.opinion(lib, aid, "同意第 5 版 / agreed", actor=MANAGER, now=T0)
    pia.submit(lib, aid, actor=MANAGER, now=T0)
    # He wrote v4 since the last decision: an opinion and a submission by someone else
    # after it do not make him a checker of his own work.
    with pytest.raises(Refused) as own:
        pia.approve(lib, aid, actor=SIGNER, now=T0)
    assert own.value.render("en") == (
        "liqiang wrote v4 of impact assessment 2 since its last approval or rejection and "
        "cannot decide on it (maker-checker)"
    )
    assert "自上次批准或退回以来撰写了影响评估 2 的 v4" in own.value.render("zh-CN")
    refused = entries(lib, action="pia.approve.refused")[-1]
    assert (refused.actor, refused.details["reason_key"]) == (SIGNER, "pia.refuse.author")
    # So the maker names another signatory (v6), the DPO gives the opinion on it (v7).
    edits.write_text('signatory = "zhoujie"\n', encoding="utf-8")
    pia.edit(lib, aid, edits, actor=MANAGER, now=T0)
    pia.opinion(lib, aid, "同意第 7 版 / agreed", actor=MANAGER, now=T0)
    pia.submit(lib, aid, actor=MANAGER, now=T0)
    approved = pia.approve(lib, aid, actor="zhoujie", now=T0 + dt.timedelta(hours=2))
    assert approved.status == "approved" and approved.approved_version == approved.version == 7
    assert approved.retain_until == dt.date(2030, 3, 1)  # PIPL Art. 56: at least 3 years
    event = [e for e in entries(lib) if e.action == "pia.approve"][-1]
    assert event.actor == "zhoujie" and event.details["retain_until"] == "2030-03-01"
    assert [d.decision for d in approved.decisions] == [
        "submit", "reject", "submit", "submit", "approve",
    ]  # fmt: skip
    from handover.pia.store import versions

    kept = versions(lib, aid)
    assert [k["version"] for k in kept] == list(range(1, 8))
    assert len({k["sha256"] for k in kept}) == 7
    risks = pia.risks(lib, now=T0)
    assert len(risks) == 7 and {r.finding for r in risks} == {f"R{i}" for i in range(1, 8)}
    # Every kept version can be exported with the state it ended in; never over a folder.
    old = pia.export(lib, aid, version=3, actor=MANAGER, now=T0)
    doc = json.loads((old.folder / "pia.json").read_bytes())
    assert doc["assessment"]["status"] == "rejected" and doc["document"]["version"] == 3
    assert [d["decision"] for d in doc["assessment"]["decisions"]] == ["submit", "reject"]
    with pytest.raises(BadInput):
        pia.export(lib, aid, version=3, actor=MANAGER, now=T0)


def _submitted_by_the_old_release(ws: Workspace, aid: int, doc_change: Any) -> None:
    """A version as an earlier handover kept it, submitted by it: ``doc_change`` alters
    the current document, which is stored as the next version and marked submitted the
    way ``store.submit`` did (the assessment's row: status, version, who)."""
    from handover.pia.models import PiaAssessmentRow, PiaDecisionRow
    from handover.pia.store import add_version, get

    doc = {k: v for k, v in get(ws, aid).document.items() if k not in ("assessment_id", "version")}
    doc_change(doc)
    a = add_version(ws, aid, doc, actor=MANAGER, now=T0, note="DPO opinion")
    with ws.store.session() as s:
        row = s.get(PiaAssessmentRow, aid)
        assert row is not None
        row.status, row.submitted_version, row.submitted_by = "submitted", a.version, MANAGER
        s.add(PiaDecisionRow(assessment_id=aid, version=a.version, actor=MANAGER,
                             decision="submit", reason="", decided_at=T0))  # fmt: skip


def test_the_creator_or_an_author_since_the_last_decision_cannot_approve(
    lib: Workspace, tmp_path: Path
) -> None:
    # The signatory writes the assessment, names himself, lowers R1; the DPO gives the
    # opinion and submits: the signatory still may not approve his own work.
    a = pia.new_assessment(lib, actor=SIGNER, now=T0)
    edits = tmp_path / "own.toml"
    edits.write_text(
        f'signatory = "{SIGNER}"\nconclusion = "可接受"\n[risks.R1]\nlikelihood = "very_low"\n',
        encoding="utf-8",
    )
    pia.edit(lib, a.id, edits, actor=SIGNER, now=T0)
    pia.opinion(lib, a.id, "同意", actor=MANAGER, now=T0)
    pia.submit(lib, a.id, actor=MANAGER, now=T0)
    for decide in (pia.approve, lambda *a, **k: pia.reject(*a, "不同意", **k)):
        with pytest.raises(Refused) as own:
            decide(lib, a.id, actor=SIGNER, now=T0)
        assert own.value.render("en") == (
            "liqiang created impact assessment 1 and cannot decide on it (maker-checker)"
        )
    from handover.pia.store import get

    assert get(lib, a.id).status == "submitted" and pia.risks(lib, now=T0) == []
    assert not [e for e in entries(lib) if e.action in ("pia.approve", "risk.sync")]
    assert [e.details["reason_key"] for e in entries(lib, action="pia.approve.refused")] == [
        "pia.refuse.creator"
    ]

    # What someone wrote before the last decision does not make them a maker of what
    # came after it: liqiang wrote v2 of assessment 2, zhoujie rejected v3, wangmin wrote
    # v4 and v5 naming liqiang: liqiang may approve.
    b = pia.new_assessment(lib, actor=MANAGER, now=T0)
    edits.write_text('signatory = "zhoujie"\n', encoding="utf-8")
    pia.edit(lib, b.id, edits, actor=SIGNER, now=T0)
    pia.opinion(lib, b.id, "同意", actor=MANAGER, now=T0)
    pia.submit(lib, b.id, actor=MANAGER, now=T0)
    pia.reject(lib, b.id, "签署人应为买方 / the buyer signs", actor="zhoujie", now=T0)
    edits.write_text(f'signatory = "{SIGNER}"\n', encoding="utf-8")
    pia.edit(lib, b.id, edits, actor=MANAGER, now=T0)
    pia.opinion(lib, b.id, "同意", actor=MANAGER, now=T0)
    pia.submit(lib, b.id, actor=MANAGER, now=T0)
    done = pia.approve(lib, b.id, actor=SIGNER, now=T0)
    assert (done.status, done.approved_version) == ("approved", 5)


def test_an_opinion_counts_only_for_the_content_it_was_given_on(
    lib: Workspace, tmp_path: Path
) -> None:
    aid = _ready(lib, tmp_path)  # v3: the opinion on v2's content
    from handover.pia.assessment import gaps
    from handover.pia.store import get

    given = get(lib, aid).document["dpo_opinion"]
    assert (given["version"], given["by"]) == (3, MANAGER) and not gaps(get(lib, aid).document)
    # An edit that changes nothing keeps it; one that changes the content drops it.
    same = tmp_path / "same.toml"
    same.write_text(f'signatory = "{SIGNER}"\n', encoding="utf-8")
    assert pia.edit(lib, aid, same, actor=MANAGER, now=T0).document["dpo_opinion"] == given
    lower = tmp_path / "lower.toml"
    lower.write_text(
        'conclusion = "无需加密"\n[risks.R1]\nimpact = "low"\nlikelihood = "very_low"\n'
        'treatment = "accept"\n[necessity]\nsensitive = false\n',
        encoding="utf-8",
    )
    v5 = pia.edit(lib, aid, lower, actor=MANAGER, now=T0 + dt.timedelta(days=1))
    assert v5.document["dpo_opinion"] is None
    assert get(lib, aid, 3).document["dpo_opinion"] == given  # kept with its version
    with pytest.raises(Refused) as missing:
        pia.submit(lib, aid, actor=MANAGER, now=T0 + dt.timedelta(days=1))
    assert missing.value.render("zh-CN").endswith("首项:缺少个人信息保护负责人意见")
    opined = pia.opinion(lib, aid, "同意:R1 可接受", actor=MANAGER, now=T0 + dt.timedelta(days=1))
    assert opined.document["dpo_opinion"]["version"] == 6
    pia.submit(lib, aid, actor=MANAGER, now=T0 + dt.timedelta(days=1))
    assert pia.approve(lib, aid, actor=SIGNER, now=T0 + dt.timedelta(days=1)).approved_version == 6

    # An opinion an earlier release carried forward onto changed content (no binding) is
    # a gap: submitting is refused, and a version submitted that way is not approved.
    def stale(doc: dict[str, Any]) -> None:
        doc["risks"][0]["impact"] = "medium"
        doc["dpo_opinion"] = {"by": MANAGER, "at": T0.isoformat(), "text": "R1 严重,须加密"}

    b = _ready(lib, tmp_path)
    from handover.pia.store import add_version

    doc = {k: v for k, v in get(lib, b).document.items() if k not in ("assessment_id", "version")}
    stale(doc)
    add_version(lib, b, doc, actor=MANAGER, now=T0, note="edit old.toml")
    with pytest.raises(Refused) as old:
        pia.submit(lib, b, actor=MANAGER, now=T0)
    assert "the DPO's opinion was given on version -" in old.value.render("en")
    _submitted_by_the_old_release(lib, b, stale)
    with pytest.raises(Refused) as unapproved:
        pia.approve(lib, b, actor=SIGNER, now=T0)
    assert unapproved.value.render("en").startswith(
        f"version 5 of impact assessment {b} has 1 gap(s) and cannot be approved"
    )
    assert get(lib, b).status == "submitted"
    assert entries(lib, action="pia.approve.refused")[-1].details["reason_key"] == (
        "pia.refuse.approve_gaps"
    )


def test_a_review_date_with_a_time_is_refused_before_anything_is_written(
    lib: Workspace, tmp_path: Path
) -> None:
    from handover.pia.store import get

    aid = _ready(lib, tmp_path)
    size = len(entries(lib))
    for name, text, field in (
        ("r.toml", "[risks.R1]\nreview_on = 2027-06-01T09:00:00\n", "risks.R1.review_on"),
        ("m.toml", "[measures.M1]\ndue = 2027-06-01T09:00:00+08:00\n", "measures.M1.due"),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(BadInput) as info:
            pia.edit(lib, aid, path, actor=MANAGER, now=T0)
        assert info.value.render("en") == (
            f"{path}: field {field} is not valid: a date YYYY-MM-DD without a time of day; "
            "nothing was changed"
        )
        assert f"字段 {field} 无效:须为日期 YYYY-MM-DD,不能带时间" in info.value.render("zh-CN")
    res = runner.invoke(app, ["-w", str(lib.path), "pia", "edit", str(aid), str(path)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "字段 measures.M1.due 无效" in res.output
    assert get(lib, aid).version == 3 and len(entries(lib)) == size

    # A version kept by an earlier release with the time in it, and submitted: approving
    # names the field and writes nothing (no approval, no governance decision, no risk).
    def with_time(doc: dict[str, Any]) -> None:
        doc["risks"][0]["review_on"] = "2027-06-01T09:00:00"

    _submitted_by_the_old_release(lib, aid, with_time)  # v4
    size = len(entries(lib))
    with pytest.raises(BadInput) as bad:
        pia.approve(lib, aid, actor=SIGNER, now=T0)
    assert bad.value.render("en").startswith(
        f"impact assessment {aid} version 4: field risks.R1.review_on is not valid"
    )
    assert len(entries(lib)) == size and get(lib, aid).status == "submitted"
    assert pia.risks(lib, now=T0) == []
    res = runner.invoke(app, ["-w", str(lib.path), "pia", "approve", str(aid)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "字段 risks.R1.review_on 无效" in res.output


def test_bad_edits_name_the_field_and_change_nothing(lib: Workspace, tmp_path: Path) -> None:
    a = pia.new_assessment(lib, actor=MANAGER, now=T0)
    cases = {
        "a.toml": ('[risks.R1]\nimpact = "catastrophic"\n', "risks.R1.impact"),
        "b.toml": ('[measures.M1]\ndue = "soon"\n', "measures.M1.due"),
        "c.toml": ('colour = "red"\n', "colour"),
        "d.toml": ('signatory = "nobody"\n', "signatory"),
        "e.json": ("{not json", "e.json"),
        "f.toml": ("[risks.R1]\nreview_on = 2027-06-01T09:00:00\n", "risks.R1.review_on"),
        # a list or a table where a name is wanted (was TypeError: unhashable, exit 70)
        "g.toml": ('[risks.R1]\nsource = ["network"]\n', "risks.R1.source"),
        "h.toml": ('[risks.R1]\nrights = [["property"]]\n', "risks.R1.rights"),
        "i.toml": ("[risks.R1]\nmeasures = [{a=1}]\n", "risks.R1.measures"),
        "j.toml": ("[risks.R1]\nimpact = {a=1}\n", "risks.R1.impact"),
        "k.toml": ('[risks.R1]\ntreatment = ["avoid"]\n', "risks.R1.treatment"),
        "l.toml": ("[measures.M1]\nstatus = [1]\n", "measures.M1.status"),
        "m.json": ('{"processing": {"subjects": 100000000000000000000000000}}', "subjects"),
    }
    size = len(entries(lib))  # nothing is written, not even a governance decision
    for name, (text, field) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(BadInput) as info:
            pia.edit(lib, a.id, path, actor=MANAGER, now=T0)
        assert field in info.value.render("en"), name
    from handover.pia.store import get

    assert get(lib, a.id).version == 1 and len(entries(lib)) == size


def test_edit_errors_speak_the_readers_language(lib: Workspace, tmp_path: Path) -> None:
    a = pia.new_assessment(lib, actor=MANAGER, now=T0)
    cases: list[tuple[dict[str, Any], str, str, str]] = [
        ({"risks": {"R9": {"impact": "high"}}}, "risks.R9.title",
         "新增风险必须有标题(title)", "a new risk needs a title"),
        ({"measures": {"M99": {"owner": "wangmin"}}}, "measures.M99.title",
         "新增措施必须有标题(title)", "a new measure needs a title"),
        ({"risks": {"R1": {"treatment": "ignore"}}}, "risks.R1.treatment",
         "须为以下之一:reduce, accept, avoid, transfer", "one of reduce, accept, avoid, transfer"),
        ({"risks": {"R1": {"colour": "red"}}}, "risks.R1.colour",
         "未知字段;允许的字段:impact, likelihood, source, rights, measures, owner, review_on, "
         "treatment, title",
         "unknown field; allowed: impact, likelihood, source, rights, measures, owner, "
         "review_on, treatment, title"),
        ({"risks": {"R 9": {"title": "x"}}}, "risks.R 9",
         "新编号最多 20 个字符,只能含字母、数字、“.”“_”“-”,并以字母或数字开头",
         "a new id: at most 20 letters, digits, '.', '_' or '-', starting with a letter or digit"),
        ({"processing": {"subjects": -1}}, "processing.subjects",
         "须为 0 至 2^53−1 之间的整数", "a whole number from 0 to 2^53-1"),
        ({"necessity": {"sensitive": "yes"}}, "necessity.sensitive",
         "须为 true 或 false", "true or false"),
        ({"team": []}, "team",
         "须为非空的人员列表,每人含 name 和 role",
         "a non-empty list of people, each with name and role"),
        ({"title": "长" * 301}, "title",
         "须为不超过 300 个字符的文本", "text of at most 300 characters"),
        ({"colour": "red"}, "colour",
         "未知部分;允许的部分:conclusion, measures, necessity, processing, risks, signatory, "
         "team, title",
         "unknown section; allowed: conclusion, measures, necessity, processing, risks, "
         "signatory, team, title"),
    ]  # fmt: skip
    for edits, field, zh, en in cases:
        with pytest.raises(BadInput) as info:
            pia.edit_values(lib, a.id, edits, where="console", actor=MANAGER, now=T0)
        assert info.value.render("zh-CN") == f"控制台:字段 {field} 无效:{zh};未做任何更改"
        assert info.value.render("en") == (
            f"console: field {field} is not valid: {en}; nothing was changed"
        )
    bad = tmp_path / "list.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(BadInput) as info:
        pia.edit(lib, a.id, bad, actor=MANAGER, now=T0)
    assert info.value.render("zh-CN") == f"{bad}:无法读取修改内容:顶层必须是由各部分组成的表"

    # The CLI in the workspace's language (zh-CN) and in the one asked for.
    path = tmp_path / "r9.toml"
    path.write_text('[risks.R9]\nimpact = "high"\n', encoding="utf-8")
    res = runner.invoke(app, ["-w", str(lib.path), "pia", "edit", str(a.id), str(path)])
    assert res.exit_code == 2 and "字段 risks.R9.title 无效:新增风险必须有标题(title)" in res.output
    assert "a new risk needs a title" not in res.output
    res = runner.invoke(
        app, ["-w", str(lib.path), "--lang", "en", "pia", "edit", str(a.id), str(path)]
    )
    assert res.exit_code == 2 and "field risks.R9.title is not valid: a new risk" in res.output

    # The console in the reader's language: zh-CN, then English after the switch.
    from starlette.testclient import TestClient

    from handover.web.app import create_app
    from web_support import TestClock, error_line, login

    with TestClient(create_app(lib.path, clock=TestClock(T0)), follow_redirects=False) as c:
        token = login(c, MANAGER)
        form = {"risk": "R9", "impact": "high", "csrf_token": token}
        r = c.post(f"/pia/{a.id}/risks", data=form)
        assert r.status_code == 400
        assert error_line(r.text) == (
            "控制台:字段 risks.R9.title 无效:新增风险必须有标题(title);未做任何更改"
        )
        assert c.get("/lang/en", params={"next": f"/pia/{a.id}"}).status_code == 303
        r = c.post(f"/pia/{a.id}/risks", data=form)
        assert r.status_code == 400 and error_line(r.text) == (
            "console: field risks.R9.title is not valid: a new risk needs a title; "
            "nothing was changed"
        )
    from handover.pia.store import get

    assert get(lib, a.id).version == 1 and not entries(lib, action="pia.edit")


def test_risk_register_reviews_and_overdue_warnings(lib: Workspace) -> None:
    r = pia.add_risk(
        lib,
        code="R-9",
        title="备份介质丢失 / lost backup medium",
        source="network",
        impact="severe",
        likelihood="low",
        owner="zhaolei",
        review_on=(T0 + dt.timedelta(days=30)).date(),
        controls=["M1"],
        actor=MANAGER,
        now=T0,
    )
    assert r.level == "high" and not r.overdue
    later = T0 + dt.timedelta(days=45)
    assert [x.code for x in pia.risks(lib, overdue=True, now=later)] == ["R-9"]
    assert pia.status(lib, now=later).overdue[0].overdue_days == 15
    with pytest.raises(BadInput):
        pia.review_risk(lib, "R-9", next_review=later.date(), actor=MANAGER, now=later)
    after = pia.review_risk(
        lib,
        "R-9",
        next_review=(later + dt.timedelta(days=90)).date(),
        likelihood="very_low",
        actor=MANAGER,
        now=later,
    )
    assert after.level == "medium" and not pia.risks(lib, overdue=True, now=later)
    review = [e for e in entries(lib) if e.action == "risk.review"][-1]
    assert (
        review.details["before"]["overdue_days"] == 15
        and review.details["after"]["level"] == "medium"
    )
    with pytest.raises(BadInput):
        pia.add_risk(
            lib, code="R-9", title="dup", source="network", impact="low", likelihood="low",
            owner="zhaolei", review_on=T0.date(), controls=[], actor=MANAGER, now=T0,
        )  # fmt: skip


def test_risks_link_to_their_finding_and_to_incidents(lib: Workspace, tmp_path: Path) -> None:
    from handover.flows import incidents

    aid = _ready(lib, tmp_path)
    pia.submit(lib, aid, actor=MANAGER, now=T0)
    pia.approve(lib, aid, actor=SIGNER, now=T0)
    with pytest.raises(BadInput, match="has no risk R99"):
        pia.add_risk(
            lib, code="X-1", title="x", source="people", impact="low", likelihood="low",
            owner="zhaolei", review_on=T0.date(), controls=[], assessment_id=aid,
            finding="R99", actor=MANAGER, now=T0,
        )  # fmt: skip
    with pytest.raises(BadInput, match="needs --pia"):
        pia.add_risk(
            lib, code="X-1", title="x", source="people", impact="low", likelihood="low",
            owner="zhaolei", review_on=T0.date(), controls=[], finding="R1",
            actor=MANAGER, now=T0,
        )  # fmt: skip
    code = f"PIA{aid}-R1"
    detail = pia.risk_detail(lib, code, now=T0)
    assert detail.assessment is not None
    assert (detail.assessment["id"], detail.assessment["status"]) == (aid, "approved")
    assert detail.finding is not None and detail.finding["id"] == "R1"
    assert detail.finding["level"] == detail.risk.level
    clock = Clock(T0)
    ev = incidents.report_event(
        lib,
        "封装包拷贝遗失",
        noticed_at=T0 - dt.timedelta(hours=1),
        data=["cust_info"],
        clock=clock,
    )
    inc = incidents.promote(lib, ev.id, reason="确认", clock=clock).incident
    size = len(entries(lib))
    with pytest.raises(BadInput):  # no such incident: nothing recorded
        pia.link_incident(lib, code, 999, actor=MANAGER, now=T0)
    assert len(entries(lib)) == size
    linked = pia.link_incident(lib, code, inc.id, actor=MANAGER, now=T0)
    again = pia.link_incident(lib, code, inc.id, actor=MANAGER, now=T0)
    assert linked.incident_ids == again.incident_ids == (inc.id,)
    links = entries(lib, action="risk.link")
    assert [(e.subject, e.details["incident"]) for e in links] == [(f"risk {code}", inc.id)]
    shown = pia.risk_detail(lib, code, now=T0).to_json()
    assert [(i["id"], i["drill"]) for i in shown["incidents"]] == [(inc.id, False)]
    assert shown["pia_finding"]["id"] == "R1"
    with pytest.raises(Refused):  # a data engineer does not keep the register
        pia.link_incident(lib, code, inc.id, unlink=True, actor="zhaolei", now=T0)
    assert (
        pia.link_incident(lib, code, inc.id, unlink=True, actor=MANAGER, now=T0).incident_ids == ()
    )
    assert entries(lib)[-1].action == "risk.unlink"


def test_checklist_flags_a_read_under_an_nda_breached_before_it(lib: Workspace) -> None:
    _staff(lib, "pia-eng", trained_at=T0 - dt.timedelta(days=10))
    read = authorize(lib, "pia-eng", "seal", "*/clear", now=T0)
    assert read.allowed
    seq = [e for e in entries(lib) if e.action == "access.allow" and e.actor == "pia-eng"][-1].seq
    before = pia.check(lib, actor=MANAGER, now=T0 + dt.timedelta(days=1))
    clear = _item(before.results, "clear_reads_covered")
    assert clear.status == "met" and seq in clear.evidence
    # Found out later: pia-eng had breached the NDA five days before the read.
    nda = next(n for n in list_ndas(lib, now=T0) if n.title == "NDA pia-eng")
    record_breach(
        lib,
        nda.id,
        "pia-eng",
        description="把客户名单发给了外部人员 / sent the customer list outside",
        follow_up="终止访问 / access ended",
        occurred_on=(T0 - dt.timedelta(days=5)).date(),
        actor=MANAGER,
        now=T0 + dt.timedelta(days=2),
    )
    after = pia.check(lib, actor=MANAGER, now=T0 + dt.timedelta(days=2))
    clear = _item(after.results, "clear_reads_covered")
    assert clear.status == "not_met"
    assert [(c["seq"], c["actor"], c["what"].key) for c in clear.counter] == [
        (seq, "pia-eng", "pia.check.ex.no_nda")
    ]
    assert after.to_json("en")["items"][2]["counter_examples"][0]["what"].startswith(
        "pia-eng had no NDA in force"
    )
    event = entries(lib)[-1]
    assert event.action == "compliance.check"
    assert event.details["not_met"]["clear_reads_covered"] == [seq]
    trend = pia.status(lib, now=T0 + dt.timedelta(days=2)).checklist
    assert trend is not None and trend["seq"] == event.seq
    assert trend["newly_not_met"] == ["clear_reads_covered"] and trend["resolved"] == []


def test_checklist_flags_a_read_before_the_training_was_taken(lib: Workspace) -> None:
    # Governance refuses a read before the training was taken (the record does not exist
    # yet at that moment); an allow recorded anyway is a counter-example of the checklist.
    from handover.ledger import record

    _staff(lib, "pia-late", trained_at=T0 + dt.timedelta(days=10))
    refused = authorize(lib, "pia-late", "migrate", "*/clear", now=T0)
    assert not refused.allowed and refused.reason_key == "gov.refuse.training_never"
    planted = record(
        lib,
        "pia-late",
        "access.allow",
        "migrate */clear",
        "access control",
        {"action": "migrate", "resource": "*/clear", "at": T0.isoformat(), "allowed": True},
    )
    res = _item(
        pia.check(lib, actor=MANAGER, now=T0 + dt.timedelta(days=20)).results, "clear_reads_covered"
    )
    assert res.status == "not_met"
    assert [(c["seq"], c["what"].key) for c in res.counter] == [
        (planted.seq, "pia.check.ex.no_training")
    ]


def test_checklist_evaluates_incident_duties_and_drills(lib: Workspace) -> None:
    from handover.flows import incidents

    clock = Clock(T0)
    first = pia.check(lib, actor=MANAGER, now=T0)
    plan = _item(first.results, "incident_plan")
    assert plan.status == "not_met" and plan.counter[0]["what"].key == "pia.check.ex.no_drill"
    assert _item(first.results, "incident_duties_met").status == "not_applicable"
    # A real incident: the provincial CAC must have the initial report within 4 hours.
    ev = incidents.report_event(
        lib,
        "客户信息外泄",
        noticed_at=T0 - dt.timedelta(minutes=20),
        data=["cust_info"],
        clock=clock,
    )
    inc = incidents.promote(
        lib,
        ev.id,
        reason="确认外泄",
        grade="significant",
        grade_reason="较大量公民个人信息被窃取(分级指南三、2)",
        clock=clock,
    ).incident
    promoted = entries(lib, action="incident.promote")[-1]
    clock.advance(hours=5)
    late = _item(pia.check(lib, actor=MANAGER, now=clock()).results, "incident_duties_met")
    assert late.status == "not_met"
    overdue = {c["what"].values["rule"] for c in late.counter}
    assert "cac.initial.ordinary" in overdue
    assert {c["seq"] for c in late.counter} == {promoted.seq}
    assert all(c["what"].key == "pia.check.ex.duty_overdue" for c in late.counter)
    rep = incidents.file_report(lib, inc.id, "initial", clock=clock)
    filed = entries(lib, action="incident.report.file")[-1]
    after = _item(pia.check(lib, actor=MANAGER, now=clock()).results, "incident_duties_met")
    by_rule = {c["what"].values["rule"]: c for c in after.counter}
    assert by_rule["cac.initial.ordinary"]["what"].key == "pia.check.ex.duty_late"
    assert by_rule["cac.initial.ordinary"]["seq"] == filed.seq
    assert filed.seq in after.evidence and rep.folder
    # A drill finished: the plan is met, until the drill interval (180 days) has passed.
    drill = incidents.schedule(lib, "lost_laptop", at=clock(), participants=[MANAGER], clock=clock)
    incidents.start(lib, drill.id, clock=clock)
    clock.advance(hours=1)
    incidents.finish(lib, drill.id, lessons="预案联系人需更新", clock=clock)
    fin = entries(lib, action="incident.drill.finish")[-1]
    now_met = _item(pia.check(lib, actor=MANAGER, now=clock()).results, "incident_plan")
    assert now_met.status == "met" and now_met.evidence == [fin.seq]
    # a new assessment finds the plan measure done, with the drill as its evidence
    draft = pia.new_assessment(lib, actor=MANAGER, now=clock())
    m10 = next(m for m in draft.document["measures"] if m["id"] == "M10")
    assert (m10["status"], m10["evidence"]) == ("done", [fin.seq])
    stale = _item(
        pia.check(lib, actor=MANAGER, now=clock() + dt.timedelta(days=181)).results,
        "incident_plan",
    )
    assert stale.status == "not_met" and stale.counter[0]["seq"] == fin.seq
    # the drill's own duties are never counted as a real incident's
    duties = _item(pia.check(lib, actor=MANAGER, now=clock()).results, "incident_duties_met")
    assert {c["what"].values["rule"] for c in duties.counter} == set(by_rule)


def test_checklist_evaluates_notice_campaigns_from_the_ledger(lib: Workspace) -> None:
    """Events shaped as the notices flow records them (docs/notices.md): a transfer with no
    campaign, a notice without the recipient's contact, undelivered notices with and
    without a later announcement, receipts arriving after it."""
    from handover.ledger import record
    from handover.pia.checklist import EMPTY_SHA256

    def check() -> tuple[Result, Result]:
        rs = pia.check(lib, actor=MANAGER, now=T0).results
        return _item(rs, "notice_content"), _item(rs, "individuals_notified")

    content, told = check()
    assert content.status == told.status == "not_applicable"
    moved = record(lib, "zhaolei", "migrate.start", "seller.db → buyer.db", "test", {})
    content, told = check()
    assert told.status == "not_met" and told.counter[0]["seq"] == moved.seq
    assert told.counter[0]["what"].key == "pia.check.ex.no_campaign"
    subject = "campaign 7"
    digest = "ab" * 32
    create = record(
        lib, MANAGER, "notices.campaign.create", subject, "notices",
        {"kind": "notice", "content_sha256": {"buyer_name": digest, "buyer_contact": EMPTY_SHA256}},
    )  # fmt: skip
    record(
        lib, MANAGER, "notices.campaign.queue", subject, "notices",
        {"recipients": 500, "unreachable": 2, "reconciles": True},
    )  # fmt: skip
    send = record(
        lib, MANAGER, "notices.campaign.send", subject, "notices",
        {"pending": 0, "outbox": {"sms": {"delivered": 480, "undelivered": 18}}},
    )  # fmt: skip
    content, told = check()
    assert content.status == "not_met" and content.counter[0]["seq"] == create.seq
    assert content.counter[0]["what"].values["missing"] == "buyer_contact"
    assert told.status == "not_met"
    missing = told.counter[0]["what"]
    assert (missing.key, missing.values["missed"], missing.values["unreachable"]) == (
        "pia.check.ex.no_announcement",
        18,
        2,
    )
    ann = record(lib, MANAGER, "notices.announcement", subject, "notices", {"unreachable": 20})
    _, told = check()
    assert told.status == "met" and ann.seq in told.evidence and send.seq in told.evidence
    late = record(lib, MANAGER, "notices.receipts", subject, "notices", {"undelivered": 3})
    _, told = check()
    assert told.status == "not_met" and told.counter[0]["what"].values["seq"] == late.seq
    record(lib, MANAGER, "notices.announcement", subject, "notices", {"unreachable": 23})
    assert check()[1].status == "met"


def test_checklist_flags_unauthorised_steps_and_a_seal_before_the_pia(
    lib: Workspace, template: Path, tmp_path: Path
) -> None:
    from handover.flows.seal import seal
    from handover.ledger import record

    sealed = seal(lib, template / "seller.db", tmp_path / "pkg")
    first = next(e for e in entries(lib) if e.action == "package.seal")
    # A step recorded by someone who never got an allowing decision.
    stray = record(lib, "chenjing", "verify.run", "x → y", "test", {"equal": True})
    aid = _ready(lib, tmp_path)
    pia.submit(lib, aid, actor=MANAGER, now=T0)
    pia.approve(lib, aid, actor=SIGNER, now=T0)
    report = pia.check(lib, actor=MANAGER, now=T0)
    before = _item(report.results, "pia_before_transfer")
    assert before.status == "not_met" and [c["seq"] for c in before.counter] == [first.seq]
    steps = _item(report.results, "data_steps_authorised")
    assert [(c["seq"], c["actor"]) for c in steps.counter] == [(stray.seq, "chenjing")]
    assert _item(report.results, "packages_encrypted").status == "met"
    copies = _item(report.results, "copies_destroyed")
    assert [c["seq"] for c in copies.counter] == [first.seq], sealed.package


def test_an_attestation_before_a_pia_sending_data_abroad_does_not_clear_it(
    lib: Workspace, tmp_path: Path
) -> None:
    # PIPL Art. 38: "no data abroad" attested at the start of the deal, then an approved
    # PIA says data goes abroad. The early statement does not speak to that PIA.
    early = pia.attest(lib, "cross_border", "不出境 / no data abroad", applies=False, actor=MANAGER)
    aid = _ready(lib, tmp_path)
    edits = tmp_path / "abroad.toml"
    edits.write_text("[necessity]\ncross_border = true\n", encoding="utf-8")
    pia.edit(lib, aid, edits, actor=MANAGER, now=T0)
    pia.opinion(lib, aid, "出境至香港母公司 / to the Hong Kong parent", actor=MANAGER, now=T0)
    pia.submit(lib, aid, actor=MANAGER, now=T0)
    pia.approve(lib, aid, actor=SIGNER, now=T0)
    flagged = entries(lib, action="pia.approve")[-1]
    assert flagged.details["cross_border"] is True
    report = pia.check(lib, actor=MANAGER, now=T0)
    res = _item(report.results, "cross_border")
    assert (res.status, res.attested_by, res.evidence) == ("not_met", None, [early, flagged.seq])
    assert res.to_json("en")["reason"] == (
        f"the attestation by {MANAGER} (ledger seq {early}) was made before the approval that "
        f"asks for it (seq {flagged.seq}); attest again (handover compliance attest)"
    )
    # Attested after the approval, it counts.
    later = pia.attest(
        lib, "cross_border", "标准合同已备案 / standard contract filed", actor=SIGNER
    )
    res = _item(pia.check(lib, actor=MANAGER, now=T0).results, "cross_border")
    assert (res.status, res.attested_by, res.evidence) == ("attested", SIGNER, [flagged.seq, later])


def test_an_id_or_version_out_of_range_is_no_such_record(lib: Workspace, tmp_path: Path) -> None:
    # The library guards its callers (the CLI bounds its arguments, the flows and the
    # console's callers need not): 2**64 and up overflowed the store's query
    # (OverflowError), and version 0 silently meant the current or approved version.
    a = pia.new_assessment(lib, actor=MANAGER, now=T0)
    huge = 2**66
    edits = tmp_path / "e.toml"
    edits.write_text('conclusion = "ok"\n', encoding="utf-8")
    no_such = f"no impact assessment with id {huge}"
    calls = {
        "get": (lambda: store.get(lib, huge), no_such),
        "versions": (lambda: store.versions(lib, huge), no_such),
        "zero": (lambda: store.get(lib, 0), "no impact assessment with id 0"),
        "edit": (lambda: pia.edit(lib, huge, edits, actor=MANAGER, now=T0), no_such),
        "opinion": (lambda: pia.opinion(lib, huge, "x", actor=MANAGER, now=T0), no_such),
        "submit": (lambda: pia.submit(lib, huge, actor=MANAGER, now=T0), no_such),
        "approve": (lambda: pia.approve(lib, huge, actor=SIGNER, now=T0), no_such),
        "export": (lambda: pia.export(lib, huge, actor=MANAGER, now=T0), no_such),
        "version huge": (
            lambda: store.get(lib, a.id, huge),
            f"impact assessment {a.id} has no version {huge}",
        ),
        "version 0": (
            lambda: store.get(lib, a.id, 0),
            f"impact assessment {a.id} has no version 0",
        ),
        "export version 0": (
            lambda: pia.export(lib, a.id, version=0, actor=MANAGER, now=T0),
            f"impact assessment {a.id} has no version 0",
        ),
    }
    for name, (call, line) in calls.items():
        with pytest.raises(BadInput) as bad:
            call()
        assert bad.value.render("en") == line, name
    assert not entries(lib, action="pia.export")


def test_a_bad_method_file_is_refused(tmp_path: Path) -> None:
    from handover.pia.method import METHOD_FILE

    text = METHOD_FILE.read_text("utf-8").replace(
        'high = ["medium", "high", "severe", "severe"]',
        'high = ["low", "high", "severe", "severe"]',
    )
    bad = tmp_path / "method.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput) as info:
        load_method.__wrapped__(bad)
    assert "not monotone" in info.value.render("en") and str(bad) in info.value.render("en")


@pytest.mark.postgres
def test_the_assessment_path_on_a_postgresql_store(pg_url: str, tmp_path: Path) -> None:
    from handover.flows.scan import run_scan
    from handover.synth import synthesize

    ws = init_workspace(tmp_path / "ws", demo=True, database_url=pg_url)
    try:
        synthesize(str(tmp_path / "seller.db"), customers=60, seed=9)
        run_scan(ws, tmp_path / "seller.db", out_dir=tmp_path / "scan")
        aid = _ready(ws, tmp_path)
        pia.submit(ws, aid, actor=MANAGER, now=T0)
        a = pia.approve(ws, aid, actor=SIGNER, now=T0)
        assert a.status == "approved" and a.retain_until == dt.date(2030, 3, 1)
        x = pia.export(ws, aid, actor=MANAGER, now=T0)
        assert x.files["pia.json"] == x.sha256
        report = pia.check(ws, actor=MANAGER, now=T0)
        assert _item(report.results, "pia_before_transfer").status == "met"
        assert _item(report.results, "ledger_intact").status == "met"
        assert len(pia.risks(ws, now=T0)) == 7
        # the dossier and the transparency report on a PostgreSQL store
        from handover.flows.dossier import build_dossier, verify_folder
        from handover.flows.transparency import transparency_report

        transparency_report(ws, tmp_path / "public", actor=MANAGER, now=T0)
        res = build_dossier(ws, tmp_path / "dossier", actor=MANAGER, now=T0)
        checked = verify_folder(res.folder)
        assert checked["documents"] == res.sealed.documents
        assert "documents/pia/1-v3/pia.json" in {
            d["path"] for d in json.loads((res.folder / "manifest.json").read_text())["documents"]
        }
    finally:
        ws.close()
