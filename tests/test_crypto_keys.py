"""Key lifecycle on the workspace keyring: create, use, rotate, destroy, protection, ledger."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from handover.crypto import (
    DecryptionFailed,
    KeyDestroyed,
    KeyNotFound,
    KeyringRefused,
    Keys,
    open,
    public_key,
    public_keys,
    seal,
    sign,
    verify,
)
from handover.crypto.backends.keyring import LocalKeyring
from handover.errors import BadInput
from handover.flows.workspace import init_workspace
from handover.ledger import Recorder
from handover.workspace import Workspace, open_workspace


@pytest.fixture(scope="module")
def shared_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One demo workspace for the tests of this module (each test uses its own keys)."""
    ws = init_workspace(tmp_path_factory.mktemp("crypto") / "ws", demo=True)
    yield ws
    ws.close()


def _events(ws: Workspace, prefix: str = "key") -> list[dict[str, object]]:
    from handover.ledger import entries

    return [e.to_json() for e in entries(ws, action=prefix)]


def test_create_wrap_unwrap_and_ledger(shared_ws: Workspace) -> None:
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        info = keys.create("transfer", "c3")
        assert info.key_id.startswith("transfer-c3-") and info.tier == "C3"
        assert info.algorithm == "AES-256-GCM" and info.backend == "keyring"
        dk = keys.new_data_key(info.key_id, b"loans")
        token = seal(b"row data", b"loans#1", dk)
        again = keys.unwrap(dk.wrapped, b"loans")
        assert again.material == dk.material and again.version == 1
        assert open(token, b"loans#1", again) == b"row data"
        with pytest.raises(DecryptionFailed):
            keys.unwrap(dk.wrapped, b"other context")
    events = _events(shared_ws)
    created = [e for e in events if e["subject"] == info.key_id]
    assert [e["action"] for e in created] == ["key.create"]
    details = created[0]["details"]
    assert details == {
        "key_id": info.key_id,
        "backend": "keyring",
        "algorithm": "AES-256-GCM",
        "tier": "C3",
        "version": 1,
    }
    # no key material anywhere in the ledger
    text = json.dumps(events)
    assert dk.material.hex() not in text


def test_workspace_init_created_the_signing_key(workspace: Workspace) -> None:
    pk = public_key(workspace)
    assert len(pk.raw) == 32 and pk.pem.startswith("-----BEGIN PUBLIC KEY-----")
    sig = sign(workspace, b"checkpoint 1")
    assert verify(pk.raw, b"checkpoint 1", sig)
    assert not verify(pk.raw, b"checkpoint 2", sig)
    assert any(e["purpose"] == "signing" for e in _events(workspace))


def test_signing_rotation_keeps_old_public_keys(workspace: Workspace) -> None:
    old = public_key(workspace)
    sig_old = sign(workspace, b"a")
    with Keys(workspace, events=Recorder(workspace, "os:test")) as keys:
        keys.rotate(old.key_id)
    new = public_key(workspace)
    assert new.version == 2 and new.raw != old.raw
    assert verify(new.raw, b"b", sign(workspace, b"b"))
    assert [p.raw for p in public_keys(workspace)] == [old.raw, new.raw]
    assert verify(old.raw, b"a", sig_old)


def test_rotation_old_data_opens_new_data_uses_new_version(shared_ws: Workspace) -> None:
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        key_id = keys.create("transfer", "C2").key_id
        old = keys.new_data_key(key_id)
        info = keys.rotate(key_id)
        assert info.current.version == 2
        new = keys.new_data_key(key_id)
        assert new.version == 2
        assert keys.unwrap(old.wrapped).material == old.material
        assert keys.unwrap(new.wrapped).material == new.material
        rewrapped = keys.rewrap(old.wrapped)
        assert keys.unwrap(rewrapped).version == 2
        assert keys.unwrap(rewrapped).material == old.material
    assert [e["action"] for e in _events(shared_ws) if e["subject"] == key_id] == [
        "key.create",
        "key.rotate",
    ]


