"""Check characters of Chinese identifiers and payment cards, vectorised over numpy.

One implementation serves both the synthetic data generator (to make valid values)
and the recognizers (to validate them). Inputs are integer matrices, one row per
value, one column per character position; the scalar helpers wrap them.

- GB 11643-1999 resident identity number: ISO 7064 MOD 11-2 over 17 digits.
- ISO/IEC 7812 Luhn check digit (bank cards).
- GB 32100-2015 unified social credit code: mod-31 over 17 characters, whose
  characters 9-17 embed a GB 11714 organisation code with its own mod-11 check.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# GB 11643: W_i = 2^(17-i) mod 11 for i = 1..17 (left to right).
ID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714 body alphabet (values 0-35)


def id_check_index(first17: IntArray) -> IntArray:
    """For rows of 17 digits, the index into ``ID_CHECK_CHARS`` of the check character."""
    return (first17 @ ID_WEIGHTS) % 11


def id_check_chars(first17: IntArray) -> list[str]:
    """The GB 11643 check character ('0'-'9' or 'X') of each row of 17 digits."""
    return [ID_CHECK_CHARS[i] for i in id_check_index(first17)]


def luhn_sum(digits: IntArray, *, with_check: bool) -> IntArray:
    """Luhn sum of each row (all rows the same length). ``with_check``: the last
    column is the check digit; otherwise the sum is over the body only, as if a
    check digit followed."""
    n_cols = digits.shape[1]
    # Positions counted from the right, the check digit being position 1.
    offset = 1 if with_check else 2
    pos_from_right = np.arange(n_cols, 0, -1) - 1 + offset
    doubled = (pos_from_right % 2) == 0
    d = digits.copy()
    dd = d[:, doubled] * 2
    d[:, doubled] = np.where(dd > 9, dd - 9, dd)
    total: IntArray = d.sum(axis=1)
    return total


def luhn_check_digit(body: IntArray) -> IntArray:
    """The Luhn check digit that completes each row of ``body`` digits."""
    return (10 - luhn_sum(body, with_check=False) % 10) % 10


def luhn_valid(digits: IntArray) -> BoolArray:
    """Whether each row of digits (check digit last) passes the Luhn check."""
    ok: BoolArray = luhn_sum(digits, with_check=True) % 10 == 0
    return ok


def org_code_check(body8: IntArray) -> IntArray:
    """GB 11714 organisation-code check value (0-10, 10 written 'X') of 8-char rows."""
    c = 11 - (body8 @ ORG_WEIGHTS) % 11
    return np.where(c == 11, 0, c)


def uscc_check(first17: IntArray) -> IntArray:
    """GB 32100 check value (index into ``USCC_CHARS``) of rows of 17 character values."""
    c = 31 - (first17 @ USCC_WEIGHTS) % 31
    return np.where(c == 31, 0, c)


def _digits(value: str) -> IntArray:
    return np.frombuffer(value.encode("ascii"), dtype=np.uint8).astype(np.int64)[None, :] - 48


def is_valid_resident_id(value: str) -> bool:
    """GB 11643 check of one 18-character number (structure only, no date check)."""
    v = value.upper()
    if len(v) != 18 or not v[:17].isdigit() or not v.isascii():
        return False
    return ID_CHECK_CHARS[int(id_check_index(_digits(v[:17]))[0])] == v[17]


def is_valid_luhn(value: str) -> bool:
    """Luhn check of one string of digits."""
    if not value.isdigit() or not value.isascii() or len(value) < 2:
        return False
    return bool(luhn_valid(_digits(value))[0])


def is_valid_uscc(value: str) -> bool:
    """GB 32100 check of one unified social credit code, incl. the embedded GB 11714 check."""
    v = value.upper()
    if len(v) != 18 or any(ch not in USCC_CHARS for ch in v):
        return False
    vals = np.array([[USCC_CHARS.index(ch) for ch in v[:17]]], dtype=np.int64)
    if USCC_CHARS[int(uscc_check(vals)[0])] != v[17]:
        return False
    org = v[8:17]
    body = np.array([[ORG_CHARS.index(ch) for ch in org[:8]]], dtype=np.int64)
    c = int(org_code_check(body)[0])
    return org[8] == ("X" if c == 10 else str(c))
