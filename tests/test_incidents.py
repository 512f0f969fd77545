"""Incidents (issue 17): grading, obligations per (regime, recipient) with their clocks,
reminders and escalations, reports hashed into the ledger, Art. 57 decisions, timeline,
drills. Real workspaces (SQLite store, real ledger, real scan inventory); time injected.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handover.crypto.digest import sha256_file
from handover.errors import BadInput
from handover.flows import incidents as flow
from handover.flows.workspace import init_workspace
from handover.incidents import grading, records
from handover.incidents import incidents as kernel
from handover.incidents.rules import GRADES, load_rules
from handover.ledger import Recorder, entries, ledger_size
from handover.settings import IncidentSettings
from handover.workspace import Workspace
from incidents_data import T0, TRANSFER, Clock, copied


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace with a scanned 200-customer book (the inventory counts come from it)."""
    from handover.flows.scan import run_scan
    from handover.synth import synthesize

    path = tmp_path_factory.mktemp("incidents") / "ws"
    ws = init_workspace(path, TRANSFER, demo=True)
    try:
        synthesize(str(path / "seller.db"), customers=200, seed=7)
        run_scan(ws, path / "seller.db")
    finally:
        ws.close()
    return path


@pytest.fixture
def ws(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    with copied(template, tmp_path / "ws") as w:
        yield w


def _rows(ws: Workspace, table: str) -> int:
    from handover.detect.store import latest_inventory

    inv = latest_inventory(ws)
    assert inv is not None
    return next(int(t["rows"]) for t in inv["tables"] if t["name"] == table)


def _incident(
    ws: Workspace,
    clock: Clock,
    conf: IncidentSettings,
    *,
    people: int | None = None,
    data: tuple[str, ...] = ("cust_info",),
    crime: bool = False,
) -> records.Incident:
    """An event noticed 30 minutes ago, promoted now by the kernel (the matrix needs the
    operator kind varied without rewriting handover.toml)."""
    sink = Recorder(ws, "wangmin")
    ev = kernel.record_event(
        ws,
        "客户信息泄露",
        noticed_at=clock() - dt.timedelta(minutes=30),
        noticed_by="zhaolei",
        reported_by="wangmin",
        data=data,
        events=sink,
        clock=clock,
    )
    return kernel.promote(
        ws,
        ev.id,
        decided_by="wangmin",
        reason="确认",
        rules=load_rules(),
        conf=conf,
        inventory=_inventory(ws),
        events=sink,
        clock=clock,
        people=people,
        people_reason="核对后人数" if people is not None else None,
        suspected_crime=crime,
    ).incident


def _inventory(ws: Workspace) -> dict[str, object] | None:
    from handover.detect.store import latest_inventory

    return latest_inventory(ws)


# --- grading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("people", "loss", "grade"),
    [
        (None, None, "general"),
        (999_999, None, "general"),
        (1_000_000, None, "significant"),  # "以上"均包括本数: inclusive
        (9_999_999, None, "significant"),
        (10_000_000, None, "major"),
        (99_999_999, None, "major"),
        (100_000_000, None, "especially_major"),
        (10, 99_999_999, "general"),
        (10, 100_000_000, "especially_major"),
    ],
)
def test_grade_follows_the_guide_thresholds(
    people: int | None, loss: int | None, grade: str
) -> None:
    assert grading.decide_grade(load_rules(), people, loss).grade == grade


def test_a_grade_may_be_raised_with_a_reason_never_lowered() -> None:
    rules = load_rules()
    with pytest.raises(BadInput, match="never lowered"):
        grading.decide_grade(rules, 10_000_000, None, "significant", "smaller really")
    with pytest.raises(BadInput, match="grade-reason"):
        grading.decide_grade(rules, 10, None, "major")
    d = grading.decide_grade(rules, 10, None, "major", "核心数据泄露")
    assert (d.computed, d.grade, d.reason) == ("general", "major", "核心数据泄露")