def test_destroy_erases_material_and_keeps_tombstone(shared_ws: Workspace) -> None:
    clock = lambda: dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC)  # noqa: E731
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test"), clock=clock) as keys:
        key_id = keys.create("transfer").key_id
        dk = keys.new_data_key(key_id)
        keys.rotate(key_id)
        entries = [shared_ws.settings.keys_dir / "keyring" / f"{key_id}.v{v}.kek" for v in (1, 2)]
        assert all(p.exists() for p in entries)
        keys.destroy(key_id, "closing done, PIPL Art. 47")
        assert not any(p.exists() for p in entries)
        assert not any(r.startswith(key_id) for r in keys.backend.list())
        with pytest.raises(KeyDestroyed, match="2027-01-15T09:30:00") as err:
            keys.unwrap(dk.wrapped)
        assert key_id in str(err.value) and err.value.exit_code == 3
        with pytest.raises(KeyDestroyed):
            keys.new_data_key(key_id)
        with pytest.raises(KeyDestroyed):
            keys.rotate(key_id)
        with pytest.raises(KeyDestroyed):
            keys.destroy(key_id, "again")
        tomb = keys.get(key_id)
        assert tomb.state == "destroyed" and tomb.destroy_reason == "closing done, PIPL Art. 47"
        assert all(v.wrapped_secret is None for v in tomb.versions)
    destroyed = [e for e in _events(shared_ws) if e["action"] == "key.destroy"]
    assert destroyed[-1]["subject"] == key_id
    assert destroyed[-1]["details"]["reason"] == "closing done, PIPL Art. 47"


def test_unknown_key_and_bad_input(shared_ws: Workspace) -> None:
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        with pytest.raises(KeyNotFound, match="nope"):
            keys.get("nope")
        with pytest.raises(BadInput):
            keys.create("Bad Purpose!")
        with pytest.raises(BadInput):
            keys.create("transfer", "C9")
        key_id = keys.create("transfer").key_id
        with pytest.raises(BadInput):
            keys.destroy(key_id, "  ")
        with pytest.raises(DecryptionFailed):
            keys.unwrap(b"garbage")
        blob = keys.wrap(key_id, os.urandom(32))
        tampered = blob[:-1] + bytes([blob[-1] ^ 1])
        with pytest.raises(DecryptionFailed):
            keys.unwrap(tampered)
        with pytest.raises(DecryptionFailed):
            keys.unwrap(blob, key_id="someone-else")


def test_keyring_entries_are_sealed_and_private(shared_ws: Workspace) -> None:
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        key_id = keys.create("transfer").key_id
        dk = keys.new_data_key(key_id)
    kdir = shared_ws.settings.keys_dir
    entry = kdir / "keyring" / f"{key_id}.v1.kek"
    assert entry.stat().st_mode & 0o077 == 0
    assert (kdir / "master.key").stat().st_mode & 0o077 == 0
    # swapping two entries is detected: the AAD binds each entry to its name
    with Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys:
        other = keys.create("transfer").key_id
    other_entry = kdir / "keyring" / f"{other}.v1.kek"
    entry.write_bytes(other_entry.read_bytes())
    with (
        Keys(shared_ws, events=Recorder(shared_ws, "os:test")) as keys,
        pytest.raises(DecryptionFailed),
    ):
        keys.unwrap(dk.wrapped)


def test_sm_suite_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOVER_CRYPTO_SUITE", "sm")
    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        with Keys(ws, events=Recorder(ws, "os:test")) as keys:
            info = keys.create("transfer", "C2")
            assert info.algorithm == "SM4-GCM" and info.suite == "sm"
            dk = keys.new_data_key(info.key_id)
            assert len(dk.material) == 16
            token = seal(b"x", b"", dk)
            assert token[3] == 2  # SM4-GCM suite code in the header
            assert open(token, b"", keys.unwrap(dk.wrapped)) == b"x"
        meta = json.loads((ws.settings.keys_dir / "master.json").read_text())
        assert meta["suite"] == "sm"
    finally:
        ws.close()


