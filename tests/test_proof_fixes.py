"""What a holder of the proofs can no longer get past, on one real demo run (300 customers):
a destruction certificate re-signed with a fresh key, edited destroyed items or an edited
rendering; a ledger bundle cut short or malformed; a dossier with a symbolic link added;
an export to an unusable folder or of a ledger that does not verify. Every forgery is
made with real keys and real files, the way a forger would."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.crypto import Signature, sha256_hex
from handover.crypto.signing import raw_public_key, sign_raw
from handover.erase.certificate import (
    CERT_NAME,
    RENDERINGS_NAME,
    SIG_NAME,
    canonical,
    seal_renderings,
    sign_certificate,
)
from handover.flows.demo import run_demo
from handover.flows.workspace import opened
from handover.ledger import entries, merkle
from handover.ledger.bundle_verify import Failed, verify_dossier
from handover.ledger.export import export_bundle
from handover.ledger.ledger import format_ts
from handover.ledger.note import Checkpoint, sign_note

runner = CliRunner()
FORGER = bytes(range(32))  # the forger's own Ed25519 private key
RENDERINGS = [f"certificate.{lang}.{ext}" for lang in ("zh-CN", "en") for ext in ("html", "pdf")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("proofs") / "demo"
    run_demo(path, customers=300, seed=2031, lang="en", echo=lambda _line: None)
    return path


def _last(ws_path: Path, action: str) -> dict[str, Any]:
    with opened(ws_path) as ws:
        return [e for e in entries(ws, action=action) if e.action == action][-1].details


@pytest.fixture
def cert(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo's certificate folder a test may damage."""
    target = tmp_path / "cert"
    shutil.copytree(Path(str(_last(demo, "erase.certificate")["folder"])), target)
    return target


def _doc(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / CERT_NAME).read_bytes())
    return doc


def _pub(folder: Path) -> str:
    return str(json.loads((folder / SIG_NAME).read_bytes())["public_key"])