def test_qualitative_criteria_are_cited_and_judged_with_a_reason(tmp_path: Path) -> None:
    from handover.incidents.rules import VERIFIED

    rules = load_rules()
    by_grade = {g: [c for c in rules.criteria if c.grade == g] for g in GRADES}
    assert by_grade["general"] == [] and all(by_grade[g] for g in GRADES[1:])
    for c in rules.criteria:
        assert c.source.startswith("《网络安全事件分级指南》") and c.verified in VERIFIED
        assert c.text["zh-CN"] and c.text["en"]
    at = T0
    with pytest.raises(BadInput, match="needs the reason"):
        grading.judge(rules, ["significant.data"], reason=" ", by="wangmin", at=at)
    with pytest.raises(BadInput, match=r"'no\.such' is not in the rules file"):
        grading.judge(rules, ["no.such"], reason="r", by="wangmin", at=at)
    judged = grading.judge(rules, ["major.data"], reason="核心业务库被窃取", by="wangmin", at=at)
    assert judged[0]["by"] == "wangmin" and "大量公民个人信息" in judged[0]["text"]["zh-CN"]
    d = grading.decide_grade(rules, 200, None, judged=judged)
    assert (d.computed, d.grade) == ("major", "major") and d.criteria == []
    with pytest.raises(BadInput, match="never lowered"):
        grading.decide_grade(rules, 200, None, "significant", "x", judged=judged)
    # a rules file whose criterion lacks its English text is refused, naming it
    bad = tmp_path / "rules.toml"
    text = rules.path.read_text(encoding="utf-8")
    bad.write_text(
        text.replace(
            'en = "important networks and information systems suffer especially', 'fr = "x', 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(BadInput, match=r"criterion\[0\] especially_major.system_loss.*en"):
        load_rules(bad)


def test_judged_criteria_grade_the_incident_and_stay_on_record(ws: Workspace) -> None:
    clock = Clock(T0)
    ev = flow.report_event(ws, "核心业务库被拖库", noticed_at=T0, data=["cust_info"], clock=clock)
    with pytest.raises(BadInput, match="needs the reason"):
        flow.promote(ws, ev.id, reason="确认", criteria=["significant.data"], clock=clock)
    inc = flow.promote(
        ws,
        ev.id,
        reason="确认",
        criteria=["significant.data"],
        criteria_reason="较大量客户身份证件信息被窃取",
        clock=clock,
    ).incident
    assert inc.people_affected == _rows(ws, "cust_info") < 1_000_000
    assert inc.grade == "significant"  # by the criterion, not the count
    assert "cac.initial.ordinary" in {o.rule for o in inc.obligations}
    judged = inc.grade_basis["judged"]
    assert [j["id"] for j in judged] == ["significant.data"]
    assert judged[0]["by"] == "wangmin" and judged[0]["reason"] == "较大量客户身份证件信息被窃取"
    promoted = entries(ws, action="incident.promote")[-1].details
    assert promoted["grade"]["judged"][0]["source"].endswith("第2项")
    clock.advance(hours=1)
    raised = flow.regrade(
        ws, inc.id, criteria=["major.system_loss"], reason="核心系统中断 30 小时", clock=clock
    )
    assert raised.grade == "major"
    assert [j["id"] for j in raised.grade_basis["judged"]] == [
        "significant.data",
        "major.system_loss",
    ]
    graded = entries(ws, action="incident.grade")[-1].details
    assert graded["from"] == "significant" and graded["grade"]["grade"] == "major"
    rep = flow.file_report(ws, inc.id, "initial", clock=clock)
    html = (Path(rep.folder) / "report.zh-CN.html").read_text(encoding="utf-8")
    assert "经人工认定符合的分级情形" in html and "核心系统中断 30 小时" in html
    assert "较大量公民个人信息丢失或被窃取" in html and "[fragments]" in html


def test_the_transparency_report_counts_an_incident_at_its_current_grade(
    ws: Workspace,
) -> None:
    from handover.flows.transparency import figures

    clock = Clock(T0)
    ev = flow.report_event(ws, "客户信息泄露", noticed_at=clock(), data=["cust_info"], clock=clock)
    inc = flow.promote(
        ws, ev.id, reason="确认", people=2_000_000, people_reason="核对后人数", clock=clock
    ).incident
    assert inc.grade == "significant"
    clock.advance(hours=1)
    flow.regrade(ws, inc.id, people=20_000_000, reason="复核后人数", clock=clock)
    counted = figures(ws, now=clock())["incidents"]["by_grade"]
    assert counted == {"major": 1}  # not {"significant": 1}, the grade at promotion


# --- obligations: every grade x operator kind -----------------------------------------------

CAC_INITIAL = {
    "ordinary": {"cac.initial.ordinary": ("provincial_cac", 4.0)},
    "cii": {
        "cac.initial.cii.protection": ("protection_department", 1.0),
        "cac.initial.cii.police": ("police", 1.0),
    },
    "central_organ": {"cac.initial.central_organ": ("department_cac", 2.0)},
}
PEOPLE = {
    "general": 50,
    "significant": 1_000_000,
    "major": 10_000_000,
    "especially_major": 100_000_000,
}


@pytest.mark.parametrize("operator", ["ordinary", "cii", "central_organ"])
def test_every_grade_and_regime_creates_the_right_obligations(ws: Workspace, operator: str) -> None:
    clock = Clock(T0)
    conf = IncidentSettings(
        operator_kind=operator,  # type: ignore[arg-type]
        provincial_cac="上海市委网信办",
        sector_regulator="上海市地方金融管理局",
        sector_hours=8,
        sector_grades=["significant", "major", "especially_major"],
        immediately_hours=24,
    )
    for grade in GRADES:
        for crime in (False, True):
            inc = _incident(ws, clock, conf, people=PEOPLE[grade], crime=crime)
            assert inc.grade == grade
            aware = clock() - dt.timedelta(minutes=30)
            assert inc.aware_at == aware
            want: dict[str, tuple[str, float, bool]] = {
                "pipl57.regulator": ("pi_regulator", 24.0, False),
                "pipl57.individuals": ("individuals", 24.0, False),
            }
            if grade != "general":
                want |= {k: (r, h, True) for k, (r, h) in CAC_INITIAL[operator].items()}
                want["sector.initial"] = ("sector_regulator", 8.0, True)
            if crime:
                want["police.crime"] = ("police", 24.0, False)
            got = {o.rule: (o.recipient, o.hours, o.legal_clock) for o in inc.obligations}
            assert got == want, (operator, grade, crime)
            for o in inc.obligations:
                assert o.starts_at == aware
                assert o.due_at == aware + dt.timedelta(hours=o.hours)
                assert o.source and o.status == "open"
            names = {o.rule: o.recipient_name for o in inc.obligations}
            if operator == "ordinary" and grade != "general":
                assert names["cac.initial.ordinary"] == "上海市委网信办"
                assert names["sector.initial"] == "上海市地方金融管理局"
            clock.advance(minutes=1)


def test_summary_report_due_at_24_00_local_of_the_30th_day(ws: Workspace) -> None:
    """办法 第八条 "30日内", counted as 民法典 第二百零一条第一款 (the start day does not
    count) and 第二百零三条第二款 (the last day ends at 24:00), in the workspace's zone."""
    sh = ZoneInfo("Asia/Shanghai")
    clock = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=sh))
    inc = _incident(ws, clock, IncidentSettings(), people=2_000_000)
    cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
    assert cac.due_at == cac.starts_at + dt.timedelta(hours=4)  # hours clocks unchanged
    clock.at = dt.datetime(2026, 3, 2, 16, 0, tzinfo=sh)
    handled_at = dt.datetime(2026, 3, 2, 15, 30, tzinfo=sh)
    done = flow.mark_handled(ws, inc.id, at=handled_at, clock=clock)
    summary = [o for o in done.obligations if o.kind == "summary"]
    # 2026-04-01 24:00 Beijing, not 2026-04-01 15:30 (720 h after the end of handling)
    assert [(o.rule, o.due_at) for o in summary] == [
        ("cac.summary.ordinary", dt.datetime(2026, 4, 2, 0, 0, tzinfo=sh))
    ]
    assert summary[0].hours == pytest.approx(30 * 24 + 8.5)  # the time that leaves
    assert "民法典 第二百零一条" in summary[0].source and "第二百零三条" in summary[0].source
    # no escalation on the evening of the 30th day; at 24:00 it is missed
    clock.at = dt.datetime(2026, 4, 1, 23, 59, tzinfo=sh)
    assert "cac.summary.ordinary" not in {o.rule for o in flow.tick(ws, clock=clock).escalated}
    clock.at = dt.datetime(2026, 4, 2, 0, 0, tzinfo=sh)
    assert [o.rule for o in flow.tick(ws, clock=clock).escalated] == ["cac.summary.ordinary"]


