"""Messages and exit codes (issue 15): one line naming the object, exit 2 for bad input,
3 for policy, 1 for a failed check; a wrong password is bad credentials; ``init --seller
--buyer`` registers the organisations; no message names an internal table; an expired
session says so and is never replaced by a demo identity; long steps report progress
through the one protocol (verify, dd-extract, shred, and the columns of a wide table).

Every case drives the real CLI (SQLite files, a real workspace store).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from erase_data import book, copy_book
from handover.cli.main import app

runner = CliRunner()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    from handover.flows.workspace import init_workspace

    init_workspace(tmp_path / "ws", demo=True).close()
    return tmp_path / "ws"


@pytest.fixture
def seller(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_book(book(tmp_path_factory.getbasetemp()), tmp_path / "seller.db")


def _cli(ws: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["-w", str(ws), "--lang", "en", *args], env=env)


def _one_line(res: Any, code: int, *names: str) -> None:
    assert res.exit_code == code, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    for n in names:
        assert n in lines[0], (n, res.output)
    assert "Traceback" not in res.output


def _ledger_size(ws: Path) -> int:
    from handover.ledger import ledger_size
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        return ledger_size(w)
    finally:
        w.close()


# --- exit codes --------------------------------------------------------------------------


def test_a_missing_package_is_bad_input(ws: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    for command in ("unseal", "restore"):
        res = _cli(ws, command, "/nonexistent/pkg", "--to", str(target), "--progress", "none")
        _one_line(res, 2, "package /nonexistent/pkg: no such folder")
    afile = tmp_path / "a-file"
    afile.write_text("x", encoding="utf-8")
    res = _cli(ws, "unseal", str(afile), "--to", str(target), "--progress", "none")
    _one_line(res, 2, f"package {afile}: not a package folder")
    # a folder that is there but is no intact package is a failed check (exit 1)
    folder = tmp_path / "empty-pkg"
    folder.mkdir()
    res = _cli(ws, "unseal", str(folder), "--to", str(target), "--progress", "none")
    _one_line(res, 1, "manifest.json is missing")
    assert not target.exists()


def test_shred_of_a_missing_path_is_bad_input(ws: Path, tmp_path: Path) -> None:
    gone = tmp_path / "nope.db"
    res = _cli(ws, "shred", str(gone), "--plan")
    _one_line(res, 2, f"SOURCE {gone} does not exist")
    res = _cli(ws, "shred", "--path", str(tmp_path / "gone"), "--plan")
    _one_line(res, 2, "--path", "does not exist")


# --- credentials and sessions ---------------------------------------------------------


def test_wrong_password_is_bad_credentials(ws: Path) -> None:
    from handover.ledger import entries
    from handover.workspace import open_workspace

    res = _cli(ws, "login", "zhaolei", env={"HANDOVER_PASSWORD": "not-it"})
    _one_line(res, 2, "bad credentials", "zhaolei")
    assert "not-it" not in res.output
    assert not (ws / ".session").exists()
    res = _cli(ws, "login", "zhaolei")  # no password, no terminal (the prompt was shown)
    assert res.exit_code == 2 and "HANDOVER_PASSWORD" in res.output.splitlines()[-1]
    w = open_workspace(ws)
    try:
        assert [e.subject for e in entries(w, action="governance.login.refused")] == [
            "person zhaolei"
        ]
    finally:
        w.close()


def _expired_login(ws: Path, name: str) -> None:
    """A real login whose session ended long ago (the clock injected into the library)."""
    from handover.governance.demo import DEMO_CAST
    from handover.governance.session import login
    from handover.workspace import open_workspace

    password = next(m.password for m in DEMO_CAST if m.name == name)
    w = open_workspace(ws)
    try:
        login(w, name, password, hours=1, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    finally:
        w.close()


def test_expired_session_says_so_and_never_becomes_the_demo_cast(
    ws: Path, seller: Path, tmp_path: Path
) -> None:
    from handover.ledger import entries
    from handover.workspace import open_workspace

    _expired_login(ws, "wangmin")  # the DPO; the demo's stand-in for verify is another
    res = _cli(ws, "whoami")
    _one_line(res, 2, "session expired", "wangmin", "2020-01-01T01:00")
    before = _ledger_size(ws)
    res = _cli(ws, "verify", str(seller), str(seller), "--progress", "none")
    _one_line(res, 2, "session expired", "handover login wangmin")
    w = open_workspace(ws)
    try:
        new = [e for e in entries(w) if e.seq >= before]
    finally:
        w.close()
    assert not [e for e in new if e.action == "access.allow"]  # nobody stood in
    refused = [e for e in new if e.action == "access.refuse"]
    assert refused and refused[0].details["reason_key"] == "gov.refuse.session_expired"
    assert not [e for e in new if e.action == "verify.run"]
    # logging in again works, logging out works with an expired session
    res = _cli(ws, "logout")
    assert res.exit_code == 0, res.output


def test_expired_session_outside_a_demo(tmp_path: Path) -> None:
    path = tmp_path / "real"
    env = {"HANDOVER_PASSWORD": "a-long-password-2026"}
    assert (
        runner.invoke(
            app, ["-w", str(path), "init", "--seller", "甲小贷", "--buyer", "乙金控"]
        ).exit_code
        == 0
    )
    res = _cli(path, "people", "add", "ops", "--org", "甲小贷", "--role", "dpo", env=env)
    assert res.exit_code == 0, res.output  # init registered the organisations
    from handover.governance.session import login
    from handover.workspace import open_workspace

    w = open_workspace(path)
    try:
        login(w, "ops", env["HANDOVER_PASSWORD"], now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    finally:
        w.close()
    res = _cli(path, "grants", "check", "scan.evidence", "C2/masked")
    _one_line(res, 2, "session expired", "ops")


def test_init_registers_the_parties(tmp_path: Path) -> None:
    path = tmp_path / "real"
    res = runner.invoke(
        app,
        [
            "-w",
            str(path),
            "--lang",
            "en",
            "init",
            "--seller",
            "甲小贷",
            "--buyer",
            "乙金控",
            "--advisor",
            "丙律所",
        ],
    )
    assert res.exit_code == 0, res.output
    env = {"HANDOVER_PASSWORD": "a-long-password-2026"}
    res = _cli(path, "people", "add", "wang", "--org", "甲小贷", "--role", "dpo", env=env)
    assert res.exit_code == 0, res.output
    res = _cli(path, "people", "list", "--json")
    people = json.loads(res.stdout)
    assert people[0]["org"] == "甲小贷"


# --- no internal table in a message --------------------------------------------------


def test_no_message_names_an_internal_table(ws: Path) -> None:
    import sqlalchemy as sa

    from handover.i18n import catalog
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:  # every table of the platform store, as created by its migrations
        internal = set(sa.inspect(w.store.engine).get_table_names()) - {"alembic_version"}
    finally:
        w.close()
    assert {"gov_organisations", "ledger_entries", "migrate_runs"} <= internal
    offenders = [
        (key, lang)
        for key, texts in catalog().items()
        for lang, text in texts.items()
        # identifiers (an underscore): "incidents" is also a plain word
        if any(name in text for name in internal if "_" in name)
    ]
    assert offenders == []
    res = _cli(
        ws,
        "people",
        "add",
        "bob",
        "--org",
        "no-such-org",
        "--role",
        "dpo",
        env={"HANDOVER_PASSWORD": "a-long-password-2026"},
    )
    _one_line(res, 2, "no organisation named 'no-such-org'")
    assert "gov_" not in res.output


# --- progress -----------------------------------------------------------------------------


def _events(res: Any) -> list[dict[str, Any]]:
    out = []
    for line in res.output.splitlines():
        if line.startswith('{"event"'):
            out.append(json.loads(line))
    return out


def test_verify_and_dd_extract_report_progress(ws: Path, seller: Path, tmp_path: Path) -> None:
    buyer = copy_book(seller, tmp_path / "buyer.db")
    res = _cli(ws, "verify", str(seller), str(buyer), "--progress", "json")
    assert res.exit_code == 0, res.output
    ev = _events(res)
    tasks = {e["name"] for e in ev if e["event"] == "task"}
    assert {"cust_info", "loan_iou", "hkjh"} <= tasks
    assert sum(e["rows"] for e in ev if e["event"] == "advance" and e["name"] == "cust_info") == 500
    res = _cli(ws, "dd-extract", str(seller), "--out", str(tmp_path / "dd"), "--progress", "json")
    assert res.exit_code == 0, res.output
    ev = _events(res)
    totals = {e["name"]: e["total"] for e in ev if e["event"] == "task"}
    assert totals["cust_info"] == 500
    done = sum(e["rows"] for e in ev if e["event"] == "advance" and e["name"] == "cust_info")
    assert done == 500


def test_shred_reports_progress(ws: Path, seller: Path, tmp_path: Path) -> None:
    buyer = copy_book(seller, tmp_path / "buyer.db")
    assert _cli(ws, "verify", str(seller), str(buyer), "--progress", "none").exit_code == 0
    res = _cli(
        ws,
        "shred",
        str(seller),
        "--yes",
        "--progress",
        "json",
        env={"HANDOVER_VALIDATOR_PASSWORD": "liuyang-demo-2026"},
    )
    assert res.exit_code == 0, res.output
    ev = _events(res)
    phases = [e["text"] for e in ev if e["event"] == "phase"]
    assert phases == [
        "checking the plan and the verify gate",
        "destroying and checking samples",
        "signing the certificate",
    ]
    assert any(e["event"] == "advance" and e["rows"] > 0 for e in ev)


def test_a_wide_csv_scan_is_not_silent(ws: Path, tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    cols = 260
    rows = [",".join(f"c{i}" for i in range(cols))]
    rows += [",".join(str(r * 1000 + i) for i in range(cols)) for r in range(5)]
    wide.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = _cli(ws, "scan", str(wide), "--progress", "json")
    assert res.exit_code == 0, res.output
    ev = _events(res)
    columns = [e for e in ev if e["name"] == "wide.*"]
    assert columns[0]["event"] == "task" and columns[0]["total"] == cols
    steps = [e["rows"] for e in columns if e["event"] == "advance"]
    assert len(steps) >= 5 and sum(steps) == cols  # reported as it goes, every column
