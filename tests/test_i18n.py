"""Every user-facing message exists in zh-CN and English with the same placeholders."""

from __future__ import annotations

import importlib
import pkgutil
import string

import pytest

import handover
from handover import i18n


def _import_everything() -> None:
    for mod in pkgutil.walk_packages(handover.__path__, "handover."):
        if ".migrations" in mod.name or mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalog_complete() -> None:
    _import_everything()
    cat = i18n.catalog()
    assert len(cat) > 5
    for key, texts in cat.items():
        assert texts["zh-CN"].strip() and texts["en"].strip(), key
        assert _fields(texts["zh-CN"]) == _fields(texts["en"]), key


def test_lang_normalisation() -> None:
    assert i18n.normalize_lang(None) == "zh-CN"
    assert i18n.normalize_lang("zh_CN") == "zh-CN"
    assert i18n.normalize_lang("en-US") == "en"
    with pytest.raises(ValueError):
        i18n.normalize_lang("fr")


def test_catalogues_hold_the_same_keys() -> None:
    import tomllib

    zh, en = (
        tomllib.loads((i18n.LOCALES / f"{lang}.toml").read_text(encoding="utf-8"))
        for lang in ("zh-CN", "en")
    )
    assert sorted(set(zh) ^ set(en)) == []


def test_no_module_registers_texts_at_import() -> None:
    """Texts live in the catalogues only (tools/i18n_absorb.py moves stragglers there)."""
    import subprocess
    import sys
    from pathlib import Path

    tool = Path(__file__).resolve().parents[1] / "tools" / "i18n_absorb.py"
    res = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_every_key_the_code_names_exists() -> None:
    import re
    from pathlib import Path

    src = Path(handover.__file__).parent
    used = {
        (p.relative_to(src).as_posix(), m.group(1))
        for p in src.rglob("*.py")
        for m in re.finditer(
            r'(?:\.msg|\bt|\bMsg|_t)\(\s*"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"',
            p.read_text("utf-8"),
        )
    }
    cat = i18n.catalog()
    assert sorted(f"{where}: {key}" for where, key in used if key not in cat) == []


def test_every_recognizer_explains_its_check_in_both_languages() -> None:
    from handover.detect.recognizers import RECOGNIZERS

    cat = i18n.catalog()
    for r in RECOGNIZERS:
        texts = cat[f"detect.check.{r.key}"]
        assert texts["en"] == r.check and texts["zh-CN"], r.key
