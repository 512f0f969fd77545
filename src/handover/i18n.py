"""User-facing texts in zh-CN (default) and English.

Each room registers its messages with :func:`add` at import; :func:`t` renders one.
A test checks that every key exists in both languages with the same placeholders.
"""

from __future__ import annotations

from typing import Any, Literal

Lang = Literal["zh-CN", "en"]
LANGS: tuple[Lang, ...] = ("zh-CN", "en")
DEFAULT_LANG: Lang = "zh-CN"

_CATALOG: dict[str, dict[str, str]] = {}


def add(messages: dict[str, dict[str, str]]) -> None:
    """Register messages: ``{key: {"zh-CN": ..., "en": ...}}``; a key may not change."""
    for key, texts in messages.items():
        missing = [lang for lang in LANGS if lang not in texts]
        if missing:
            raise ValueError(f"message {key!r} lacks {', '.join(missing)}")
        if key in _CATALOG and _CATALOG[key] != texts:
            raise ValueError(f"message {key!r} registered twice with different texts")
        _CATALOG[key] = dict(texts)


def normalize_lang(lang: str | None) -> Lang:
    """Map user spellings (zh, zh_CN, en-US …) to a supported language."""
    if not lang:
        return DEFAULT_LANG
    low = lang.replace("_", "-").lower()
    if low.startswith("en"):
        return "en"
    if low.startswith("zh"):
        return "zh-CN"
    raise ValueError(f"unsupported language {lang!r}; use zh-CN or en")


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


def _json_value(v: object) -> Any:
    if isinstance(v, Msg):
        return {"key": v.key, "params": v.params()}
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def catalog() -> dict[str, dict[str, str]]:
    """A copy of every registered message (for tests and docs)."""
    return {k: dict(v) for k, v in _CATALOG.items()}


add(
    {
        "error.prefix": {"zh-CN": "错误", "en": "error"},
        "error.interrupted": {"zh-CN": "已中断", "en": "interrupted"},
        "workspace.created": {
            "zh-CN": "已创建工作区 {path}",
            "en": "Workspace created at {path}",
        },
        "workspace.exists": {
            "zh-CN": "工作区 {path} 已存在(handover.toml 已在其中);未做任何更改",
            "en": "workspace {path} already exists (handover.toml is there); nothing changed",
        },
        "workspace.missing": {
            "zh-CN": "工作区 {path} 不存在或未初始化;请先运行 handover init",
            "en": "workspace {path} does not exist or is not initialised; run handover init first",
        },
        "synth.done": {
            "zh-CN": "已生成 {customers} 名客户的合成贷款账簿 → {target}({rows} 行,{seconds:.1f} 秒)",
            "en": "Synthetic loan book of {customers} customers → {target} ({rows} rows, {seconds:.1f} s)",
        },
        "demo.title": {
            "zh-CN": "handover 演示:小贷公司客户信息交接全流程",
            "en": "handover demo: the whole customer-information handover of a small-loan company",
        },
        "demo.step": {"zh-CN": "步骤 {n}:{name}", "en": "Step {n}: {name}"},
        "demo.done": {
            "zh-CN": "演示完成,所有结果位于 {path}",
            "en": "Demo finished; every result is in {path}",
        },
    }
)
