"""Early warning (风险预警): the declarative rules fire on a real ledger with planted misuse,
once per finding, and stay quiet on the demo's ledger."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from handover.flows import incidents as flow
from handover.flows.demo import run_demo
from handover.flows.workspace import init_workspace
from handover.governance import authorize
from handover.governance.grants import list_grants
from handover.incidents import list_events
from handover.incidents.warning import Facts, evaluate, load_warning_rules
from handover.ledger import Event, entries, record, record_many
from handover.workspace import open_workspace

TZ = ZoneInfo("Asia/Shanghai")


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ).astimezone(dt.UTC)


def test_rules_fire_on_planted_misuse_once_each(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        # 1. a burst of real refusals: chenjing has no clear grant for dd.extract
        for _ in range(6):
            assert not authorize(ws, "chenjing", "dd.extract", "*/clear").allowed
        # The ledger's stamps never go back, so planted events lie after today; the
        # findings depend on the planted times only, not on the day the test runs.
        tomorrow = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
        grant = next(g for g in list_grants(ws) if g.mode == "clear" and g.grantee == "zhaolei")
        assert grant.valid_until < _local(tomorrow + dt.timedelta(days=399), 10)
        # 2. a key used at 03:00
        record(
            ws,
            "zhaolei",
            "key.create",
            "package-x",
            "transfer",
            {"key_id": "package-x"},
            clock=lambda: _local(tomorrow, 3),
        )
        # 3. twenty clear-mode accesses under one grant within the hour
        allow = {"grant_id": grant.id, "resource": "*/clear", "action": "migrate"}
        record_many(
            ws,
            [
                Event("access.allow", "migrate */clear", "t", allow, actor="zhaolei")
                for _ in range(20)
            ],
            clock=lambda: _local(tomorrow, 10),
        )
        # 4. a clear-mode access allowed after the grant expired
        later = tomorrow + dt.timedelta(days=400)
        record(
            ws,
            "zhaolei",
            "access.allow",
            "seal */clear",
            "t",
            {**allow, "action": "seal"},
            clock=lambda: _local(later, 10),
        )
        # 5. the vendor's staff at work after the vendor's assessment (365 days) lapsed
        record(
            ws,
            "huangtao",
            "package.unseal",
            "pkg-1",
            "transfer",
            {"rows": 1},
            clock=lambda: _local(later, 11),
        )

        result = flow.run_warnings(ws, clock=lambda: _local(later, 12))
        found = {(f["rule"], f["actor"]) for f in result["findings"]}
        assert {
            ("refusal_burst", "chenjing"),
            ("odd_hour_export", "zhaolei"),
            ("clear_volume", "zhaolei"),
            ("clear_outside_grant", "zhaolei"),
            ("vendor_after_expiry", "huangtao"),
        } <= found
        burst = next(f for f in result["findings"] if f["rule"] == "refusal_burst")
        assert burst["details"]["count"] == 6
        volume = next(f for f in result["findings"] if f["rule"] == "clear_volume")
        assert volume["details"] == {"grant": grant.id, "count": 20, "window_minutes": 60}
        outside = next(f for f in result["findings"] if f["rule"] == "clear_outside_grant")
        assert outside["details"]["grant"] == grant.id and outside["details"]["count"] == 1
        assert len(result["opened"]) == len(result["findings"])
        opened = [e for e in list_events(ws) if e.source.startswith("warning:")]
        assert len(opened) == len(result["findings"])
        # once per finding: a rerun opens nothing new
        again = flow.run_warnings(ws, clock=lambda: _local(later, 13))
        assert again["opened"] == [] and len(again["findings"]) == len(result["findings"])
        assert len(entries(ws, action="incident.event.record")) == len(opened)
    finally:
        ws.close()


def test_rules_stay_quiet_on_the_demo_ledger(tmp_path: Path) -> None:
    run_demo(tmp_path / "demo", customers=150, echo=lambda _line: None)
    ws = open_workspace(tmp_path / "demo")
    try:
        log = entries(ws)
        facts = flow.warning_facts(ws)
    finally:
        ws.close()
    assert len(log) > 50 and any(e.action == "access.refuse" for e in log)
    # The demo ran at whatever hour the test runs; moved as a whole (grant windows with
    # it) to start at 10:00 Beijing time, it is a working-day ledger.
    first = dt.datetime.fromisoformat(log[0].ts)
    delta = _local(first.astimezone(TZ).date(), 10) - first
    moved = [
        e._replace(ts=(dt.datetime.fromisoformat(e.ts) + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        for e in log
    ]
    shifted = Facts(
        timezone=facts.timezone,
        grants={k: (a + delta, b + delta) for k, (a, b) in facts.grants.items()},
        vendor_staff=facts.vendor_staff,
    )
    assert shifted.grants and shifted.vendor_staff  # the rules had something to look at
    rules = load_warning_rules()
    assert evaluate(rules, moved, shifted) == []
    # ... and the same rules do read it: a threshold of one refusal finds the demo's one.
    touchy = [dataclasses.replace(r, threshold=1) if r.kind == "burst" else r for r in rules]
    assert [f.actor for f in evaluate(touchy, moved, shifted)] == ["chenjing"]
