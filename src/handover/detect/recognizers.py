"""The recognizers: one small declarative unit per kind of value, registered here only.

A recognizer is a pattern (RE2, applied with pyarrow.compute to a whole column) + an
optional vectorised validator + the column-name/context words that support it + the
taxonomy type it maps to (presidio style). ``needs_context`` recognizers (PIN, CVN,
amounts …) never fire on values alone: their values look like anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.detect import validators as v
from handover.detect.lexicon import (
    EDUCATION_VALUES,
    ETHNIC_VALUES,
    GENDER_VALUES,
    MARITAL_VALUES,
    MOBILE_PREFIXES,
    PLATE_PROVINCES,
    SURNAMES_SINGLE,
)

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
Validator = Callable[[pa.Array], BoolArray]
Form = Literal["compact", "text"]
TextMode = Literal["digits", "alnum", "email", "regex"]


def _alternation(values: tuple[str, ...]) -> str:
    return "^(?:" + "|".join(sorted({x for x in values}, key=len, reverse=True)) + ")$"


_HAN = r"\p{Han}"
_SURNAME_CLASS = "[" + "".join(sorted(set(SURNAMES_SINGLE))) + "]"
# Share of ``1`` + ten random digits whose first three digits are a network prefix in use.
MOBILE_CHANCE = len(set(MOBILE_PREFIXES)) / 100
_NAME_CONTEXT = "客户|借款人|担保人|保证人|联系人|配偶|户名|姓名|本人|其妻|其夫|其子|其女|其父|其母|法人|同事|朋友"


@dataclass(frozen=True)
class Recognizer:
    """Pattern + validator + context words → one taxonomy type, with a base score."""

    key: str
    type: str
    pattern: str  # RE2, anchored, matched against ``form`` of the value
    form: Form = "compact"
    validator: Validator | None = None
    check: str = ""  # what the validator checks, for explanations
    score: float = 0.85  # score of a value that matches (and validates)
    needs_context: bool = False
    text: TextMode | None = None  # how free text is searched for this type
    text_pattern: str | None = (
        None  # for ``text == "regex"``: named group ``v`` (or ``w``) is the value
    )
    context: tuple[str, ...] = ()  # words near a span in free text that raise its score
    # Look-alikes: ``lookalike`` (RE2, default ``pattern``) is the wider shape of values
    # that would be this type if they validated (``1`` + ten digits for a mobile);
    # ``chance`` is the probability that a uniformly random value of that shape passes
    # ``pattern`` + ``validator``. Only recognizers with a ``chance`` count look-alikes that
    # fail as evidence against their type (docs/scan.md, "Look-alikes").
    lookalike: str | None = None
    chance: float | None = None
    masked: bool = False  # values shown masked (138****5678): count only beside clear ones

    def match(self, values: pa.Array) -> BoolArray:
        """Which of ``values`` (normalised, non-null) match the pattern and validate."""
        return self.judge(values, lookalikes=False)[1]

    def shape(self, values: pa.Array) -> BoolArray:
        """Which values have the look-alike shape (validator not applied)."""
        return _regex_mask(values, self.lookalike or self.pattern)

    def judge(self, values: pa.Array, *, lookalikes: bool = True) -> tuple[BoolArray, BoolArray]:
        """(values with the look-alike shape, values that match and validate) in one pass
        over the column: the pattern and validator run on the look-alikes only."""
        if len(values) == 0:
            return np.zeros(0, dtype=np.bool_), np.zeros(0, dtype=np.bool_)
        wide = lookalikes and self.lookalike is not None
        shaped = self.shape(values) if wide else _regex_mask(values, self.pattern)
        if not shaped.any() or (self.validator is None and not wide):
            return shaped, shaped
        idx = np.flatnonzero(shaped)
        sub = values.take(pa.array(idx))
        ok = _regex_mask(sub, self.pattern) if wide else np.ones(len(idx), dtype=np.bool_)
        if self.validator is not None and ok.any():
            good = np.flatnonzero(ok)
            ok[good] = self.validator(sub.take(pa.array(good)))
        out = np.zeros(len(values), dtype=np.bool_)
        out[idx[ok]] = True
        return shaped, out


def _regex_mask(values: pa.Array, pattern: str) -> BoolArray:
    return np.asarray(
        pc.fill_null(pc.match_substring_regex(values, pattern), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=np.bool_,
    )


RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer(
        "cn_resident_id_18",
        "cn_resident_id",
        r"^[1-9][0-9]{16}[0-9X]$",
        validator=v.resident_id_18,
        score=0.95,
        text="digits",
        # Check 1/11 x province 35/90 x a real date from random digits (year 1900..today
        # 0.013, month 0.12, day 0.30): about 2e-5.
        chance=2e-5,
        check="GB 11643 MOD 11-2 check character, real birth date, province prefix",
        context=("身份证", "证件", "sfz", "公民身份"),
    ),
    Recognizer(
        "cn_resident_id_15",
        "cn_resident_id",
        r"^[1-9][0-9]{14}$",
        validator=v.resident_id_15,
        score=0.8,
        chance=0.014,  # province 35/90 x month 0.12 x day 0.30 (any 19YY is a real year)
        check="legacy 15-digit ID: province prefix and real 19YYMMDD birth date",
    ),
    Recognizer(
        "cn_mobile",
        "cn_mobile",
        r"^1[3-9][0-9]{9}$",
        validator=v.mobile,
        score=0.9,
        text="digits",
        check="11 digits with a mobile network prefix in use",
        context=("手机", "电话", "联系", "致电", "号码"),
        # 10x-12x, 140-144, 160 … are shaped like mobiles but no network uses them.
        lookalike=r"^1[0-9]{10}$",
        chance=MOBILE_CHANCE,
    ),
    Recognizer(
        "cn_mobile_masked",
        "cn_mobile",
        r"^1[3-9][0-9](?:\*{4}|X{4})[0-9]{4}$",
        validator=v.mobile,
        score=0.75,
        check="masked mobile (138****5678): a network prefix in use, middle four digits hidden",
        lookalike=r"^1[0-9]{2}(?:\*{4}|X{4})[0-9]{4}$",
        chance=MOBILE_CHANCE,
        masked=True,
    ),
    Recognizer(
        "cn_landline",
        "cn_landline",
        r"^(?:0(?:10|2[0-9])[2-9][0-9]{7}|0[3-9][0-9]{2}[2-9][0-9]{6,7})$",
        score=0.8,
        text="regex",
        text_pattern=r"(?:^|[^0-9])(?P<v>\(?0(?:10|2[0-9]|[3-9][0-9]{2})\)?[- ]?[2-9][0-9]{6,7})(?:[^0-9]|$)",
        check="area code 010/02x/0xxx + 7-8 digit subscriber number",
        context=("电话", "座机", "固话", "单位电话"),
    ),
    Recognizer(
        "bank_card",
        "bank_card",
        r"^[0-9]{16,19}$",
        validator=v.luhn_card,
        score=0.85,
        chance=0.04,  # Luhn 1/10 x issuer digit 3-6 4/10
        text="digits",
        check="16-19 digits, Luhn check, issuer digit 3-6 (UnionPay 62)",
        context=("卡号", "银行卡", "账号", "尾号"),
    ),
    Recognizer(
        "uscc",
        "uscc",
        r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$",
        validator=v.uscc,
        score=0.95,
        text="alnum",
        check="GB 32100 mod-31 check and embedded GB 11714 organisation-code check",
        context=("信用代码", "统一社会"),
    ),
    Recognizer(
        "passport",
        "passport",
        r"^(?:E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}|[DSP]E?[0-9]{7})$",
        score=0.75,
        text="alnum",
        check="Chinese passport number layout (E/G/D/S/P series)",
        context=("护照",),
    ),
    Recognizer(
        "hk_macau_permit",
        "hk_macau_permit",
        r"^(?:[CW][0-9]{8}|C[A-HJ-NP-Z][0-9]{7}|[HM][0-9]{8}(?:[0-9]{2})?)$",
        score=0.75,
        text="alnum",
        check="往来港澳通行证 C/W series or 回乡证 H/M series layout",
        context=("港澳", "通行证", "回乡证"),
    ),
    Recognizer(
        "hk_macau_residence",
        "hk_macau_permit",
        r"^8[12]0000[0-9]{11}[0-9X]$",
        validator=v.resident_id_18,
        score=0.9,
        check="港澳居民居住证: 810000/820000 + GB 11643 check",
    ),
    Recognizer(
        "taiwan_residence",
        "taiwan_permit",
        r"^830000[0-9]{11}[0-9X]$",
        validator=v.resident_id_18,
        score=0.9,
        check="台湾居民居住证: 830000 + GB 11643 check",
    ),
    Recognizer(
        "taiwan_permit",
        "taiwan_permit",
        r"^(?:[0-9]{8}|[0-9]{10}|[LT][0-9]{8})$",
        score=0.6,
        needs_context=True,
        check="台胞证 8/10 digits or 往来台湾通行证 L/T series",
        context=("台胞", "台湾"),
    ),
    Recognizer(
        "email",
        "email",
        r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$",
        form="text",
        score=0.9,
        text="email",
        check="RFC 5322 address shape",
        context=("邮箱", "email", "邮件"),
    ),
    Recognizer(
        "ipv4",
        "ip_address",
        r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$",
        form="text",
        score=0.85,
        text="regex",
        text_pattern=r"(?:^|[^0-9.])(?P<v>(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9]))(?:[^0-9.]|$)",
        check="dotted quad, each octet 0-255",
    ),
    Recognizer(
        "ipv6",
        "ip_address",
        r"^[0-9A-Fa-f:]{2,39}$",
        form="text",
        validator=v.ipv6,
        score=0.8,
        check="8 hex groups, or fewer with one ::",
    ),
    Recognizer(
        "licence_plate",
        "licence_plate",
        "^[" + PLATE_PROVINCES + "][A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]$",
        score=0.85,
        text="regex",
        text_pattern="(?P<v>["
        + PLATE_PROVINCES
        + "][A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳])"
        + "(?:[^A-Z0-9]|$)",
        check="province character + city letter + 5-6 characters (GA 36)",
        context=("车牌", "车辆"),
    ),
    Recognizer(
        "person_name",
        "person_name",
        rf"^{_HAN}{{2,4}}$|^{_HAN}{{1,6}}·{_HAN}{{1,8}}$",
        form="text",
        validator=v.person_name,
        score=0.6,
        text="regex",
        text_pattern=rf"(?:{_NAME_CONTEXT})[:：\s]?(?P<v>{_SURNAME_CLASS}{_HAN}{{1,2}})"
        rf"|(?P<w>{_SURNAME_CLASS}{_HAN}{{1,2}})(?:先生|女士|小姐)",
        check="2-4 Han characters starting with a common surname",
        context=("客户", "借款人", "联系人", "姓名"),
    ),
    Recognizer(
        "address",
        "address",
        r"(?:省|市|区|县|州|旗).*(?:路|街|巷|弄|村|镇|乡|号|组|小区|花园|苑|大厦|公寓|室|栋|幢)",
        form="text",
        score=0.75,
        text="regex",
        text_pattern=rf"(?P<v>{_HAN}{{2,12}}(?:市|县|区){_HAN}{{0,12}}?[{_HAN}0-9]{{1,16}}(?:路|街|巷|弄|村|镇|大道)"
        r"[0-9一二三四五六七八九十]{1,5}(?:号|弄|组))",
        check="region word (省/市/区/县) followed by a street-level word (路/街/村/号 …)",
        context=("住址", "地址", "住在", "位于"),
    ),
    Recognizer(
        "birth_date",
        "birth_date",
        r"^(?:19|20)[0-9]{2}[-/.年]?[0-9]{1,2}[-/.月]?[0-9]{1,2}日?(?:[ T]00:00(?::00)?(?:\.0+)?)?$",
        form="text",
        validator=v.birth_date,
        score=0.7,
        needs_context=True,
        check="a real date between 1900 and today",
    ),
    Recognizer(
        "gender",
        "gender",
        _alternation(GENDER_VALUES),
        form="text",
        score=0.9,
        check="男/女 and male/female",
    ),
    Recognizer(
        "gender_code",
        "gender",
        r"^[012MFmfUu]$",
        form="text",
        score=0.6,
        needs_context=True,
        check="one-character code 0/1/2, M/F",
    ),
    Recognizer(
        "ethnicity",
        "ethnicity",
        _alternation(ETHNIC_VALUES),
        form="text",
        score=0.9,
        check="one of the 56 ethnic groups (GB/T 3304)",
    ),
    Recognizer(
        "marital_status",
        "marital_status",
        _alternation(MARITAL_VALUES),
        form="text",
        score=0.9,
        check="未婚/已婚/离异/丧偶 …",
    ),
    Recognizer(
        "education",
        "education",
        _alternation(EDUCATION_VALUES)[:-2] + "|[^0-9]{0,4}(?:小学|初中|高中|中专|职高|技校|大专"
        "|专科|本科|硕士|博士|研究生|文盲|学士)[^0-9]{0,6})$",
        form="text",
        score=0.9,
        check="小学 … 博士 (education levels)",
    ),
    Recognizer(
        "password_hash",
        "password_hash",
        r"^(?:\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53}|\$argon2(?:id|i|d)\$.+|pbkdf2_sha(?:1|256|512)\$[0-9]+\$.+"
        r"|\$[156]\$.+\$.+|scrypt\$.+|(?:sha1|sha256|md5)\$.+|\{SSHA\}.+)$",
        form="text",
        score=0.95,
        check="bcrypt / argon2 / PBKDF2 / crypt(3) hash format",
    ),
    Recognizer(
        "password_hex",
        "password_hash",
        r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})$",
        form="text",
        score=0.7,
        needs_context=True,
        check="MD5/SHA-1/SHA-256/SM3 hex digest",
    ),
    Recognizer(
        "auth_token",
        "auth_token",
        r"^(?:eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*|(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"
        r"|gh[pousr]_[A-Za-z0-9]{36}|xox[baprs]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16})$",
        form="text",
        score=0.95,
        text="regex",
        text_pattern=r"(?P<v>(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)",
        check="JWT, sk_live_/ghp_/xox/AKIA secret formats",
    ),
    Recognizer(
        "token_generic",
        "auth_token",
        r"^[A-Za-z0-9_\-+/=.]{20,}$",
        form="text",
        score=0.6,
        needs_context=True,
        check="20+ characters of a secret alphabet",
    ),
    Recognizer("pin", "pin", r"^[0-9]{4,6}$", score=0.7, needs_context=True, check="4-6 digits"),
    Recognizer("cvn", "cvn", r"^[0-9]{3,4}$", score=0.7, needs_context=True, check="3-4 digits"),
    Recognizer(
        "account_number",
        "account_number",
        r"^[0-9A-Z]{6,32}$",
        score=0.6,
        needs_context=True,
        check="6-32 digits or capitals",
    ),
    Recognizer(
        "income",
        "income",
        r"^-?[0-9]+(?:\.[0-9]+)?$",
        score=0.6,
        needs_context=True,
        check="a number",
    ),
    Recognizer(
        "transaction",
        "transaction",
        r"^.+$",
        form="text",
        score=0.6,
        needs_context=True,
        check="any value (named as a transaction field)",
    ),
    Recognizer(
        "credit_info",
        "credit_info",
        r"^.+$",
        form="text",
        score=0.6,
        needs_context=True,
        check="any value (named as a loan/credit field)",
    ),
    Recognizer(
        "employer",
        "employer",
        r"^.{2,}$",
        form="text",
        score=0.6,
        needs_context=True,
        check="a name of two or more characters",
    ),
)

BY_KEY = {r.key: r for r in RECOGNIZERS}
# What each recognizer checks, in both languages, for the evidence of a verdict.
TYPES = tuple(dict.fromkeys(r.type for r in RECOGNIZERS))
# Types that values alone can identify (at least one recognizer without needs_context).
VALUE_TYPES = frozenset(r.type for r in RECOGNIZERS if not r.needs_context)


def for_type(pii_type: str) -> list[Recognizer]:
    """Every recognizer that maps to ``pii_type``."""
    return [r for r in RECOGNIZERS if r.type == pii_type]