@pytest.mark.parametrize(
    ("start", "zone", "due"),
    [
        # handling ended just after midnight or just before: that day does not count
        ("2026-03-02T00:05+08:00", "Asia/Shanghai", "2026-04-02T00:00+08:00"),
        ("2026-03-02T23:59+08:00", "Asia/Shanghai", "2026-04-02T00:00+08:00"),
        # across a month end and a year end
        ("2026-01-31T10:00+08:00", "Asia/Shanghai", "2026-03-03T00:00+08:00"),
        ("2026-12-15T10:00+08:00", "Asia/Shanghai", "2027-01-15T00:00+08:00"),
        # the days are the configured zone's: 15:30 UTC is already 03-03 in Tokyo
        ("2026-03-02T15:30+00:00", "Asia/Tokyo", "2026-04-03T00:00+09:00"),
        ("2026-03-02T15:30+00:00", "Asia/Shanghai", "2026-04-02T00:00+08:00"),
    ],
)
def test_a_period_in_days_ends_at_local_midnight(start: str, zone: str, due: str) -> None:
    from handover.incidents.rules import due_after_days

    got = due_after_days(dt.datetime.fromisoformat(start), 30, zone)
    assert got == dt.datetime.fromisoformat(due) and got.tzinfo == dt.UTC


def test_a_rules_file_with_a_fractional_day_clock_is_refused(tmp_path: Path) -> None:
    text = load_rules().path.read_text(encoding="utf-8")
    for bad_days in ("30.5", "0", "true"):
        bad = tmp_path / f"rules-{bad_days}.toml"
        bad.write_text(text.replace("days = 30", f"days = {bad_days}", 1), encoding="utf-8")
        with pytest.raises(BadInput, match=r"cac\.summary\.ordinary.*days"):
            load_rules(bad)


def test_no_personal_information_no_art57_duties(ws: Workspace) -> None:
    inc = _incident(ws, Clock(T0), IncidentSettings(), data=("cust_info.khbh",))
    assert not inc.personal_information
    assert inc.people_affected == 0
    assert inc.obligations == []


def test_bad_incident_settings_are_refused_naming_the_setting() -> None:
    from pydantic import ValidationError

    from handover.settings import ALL_GRADES

    assert ALL_GRADES == GRADES  # the settings' grade names are the rules' grade names
    for bad, where in (
        ({"timezone": "Asia/Shangai"}, "timezone"),
        ({"sector_grades": ["significant", "serious"]}, "sector_grades"),
        ({"sector_regulator": "某地方金融管理局", "sector_hours": 0}, "sector_hours"),
    ):
        with pytest.raises(ValidationError, match=where):
            IncidentSettings(**bad)
    ok = IncidentSettings(timezone="Asia/Urumqi", sector_regulator="某局", sector_hours=8)
    assert (ok.timezone, ok.sector_hours) == ("Asia/Urumqi", 8)
    # a regulator without its hours loads (a workspace configured so still opens); the
    # incident that needs the deadline is refused then, before anything is written
    assert IncidentSettings(sector_regulator="某局").sector_hours is None


# --- affected people from the inventory ---------------------------------------------------------