def _plain_workspace(tmp_path: Path) -> Path:
    from handover.workspace import DEMO_TRANSFER

    ws = init_workspace(tmp_path / "real", DEMO_TRANSFER, demo=False)
    ws.close()
    return tmp_path / "real"


def test_refuses_unprotected_keyring_outside_demo(tmp_path: Path) -> None:
    path = _plain_workspace(tmp_path)
    # init could not create the signing key without protection; nothing was written
    assert not (path / "keys" / "master.json").exists()
    ws = open_workspace(path)
    try:
        with (
            Keys(ws, events=Recorder(ws, "os:test")) as keys,
            pytest.raises(KeyringRefused, match="HANDOVER_KEYRING_PASSPHRASE"),
        ):
            keys.create("transfer")
        assert not (path / "keys" / "master.key").exists()
    finally:
        ws.close()
    # an explicit choice of file protection is accepted
    ws = open_workspace(path, key_protection="file")
    try:
        with Keys(ws, events=Recorder(ws, "os:test")) as keys:
            keys.create("transfer")
    finally:
        ws.close()
    # … and remembered: without the choice (and not a demo) the file keyring is refused
    ws = open_workspace(path)
    try:
        with Keys(ws, events=Recorder(ws, "os:test")) as keys, pytest.raises(KeyringRefused):
            keys.create("transfer")
    finally:
        ws.close()


def test_world_readable_master_key_file_is_refused(workspace: Workspace) -> None:
    master = workspace.settings.keys_dir / "master.key"
    master.chmod(0o644)
    with (
        Keys(workspace, events=Recorder(workspace, "os:test")) as keys,
        pytest.raises(KeyringRefused, match="chmod 600"),
    ):
        keys.create("transfer")


def test_passphrase_keyring_and_wrong_passphrase(tmp_path: Path) -> None:
    path = _plain_workspace(tmp_path)
    ws = open_workspace(path, keyring_passphrase="correct horse battery staple")
    try:
        with Keys(ws, events=Recorder(ws, "os:test")) as keys:
            key_id = keys.create("transfer", "C3").key_id
            dk = keys.new_data_key(key_id)
    finally:
        ws.close()
    meta = json.loads((path / "keys" / "master.json").read_text())
    assert meta["protection"] == "passphrase" and meta["kdf"]["name"] in ("argon2id", "scrypt")
    assert not (path / "keys" / "master.key").exists()
    ws = open_workspace(path, keyring_passphrase="wrong horse")
    try:
        with (
            Keys(ws, events=Recorder(ws, "os:test")) as keys,
            pytest.raises(DecryptionFailed, match=r"master\.json:.*wrong passphrase") as caught,
        ):
            keys.unwrap(dk.wrapped)
        # language-neutral: the adapter renders it in the reader's language
        assert "口令错误" in caught.value.render("zh-CN")
    finally:
        ws.close()
    ws = open_workspace(path)
    try:
        with (
            Keys(ws, events=Recorder(ws, "os:test")) as keys,
            pytest.raises(KeyringRefused, match="passphrase"),
        ):
            keys.unwrap(dk.wrapped)
    finally:
        ws.close()
    ws = open_workspace(path, keyring_passphrase="correct horse battery staple")
    try:
        with Keys(ws, events=Recorder(ws, "os:test")) as keys:
            assert keys.unwrap(dk.wrapped).material == dk.material
    finally:
        ws.close()


def test_keyring_protection_mismatch_is_bad_input(shared_ws: Workspace) -> None:
    with pytest.raises(BadInput, match="protected by file"):
        LocalKeyring.open(
            shared_ws.settings.keys_dir,
            passphrase=b"x",
            protection="passphrase",
            demo=True,
        )
