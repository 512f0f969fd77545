"""User-facing texts in zh-CN (default) and English.

One catalogue per language, ``locales/<lang>.toml`` (``key = "text"``, keys prefixed by
their room), loaded once, eagerly, when this module is imported — no module registers
texts as a side effect of being imported. :func:`t` renders one message. A test checks
that both catalogues hold the same keys with the same placeholders.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

Lang = Literal["zh-CN", "en"]
LANGS: tuple[Lang, ...] = ("zh-CN", "en")
DEFAULT_LANG: Lang = "zh-CN"
LOCALES = Path(__file__).parent / "locales"


def _load() -> dict[str, dict[str, str]]:
    per_lang = {
        lang: tomllib.loads((LOCALES / f"{lang}.toml").read_text(encoding="utf-8"))
        for lang in LANGS
    }
    keys = set().union(*per_lang.values())
    return {k: {lang: per_lang[lang].get(k, "") for lang in LANGS} for k in keys}


_CATALOG: dict[str, dict[str, str]] = _load()


class UnsupportedLanguage(ValueError):
    """A language handover has no catalogue for; adapters tell it as bad input (exit 2)
    with :attr:`message` (``i18n`` cannot import ``errors``: errors renders through it)."""

    def __init__(self, lang: str) -> None:
        self.message = Msg("i18n.bad_lang", lang=lang[:40], langs=", ".join(LANGS))
        super().__init__(str(self.message))


def normalize_lang(lang: str | None) -> Lang:
    """Map user spellings (zh, zh_CN, en-US …) to a supported language;
    :class:`UnsupportedLanguage` (a ValueError) for any other."""
    if not lang:
        return DEFAULT_LANG
    low = lang.replace("_", "-").lower()
    if low.startswith("en"):
        return "en"
    if low.startswith("zh"):
        return "zh-CN"
    raise UnsupportedLanguage(lang)


def t(key: str, lang: str | None = None, /, **values: object) -> str:
    """Render message ``key`` in ``lang`` (default zh-CN) with ``values`` filled in.

    A value that is a :class:`Msg` is rendered in the same language first.
    """
    texts = _CATALOG[key]
    filled = {k: v.render(lang) if isinstance(v, Msg) else v for k, v in values.items()}
    return texts[normalize_lang(lang)].format(**filled)


class Msg:
    """A catalogue message not rendered yet: a finding or reason kept as key and values.

    The library records a ``Msg`` where it does not know the reader's language; the CLI
    renders it with :meth:`render`; ``str()`` is the English text (logs, ``--json``).
    """

    __slots__ = ("key", "values")

    def __init__(self, key: str, /, **values: object) -> None:
        self.key = key
        self.values = values

    def render(self, lang: str | None) -> str:
        """The text in ``lang`` (nested :class:`Msg` values too)."""
        return t(self.key, lang, **self.values)

    def __str__(self) -> str:
        return self.render("en")

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.key, self.values) == (other.key, other.values)

    def __hash__(self) -> int:
        return hash(self.key)

    def params(self) -> dict[str, Any]:
        """JSON-ready values: nested messages as ``{"key", "params"}``, numbers and text as
        given, anything else (paths …) as text."""
        return {k: _json_value(v) for k, v in self.values.items()}


class Joined(Msg):
    """Messages shown one after another (``sep`` between them) in the reader's language,
    then ``tail`` when given (e.g. "… and 3 more")."""

    __slots__ = ("parts", "sep", "tail")

    def __init__(self, parts: Iterable[Msg], sep: str = "; ", tail: Msg | None = None) -> None:
        super().__init__("")
        self.parts = tuple(parts)
        self.sep = sep
        self.tail = tail

    def render(self, lang: str | None) -> str:
        text = self.sep.join(p.render(lang) for p in self.parts)
        return text + self.tail.render(lang) if self.tail is not None else text

    def __repr__(self) -> str:
        return f"Joined({self.parts!r}, {self.sep!r}, {self.tail!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Joined) and (self.parts, self.sep, self.tail) == (
            other.parts,
            other.sep,
            other.tail,
        )

    def __hash__(self) -> int:
        return hash(self.parts)

    def params(self) -> dict[str, Any]:
        return {"parts": [_json_value(p) for p in self.parts], "tail": _json_value(self.tail)}


def _json_value(v: object) -> Any:
    if isinstance(v, Msg):
        return {"key": v.key, "params": v.params()}
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def catalog() -> dict[str, dict[str, str]]:
    """A copy of the catalogue: ``{key: {lang: text}}`` (for tests and docs)."""
    return {k: dict(v) for k, v in _CATALOG.items()}
