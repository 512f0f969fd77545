"""The three proofs the last review left open, each attacked with real files and signatures:

1. a certificate's ``retained`` items against the run's proven ``erase.freeze`` entry (an
   item added, left out or changed; the freeze entry left out of the ledger section);
2. ``certificate verify --key`` given the ledger's key as text (hex, base64, the verifier
   key of a bundle, a PEM block as e-mailed) or as a file, and malformed keys;
3. the evidence bundle's signed manifest, checked by the shipped ``verify.py`` (run by a
   separate Python without handover on its path) and by ``handover audit verify-bundle``:
   a bundle cut short with its manifest rewritten, one byte of the manifest edited, a
   manifest re-signed by a stranger, an older (unsigned) bundle, and dossiers.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from erase_data import book, copy_book
from handover.cli.main import app
from handover.crypto import Signature, sha256_hex, signature
from handover.crypto.signing import raw_public_key, sign_raw
from handover.crypto.suites import ed25519_public_pem
from handover.erase.certificate import CERT_NAME, SIG_NAME, sign_certificate
from handover.flows.workspace import opened
from handover.ledger.bundle_verify import Failed, verify_dossier
from handover.ledger.export import export_bundle
from handover.ledger.note import verifier_key

runner = CliRunner()
VALIDATOR = {"validated_by": "liuyang", "validator_password": "liuyang-demo-2026"}
STRANGER = bytes(range(32))  # someone else's Ed25519 private key
#: a real P-256 public key: a well-formed PEM block of another algorithm
P256_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPKrphRg3ALReIhf5BDvqPsK3oIES
2eCBT2RlQmYcLEzNUAoOGNRtvDZ0vvkOL4uUXMo2sFDUUAPpvQ/dcacfhA==
-----END PUBLIC KEY-----
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A shred of the seller's book keeping ``hkls`` whole and half of ``loan_iou`` under
    anti-money-laundering rules, its certificate, and an evidence bundle of the ledger."""
    from handover.erase import Scope
    from handover.flows.shred import shred
    from handover.flows.verify import verify
    from handover.flows.workspace import init_workspace

    root = tmp_path_factory.mktemp("proofs-more")
    seller = copy_book(book(tmp_path_factory.getbasetemp()), root / "seller.db")
    rules = root / "retain.toml"
    rules.write_text(
        '[[retain]]\nid = "aml-repayments"\ntables = ["hkls"]\nbasis = "aml"\n'
        "relationship_end = 2027-01-15\n"
        '[[retain]]\nid = "aml-open-loans"\ntables = ["loan_iou"]\nbasis = "aml"\n'
        'where = "iou_id % 2 = 0"\n',
        encoding="utf-8",
    )
    ws = init_workspace(root / "ws", demo=True)
    try:
        assert verify(str(seller), str(copy_book(seller, root / "buyer.db")), ws=ws).equal
        scope = Scope(source=str(seller), media=["source"], retention=rules)
        result = shred(ws, scope, seed=1, **VALIDATOR)
        assert result.certificate_dir is not None
        export_bundle(ws, root / "bundle", actor="os:test")
    finally:
        ws.close()
    return {"ws": root / "ws", "cert": result.certificate_dir, "bundle": root / "bundle"}


@pytest.fixture
def cert(run: dict[str, Path], tmp_path: Path) -> Path:
    target = tmp_path / "cert"
    shutil.copytree(run["cert"], target)
    return target