def test_affected_people_are_counted_from_the_scan_inventory(ws: Workspace) -> None:
    clock = Clock(T0)
    customers, cards = _rows(ws, "cust_info"), _rows(ws, "yhk_info")
    one = _incident(ws, clock, IncidentSettings(), data=("cust_info.sjhm",))
    assert one.people_affected == customers
    assert one.affected["types"] == ["cn_mobile"]
    both = _incident(ws, clock, IncidentSettings(), data=("cust_info", "yhk_info.yhkh", "nosuch"))
    assert both.people_affected == customers + cards
    assert both.affected["people_min"] == max(customers, cards)
    assert both.affected["unknown"] == ["nosuch"]
    assert {t["table"] for t in both.affected["tables"]} == {"cust_info", "yhk_info"}
    assert "cvn" not in both.affected["types"]  # only the named column of yhk_info


def test_a_leak_the_inventory_cannot_rule_out_gets_the_art57_duties(ws: Workspace) -> None:
    """PIPL Art. 57 applies when personal information may be concerned: a table or column
    the scan does not know, or a leak that names no data, creates the duties (a person
    may waive telling the individuals, Art. 57 ¶2); data known to hold none does not."""
    clock = Clock(T0)
    art57 = {"pipl57.regulator", "pipl57.individuals"}

    def promoted(data: list[str], category: str = "data_leak") -> records.Incident:
        ev = flow.report_event(ws, "客户信息泄露", noticed_at=T0, data=data, clock=clock)
        return flow.promote(ws, ev.id, reason="确认", category=category, clock=clock).incident

    unknown = promoted(["cust_export_2026"])  # a table the scan never saw
    assert unknown.personal_information and {o.rule for o in unknown.obligations} == art57
    assert unknown.people_affected is None and unknown.affected["unknown"] == ["cust_export_2026"]
    column = promoted(["cust_info.no_such_column"])
    assert column.personal_information and {o.rule for o in column.obligations} == art57
    for category in ("data_leak", "data_tamper", "data_loss"):
        nothing_named = promoted([], category)
        assert nothing_named.personal_information, category
        assert {o.rule for o in nothing_named.obligations} == art57
        assert nothing_named.people_affected is None  # not counted, not "0 people"
        assert nothing_named.affected["basis"] == "no_data"
    promote_event = entries(ws, action="incident.promote")[-1].details
    assert (
        promote_event["personal_information"] is True and promote_event["people_affected"] is None
    )
    # an outage naming no data, and a column the scan classified as no personal information
    assert promoted([], "outage").obligations == []
    assert promoted(["cust_info.khbh"]).obligations == []


def test_grade_refuses_negative_counts_and_records_nothing(ws: Workspace) -> None:
    clock = Clock(T0)
    ev = flow.report_event(ws, "客户信息泄露", noticed_at=T0, data=["cust_info"], clock=clock)
    inc = flow.promote(ws, ev.id, reason="确认", clock=clock).incident
    size = ledger_size(ws)
    with pytest.raises(BadInput, match=r"--people needs --reason.*not be negative"):
        flow.regrade(ws, inc.id, people=-5, reason="复核", clock=clock)
    with pytest.raises(BadInput, match="--people needs --reason"):
        flow.regrade(ws, inc.id, people=5, clock=clock)
    with pytest.raises(BadInput, match="direct loss -1 is not valid"):
        flow.regrade(ws, inc.id, direct_loss_cny=-1, reason="核定", clock=clock)
    with pytest.raises(BadInput, match="direct loss -1 is not valid"):
        flow.promote(ws, ev.id, reason="r", direct_loss_cny=-1, clock=clock)
    assert ledger_size(ws) == size  # refused before anything was authorised or recorded
    after = records.get_incident(ws, inc.id)
    assert (after.people_affected, after.direct_loss_cny) == (inc.people_affected, None)


def test_a_decided_grade_stays_the_floor_when_new_facts_are_added(ws: Workspace) -> None:
    clock = Clock(T0)
    ev = flow.report_event(ws, "客户信息泄露", noticed_at=T0, data=["cust_info"], clock=clock)
    inc = flow.promote(
        ws, ev.id, reason="确认", grade="significant", grade_reason="涉及大量敏感信息", clock=clock
    ).incident
    assert (inc.grade, inc.grade_basis["computed"]) == ("significant", "general")
    clock.advance(hours=1)
    with_loss = flow.regrade(ws, inc.id, direct_loss_cny=5000, reason="损失核定", clock=clock)
    assert (with_loss.grade, with_loss.direct_loss_cny) == ("significant", 5000)
    assert with_loss.grade_basis["reason"] == "涉及大量敏感信息"  # the decision stands
    counted = flow.regrade(ws, inc.id, people=300, reason="复核人数", clock=clock)
    assert (counted.grade, counted.people_affected) == ("significant", 300)
    graded = entries(ws, action="incident.grade")[-1].details
    assert graded["grade"]["grade"] == "significant" and graded["grade"]["computed"] == "general"
    # facts above the floor still raise it
    raised = flow.regrade(ws, inc.id, people=12_000_000, reason="全量核对", clock=clock)
    assert raised.grade == "major" and raised.grade_basis["computed"] == "major"
    # a decided grade below the current one is refused, naming both
    with pytest.raises(BadInput, match=r"grade significant refused.*major"):
        flow.regrade(ws, inc.id, grade="significant", reason="x", clock=clock)


