"""The PKCS#11 backend end to end against a real SoftHSM2 token (one fresh token per test).

Skipped with the reason when SoftHSM2 is not installed, except under CI=true.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from handover.crypto import (
    DecryptionFailed,
    KeyDestroyed,
    Keys,
    open,
    public_key,
    seal,
    sign,
    verify,
)
from handover.errors import BadInput
from handover.flows.workspace import init_workspace
from handover.ledger import Recorder
from handover.workspace import Workspace

IN_CI = os.environ.get("CI", "").lower() == "true"
MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


@dataclass
class Token:
    module: Path
    label: str
    pin: str
    util: str


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Token:
    """A freshly initialised SoftHSM2 token under a private SOFTHSM2_CONF."""
    util = shutil.which("softhsm2-util")
    module = next((Path(m) for m in MODULES if Path(m).is_file()), None)
    if util is None or module is None:
        reason = "SoftHSM2 not installed (apt-get install softhsm2, or make deps-system)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    label = f"ho-{uuid.uuid4().hex[:10]}"
    pin = "user-" + uuid.uuid4().hex[:8]
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--so-pin", "so-12345678", "--pin", pin],
        check=True,
        capture_output=True,
    )
    return Token(module, label, pin, util)


@pytest.fixture
def hsm_ws(tmp_path: Path, softhsm: Token, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("HANDOVER_KEY_BACKEND", "pkcs11")
    monkeypatch.setenv("HANDOVER_PKCS11_MODULE", str(softhsm.module))
    monkeypatch.setenv("HANDOVER_PKCS11_TOKEN_LABEL", softhsm.label)
    monkeypatch.setenv("HANDOVER_PKCS11_PIN", softhsm.pin)
    ws = init_workspace(tmp_path / "ws", demo=True)
    yield ws
    ws.close()


def test_hsm_lifecycle_end_to_end(hsm_ws: Workspace, softhsm: Token) -> None:
    with Keys(hsm_ws, events=Recorder(hsm_ws, "os:test")) as keys:
        info = keys.create("transfer", "C3")
        assert info.backend == "pkcs11"
        desc = keys.describe(info.key_id)["backend_objects"][0]
        # generated inside the token, never extractable, sensitive
        assert desc["present"] and desc["key_bits"] == 256
        assert desc["sensitive"] and not desc["extractable"] and desc["never_extractable"]
        assert desc["generated_in_token"]
        dk = keys.new_data_key(info.key_id, b"package-1")
        token = seal(b"loan book bytes", b"loans", dk)
        assert open(token, b"loans", keys.unwrap(dk.wrapped, b"package-1")) == b"loan book bytes"
        tampered = dk.wrapped[:-1] + bytes([dk.wrapped[-1] ^ 1])
        with pytest.raises(DecryptionFailed):
            keys.unwrap(tampered, b"package-1")
        with pytest.raises(DecryptionFailed):
            keys.unwrap(dk.wrapped, b"package-2")
        keys.rotate(info.key_id)
        new = keys.new_data_key(info.key_id)
        assert new.version == 2
        assert keys.unwrap(dk.wrapped, b"package-1").material == dk.material
        refs = keys.backend.list()
        assert f"{info.key_id}.v1" in refs and f"{info.key_id}.v2" in refs
        keys.destroy(info.key_id, "closing")
        # C_DestroyObject: the token no longer holds either version
        assert not any(r.startswith(info.key_id) for r in keys.backend.list())
        with pytest.raises(KeyDestroyed, match=info.key_id):
            keys.unwrap(dk.wrapped, b"package-1")
    # nothing about the keys lives in the keyring files: no local master key was made
    assert not (hsm_ws.settings.keys_dir / "master.key").exists()


def test_hsm_signing_key_and_tokens(hsm_ws: Workspace) -> None:
    from handover.crypto import tokenize

    pk = public_key(hsm_ws)
    assert verify(pk.raw, b"head", sign(hsm_ws, b"head"))
    with Keys(hsm_ws, events=Recorder(hsm_ws, "os:test")) as keys:
        tok = keys.create("tokenize").key_id
    out = tokenize(hsm_ws, tok, pa.array(["a", "b", "a", None]))
    assert out[0] == out[2] and out[0] != out[1] and out[3].as_py() is None


def test_hsm_parquet_round_trip_and_erase(hsm_ws: Workspace, tmp_path: Path) -> None:
    from handover.crypto.parquet import read_table, write_table

    table = pa.table({"name": ["张三", "李四"], "cvn": ["123", "456"]})
    with Keys(hsm_ws, events=Recorder(hsm_ws, "os:test")) as keys:
        c2, c3, footer = (keys.create("transfer", t).key_id for t in ("C2", "C3", "C1"))
    path = tmp_path / "p.parquet"
    write_table(hsm_ws, table, path, {c2: ["name"], c3: ["cvn"]}, footer)
    assert read_table(hsm_ws, path).equals(table)
    with Keys(hsm_ws, events=Recorder(hsm_ws, "os:test")) as keys:
        keys.destroy(c3, "erase C3")
    with pytest.raises(KeyDestroyed):
        read_table(hsm_ws, path, columns=["cvn"])
    assert read_table(hsm_ws, path, columns=["name"]).equals(table.select(["name"]))


def test_hsm_wrong_pin_and_missing_token(
    tmp_path: Path, softhsm: Token, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handover.crypto.backends.pkcs11 import Pkcs11Backend

    bad = Pkcs11Backend(softhsm.module, "wrong-pin", token_label=softhsm.label)
    with pytest.raises(BadInput, match="PIN incorrect"):
        bad.list()
    gone = Pkcs11Backend(softhsm.module, softhsm.pin, token_label="no-such-token")
    with pytest.raises(BadInput, match="no such token"):
        gone.list()
    with pytest.raises(BadInput, match="not found"):
        Pkcs11Backend(tmp_path / "nope.so", "x", token_label="t").list()