@pytest.fixture
def bundle(run: dict[str, Path], tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(run["bundle"], target)
    return target


def _doc(folder: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((folder / CERT_NAME).read_bytes())
    return doc


def _pub(folder: Path) -> bytes:
    return bytes.fromhex(json.loads((folder / SIG_NAME).read_bytes())["public_key"])


def _verify(folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    where = str(folder.parent / "no-workspace")
    res = runner.invoke(app, ["-w", where, "certificate", "verify", str(folder), *args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def _keys(out: dict[str, Any]) -> list[str]:
    return [p["key"].rsplit(".", 1)[-1] for p in out["problem_details"]]


# --- 1. retained items against the run's erase.freeze entry ------------------------------


def test_the_genuine_retained_items_are_each_proven(cert: Path) -> None:
    doc = _doc(cert)
    kept = {r["subject"].rsplit("#", 1)[-1]: r for r in doc["retained"]}
    assert kept["hkls"]["rule"]["until"] == "2032-01-15" and "loan_iou" in kept
    code, out = _verify(cert, "--key", _pub(cert).hex())
    assert code == 0 and out["valid"], out["problems"]
    assert out["retained_ok"] == len(doc["retained"]) >= 3  # a table, rows, the store


@pytest.fixture
def forge(run: dict[str, Path], cert: Path, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Re-sign an edited copy of the certificate with the workspace key itself (an insider):
    the signature and every proof verify; only the ledger's record of the run can tell."""
    original = _doc(cert)
    original.pop("signer")
    pin = _pub(cert).hex()
    with opened(run["ws"]) as ws:

        def make(name: str, change: Callable[[dict[str, Any]], Any]) -> tuple[dict[str, Any], str]:
            doc = json.loads(json.dumps(original))
            change(doc)
            sign_certificate(ws, doc, tmp_path / name)
            code, out = _verify(tmp_path / name, "--key", pin)
            assert code == 1 and out["signature_ok"] and out["proofs_ok"] == out["proofs"], name
            human = runner.invoke(
                app,
                [
                    *("-w", str(tmp_path / "none"), "--lang", "en", "certificate", "verify"),
                    *(str(tmp_path / name), "--key", pin),
                ],
            )
            assert human.exit_code == 1
            return out, human.output

        yield make


def _kept(doc: dict[str, Any], table: str) -> dict[str, Any]:
    item: dict[str, Any] = next(r for r in doc["retained"] if r["subject"].endswith("#" + table))
    return item


def test_a_retained_item_added_is_named(cert: Path, forge: Callable[..., Any]) -> None:
    """The certificate claims a table was kept (lawfully) that the run never froze."""
    subject = _kept(_doc(cert), "hkls")["subject"].replace("#hkls", "#cust_info")

    def add(doc: dict[str, Any]) -> None:
        doc["retained"].append({**_kept(doc, "hkls"), "subject": subject})

    out, human = forge("added", add)
    assert _keys(out) == ["retained_unproven"]
    assert "\n" not in out["problems"][0]
    assert subject in out["problems"][0] and "erase.freeze" in out["problems"][0]
    flat = "".join(human.split())  # the console wraps long lines at its width
    assert f"certificateinvalid:retained{subject}(table):" in flat and "(added)" in flat


def test_a_retained_item_left_out_is_named(cert: Path, forge: Callable[..., Any]) -> None:
    """The certificate hides that a table was kept."""
    subject = _kept(_doc(cert), "hkls")["subject"]

    def drop(doc: dict[str, Any]) -> None:
        doc["retained"].remove(_kept(doc, "hkls"))

    out, human = forge("left-out", drop)
    assert _keys(out) == ["retained_missing"]
    assert subject in out["problems"][0] and "(left out)" in out["problems"][0]
    assert subject in "".join(human.split())


@pytest.mark.parametrize(
    ("field", "value"), [("until", "2099-12-31"), ("id", "litigation-hold")], ids=str
)
def test_a_retained_item_whose_rule_changed_is_named(
    forge: Callable[..., Any], field: str, value: str
) -> None:
    def change(doc: dict[str, Any]) -> None:
        _kept(doc, "hkls")["rule"][field] = value

    out, _human = forge(field, change)
    assert _keys(out) == ["retained_differs"]
    assert "hkls" in out["problems"][0] and value in out["problems"][0]
    recorded = "2032-01-15" if field == "until" else "aml-repayments"
    assert out["problem_details"][0]["params"]["recorded"] == recorded


def _without(doc: dict[str, Any], *actions: str) -> None:
    led = doc["ledger"]
    led["entries"] = [e for e in led["entries"] if e["action"] not in actions]


def test_the_freeze_entry_left_out_with_what_it_kept_is_caught(forge: Callable[..., Any]) -> None:
    """Hiding every retained item and the erase.freeze entry that records them: the run's
    proven erase.start still says how many items were kept."""

    def hide(doc: dict[str, Any]) -> None:
        doc["retained"] = []
        _without(doc, "erase.freeze")

    out, _human = forge("hidden", hide)
    assert _keys(out) == ["freeze_unproven"]
    assert "erase.freeze" in out["problems"][0] and "erase.start" in out["problems"][0]
    both, _ = forge("hidden-start", lambda d: (hide(d), _without(d, "erase.start")))
    assert _keys(both) == ["start_unproven"]


def test_a_malformed_retained_list_is_named(forge: Callable[..., Any]) -> None:
    out, _ = forge("malformed", lambda d: d.update(retained={"hkls": "kept"}))
    assert _keys(out) == ["retained_malformed"]


# --- 2. --key as text ---------------------------------------------------------------------


def _forms(raw: bytes, origin: str) -> dict[str, str]:
    """The ledger's public key as auditors receive it."""
    pem = ed25519_public_pem(raw)
    body = "".join(pem.splitlines()[1:-1])
    b64 = base64.b64encode(raw).decode("ascii")
    return {
        "hex": raw.hex(),
        "hex-colons-upper": ":".join(f"{b:02X}" for b in raw),
        "base64": b64,
        "base64-unpadded": b64.rstrip("="),
        "base64-urlsafe": base64.urlsafe_b64encode(raw).decode("ascii"),
        "verifier-key": verifier_key(origin, raw),
        "pem": pem,
        "pem-in-an-email": "\n".join("    " + line for line in pem.splitlines()) + "\n\n",
        "pem-body-only": body,
    }


def test_key_as_text_or_file_in_every_form_pins_the_signer(
    run: dict[str, Path], cert: Path, tmp_path: Path
) -> None:
    pub = _pub(cert)
    vkeys = (run["bundle"] / "verifier_key.txt").read_text("utf-8").split()
    origin = vkeys[0].split("+", 1)[0]
    forms = _forms(pub, origin)
    assert forms["verifier-key"] == vkeys[-1]  # the very string a bundle hands out
    for name, text in forms.items():
        code, out = _verify(cert, "--key", text)
        assert code == 0 and out["valid"] and out["signer_trusted"] is True, name
        key_file = tmp_path / f"{name}.key"
        key_file.write_text(text + "\n", encoding="utf-8")
        code, out = _verify(cert, "--key", str(key_file))
        assert code == 0 and out["signer_trusted"] is True, name
    # someone else's key in the same forms is well-formed but not the signer
    for name, text in _forms(raw_public_key(STRANGER), origin).items():
        code, out = _verify(cert, "--key", text)
        assert code == 1 and out["signer_trusted"] is False, name
        assert "untrusted" in _keys(out), name


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("abc", "not an Ed25519 public key"),
        (base64.b64encode(bytes(31)).decode(), "not an Ed25519 public key"),
        ("-----BEGIN PUBLIC KEY-----\n" + "QUFB" * 200 + "\n-----END PUBLIC KEY-----\n", "PEM"),
        ("nowhere/ledger.pem", "no such file"),
        ("handover.example/x+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode(), "hash"),
    ],
    ids=["short", "31-bytes-base64", "long-garbage-pem", "missing-file", "vkey-bad-hash"],
)
def test_a_malformed_key_is_one_line_naming_the_option(
    cert: Path, tmp_path: Path, spec: str, said: str
) -> None:
    before = {p.name: p.read_bytes() for p in cert.iterdir()}
    res = runner.invoke(
        app,
        [
            *("-w", str(tmp_path / "none"), "--lang", "en", "certificate", "verify"),
            *(str(cert), "--key", spec),
        ],
    )
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --key "), res.output
    assert said in lines[0] and "Traceback" not in res.output
    assert {p.name: p.read_bytes() for p in cert.iterdir()} == before


def test_a_malformed_key_file_and_the_message_in_chinese(cert: Path, tmp_path: Path) -> None:
    binary = tmp_path / "key.der"
    binary.write_bytes(b"\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00\xff" + bytes(31))
    res = runner.invoke(
        app,
        ["-w", str(tmp_path / "none"), "certificate", "verify", str(cert), "--key", str(binary)],
    )
    assert res.exit_code == 2
    assert (
        res.output.strip()
        == f"错误: --key {binary}:无法把该文件读作公钥(不是 UTF-8 文本、为空或超过 64 KiB)"
    )
    # the kinds refused before are refused the same way: one line naming the option
    for spec, said in [
        ("ab" * 31, "Ed25519 公钥应为 32 字节"),
        (P256_PEM, "不是 PEM 格式的 Ed25519 公钥"),
        ("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n", "不是 PEM 格式的 Ed25519 公钥"),
    ]:
        res = runner.invoke(
            app, ["-w", str(tmp_path / "none"), "certificate", "verify", str(cert), "--key", spec]
        )
        lines = res.output.strip().splitlines()
        assert res.exit_code == 2 and len(lines) == 1 and lines[0].startswith("错误: --key ")
        assert said in lines[0], spec


# --- 3. the signed manifest of an evidence bundle ---------------------------------------


def _offline(folder: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """The bundle's own verify.py, run by a Python that cannot import handover (-I, and
    the bundle folder as the working directory)."""
    res = subprocess.run(
        [sys.executable, "-I", str(folder / "verify.py"), str(folder), "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=folder,
    )
    out = json.loads(res.stdout) if res.stdout.strip() else {}
    return res.returncode, out, res.stderr


def _handover(folder: Path, *args: str, lang: str = "en") -> tuple[int, str]:
    res = runner.invoke(
        app,
        [
            "-w",
            str(folder.parent / "none"),
            "--lang",
            lang,
            "audit",
            "verify-bundle",
            str(folder),
            *args,
        ],
    )
    return res.exit_code, res.output


def _vkeys(folder: Path) -> list[str]:
    return (folder / "verifier_key.txt").read_text("utf-8").split()


def test_the_exported_manifest_is_signed_and_both_verifiers_check_it(bundle: Path) -> None:
    sig = json.loads((bundle / "manifest.sig").read_text("utf-8"))
    assert sig["signed"] == "manifest.json"
    assert sig["sha256"] == sha256_hex((bundle / "manifest.json").read_bytes())
    pin = [a for v in _vkeys(bundle) for a in ("--key", v)]
    code, out, err = _offline(bundle, *pin)
    assert code == 0 and out["manifest_signed"] is True and out["key_pinned"], err
    code, output = _handover(bundle, *pin)
    assert code == 0 and "evidence bundle verified" in output and "note" not in output
    code, output = _handover(bundle, "--json")
    assert code == 0 and json.loads(output)["manifest_signed"] is True


def _cut_and_rewrite(bundle: Path) -> int:
    """The reviewer's cut, and the manifest rewritten to state the shorter log: keep the
    entries up to the second checkpoint, drop the later checkpoints and the inclusion
    proofs. Every remaining checkpoint is genuinely signed by the ledger key."""
    index = json.loads((bundle / "checkpoints.json").read_text("utf-8"))
    assert len(index) >= 3
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
    note = (bundle / index[1]["file"]).read_text("utf-8")
    root = base64.b64decode(note.split("\n")[2]).hex()
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    manifest.update(tree_size=keep, root=root, checkpoints=2, inclusion_proofs=0)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return keep


def test_a_bundle_cut_short_with_its_manifest_rewritten_fails(bundle: Path) -> None:
    _cut_and_rewrite(bundle)
    for pin in ([], [a for v in _vkeys(bundle) for a in ("--key", v)]):
        code, out, err = _offline(bundle, *pin)
        assert code == 1, (out, err)
        assert out["first_bad_file"] == "manifest.json"
        assert "signature does not verify" in out["message"]
        code, output = _handover(bundle, *pin)
        assert code == 1 and len(output.strip().splitlines()) == 1
        assert "manifest.json: its signature does not verify" in output


def test_one_byte_of_the_manifest_edited_fails(bundle: Path) -> None:
    """``exported_at``: a figure nothing else recomputes; only the signature covers it."""
    path = bundle / "manifest.json"
    data = bytearray(path.read_bytes())
    at = data.index(b'"exported_at": "') + len(b'"exported_at": "') + 3
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    path.write_bytes(bytes(data))
    code, out, _ = _offline(bundle)
    assert code == 1 and "signature does not verify" in out["message"]
    code, output = _handover(bundle, lang="zh-CN")
    assert code == 1 and "核验失败" in output and "manifest.json" in output


def test_a_manifest_re_signed_by_a_stranger_fails(bundle: Path) -> None:
    """A cut bundle whose rewritten manifest is signed by a key of the forger's own."""
    _cut_and_rewrite(bundle)
    body = (bundle / "manifest.json").read_bytes()
    pub = raw_public_key(STRANGER)
    sig = {
        **Signature("signing-forged", 1, pub, sign_raw(STRANGER, body)).to_json(),
        "signed": "manifest.json",
        "sha256": sha256_hex(body),
    }
    (bundle / "manifest.sig").write_text(json.dumps(sig, indent=1) + "\n", encoding="utf-8")
    code, out, _ = _offline(bundle)
    assert code == 1 and "not one of the ledger's" in out["message"]
    assert out["first_bad_file"] == "manifest.sig"
    code, output = _handover(bundle)
    assert code == 1 and "manifest.sig: signed by a key that is not one of the ledger's" in output


def test_an_unsigned_manifest_fails_unless_accepted_and_is_then_reported(bundle: Path) -> None:
    """A bundle exported before manifests were signed (or one whose manifest.sig was
    deleted): never a silent pass."""
    (bundle / "manifest.sig").unlink()
    code, out, _ = _offline(bundle)
    assert code == 1 and "not signed" in out["message"] and "--allow-unsigned" in out["message"]
    code, output = _handover(bundle)
    assert code == 1 and len(output.strip().splitlines()) == 1 and "not signed" in output

    code, out, _ = _offline(bundle, "--allow-unsigned")
    assert code == 0 and out["manifest_signed"] is False
    human = subprocess.run(
        [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--allow-unsigned"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert human.returncode == 0 and "manifest not signed" in human.stdout
    code, output = _handover(bundle, "--allow-unsigned")
    assert code == 0 and "note: manifest not signed" in output
    code, output = _handover(bundle, "--allow-unsigned", lang="zh-CN")
    assert code == 0 and "注意:清单未签名" in output
    # accepting an unsigned manifest accepts nothing else: the cut still needs it to match
    _cut_and_rewrite(bundle)
    code, out, _ = _offline(bundle, "--allow-unsigned")
    assert code == 0  # the documented limit: only an independent checkpoint tells


@pytest.mark.parametrize(
    ("content", "code_said"),
    [("not json", (2, "manifest.sig")), ('{"signature": "x"}', (1, "manifest.sig: malformed"))],
    ids=["not-json", "no-key"],
)
def test_a_malformed_signature_record_is_named(
    bundle: Path, content: str, code_said: tuple[int, str]
) -> None:
    (bundle / "manifest.sig").write_text(content, encoding="utf-8")
    want, said = code_said
    res = subprocess.run(
        [sys.executable, "-I", str(bundle / "verify.py"), str(bundle)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == want and said in res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    code, output = _handover(bundle)
    assert code == want and len(output.strip().splitlines()) == 1 and "manifest.sig" in output


def test_verify_bundle_names_a_malformed_key(bundle: Path) -> None:
    code, output = _handover(bundle, "--key", "not-a-key")
    assert code == 2 and output.strip().splitlines() == [
        "error: --key not-a-key: not an Ed25519 public key: give 64 hex digits, base64 of its "
        "32 bytes, the ledger's verifier key (name+hash+base64), an SPKI PEM block, or a file "
        "holding one"
    ]
    code, output = _handover(bundle, "--key", "a+0000+bm90LWEta2V5")
    assert code == 2 and output.strip().splitlines() == [
        "error: --key a+0000+bm90LWEta2V5: not a valid verifier key: verifier key is not an "
        "Ed25519 key"
    ]
    res = subprocess.run(
        [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--key", "not-a-key"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2 and "--key: malformed verifier key" in res.stderr


# --- dossiers: the ledger bundle inside is signed too; older dossiers still verify --------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from handover.flows.demo import run_demo

    path = tmp_path_factory.mktemp("proofs-more-demo") / "demo"
    run_demo(path, customers=300, seed=2031, lang="en", echo=lambda _line: None)
    return path


@pytest.fixture
def dossier(demo: Path, tmp_path: Path) -> Path:
    from handover.ledger import entries

    with opened(demo) as ws:
        folder = [e for e in entries(ws, action="dossier.export")][-1].details["folder"]
    target = tmp_path / "dossier"
    shutil.copytree(Path(str(folder)), target)
    return target


def test_a_dossier_carries_the_signed_ledger_manifest_and_an_older_one_verifies(
    demo: Path, dossier: Path
) -> None:
    manifest = json.loads((dossier / "manifest.json").read_text("utf-8"))
    inner = f"{manifest['ledger']['folder']}/manifest.sig"
    assert inner in manifest["files"]
    assert verify_dossier(dossier)["ledger"]["manifest_signed"] is True
    # deleted from a new dossier: named as a deleted file
    (dossier / inner).unlink()
    with pytest.raises(Failed) as err:
        verify_dossier(dossier)
    assert err.value.path == inner and "deleted" in str(err.value)
    # an older dossier: no such file, and its signed manifest lists none
    del manifest["files"][inner]
    body = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    (dossier / "manifest.json").write_bytes(body)
    with opened(demo) as ws:
        sig = {**signature(ws, body).to_json(), "sha256": sha256_hex(body)}
    (dossier / "manifest.sig").write_text(json.dumps(sig), encoding="utf-8")
    result = verify_dossier(dossier)
    assert result["ok"] and result["ledger"]["manifest_signed"] is False


def test_a_private_key_given_as_key_is_never_printed_back(tmp_path: Path) -> None:
    """A private key pasted into ``--key`` by mistake (a PEM block, its body alone, a
    seed in hex or base64) is refused without a character of it in the message; a path
    that names no file is still shown, so the person sees their typo."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from handover.errors import BadInput
    from handover.ledger.export import verify_exported
    from handover.ledger.pinned import read_pinned_key

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    body = pem.splitlines()[1]
    # (the seed alone in base64 has a public key's shape: read_pinned_key takes it as
    # one; verify-bundle's verifier-key check refuses it, below)
    b64 = base64.b64encode(seed).decode()
    secrets = [
        pem,
        body,
        seed.hex() + "00",
        seed.hex()[:40] + "/" + seed.hex()[40:],
        b64[1:],  # a character lost when pasting
        b64[:20] + ":" + b64[20:],
        ", ".join("0x" + seed.hex()[i : i + 2] for i in range(0, 64, 2)),
        json.dumps({"key": seed.hex()}),
    ]
    for given in secrets:
        with pytest.raises(BadInput) as refused:
            read_pinned_key(given)
        shown = str(refused.value)
        assert "--key" in shown and "characters" in shown
        for i in range(0, len(body) - 8):
            assert body[i : i + 8] not in shown
        assert seed.hex()[:8] not in shown and base64.b64encode(seed).decode()[:8] not in shown
        with pytest.raises(BadInput) as refused:
            verify_exported(tmp_path, [given])
        assert body[12:24] not in str(refused.value) and seed.hex()[:8] not in str(refused.value)
    with pytest.raises(BadInput) as refused:
        verify_exported(tmp_path, [b64])
    assert b64[:12] not in str(refused.value) and b64[-16:] not in str(refused.value)
    missing = tmp_path / "keys" / "ledger.pub"
    with pytest.raises(BadInput) as refused:
        read_pinned_key(str(missing))
    assert str(missing) in str(refused.value)


def _key_forms(vkey: str, tmp_path: Path) -> dict[str, str]:
    """The ledger's public key in every form ``--key`` takes, one file among them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from handover.ledger.note import parse_verifier_key

    raw = parse_verifier_key(vkey)[1]
    pem = (
        Ed25519PublicKey.from_public_bytes(raw)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    held = tmp_path / "ledger.pub"
    held.write_text(pem, encoding="utf-8")
    return {
        "verifier key": vkey,
        "hex": raw.hex(),
        "hex with colons": ":".join(f"{b:02x}" for b in raw),
        "base64": base64.b64encode(raw).decode(),
        "PEM": pem,
        "PEM body": "".join(pem.splitlines()[1:-1]),
        "a file": str(held),
    }


def test_a_bundle_is_pinned_by_the_key_in_any_form_certificates_take(
    bundle: Path, tmp_path: Path
) -> None:
    """``audit verify-bundle --key`` takes the ledger's public key as ``certificate
    verify --key`` does (hex, base64, PEM, a file), not only as a verifier key; another
    key in those forms fails the check."""
    for form, given in _key_forms(_vkeys(bundle)[0], tmp_path).items():
        code, output = _handover(bundle, "--key", given, "--json")
        assert code == 0, (form, output)
        assert json.loads(output)["key_pinned"] is True, form
    other = bytes(range(32))
    for given in (other.hex(), base64.b64encode(other).decode()):
        code, output = _handover(bundle, "--key", given)
        assert code == 1 and "not the pinned verifier keys" in output, output
