"""``handover audit verify`` findings in the user's language; ``--json`` stays the same."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from handover.cli.main import app
from handover.ledger import verify_ledger
from handover.workspace import open_workspace

runner = CliRunner()
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(autouse=True)
def _file_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """These non-demo workspaces choose a 0600-file keyring explicitly, so they can sign."""
    monkeypatch.setenv("HANDOVER_KEY_PROTECTION", "file")


def _tampered(tmp_path: Path, sql: str) -> Path:
    ws = tmp_path / "ws"
    res = runner.invoke(app, ["-w", str(ws), "init", "--seller", "示例卖方", "--buyer", "示例买方"])
    assert res.exit_code == 0, res.output
    w = open_workspace(ws)
    try:
        with w.store.engine.begin() as c:
            c.execute(text(sql))
    finally:
        w.close()
    return ws


def test_tampered_ledger_verify_in_chinese_and_english(tmp_path: Path) -> None:
    ws = _tampered(
        tmp_path, "UPDATE ledger_entries SET body = replace(body, 'os:', 'xx:') WHERE seq = 0"
    )
    zh = runner.invoke(app, ["-w", str(ws), "audit", "verify"])
    assert zh.exit_code == 1
    assert "问题:账本记录序号 0:记录正文与其叶哈希不符(已被修改)" in zh.stdout
    assert "账本已被篡改:第一条异常记录序号 0:记录正文与其叶哈希不符" in zh.stderr
    assert not re.search(r"\b(problem|tampered|modified|truncated|entries|signed)\b", zh.output)

    en = runner.invoke(app, ["-w", str(ws), "--lang", "en", "audit", "verify"])
    assert en.exit_code == 1
    assert "problem: ledger entry seq 0: body does not match its leaf hash (modified)" in (
        en.stdout
    )
    assert "ledger tampered: first bad entry seq 0: body does not match its leaf hash" in en.stderr
    assert not CJK.search(en.output), en.output

    # --json is the same whatever the language: English text plus key and params.
    outs = []
    for lang in ("zh-CN", "en"):
        res = runner.invoke(app, ["-w", str(ws), "--lang", lang, "audit", "verify", "--json"])
        assert res.exit_code == 1
        out = json.loads(res.stdout)
        out.pop("seconds")
        outs.append(out)
    assert outs[0] == outs[1]
    first = outs[0]["problems"][0]
    assert outs[0]["first_bad_seq"] == 0
    assert first == {
        "where": "ledger entry seq 0",
        "seq": 0,
        "message": "body does not match its leaf hash (modified)",
        "key": "ledger.problem.modified",
        "params": {},
    }
    assert all(set(p) == {"where", "seq", "message", "key", "params"} for p in outs[0]["problems"])


def test_bad_checkpoint_signature_reason_is_translated(tmp_path: Path) -> None:
    # The signature line of every stored checkpoint loses its base64: the nested reason
    # (a NoteError) is shown in the user's language too.
    ws = _tampered(tmp_path, "UPDATE ledger_checkpoints SET note = replace(note, '=', '!')")
    w = open_workspace(ws)
    try:
        report = verify_ledger(w)
    finally:
        w.close()
    bad = [p for p in report.problems if p.text.key == "ledger.problem.bad_signature"]
    assert bad, [p.to_json() for p in report.problems]
    assert bad[0].message.startswith("signature does not verify: malformed note")
    assert bad[0].text.render("zh-CN").startswith("签名验证失败:签名注记格式错误")
    assert bad[0].to_json()["params"]["reason"]["key"].startswith("ledger.note.")
    assert bad[0].place.render("zh-CN").startswith("账本检查点 id ")
    assert "记录数" in bad[0].place.render("zh-CN") and "size" in bad[0].where
    zh = runner.invoke(app, ["-w", str(ws), "audit", "verify"])
    assert zh.exit_code == 1 and "签名验证失败:签名注记格式错误" in zh.stdout
    assert "账本校验未通过" in zh.stderr and not CJK.search(
        runner.invoke(app, ["-w", str(ws), "--lang", "en", "audit", "verify"]).output
    )
