"""Duties counted in days (the 30-day summary report, 办法 第八条): shown by their last day
and the days left, never as hours — in the CLI, the console, the reports and the mails,
with ``period`` and ``days_left`` added to ``--json`` — and moved off a statutory holiday
the workspace lists in ``[incidents] holidays`` (民法典 第二百零三条第一款), the duty's
record and its ledger event saying so. Real workspaces and ledgers; every clock injected.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from handover.errors import BadInput
from handover.flows import incidents as flow
from handover.flows.workspace import init_workspace
from handover.incidents import incidents as kernel
from handover.incidents import records
from handover.incidents.rules import load_rules
from handover.ledger import Recorder, entries
from handover.settings import IncidentSettings
from handover.workspace import Workspace, open_workspace
from incidents_data import TRANSFER, Clock

SH = ZoneInfo("Asia/Shanghai")
#: example runs, not the State Council's calendar of any year
GOLDEN_WEEK = '["2026-10-01..2026-10-07"]'


def at(text: str) -> dt.datetime:
    """A Beijing time, ``2026-03-02 15:30``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("days") / "ws"
    init_workspace(path, TRANSFER, demo=True).close()
    return path


@pytest.fixture
def workspace(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    """The demo workspace as it comes: no ``holidays`` setting."""
    yield from _opened(template, tmp_path / "ws", "")


@pytest.fixture
def holiday_ws(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    """The demo workspace listing 2026-10-01..2026-10-07 as a statutory holiday."""
    yield from _opened(template, tmp_path / "ws", f"\n[incidents]\nholidays = {GOLDEN_WEEK}\n")


def _opened(template: Path, dest: Path, extra: str) -> Iterator[Workspace]:
    shutil.copytree(template, dest)
    with (dest / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write(extra)
    ws = open_workspace(dest)
    try:
        yield ws
    finally:
        ws.close()


def _handled(ws: Workspace, clock: Clock, handled_at: dt.datetime) -> records.Incident:
    """A significant incident (2,000,000 people, so the CAC summary duty exists) noticed
    30 minutes before the clock, promoted, its handling ended at ``handled_at``."""
    sink = Recorder(ws, "wangmin")
    ev = kernel.record_event(
        ws,
        "客户信息泄露",
        noticed_at=clock() - dt.timedelta(minutes=30),
        noticed_by="zhaolei",
        reported_by="wangmin",
        data=(),
        events=sink,
        clock=clock,
    )
    inc = kernel.promote(
        ws,
        ev.id,
        decided_by="wangmin",
        reason="确认",
        rules=flow.rules_of(ws),
        conf=ws.settings.incidents,
        inventory=None,
        events=sink,
        clock=clock,
        people=2_000_000,
        people_reason="核对后人数",
    ).incident
    clock.at = max(clock.at, handled_at + dt.timedelta(minutes=30))
    return flow.mark_handled(ws, inc.id, at=handled_at, clock=clock)


def _summary(inc: records.Incident) -> records.Obligation:
    return next(o for o in inc.obligations if o.rule == "cac.summary.ordinary")


def _reminder(ws: Workspace, inc: records.Incident, now: dt.datetime) -> Any:
    """The reminder mail of the summary duty of ``inc`` at ``now``."""
    from handover.incidents.alerts import compose
    from handover.incidents.models import IncidentRow

    with ws.store.session() as s:
        row = s.get(IncidentRow, inc.id)
        assert row is not None
        return compose(
            "remind",
            "k" * 32,
            "dpo@seller.example.cn",
            _summary(inc),
            row,
            now=now,
            timezone="Asia/Shanghai",
        )


def _escalated_at(ws: Workspace, clock: Clock, due: dt.datetime) -> None:
    """``incidents tick`` escalates the summary duty at ``due``, not a minute before."""
    clock.at = due - dt.timedelta(minutes=1)
    assert "cac.summary.ordinary" not in {o.rule for o in flow.tick(ws, clock=clock).escalated}
    clock.at = due
    assert [o.rule for o in flow.tick(ws, clock=clock).escalated] == ["cac.summary.ordinary"]


def _cells(html: str, row_id: str) -> list[str]:
    """The text of each cell of the console's table row ``row_id``."""
    row = re.search(rf'<tr id="{row_id}".*?</tr>', html, re.S)
    assert row is not None, row_id
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    ]


def _rule_source() -> str:
    return next(o.source for o in load_rules().obligations if o.id == "cac.summary.ordinary")


# --- the period ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "holidays", "last", "run"),
    [
        # nothing listed: as before — 30 days after the start day, 24:00
        ("2026-09-01 15:30", [], "2026-10-01", None),
        # the last day starts a listed run: the day after the run
        (
            "2026-09-01 15:30",
            ["2026-10-01..2026-10-07"],
            "2026-10-08",
            ("2026-10-01", "2026-10-07"),
        ),
        # the last day inside a run: the day after the run too
        (
            "2026-09-03 08:00",
            ["2026-10-01..2026-10-07"],
            "2026-10-08",
            ("2026-10-03", "2026-10-07"),
        ),
        # entries that touch are one run
        (
            "2026-09-01 15:30",
            ["2026-10-01..2026-10-03", "2026-10-04", "2026-10-05..2026-10-07"],
            "2026-10-08",
            ("2026-10-01", "2026-10-07"),
        ),
        # a holiday inside the period, not on its last day, moves nothing
        ("2026-09-01 15:30", ["2026-09-15", "2026-10-02"], "2026-10-01", None),
        # a Saturday not listed is no holiday here (only the listed days count)
        ("2026-09-03 08:00", [], "2026-10-03", None),
        # the next year: a run across New Year
        (
            "2026-12-02 10:00",
            ["2026-12-31..2027-01-02"],
            "2027-01-03",
            ("2027-01-01", "2027-01-02"),
        ),
    ],
)
def test_a_period_in_days_moves_off_a_listed_holiday_only(
    start: str, holidays: list[str], last: str, run: tuple[str, str] | None
) -> None:
    from handover.incidents.rules import day_period

    dates = IncidentSettings(holidays=holidays).holiday_dates()
    period = day_period(at(start), 30, "Asia/Shanghai", dates)
    assert period.last_day == dt.date.fromisoformat(last)
    assert period.due == at(last) + dt.timedelta(days=1)  # 24:00 of the last day
    assert period.due.tzinfo == dt.UTC
    expected = None if run is None else tuple(dt.date.fromisoformat(d) for d in run)
    assert period.holiday == expected


@pytest.mark.parametrize(
    ("entries_", "named"),
    [
        (["2026-02-30"], "2026-02-30"),
        (["2026-10-08..2026-10-01"], "2026-10-08..2026-10-01"),
        (["2026-01-01..2026-12-31"], "2026-01-01..2026-12-31"),  # a typo, not a holiday
        (["20261001"], "20261001"),
        (["2026-10-01", "国庆"], "国庆"),
    ],
)
def test_bad_holidays_are_refused_at_load_naming_the_entry(
    template: Path, tmp_path: Path, entries_: list[str], named: str
) -> None:
    from handover.cli.main import app

    with pytest.raises(ValidationError, match=named):
        IncidentSettings(holidays=entries_)
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    with (ws / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write(f"\n[incidents]\nholidays = {json.dumps(entries_, ensure_ascii=False)}\n")
    res = CliRunner().invoke(app, ["-w", str(ws), "--lang", "en", "incidents", "list"])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "incidents.holidays" in lines[0] and named in lines[0], lines


def test_holidays_take_dates_and_runs_and_toml_dates() -> None:
    conf = IncidentSettings(
        holidays=["2026-10-01..2026-10-03", dt.date(2027, 1, 1), " 2026-05-01 "]
    )
    assert conf.holidays == ["2026-10-01..2026-10-03", "2027-01-01", "2026-05-01"]
    assert conf.holiday_dates() == {
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 2),
        dt.date(2026, 10, 3),
        dt.date(2027, 1, 1),
        dt.date(2026, 5, 1),
    }
    assert IncidentSettings().holiday_dates() == frozenset()


def test_the_setting_is_documented() -> None:
    docs = Path(__file__).resolve().parents[1] / "docs"
    assert "| `incidents.holidays` |" in (docs / "settings.md").read_text(encoding="utf-8")
    text = (docs / "incidents.md").read_text(encoding="utf-8")
    assert "holidays = [" in text and "第二百零三条第一款" in text
    assert "Not applied:\n第二百零三条第一款" not in text


# --- a summary duty whose last day is a holiday ------------------------------------------------


def test_a_summary_due_on_a_holiday_ends_after_it_and_its_record_says_why(
    holiday_ws: Workspace,
) -> None:
    ws = holiday_ws
    clock = Clock(at("2026-08-20 09:00"))
    inc = _handled(ws, clock, at("2026-09-01 15:30"))
    summary = _summary(inc)
    # 30 days end on 2026-10-01, a listed holiday: the period ends 2026-10-08 24:00
    assert summary.due_at == at("2026-10-09 00:00")
    assert summary.period is not None and summary.period.last_day == dt.date(2026, 10, 8)
    assert summary.period.holiday == (dt.date(2026, 10, 1), dt.date(2026, 10, 7))
    assert summary.source.startswith(_rule_source())
    assert summary.source.endswith(
        ";最后一日 2026-10-01 为法定休假日(2026-10-01 至 2026-10-07,[incidents] holidays),"
        "依 民法典 第二百零三条第一款 顺延至 2026-10-08 24 时"
    )
    handled = entries(ws, action="incident.handled")[-1].details
    assert handled["obligations"][0]["period"] == {
        "days": 30,
        "last_day": "2026-10-08",
        "ends": "24:00",
        "timezone": "Asia/Shanghai",
        "business_hours": None,
        "extended": {
            "nominal_last_day": "2026-10-01",
            "holiday": ["2026-10-01", "2026-10-07"],
            "basis": "民法典 第二百零三条第一款",
        },
    }
    shown = records.get_incident(ws, inc.id).to_json(at("2026-10-06 12:00"))
    duty = next(o for o in shown["obligations"] if o["rule"] == "cac.summary.ordinary")
    assert duty["period"]["extended"]["holiday"] == ["2026-10-01", "2026-10-07"]
    assert duty["days_left"] == 2 and duty["seconds_left"] > 0
    # the CLI line says it, in both languages
    from handover.cli.incidents import _duty

    got = records.get_incident(ws, inc.id)
    zh = _duty(_summary(got), at("2026-10-06 12:00"), "zh-CN", "Asia/Shanghai")
    en = _duty(_summary(got), at("2026-10-06 12:00"), "en", "Asia/Shanghai")
    assert "截止 2026-10-08 24:00(剩 2 天)" in zh
    assert "最后一日 2026-10-01 为法定休假日(2026-10-01 至 2026-10-07),顺延至 2026-10-08" in zh
    assert "due 2026-10-08 24:00 (2 days left)" in en
    assert "fell on a statutory holiday (2026-10-01..2026-10-07): extended to 2026-10-08" in en
    # missed only at 24:00 of the moved last day
    _escalated_at(ws, clock, at("2026-10-09 00:00"))


def test_hour_clocks_run_through_a_holiday(holiday_ws: Workspace) -> None:
    clock = Clock(at("2026-10-02 09:00"))
    inc = _handled(holiday_ws, clock, at("2026-10-02 10:00"))
    cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
    assert cac.due_at == at("2026-10-02 08:30") + dt.timedelta(hours=4) and cac.period is None
    assert "第二百零三条第一款 顺延" not in cac.source
    # 30 days after 10-02 end on 11-01: no holiday listed there, nothing moves
    assert _summary(inc).due_at == at("2026-11-02 00:00")


def test_without_the_setting_nothing_moves(workspace: Workspace) -> None:
    clock = Clock(at("2026-08-20 09:00"))
    inc = _handled(workspace, clock, at("2026-09-01 15:30"))
    summary = _summary(inc)
    assert summary.due_at == at("2026-10-02 00:00")  # 2026-10-01 24:00, as before
    assert summary.period is not None and summary.period.holiday is None
    assert summary.source == _rule_source()
    assert summary.extended() is None
    handled = entries(workspace, action="incident.handled")[-1].details
    assert handled["obligations"][0]["period"]["extended"] is None


def test_a_deadline_is_fixed_when_the_duty_is_created(template: Path, tmp_path: Path) -> None:
    """Holidays listed after a duty was created do not move it: it is read as it stands,
    its last day the one it was given, no holiday claimed."""
    dest = tmp_path / "ws"
    shutil.copytree(template, dest)
    ws = open_workspace(dest)
    try:
        inc = _handled(ws, Clock(at("2026-08-20 09:00")), at("2026-09-01 15:30"))
    finally:
        ws.close()
    with (dest / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write(f"\n[incidents]\nholidays = {GOLDEN_WEEK}\n")
    ws = open_workspace(dest)
    try:
        summary = _summary(records.get_incident(ws, inc.id))
    finally:
        ws.close()
    assert summary.due_at == at("2026-10-02 00:00")
    assert summary.period is not None and summary.period.last_day == dt.date(2026, 10, 1)
    assert summary.period.holiday is None and summary.extended() is None
    assert summary.due_text("Asia/Shanghai") == "2026-10-01 24:00"


# --- how a day clock reads ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "zh", "en"),
    [
        (
            "2026-03-03 10:00",
            "截止 2026-04-01 24:00(剩 29 天)",
            "due 2026-04-01 24:00 (29 days left)",
        ),
        ("2026-03-31 12:00", "截止 2026-04-01 24:00(剩 1 天)", "due 2026-04-01 24:00 (1 day left)"),
        (
            "2026-04-01 18:40",
            "截止 2026-04-01 24:00(今日 24:00 截止,剩余 5 小时 20 分)",
            "due 2026-04-01 24:00 (due today at 24:00, 5 h 20 min left)",
        ),
        (
            "2026-04-02 00:00",
            "截止 2026-04-01 24:00(已逾期 1 天)",
            "due 2026-04-01 24:00 (overdue by 1 day)",
        ),
        (
            "2026-04-04 09:00",
            "截止 2026-04-01 24:00(已逾期 3 天)",
            "due 2026-04-01 24:00 (overdue by 3 days)",
        ),
    ],
)
def test_status_shows_a_day_clock_as_its_last_day_and_days(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], now: str, zh: str, en: str
) -> None:
    from handover.cli.incidents import echo_status

    _handled(workspace, Clock(at("2026-03-02 09:00")), at("2026-03-02 15:30"))
    report = flow.status(workspace, clock=Clock(at(now)))
    for lang, want in (("zh-CN", zh), ("en", en)):
        echo_status(report, lang, "Asia/Shanghai")
        lines = capsys.readouterr().out.splitlines()
        line = next(x for x in lines if "总结报告" in x or "summary report" in x)
        assert want in line, line
        assert "728" not in line and "小时 30 分" not in line
        # the hour clocks keep their hours and minutes
        initial = next(x for x in lines if "初始报告" in x or "initial report" in x)
        assert "小时" in initial or " h " in initial, initial


