"""Vectorised value makers: identifiers with valid checksums, phones, cards, dates,
money, and the real-world mess applied to a share of cells.

Strings are built as matrices of Unicode code points (one row per value) and viewed
as numpy ``<U`` arrays, so no Python loop runs per value. Check characters come from
``handover.detect.checksums`` — the same code the recognizers validate with.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from handover.detect import checksums as ck

StrArray = npt.NDArray[np.str_]
I64 = npt.NDArray[np.int64]
U32 = npt.NDArray[np.uint32]
Bool = npt.NDArray[np.bool_]
Dates = npt.NDArray[np.datetime64]
Rng = np.random.Generator

_ID_CHECK_CODES = np.array([ord(c) for c in ck.ID_CHECK_CHARS], dtype=np.uint32)
_USCC_CODES = np.array([ord(c) for c in ck.USCC_CHARS], dtype=np.uint32)
_ORG_INDEX = np.array([ck.ORG_CHARS.index(c) for c in ck.USCC_CHARS], dtype=np.int64)
_HEX = np.array([ord(c) for c in "0123456789abcdef"], dtype=np.uint32)
_B64 = np.array(
    [ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"],
    dtype=np.uint32,
)
_BCRYPT = np.array(
    [ord(c) for c in "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"],
    dtype=np.uint32,
)
_PLATE_LETTERS = np.array([ord(c) for c in "ABCDEFGHJKLMNPQRSTUVWXYZ"], dtype=np.uint32)


def codes_to_str(codes: U32) -> StrArray:
    """Rows of code points (0 = padding) as a numpy string array."""
    c = np.ascontiguousarray(codes, dtype=np.uint32)
    return c.view(f"<U{c.shape[1]}").reshape(c.shape[0])


def str_to_codes(values: StrArray) -> U32:
    """A numpy string array as a (copied) matrix of code points."""
    v = np.ascontiguousarray(values)
    width = v.dtype.itemsize // 4
    return v.view(np.uint32).reshape(len(v), width).copy()


def digit_matrix(values: I64, width: int) -> I64:
    """Decimal digits of non-negative integers, most significant first, zero-padded."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    out: I64 = (values[:, None] // powers) % 10
    return out


def fixed_digits(values: I64, width: int) -> StrArray:
    """Integers as zero-padded decimal strings of ``width`` characters."""
    return codes_to_str((digit_matrix(values, width) + 48).astype(np.uint32))


def join(*parts: StrArray | str) -> StrArray:
    """Element-wise concatenation of string arrays and scalars."""
    out: StrArray = np.asarray(parts[0])
    for p in parts[1:]:
        out = np.strings.add(out, p)
    return out


def pick(
    rng: Rng, pool: npt.NDArray[np.generic], n: int, p: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.generic]:
    """``n`` draws (with replacement) from ``pool``."""
    return pool[rng.choice(len(pool), size=n, p=p)]


# -- dates ------------------------------------------------------------------------------


def ymd(dates: Dates) -> tuple[I64, I64, I64]:
    """Year, month, day of datetime64[D] values."""
    y = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]")
    m = months.astype(np.int64) % 12 + 1
    d = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def _date_codes(dates: Dates) -> U32:
    y, m, d = ymd(dates.astype("datetime64[D]"))
    codes = np.empty((len(y), 10), dtype=np.uint32)
    codes[:, 0:4] = digit_matrix(y, 4) + 48
    codes[:, 4] = codes[:, 7] = ord("-")
    codes[:, 5:7] = digit_matrix(m, 2) + 48
    codes[:, 8:10] = digit_matrix(d, 2) + 48
    return codes


def date_str(dates: Dates) -> StrArray:
    """YYYY-MM-DD strings."""
    return codes_to_str(_date_codes(dates))