def test_a_grade_the_counts_gave_is_not_lowered_by_smaller_counts(ws: Workspace) -> None:
    clock = Clock(T0)
    inc = _incident(ws, clock, IncidentSettings(), people=1_500_000)
    assert inc.grade == "significant" and not inc.grade_basis["reason"]
    with pytest.raises(
        BadInput, match=r"new facts give grade general, below incident #\d+'s grade significant"
    ):
        flow.regrade(ws, inc.id, people=300, reason="复核人数", clock=clock)
    assert records.get_incident(ws, inc.id).people_affected == 1_500_000
    kept = flow.regrade(
        ws, inc.id, people=300, grade="significant", reason="保留级别:初报已上报", clock=clock
    )
    assert (kept.grade, kept.people_affected) == ("significant", 300)


def test_a_duty_cannot_be_met_before_its_clock_started(ws: Workspace) -> None:
    clock = Clock(T0)
    inc = _incident(ws, clock, IncidentSettings(), people=1_500_000)
    cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
    with pytest.raises(BadInput, match=rf"at .* is before duty #{cac.id} started"):
        flow.obligation_met(
            ws, cac.id, note="电话报告", at=cac.starts_at - dt.timedelta(days=30), clock=clock
        )
    still = records.get_incident(ws, inc.id).obligations
    assert next(o for o in still if o.id == cac.id).status == "open"
    assert not entries(ws, action="incident.obligation.met")
    # the summary's clock starts when handling ends, not at awareness
    clock.advance(hours=2)
    handled = flow.mark_handled(ws, inc.id, clock=clock)
    summary = next(o for o in handled.obligations if o.kind == "summary")
    with pytest.raises(BadInput, match="is before duty"):
        flow.obligation_met(
            ws, summary.id, note="x", at=summary.starts_at - dt.timedelta(minutes=1), clock=clock
        )
    met = flow.obligation_met(ws, cac.id, note="电话报告", at=cac.starts_at, clock=clock)
    assert met.status == "met" and met.met_at == cac.starts_at


# --- bad input changes nothing -------------------------------------------------------------


def test_awareness_in_the_future_is_refused_and_nothing_changes(ws: Workspace) -> None:
    clock = Clock(T0)
    ev = flow.report_event(ws, "可疑导出", noticed_at=T0 - dt.timedelta(hours=1), clock=clock)
    size = ledger_size(ws)
    with pytest.raises(BadInput, match="later than now"):
        flow.promote(ws, ev.id, reason="x", aware_at=T0 + dt.timedelta(minutes=1), clock=clock)
    with pytest.raises(BadInput, match="later than now"):
        flow.report_event(ws, "未来", noticed_at=T0 + dt.timedelta(seconds=1), clock=clock)
    assert ledger_size(ws) == size
    assert records.get_event(ws, ev.id).status == "open"
    assert records.list_incidents(ws) == []


def test_awareness_before_the_event_was_noticed_is_refused_and_nothing_changes(
    ws: Workspace,
) -> None:
    """A typo (year 1, or a day early) would put every legal clock long overdue on the
    dashboard and in the reports (the review's 17,758,931 hours overdue)."""
    clock = Clock(T0)
    ev = flow.report_event(ws, "可疑导出", noticed_at=T0 - dt.timedelta(hours=1), clock=clock)
    size = ledger_size(ws)
    for aware in (
        dt.datetime(1, 1, 2, tzinfo=dt.UTC),
        T0 - dt.timedelta(hours=1, minutes=1),
    ):
        with pytest.raises(BadInput, match=f"aware_at .* earlier than event #{ev.id} was noticed"):
            flow.promote(ws, ev.id, reason="x", aware_at=aware, clock=clock)
    assert ledger_size(ws) == size
    assert records.get_event(ws, ev.id).status == "open"
    assert records.list_incidents(ws) == []
    # the very minute it was noticed is fine
    promoted = flow.promote(ws, ev.id, reason="x", aware_at=T0 - dt.timedelta(hours=1), clock=clock)
    assert promoted.incident.aware_at == T0 - dt.timedelta(hours=1)


def test_a_rules_file_with_an_unknown_regime_is_refused(ws: Workspace, tmp_path: Path) -> None:
    text = (Path(kernel.__file__).parent / "rules.toml").read_text(encoding="utf-8")
    bad = tmp_path / "rules.toml"
    bad.write_text(text.replace('regime = "sector"', 'regime = "gdpr"'), encoding="utf-8")
    with pytest.raises(BadInput) as err:
        load_rules(bad)
    assert str(bad) in str(err.value) and "sector.initial" in str(err.value)
    assert "gdpr" in str(err.value)
    no_source = tmp_path / "nosource.toml"
    no_source.write_text(
        text.replace('source = "个人信息保护法 第五十七条第一款(通知个人', 'note = "x(', 1),
        encoding="utf-8",
    )
    with pytest.raises(BadInput, match="no source"):
        load_rules(no_source)


# --- clocks: reminders at 80 %, escalation when missed ------------------------------------------


