"""handover shred on SQLite end to end: gate, samples, raw-byte search, files, keys, certificate."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from erase_data import book, copy_book, identifiers, raw_bytes
from handover.cli.main import app
from handover.errors import BadInput

runner = CliRunner(env={"HANDOVER_VALIDATOR_PASSWORD": "liuyang-demo-2026"})
#: the demo cast's validator (docs/governance.md); library calls authenticate it too
VALIDATOR = {"validated_by": "liuyang", "validator_password": "liuyang-demo-2026"}


@pytest.fixture
def seller(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_book(book(tmp_path_factory.getbasetemp()), tmp_path / "seller.db")


def _verified(ws: Any, seller: Path, tmp_path: Path) -> Path:
    """Record a passing verify of seller → buyer (the buyer is a faithful copy)."""
    from handover.flows.verify import verify

    buyer = copy_book(seller, tmp_path / "buyer.db")
    assert verify(str(seller), str(buyer), ws=ws).equal
    return buyer


def test_naive_delete_leaves_identifiers_handover_leaves_none(seller: Path, tmp_path: Path) -> None:
    from handover.erase.database import SQLiteDatabase
    from handover.erase.samples import draw_samples, identifier_columns, search_files

    naive = copy_book(seller, tmp_path / "naive.db")
    db = SQLiteDatabase(seller)
    tables = db.tables()
    cols = identifier_columns(None, db, tables)
    assert {c[2] for c in cols} == {"cn_resident_id", "cn_mobile", "bank_card"}
    samples = draw_samples(db, cols, {}, samples=1000, seed=7)
    assert len(samples.samples) == 1000
    # A plain DELETE + DROP as most SQLite builds do it (secure_delete off, no VACUUM).
    con = sqlite3.connect(naive)
    con.execute("PRAGMA secure_delete=OFF")
    for t in tables:
        con.execute(f'DELETE FROM "{t}"')
        con.execute(f'DROP TABLE "{t}"')
    con.commit()
    con.close()
    naive_found = search_files([naive, Path(str(naive) + "-journal")], samples.samples)
    assert naive_found.found > len(samples.samples) // 2, naive_found.to_json()
    # handover's method on the same data leaves none of them.
    out = db.destroy(tables, {})
    assert sum(out.dropped.values()) > 10_000
    assert "VACUUM" in out.steps and "PRAGMA wal_checkpoint(TRUNCATE)" in out.steps
    res = search_files(db.residual_files(), samples.samples)
    db.close()
    assert res.found == 0 and res.searched
    assert out.bytes_after is not None and out.bytes_before is not None
    assert out.bytes_after < out.bytes_before // 20
    # The journal mode the file had is restored.
    con = sqlite3.connect(seller)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_shred_end_to_end(workspace: Any, seller: Path, tmp_path: Path) -> None:
    from handover.crypto import Keys
    from handover.erase import Scope, verify_certificate
    from handover.flows.seal import backup
    from handover.flows.shred import shred
    from handover.ledger import entries
    from handover.package.source import PackageSource

    ws = workspace
    _verified(ws, seller, tmp_path)
    sealed = backup(ws, str(seller))
    escaped = tmp_path / "escaped-copy"  # a copy that got away: must become unreadable
    shutil.copytree(sealed.package, escaped)
    known = identifiers(seller)
    export = ws.path / "exports" / "dd-extract.csv"
    export.write_text("id,phone\n" + "\n".join(known[:5]) + "\n", encoding="utf-8")
    plain = ws.path / "exports" / "monthly.xlsx"
    plain.write_bytes(b"PK" + b"\0" * 1000)
    temp = ws.settings.packages_dir / ".pkg.partial-abcd"
    temp.mkdir()
    (temp / "t.parquet").write_bytes(b"x" * 5000)
    extra = tmp_path / "usb-copy.csv"
    extra.write_text(known[0] + "\n", encoding="utf-8")
    passes: list[tuple[str, int, int]] = []
    sizes = {str(p): p.stat().st_size for p in [export, plain, temp / "t.parquet", extra]}

    result = shred(
        ws,
        Scope(source=str(seller), paths=[extra]),
        seed=3,
        **VALIDATOR,
        hook=lambda p, n, b: passes.append((str(p), n, b)),
    )

    assert result.passed and result.found == 0 and result.samples >= 100
    assert result.gate.passed and result.gate.seq is not None
    assert result.executor.name == "zhaolei" and result.validator.name == "liuyang"
    # Source: every table gone, no known identifier in the raw bytes.
    con = sqlite3.connect(seller)
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] == 0
    con.close()
    blob = raw_bytes(seller)
    assert not any(k.encode() in blob for k in known)
    # Files: every byte overwritten once (measured by the hook), then gone.
    for path, size in sizes.items():
        assert (path, 1, size) in passes
        assert not Path(path).exists()
    assert not sealed.package.exists() and not temp.exists()
    assert all(f.readback_ok and f.removed for f in result.files)
    # Keys: the package's keys are crypto-erased; the escaped copy cannot be opened.
    with Keys(ws) as keys:
        for key_id in set(sealed.keys.values()):
            assert keys.get(key_id).state == "destroyed"
    with pytest.raises(Exception) as err:
        PackageSource(ws, escaped)
    assert type(err.value).__name__ in ("KeyDestroyed", "DecryptionFailed", "CheckFailed")
    # Ledger and certificate.
    actions = [e.action for e in entries(ws, action="erase")]
    assert (
        actions[0] == "erase.start"
        and "erase.verify" in actions
        and actions[-1] == "erase.certificate"
    )
    check = verify_certificate(result.certificate_dir, ws=ws)
    assert check.ok and check.trusted and check.proofs == check.proofs_ok >= 20
    doc = json.loads((result.certificate_dir / "certificate.json").read_bytes())
    assert doc["verification"]["samples"] == result.samples and doc["verification"]["found"] == 0
    assert doc["people"]["executed_by"]["name"] != doc["people"]["validated_by"]["name"]
    assert {d["medium"] for d in doc["destroyed"]} >= {
        "table",
        "package",
        "extract",
        "export",
        "temp",
        "file",
        "key",
    }
    assert any(r["medium"] == "key" and r["action"] == "retain" for r in doc["retained"])
    assert doc["verify_gate"]["verify_ledger_seq"] == result.gate.seq
    # No sampled or known identifier is written anywhere handover keeps records.
    for p in [*result.certificate_dir.iterdir(), ws.path / "handover.db"]:
        data = p.read_bytes()
        assert not any(k.encode() in data for k in known), p


def test_certificate_verify_cli_and_tampering(workspace: Any, seller: Path, tmp_path: Path) -> None:
    from handover.erase import Scope
    from handover.flows.shred import shred

    ws = workspace
    _verified(ws, seller, tmp_path)
    result = shred(ws, Scope(source=str(seller), media=["source"]), seed=1, **VALIDATOR)
    folder = result.certificate_dir
    assert folder is not None
    ws_path = str(ws.path)
    good = runner.invoke(
        app, ["-w", ws_path, "certificate", "verify", str(folder / "certificate.json"), "--json"]
    )
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["valid"] is True
    # Offline, pinned to the signer's key, outside any workspace.
    pub = json.loads((folder / "certificate.sig").read_text())["public_key"]
    off = runner.invoke(
        app, ["-w", str(tmp_path / "nowhere"), "certificate", "verify", str(folder), "--key", pub]
    )
    assert off.exit_code == 0, off.output
    # One byte changed in certificate.json → the signature fails.
    tampered = tmp_path / "t1"
    shutil.copytree(folder, tampered)
    body = bytearray((tampered / "certificate.json").read_bytes())
    i = body.index(b'"found":0')
    body[i + 8] = ord("1")
    (tampered / "certificate.json").write_bytes(bytes(body))
    bad = runner.invoke(
        app, ["-w", ws_path, "--lang", "en", "certificate", "verify", str(tampered)]
    )
    assert bad.exit_code == 1 and "signature" in bad.output
    zh = runner.invoke(app, ["-w", ws_path, "certificate", "verify", str(tampered)])
    assert zh.exit_code == 1
    assert "销毁证明无效:certificate.json:Ed25519 签名与文件内容不符" in zh.output
    assert "signature" not in zh.output
    details = json.loads(
        runner.invoke(app, ["-w", ws_path, "certificate", "verify", str(tampered), "--json"]).stdout
    )
    assert (
        details["problems"][0] == "certificate.json: the Ed25519 signature does not match the file"
    )
    assert details["problem_details"][0] == {
        "key": "erase.cert.problem.sig_mismatch",
        "params": {"file": "certificate.json"},
    }
    # A forged inclusion proof, re-signed by the same workspace key → the proof fails.
    from handover.erase.certificate import sign_certificate

    doc = json.loads((folder / "certificate.json").read_bytes())
    entry = doc["ledger"]["entries"][0]
    entry["proof"][0] = ("00" if entry["proof"][0][:2] != "00" else "11") + entry["proof"][0][2:]
    forged = tmp_path / "t2"
    sign_certificate(ws, {k: v for k, v in doc.items() if k != "signer"}, forged)
    res = runner.invoke(
        app, ["-w", ws_path, "certificate", "verify", str(forged / "certificate.json"), "--json"]
    )
    assert res.exit_code == 1
    out = json.loads(res.stdout)
    assert out["signature_ok"] is True and out["proofs_ok"] == out["proofs"] - 1
    # A forged ledger body (an event that never happened) → the leaf does not prove.
    doc = json.loads((folder / "certificate.json").read_bytes())
    e = doc["ledger"]["entries"][-1]
    e["body"] = e["body"].replace('"found":0', '"found":0,"x":1')
    e["body"] = e["body"] if '"x":1' in e["body"] else e["body"][:-1] + ',"x":1}'
    forged2 = tmp_path / "t3"
    sign_certificate(ws, {k: v for k, v in doc.items() if k != "signer"}, forged2)
    res2 = runner.invoke(app, ["-w", ws_path, "certificate", "verify", str(forged2), "--json"])
    assert res2.exit_code == 1


def test_renderings_zh_and_en(workspace: Any, seller: Path, tmp_path: Path) -> None:
    import pypdf

    from handover.erase import Scope
    from handover.flows.shred import shred

    ws = workspace
    _verified(ws, seller, tmp_path)
    result = shred(ws, Scope(source=str(seller), media=["source"]), seed=2, **VALIDATOR)
    folder = result.certificate_dir
    assert folder is not None
    zh = (folder / "certificate.zh-CN.html").read_text(encoding="utf-8")
    en = (folder / "certificate.en.html").read_text(encoding="utf-8")
    assert "数据销毁证明" in zh and "执行人" in zh and "复核人" in zh
    assert "Certificate of sanitization" in en and "Validated by" in en
    sig = json.loads((folder / "certificate.sig").read_text())
    assert sig["signature"] in zh and sig["signature"] in en
    for lang, title in (("zh-CN", "数据销毁证明"), ("en", "Certificate of sanitization")):
        reader = pypdf.PdfReader(folder / f"certificate.{lang}.pdf")
        text = "".join(page.extract_text() for page in reader.pages)
        assert title in text
        assert result.run_id in text
        assert sig["sha256"] in text.replace("\n", "")
    zh_pdf = "".join(
        p.extract_text() for p in pypdf.PdfReader(folder / "certificate.zh-CN.pdf").pages
    )
    assert "销毁后校验" in zh_pdf and "赵磊" in zh_pdf


def test_gate_refuses_without_passing_verify(workspace: Any, seller: Path, tmp_path: Path) -> None:
    from handover.flows.verify import verify
    from handover.ledger import entries

    ws_path = str(workspace.path)
    res = runner.invoke(app, ["-w", ws_path, "shred", "--yes", str(seller), "--media", "source"])
    assert res.exit_code == 3, res.output
    # A failing verify refuses too.
    buyer = copy_book(seller, tmp_path / "buyer.db")
    con = sqlite3.connect(buyer)
    con.execute("DELETE FROM cust_info WHERE rowid IN (SELECT rowid FROM cust_info LIMIT 1)")
    con.commit()
    con.close()
    assert not verify(str(seller), str(buyer), ws=workspace).equal
    res = runner.invoke(app, ["-w", ws_path, "--lang", "en", "shred", "--yes", str(seller)])
    assert res.exit_code == 3 and "did not pass" in res.output
    # --force alone is refused; with a reason it runs and the reason is recorded.
    res = runner.invoke(app, ["-w", ws_path, "shred", "--yes", str(seller), "--force"])
    assert res.exit_code == 3
    reason = "卖方数据已由监管机构另行封存 / regulator holds a sealed copy"
    res = runner.invoke(
        app,
        [
            "-w",
            ws_path,
            "shred",
            "--yes",
            str(seller),
            "--media",
            "source",
            "--force",
            "--reason",
            reason,
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["gate"]["forced"] is True and doc["gate"]["force_reason"] == reason
    start = [e for e in entries(workspace, action="erase.start")][-1]
    assert start.details["gate"]["force_reason"] == reason


def test_dual_control(workspace: Any, seller: Path, tmp_path: Path) -> None:
    _verified(workspace, seller, tmp_path)
    ws_path = str(workspace.path)
    same = runner.invoke(
        app,
        [
            "-w",
            ws_path,
            "shred",
            "--yes",
            str(seller),
            "--executed-by",
            "zhaolei",
            "--validated-by",
            "zhaolei",
        ],
    )
    assert same.exit_code == 3, same.output
    # A validator without an oversight role is refused; the executor needs a shred grant.
    norole = runner.invoke(
        app,
        [
            "-w",
            ws_path,
            "shred",
            "--yes",
            str(seller),
            "--executed-by",
            "zhaolei",
            "--validated-by",
            "chenjing",
        ],
    )
    assert norole.exit_code == 3
    nogrant = runner.invoke(
        app,
        [
            "-w",
            ws_path,
            "shred",
            "--yes",
            str(seller),
            "--executed-by",
            "chenjing",
            "--validated-by",
            "liuyang",
        ],
    )
    assert nogrant.exit_code == 3
    con = sqlite3.connect(seller)
    assert con.execute("SELECT count(*) FROM cust_info").fetchone()[0] == 500
    con.close()
    ok = runner.invoke(
        app,
        [
            "-w",
            ws_path,
            "shred",
            "--yes",
            str(seller),
            "--media",
            "source",
            "--executed-by",
            "huangtao",
            "--validated-by",
            "wangmin",
            "--json",
        ],
        env={"HANDOVER_VALIDATOR_PASSWORD": "wangmin-demo-2026"},
    )
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["executed_by"]["name"] == "huangtao" and doc["validated_by"]["name"] == "wangmin"


def test_dual_control_needs_registered_people(tmp_path: Path) -> None:
    """Two names typed on the command line are no dual control: nobody authenticated."""
    from handover.errors import Refused
    from handover.flows.shred import dual_control
    from handover.flows.workspace import init_workspace
    from handover.workspace import DEMO_TRANSFER

    ws = init_workspace(tmp_path / "plain", DEMO_TRANSFER)  # not a demo: nobody registered
    try:
        with pytest.raises(Refused, match="two registered people"):
            dual_control(ws, "张三", "李四")
    finally:
        ws.close()


def test_retention_rules_plan_and_run(workspace: Any, seller: Path, tmp_path: Path) -> None:
    ws = workspace
    _verified(ws, seller, tmp_path)
    rules = tmp_path / "retain.toml"
    rules.write_text(
        '[[retain]]\nid = "aml-repayments"\ntables = ["hkls"]\nbasis = "aml"\n'
        "relationship_end = 2027-01-15\n"
        '[[retain]]\nid = "aml-open-loans"\ntables = ["loan_iou"]\nbasis = "aml"\n'
        'where = "iou_id % 2 = 0"\n',
        encoding="utf-8",
    )
    res = runner.invoke(
        app,
        [
            "-w",
            str(ws.path),
            "shred",
            "--yes",
            str(seller),
            "--plan",
            "--retention",
            str(rules),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    plan = json.loads(res.stdout)
    kept = {r["subject"].split("#")[1]: r for r in plan["retain"] if "#" in r["subject"]}
    assert kept["hkls"]["rule"]["until"] == "2032-01-15" and kept["hkls"]["rows"] == 3690
    assert "反洗钱法" in kept["hkls"]["rule"]["basis"]["zh-CN"]
    rows = [d for d in plan["destroy"] if d["medium"] == "rows"]
    assert rows and rows[0]["rows"] + rows[0]["kept_rows"] == 592
    assert plan["gate"]["passed"] is True
    human = runner.invoke(
        app,
        ["-w", str(ws.path), "shred", "--yes", str(seller), "--plan", "--retention", str(rules)],
    )
    assert human.exit_code == 0 and "校验闸门" in human.output
    assert "工作区签名密钥" in human.output and "workspace signing key" not in human.output
    res = runner.invoke(
        app,
        [
            "-w",
            str(ws.path),
            "shred",
            "--yes",
            str(seller),
            "--media",
            "source",
            "--retention",
            str(rules),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["verification"]["found"] == 0 and out["verification"]["passed"]
    con = sqlite3.connect(seller)
    assert con.execute("SELECT count(*) FROM hkls").fetchone()[0] == 3690
    assert con.execute("SELECT count(*) FROM loan_iou WHERE iou_id % 2 = 1").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM loan_iou").fetchone()[0] == rows[0]["kept_rows"]
    assert (
        con.execute("SELECT count(*) FROM sqlite_master WHERE name='cust_info'").fetchone()[0] == 0
    )
    con.close()


def test_bad_retention_rule_changes_nothing(workspace: Any, seller: Path, tmp_path: Path) -> None:
    rules = tmp_path / "bad.toml"
    rules.write_text(
        '[[retain]]\ntables = ["hkls"]\nbasis = "aml"\nwhere = "1=1; DROP TABLE x"\n',
        encoding="utf-8",
    )
    res = runner.invoke(
        app,
        [
            "-w",
            str(workspace.path),
            "--lang",
            "en",
            "shred",
            "--yes",
            str(seller),
            "--retention",
            str(rules),
            "--force",
            "--reason",
            "x",
        ],
    )
    assert res.exit_code == 2 and "retention rule 1" in res.output
    con = sqlite3.connect(seller)
    assert con.execute("SELECT count(*) FROM cust_info").fetchone()[0] == 500
    con.close()


def test_overwrite_file_measured(tmp_path: Path) -> None:
    from handover.crypto.files import overwrite_tree

    folder = tmp_path / "pkg"
    (folder / "sub").mkdir(parents=True)
    a, b = folder / "a.bin", folder / "sub" / "b.txt"
    a.write_bytes(b"\x01" * 3_000_001)
    b.write_text("110101199003074514\n", encoding="utf-8")
    seen: list[tuple[Path, int, int]] = []
    outs = overwrite_tree(
        folder,
        passes=2,
        needles=[[b"110101199003074514"]],
        hook=lambda p, n, w: seen.append((p, n, w)),
    )
    assert sorted((p.name, n, w) for p, n, w in seen) == [
        ("a.bin", 1, 3_000_001),
        ("a.bin", 2, 3_000_001),
        ("b.txt", 1, 19),
        ("b.txt", 2, 19),
    ]
    assert all(o.readback_ok and o.removed and o.samples_found == 0 for o in outs)
    assert not folder.exists()


@pytest.mark.parametrize("change", ["first", "last", "grown", "shrunk", "none"])
def test_overwrite_readback_is_the_last_pass_byte_for_byte(tmp_path: Path, change: str) -> None:
    """The read-back is compared with the last pass's stream generated again: one byte
    changed after the pass (at the start, or in the last of several blocks), a byte more
    or fewer, fails it; the untouched file passes."""
    from handover.crypto.files import CHUNK, overwrite_file
    from handover.crypto.suites import RandomStream

    stream = RandomStream()
    first = stream.read(1000) + stream.read(CHUNK)
    assert stream.again().read(len(first)) == first and RandomStream().read(1000) != first[:1000]
    path = tmp_path / "f.bin"
    path.write_bytes(b"13800138000\n" * 300_000)  # 3.6 MB: four read-back blocks

    def tamper(p: Path, n: int, written: int) -> None:
        if n < 2 or change == "none":
            return
        data = bytearray(p.read_bytes())
        if change in ("first", "last"):
            at = 0 if change == "first" else len(data) - 1
            data[at] ^= 0x01
        elif change == "grown":
            data.append(0)
        else:
            del data[-1]
        p.write_bytes(bytes(data))

    out = overwrite_file(path, passes=2, hook=tamper)
    assert out.readback_ok is (change == "none") and out.removed


@pytest.mark.parametrize("at", ["start", "seam", "later"])
def test_overwrite_finds_a_sample_the_file_still_holds(
    tmp_path: Path, at: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sample back in the file after the last pass (a device that did not write a
    block, say) is found in the read-back: at its start, across the seam of two read-back
    blocks, or blocks after the first; a read-back equal to the stream is not searched
    (its bytes are the stream's, drawn without regard to the file)."""
    from handover.crypto import files
    from handover.crypto.files import CHUNK, overwrite_file

    sample = b"110101199003074514"
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x00" * (4 * CHUNK))
    offset = {"start": 0, "seam": CHUNK - 7, "later": 3 * CHUNK + 100}[at]
    searched: list[int] = []
    find = files.Needles.find

    def counted(self: Any, window: bytes, found: set[int], helper: Any = None) -> None:
        searched.append(len(window))
        find(self, window, found, helper)

    monkeypatch.setattr(files.Needles, "find", counted)

    def left_behind(p: Path, n: int, written: int) -> None:
        with p.open("r+b") as fh:
            fh.seek(offset)
            fh.write(sample)

    out = overwrite_file(path, needles=[[b"13800138000"], [sample]], hook=left_behind)
    assert out.samples_found == 1 and not out.readback_ok and out.removed
    assert len(searched) == 4 - offset // CHUNK
    searched.clear()
    path.write_bytes(sample * 1000)
    out = overwrite_file(path, needles=[[sample]])
    assert out.readback_ok and out.samples_found == 0 and searched == []


