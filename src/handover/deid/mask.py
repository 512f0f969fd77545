"""Vectorised display masking and generalisation (GB/T 35273-2020 §3.14, GB/T 37964).

Each kernel maps a string array to a string array (nulls stay null) with pyarrow.compute
string kernels only, following the declarative rules of :mod:`handover.taxonomy`
(``MaskRule.apply`` is the one-value reference used in reports; the two agree, see
tests/test_deid.py).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from handover.taxonomy import COMPOUND_SURNAMES, MaskRule

STAR = "*"
#: province (optional) then the prefecture-level city: 广东省深圳市, 北京市, 新疆维吾尔自治区乌鲁木齐市
_CITY = r"(?:[^省市]{1,8}?(?:省|自治区))?[^省市县区]{1,10}?(?:市|自治州|地区|盟)"
_PROVINCE = r"[^省市]{1,8}?(?:省|自治区)"
#: the city, else the province: RE2 prefers the first alternative that matches (one pass)
_REGION = rf"^(?P<r>{_CITY}|{_PROVINCE})"


def as_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The values as a string array (numbers, dates … by Arrow's cast)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_string(arr.type):
        return arr
    if pa.types.is_large_string(arr.type):
        return pc.cast(arr, pa.string())
    return pc.cast(arr, pa.string())


def _stars(n: Any) -> pa.Array:
    return pc.binary_repeat(STAR, pc.max_element_wise(n, 1))


def keep(arr: pa.Array, first: int, last: int) -> pa.Array:
    """Keep the first ``first`` and last ``last`` characters, star the rest.

    A value too short to hide anything keeps only its first character.
    """
    s = as_text(arr)
    n = pc.utf8_length(s)
    head = pc.utf8_slice_codeunits(s, 0, first)
    tail = pc.utf8_slice_codeunits(s, -last) if last else pc.utf8_slice_codeunits(s, 0, 0)
    middle = _stars(pc.subtract(n, first + last))
    full = pc.binary_join_element_wise(head, middle, tail, "")
    short = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(s, 0, 1), _stars(pc.subtract(n, 1)), ""
    )
    return pc.if_else(pc.less_equal(n, first + last), short, full)


def surname(arr: pa.Array) -> pa.Array:
    """Keep the family name (two characters for compound surnames such as 欧阳), star the rest."""
    s = as_text(arr)
    n = pc.utf8_length(s)
    two = pc.utf8_slice_codeunits(s, 0, 2)
    compound = pc.and_(pc.is_in(two, pa.array(sorted(COMPOUND_SURNAMES))), pc.greater_equal(n, 3))
    kept = pc.if_else(compound, 2, 1)
    head = pc.if_else(compound, two, pc.utf8_slice_codeunits(s, 0, 1))
    return pc.binary_join_element_wise(head, _stars(pc.subtract(n, kept)), "")


def email(arr: pa.Array) -> pa.Array:
    """First character of the local part, ``***``, and the domain."""
    s = as_text(arr)
    parts = pc.extract_regex(s, r"^(?P<l>.)[^@]*@(?P<d>.+)$")
    masked = pc.binary_join_element_wise(
        pc.struct_field(parts, "l"), "***@", pc.struct_field(parts, "d"), ""
    )
    return pc.if_else(pc.is_valid(parts), masked, pc.if_else(pc.is_valid(s), "***", None))


def ip(arr: pa.Array, groups: int = 2) -> pa.Array:
    """Keep the first ``groups`` groups of an IPv4/IPv6 address."""
    s = as_text(arr)
    v4 = rf"^((?:[0-9]+\.){{{groups - 1}}}[0-9]+)\..*$"
    v6 = rf"^((?:[^:]*:){{{groups - 1}}}[^:]*):.*$"
    out = pc.replace_substring_regex(s, v4, r"\1.*.*")
    return pc.replace_substring_regex(out, v6, r"\1:*")


def region(arr: pa.Array) -> pa.Array:
    """Generalise an address to its province and city (``广东省深圳市``); else province; else ``*``."""
    s = as_text(arr)
    found = pc.struct_field(pc.extract_regex(s, _REGION), "r")
    return pc.coalesce(found, pc.if_else(pc.is_valid(s), STAR, None))


def year(arr: pa.Array) -> pa.Array:
    """The year of a date (or of a ``YYYY-MM-DD`` text) as int16."""
    if pa.types.is_date(arr.type) or pa.types.is_timestamp(arr.type):
        return pc.cast(pc.year(arr), pa.int16())
    s = as_text(arr)
    digits = pc.struct_field(pc.extract_regex(s, r"^(?P<y>(?:19|20)[0-9]{2})"), "y")
    return pc.cast(digits, pa.int16())


def apply_rule(rule: MaskRule, arr: pa.Array) -> pa.Array:
    """Apply a taxonomy display-masking rule to a whole array."""
    if rule.kind == "keep":
        return keep(arr, rule.first, rule.last)
    if rule.kind == "surname":
        return surname(arr)
    if rule.kind == "email":
        return email(arr)
    if rule.kind == "ip":
        return ip(arr, rule.first or 2)
    if rule.kind == "region":
        return region(arr)
    if rule.kind == "year":
        return year(arr)
    if rule.kind == "none":
        return keep(arr, 1, 0)
    # redact / band have no display form in an extract: the column is dropped or kept.
    return pa.nulls(len(arr), pa.string())