def test_reminder_at_80_percent_and_escalation_when_missed(ws: Workspace) -> None:
    clock = Clock(T0)
    inc = _incident(ws, clock, IncidentSettings(), people=1_500_000)
    cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
    assert cac.due_at == T0 + dt.timedelta(hours=3, minutes=30)  # aware 30 min before T0
    clock.at = cac.starts_at + dt.timedelta(hours=3, minutes=11)  # 79.6 %
    assert flow.tick(ws, clock=clock).reminded == []
    clock.at = cac.starts_at + dt.timedelta(hours=3, minutes=12)  # 80 %
    first = flow.tick(ws, clock=clock)
    assert [o.rule for o in first.reminded] == ["cac.initial.ordinary"]
    assert flow.tick(ws, clock=clock).reminded == []  # once
    clock.at = cac.due_at - dt.timedelta(seconds=1)
    assert flow.tick(ws, clock=clock).escalated == []
    clock.at = cac.due_at
    missed = flow.tick(ws, clock=clock)
    assert [o.rule for o in missed.escalated] == ["cac.initial.ordinary"]
    assert missed.escalated[0].left(clock()) == dt.timedelta(0)
    assert flow.tick(ws, clock=clock).escalated == []
    events = [
        e
        for e in entries(ws, action="incident.obligation")
        if e.details.get("obligation") == cac.id
    ]
    assert [(e.action, e.actor) for e in events] == [
        ("incident.obligation.remind", "wangmin"),
        ("incident.obligation.escalate", "wangmin"),
    ]
    # The status shows the duty overdue with negative time left.
    st = flow.status(ws, clock=clock).to_json()
    row = next(o for o in st["obligations"] if o["id"] == cac.id)
    assert row["seconds_left"] == 0 and row["escalated_at"] is not None


def test_a_duty_met_in_time_never_escalates(ws: Workspace) -> None:
    clock = Clock(T0)
    inc = _incident(ws, clock, IncidentSettings(), people=1_500_000)
    cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
    clock.advance(hours=1)
    flow.obligation_met(ws, cac.id, note="已通过 12387 报告", clock=clock)
    clock.advance(hours=10)
    result = flow.tick(ws, clock=clock)
    assert cac.id not in {o.id for o in result.escalated + result.reminded}
    # the Art. 57 duties (24 h internal target) still run
    clock.advance(hours=20)
    assert {o.rule for o in flow.tick(ws, clock=clock).escalated} == {
        "pipl57.regulator",
        "pipl57.individuals",
    }


# --- reports ---------------------------------------------------------------------------------


def test_reports_are_written_hashed_and_meet_their_duties(ws: Workspace) -> None:
    clock = Clock(T0)
    ev = flow.report_event(
        ws,
        "客户信息被批量导出",
        noticed_at=T0 - dt.timedelta(minutes=20),
        data=["cust_info", "loan_iou"],
        systems=["seller-db"],
        clock=clock,
    )
    inc = flow.promote(
        ws,
        ev.id,
        reason="确认外泄",
        grade="significant",
        grade_reason="较大量公民个人信息被窃取(分级指南三、2)",
        clock=clock,
    ).incident
    with pytest.raises(BadInput, match="no initial report"):
        flow.file_report(ws, inc.id, "supplement", clock=clock)
    with pytest.raises(BadInput, match="not been marked handled"):
        flow.file_report(ws, inc.id, "summary", clock=clock)
    flow.set_facts(
        ws,
        inc.id,
        {"location": "上海市", "measures": "已冻结账号、更换口令", "impact": "客户信息外泄"},
        clock=clock,
    )
    clock.advance(hours=1)
    rep = flow.file_report(ws, inc.id, "initial", clock=clock)
    folder = Path(rep.folder)
    assert sorted(rep.files) == sorted(p.name for p in folder.iterdir())
    assert {"report.zh-CN.pdf", "report.en.pdf", "report.zh-CN.html", "report.en.html"} <= set(
        rep.files
    )
    filed = entries(ws, action="incident.report.file")[-1]
    assert filed.details["sha256"] == {p.name: sha256_file(p) for p in folder.iterdir()}
    assert filed.actor == "wangmin"
    inc = records.get_incident(ws, inc.id)
    met = {o.rule for o in inc.obligations if o.status == "met"}
    assert met == {"cac.initial.ordinary", "pipl57.regulator"}
    doc = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert doc["drill"] is False and doc["kind"] == "initial"
    html = (folder / "report.zh-CN.html").read_text(encoding="utf-8")
    assert (
        "网络安全事件初始报告" in html and "上海市" in html and "示例市诚信小额贷款有限公司" in html
    )
    assert (folder / "report.zh-CN.pdf").read_bytes().startswith(b"%PDF")
    # a supplement is numbered, meets nothing
    sup = flow.file_report(ws, inc.id, "supplement", clock=clock)
    assert (sup.number, sup.obligations) == (1, [])
    # handled -> the summary is due in 30 days; filing it meets it; then the incident closes
    flow.decide_individuals(ws, inc.id, notify=False, reason="数据已加密且密钥未泄露", clock=clock)
    clock.advance(days=2)
    flow.mark_handled(ws, inc.id, clock=clock)
    with pytest.raises(BadInput, match="open obligation"):
        flow.close(ws, inc.id, root_cause="弱口令", lessons="启用多因素认证", clock=clock)
    summary = flow.file_report(ws, inc.id, "summary", clock=clock)
    assert len(summary.obligations) == 1
    flow.close(ws, inc.id, root_cause="弱口令", lessons="启用多因素认证", clock=clock)
    size = ledger_size(ws)
    with pytest.raises(BadInput, match="closed"):
        flow.file_report(ws, inc.id, "supplement", clock=clock)
    assert ledger_size(ws) == size
    assert not (folder.parent / "supplement-2").exists()


