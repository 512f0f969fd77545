"""``handover audit`` through the CLI runner, and the offline evidence bundle."""

from __future__ import annotations

import datetime as dt
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


def test_forged_actor_column_fails_verify_and_log(tmp_path: Path) -> None:
    """Issue 14: a forged ``actor`` column (body untouched) makes ``audit verify`` exit 1
    naming entry and column, and ``audit log --actor`` refuses instead of trusting it."""
    from handover.workspace import open_workspace

    ws = _init(tmp_path)
    w = open_workspace(ws)
    try:
        with w.store.engine.begin() as c:
            c.execute(text("UPDATE ledger_entries SET actor = 'user:forger' WHERE seq = 1"))
    finally:
        w.close()
    code, out = _run(ws, "audit", "verify")
    assert code == 1, out
    assert "ledger entry seq 1: column actor differs from the hashed body" in out
    assert "first bad entry seq 1" in out
    code, out = _run(ws, "audit", "verify", "--json")
    report = json.loads(out.split("\nerror")[0])
    assert report["first_bad_seq"] == 1
    assert [(p["seq"], p["key"], p["params"]) for p in report["problems"]] == [
        (1, "ledger.problem.column", {"column": "actor"})
    ]
    code, out = _run(ws, "audit", "log", "--actor", "user:forger")
    assert code == 1 and "seq 1: column actor differs" in out, out
    zh = runner.invoke(app, ["-w", str(ws), "--lang", "zh-CN", "audit", "verify"])
    assert zh.exit_code == 1 and "账本记录序号 1:actor 列与已哈希的记录正文不一致" in zh.output


def _resigned_bundle(tmp_path: Path, back: dt.timedelta) -> Path:
    """A bundle whose newest body is re-stamped ``back`` before its predecessor and fully
    re-hashed and re-signed (checkpoint and manifest) with the workspace key (what a key
    holder could forge)."""
    from handover.crypto import signature
    from handover.ledger import merkle
    from handover.ledger.canonical import canonical_json
    from handover.ledger.export import sign_manifest
    from handover.ledger.ledger import format_ts
    from handover.ledger.note import Checkpoint, sign_note
    from handover.workspace import open_workspace

    ws = _init(tmp_path)
    bundle = tmp_path / "bundle"
    code, out = _run(ws, "audit", "export", str(bundle))
    assert code == 0, out
    recs = [json.loads(x) for x in (bundle / "entries.jsonl").read_text("utf-8").splitlines()]
    docs = [json.loads(r["body"]) for r in recs]
    before = dt.datetime.fromisoformat(docs[-2]["ts"])
    docs[-1]["ts"] = format_ts(before - back)
    bodies = [canonical_json(d) for d in docs]
    lines = [
        json.dumps({"seq": i, "body": b.decode(), "leaf_hash": merkle.leaf_hash(b).hex()})
        for i, b in enumerate(bodies)
    ]
    (bundle / "entries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    origin = json.loads((bundle / "manifest.json").read_text("utf-8"))["origin"]
    w = open_workspace(ws)
    try:

        def signer(data: bytes) -> tuple[bytes, bytes]:
            sig = signature(w, data)
            return sig.public_key, sig.value

        cp = Checkpoint(origin, len(bodies), merkle.root_hash(bodies))
        note = sign_note(cp.text(), origin, signer)
        # The forger rewrites the manifest too (it states the tree and what was exported)
        # and, holding the key, re-signs it.
        manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
        manifest.update(
            tree_size=len(bodies), root=cp.root.hex(), checkpoints=1, inclusion_proofs=0
        )
        (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        sign_manifest(w, bundle)
    finally:
        w.close()
    for old in (bundle / "checkpoints").iterdir():
        old.unlink()
    (bundle / "checkpoints" / "00000001.txt").write_text(note, encoding="utf-8")
    index = [{"id": 1, "size": len(bodies), "file": "checkpoints/00000001.txt"}]
    (bundle / "checkpoints.json").write_text(json.dumps(index), encoding="utf-8")
    (bundle / "proofs" / "consistency.json").write_text("[]", encoding="utf-8")
    (bundle / "proofs" / "inclusion.jsonl").unlink()
    return bundle


@pytest.mark.parametrize("back", [dt.timedelta(0), dt.timedelta(seconds=1)], ids=str)
def test_bundle_stamp_going_back_is_named(tmp_path: Path, back: dt.timedelta) -> None:
    bundle = _resigned_bundle(tmp_path, back)
    n = len((bundle / "entries.jsonl").read_text("utf-8").splitlines())
    res = subprocess.run(
        [sys.executable, str(bundle / "verify.py"), str(bundle), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = json.loads(res.stdout)
    if not back:  # the same stamp as the entry before: a valid (re-signed) bundle
        assert res.returncode == 0 and out["ok"], res.stdout + res.stderr
        return
    assert res.returncode == 1, res.stdout + res.stderr
    assert out["first_bad_seq"] == n - 1
    assert "earlier than the entry before it" in out["message"]
