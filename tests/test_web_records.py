"""Clear-mode views, for real: a scanned table's rows through the console's page and API
over real HTTP, checked against the values in the source database itself.

- Without asking for clear values, or without a clear grant, every personal value is
  masked (none of the table's real values is in the page).
- Asking for clear values shows clear exactly the columns of the tiers the person's
  approved grants allow in clear (the DPO's grant: C1 and C2; the C3 card security code
  stays masked, its refusal shown), and the data engineer's ``*`` grant shows all.
- Every clear view is one ``records.view`` ledger event (actor, table, columns) and no
  real value is anywhere in the ledger.
- The auditor never sees a value, even holding a clear grant; neither does a person
  whose role may not see a scan's evidence.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handover.workspace import open_workspace
from web_support import (
    PASSWORDS,
    Http,
    TestClock,
    build_scanned_workspace,
    copy_workspace,
    ledger_events,
    served,
)

TABLE = "yhk_info"  # bank cards: C2 card numbers and mobiles, the C3 card security code


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime]:
    path = tmp_path_factory.mktemp("webrecords") / "ws"
    return path, build_scanned_workspace(path, customers=80)


def _grant(ws: Any, grantee: str, scope: str, mode: str, approvers: list[str]) -> None:
    from handover.governance.grants import approve_grant, request_grant

    now = dt.datetime.now(dt.UTC)
    g = request_grant(
        ws,
        grantee,
        scope=scope,
        mode=mode,
        purpose="查看记录 / viewing records",
        actions=["scan.evidence"],
        valid_from=now - dt.timedelta(minutes=1),
        valid_until=now + dt.timedelta(days=30),
        actor="wangmin",
    )
    for name in approvers:
        approve_grant(ws, g.id, actor=name)


@pytest.fixture
def console(template: tuple[Path, dt.datetime], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = copy_workspace(template[0], tmp_path / "ws")
    ws = open_workspace(path)
    try:
        _grant(ws, "wangmin", "*", "masked", ["zhoujie"])
        _grant(ws, "wangmin", "C1,C2", "clear", ["zhoujie"])  # one approval: no C3
        _grant(ws, "liuyang", "*", "clear", ["zhoujie", "liqiang"])  # the auditor's
    finally:
        ws.close()
    clock = TestClock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    with served(path, clock=clock) as base:
        yield base, path


def _truth(path: Path) -> dict[str, set[str]]:
    """Every value of every column of the table, as the source database holds it."""
    con = sqlite3.connect(Path(template_source(path)))
    try:
        cur = con.execute(f"SELECT * FROM {TABLE}")
        names = [d[0] for d in cur.description]
        out: dict[str, set[str]] = {n: set() for n in names}
        for row in cur:
            for n, v in zip(names, row, strict=True):
                if v is not None:
                    out[n].add(str(v))
        return out
    finally:
        con.close()


def template_source(path: Path) -> str:
    """The source the workspace's newest scan read (the template's seller.db)."""
    from handover.detect.store import latest_inventory

    ws = open_workspace(path)
    try:
        inv = latest_inventory(ws)
        assert inv is not None
        return str(inv["source"])
    finally:
        ws.close()


def _cells(html: str) -> list[str]:
    body = re.search(r'<table id="records">(.*?)</table>', html, re.S)
    assert body is not None, html[-1500:]
    return re.findall(r"<td>([^<]*)</td>", body.group(1))


def test_clear_values_only_per_tier_granted_and_always_ledgered(
    console: tuple[str, Path],
) -> None:
    import httpx2

    base, path = console
    truth = _truth(path)
    with httpx2.Client(base_url=base, timeout=120) as api:

        def token(name: str) -> dict[str, str]:
            r = api.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
            return {"Authorization": f"Bearer {r.json()['token']}"}

        dpo, engineer = token("wangmin"), token("zhaolei")
        masked = api.get(f"/api/records/{TABLE}", params={"rows": 10}, headers=dpo).json()
        columns = {c["name"]: c for c in masked["columns"]}
        personal = [n for n, c in columns.items() if c["tier"]]
        c2 = [n for n in personal if columns[n]["tier"] == "C2"]
        c3 = [n for n in personal if columns[n]["tier"] == "C3"]
        assert c2 and c3, columns
        assert len(masked["rows"]) == 10 and masked["clear_columns"] == []
        # Masked: no personal cell holds a real value of its column.
        for row in masked["rows"]:
            for name, value in zip(columns, row, strict=True):
                if name in personal and value is not None:
                    assert value not in truth[name], (name, value)
        # Clear asked by the DPO: C2 clear (each a real value), C3 still masked.
        clear = api.get(
            f"/api/records/{TABLE}", params={"rows": 10, "clear": "true"}, headers=dpo
        ).json()
        assert sorted(clear["clear_columns"]) == sorted(c2)
        assert [r["resource"] for r in clear["refused"]] == ["C3/clear"]
        for row in clear["rows"]:
            for name, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                if name in c2:
                    assert value in truth[name], (name, value)
                elif name in c3:
                    assert value not in truth[name], (name, value)
        # The data engineer's "*" clear grant: every column clear.
        everything = api.get(
            f"/api/records/{TABLE}", params={"rows": 10, "clear": "true"}, headers=engineer
        ).json()
        assert sorted(everything["clear_columns"]) == sorted(personal)
        assert everything["refused"] == []
        # The auditor, holding a clear "*" grant, and the analyst: refused, no value.
        for name in ("liuyang", "chenjing"):
            for params in ({}, {"clear": "true"}):
                r = api.get(f"/api/records/{TABLE}", params=params, headers=token(name))
                assert r.status_code == 403, (name, r.text)
                assert r.json()["error"]["key"] == "gov.refuse.role"
                assert not any(v in r.text for n in personal for v in truth[n] if len(v) > 5)
    # The page: masked by default with the way to ask; clear per tier, recorded.
    dpo_page = Http(base).login("wangmin")
    try:
        page = dpo_page.get(f"/records/{TABLE}").text
        assert 'id="ask-clear"' in page and 'id="records-clear"' not in page
        cells = _cells(page)
        assert cells and not any(c in truth[n] for n in personal for c in cells if len(c) > 5)
        page = dpo_page.get(f"/records/{TABLE}", params={"clear": "true"}).text
        cells = _cells(page)
        cards = [c for c in cells if c in truth[c2[0]]] + [
            c for n in c2[1:] for c in cells if c in truth[n]
        ]
        assert cards, "no clear C2 value on the clear page"
        assert 'id="records-clear"' in page and 'id="records-refused-1"' in page
        assert f'id="mode-{c3[0]}">遮蔽' in page and f'id="mode-{c2[0]}">明文' in page
        # From the inventory, each table links to its rows.
        assert f'href="/records/{TABLE}"' in dpo_page.get("/inventory").text
    finally:
        dpo_page.close()
    auditor = Http(base).login("liuyang")
    try:
        for url in (f"/records/{TABLE}", f"/records/{TABLE}?clear=true"):
            r = auditor.get(url)
            assert r.status_code == 403 and 'id="records"' not in r.text
    finally:
        auditor.close()
    # Every clear view is one ledger event (the DPO's API and page views, the engineer's),
    # naming the person, the table and the clear columns; no real value in the ledger.
    views = ledger_events(path, "records.view")
    assert [(e.actor, e.subject) for e in views] == [
        ("wangmin", f"table {TABLE}"),
        ("zhaolei", f"table {TABLE}"),
        ("wangmin", f"table {TABLE}"),
    ]
    assert sorted(views[0].details["clear_columns"]) == sorted(c2)
    assert views[0].details["masked_columns"] == c3
    everything_logged = " ".join(f"{e.subject} {e.details}" for e in ledger_events(path, ""))
    leaked = [v for n in personal for v in truth[n] if len(v) > 5 and v in everything_logged]
    assert leaked == []
    refusals = {(e.actor, e.details["resource"]) for e in ledger_events(path, "access.refuse")}
    assert {("wangmin", "C3/clear"), ("liuyang", "C2,C3/masked")} <= refusals


def test_bad_table_or_rows_are_named(console: tuple[str, Path]) -> None:
    base, _ = console
    http = Http(base).login("zhaolei")
    try:
        r = http.get("/records/no_such_table")
        assert r.status_code == 400 and "no_such_table" in r.text
        assert http.get(f"/records/{TABLE}", params={"rows": 0}).status_code == 400
        assert http.get("/records/..%2Fhandover.toml").status_code in (400, 404)
        # a Chinese table name is a name like any other: answered by the inventory, not
        # refused by the URL's pattern
        r = http.get("/records/客户信息表")
        assert r.status_code == 400 and "客户信息表" in r.text
    finally:
        http.close()