def test_overwrite_passes_write_fresh_random_bytes(tmp_path: Path) -> None:
    """Each pass writes bytes of its own random stream: unlike the file's content, unlike
    the other pass, spread over every byte value and incompressible."""
    import zlib

    from handover.crypto.files import overwrite_file

    path = tmp_path / "f.bin"
    path.write_bytes(b"110101199003074514\n" * 100_000)
    original = path.read_bytes()
    seen: list[bytes] = []
    out = overwrite_file(path, passes=2, hook=lambda p, n, w: seen.append(p.read_bytes()))
    assert out.readback_ok and out.removed and out.passes == [len(original)] * 2
    assert len(seen) == 2 and seen[0] != seen[1]
    for data in seen:
        assert len(data) == len(original) and data != original
        counts = Counter(data)
        expected = len(data) / 256
        assert len(counts) == 256 and all(
            abs(c - expected) < 0.1 * expected for c in counts.values()
        )
        assert len(zlib.compress(data)) > 0.99 * len(data)


def test_needles_found_at_once_as_one_by_one() -> None:
    """The read-back's search of every sample at once finds exactly what searching each
    form in turn finds: forms of every length (shorter than its four-byte lookup too),
    at the very start and end of a block, and across the seam between two blocks."""
    import random

    from handover.crypto.files import Needles

    rng = random.Random(7)
    needles = [
        [b"110101199003074514", "110101199003074514".encode("utf-16-le")],
        [b"13800138000"],
        ["王小明".encode()],
        [b"ab"],  # shorter than the lookup
        [b"\x00\x01\x02\x03\x04"],
        [b"never-there-0000"],
        *[[str(rng.randrange(10**17, 10**18)).encode()] for _ in range(300)],
    ]
    search = Needles(needles)
    block = bytearray(rng.randbytes(200_000))
    block[0:18] = needles[0][0]
    block[-11:] = needles[1][0]
    block[5000:5009] = needles[2][0]
    block[7000:7002] = b"ab"
    block[9000:9005] = needles[4][0]
    block[12345 : 12345 + 18] = needles[40][0]
    found: set[int] = set()
    search.find(bytes(block), found)
    naive = {j for j, forms in enumerate(needles) if any(f in bytes(block) for f in forms)}
    assert found == naive and {0, 1, 2, 3, 4, 40} <= found and 5 not in found
    # a form split by the seam between two blocks is found in the window tail + block
    first, second = rng.randbytes(1000) + needles[0][1][:10], needles[0][1][10:] + rng.randbytes(50)
    seam: set[int] = set()
    search.find(first, seam)
    assert 0 not in seam
    search.find(first[-search.overlap :] + second, seam)
    assert 0 in seam


