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


def test_conflicting_registration_is_refused() -> None:
    with pytest.raises(ValueError):
        i18n.add({"error.prefix": {"zh-CN": "别的", "en": "other"}})
    with pytest.raises(ValueError):
        i18n.add({"x.only.zh": {"zh-CN": "只有中文"}})