def test_json_keeps_its_fields_and_adds_the_period(workspace: Workspace) -> None:
    _handled(workspace, Clock(at("2026-03-02 09:00")), at("2026-03-02 15:30"))
    out = flow.status(workspace, clock=Clock(at("2026-03-03 10:00"))).to_json()
    duties = {o["rule"]: o for o in out["obligations"]}
    summary, initial = duties["cac.summary.ordinary"], duties["cac.initial.ordinary"]
    assert summary["hours"] == pytest.approx(30 * 24 + 8.5)  # the time that leaves
    assert summary["due_at"] == "2026-04-01T16:00:00+00:00"
    assert summary["seconds_left"] == int(
        (at("2026-04-02 00:00") - at("2026-03-03 10:00")).total_seconds()
    )
    assert summary["days_left"] == 29
    assert summary["period"] == {
        "days": 30,
        "last_day": "2026-04-01",
        "ends": "24:00",
        "timezone": "Asia/Shanghai",
        "business_hours": None,
        "extended": None,
    }
    assert initial["period"] is None and initial["days_left"] is None
    assert initial["hours"] == 4.0 and initial["seconds_left"] < 0


def test_reports_mails_and_the_console_read_a_day_clock_in_days(holiday_ws: Workspace) -> None:
    from handover.incidents.report import report_document
    from handover.reports.incident import context

    ws = holiday_ws
    clock = Clock(at("2026-08-20 09:00"))
    inc = records.get_incident(ws, _handled(ws, clock, at("2026-09-01 15:30")).id)
    doc = report_document(
        inc,
        "summary",
        number=1,
        operator={},
        systems=[],
        data=[],
        steps=[],
        now=at("2026-09-02 10:00"),
        timezone="Asia/Shanghai",
    )
    rows = {r[0]: r for r in context(doc, "zh-CN")["duties"]}
    summary = rows[f"#{_summary(inc).id}"]
    assert "2026-10-08 24:00 (UTC+08:00)" in summary
    assert any(
        c.startswith("法定时限 30 日(至最后一日 24 时)\n最后一日 2026-10-01 为法定休假日")
        for c in summary
    ), summary
    initial = rows[f"#{next(o.id for o in inc.obligations if o.rule == 'cac.initial.ordinary')}"]
    assert "法定时限 4 小时" in initial
    en = {r[0]: r for r in context(doc, "en")["duties"]}[f"#{_summary(inc).id}"]
    assert any(c.startswith("legal deadline 30 days (to 24:00 of the last day)") for c in en)
    assert not any("896.5" in str(c) for c in (*summary, *en))
    # the reminder mail
    mail = _reminder(ws, inc, at("2026-10-06 12:00"))
    assert "截止时间:2026-10-08 24:00 (Asia/Shanghai),剩 2 天" in mail.text
    assert "Due: 2026-10-08 24:00 (Asia/Shanghai), 2 days left" in mail.text
    assert "剩 2 天" in mail.subject and "小时" not in mail.subject
    assert "法定时限 30 日" in mail.text and "legal deadline 30 days" in mail.text
    assert "896.5" not in mail.text
    # the filed summary report: HTML, PDF and DOCX written with the clock in days
    clock.at = at("2026-09-02 10:00")
    rep = flow.file_report(ws, inc.id, "summary", clock=clock)
    html = (Path(rep.folder) / "report.zh-CN.html").read_text(encoding="utf-8")
    assert "2026-10-08 24:00 (UTC+08:00)" in html and "法定时限 30 日" in html
    assert "顺延至 2026-10-08(民法典 第二百零三条第一款)" in html and "896.5" not in html
    assert {"report.en.pdf", "report.zh-CN.docx"} <= set(rep.files)


