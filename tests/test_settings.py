"""Settings precedence: environment > handover.toml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from handover.errors import BadInput
from handover.settings import load_settings, resolve_workspace


def _toml(path: Path, body: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "handover.toml").write_text(body, encoding="utf-8")
    return path


def test_defaults_without_workspace(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "none")
    assert s.lang == "zh-CN"
    assert s.demo is False
    assert s.transfer is None
    assert s.store_url == f"sqlite:///{(tmp_path / 'none' / 'handover.db').resolve()}"


def test_toml_beats_default_and_env_beats_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _toml(tmp_path / "ws", 'lang = "en"\ndatabase_url = "sqlite:///toml.db"\n')
    assert load_settings(ws).lang == "en"
    assert load_settings(ws).store_url == "sqlite:///toml.db"
    monkeypatch.setenv("HANDOVER_DATABASE_URL", "postgresql://env/db")
    monkeypatch.setenv("HANDOVER_LANG", "zh_CN")
    s = load_settings(ws)
    assert s.store_url == "postgresql://env/db"
    assert s.lang == "zh-CN"
    assert load_settings(ws, lang="en").lang == "en"


def test_workspace_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert resolve_workspace(None) == Path("handover-data")
    monkeypatch.setenv("HANDOVER_WORKSPACE", str(tmp_path))
    assert resolve_workspace(None) == tmp_path
    assert resolve_workspace("x") == Path("x")


def test_transfer_is_parsed(tmp_path: Path) -> None:
    ws = _toml(
        tmp_path / "ws",
        '[transfer]\nname = "d"\npurpose = "p"\nclosing = 2027-01-15\n'
        '[transfer.seller]\nname = "甲公司"\n[transfer.buyer]\nname = "乙公司"\nphone = "021-1"\n',
    )
    s = load_settings(ws)
    assert s.transfer is not None
    assert s.transfer.seller.name == "甲公司"
    assert s.transfer.buyer.phone == "021-1"
    assert str(s.transfer.closing) == "2027-01-15"


@pytest.mark.parametrize(
    "body",
    ['lang = "fr"\n', "lang = [\n", '[transfer]\nname = "x"\n'],
    ids=["bad-lang", "broken-toml", "transfer-without-parties"],
)
def test_bad_toml_is_one_line_bad_input(tmp_path: Path, body: str) -> None:
    ws = _toml(tmp_path / "ws", body)
    with pytest.raises(BadInput) as info:
        load_settings(ws)
    assert "handover.toml" in str(info.value)
    assert "\n" not in str(info.value)
