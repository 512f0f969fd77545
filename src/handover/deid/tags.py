"""Replace PII spans inside free text by type tags such as ``[手机号]`` / ``[身份证号]``.

The spans are the ones the scan finds (:mod:`handover.detect.freetext`): the same
separator joins, then digit runs of ID/mobile/card shape, letter+digit runs of
USCC/passport/permit shape, e-mail addresses, and each regex recognizer's ``text_pattern``
with its named value group replaced and its context words kept. Digit runs are tagged by
shape (no checksum), so a look-alike is tagged too: the extract errs on the safe side.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc

from handover.detect.freetext import JOINS
from handover.detect.recognizers import BY_KEY, RECOGNIZERS

TAGS: dict[str, tuple[str, str]] = {
    "cn_resident_id": ("身份证号", "ID-NUMBER"),
    "cn_mobile": ("手机号", "MOBILE"),
    "cn_landline": ("固定电话", "LANDLINE"),
    "bank_card": ("银行卡号", "CARD-NUMBER"),
    "uscc": ("统一社会信用代码", "USCC"),
    "passport": ("护照号", "PASSPORT"),
    "hk_macau_permit": ("通行证号", "PERMIT"),
    "taiwan_permit": ("通行证号", "PERMIT"),
    "email": ("邮箱", "EMAIL"),
    "ip_address": ("IP地址", "IP"),
    "licence_plate": ("车牌号", "PLATE"),
    "person_name": ("姓名", "NAME"),
    "address": ("地址", "ADDRESS"),
    "auth_token": ("认证令牌", "TOKEN"),
}

_D = r"(^|[^0-9A-Za-z])"
_E = r"([^0-9A-Za-z]|$)"
# Longest shapes first: an 18-character ID is not also tagged as a card or a mobile.
_DIGIT_RUNS = (
    ("cn_resident_id", r"[1-9][0-9]{16}[0-9Xx]"),
    ("bank_card", r"[0-9]{16,19}"),
    ("cn_resident_id", r"[1-9][0-9]{14}"),
    ("cn_mobile", r"1[3-9][0-9]{9}"),
)
_EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"


def tag(key: str, lang: str = "zh-CN") -> str:
    """The tag that replaces a span of PII type ``key``."""
    zh, en = TAGS.get(key, ("个人信息", "PII"))
    return f"[{en}]" if lang.lower().startswith("en") else f"[{zh}]"


def _syntax(pattern: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, character, group depth after it)`` of each character of an RE2 pattern
    from ``start`` that is neither escaped nor inside a ``[...]`` class."""
    depth, cls, i = 0, False, start
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if cls:
            cls = ch != "]"
        elif ch == "[":
            cls = True
        else:
            depth += (ch == "(") - (ch == ")")
            yield i, ch, depth
        i += 1


def _split_branches(pattern: str) -> list[str]:
    """Top-level alternatives of an RE2 pattern."""
    out, start = [], 0
    for i, ch, depth in _syntax(pattern):
        if ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
    out.append(pattern[start:])
    return out


def _group_end(pattern: str, open_at: int) -> int:
    for i, ch, depth in _syntax(pattern, open_at):
        if ch == ")" and depth == 0:
            return i
    raise ValueError("unbalanced pattern")


@cache
def _rewrites() -> tuple[tuple[str, str, str], ...]:
    """(type, pattern with prefix/suffix captured, which tag) for every regex recognizer."""
    out: list[tuple[str, str, str]] = []
    for rec in RECOGNIZERS:
        if rec.text != "regex" or not rec.text_pattern:
            continue
        for branch in _split_branches(rec.text_pattern):
            m = re.search(r"\(\?P<[vw]>", branch)
            if m is None:
                continue
            end = _group_end(branch, m.start())
            before, inner, after = branch[: m.start()], branch[m.end() : end], branch[end + 1 :]
            if re.search(r"\((?!\?)", before + after):
                continue  # a capturing group would shift the numbering
            out.append((rec.type, f"({before})(?:{inner})({after})", rec.type))
    return tuple(out)


def tag_text(arr: pa.Array, lang: str = "zh-CN") -> pa.Array:
    """Every PII span in each value replaced by its type tag (nulls stay null)."""
    s = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
    for pattern, repl in JOINS:
        s = pc.replace_substring_regex(s, pattern, repl)
    s = pc.replace_substring_regex(s, _EMAIL, tag("email", lang))
    # Twice: a boundary character consumed by one match can hide the next span.
    for _ in range(2):
        for key, body in _DIGIT_RUNS:
            s = pc.replace_substring_regex(s, f"{_D}{body}{_E}", rf"\1{tag(key, lang)}\2")
        for key in ("uscc", "passport", "hk_macau_permit"):
            body = BY_KEY[key].pattern.removeprefix("^").removesuffix("$")
            s = pc.replace_substring_regex(s, f"{_D}(?:{body}){_E}", rf"\1{tag(key, lang)}\2")
        for key, pattern, _ in _rewrites():
            s = pc.replace_substring_regex(s, pattern, rf"\1{tag(key, lang)}\2")
    return s
