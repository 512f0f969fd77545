"""``handover audit`` through the CLI runner, and the offline evidence bundle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from handover.cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _file_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """These non-demo workspaces choose a 0600-file keyring explicitly, so they can sign."""
    monkeypatch.setenv("HANDOVER_KEY_PROTECTION", "file")


def _run(ws: Path, *args: str) -> tuple[int, str]:
    res = runner.invoke(app, ["-w", str(ws), "--lang", "en", *args])
    return res.exit_code, res.output


def _init(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    code, out = _run(ws, "init", "--seller", "示例卖方", "--buyer", "示例买方")
    assert code == 0, out
    return ws


def test_audit_commands(tmp_path: Path) -> None:
    ws = _init(tmp_path)
    code, out = _run(ws, "audit", "log", "--json")
    assert code == 0
    log = json.loads(out)
    assert [e["action"] for e in log[:2]] == ["key.create", "workspace.init"]
    assert [e["seq"] for e in log[:2]] == [0, 1]
    code, out = _run(ws, "audit", "log", "--action", "workspace")
    assert code == 0 and "workspace.init" in out
    cp = tmp_path / "cp.txt"
    code, out = _run(ws, "audit", "checkpoint", "--out", str(cp))
    assert code == 0 and out.startswith("handover.example/") and cp.read_text() in out
    code, out = _run(ws, "audit", "prove", "0", "--json")
    assert code == 0 and json.loads(out)["seq"] == 0
    code, out = _run(ws, "audit", "verify", "--checkpoint", str(cp))
    assert code == 0 and "ledger intact" in out and "extends checkpoint" in out
    code, out = _run(ws, "audit", "prove", "999999")
    assert code == 2
    code, out = _run(ws, "audit", "verify", "--checkpoint", str(tmp_path / "missing.txt"))
    assert code == 2
    code, out = _run(ws, "audit", "log", "--since", "yesterday")
    assert code == 2
    code, out = _run(ws, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_verify_exit_1_names_first_bad_seq(tmp_path: Path) -> None:
    ws = _init(tmp_path)
    from handover.workspace import open_workspace

    w = open_workspace(ws)
    try:
        with w.store.engine.begin() as c:
            c.execute(
                text("UPDATE ledger_entries SET body = replace(body, 'os:', 'xx:') WHERE seq = 0")
            )
    finally:
        w.close()
    code, out = _run(ws, "audit", "verify")
    assert code == 1 and "first bad entry seq 0" in out
    code, out = _run(ws, "audit", "verify", "--json")
    assert code == 1 and json.loads(out.split("\nerror")[0])["first_bad_seq"] == 0


def test_export_bundle_verifies_offline(tmp_path: Path) -> None:
    ws = _init(tmp_path)
    bundle = tmp_path / "bundle"
    code, out = _run(ws, "audit", "export", str(bundle))
    assert code == 0, out
    assert {p.name for p in bundle.iterdir()} >= {
        "manifest.json",
        "entries.jsonl",
        "checkpoints",
        "checkpoints.json",
        "proofs",
        "public_key.pem",
        "verifier_key.txt",
        "verify.py",
        "README.txt",
    }
    vkey = (bundle / "verifier_key.txt").read_text().strip()
    ok = subprocess.run(
        [sys.executable, "verify.py", "--key", vkey, "--json"],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    result = json.loads(ok.stdout)
    assert result["ok"] and result["key_pinned"] and result["entries"] >= 2
    assert result["inclusion_proofs"] == result["entries"]
    code, _ = _run(ws, "audit", "export", str(bundle))
    assert code == 2  # never overwrites a bundle

    lines = (bundle / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[1])
    rec["body"] = rec["body"].replace("os:", "xx:")
    lines[1] = json.dumps(rec, ensure_ascii=False)
    (bundle / "entries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, str(bundle / "verify.py"), str(bundle), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert json.loads(bad.stdout)["first_bad_seq"] == 1

    other = subprocess.run(
        [sys.executable, str(bundle / "verify.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 2
