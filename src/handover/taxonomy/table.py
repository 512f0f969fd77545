"""The one taxonomy table: every PII type handover knows, and what the rules make of it.

- ``sensitive``: PIPL Art. 28 sensitive personal information (read with GB/T 35273-2020
  Annex B: identity document numbers, financial accounts, property and credit records,
  authentication data).
- ``tier``: JR/T 0171-2020 personal financial information tier: C3 authentication data,
  C2 identity/account/contact/transaction/credit, C1 internal.
- ``level``: JR/T 0197-2020 data security level, derived from the tier (C3→4, C2→3,
  C1→2, public→1).
- ``mask``: the default display-masking rule (GB/T 35273-2020 §3.14), declarative only;
  the de-identification stage implements it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Tier = Literal["C1", "C2", "C3"]
MaskKind = Literal["keep", "surname", "email", "region", "year", "band", "ip", "redact", "none"]

# Two-character surnames the ``surname`` mask keeps whole (de-identification masks alike).
COMPOUND_SURNAMES = frozenset(
    ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒")
)
LEVEL_OF_TIER: dict[str | None, int] = {"C3": 4, "C2": 3, "C1": 2, None: 1}
TIER_RANK: dict[str | None, int] = {None: 0, "C1": 1, "C2": 2, "C3": 3}


@dataclass(frozen=True)
class MaskRule:
    """A declarative masking rule; ``describe`` says it in words for reports and docs.

    kinds: ``keep`` first/last N characters, ``surname`` (keep the family name),
    ``email`` (first character of the local part + domain), ``region`` (keep province/
    city/district, drop the street), ``year`` (keep the year of a date), ``band`` (round
    a number to a band of ``step``), ``ip`` (keep the first ``first`` octets/groups),
    ``redact`` (remove entirely), ``none`` (shown as is).
    """

    kind: MaskKind
    first: int = 0
    last: int = 0
    step: int = 0
    char: str = "*"

    def describe(self, lang: str = "zh-CN") -> str:
        """The rule in one short phrase, in zh-CN or en."""
        zh = not lang.lower().startswith("en")
        if self.kind == "keep":
            return (
                f"保留前 {self.first} 位和后 {self.last} 位,其余以 {self.char} 替换"
                if zh
                else f"keep first {self.first} and last {self.last}, mask the rest with {self.char}"
            )
        texts: dict[str, tuple[str, str]] = {
            "surname": ("仅保留姓氏", "keep the surname only"),
            "email": ("保留用户名首字符和域名", "keep the first character and the domain"),
            "region": (
                "保留省/市/区县,去除详细地址",
                "keep province/city/district, drop the street",
            ),
            "year": ("仅保留年份", "keep the year only"),
            "band": (f"按 {self.step} 取整分档", f"round to bands of {self.step}"),
            "ip": (f"保留前 {self.first} 段", f"keep the first {self.first} groups"),
            "redact": ("整体删除,不得展示", "remove entirely; never shown"),
            "none": ("无需遮蔽", "shown as is"),
        }
        pair = texts[self.kind]
        return pair[0] if zh else pair[1]

    def apply(self, value: str) -> str:
        """Mask one value for display (reports, evidence); never returns it in clear."""
        s = str(value)
        n = len(s)
        star = self.char
        if self.kind == "keep":
            if n <= self.first + self.last:
                return s[:1] + star * max(n - 1, 1)
            return (
                s[: self.first]
                + star * (n - self.first - self.last)
                + (s[n - self.last :] if self.last else "")
            )
        if self.kind == "surname":
            keep = 2 if n >= 3 and s[:2] in COMPOUND_SURNAMES else 1
            return s[:keep] + star * max(n - keep, 1)
        if self.kind == "email":
            local, _, domain = s.partition("@")
            return (local[:1] + star * 3 + "@" + domain) if domain else star * 3
        if self.kind == "region":
            cut = max(
                (s.find(w) + len(w) for w in ("区", "县", "市", "旗") if 0 <= s.find(w) < 12),
                default=min(n, 3),
            )
            return s[:cut] + star * 4
        if self.kind == "year":
            return s[:4] + "-**-**"
        if self.kind == "band":
            try:
                x = float(s.replace(",", ""))
            except ValueError:
                return star * 3
            if not math.isfinite(x):  # NaN, inf: text a CSV cell may hold, in no band
                return star * 3
            step = self.step or 1
            lo = int(x // step * step)
            return f"[{lo}, {lo + step})"
        if self.kind == "ip":
            sep = ":" if ":" in s else "."
            parts = s.split(sep)
            return sep.join(parts[: self.first] + [star] * max(len(parts) - self.first, 1))
        if self.kind == "none":
            return s[:1] + star * max(n - 1, 1)
        return "[redacted]"


@dataclass(frozen=True)
class PiiType:
    """One PII type and its place in the rules."""

    name: str
    zh: str
    en: str
    sensitive: bool
    tier: Tier
    mask: MaskRule
    basis: str  # which clause puts it where (short, for the docs)

    @property
    def level(self) -> int:
        """JR/T 0197 data security level derived from the tier."""
        return LEVEL_OF_TIER[self.tier]


_KEEP_6_4 = MaskRule("keep", first=6, last=4)
_REDACT = MaskRule("redact")

TAXONOMY: tuple[PiiType, ...] = (
    PiiType(
        "cn_resident_id",
        "居民身份证号码",
        "resident ID number",
        True,
        "C2",
        _KEEP_6_4,
        "GB/T 35273 B.2 身份证件号码; JR/T 0171 C2 identity",
    ),
    PiiType(
        "passport",
        "护照号码",
        "passport number",
        True,
        "C2",
        MaskRule("keep", 1, 3),
        "GB/T 35273 B.2 身份证件号码; JR/T 0171 C2 identity",
    ),
    PiiType(
        "hk_macau_permit",
        "港澳通行证/回乡证号码",
        "HK/Macau travel permit number",
        True,
        "C2",
        MaskRule("keep", 1, 3),
        "GB/T 35273 B.2 身份证件号码; JR/T 0171 C2 identity",
    ),
    PiiType(
        "taiwan_permit",
        "台湾通行证/台胞证号码",
        "Taiwan travel permit number",
        True,
        "C2",
        MaskRule("keep", 1, 3),
        "GB/T 35273 B.2 身份证件号码; JR/T 0171 C2 identity",
    ),
    PiiType(
        "person_name",
        "姓名",
        "person name",
        False,
        "C2",
        MaskRule("surname"),
        "JR/T 0171 C2 identity",
    ),
    PiiType(
        "gender",
        "性别",
        "gender",
        False,
        "C2",
        MaskRule("none"),
        "JR/T 0171 C2 identity (basic information)",
    ),
    PiiType(
        "birth_date",
        "出生日期",
        "birth date",
        False,
        "C2",
        MaskRule("year"),
        "JR/T 0171 C2 identity (basic information)",
    ),
    PiiType(
        "ethnicity",
        "民族",
        "ethnicity",
        True,
        "C2",
        MaskRule("redact"),
        "PIPL Art. 28 specific identity; JR/T 0171 C2 identity",
    ),
    PiiType(
        "cn_mobile",
        "手机号码",
        "mobile number",
        False,
        "C2",
        MaskRule("keep", 3, 4),
        "JR/T 0171 C2 contact",
    ),
    PiiType(
        "cn_landline",
        "固定电话",
        "landline number",
        False,
        "C2",
        MaskRule("keep", 4, 2),
        "JR/T 0171 C2 contact",
    ),
    PiiType(
        "email",
        "电子邮箱",
        "e-mail address",
        False,
        "C2",
        MaskRule("email"),
        "JR/T 0171 C2 contact",
    ),
    PiiType("address", "地址", "address", False, "C2", MaskRule("region"), "JR/T 0171 C2 contact"),
    PiiType(
        "ip_address",
        "IP 地址",
        "IP address",
        False,
        "C2",
        MaskRule("ip", first=2),
        "JR/T 0171 C2 network identity",
    ),
    PiiType(
        "licence_plate",
        "车牌号码",
        "licence plate",
        False,
        "C2",
        MaskRule("keep", 2, 1),
        "JR/T 0171 C2 property",
    ),
    PiiType(
        "bank_card",
        "银行卡号",
        "bank card number",
        True,
        "C2",
        _KEEP_6_4,
        "PIPL Art. 28 financial account; JR/T 0171 C2 account",
    ),
    PiiType(
        "account_number",
        "账号",
        "account number",
        True,
        "C2",
        MaskRule("keep", 4, 4),
        "PIPL Art. 28 financial account; JR/T 0171 C2 account",
    ),
    PiiType(
        "income",
        "收入/资产",
        "income / assets",
        True,
        "C2",
        MaskRule("band", step=5000),
        "GB/T 35273 B.2 个人财产信息; JR/T 0171 C2 property",
    ),
    PiiType(
        "transaction",
        "交易/借贷信息",
        "transaction / loan data",
        True,
        "C2",
        MaskRule("band", step=1000),
        "GB/T 35273 B.2 交易和消费记录、借款信息; JR/T 0171 C2 transaction",
    ),
    PiiType(
        "credit_info",
        "信用信息",
        "credit information",
        True,
        "C2",
        _REDACT,
        "GB/T 35273 B.2 个人征信信息; JR/T 0171 C2 credit",
    ),
    PiiType(
        "employer",
        "工作单位/职业",
        "employer / occupation",
        False,
        "C2",
        MaskRule("none"),
        "JR/T 0171 C2 identity (professional information, KYC)",
    ),
    PiiType(
        "marital_status",
        "婚姻状况",
        "marital status",
        False,
        "C2",
        MaskRule("none"),
        "JR/T 0171 C2 identity (basic information, KYC)",
    ),
    PiiType(
        "education",
        "学历",
        "education",
        False,
        "C2",
        MaskRule("none"),
        "JR/T 0171 C2 identity (basic information, KYC)",
    ),
    PiiType(
        "uscc",
        "统一社会信用代码",
        "unified social credit code",
        False,
        "C1",
        MaskRule("keep", 2, 4),
        "organisation identifier (GB 32100); JR/T 0171 C1",
    ),
    PiiType(
        "password_hash",
        "密码/密码散列",
        "password / password hash",
        True,
        "C3",
        _REDACT,
        "JR/T 0171 C3 authentication data",
    ),
    PiiType(
        "pin", "交易/取款密码(PIN)", "PIN", True, "C3", _REDACT, "JR/T 0171 C3 authentication data"
    ),
    PiiType(
        "cvn",
        "卡片验证码(CVN)",
        "card verification number",
        True,
        "C3",
        _REDACT,
        "JR/T 0171 C3 authentication data",
    ),
    PiiType(
        "auth_token",
        "认证令牌/密钥",
        "authentication token / secret",
        True,
        "C3",
        _REDACT,
        "JR/T 0171 C3 authentication data",
    ),
)

_BY_NAME = {p.name: p for p in TAXONOMY}


def get(name: str) -> PiiType:
    """The taxonomy entry of PII type ``name`` (KeyError if unknown)."""
    return _BY_NAME[name]


def mask_value(pii_type: str, value: str) -> str:
    """``value`` masked by the default rule of ``pii_type`` (for evidence and reports)."""
    return _BY_NAME[pii_type].mask.apply(value) if pii_type in _BY_NAME else "[redacted]"


def level_of(tier: str | None) -> int:
    """JR/T 0197 level of a JR/T 0171 tier (``None`` = public → 1)."""
    return LEVEL_OF_TIER[tier]


def strongest_tier(names: list[str]) -> Tier | None:
    """The highest tier among PII types ``names`` (C3 > C2 > C1), or ``None``."""
    best: Tier | None = None
    for n in names:
        tier = _BY_NAME[n].tier
        if TIER_RANK[tier] > TIER_RANK[best]:
            best = tier
    return best


def markdown() -> str:
    """docs/taxonomy.md, generated from :data:`TAXONOMY` (a test keeps the file in sync)."""
    lines = [
        "# Taxonomy / 分类分级",
        "",
        "Generated from `src/handover/taxonomy/table.py` by `python -m handover.taxonomy`;",
        "`tests/test_taxonomy.py` fails when this file and the table differ.",
        "",
        "- **PIPL Art. 28** sensitive personal information (read with GB/T 35273-2020 Annex B).",
        "- **JR/T 0171-2020** tier: C3 authentication data; C2 identity, account, contact,",
        "  transaction, credit; C1 internal information.",
        "- **JR/T 0197-2020** level: C3→4, C2→3, C1→2, public→1. A column holding several",
        "  types takes the strongest tier. A column with no PII in a table that holds",
        "  personal records is C1 (level 2: internal data about the customer); a column",
        "  in a table without personal data is public (level 1).",
        "- **Masking**: the default display-masking rule; the de-identification stage",
        "  implements it.",
        "",
        "| type | 中文 | English | PIPL Art. 28 sensitive | JR/T 0171 | JR/T 0197 level "
        "| masking (默认遮蔽) | basis |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in TAXONOMY:
        lines.append(
            f"| `{p.name}` | {p.zh} | {p.en} | {'yes 是' if p.sensitive else 'no 否'} "
            f"| {p.tier} | {p.level} | {p.mask.describe('zh-CN')} / {p.mask.describe('en')} "
            f"| {p.basis} |"
        )
    return "\n".join(lines) + "\n"
