"""``handover incidents`` / ``handover drills`` through the CLI runner on a real workspace:
exit codes, one-line errors that change nothing, access control, JSON output."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from tests.hardening_support import refused
from typer.testing import CliRunner, Result

from handover.cli.main import app
from handover.ledger import ledger_size
from handover.workspace import open_workspace

runner = CliRunner()


def run(ws: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, ["-w", str(ws), *args], env=env)


def _size(ws: Path) -> int:
    w = open_workspace(ws)
    try:
        return ledger_size(w)
    finally:
        w.close()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    res = run(path, "init", "--demo")
    assert res.exit_code == 0, res.output
    return path


def _ago(**delta: float) -> str:
    # Times relative to the real clock: the test depends on neither date nor speed.
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**delta)).isoformat(timespec="seconds")


def _leak(ws: Path, *, hours: float, people: int) -> Result:
    """A leak of cust_info noticed ``hours`` ago, promoted with ``people`` affected."""
    assert (
        run(
            ws,
            "incidents",
            "event",
            "客户信息泄露",
            "--noticed-at",
            _ago(hours=hours),
            "--data",
            "cust_info",
        ).exit_code
        == 0
    )
    res = run(
        ws,
        "incidents",
        "promote",
        "1",
        "--reason",
        "确认",
        "--people",
        str(people),
        "--people-reason",
        "客户主表行数",
    )
    assert res.exit_code == 0, res.output
    return res


def test_awareness_in_the_future_exits_2_with_one_line_and_changes_nothing(ws: Path) -> None:
    size = _size(ws)
    res = run(ws, "--lang", "en", "incidents", "event", "x", "--noticed-at", _ago(hours=-24))
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "noticed_at" in lines[0] and "future" in lines[0]
    assert _size(ws) == size
    ok = run(ws, "incidents", "event", "可疑下载", "--noticed-at", _ago(minutes=5))
    assert ok.exit_code == 0, ok.output
    size = _size(ws)
    res = run(ws, "incidents", "promote", "1", "--reason", "r", "--aware-at", _ago(minutes=-5))
    assert res.exit_code == 2 and _size(ws) == size


def test_incident_from_event_to_report_through_the_cli(ws: Path) -> None:
    res = _leak(ws, hours=1, people=1_200_000)
    assert "较大网络安全事件" in res.output
    st = run(ws, "incidents", "status", "--json")
    duties = json.loads(st.output)["obligations"]
    cac = next(d for d in duties if d["rule"] == "cac.initial.ordinary")
    assert 2 * 3600 < cac["seconds_left"] <= 3 * 3600  # 4 h from awareness, 1 h gone
    human = run(ws, "--lang", "en", "incidents", "status")
    assert "CAC incident reporting measures" in human.output
    rep = run(ws, "incidents", "report", "1", "--json")
    assert rep.exit_code == 0, rep.output
    filed = json.loads(rep.output)
    assert Path(filed["folder"], "report.zh-CN.pdf").is_file()
    shown = json.loads(run(ws, "incidents", "show", "1", "--json").output)
    assert {o["rule"] for o in shown["obligations"] if o["status"] == "met"} == {
        "cac.initial.ordinary",
        "pipl57.regulator",
    }
    tl = run(ws, "incidents", "timeline", "1", "--json")
    assert [s["action"] for s in json.loads(tl.output)][-1] == "incident.report.file"


def test_a_rules_file_with_an_unknown_regime_refuses_and_changes_nothing(ws: Path) -> None:
    rules = Path(__file__).resolve().parents[1] / "src/handover/incidents/rules.toml"
    (ws / "bad-rules.toml").write_text(
        rules.read_text(encoding="utf-8").replace('regime = "police"', 'regime = "interpol"'),
        encoding="utf-8",
    )
    with (ws / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[incidents]\nrules = "bad-rules.toml"\n')
    assert run(ws, "incidents", "event", "x", "--noticed-at", _ago(minutes=1)).exit_code == 0
    res = run(ws, "--lang", "en", "incidents", "promote", "1", "--reason", "r")
    assert res.exit_code == 2
    assert "bad-rules.toml" in res.output and "interpol" in res.output
    listed = json.loads(run(ws, "incidents", "list", "--json").output)
    assert listed["incidents"] == [] and [e["status"] for e in listed["events"]] == ["open"]


def test_only_the_dpo_or_compliance_officer_decides(ws: Path) -> None:
    env = {"HANDOVER_PASSWORD": "zhaolei-demo-2026"}
    assert run(ws, "login", "zhaolei", env=env).exit_code == 0
    ev = run(ws, "incidents", "event", "笔记本丢失", "--noticed-at", _ago(minutes=3))
    assert ev.exit_code == 0, ev.output  # anyone may report
    res = run(ws, "incidents", "promote", "1", "--reason", "r")
    assert res.exit_code == 3, res.output
    assert "incident.manage" in res.output


def test_a_drill_through_the_cli_sends_nothing(ws: Path) -> None:
    res = run(
        ws,
        "drills",
        "schedule",
        "vendor_breach",
        "--at",
        _ago(hours=-1),
        "--participant",
        "wangmin",
        "--participant",
        "huangtao",
    )
    assert res.exit_code == 0, res.output
    assert run(ws, "drills", "start", "1").exit_code == 0
    facts = [
        "--set",
        "cause=c",
        "--set",
        "harm=h",
        "--set",
        "measures=m",
        "--set",
        "advice=a",
        "--set",
        "contact=王敏",
    ]
    assert run(ws, "incidents", "facts", "1", *facts).exit_code == 0
    size = _size(ws)
    bad = run(ws, "--lang", "en", "incidents", "notice", "1")
    assert bad.exit_code == 2 and "drill" in bad.output
    assert _size(ws) == size + 1  # the authorisation decision only; nothing prepared
    ok = run(ws, "incidents", "notice", "1", "--audience", "participants")
    assert json.loads(ok.output)["audience"]["names"] == ["wangmin", "huangtao"]
    done = run(ws, "drills", "finish", "1", "--lessons", "供应商联系人需预先登记", "--json")
    result = json.loads(done.output)["result"]
    assert {t["rule"] for t in result["timings"]} >= {"cac.initial.ordinary", "police.crime"}
    assert json.loads(run(ws, "incidents", "status", "--json").output)["obligations"] == []


def test_handover_status_lists_incident_duties_with_time_left_and_overdue(ws: Path) -> None:
    _leak(ws, hours=5, people=2_000_000)
    res = run(ws, "status", "--json")
    assert res.exit_code == 0, res.output
    inc = json.loads(res.output)["incidents"]
    rules = {o["rule"]: o for o in inc["obligations"]}
    assert inc["overdue"] == 1 and inc["open"] == len(rules) >= 3
    assert rules["cac.initial.ordinary"]["seconds_left"] < 0
    assert rules["pipl57.individuals"]["seconds_left"] > 0
    assert inc["next_drill"]["due_by"] and inc["alert_mails_pending"] == 0
    res = run(ws, "--lang", "en", "status")
    assert res.exit_code == 0, res.output
    text = res.output
    assert "Incident reporting duties: " in text and "1 overdue" in text
    assert (
        "overdue by 1 h" in text and "h " in text and "next drill overdue" in text
    )  # none ever run
    assert "#1 客户信息泄露" in text


@pytest.mark.parametrize(
    ("section", "setting"),
    [
        ('timezone = "Asia/Shangai"', "incidents.timezone"),
        ('sector_grades = ["significant", "serious"]', "incidents.sector_grades"),
    ],
)
def test_bad_incident_settings_refuse_with_one_line_and_change_nothing(
    ws: Path, section: str, setting: str
) -> None:
    good = (ws / "handover.toml").read_text(encoding="utf-8")
    assert run(ws, "incidents", "event", "可疑导出", "--noticed-at", _ago(minutes=9)).exit_code == 0
    sched = run(
        ws, "drills", "schedule", "lost_laptop", "--at", _ago(minutes=1), "--participant", "wangmin"
    )
    assert sched.exit_code == 0, sched.output
    size = _size(ws)
    (ws / "handover.toml").write_text(good + f"\n[incidents]\n{section}\n", encoding="utf-8")
    for args in (
        ("incidents", "event", "客户信息泄露", "--noticed-at", _ago(minutes=5)),
        ("incidents", "promote", "1", "--reason", "r"),
        ("drills", "start", "1"),
    ):
        res = run(ws, "--lang", "en", *args)
        assert res.exit_code == 2, (args, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and setting in lines[0] and "Traceback" not in res.output, lines
    (ws / "handover.toml").write_text(good, encoding="utf-8")
    assert _size(ws) == size
    listed = json.loads(run(ws, "incidents", "list", "--json").output)
    assert listed["incidents"] == [] and [e["status"] for e in listed["events"]] == ["open"]
    drills = json.loads(run(ws, "drills", "list", "--json").output)
    assert [(d["status"], d["incident"]) for d in drills] == [("scheduled", None)]


def test_list_shows_local_times_with_their_offset(ws: Path) -> None:
    from zoneinfo import ZoneInfo

    noticed = _ago(hours=1)
    at = dt.datetime.fromisoformat(noticed)
    assert run(ws, "incidents", "event", "客户信息泄露", "--noticed-at", noticed).exit_code == 0
    assert run(ws, "incidents", "event", "可疑登录", "--noticed-at", noticed).exit_code == 0
    assert run(ws, "incidents", "promote", "1", "--reason", "确认").exit_code == 0
    shanghai = at.astimezone(ZoneInfo("Asia/Shanghai")).isoformat(" ", "minutes")
    out = run(ws, "incidents", "list").output.splitlines()
    assert shanghai.endswith("+08:00")
    assert next(line for line in out if line.startswith("#1")).count(shanghai) == 1
    assert next(line for line in out if line.startswith("安全事件 2")).count(shanghai) == 1
    with (ws / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[incidents]\ntimezone = "Asia/Tokyo"\n')
    tokyo = at.astimezone(ZoneInfo("Asia/Tokyo")).isoformat(" ", "minutes")
    out = run(ws, "incidents", "list").output
    assert tokyo.endswith("+09:00") and out.count(tokyo) == 2


def test_a_sector_regulator_without_hours_still_opens_the_workspace(ws: Path) -> None:
    """The settings load (every command, logout and the console keep working); only the
    steps that need the sector's deadline are refused, in one line, changing nothing."""
    good = (ws / "handover.toml").read_text(encoding="utf-8")
    assert (
        run(ws, "incidents", "event", "客户信息泄露", "--noticed-at", _ago(minutes=9)).exit_code
        == 0
    )
    sched = run(
        ws, "drills", "schedule", "lost_laptop", "--at", _ago(minutes=1), "--participant", "wangmin"
    )
    assert sched.exit_code == 0, sched.output
    section = '\n[incidents]\nsector_regulator = "上海市地方金融管理局"\nsector_grades = ["general", "significant", "major", "especially_major"]\n'
    (ws / "handover.toml").write_text(good + section, encoding="utf-8")
    assert run(ws, "status").exit_code == 0
    size = _size(ws)
    for args in (("incidents", "promote", "1", "--reason", "r"), ("drills", "start", "1")):
        res = run(ws, "--lang", "en", *args)
        assert res.exit_code == 2, (args, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and "sector_hours" in lines[0], lines
    # the decisions to act are ledgered (as for any refusal after them); nothing else is
    w = open_workspace(ws)
    try:
        from handover.ledger import entries

        added = [e.action for e in entries(w) if e.seq > size]
    finally:
        w.close()
    assert set(added) <= {"access.allow"}, added
    listed = json.loads(run(ws, "incidents", "list", "--json").output)
    assert listed["incidents"] == [] and [e["status"] for e in listed["events"]] == ["open"]
    drills = json.loads(run(ws, "drills", "list", "--json").output)
    assert [(d["status"], d["incident"]) for d in drills] == [("scheduled", None)]


def test_drills_status_timeline_and_refusals_show_the_workspace_zone(ws: Path) -> None:
    from zoneinfo import ZoneInfo

    # a drill's time as typed (read in Asia/Shanghai), shown back the same, with its offset
    args = ("drills", "schedule", "lost_laptop", "--at", "2026-12-20T10:00")
    res = run(ws, "--lang", "en", *args, "--participant", "wangmin")
    assert res.exit_code == 0, res.output
    assert "2026-12-20 10:00+08:00" in res.output and "02:00" not in res.output
    listed = run(ws, "--lang", "en", "drills", "list").output
    assert "2026-12-20 10:00+08:00" in listed
    # the next drill: its scheduled time and due date in the workspace's zone
    noticed = _ago(hours=1)
    at = dt.datetime.fromisoformat(noticed).astimezone(ZoneInfo("Asia/Shanghai"))
    assert run(ws, "incidents", "event", "客户信息泄露", "--noticed-at", noticed).exit_code == 0
    assert run(ws, "incidents", "promote", "1", "--reason", "确认").exit_code == 0
    status = run(ws, "--lang", "en", "incidents", "status").output
    assert "2026-12-20 10:00+08:00" in status
    first = json.loads(run(ws, "incidents", "timeline", "1", "--json").output)[0]["at"]
    local = dt.datetime.fromisoformat(first).astimezone(ZoneInfo("Asia/Shanghai"))
    step = run(ws, "incidents", "timeline", "1").output.splitlines()[0]
    assert local.isoformat(" ", "minutes") in step  # the ledger's UTC, shown local
    # a refusal shows the time as the user typed it, in the same zone
    before = (at - dt.timedelta(hours=2)).replace(tzinfo=None).isoformat(timespec="minutes")
    bad = run(ws, "--lang", "en", "incidents", "done", "1", "--note", "n", "--at", before)
    assert bad.exit_code == 2, bad.output
    assert f"{before}+08:00" in bad.output and "started" in bad.output


def test_zh_cn_output_names_sources_statuses_and_records_in_chinese(ws: Path) -> None:
    noticed = _ago(hours=1)
    assert run(ws, "incidents", "event", "可疑登录", "--noticed-at", noticed).exit_code == 0
    assert "(人工登记)" in run(ws, "incidents", "list").output
    assert "(manual)" not in run(ws, "incidents", "list").output
    assert run(ws, "incidents", "promote", "1", "--reason", "确认").exit_code == 0
    again = run(ws, "incidents", "promote", "1", "--reason", "确认")
    assert again.exit_code == 2 and "已处理(已升级为事件)" in again.output
    assert "promoted" not in again.output
    add = ("incidents", "action-add", "1", "撤销共享链接", "--owner", "wangmin")
    assert run(ws, *add, "--due", "2026-12-31").exit_code == 0
    assert run(ws, "incidents", "report", "1", "--kind", "initial").exit_code == 0
    shown = run(ws, "incidents", "show", "1").output
    assert "  报告 #1 网络安全事件初始报告 " in shown and "report #" not in shown
    assert "  整改措施 #1 wangmin,2026-12-31 前:撤销共享链接" in shown
    assert "action #" not in shown
    sched = ("drills", "schedule", "lost_laptop", "--at", "2026-12-20T10:00")
    assert run(ws, *sched, "--participant", "wangmin").exit_code == 0
    assert run(ws, "drills", "start", "1").exit_code == 0
    assert run(ws, "drills", "finish", "1", "--lessons", "l").exit_code == 0
    listed = run(ws, "drills", "list").output
    assert ",已结束," in listed and "finished" not in listed


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("incidents", "show", "99999999999999999999"), "incident_id"),
        (("incidents", "done", "99999999999999999999", "--note", "n"), "obligation_id"),
        (("incidents", "promote", "0", "--reason", "r"), "event_id"),
        (("drills", "start", "99999999999999999999"), "drill_id"),
        (("incidents", "action-done", "99999999999999999999"), "action_id"),
        (("incidents", "promote", "1", "--reason", "r", "--loss", "9" * 23), "--loss"),
        (("incidents", "grade", "1", "--reason", "r", "--people", "3000000000"), "--people"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v)[:40],
)
def test_numbers_beyond_the_store_are_usage_errors(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    # a usage error is told before any workspace is opened: one line, exit 2, no overflow
    line = refused(tmp_path / "ws", 2, *args)
    assert line.startswith(f"error: invalid value for {named}"), line
    assert not (tmp_path / "ws").exists()


def test_a_duty_names_its_addressee_in_the_readers_language(ws: Path) -> None:
    """Duties keep their addressee as made (in zh-CN); the English views named the
    individuals concerned 受影响的个人 (the review); a configured name stays as stored."""
    from handover.incidents.records import DRILL_MARK, recipient_text

    _leak(ws, hours=1, people=10)
    zh = run(ws, "incidents", "show", "1")
    en = run(ws, "--lang", "en", "incidents", "show", "1")
    assert "受影响的个人" in zh.output and "the individuals concerned" not in zh.output
    assert "the individuals concerned" in en.output and "受影响的个人" not in en.output
    shown = json.loads(run(ws, "incidents", "show", "1", "--json").output)
    duty = next(o for o in shown["obligations"] if o["recipient"] == "individuals")
    assert duty["recipient_name"] == "受影响的个人"  # as stored
    assert duty["recipient_shown"] == {"zh-CN": "受影响的个人", "en": "the individuals concerned"}
    mark = DRILL_MARK + "受影响的个人"
    assert recipient_text("individuals", mark, "en") == DRILL_MARK + "the individuals concerned"
    assert recipient_text("provincial_cac", "上海市委网信办", "en") == "上海市委网信办"