def _verify(folder: Path, *args: str, ws: Path | None = None) -> tuple[int, dict[str, Any]]:
    where = str(ws) if ws is not None else str(folder.parent / "no-workspace")
    res = runner.invoke(app, ["-w", where, "certificate", "verify", str(folder), *args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def _keys(out: dict[str, Any]) -> list[str]:
    return [p["key"].rsplit(".", 1)[-1] for p in out["problem_details"]]


def _sign_as_forger(doc: dict[str, Any], folder: Path) -> None:
    """Sign ``doc`` with the forger's key, keeping the workspace key's label."""
    pub = raw_public_key(FORGER)
    doc["signer"] = {**doc["signer"], "public_key": pub.hex()}
    body = canonical(doc)
    label = doc["signer"]["key_id"], doc["signer"]["key_version"]
    sig = Signature(*label, pub, sign_raw(FORGER, body))
    record = {**sig.to_json(), "signed": CERT_NAME, "sha256": sha256_hex(body)}
    folder.mkdir(exist_ok=True)
    (folder / CERT_NAME).write_bytes(body)
    (folder / SIG_NAME).write_bytes(canonical(record) + b"\n")


def _inflated(doc: dict[str, Any]) -> dict[str, Any]:
    """The reviewer's forgery: more rows destroyed than were, and a table never touched."""
    tables = [d for d in doc["destroyed"] if d["medium"] == "table"]
    tables[0]["rows"] = 999999
    doc["destroyed"].append({**tables[0], "subject": "/srv/other.db#customers", "rows": 10})
    return doc


# --- 1. certificates --------------------------------------------------------------------


def test_the_genuine_certificate_is_valid_pinned_or_in_its_workspace(
    demo: Path, cert: Path
) -> None:
    code, out = _verify(cert, "--key", _pub(cert))
    assert code == 0 and out["valid"] and out["items_ok"] == len(_doc(cert)["destroyed"])
    code, out = _verify(cert, ws=demo)
    assert code == 0 and out["valid"] and out["signer_trusted"] is True


def test_a_consistent_certificate_with_no_pinned_signer_is_not_accepted(cert: Path) -> None:
    code, out = _verify(cert)
    assert code == 1 and not out["valid"] and out["signer_trusted"] is None
    assert _keys(out) == ["unpinned"]
    human = runner.invoke(
        app, ["-w", str(cert.parent / "none"), "--lang", "en", "certificate", "verify", str(cert)]
    )
    assert human.exit_code == 1 and "give --key" in human.output


def test_a_certificate_re_signed_with_a_fresh_key_under_the_same_label_fails(
    cert: Path, tmp_path: Path
) -> None:
    forged = tmp_path / "forged"
    _sign_as_forger(_inflated(_doc(cert)), forged)
    for pin in ((), ("--key", _pub(cert)), ("--key", raw_public_key(FORGER).hex())):
        code, out = _verify(forged, *pin)
        assert code == 1 and not out["valid"], pin
        assert out["signature_ok"] and out["proofs_ok"] == out["proofs"]  # proofs alone pass
        assert {"signer_not_ledger", "item_differs", "item_unproven"} <= set(_keys(out)), pin
    assert "999999" in " ".join(out["problems"])
    assert "/srv/other.db#customers" in " ".join(out["problems"])


def test_a_wholly_forged_ledger_section_needs_the_pin_to_be_caught(
    cert: Path, tmp_path: Path
) -> None:
    """The forger rebuilds a whole tree holding the edited bodies and signs its checkpoint
    with the same fresh key: everything is self-consistent; only the pin tells."""
    doc = _inflated(_doc(cert))
    doc["destroyed"].pop()
    table = next(d for d in doc["destroyed"] if d["medium"] == "table")
    led = doc["ledger"]
    size = int(led["tree_size"])
    leaves = [sha256_hex(str(i).encode()) for i in range(size)]  # stand-ins for the rest
    for e in led["entries"]:
        body = json.loads(e["body"])
        if e["seq"] == table["ledger_seq"]:
            body["details"]["rows"] = 999999
            e["body"] = canonical(body).decode("utf-8")
        e["leaf_hash"] = merkle.leaf_hash(e["body"].encode("utf-8")).hex()
        leaves[e["seq"]] = e["leaf_hash"]
    node = merkle.levels_node(merkle.build_levels(b"".join(bytes.fromhex(h) for h in leaves)))
    root = merkle.range_hash(node, 0, size)
    for e in led["entries"]:
        ranges = merkle.inclusion_ranges(e["seq"], size)
        e["proof"] = [merkle.range_hash(node, a, b).hex() for a, b in ranges]
    pub = raw_public_key(FORGER)
    text = Checkpoint(led["origin"], size, root).text()
    led["checkpoint"] = sign_note(text, led["origin"], lambda d: (pub, sign_raw(FORGER, d)))
    led["public_key"], led["root"] = pub.hex(), root.hex()
    forged = tmp_path / "forged"
    _sign_as_forger(doc, forged)

    code, out = _verify(forged)
    assert code == 1 and _keys(out) == ["unpinned"]
    code, out = _verify(forged, "--key", _pub(cert))
    assert code == 1 and "untrusted" in _keys(out)


def test_an_insider_re_signing_edited_items_is_caught_by_the_ledger(
    demo: Path, cert: Path, tmp_path: Path
) -> None:
    """Signed by the workspace key itself: the proven ledger bodies still disagree."""
    original = _doc(cert)
    original.pop("signer")
    with opened(demo) as ws:

        def forge(name: str, change: Any) -> dict[str, Any]:
            doc = json.loads(json.dumps(original))
            change(doc)
            sign_certificate(ws, doc, tmp_path / name)
            code, out = _verify(tmp_path / name, "--key", _pub(cert))
            assert code == 1 and out["signature_ok"], name
            return out

        table = next(i for i, d in enumerate(original["destroyed"]) if d["medium"] == "table")
        more = forge("rows", lambda d: d["destroyed"][table].update(rows=999999))
        assert _keys(more) == ["item_differs"] and "999999" in more["problems"][0]
        other = forge("subject", lambda d: d["destroyed"][table].update(subject="x.db#t"))
        assert "item_differs" in _keys(other)
        fewer = forge("dropped", lambda d: d["destroyed"].pop(table))
        assert _keys(fewer) == ["entry_unclaimed"]
        twice = forge("twice", lambda d: d["destroyed"].append(d["destroyed"][table]))
        assert _keys(twice) == ["item_unproven"]
        found = forge("found", lambda d: d["verification"].update(found=0, passed=True, samples=1))
        assert _keys(found) == ["verification_differs"]
        stripped = forge("stripped", lambda d: d.pop("ledger"))
        assert "no_ledger" in _keys(stripped)


def test_renderings_are_recorded_and_an_edited_one_is_found(demo: Path, cert: Path) -> None:
    # shred seals its renderings with the certificate
    code, out = _verify(cert, "--key", _pub(cert))
    assert code == 0 and out["renderings_ok"] == 4 and not out["notes"]
    # a certificate of an older handover has no record: said, not failed
    record = cert / RENDERINGS_NAME
    record.unlink()
    code, out = _verify(cert, "--key", _pub(cert))
    assert code == 0 and out["renderings_covered"] is False
    assert any("not covered" in n for n in out["notes"])
    with opened(demo) as ws:
        seal_renderings(ws, cert, [cert / n for n in RENDERINGS])
    code, out = _verify(cert, "--key", _pub(cert))
    assert code == 0 and out["renderings_ok"] == 4 and not out["notes"]

    html = cert / "certificate.en.html"
    original = html.read_bytes()
    html.write_bytes(original.replace(b"Destroyed", b"Destroyeq", 1))
    code, out = _verify(cert, "--key", _pub(cert))
    assert code == 1 and _keys(out) == ["rendering_modified"] and "en.html" in out["problems"][0]
    html.write_bytes(original)
    (cert / "certificate.zh-CN.pdf").unlink()
    (cert / "certificate.fr.html").write_bytes(original)
    code, out = _verify(cert, "--key", _pub(cert))
    assert code == 1 and _keys(out) == ["rendering_missing", "rendering_added"]
    record.write_bytes(record.read_bytes().replace(b'"version":1', b'"version":2'))
    code, out = _verify(cert, "--key", _pub(cert))
    assert code == 1 and _keys(out) == ["renderings_unsigned"]


# --- 2. the ledger bundle ---------------------------------------------------------------


@pytest.fixture
def bundle(demo: Path, tmp_path: Path) -> Path:
    """A fresh export of the demo's ledger (several checkpoints)."""
    out = tmp_path / "bundle"
    with opened(demo) as ws:
        export_bundle(ws, out, actor="os:test")
    assert len(json.loads((out / "checkpoints.json").read_text("utf-8"))) >= 3
    return out


def _run_verify(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(folder / "verify.py"), str(folder), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_bundle_cut_short_fails_against_its_manifest(bundle: Path) -> None:
    """The reviewer's cut: keep the entries up to an earlier checkpoint, delete the later
    checkpoints and the inclusion proofs, trim the index and the consistency proofs."""
    assert _run_verify(bundle).returncode == 0
    index = json.loads((bundle / "checkpoints.json").read_text("utf-8"))
    keep = index[1]["size"]
    lines = (bundle / "entries.jsonl").read_text("utf-8").splitlines()[:keep]
    (bundle / "entries.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for item in index[2:]:
        (bundle / item["file"]).unlink()
    (bundle / "checkpoints.json").write_text(json.dumps(index[:2]), encoding="utf-8")
    cons = json.loads((bundle / "proofs" / "consistency.json").read_text("utf-8"))
    cons = [c for c in cons if c["new_size"] <= keep]
    (bundle / "proofs" / "consistency.json").write_text(json.dumps(cons), encoding="utf-8")
    (bundle / "proofs" / "inclusion.jsonl").unlink()
    res = _run_verify(bundle)
    assert res.returncode == 1, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert out["first_bad_seq"] == keep and "manifest.json says tree_size" in out["message"]


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        (lambda b: (b / "proofs" / "inclusion.jsonl").unlink(), "inclusion.jsonl: missing"),
        (lambda b: (b / "proofs" / "consistency.json").unlink(), "consistency.json: missing"),
        (lambda b: (b / "proofs" / "consistency.json").write_text("[]"), "no consistency proof"),
        (lambda b: _drop_line(b / "proofs" / "inclusion.jsonl", 3), "inclusion proofs of"),
        (lambda b: _drop_checkpoint(b, 1), "checkpoints.json lists"),
        (lambda b: _manifest(b, root="00" * 32), "root differs"),
        (lambda b: _manifest(b, checkpoints=1), "manifest.json says 1"),
        (lambda b: (b / "checkpoints" / "99999999.txt").write_text("x"), "(added)"),
    ],
    ids=[
        "no-inclusion",
        "no-consistency",
        "empty-consistency",
        "one-proof-less",
        "checkpoint-deleted",
        "manifest-root",
        "manifest-count",
        "checkpoint-added",
    ],
)
def test_each_missing_or_disowned_part_fails(bundle: Path, damage: Any, what: str) -> None:
    damage(bundle)
    res = _run_verify(bundle)
    assert res.returncode == 1, res.stdout + res.stderr
    assert what in json.loads(res.stdout)["message"]


def _drop_line(path: Path, n: int) -> None:
    lines = path.read_text("utf-8").splitlines()
    path.write_text("\n".join(lines[:n] + lines[n + 1 :]) + "\n", encoding="utf-8")


def _drop_checkpoint(bundle: Path, i: int) -> None:
    index = json.loads((bundle / "checkpoints.json").read_text("utf-8"))
    (bundle / index.pop(i)["file"]).unlink()
    (bundle / "checkpoints.json").write_text(json.dumps(index), encoding="utf-8")


def _manifest(bundle: Path, **change: Any) -> None:
    doc = json.loads((bundle / "manifest.json").read_text("utf-8"))
    (bundle / "manifest.json").write_text(json.dumps({**doc, **change}), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("checkpoints.json", "[1]"),
        ("checkpoints.json", '{"a":1}'),
        ("checkpoints.json", "not json"),
        ("proofs/consistency.json", "[{}]"),
        ("proofs/consistency.json", '[{"old_size":1,"new_size":2,"proof":["zz"]}]'),
        ("proofs/inclusion.jsonl", None),
        ("manifest.json", '{"format":"handover-ledger-bundle/1"}'),
    ],
)
def test_a_malformed_file_is_one_unreadable_line_naming_it(
    bundle: Path, name: str, content: str | None
) -> None:
    path = bundle / name
    if content is None:  # one garbage line among good ones
        path.write_text(path.read_text("utf-8") + "garbage{\n", encoding="utf-8")
    else:
        path.write_text(content, encoding="utf-8")
    res = _run_verify(bundle)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert name in res.stderr and "unreadable" in res.stderr


# --- 3. the dossier: entries that are not regular files ----------------------------------


@pytest.fixture
def dossier(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(Path(str(_last(demo, "dossier.export")["folder"])), target)
    return target


def test_a_symlinked_folder_or_file_in_a_dossier_is_named(dossier: Path, tmp_path: Path) -> None:
    verify_dossier(dossier)
    outside = tmp_path / "annex"
    outside.mkdir()
    (outside / "forged.pdf").write_bytes(b"%PDF-1.4 not from the seller")
    (dossier / "documents" / "annex").symlink_to(outside, target_is_directory=True)
    risks = dossier / "documents" / "risks.json"
    (tmp_path / "risks.json").write_bytes(risks.read_bytes())  # the same bytes, elsewhere
    risks.unlink()
    risks.symlink_to(tmp_path / "risks.json")
    os.mkfifo(dossier / "documents" / "pipe")
    with pytest.raises(Failed) as err:
        verify_dossier(dossier)
    assert dict(err.value.problems) == {
        "documents/annex": "not a regular file (a symbolic link), not in the manifest (added)",
        "documents/pipe": "not a regular file (a device, pipe or socket), not in the manifest "
        "(added)",
        "documents/risks.json": "not a regular file (a symbolic link)",
    }
    res = subprocess.run(
        [sys.executable, "-I", str(dossier / "verify.py"), str(dossier)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1 and "documents/annex" in res.stdout


# --- 4. audit export --------------------------------------------------------------------


def _count(demo: Path) -> int:
    con = sqlite3.connect(demo / "handover.db")
    try:
        return int(con.execute("SELECT count(*) FROM ledger_entries").fetchone()[0])
    finally:
        con.close()


def test_an_unusable_out_is_bad_input_and_nothing_is_recorded(demo: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("a file, not a folder", encoding="utf-8")
    before = _count(demo)
    res = runner.invoke(
        app, ["-w", str(demo), "--lang", "en", "audit", "export", str(tmp_path / "afile" / "sub")]
    )
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "afile/sub" in lines[0] and "cannot write" in lines[0]
    assert _count(demo) == before


def test_a_ledger_that_does_not_verify_is_not_exported_nor_recorded(
    demo: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(demo, copy)
    con = sqlite3.connect(copy / "handover.db")
    with con:
        con.execute("UPDATE ledger_entries SET body = replace(body, 'os:', 'xx:') WHERE seq = 2")
    con.close()
    before = _count(copy)
    res = runner.invoke(app, ["-w", str(copy), "audit", "export", str(tmp_path / "b")])
    assert res.exit_code == 1, res.output
    assert _count(copy) == before and not (tmp_path / "b").exists()


def test_export_is_recorded_after_the_bundle_and_stamped_by_the_injected_time(
    demo: Path, tmp_path: Path
) -> None:
    with opened(demo) as ws:
        newest = dt.datetime.fromisoformat(entries(ws)[-1].ts)
        at = (newest + dt.timedelta(days=3)).replace(microsecond=0)
        result = export_bundle(ws, tmp_path / "b", actor="os:test", now=at)
        last = entries(ws)[-1]
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text("utf-8"))
    assert manifest["exported_at"] == format_ts(at)
    assert last.action == "audit.export" and last.seq == result.entries
    assert last.details["tree_size"] == result.entries and last.ts == format_ts(at)
    assert last.details["root"] == result.root.hex()
