"""Vectorised validators: given candidate strings that already match a recognizer's
pattern, say which are valid (checksums, real dates, real prefixes).

Every validator takes a null-free Arrow string array and returns a numpy bool array of
the same length; none loops over cells in Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.detect import checksums as ck
from handover.detect.lexicon import (
    MOBILE_PREFIXES,
    PROVINCE_CODES,
    SURNAMES_COMPOUND,
    SURNAMES_SINGLE,
)
from handover.detect.normalize import char_matrix, digits_of

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

_ID_CHECK_BYTES = np.frombuffer(ck.ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
_PROVINCES = np.array(PROVINCE_CODES, dtype=np.int64)
_MOBILE = np.zeros(1000, dtype=np.bool_)
_MOBILE[list(MOBILE_PREFIXES)] = True
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(ck.USCC_CHARS):
    _USCC_VALUE[ord(_c)] = _i
_ORG_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(ck.ORG_CHARS):
    _ORG_VALUE[ord(_c)] = _i
_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_SURNAME_1 = pa.array(sorted(set(SURNAMES_SINGLE)), pa.string())
_SURNAME_2 = pa.array(SURNAMES_COMPOUND, pa.string())


def _number(d: IntArray) -> IntArray:
    w = 10 ** np.arange(d.shape[1] - 1, -1, -1, dtype=np.int64)
    return d @ w  # type: ignore[no-any-return]


def valid_date(y: IntArray, m: IntArray, d: IntArray, today: dt.date | None = None) -> BoolArray:
    """Real calendar dates between 1900-01-01 and ``today`` (leap years honoured)."""
    today = today or dt.date.today()
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    ok_m = (m >= 1) & (m <= 12)
    dim = _DAYS[np.clip(m, 0, 12)] - ((np.clip(m, 0, 12) == 2) & ~leap)
    ok = ok_m & (d >= 1) & (d <= dim) & (y >= 1900)
    stamp = y * 10000 + m * 100 + d
    return ok & (stamp <= today.year * 10000 + today.month * 100 + today.day)  # type: ignore[no-any-return]


def resident_id_18(values: pa.Array, today: dt.date | None = None) -> BoolArray:
    """GB 11643: MOD 11-2 check character, real birth date, valid province prefix.

    The county code is not checked against a list: codes change over time and a new
    county code on an old birth date is normal (re-registration), not an error.
    """
    m = char_matrix(pc.utf8_upper(values), 18)
    d = digits_of(m[:, :17])
    check_ok = _ID_CHECK_BYTES[ck.id_check_index(d)] == m[:, 17]
    prov_ok = np.isin(d[:, 0] * 10 + d[:, 1], _PROVINCES)
    date_ok = valid_date(_number(d[:, 6:10]), _number(d[:, 10:12]), _number(d[:, 12:14]), today)
    return check_ok & prov_ok & date_ok  # type: ignore[no-any-return]


def resident_id_15(values: pa.Array, today: dt.date | None = None) -> BoolArray:
    """Legacy 15-digit ID (before 1999): province prefix and a real 19YYMMDD birth date."""
    d = digits_of(char_matrix(values, 15))
    prov_ok = np.isin(d[:, 0] * 10 + d[:, 1], _PROVINCES)
    y = 1900 + _number(d[:, 6:8])
    return prov_ok & valid_date(y, _number(d[:, 8:10]), _number(d[:, 10:12]), today)


def mobile(values: pa.Array) -> BoolArray:
    """11-digit mainland mobile with a network prefix in use (13x-19x, not 140-144 …)."""
    d = digits_of(char_matrix(values, 11))
    return _MOBILE[_number(d[:, :3])]


def luhn_card(values: pa.Array) -> BoolArray:
    """16-19 digit card numbers: Luhn check and an issuer digit 3-6 (ISO/IEC 7812 IIN)."""
    lengths = pc.utf8_length(values).to_numpy()
    out = np.zeros(len(values), dtype=np.bool_)
    for n in (16, 17, 18, 19):
        idx = np.flatnonzero(lengths == n)
        if idx.size == 0:
            continue
        d = digits_of(char_matrix(values.take(pa.array(idx)), n))
        out[idx] = ck.luhn_valid(d) & (d[:, 0] >= 3) & (d[:, 0] <= 6)
    return out


def uscc(values: pa.Array) -> BoolArray:
    """GB 32100 mod-31 check and the embedded GB 11714 organisation-code check."""
    m = char_matrix(pc.utf8_upper(values), 18)
    v = _USCC_VALUE[m]
    ok = (v >= 0).all(axis=1)
    v = np.where(v < 0, 0, v)
    check_ok = ck.uscc_check(v[:, :17]) == v[:, 17]
    org = _ORG_VALUE[m[:, 8:16]]
    org = np.where(org < 0, 0, org)
    oc = ck.org_code_check(org)
    org_ok = np.where(oc == 10, m[:, 16] == ord("X"), m[:, 16] == (oc + 48))
    return ok & check_ok & org_ok  # type: ignore[no-any-return]


def birth_date(values: pa.Array, today: dt.date | None = None) -> BoolArray:
    """A real date with year 1900 to today (digits extracted from any common layout)."""
    parts = pc.extract_regex(
        values, r"^(?P<y>(?:19|20)[0-9]{2})\D?(?P<m>[0-9]{1,2})\D?(?P<d>[0-9]{1,2})"
    )
    y = pc.cast(pc.struct_field(parts, "y"), pa.int64()).to_numpy(zero_copy_only=False)
    m = pc.cast(pc.struct_field(parts, "m"), pa.int64()).to_numpy(zero_copy_only=False)
    d = pc.cast(pc.struct_field(parts, "d"), pa.int64()).to_numpy(zero_copy_only=False)
    ok = ~(np.isnan(y.astype(float)) | np.isnan(m.astype(float)) | np.isnan(d.astype(float)))
    y, m, d = (np.nan_to_num(x.astype(float)).astype(np.int64) for x in (y, m, d))
    return ok & valid_date(y, m, d, today)  # type: ignore[no-any-return]


def person_name(values: pa.Array) -> BoolArray:
    """2-4 Han characters starting with a known surname (single or compound)."""
    first = pc.utf8_slice_codeunits(values, 0, 1)
    two = pc.utf8_slice_codeunits(values, 0, 2)
    ok = pc.or_(pc.is_in(first, value_set=_SURNAME_1), pc.is_in(two, value_set=_SURNAME_2))
    return np.asarray(pc.fill_null(ok, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def ipv6(values: pa.Array) -> BoolArray:
    """IPv6: at most one ``::``, 8 groups without it, fewer with it."""
    groups = pc.count_substring(values, ":").to_numpy() + 1
    double = pc.count_substring(values, "::").to_numpy()
    return (double <= 1) & (((double == 0) & (groups == 8)) | ((double == 1) & (groups <= 8)))  # type: ignore[no-any-return]