def test_needles_every_alignment_and_length_as_one_by_one() -> None:
    """The word lookup (four views of the block, one per alignment) misses no position:
    blocks of every length from empty to a few words, digit text dense with near misses
    (shared prefixes) and random bytes, forms of one to nineteen bytes (SQLite's integer
    forms are short) placed at every offset — the same samples as the one-by-one search."""
    import random

    from handover.crypto.files import Needles

    rng = random.Random(11)
    needles = [
        [b"13800138000", (13800138000).to_bytes(5, "big")],
        [b"1380013", b"\x07"],
        [b"110101199003074514"],
        [b"1101"],
        [b"6222021234567890123"],
        *[[str(rng.randrange(10**10, 10**11)).encode()] for _ in range(200)],
    ]
    search = Needles(needles)
    for length in range(0, 40):
        for offset in range(max(1, length)):
            for alphabet in (b"0123456789", bytes(range(256))):
                data = _planted(rng, needles, alphabet, length, offset)
                found: set[int] = set()
                search.find(data, found)
                assert found == _naive(needles, data), (length, offset)


def _planted(
    rng: Any, needles: list[list[bytes]], alphabet: bytes, length: int, offset: int
) -> bytes:
    """``length`` bytes drawn from ``alphabet`` with one of ``needles``' forms at
    ``offset`` when it fits."""
    block = bytearray(rng.choice(alphabet) for _ in range(length))
    form = rng.choice(rng.choice(needles))
    if offset + len(form) <= length:
        block[offset : offset + len(form)] = form
    return bytes(block)


