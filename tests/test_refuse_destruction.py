"""Destruction that misses copies (issue 15): every copy handover wrote — packages sealed
with ``--out`` anywhere, the clear database ``unseal --to`` made, extracts — is in the
shred plan, found from the ledger; what a run cannot reach is on the certificate as not
destroyed; ``shred`` shows the plan for confirmation or needs ``--yes``; dual control is
two people who authenticate (the validator with their own password, at the act).

Each case drives the real CLI on a real synthetic SQLite loan book (and a real
PostgreSQL database for a server copy) and checks exit code, the names in the message,
and what is left on disk.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from erase_data import book, copy_book
from handover.cli.main import app

runner = CliRunner()
VALIDATOR = {"HANDOVER_VALIDATOR_PASSWORD": "liuyang-demo-2026"}  # the demo cast's auditor


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    from handover.flows.workspace import init_workspace

    init_workspace(tmp_path / "ws", demo=True).close()
    return tmp_path / "ws"


@pytest.fixture
def seller(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_book(book(tmp_path_factory.getbasetemp()), tmp_path / "seller.db")


def _cli(ws: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    return runner.invoke(app, ["-w", str(ws), "--lang", "en", *args], env=env, input=stdin)


def _ok(res: Any) -> Any:
    assert res.exit_code == 0, res.output
    return res


def _tables(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return int(
            con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        )
    finally:
        con.close()


def _copies(ws: Path, seller: Path, tmp_path: Path) -> dict[str, Path]:
    """seal --out outside the workspace → unseal --to → migrate → verify; and an extract
    outside the workspace: every copy the issue found left behind."""
    out = {
        "package": tmp_path / "outside" / "pkg",
        "unsealed": tmp_path / "outside" / "unsealed.db",
        "extract": tmp_path / "outside" / "dd",
        "buyer": tmp_path / "buyer.db",
    }
    out["package"].parent.mkdir()
    _ok(_cli(ws, "seal", str(seller), "--out", str(out["package"]), "--progress", "none"))
    _ok(_cli(ws, "unseal", str(out["package"]), "--to", str(out["unsealed"]), "--progress", "none"))
    _ok(
        _cli(
            ws,
            "migrate",
            str(out["unsealed"]),
            str(out["buyer"]),
            "--no-backup",
            "--reason",
            "test",
            "--progress",
            "none",
        )
    )
    _ok(_cli(ws, "verify", str(seller), str(out["buyer"]), "--progress", "none"))
    _ok(_cli(ws, "dd-extract", str(seller), "--out", str(out["extract"]), "--progress", "none"))
    return out


def test_every_copy_handover_made_is_destroyed(ws: Path, seller: Path, tmp_path: Path) -> None:
    made = _copies(ws, seller, tmp_path)
    plan = json.loads(_ok(_cli(ws, "shred", str(seller), "--plan", "--json")).stdout)
    planned = {d["subject"] for d in plan["destroy"]}
    for what in ("package", "unsealed", "extract"):
        assert str(made[what]) in planned, (what, planned)
    assert plan["unreached"] == []
    res = _ok(_cli(ws, "shred", str(seller), "--yes", "--json", env=VALIDATOR))
    doc = json.loads(res.stdout)
    destroyed = {(d["medium"], d["subject"]) for d in doc["destroyed"]}
    assert ("package", str(made["package"])) in destroyed
    assert ("copy", str(made["unsealed"])) in destroyed
    assert ("extract", str(made["extract"])) in destroyed
    for what in ("package", "unsealed", "extract"):
        assert not made[what].exists(), what
    assert not any((tmp_path / "outside").iterdir())
    # the buyer's verified copy is the transfer's destination: kept, and never in the plan
    assert made["buyer"].exists() and _tables(made["buyer"]) == 15
    assert _tables(seller) == 0
    cert = json.loads((Path(doc["certificate"]) / "certificate.json").read_text("utf-8"))
    assert cert["not_destroyed"] == []
    assert {d["subject"] for d in cert["destroyed"]} >= {str(made["unsealed"])}


def test_copies_out_of_reach_are_listed_not_destroyed(
    ws: Path, seller: Path, tmp_path: Path, pg_url: str
) -> None:
    made = _copies(ws, seller, tmp_path)
    moved = tmp_path / "moved-pkg"
    shutil.move(str(made["package"]), moved)  # moved outside handover's knowledge
    # a server database unseal wrote: shred of the seller cannot reach it (a password may
    # be needed, and it is another database)
    _ok(_cli(ws, "unseal", str(moved), "--to", pg_url, "--progress", "none"))
    plan = json.loads(_ok(_cli(ws, "shred", str(seller), "--plan", "--json")).stdout)
    unreached = {u["subject"]: u["note"] for u in plan["unreached"]}
    assert "not found where handover wrote it" in unreached[str(made["package"])]
    server = [s for s in unreached if s.startswith("postgresql")]
    assert server and "a copy in a database server" in unreached[server[0]]
    shown = _cli(ws, "shred", str(seller), "--plan")
    assert "Not reachable" in shown.output
    res = _ok(_cli(ws, "shred", str(seller), "--yes", "--json", env=VALIDATOR))
    cert = json.loads(
        (Path(json.loads(res.stdout)["certificate"]) / "certificate.json").read_text()
    )
    listed = {u["subject"] for u in cert["not_destroyed"]}
    assert str(made["package"]) in listed and server[0] in listed
    html = next(Path(json.loads(res.stdout)["certificate"]).glob("*.html")).read_text("utf-8")
    assert "Not destroyed" in html or "未销毁" in html


def test_shred_shows_the_plan_and_needs_confirmation(
    ws: Path, seller: Path, tmp_path: Path
) -> None:
    made = _copies(ws, seller, tmp_path)
    # no terminal to confirm at and no --yes: bad usage, nothing destroyed
    res = _cli(ws, "shred", str(seller), env=VALIDATOR)
    assert res.exit_code == 2, res.output
    assert "give --yes" in res.output
    assert _tables(seller) == 15 and made["package"].exists()
    # the plan is shown, then "no": exit 1, nothing destroyed
    res = _cli(ws, "shred", str(seller), env=VALIDATOR, stdin="n\n")
    assert res.exit_code == 1, res.output
    # the plan's rows: the package, the unsealed copy and the extract (paths wrap, whole)
    assert all(f"│ {m} " in res.output for m in ("package", "copy", "extract"))
    assert "…" not in res.output
    assert "Not confirmed: nothing was destroyed" in res.output
    assert _tables(seller) == 15 and made["unsealed"].exists()
    # "yes": destroyed
    res = _cli(ws, "shred", str(seller), "--progress", "none", env=VALIDATOR, stdin="y\n")
    assert res.exit_code == 0, res.output
    assert _tables(seller) == 0 and not made["unsealed"].exists()


def test_validator_must_authenticate(ws: Path, seller: Path, tmp_path: Path) -> None:
    from handover.ledger import entries
    from handover.workspace import open_workspace

    made = _copies(ws, seller, tmp_path)
    res = _cli(ws, "shred", str(seller), "--yes", env={"HANDOVER_VALIDATOR_PASSWORD": "wrong"})
    assert res.exit_code == 2, res.output
    assert "bad credentials" in res.output and "liuyang" in res.output
    res = _cli(ws, "shred", str(seller), "--yes")  # no password, no terminal
    assert res.exit_code == 2, res.output
    assert "HANDOVER_VALIDATOR_PASSWORD" in res.output
    assert _tables(seller) == 15 and made["package"].exists()
    res = _ok(_cli(ws, "shred", str(seller), "--yes", "--json", env=VALIDATOR))
    doc = json.loads(res.stdout)
    seq = doc["validated_by"]["authenticated_seq"]
    w = open_workspace(ws)
    try:
        auth = [e for e in entries(w, action="governance.authenticated") if e.seq == seq]
        refused = entries(w, action="governance.login.refused")
    finally:
        w.close()
    assert auth and auth[0].actor == "liuyang" and auth[0].details["for"] == "shred validation"
    assert refused and refused[-1].subject == "person liuyang"
    cert = json.loads((Path(doc["certificate"]) / "certificate.json").read_text("utf-8"))
    assert cert["people"]["validated_by"]["authenticated_seq"] == seq
    assert any(e["seq"] == seq for e in cert["ledger"]["entries"])  # its inclusion proof


def test_names_typed_on_the_command_line_are_no_dual_control(tmp_path: Path) -> None:
    from handover.flows.workspace import init_workspace
    from handover.workspace import DEMO_TRANSFER

    init_workspace(tmp_path / "plain", DEMO_TRANSFER).close()  # nobody registered
    victim = copy_book(book(tmp_path), tmp_path / "seller.db")
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path / "plain"),
            "--lang",
            "en",
            "shred",
            str(victim),
            "--yes",
            "--force",
            "--reason",
            "test",
            "--executed-by",
            "张三",
            "--validated-by",
            "李四",
        ],
        env={"HANDOVER_VALIDATOR_PASSWORD": "anything"},
    )
    assert res.exit_code == 3, res.output
    assert "two registered people" in res.output
    assert _tables(victim) == 15


def test_demo_validator_really_authenticates(tmp_path: Path) -> None:
    """The demo's shred step: the second person is authenticated through governance."""
    from handover.flows.demo import DemoContext, _step_shred
    from handover.flows.workspace import init_workspace
    from handover.ledger import entries

    ws = init_workspace(tmp_path / "demo", demo=True)
    try:
        copy_book(book(tmp_path), tmp_path / "seller.db")
        ctx = DemoContext(path=tmp_path, customers=500, seed=1, lang="en", ws=ws)
        _step_shred(ctx)  # no buyer: forced with the reason recorded
        result = ctx.results["shred"]
        auth = entries(ws, action="governance.authenticated")
        assert [e.actor for e in auth] == [result.validator.name]
        assert result.validator.authenticated_seq == auth[0].seq
    finally:
        ws.close()