def test_individuals_waiver_is_recorded_with_reason_and_can_be_lifted(ws: Workspace) -> None:
    clock = Clock(T0)
    inc = _incident(ws, clock, IncidentSettings(), people=30)
    with pytest.raises(BadInput, match="rests on the measures taken"):
        flow.decide_individuals(ws, inc.id, notify=False, reason="密文", clock=clock)
    flow.set_facts(ws, inc.id, {"measures": "密钥已轮换,密文无法解开"}, clock=clock)
    ob = flow.decide_individuals(
        ws, inc.id, notify=False, reason="泄露数据为强加密密文,密钥未泄露", clock=clock
    )
    assert ob.status == "waived" and ob.waiver is not None
    assert ob.waiver["by"] == "wangmin" and "密钥未泄露" in ob.waiver["reason"]
    decided = entries(ws, action="incident.individuals")[-1]
    assert decided.details["notify"] is False and decided.details["basis"].endswith("第二款")
    assert (
        flow.decide_individuals(
            ws, inc.id, notify=True, reason="监管部门要求通知", clock=clock
        ).status
        == "open"
    )


def test_timeline_is_derived_from_the_ledger(ws: Workspace) -> None:
    clock = Clock(T0)
    ev = flow.report_event(ws, "异常登录", noticed_at=T0, data=["sys_user"], clock=clock)
    clock.advance(minutes=10)
    inc = flow.promote(ws, ev.id, reason="确认入侵", category="intrusion", clock=clock).incident
    clock.advance(minutes=10)
    flow.add_action(
        ws, inc.id, "轮换全部口令", owner="zhaolei", due_on=dt.date(2026, 3, 9), clock=clock
    )
    steps = flow.incident_timeline(ws, inc.id)
    assert [s["action"] for s in steps] == [
        "incident.event.record",
        "incident.promote",
        "incident.action.add",
    ]
    assert [s["at"] for s in steps] == [
        T0.isoformat(),
        (T0 + dt.timedelta(minutes=10)).isoformat(),
        (T0 + dt.timedelta(minutes=20)).isoformat(),
    ]
    assert {s["actor"] for s in steps} == {"wangmin"}
    assert [s["seq"] for s in steps] == sorted(s["seq"] for s in steps)
    with pytest.raises(BadInput, match="no person named"):
        flow.add_action(ws, inc.id, "x", owner="nobody", due_on=dt.date(2026, 3, 9), clock=clock)


# --- drills --------------------------------------------------------------------------------------


def test_a_drill_runs_the_workflow_and_reaches_no_real_recipient(ws: Workspace) -> None:
    clock = Clock(T0)
    with pytest.raises(BadInput, match="not a registered person"):
        flow.schedule(ws, "lost_laptop", at=T0, participants=["wangmin", "stranger"], clock=clock)
    drill = flow.schedule(
        ws,
        "dd_extract_leak",
        at=T0 + dt.timedelta(days=1),
        participants=["wangmin", "zhaolei"],
        clock=clock,
    )
    assert flow.status(ws, clock=clock).next_drill["scheduled"]["id"] == drill.id
    clock.advance(days=1)
    inc = flow.start(ws, drill.id, clock=clock)
    assert inc.drill and inc.aware_at == clock()
    assert inc.obligations and all(
        o.recipient_name.startswith("[演练 DRILL]") for o in inc.obligations
    )
    assert any(o.rule == "police.crime" for o in inc.obligations)  # the scenario suspects a crime
    flow.set_facts(
        ws,
        inc.id,
        {
            "cause": "分享链接外泄",
            "harm": "诈骗",
            "measures": "撤销链接",
            "advice": "警惕来电",
            "contact": "王敏 021-12345678",
        },
        clock=clock,
    )
    size = ledger_size(ws)
    with pytest.raises(BadInput, match="drill never addresses real customers"):
        flow.prepare_notice(ws, inc.id, audience="customers", clock=clock)
    assert ledger_size(ws) == size + 1  # only the authorisation decision
    notice = flow.prepare_notice(ws, inc.id, audience="participants", clock=clock)
    assert notice["audience"] == {"kind": "participants", "names": ["wangmin", "zhaolei"]}
    clock.advance(minutes=40)
    rep = flow.file_report(ws, inc.id, "initial", clock=clock)
    doc = json.loads((Path(rep.folder) / "report.json").read_text(encoding="utf-8"))
    assert doc["drill"] is True
    assert "演练" in (Path(rep.folder) / "report.zh-CN.html").read_text(encoding="utf-8")
    clock.advance(hours=1)
    done = flow.finish(ws, drill.id, lessons="报告模板需预先填好单位信息", clock=clock)
    timings = {t["rule"]: t for t in (done.result or {})["timings"]}
    assert timings["cac.initial.ordinary"]["result"] == "in_time"
    assert timings["police.crime"]["result"] == "unfinished"  # 报案 is not met by a report
    assert timings["cac.initial.ordinary"]["used_hours"] == pytest.approx(40 / 60, abs=0.01)
    assert records.get_incident(ws, inc.id).status == "closed"
    nd = flow.status(ws, clock=clock).next_drill
    assert nd["due_by"] == (clock() + dt.timedelta(days=180)).isoformat()
    assert all(not d.drill for d in flow.status(ws, clock=clock).duties)