def timestamp_str(stamps: Dates) -> StrArray:
    """YYYY-MM-DD HH:MM:SS strings."""
    s = stamps.astype("datetime64[s]")
    day = s.astype("datetime64[D]")
    secs = (s - day.astype("datetime64[s]")).astype(np.int64)
    codes = np.empty((len(s), 19), dtype=np.uint32)
    codes[:, :10] = _date_codes(day)
    codes[:, 10] = ord(" ")
    codes[:, 13] = codes[:, 16] = ord(":")
    codes[:, 11:13] = digit_matrix(secs // 3600, 2) + 48
    codes[:, 14:16] = digit_matrix(secs // 60 % 60, 2) + 48
    codes[:, 17:19] = digit_matrix(secs % 60, 2) + 48
    return codes_to_str(codes)


def random_dates(rng: Rng, start: str, end: str, n: int) -> Dates:
    """Uniform days in [start, end)."""
    a = np.datetime64(start, "D")
    span = int((np.datetime64(end, "D") - a).astype(np.int64))
    return a + rng.integers(0, span, n).astype("timedelta64[D]")


def add_months(dates: Dates, months: I64) -> Dates:
    """Same day of month ``months`` later (callers keep days <= 28)."""
    first = dates.astype("datetime64[M]")
    day = dates - first.astype("datetime64[D]")
    out: Dates = (first + months.astype("timedelta64[M]")).astype("datetime64[D]") + day
    return out


def int_str(values: I64, *, decimals: int = 0) -> StrArray:
    """Non-negative integers as decimal strings without leading zeros; with ``decimals``
    the last digits go after a point (cents 12345 -> "123.45")."""
    v = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(1, 19, dtype=np.int64)
    n_digits = np.maximum(np.searchsorted(powers, v, side="right") + 1, decimals + 1)
    widest = int(n_digits.max()) if len(v) else 1
    out = np.empty(len(v), dtype=f"<U{widest + (1 if decimals else 0)}")
    # Few distinct lengths: one fixed-width conversion per length, no per-row work.
    for length in np.unique(n_digits):
        rows = n_digits == length
        codes = (digit_matrix(v[rows], int(length)) + 48).astype(np.uint32)
        if decimals:
            point = np.full((len(codes), 1), ord("."), np.uint32)
            codes = np.concatenate([codes[:, :-decimals], point, codes[:, -decimals:]], axis=1)
        out[rows] = codes_to_str(codes)
    return out


def money(cents: I64) -> StrArray:
    """Exact decimal strings with two places (DECIMAL text form) from integer cents."""
    return int_str(cents, decimals=2)


# -- identifiers ---------------------------------------------------------------------------


def _with_id_check(body17: I64) -> StrArray:
    digits = digit_matrix(body17, 17)
    codes = np.empty((len(body17), 18), dtype=np.uint32)
    codes[:, :17] = digits + 48
    codes[:, 17] = _ID_CHECK_CODES[ck.id_check_index(digits)]
    return codes_to_str(codes)


def gender_seq(rng: Rng, male: Bool) -> I64:
    """Three-digit order codes whose last digit is odd for men, even for women."""
    return rng.integers(0, 100, len(male)) * 10 + rng.integers(0, 5, len(male)) * 2 + male


def resident_ids(rng: Rng, region: I64, birth: Dates, male: Bool) -> StrArray:
    """18-digit GB 11643 numbers: region, birth date, gender-coded order, valid check."""
    y, m, d = ymd(birth)
    body = region * 10**11 + (y * 10000 + m * 100 + d) * 1000 + gender_seq(rng, male)
    return _with_id_check(body)


def legacy_ids(rng: Rng, region: I64, birth: Dates, male: Bool) -> StrArray:
    """15-digit first-generation numbers (two-digit year, no check character)."""
    y, m, d = ymd(birth)
    body = region * 10**9 + ((y % 100) * 10000 + m * 100 + d) * 1000 + gender_seq(rng, male)
    return fixed_digits(body, 15)


def residence_permits(rng: Rng, prefix: I64, birth: Dates, male: Bool) -> StrArray:
    """HK/Macau/Taiwan residents' residence permits: 810000/820000/830000 + GB 11643."""
    return resident_ids(rng, prefix, birth, male)


def contract_numbers(rng: Rng, dates: Dates, branch: I64, seq: I64) -> StrArray:
    """18-digit contract numbers (date, branch, sequence) whose last digit FAILS GB 11643."""
    y, m, d = ymd(dates)
    body = (y * 10000 + m * 100 + d) * 10**9 + (branch % 10000) * 10**5 + seq % 100000
    digits = digit_matrix(body, 17)
    check = ck.id_check_index(digits)  # 2 means 'X': any digit then fails
    check_digit = np.array([1, 0, -1, 9, 8, 7, 6, 5, 4, 3, 2], dtype=np.int64)[check]
    last = np.where(
        check_digit < 0,
        rng.integers(0, 10, len(body)),
        (check_digit + 1 + rng.integers(0, 9, len(body))) % 10,
    )
    codes = np.empty((len(body), 18), dtype=np.uint32)
    codes[:, :17] = digits + 48
    codes[:, 17] = last + 48
    return codes_to_str(codes)


def bank_cards(rng: Rng, bins: list[tuple[str, int]], which: I64) -> StrArray:
    """UnionPay card numbers: BIN ``bins[which]`` (prefix, length), random body, Luhn digit."""
    n = len(which)
    out = np.zeros((n, 19), dtype=np.uint32)
    for k, (prefix, length) in enumerate(bins):
        rows = np.flatnonzero(which == k)
        if rows.size == 0:
            continue
        body = np.empty((rows.size, length - 1), dtype=np.int64)
        body[:, :6] = np.array([int(c) for c in prefix], dtype=np.int64)
        body[:, 6:] = rng.integers(0, 10, (rows.size, length - 7))
        out[rows, : length - 1] = body + 48
        out[rows, length - 1] = ck.luhn_check_digit(body) + 48
    return codes_to_str(out)


def uscc_codes(rng: Rng, region: I64, n: int) -> StrArray:
    """GB 32100 codes: authority + category + region + GB 11714 org code + mod-31 check."""
    vals = np.empty((n, 17), dtype=np.int64)
    authority = rng.choice(np.array([9, 9, 9, 9, 9, 9, 5, 1]), n)  # mostly 工商 (9)
    category = np.where(authority == 9, rng.choice(np.array([1, 1, 1, 2, 3]), n), 1)
    vals[:, 0] = authority
    vals[:, 1] = category
    vals[:, 2:8] = digit_matrix(region, 6)
    body = rng.integers(0, 10, (n, 8))
    new_style = rng.random(n) < 0.45  # codes issued since 2015 start "MA"
    body[new_style, 0] = ck.USCC_CHARS.index("M")
    body[new_style, 1] = ck.USCC_CHARS.index("A")
    body[new_style, 2:] = rng.integers(0, 31, (int(new_style.sum()), 6))
    org_check = ck.org_code_check(_ORG_INDEX[body])
    vals[:, 8:16] = body
    vals[:, 16] = np.where(org_check == 10, ck.USCC_CHARS.index("X"), org_check)
    codes = np.empty((n, 18), dtype=np.uint32)
    codes[:, :17] = _USCC_CODES[vals]
    codes[:, 17] = _USCC_CODES[ck.uscc_check(vals)]
    return codes_to_str(codes)


def mobiles(rng: Rng, prefixes: I64, p: npt.NDArray[np.float64], n: int) -> StrArray:
    """11-digit mainland mobile numbers with real operator prefixes."""
    head = rng.choice(prefixes, size=n, p=p)
    return fixed_digits(head * 10**8 + rng.integers(0, 10**8, n), 11)


def order_numbers(rng: Rng, n: int) -> StrArray:
    """11-digit order numbers starting 10/11/12: shaped like phones, never a phone prefix."""
    return fixed_digits(rng.integers(10 * 10**9, 13 * 10**9, n), 11)


def landlines(rng: Rng, area: StrArray) -> StrArray:
    """Landlines written the usual ways: 010-62345678, (0755)86543210, 0571 8765 4321."""
    n = len(area)
    eight = np.strings.str_len(area) == 3
    sub = np.where(
        eight, rng.integers(2 * 10**7, 9 * 10**7, n), rng.integers(2 * 10**6, 9 * 10**6, n)
    )
    sub_s = np.where(eight, fixed_digits(sub, 8), fixed_digits(sub, 7))
    style = rng.random(n)
    out = join(area, "-", sub_s)
    out = np.where(style < 0.15, join("(", area, ")", sub_s), out)
    return np.where((style >= 0.15) & (style < 0.22), join(area, sub_s), out)


def passports(rng: Rng, n: int) -> StrArray:
    """Chinese passport numbers: E + 8 digits, E + letter + 7 digits, or old G + 8 digits."""
    codes = np.empty((n, 9), dtype=np.uint32)
    kind = rng.random(n)
    codes[:, 0] = np.where(kind < 0.85, ord("E"), ord("G"))
    codes[:, 1:] = rng.integers(0, 10, (n, 8)) + 48
    lettered = kind < 0.35
    codes[lettered, 1] = _PLATE_LETTERS[rng.integers(0, len(_PLATE_LETTERS), int(lettered.sum()))]
    return codes_to_str(codes)


def plates(rng: Rng, province: StrArray) -> StrArray:
    """Licence plates: 京A12345, 粤B3C45D, new-energy 沪AD12345 (8 characters)."""
    n = len(province)
    new_energy = rng.random(n) < 0.12
    codes = np.zeros((n, 7), dtype=np.uint32)
    codes[:, 0] = _PLATE_LETTERS[rng.integers(0, 8, n)]  # city letter: mostly A-H
    codes[:, 1:] = rng.integers(0, 10, (n, 6)) + 48
    letter_pos = (rng.random((n, 5)) < 0.12) & ~new_energy[:, None]
    letters = _PLATE_LETTERS[rng.integers(0, len(_PLATE_LETTERS), (n, 5))]
    codes[:, 1:6] = np.where(letter_pos, letters, codes[:, 1:6])
    codes[new_energy, 1] = np.where(rng.random(int(new_energy.sum())) < 0.5, ord("D"), ord("F"))
    codes[~new_energy, 6] = 0
    return join(province, codes_to_str(codes))


def ipv4(rng: Rng, n: int) -> StrArray:
    """Dotted IPv4 addresses from public and private ranges."""
    first = rng.choice(np.array([10, 36, 58, 101, 112, 114, 117, 120, 171, 183, 192, 223]), n)
    second = np.where(first == 192, 168, rng.integers(0, 256, n))
    rest = rng.integers(0, 256, (n, 2))
    return join(
        int_str(first),
        ".",
        int_str(second),
        ".",
        int_str(rest[:, 0]),
        ".",
        int_str(np.maximum(rest[:, 1], 1)),
    )


def random_chars(rng: Rng, alphabet: U32, n: int, width: int) -> StrArray:
    """``n`` strings of ``width`` characters drawn from ``alphabet`` code points."""
    return codes_to_str(alphabet[rng.integers(0, len(alphabet), (n, width))])


def password_hashes(rng: Rng, n: int) -> StrArray:
    """Stored password hashes in the forms real systems have: bcrypt, Django PBKDF2,
    bare SHA-256 hex, and salted MD5-era hex."""
    kind = rng.random(n)
    bcrypt = join(
        "$2b$", np.where(rng.random(n) < 0.7, "10", "12"), "$", random_chars(rng, _BCRYPT, n, 53)
    )
    pbkdf2 = join(
        "pbkdf2_sha256$260000$",
        random_chars(rng, _BCRYPT[2:], n, 12),
        "$",
        random_chars(rng, _B64, n, 43),
        "=",
    )
    sha = random_chars(rng, _HEX, n, 64)
    md5 = random_chars(rng, _HEX, n, 32)
    out = np.where(kind < 0.5, bcrypt, pbkdf2)
    out = np.where(kind >= 0.75, sha, out)
    return np.where(kind >= 0.92, md5, out)


def tokens(rng: Rng, n: int) -> StrArray:
    """Bearer-style API tokens (hex secrets with a recognisable prefix)."""
    return join("sk_live_", random_chars(rng, _HEX, n, 40))


def pins(rng: Rng, n: int) -> StrArray:
    """Six-digit PINs kept in clear (a real-world sin the data must show)."""
    return fixed_digits(rng.integers(0, 10**6, n), 6)


# -- mess ----------------------------------------------------------------------------------


def fullwidth_digits(values: StrArray) -> StrArray:
    """The same strings with ASCII digits replaced by full-width digits (０-９)."""
    codes = str_to_codes(values)
    is_digit = (codes >= 48) & (codes <= 57)
    codes[is_digit] += 0xFF10 - 48
    return codes_to_str(codes)


def lowercase_x(values: StrArray) -> StrArray:
    """The same strings with 'X' written 'x' (a common slip in ID columns)."""
    codes = str_to_codes(values)
    codes[codes == ord("X")] = ord("x")
    return codes_to_str(codes)


def formatted_mobiles(rng: Rng, phones: StrArray) -> StrArray:
    """Mobiles as people type them: +86 138 1234 5678, 138-1234-5678, 86-13812345678 …"""
    a = np.strings.slice(phones, 0, 3)
    b = np.strings.slice(phones, 3, 7)
    c = np.strings.slice(phones, 7, 11)
    style = rng.integers(0, 5, len(phones))
    out = join("+86 ", a, " ", b, " ", c)
    out = np.where(style == 1, join(a, "-", b, "-", c), out)
    out = np.where(style == 2, join(a, " ", b, " ", c), out)
    out = np.where(style == 3, join("+86", phones), out)
    return np.where(style == 4, join("86-", phones), out)


def excel_mangled(values: StrArray) -> StrArray:
    """What Excel shows after reading an 18-digit ID as a number: 1.10105E+17."""
    lead = np.strings.slice(values, 0, 1)
    frac = np.strings.rstrip(np.strings.slice(values, 1, 6), "0")
    mant = np.where(np.strings.str_len(frac) > 0, join(lead, ".", frac), lead)
    exp = int_str(np.strings.str_len(values).astype(np.int64) - 1)
    return join(mant, "E+", exp)


def apply(mask: Bool, messed: StrArray, clean: StrArray) -> StrArray:
    """``messed`` where ``mask``, else ``clean``."""
    return np.where(mask, messed, clean)