def test_the_console_shows_the_last_day_and_the_days_left(workspace: Workspace) -> None:
    from fastapi.testclient import TestClient

    from handover.web.app import create_app
    from web_support import login

    inc = _handled(workspace, Clock(at("2026-03-02 09:00")), at("2026-03-02 15:30"))
    duty = _summary(inc).id
    with TestClient(create_app(workspace.path, clock=Clock(at("2026-03-03 10:00")))) as client:
        login(client, "wangmin")
        for page, row_id in (
            ("/incidents", f"duty-{duty}"),
            (f"/incidents/{inc.id}", f"ob-{duty}"),
        ):
            html = client.get(page).text
            cells = _cells(html, row_id)
            assert "2026年4月1日 24:00" in cells and "剩 29 天" in cells, cells


def test_the_dossier_shows_a_day_clock_by_its_last_day_and_the_holiday(
    holiday_ws: Workspace,
) -> None:
    from handover.reports.dossier import duty_due, duty_name

    clock = Clock(at("2026-08-20 09:00"))
    inc = _handled(holiday_ws, clock, at("2026-09-01 15:30"))
    # the incident as flows.dossier writes it into dossier.json
    shown = records.get_incident(holiday_ws, inc.id).to_json(at("2026-09-02 10:00"))
    duties = {o["rule"]: o for o in shown["obligations"]}
    summary, initial = duties["cac.summary.ordinary"], duties["cac.initial.ordinary"]
    assert duty_due(summary, "zh-CN") == (
        "2026-10-08 24:00(Asia/Shanghai),遇法定休假日 2026-10-01 至 2026-10-07 顺延"
    )
    assert duty_due(summary, "en") == (
        "2026-10-08 24:00 (Asia/Shanghai), moved past the statutory holiday 2026-10-01..2026-10-07"
    )
    assert duty_due(initial, "en") == "2026-08-20 04:30 UTC"  # an hours clock: its instant
    assert (
        duty_name(summary, "zh-CN")
        == "总结报告 · 国家网络安全事件报告管理办法(cac.summary.ordinary)"
    )
    assert duty_name(summary, "en") == (
        "summary report · CAC incident reporting measures (cac.summary.ordinary)"
    )


