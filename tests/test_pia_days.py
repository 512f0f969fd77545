"""Calendar days of the pia room are the workspace's (Asia/Shanghai), not UTC's
(docs/pia.md): 00:00-08:00 in Beijing is still the day before in UTC, and the checklist,
the risk register and the retention of an approved assessment count the Beijing day, as
governance does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from handover.errors import BadInput
from handover.flows import pia
from handover.flows.workspace import init_workspace
from handover.governance import authorize
from handover.governance.grants import approve_grant, request_grant
from handover.governance.ndas import add_nda
from handover.governance.people import add_org, add_person
from handover.governance.training import LETTERS, get_course, take_course
from handover.ledger import entries
from handover.workspace import Workspace

BEIJING = dt.timezone(dt.timedelta(hours=8))
MANAGER, SIGNER = "wangmin", "liqiang"  # demo cast: DPO of the seller, DPO of the buyer
SELLER_ORG = "示例市诚信小额贷款有限公司"
TEST_ORG = "示例数据服务顾问有限公司"  # no demo NDA binds its staff


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace (the demo cast) with a scanned 150-customer seller database (an
    assessment needs a data map), built once."""
    from handover.flows.scan import run_scan
    from handover.synth import synthesize

    root = tmp_path_factory.mktemp("pia-days")
    ws = init_workspace(root / "ws", demo=True)
    try:
        synthesize(str(root / "seller.db"), customers=150, seed=5)
        run_scan(ws, root / "seller.db", out_dir=root / "scan")
    finally:
        ws.close()
    return root / "ws"


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh copy of the template workspace for one test."""
    import shutil

    from handover.workspace import open_workspace

    shutil.copytree(template, tmp_path / "ws")
    opened = open_workspace(tmp_path / "ws")
    try:
        yield opened
    finally:
        opened.close()


def _trained(ws: Workspace, name: str, at: dt.datetime) -> None:
    course = get_course(ws, "pipl-jrt0171")
    right = {
        q.prompt[ws.settings.lang]: q.options[q.answer][ws.settings.lang] for q in course.questions
    }
    take_course(
        ws,
        "pipl-jrt0171",
        lambda q: LETTERS[q.options.index(right[q.prompt])],
        person=name,
        seed=1,
        now=at,
    )


def test_a_clear_read_on_the_nda_first_beijing_day_is_covered(ws: Workspace) -> None:
    # The NDA takes effect on 2027-01-01 (Beijing). A read at 07:00 that day is
    # 2026-12-31 23:00 UTC: governance allows it, and the checklist must agree.
    t0 = dt.datetime(2026, 12, 20, 3, 0, tzinfo=dt.UTC)
    add_org(ws, TEST_ORG, "advisor", actor=MANAGER, now=t0)
    add_person(
        ws, "eng", "eng", TEST_ORG, ["data_engineer"], "pia-test-password-1", actor=MANAGER, now=t0
    )
    doc = ws.path / "nda.txt"
    doc.write_text("NDA", encoding="utf-8")
    add_nda(
        ws,
        title="NDA 2027",
        parties=[TEST_ORG, SELLER_ORG],
        signatories=["eng"],
        scope="*",
        signed_on=dt.date(2026, 12, 20),
        effective_on=dt.date(2027, 1, 1),
        expires_on=dt.date(2027, 12, 31),
        document=doc,
        actor=MANAGER,
        now=t0,
    )
    _trained(ws, "eng", t0)
    g = request_grant(
        ws,
        "eng",
        scope="*",
        mode="clear",
        purpose="测试",
        valid_from=t0,
        valid_until=t0 + dt.timedelta(days=60),
        actor=MANAGER,
        now=t0,
    )
    for approver in ("zhoujie", SIGNER):
        approve_grant(ws, g.id, actor=approver, now=t0)
    read_at = dt.datetime(2027, 1, 1, 7, 0, tzinfo=BEIJING)
    assert authorize(ws, "eng", "seal", "*/clear", now=read_at).allowed
    seq = entries(ws, action="access.allow")[-1].seq
    report = pia.check(ws, actor=MANAGER, now=read_at)
    clear = next(r for r in report.results if r.item.id == "clear_reads_covered")
    assert (clear.status, clear.counter) == ("met", [])
    assert seq in clear.evidence
    # One hour before, it is still 2026-12-31 in Beijing: the same read is not covered,
    # and the counter-example tells the time as the workspace reads it.
    early = read_at - dt.timedelta(hours=8)
    from handover.ledger import record

    planted = record(
        ws,
        "eng",
        "access.allow",
        "seal */clear",
        "access control",
        {"action": "seal", "resource": "*/clear", "at": early.isoformat(), "allowed": True},
    )
    report = pia.check(ws, actor=MANAGER, now=read_at)
    clear = next(r for r in report.results if r.item.id == "clear_reads_covered")
    assert [(c["seq"], c["what"].render("en")) for c in clear.counter] == [
        (planted.seq, "eng had no NDA in force covering the data at 2026-12-31T23:00:00+08:00")
    ]


def test_risk_reviews_count_beijing_days(ws: Workspace) -> None:
    # 07:00 on 2027-03-09 in Beijing is 2027-03-08 23:00 UTC: a review due on the 8th is
    # a day overdue, and the 9th is today, so not a next review date.
    at = dt.datetime(2027, 3, 9, 7, 0, tzinfo=BEIJING)
    pia.add_risk(
        ws,
        code="R-1",
        title="备份介质丢失 / lost backup medium",
        source="network",
        impact="severe",
        likelihood="low",
        owner="zhaolei",
        review_on=dt.date(2027, 3, 8),
        controls=[],
        actor=MANAGER,
        now=at - dt.timedelta(days=30),
    )
    assert [(r.code, r.overdue_days) for r in pia.risks(ws, overdue=True, now=at)] == [("R-1", 1)]
    with pytest.raises(BadInput, match="2027-03-09 must be after today"):
        pia.review_risk(ws, "R-1", next_review=dt.date(2027, 3, 9), actor=MANAGER, now=at)
    after = pia.review_risk(ws, "R-1", next_review=dt.date(2027, 3, 10), actor=MANAGER, now=at)
    assert after.review_on == dt.date(2027, 3, 10) and not after.overdue
    review = entries(ws, action="risk.review")[-1]
    assert review.details["before"]["overdue_days"] == 1


def test_an_approval_on_a_beijing_morning_is_kept_three_years_from_that_day(
    ws: Workspace, tmp_path: Path
) -> None:
    # PIPL Art. 56: approved at 07:00 on 2026-12-09 in Beijing (the 8th in UTC), the
    # report is kept until 2029-12-09, and the checklist asks for that day.
    at = dt.datetime(2026, 12, 9, 7, 0, tzinfo=BEIJING)
    a = pia.new_assessment(ws, actor=MANAGER, now=at)
    # the first reviews of the drafted risks are due 90 days after the Beijing day
    assert {r["review_on"] for r in a.document["risks"]} == {"2027-03-09"}
    edits = tmp_path / "edits.toml"
    edits.write_text(f'signatory = "{SIGNER}"\n', encoding="utf-8")
    pia.edit(ws, a.id, edits, actor=MANAGER, now=at)
    pia.opinion(ws, a.id, "同意 / agreed", actor=MANAGER, now=at)
    pia.submit(ws, a.id, actor=MANAGER, now=at)
    approved = pia.approve(ws, a.id, actor=SIGNER, now=at)
    assert approved.retain_until == dt.date(2029, 12, 9)
    event = entries(ws, action="pia.approve")[-1]
    assert event.details["retain_until"] == "2029-12-09"
    report = pia.check(ws, actor=MANAGER, now=at)
    kept = next(r for r in report.results if r.item.id == "pia_retained")
    assert (kept.status, kept.evidence) == ("met", [event.seq])


def test_training_records_list_beijing_days(ws: Workspace) -> None:
    # Passed at 06:00 on 2026-12-21 in Beijing (the 20th in UTC): taken on the 21st and
    # lapsing on 2027-12-21, as `handover status` says.
    from typer.testing import CliRunner

    from handover.cli.main import app

    at = dt.datetime(2026, 12, 21, 6, 0, tzinfo=BEIJING)
    _trained(ws, "zhaolei", at)
    res = CliRunner().invoke(
        app, ["-w", str(ws.path), "training", "records", "--person", "zhaolei"]
    )
    assert res.exit_code == 0, res.output
    assert "2026-12-21 → 2027-12-21" in res.output.splitlines()[-1]


def test_a_report_kept_a_day_short_is_mended_by_a_later_approval(ws: Workspace) -> None:
    """An approval made 00:00-08:00 Beijing before the local-day count recorded a keeping
    a day short; the check flagged it for ever (the second review). One report is kept
    until the latest date its approvals set, so a later approval covers the earlier."""
    from handover.flows.pia import PURPOSE
    from handover.ledger import record

    old = {"at": "2026-12-08T23:00:00+00:00", "retain_until": "2029-12-08"}  # as then
    record(ws, SIGNER, "pia.approve", "pia 77", PURPOSE, old)
    at = dt.datetime(2026, 12, 10, 9, 0, tzinfo=BEIJING)
    report = pia.check(ws, actor=MANAGER, now=at)
    kept = next(r for r in report.results if r.item.id == "pia_retained")
    assert kept.status == "not_met"
    # the same report approved again later: kept until 2029-12-10, which covers both
    record(
        ws, SIGNER, "pia.approve", "pia 77", PURPOSE,
        {"at": at.isoformat(), "retain_until": "2029-12-10"},
    )  # fmt: skip
    report = pia.check(ws, actor=MANAGER, now=at)
    kept = next(r for r in report.results if r.item.id == "pia_retained")
    assert kept.status == "met", kept
