"""``handover keys`` through the CLI runner: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.ledger import Recorder
from handover.workspace import Workspace

runner = CliRunner()


def _run(ws: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--workspace", str(ws), "--lang", "en", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_keys_cli_lifecycle(workspace: Workspace) -> None:
    ws = workspace.path
    code, out, _ = _run(ws, "keys", "create", "--purpose", "transfer", "--tier", "C3", "--json")
    assert code == 0
    key_id = json.loads(out)["key_id"]
    code, out, _ = _run(ws, "keys", "list", "--json")
    assert code == 0
    listed = {k["key_id"]: k for k in json.loads(out)}
    assert listed[key_id]["tier"] == "C3" and listed[key_id]["state"] == "active"
    code, out, _ = _run(ws, "keys", "list")
    assert code == 0 and key_id in out
    code, out, _ = _run(ws, "keys", "rotate", key_id)
    assert code == 0 and "version 2" in out
    code, out, _ = _run(ws, "keys", "show", key_id, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["current_version"] == 2
    assert all(o["present"] for o in shown["backend_objects"])
    code, out, _ = _run(ws, "keys", "show", key_id)
    assert code == 0 and "v2" in out
    # declining the confirmation changes nothing
    code, _, err = _run(ws, "keys", "destroy", key_id, "--reason", "closing", input="n\n")
    assert code == 3 and "nothing changed" in err.lower()
    code, out, _ = _run(ws, "keys", "destroy", key_id, "--reason", "closing", input="y\n")
    assert code == 0 and "destroyed" in out
    code, out, _ = _run(ws, "keys", "show", key_id, "--json")
    assert json.loads(out)["state"] == "destroyed"
    # using a destroyed key is refused: exit 3 with the tombstone's time
    code, _, err = _run(ws, "keys", "rotate", key_id)
    assert code == 3 and "was destroyed at" in err


def test_keys_cli_bad_input_exit_codes(workspace: Workspace, tmp_path: Path) -> None:
    ws = workspace.path
    code, _, err = _run(ws, "keys", "show", "no-such-key")
    assert code == 2 and "no-such-key" in err
    code, _, err = _run(ws, "keys", "create", "--purpose", "transfer", "--tier", "C7")
    assert code == 2 and "C7" in err
    code, _, err = _run(ws, "keys", "destroy", "no-such-key", "--reason", "x", "--yes")
    assert code == 2
    code, _, err = _run(tmp_path / "missing", "keys", "list")
    assert code == 2


def test_keys_cli_refuses_unprotected_keyring(tmp_path: Path) -> None:
    from handover.crypto import KeyringRefused, Keys
    from handover.flows.workspace import init_workspace
    from handover.workspace import DEMO_TRANSFER, open_workspace

    init_workspace(tmp_path / "real", DEMO_TRANSFER, demo=False).close()
    # Outside a demo nobody logged in may manage keys: refused before the keyring opens.
    code, _, err = _run(tmp_path / "real", "keys", "create", "--purpose", "transfer")
    assert code == 3 and "nobody is logged in" in err
    ws = open_workspace(tmp_path / "real")
    try:
        with (
            pytest.raises(KeyringRefused, match="HANDOVER_KEYRING_PASSPHRASE"),
            Keys(ws, events=Recorder(ws, "os:test")) as keys,
        ):
            keys.create("transfer")
    finally:
        ws.close()


def test_keys_show_in_chinese_by_default(workspace: Workspace) -> None:
    ws = workspace.path
    code, out, _ = _run(ws, "keys", "create", "--purpose", "transfer", "--json")
    key_id = json.loads(out)["key_id"]
    code, _, _ = _run(ws, "keys", "destroy", key_id, "--reason", "交接完成", "--yes")
    assert code == 0
    zh = runner.invoke(app, ["--workspace", str(ws), "keys", "show", key_id])
    assert zh.exit_code == 0, zh.output
    assert "已销毁" in zh.stdout and "销毁,理由:交接完成" in zh.stdout
    assert "第 1 版" in zh.stdout and "destroyed" not in zh.stdout
    code, out, _ = _run(ws, "keys", "show", key_id)
    assert code == 0 and "destroyed" in out and ": 交接完成" in out and "v1" in out