def _naive(needles: list[list[bytes]], data: bytes) -> set[int]:
    """The samples one of whose forms occurs in ``data``, searched one by one."""
    return {j for j, forms in enumerate(needles) if any(f in data for f in forms)}


def test_needles_split_in_two_halves_find_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window searched in two halves at once (the second on the helper thread) finds
    what the whole window finds: forms across the halves' seam, at the ends, windows of
    odd and even length, every offset near the middle."""
    import random
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from handover.crypto import files
    from handover.crypto.files import Needles

    monkeypatch.setattr(files, "SPLIT_MIN", 8)
    rng = random.Random(13)
    needles = [
        [b"110101199003074514"],
        [b"13800138000", (13800138000).to_bytes(5, "big")],
        [b"ab"],
        *[[str(rng.randrange(10**10, 10**11)).encode()] for _ in range(100)],
    ]
    search = Needles(needles)
    where: list[tuple[str, int]] = []
    real = Needles._scan

    def scan(self: Needles, window: bytes, lo: int, hi: int, found: set[int]) -> None:
        where.append((threading.current_thread().name, lo))
        real(self, window, lo, hi, found)

    monkeypatch.setattr(Needles, "_scan", scan)
    with ThreadPoolExecutor(1, thread_name_prefix="helper") as helper:
        for length in range(8, 70):
            for offset in range(max(0, length // 2 - 20), length):
                for alphabet in (b"0123456789", bytes(range(256))):
                    data = _planted(rng, needles, alphabet, length, offset)
                    split: set[int] = set()
                    search.find(data, split, helper)
                    assert split == _naive(needles, data), (length, offset)
    assert {name.startswith("helper") for name, lo in where if lo > 0} == {True}
    assert any(lo == 0 and not name.startswith("helper") for name, lo in where)


# --- acceptance: 1,000 samples, crypto-erase, refusals, one-byte edits ---------------------


def test_thousand_ids_and_phones_absent_from_raw_bytes(
    workspace: Any, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from erase_data import big_book, id_phone_values, sqlite_cells

    seller = copy_book(big_book(tmp_path_factory.getbasetemp()), tmp_path / "seller.db")
    naive = copy_book(seller, tmp_path / "naive.db")
    # The test's own sample, drawn independently of handover's recognisers.
    values = id_phone_values(sqlite_cells(seller), 1200, seed=20)
    assert len(values) >= 1000
    needles = [v.encode() for v in values]
    assert all(n in raw_bytes(seller) for n in needles)
    # The check can fail: a plain DELETE + DROP (secure_delete off, no VACUUM) leaves most.
    con = sqlite3.connect(naive)
    con.execute("PRAGMA secure_delete=OFF")
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for name in names:
        con.execute(f'DELETE FROM "{name}"')
        con.execute(f'DROP TABLE "{name}"')
    con.commit()
    con.close()
    blob = raw_bytes(naive)
    naive_found = sum(1 for n in needles if n in blob)
    assert naive_found > len(values) // 2, (naive_found, len(values))
    # handover shred through the CLI, default sample size.
    _verified(workspace, seller, tmp_path)
    res = runner.invoke(
        app,
        [
            "-w",
            str(workspace.path),
            "shred",
            "--yes",
            str(seller),
            "--media",
            "source",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    ver = out["verification"]
    assert ver["samples"] == 1000 and ver["found"] == 0 and ver["passed"], ver
    by_type = ver["samples_by_type"]
    assert set(by_type) == {"cn_resident_id", "cn_mobile", "bank_card"}, by_type
    assert by_type["cn_resident_id"] + by_type["cn_mobile"] >= 500
    searched = next(c for c in ver["checks"] if c["what"] == "source")["searched"]
    assert [s["path"] for s in searched] == [str(seller)]  # no -wal/-journal left
    # None of the test's own >=1,000 values is in the file or a -wal/-journal/-shm.
    assert not any(Path(str(seller) + s).exists() for s in ("-wal", "-journal", "-shm"))
    blob = raw_bytes(seller)
    assert sum(1 for n in needles if n in blob) == 0
    print(f"samples: test {len(values)}, naive found {naive_found}, after shred found 0")


def test_samples_option_total_and_all_when_fewer(seller: Path) -> None:
    from handover.erase.database import SQLiteDatabase
    from handover.erase.samples import SAMPLES, draw_samples, identifier_columns

    assert SAMPLES == 1000
    db = SQLiteDatabase(seller)
    try:
        cols = identifier_columns(None, db, db.tables())
        few = draw_samples(db, cols, {}, samples=50, seed=1)
        assert len(few.samples) == 50
        assert len({s.value for s in few.samples}) == 50
        # Split evenly: every column gives its share, or all it has when fewer.
        share = 50 // len(cols)
        assert all(c["samples"] >= min(share, c["candidates"]) for c in few.columns)
        every = draw_samples(db, cols, {}, samples=10**6, seed=1)
        candidates = sum(c["candidates"] for c in every.columns)
        assert len(every.samples) == candidates and candidates > 1000
        assert all(c["samples"] == c["candidates"] for c in every.columns)
        assert len({s.value for s in every.samples}) == candidates
        same = draw_samples(db, cols, {}, samples=50, seed=1)
        assert [s.value for s in same.samples] == [s.value for s in few.samples]
    finally:
        db.close()
    res = runner.invoke(app, ["shred", "--yes", "--help"])
    assert "--samples" in res.output


def _cli(ws: Any, *args: str) -> Any:
    return runner.invoke(app, ["-w", str(ws.path), "--lang", "en", *args])


def test_destroyed_key_makes_package_unopenable(
    workspace: Any, seller: Path, tmp_path: Path
) -> None:
    from handover.flows.seal import seal

    ws = workspace
    pkg = tmp_path / "sealed"  # outside packages/: only its keys can protect it
    sealed = seal(ws, str(seller), pkg)
    key_ids = sorted(set(sealed.keys.values()) | ({sealed.footer_key} - {""}))
    assert key_ids
    ok = _cli(ws, "unseal", str(pkg), "--to", str(tmp_path / "before.db"))
    assert ok.exit_code == 0, ok.output
    _verified(ws, seller, tmp_path)
    res = _cli(ws, "shred", "--yes", str(seller), "--media", "source,keys", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    bad = _cli(ws, "unseal", str(pkg), "--to", str(tmp_path / "after.db"))
    # The package layer reports the destroyed key as "cannot be opened" (exit 1).
    assert bad.exit_code != 0 and "cannot be opened" in bad.output, bad.output
    assert "was destroyed" in bad.output and "cryptographic erase" in bad.output
    assert any(k in bad.output for k in key_ids)
    assert not (tmp_path / "after.db").exists()
    doc = json.loads((Path(out["certificate"]) / "certificate.json").read_bytes())
    erased = {
        d["key_id"]: d
        for d in doc["destroyed"]
        if d["medium"] == "key" and d["method"] == "key.crypto_erase"
    }
    assert set(key_ids) <= set(erased)
    assert all(erased[k]["state"] == "destroyed" for k in key_ids)
    assert doc["methods"]["key.crypto_erase"]["nist_sp800_88"] == "cryptographic_erase"
    keys_check = next(c for c in doc["verification"]["checks"] if c["what"] == "keys")
    assert keys_check["all_destroyed"] and keys_check["keys"] == len(erased)


def _state(ws: Any, seller: Path, files: list[Path]) -> dict[str, Any]:
    """What a refused shred must leave untouched: tables and rows, files, keys."""
    from handover.crypto import Keys

    con = sqlite3.connect(seller)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()
    found = sorted(p for f in files for p in ([f] if f.is_file() else f.rglob("*")))
    with Keys(ws) as keys:
        states = {k.key_id: k.state for k in keys.list()}
    return {
        "rows": rows,
        "files": {str(p): p.read_bytes() for p in found if p.is_file()},
        "keys": states,
    }


def test_data_named_from_another_folder_is_the_same_data(
    workspace: Any, seller: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger keeps where each source and target was, not only how it was spelt: a
    verify run as ``verify seller.db buyer.db`` inside the data's folder opens the gate of
    a shred run from another folder by the absolute path (the console's jobs run in the
    server's folder), and its buyer stays the kept destination. Before, the relative
    spelling was resolved against the shred's folder: unknown to this transfer (exit 3)."""
    from handover.erase import Scope
    from handover.erase.plan import make_plan
    from handover.flows.seal import backup
    from handover.flows.unseal import unseal
    from handover.ledger import entries

    ws = workspace
    buyer = copy_book(seller, tmp_path / "buyer.db")
    monkeypatch.chdir(tmp_path)
    sealed = backup(ws, "seller.db")
    assert _cli(ws, "verify", "seller.db", "buyer.db").exit_code == 0
    unseal(ws, str(sealed.package), "restored.db")
    (run,) = entries(ws, action="verify.run")
    assert run.details["source"] == "seller.db"  # shown as the user spelt it …
    assert run.details["located"] == {
        "source": str(seller),
        "target": str(buyer),
    }  # … kept as where

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # the restored copy is found where it was written, the buyer kept as the destination
    plan = make_plan(ws, Scope(source=str(seller)))
    subjects = {(i.medium, i.action, str(i.path)) for i in plan.items}
    assert ("copy", "destroy", str(tmp_path / "restored.db")) in subjects, subjects
    res = _cli(ws, "shred", str(seller), "--validated-by", "liuyang", "--yes", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["gate"]["passed"] is True and doc["gate"]["forced"] is False
    assert buyer.exists() and not (tmp_path / "restored.db").exists()
    # an event recorded before places were (its spelling only) still resolves here
    legacy = {"source": "seller.db"}
    from handover.erase.control import recorded_place

    assert recorded_place(legacy, "source") == str(elsewhere / "seller.db")
    assert recorded_place({**legacy, "located": {"source": "/x/y.db"}}, "source") == "/x/y.db"


def test_refusals_exit_3_and_destroy_nothing(workspace: Any, seller: Path, tmp_path: Path) -> None:
    from handover.flows.seal import backup
    from handover.ledger import entries

    ws = workspace
    sealed = backup(ws, str(seller))  # the seller is now known to the transfer
    extra = tmp_path / "usb-copy.csv"
    extra.write_text("a,b\n", encoding="utf-8")
    other = copy_book(seller, tmp_path / "other.db")  # a database this transfer never saw
    watched = [seller, sealed.package, extra, other, ws.path / "keys"]
    before = _state(ws, seller, watched)
    assert sum(before["rows"].values()) > 10_000 and "active" in before["keys"].values()

    def refused(*args: str, reason: str, code: int = 3) -> None:
        res = _cli(ws, "shred", "--yes", "--progress", "none", *args)
        assert res.exit_code == code, (args, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0], (args, res.output)

    src = (str(seller),)
    refused(*src, reason="no verify")  # before any verify
    buyer = _verified(ws, seller, tmp_path)
    refused(*src, "--executed-by", "zhaolei", "--validated-by", "zhaolei", reason="different")
    refused(str(other), reason="unknown to this transfer")
    refused(str(other), "--plan", reason="unknown to this transfer")
    # a path that does not exist is bad input (exit 2), not a policy refusal
    refused(str(tmp_path / "nope.db"), reason="does not exist", code=2)
    refused(str(tmp_path / "nope.db"), "--force", "--reason", "x", reason="not exist", code=2)
    refused(*src, "--target", str(other), reason="unknown to this transfer")
    refused(
        *src, "--target", str(buyer), "--path", str(tmp_path / "gone"), reason="not exist", code=2
    )
    refused("postgresql://u@127.0.0.1:1/never_seen", reason="unknown to this transfer")
    # A malformed URL stays bad input (exit 2), still with nothing destroyed.
    bad = _cli(ws, "shred", "--yes", "postgresql://u:secret@host:notaport/db")
    assert bad.exit_code == 2 and "secret" not in bad.output, bad.output
    assert _state(ws, seller, watched) == before
    assert not entries(ws, action="erase")
    ok = _cli(ws, "unseal", str(sealed.package), "--to", str(tmp_path / "restored.db"))
    assert ok.exit_code == 0, ok.output  # the keys still open the package


def test_certificate_one_byte_edit_fails_verify(
    workspace: Any, seller: Path, tmp_path: Path
) -> None:
    from handover.erase import Scope, verify_certificate
    from handover.flows.shred import shred

    ws = workspace
    _verified(ws, seller, tmp_path)
    folder = shred(
        ws, Scope(source=str(seller), media=["source"]), seed=4, **VALIDATOR
    ).certificate_dir
    assert folder is not None
    # Offline the signer must be pinned: consistent alone is not valid.
    pub = json.loads((folder / "certificate.sig").read_text())["public_key"]
    offline = verify_certificate(folder)
    assert offline.consistent and not offline.ok
    assert verify_certificate(folder, pinned_key=pub).ok and verify_certificate(folder, ws=ws).ok
    for name in ("certificate.json", "certificate.sig"):
        original = (folder / name).read_bytes()
        copy = tmp_path / f"edit-{name}"
        shutil.copytree(folder, copy)
        # Through the CLI: one byte in the middle of the file.
        body = bytearray(original)
        body[len(body) // 2] ^= 0x01
        (copy / name).write_bytes(bytes(body))
        res = _cli(ws, "certificate", "verify", str(copy))
        assert res.exit_code == 1, (name, res.output)
        # Through the library: every byte of the .sig, and 300 spread over the .json.
        step = 1 if name.endswith(".sig") else max(1, len(original) // 300)
        passed = []
        for i in range(0, len(original), step):
            body = bytearray(original)
            body[i] ^= 0x01
            (copy / name).write_bytes(bytes(body))
            if verify_certificate(copy, pinned_key=pub).ok:
                passed.append(i)
        assert not passed, (name, passed[:5])
        (copy / name).write_bytes(original)
        assert verify_certificate(copy, ws=ws).ok


def _small_book(path: Path, *, wal: bool = False) -> Path:
    import sqlite3

    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)")
    con.executemany("INSERT INTO a VALUES (?, ?)", [(i, f"13800138{i:03d}") for i in range(500)])
    con.execute("CREATE TABLE b (x)")
    con.commit()
    con.close()
    return path


def test_a_reader_arriving_during_the_destruction_leaves_notes_not_a_crash(
    tmp_path: Path,
) -> None:
    """Another program starts reading the file while the tables are dropped: the drop
    is committed, and the clean-up it then blocks (restoring the journal mode, emptying
    the WAL) is a note of the certificate, not a failure after the data is gone (which
    left no certificate and no way to get one: helper-40 with a seal reading the source)."""
    import sqlite3

    from handover.erase.database import SQLiteDatabase

    path = _small_book(tmp_path / "s.db")
    db = SQLiteDatabase(path)
    db.con.execute("PRAGMA busy_timeout = 200")  # the other program does not let go
    reader = sqlite3.connect(path, isolation_level=None)

    def arrive(sql: str) -> None:
        if sql.startswith("DROP TABLE") and not reader.in_transaction:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM b").fetchone()

    db.con.set_trace_callback(arrive)
    try:
        out = db.destroy(["a"], {})
    finally:
        reader.execute("COMMIT")
        reader.close()
        db.close()
    assert out.dropped == {"a": 500}
    assert any("journal_mode=DELETE" in n and "database is locked" in n for n in out.notes)
    con = sqlite3.connect(path)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["b"]
    con.close()


@pytest.mark.parametrize("holder", ["reader", "writer"])
def test_a_program_holding_the_file_before_the_destruction_refuses_it(
    tmp_path: Path, holder: str
) -> None:
    """Another program holds the file when the destruction would begin: a reader blocks
    the switch to WAL, a writer's open transaction the destruction's own. A one-line
    refusal naming the cause, nothing destroyed (the writer's case had been an internal
    error: helper-41)."""
    from handover.erase.database import SQLiteDatabase

    path = _small_book(tmp_path / "s.db", wal=holder == "writer")
    other = sqlite3.connect(path, isolation_level=None)
    if holder == "reader":
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM a").fetchone()
    else:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO b VALUES (1)")
    db = SQLiteDatabase(path)
    db.con.execute("PRAGMA busy_timeout = 200")
    try:
        with pytest.raises(BadInput, match="database is locked"):
            db.destroy(["a"], {})
    finally:
        other.execute("ROLLBACK")
        other.close()
        db.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM a").fetchone() == (500,)
    con.close()


def _plan_methods(ws: Any, seller: Path, *extra: str) -> set[str]:
    res = runner.invoke(
        app, ["-w", str(ws.path), "shred", "--yes", str(seller), "--plan", "--json", *extra]
    )
    assert res.exit_code == 0, res.output
    return {d["method"] for d in json.loads(res.stdout)["destroy"] if d["medium"] == "table"}


def test_whole_file_method_only_when_every_table_goes(
    workspace: Any, seller: Path, tmp_path: Path
) -> None:
    """Every table of the file goes: the plan says ``sqlite.overwrite``; a table left out
    of ``--tables`` or kept (wholly or in part) by a retention rule: ``secure_delete``."""
    ws = workspace
    _verified(ws, seller, tmp_path)
    assert _plan_methods(ws, seller) == {"sqlite.overwrite"}
    assert _plan_methods(ws, seller, "--tables", "cust_info") == {"sqlite.secure_delete"}
    for where in ("", 'where = "iou_id % 2 = 0"\n'):
        rules = tmp_path / "retain.toml"
        rules.write_text(
            f'[[retain]]\nid = "aml"\ntables = ["loan_iou"]\nbasis = "aml"\n{where}',
            encoding="utf-8",
        )
        assert _plan_methods(ws, seller, "--retention", str(rules)) == {"sqlite.secure_delete"}


def _book_with_free_pages(path: Path, mode: str) -> list[bytes]:
    """A file whose free pages still hold deleted values (secure_delete off), plus live
    ones; every value as bytes."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA secure_delete=OFF")
    con.execute(f"PRAGMA journal_mode={mode}")
    con.execute("PRAGMA user_version=41")
    con.execute("PRAGMA application_id=1213")
    con.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, phone TEXT)")
    con.execute("CREATE TABLE b (x)")
    con.execute("CREATE VIEW v AS SELECT phone FROM a")
    phones = [f"1390013{i:04d}" for i in range(3000)]
    con.executemany("INSERT INTO a VALUES (?, ?)", list(enumerate(phones)))
    con.execute("DELETE FROM a WHERE id < 2000")  # freed pages keep these values
    if mode == "wal":  # a WAL left beside the file, as by a program that was killed
        con.execute("PRAGMA wal_autocheckpoint=0")
        con.execute("INSERT INTO b VALUES ('13900139999')")
        wal = Path(str(path) + "-wal")
        frames = wal.read_bytes()
        con.close()  # the last connection checkpoints and removes its WAL
        wal.write_bytes(frames)
    con.close()
    return [p.encode() for p in [*phones, "13900139999"]]


@pytest.mark.parametrize("mode", ["delete", "wal", "persist"])
def test_whole_file_overwrite_leaves_an_empty_database_and_no_value(
    tmp_path: Path, mode: str
) -> None:
    from handover.erase.database import SQLiteDatabase

    path = tmp_path / "s.db"
    values = _book_with_free_pages(path, mode)
    blob = raw_bytes(path)
    if mode == "wal":
        assert b"13900139999" in Path(str(path) + "-wal").read_bytes()
    assert values[1000] in blob and values[2500] in blob  # a deleted value and a live one
    if mode == "persist":  # a journal left beside the file, holding original pages
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("PRAGMA journal_mode=PERSIST")
        con.execute("UPDATE a SET phone = 'x' WHERE id = 2500")
        con.close()
        assert Path(str(path) + "-journal").stat().st_size > 0
        assert values[2500] in Path(str(path) + "-journal").read_bytes()
    db = SQLiteDatabase(path)
    try:
        out = db.destroy_whole(["a", "b"])
        assert db.tables() == []
    finally:
        db.close()
    assert out.dropped == {"a": 1000, "b": int(mode == "wal")}
    assert out.readback_ok and out.bytes_before and out.bytes_after == 4096
    zeroed = [s.split(":")[0] for s in out.steps if s.startswith("zero ")]
    assert zeroed == ["zero s.db", "zero s.db-journal"][: 2 if mode == "persist" else 1]
    assert ("PRAGMA journal_mode=DELETE" in out.steps) == (mode == "wal")
    blob = raw_bytes(path)
    assert not any(v in blob for v in values)
    assert not any(Path(str(path) + s).exists() for s in ("-wal", "-shm"))
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    assert con.execute("PRAGMA user_version").fetchone() == (41,)
    assert con.execute("PRAGMA application_id").fetchone() == (1213,)
    expected = "wal" if mode == "wal" else "delete"
    assert con.execute("PRAGMA journal_mode").fetchone() == (expected,)
    con.execute("CREATE TABLE again (x)")  # a database like any other
    con.close()


@pytest.mark.parametrize("holder", ["reader", "idle-wal"])
def test_whole_file_overwrite_refused_while_another_connection_holds_the_file(
    tmp_path: Path, holder: str
) -> None:
    """A reader's transaction blocks the exclusive lock; an idle connection to a WAL file
    blocks the switch out of WAL mode. One line, nothing changed; once the other program
    lets go the same connection destroys the file."""
    from handover.erase.database import SQLiteDatabase

    path = _small_book(tmp_path / "s.db", wal=holder == "idle-wal")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("SELECT count(*) FROM a").fetchone()
    if holder == "reader":
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM a").fetchone()

    def kept() -> list[bytes | None]:  # the file and its WAL (-shm is the readers' index)
        side = Path(str(path) + "-wal")
        return [path.read_bytes(), side.read_bytes() if side.exists() else None]

    before = kept()
    db = SQLiteDatabase(path)
    db.con.execute("PRAGMA busy_timeout = 200")
    try:
        with pytest.raises(BadInput, match="database is locked"):
            db.destroy_whole(["a", "b"])
        assert kept() == before
        assert other.execute("SELECT count(*) FROM a").fetchone() == (500,)
        mode = other.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == ("wal" if holder == "idle-wal" else "delete")
        if holder == "reader":
            other.execute("COMMIT")
        other.close()
        out = db.destroy_whole(["a", "b"])
    finally:
        db.close()
    assert out.dropped == {"a": 500, "b": 0} and out.readback_ok
    assert b"13800138" not in raw_bytes(path)


def test_zero_fill_overwrites_then_empties_the_file(tmp_path: Path) -> None:
    import os

    from handover.crypto.files import ZERO_CHUNK, zero_fill

    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(2 * ZERO_CHUNK + 12345))
    fd = os.open(path, os.O_RDWR)
    try:
        assert zero_fill(fd) == (2 * ZERO_CHUNK + 12345, True)
    finally:
        os.close(fd)
    assert path.stat().st_size == 0


def test_whole_file_readback_failure_fails_the_certificate(
    workspace: Any, seller: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can fail: a read-back that is not all zeros makes the run FAILED (exit 1,
    certificate written), as a sample found would."""
    from handover.crypto import files
    from handover.erase import Scope
    from handover.errors import CheckFailed
    from handover.flows.shred import shred

    real = files.zero_fill

    def unreliable(fd: int) -> tuple[int, bool]:
        return real(fd)[0], False  # as a device that lost the writes would read back

    monkeypatch.setattr(files, "zero_fill", unreliable)
    _verified(workspace, seller, tmp_path)
    with pytest.raises(CheckFailed):
        shred(workspace, Scope(source=str(seller), media=["source"]), seed=1, **VALIDATOR)
    cert = sorted((workspace.settings.reports_dir / "certificates").iterdir())[-1]
    doc = json.loads((cert / "certificate.json").read_bytes())
    source = next(c for c in doc["verification"]["checks"] if c["what"] == "source")
    assert source["readback_ok"] is False and doc["verification"]["passed"] is False
    assert doc["methods"]["sqlite.overwrite"]["limits"][0]["key"] == "sqlite_side"