def test_the_next_drill_is_overdue_when_no_drill_is_scheduled_ahead(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from handover.cli.incidents import echo_status

    clock = Clock(T0)
    drill = flow.schedule(ws, "lost_laptop", at=T0, participants=["wangmin"], clock=clock)
    flow.start(ws, drill.id, clock=clock)
    clock.advance(hours=2)  # finished 11:00 in Beijing
    flow.finish(ws, drill.id, lessons="预先登记联系人", clock=clock)
    due = clock() + dt.timedelta(days=ws.settings.incidents.drill_every_days)
    # 23:00 the evening before: one calendar day left, not 0
    eve = flow.status(ws, clock=lambda: due - dt.timedelta(hours=12)).next_drill
    assert (eve["days_left"], eve["overdue"]) == (1, False)
    # a drill scheduled for the day before, never started, does not hide the overdue
    ahead = due - dt.timedelta(days=1)
    flow.schedule(ws, "lost_laptop", at=ahead, participants=["wangmin"], clock=clock)
    late = flow.status(ws, clock=lambda: due + dt.timedelta(hours=1))
    assert late.next_drill["overdue"] and late.next_drill["scheduled"] is None
    assert late.next_drill["days_left"] == 0  # the same day in Beijing
    echo_status(late, "zh-CN", "Asia/Shanghai")
    out = capsys.readouterr().out
    due_on = due.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert f"应急演练已逾期:应在 {due_on} 前进行" in out and "剩余" not in out.splitlines()[-1]


def test_a_drill_whose_incident_cannot_be_created_is_not_left_running(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handover.incidents import drills

    clock = Clock(T0)
    drill = flow.schedule(ws, "lost_laptop", at=T0, participants=["wangmin"], clock=clock)
    sink = Recorder(ws, "wangmin")
    # settings that bypassed their checks (a sector regulator without hours): refused
    # before the drill, the ledger or the events are touched
    unchecked = IncidentSettings.model_construct(
        **{**IncidentSettings().model_dump(), "sector_regulator": "上海市地方金融管理局"}
    )
    size = ledger_size(ws)
    with pytest.raises(BadInput, match="sector_hours"):
        drills.start_drill(
            ws,
            drill.id,
            started_by="wangmin",
            rules=load_rules(),
            conf=unchecked,
            inventory=_inventory(ws),
            events=sink,
            clock=clock,
        )
    assert ledger_size(ws) == size and records.list_events(ws) == []
    assert drills.get_drill(ws, drill.id).status == "scheduled"
    # the promotion itself fails after the drill's event was recorded: the drill goes back
    # to scheduled and the event is dismissed with the reason, so neither is left open
    real = drills.promote
    monkeypatch.setattr(drills, "promote", lambda *a, **kw: real(*a, **{**kw, "grade": "extreme"}))
    with pytest.raises(BadInput, match="grade 'extreme' is not valid"):
        flow.start(ws, drill.id, clock=clock)
    d = drills.get_drill(ws, drill.id)
    assert (d.status, d.started_at, d.incident_id) == ("scheduled", None, None)
    [ev] = records.list_events(ws)
    assert ev.status == "dismissed" and records.list_incidents(ws) == []
    dismissed = entries(ws, action="incident.event.dismiss")[-1].details
    assert dismissed["reason"].startswith(f"drill {drill.id} not started: grade 'extreme'")
    assert not entries(ws, action="incident.drill.start")
    monkeypatch.undo()
    clock.advance(minutes=5)
    inc = flow.start(ws, drill.id, clock=clock)  # and it can still be started
    assert drills.get_drill(ws, drill.id).status == "running" and inc.drill


def test_a_real_incident_cannot_address_drill_participants(ws: Workspace) -> None:
    clock = Clock(T0)
    inc = _incident(ws, clock, IncidentSettings(), people=20)
    flow.set_facts(
        ws, inc.id, {"cause": "c", "harm": "h", "measures": "m", "advice": "a"}, clock=clock
    )
    with pytest.raises(BadInput, match="not a drill"):
        flow.prepare_notice(ws, inc.id, audience="participants", clock=clock)
    notice = flow.prepare_notice(ws, inc.id, clock=clock)
    assert notice["content"]["contact"] == "王敏 021-12345678"  # from the seller in handover.toml
    assert notice["audience"]["kind"] == "customers"
    assert notice["audience"]["tables"][0]["table"] == "cust_info"


def test_the_workflow_on_a_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    """The same clocks and reports with the platform store on PostgreSQL (aware times,
    row locks)."""
    w = init_workspace(tmp_path / "pg", TRANSFER, demo=True, database_url=pg_url)
    try:
        clock = Clock(T0)
        ev = flow.report_event(w, "泄露", noticed_at=T0, data=["cust_info"], clock=clock)
        inc = flow.promote(
            w, ev.id, reason="r", people=1_000_000, people_reason="客户主表", clock=clock
        ).incident
        cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
        assert cac.due_at == T0 + dt.timedelta(hours=4)
        clock.advance(hours=4)
        assert [o.id for o in flow.tick(w, clock=clock).escalated] == [cac.id]
        rep = flow.file_report(w, inc.id, "initial", clock=clock)
        assert cac.id in rep.obligations
        met = records.get_incident(w, inc.id).obligations
        assert next(o for o in met if o.id == cac.id).met_at == clock()
    finally:
        w.close()
