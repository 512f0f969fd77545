"""User-facing texts of the scan (column evidence and notes), in zh-CN and English.

Evidence and notes are kept as :class:`~handover.i18n.Msg` (key + values) so the
inventory is stored language-neutrally and rendered in the reader's language; notes
stored as plain text (inventories of older versions) are shown as they are.
"""

from __future__ import annotations

from typing import Any

from handover.i18n import Msg

# Notes worth a line on screen after a scan (the report lists every note); the notes of
# rows skipped as allowed come from handover.sources (``ragged``: inventories of older
# versions, when such rows were skipped without an allowance).
SCREEN_NOTES = frozenset(
    {
        "detect.note.empty_table",
        "detect.note.mangled",
        "detect.note.truncated",
        "sources.note.ragged",
        "sources.note.skipped",
    }
)

Note = Msg | str  # a catalogue message, or plain text from an older inventory


def joined(msgs: list[Msg]) -> Msg | str:
    """Several messages as one, ``a; b; c`` (empty text when there are none)."""
    if not msgs:
        return ""
    out: Msg = msgs[-1]
    for m in reversed(msgs[:-1]):
        out = Msg("detect.join", a=m, b=out)
    return out


def render(note: Note | dict[str, Any], lang: str | None) -> str:
    """A note in ``lang``: a message rendered, plain text (old inventories) as is."""
    if isinstance(note, dict):
        note = from_json(note)
    return note.render(lang) if isinstance(note, Msg) else note


def to_json(note: Note) -> dict[str, Any] | str:
    """The stored form: ``{"key", "params", "text"}`` (``text`` in English), or the text."""
    if isinstance(note, Msg):
        return {"key": note.key, "params": note.params(), "text": str(note)}
    return note


def keys_json(note: Note) -> dict[str, Any]:
    """``{"key", "params"}`` of a note for ``--json`` (``key`` is null for plain text)."""
    if isinstance(note, Msg):
        return {"key": note.key, "params": note.params()}
    return {"key": None, "params": {}}


def from_json(obj: dict[str, Any] | str) -> Note:
    """A stored note back as a message; plain or unknown ones as their (English) text."""
    if isinstance(obj, str):
        return obj
    text = str(obj.get("text", ""))
    key = obj.get("key")
    if not isinstance(key, str):
        return text
    msg = _msg(key, obj.get("params"))
    try:
        msg.render("en")
    except (KeyError, IndexError, ValueError, TypeError):
        return text  # a key or value this version does not know
    return msg


def _msg(key: str, params: Any) -> Msg:
    values = params if isinstance(params, dict) else {}
    return Msg(key, **{k: _value(v) for k, v in values.items()})


def _value(v: Any) -> Any:
    if isinstance(v, dict) and isinstance(v.get("key"), str):
        return _msg(v["key"], v.get("params"))
    return v
