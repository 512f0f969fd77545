"""``handover demo`` end to end through the CLI: every stage runs and leaves its evidence."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from handover.cli.main import app

runner = CliRunner()


def test_demo_runs_every_stage_and_leaves_verifiable_evidence(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    res = runner.invoke(app, ["-w", str(ws), "--lang", "en", "demo", "--customers", "300"])
    assert res.exit_code == 0, res.output
    for step in ("Synthesise", "Scan", "Migrate", "Verified:", "e-mails and", "Shred done"):
        assert step in res.output, step
    # the notice campaign left its announcement and report (servers stopped); its letters
    # (names and addresses in clear) were written, then destroyed by the demo's shred
    letters = ws / "notices" / "campaign-1" / "letters"
    assert not letters.exists() or not list(letters.glob("letters-*.pdf"))
    assert list((ws / "notices" / "campaign-1").glob("campaign-1-announcement*.pdf"))
    assert (ws / "reports" / "notices" / "campaign-1-report.en.xlsx").is_file()
    # The buyer holds the migrated loan book; the seller's tables are gone.
    with sqlite3.connect(ws / "buyer.db") as buyer:
        assert (
            buyer.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
            >= 15
        )
    with sqlite3.connect(ws / "seller.db") as seller:
        names = [r[0] for r in seller.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert not [n for n in names if not n.startswith("sqlite_")]
    certs = sorted((ws / "reports" / "certificates").iterdir())
    assert certs, "a sanitization certificate was written"
    for lang in ("zh-CN", "en"):
        assert (certs[-1] / f"certificate.{lang}.html").is_file()
        assert (certs[-1] / f"certificate.{lang}.pdf").is_file()
    cert = json.loads((certs[-1] / "certificate.json").read_text("utf-8"))
    assert [d["subject"] for d in cert["destroyed"] if d["medium"] == "letter"] == [str(letters)]
    res = runner.invoke(app, ["-w", str(ws), "certificate", "verify", str(certs[-1])])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["-w", str(ws), "audit", "verify", "--json"])
    assert res.exit_code == 0, res.output
    # Rerunning replaces the earlier demo instead of failing on seller.db.
    res = runner.invoke(app, ["-w", str(ws), "demo", "--customers", "100"])
    assert res.exit_code == 0, res.output


def test_demo_never_touches_a_real_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "real"
    res = runner.invoke(app, ["-w", str(ws), "init", "--seller", "甲小贷", "--buyer", "乙金控"])
    assert res.exit_code == 0, res.output
    before = sorted(p.name for p in ws.iterdir())
    res = runner.invoke(app, ["-w", str(ws), "--lang", "en", "demo", "--customers", "100"])
    assert res.exit_code == 2
    assert "not a demo workspace" in res.output
    assert sorted(p.name for p in ws.iterdir()) == before