def test_tick_names_a_day_clock_by_its_last_day(template: Path, tmp_path: Path) -> None:
    """``incidents tick`` (real time: the incident is placed 27 days back from now, so
    the 30-day summary's reminder is due) names the day duty's deadline as every other
    view does, its last day at 24:00, not 00:00 of the day after (review)."""
    from handover.cli.main import app

    for ws in _opened(template, tmp_path / "ws", ""):
        now = dt.datetime.now(dt.UTC)
        handled = now - dt.timedelta(days=27)
        inc = _handled(ws, Clock(handled - dt.timedelta(hours=2)), handled)
        last_day = _summary(inc).period
        assert last_day is not None
    res = CliRunner().invoke(app, ["-w", str(tmp_path / "ws"), "--lang", "en", "incidents", "tick"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if f"obligation #{_summary(inc).id} " in x)
    assert f"{last_day.last_day.isoformat()} 24:00" in line and "00:00+08:00" not in line, line


def test_the_console_shows_a_day_clock_of_another_zone_in_beijing_time(
    template: Path, tmp_path: Path
) -> None:
    """With ``[incidents] timezone`` other than Beijing time, the console (whose every time
    is Beijing time) shows the deadline's minute, not "24:00" of a day in another zone:
    Tokyo's 24:00 of 2026-04-01 is 23:00 in Beijing (review)."""
    from fastapi.testclient import TestClient

    from handover.web.app import create_app
    from web_support import login

    for ws in _opened(template, tmp_path / "ws", '\n[incidents]\ntimezone = "Asia/Tokyo"\n'):
        inc = _handled(ws, Clock(at("2026-03-02 09:00")), at("2026-03-02 15:30"))
        duty = _summary(inc).id
        with TestClient(create_app(ws.path, clock=Clock(at("2026-03-03 10:00")))) as client:
            login(client, "wangmin")
            html = client.get(f"/incidents/{inc.id}").text
        cells = _cells(html, f"ob-{duty}")
        assert any("2026年4月1日 23:00" in c for c in cells), cells
        assert not any("24:00" in c for c in cells), cells


# --- business hours (民法典 第二百零三条第二款, second sentence) -----------------------------------

CLOSES = '\n[incidents.business_hours_end]\nprovincial_cac = "17:30"\n'


@pytest.fixture
def closing_ws(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    """The demo workspace whose provincial CAC office takes reports until 17:30, with the
    golden week listed."""
    extra = f"\n[incidents]\nholidays = {GOLDEN_WEEK}\n" + CLOSES
    yield from _opened(template, tmp_path / "ws", extra)


def test_a_period_ends_when_business_hours_end_on_its_last_day() -> None:
    from handover.incidents.rules import day_period

    closes = dt.time(17, 30)
    period = day_period(at("2026-09-01 15:30"), 30, "Asia/Shanghai", (), closes)
    assert period.last_day == dt.date(2026, 10, 1) and period.due == at("2026-10-01 17:30")
    assert period.ends == "17:30" and period.due.tzinfo == dt.UTC
    # a holiday moves the day; the hours still end it
    dates = IncidentSettings(holidays=["2026-10-01..2026-10-07"]).holiday_dates()
    moved = day_period(at("2026-09-01 15:30"), 30, "Asia/Shanghai", dates, closes)
    assert moved.due == at("2026-10-08 17:30") and moved.holiday is not None
    # without hours: 24:00, as before
    assert day_period(at("2026-09-01 15:30"), 30, "Asia/Shanghai").ends == "24:00"


def test_business_hours_take_times_of_day() -> None:
    conf = IncidentSettings(business_hours_end={"provincial_cac": "17:30", "police": dt.time(18)})
    assert conf.business_hours_end == {"provincial_cac": "17:30", "police": "18:00"}
    assert conf.business_closes() == {"provincial_cac": dt.time(17, 30), "police": dt.time(18)}
    assert IncidentSettings().business_closes() == {}


@pytest.mark.parametrize("value", ["5:30pm", "24:00", "00:00", "17:30:00", "25:00", "", 1730])
def test_bad_business_hours_are_refused_at_load_naming_the_entry(
    template: Path, tmp_path: Path, value: object
) -> None:
    from handover.cli.main import app

    with pytest.raises(ValidationError, match="provincial_cac"):
        IncidentSettings(business_hours_end={"provincial_cac": value})
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    with (ws / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write(f"\n[incidents.business_hours_end]\nprovincial_cac = {json.dumps(value)}\n")
    res = CliRunner().invoke(app, ["-w", str(ws), "--lang", "en", "incidents", "list"])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "incidents.business_hours_end" in lines[0], lines
    assert "provincial_cac" in lines[0], lines


def test_business_hours_of_no_recipient_are_refused(template: Path, tmp_path: Path) -> None:
    """A misspelt recipient would leave its deadline at 24:00: refused, named, with the
    recipients the rules know, before anything is recorded."""
    from handover.cli.main import app

    for ws in _opened(template, tmp_path / "ws", CLOSES.replace("provincial_cac", "provincal_cac")):
        with pytest.raises(BadInput) as err:
            flow.rules_of(ws)
        text = str(err.value)
        assert "provincal_cac" in text and "provincial_cac" in text, text
        # duties already created are still read in days (only steps creating them refuse)
        assert records.day_clocks(ws).days.get("cac.summary.ordinary") == 30
    res = CliRunner().invoke(
        app, ["-w", str(tmp_path / "ws"), "--lang", "en", "incidents", "criteria"]
    )
    assert res.exit_code != 0 and "Traceback" not in res.output, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "provincal_cac" in lines[0], lines


def test_a_summary_owed_to_an_office_with_hours_ends_when_they_end(closing_ws: Workspace) -> None:
    from handover.cli.incidents import _duty

    ws = closing_ws
    clock = Clock(at("2026-08-20 09:00"))
    inc = _handled(ws, clock, at("2026-09-01 15:30"))
    summary = _summary(inc)
    assert summary.due_at == at("2026-10-08 17:30")  # moved past the holiday, 17:30
    assert summary.period is not None and summary.period.closes == dt.time(17, 30)
    # the rule's reckoning says when the period ends: 17:30, never 24:00 before the note
    assert "24时止" in _rule_source() and "24时止" not in summary.source
    assert summary.source.startswith(_rule_source().replace("24时止", "17:30止"))
    assert "处置结束次日起第30日当地时间17:30止" in summary.source
    assert summary.source.endswith(
        "顺延至 2026-10-08 17:30;接收方停止业务活动的时间为 17:30([incidents] business_hours_end),"
        "依 民法典 第二百零三条第二款(有业务时间的,停止业务活动的时间为截止时间)截止于 2026-10-08 17:30"
    )
    period = entries(ws, action="incident.handled")[-1].details["obligations"][0]["period"]
    assert period["ends"] == "17:30" and period["last_day"] == "2026-10-08"
    assert period["business_hours"] == {"ends": "17:30", "basis": "民法典 第二百零三条第二款"}
    # the hour clocks to the same office do not change
    initial = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
    assert initial.due_at == at("2026-08-20 08:30") + dt.timedelta(hours=4)
    assert initial.period is None and "第二百零三条第二款" not in initial.source
    got = _summary(records.get_incident(ws, inc.id))
    assert got.due_text("Asia/Shanghai") == "2026-10-08 17:30"
    assert got.period == summary.period
    for now, zh, en in (
        (
            "2026-10-06 12:00",
            "截止 2026-10-08 17:30(剩 2 天)",
            "due 2026-10-08 17:30 (2 days left)",
        ),
        (
            "2026-10-08 15:30",
            "(今日 17:30 截止,剩余 2 小时 0 分)",
            "(due today at 17:30, 2 h 0 min left)",
        ),
        ("2026-10-08 18:00", "(已超时 0 小时 30 分)", "(overdue by 0 h 30 min)"),
        ("2026-10-09 09:00", "(已逾期 1 天)", "(overdue by 1 day)"),
    ):
        zh_line = _duty(got, at(now), "zh-CN", "Asia/Shanghai")
        en_line = _duty(got, at(now), "en", "Asia/Shanghai")
        assert zh in zh_line and en in en_line, (zh_line, en_line)
        assert (
            "停止业务活动的时间为截止时间,最后一日 17:30 截止(民法典 第二百零三条第二款)" in zh_line
        )
        assert "when the recipient's business hours end (Civil Code Art. 203 ¶2)" in en_line
    # missed at 17:30 of the last day, not at 24:00
    _escalated_at(ws, clock, at("2026-10-08 17:30"))


def test_the_report_the_console_and_the_dossier_show_the_closing_time(
    closing_ws: Workspace,
) -> None:
    from fastapi.testclient import TestClient

    from handover.reports.dossier import duty_due
    from handover.web.app import create_app
    from web_support import login

    ws = closing_ws
    clock = Clock(at("2026-08-20 09:00"))
    inc = _handled(ws, clock, at("2026-09-01 15:30"))
    duty = _summary(inc).id
    with TestClient(create_app(ws.path, clock=Clock(at("2026-10-08 15:00")))) as client:
        login(client, "wangmin")
        page = client.get(f"/incidents/{inc.id}").text
    cells = _cells(page, f"ob-{duty}")
    assert "2026年10月8日 17:30" in cells, cells
    assert "今日 17:30 截止,剩余 2 小时 30 分" in " ".join(cells), cells
    clock.at = at("2026-09-02 10:00")
    rep = flow.file_report(ws, inc.id, "summary", clock=clock)
    html = (Path(rep.folder) / "report.zh-CN.html").read_text(encoding="utf-8")
    assert "2026-10-08 17:30 (UTC+08:00)" in html and "2026-10-08 24:00" not in html
    assert "最后一日 17:30 截止(民法典 第二百零三条第二款)" in html
    assert "法定时限 30 日(至最后一日 17:30,接收方停止业务活动的时间)" in html
    assert "24 时" not in html.split("法定时限 30 日")[1][:40]
    en = (Path(rep.folder) / "report.en.html").read_text(encoding="utf-8")
    assert "ends at 17:30 of its last day" in en
    assert "legal deadline 30 days (to 17:30 of the last day, when the recipient" in en
    # the reminder mail says the same

    mail = _reminder(ws, inc, at("2026-10-06 12:00"))
    assert "截止时间:2026-10-08 17:30 (Asia/Shanghai),剩 2 天" in mail.text
    assert "Due: 2026-10-08 17:30 (Asia/Shanghai), 2 days left" in mail.text
    assert "24:00" not in mail.text and "24 时" not in mail.text.replace("二十四时", "")
    shown = records.get_incident(ws, inc.id).to_json(at("2026-09-02 10:00"))
    summary = next(o for o in shown["obligations"] if o["rule"] == "cac.summary.ordinary")
    assert duty_due(summary, "zh-CN").startswith("2026-10-08 17:30(Asia/Shanghai)")
    assert duty_due(summary, "en").startswith("2026-10-08 17:30 (Asia/Shanghai)")


def test_business_hours_set_later_move_no_deadline(template: Path, tmp_path: Path) -> None:
    """A deadline is fixed when its duty is created: hours given afterwards leave it at
    24:00; hours taken away afterwards leave a 17:30 deadline at 17:30."""
    dest = tmp_path / "ws"
    for ws in _opened(template, dest, ""):
        before = _handled(ws, Clock(at("2026-08-20 09:00")), at("2026-09-01 15:30")).id
    with (dest / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write(CLOSES)
    ws = open_workspace(dest)
    try:
        old = _summary(records.get_incident(ws, before))
        after = _handled(ws, Clock(at("2026-08-21 09:00")), at("2026-09-02 15:30")).id
    finally:
        ws.close()
    assert (
        old.due_at == at("2026-10-02 00:00") and old.due_text("Asia/Shanghai") == "2026-10-01 24:00"
    )
    assert old.business_hours() is None
    config = (dest / "handover.toml").read_text(encoding="utf-8")
    # hours taken away, or changed: the duty stays a clock in days ending at 17:30
    for changed in ("", CLOSES.replace("17:30", "18:00")):
        (dest / "handover.toml").write_text(config.replace(CLOSES, changed), encoding="utf-8")
        ws = open_workspace(dest)
        try:
            new = _summary(records.get_incident(ws, after))
            left = new.time_left(at("2026-10-02 16:30")).render("en")
        finally:
            ws.close()
        assert new.due_at == at("2026-10-02 17:30")
        assert new.period is not None and new.period.closes == dt.time(17, 30)
        assert new.period.last_day == dt.date(2026, 10, 2) and new.period.days == 30
        assert new.due_text("Asia/Shanghai") == "2026-10-02 17:30"
        assert left == "due today at 17:30, 1 h 0 min left"
        assert new.to_json()["period"]["ends"] == "17:30"
        assert "第二百零三条第二款" in new.source  # the record still says why
