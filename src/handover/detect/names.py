"""Column-name evidence: English, Chinese and pinyin-abbreviation names of PII columns.

A name is split into tokens (``jkr_sfzh`` → jkr, sfzh; ``idCardNo`` → id, card, no);
an alias matches the whole name, one token, or a token's suffix for pinyin compounds
(``jtdz`` ends in ``dz`` 地址); Chinese aliases match as substrings. Exact and token
hits weigh 1.0, suffix/substring hits 0.7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handover.detect import messages as _messages  # noqa: F401  (registers the texts)
from handover.i18n import Msg

# type → aliases. "~x" = Chinese substring; "*x" = pinyin suffix of a token.
HINTS: dict[str, tuple[str, ...]] = {
    "cn_resident_id": (
        "sfzh",
        "sfz",
        "sfzhm",
        "gmsfhm",
        "idcard",
        "id_card",
        "idno",
        "id_no",
        "id_number",
        "idnumber",
        "identity_no",
        "citizen_id",
        "cert_no",
        "certno",
        "*sfzh",
        "~身份证",
        "~公民身份号码",
    ),
    "id_document": (
        "zjhm",
        "*zjhm",
        "zjh",
        "certificate_no",
        "document_no",
        "cert_number",
        "~证件号",
    ),
    "passport": ("passport", "passport_no", "hzhm", "hzh", "~护照"),
    "hk_macau_permit": ("hk_permit", "gatxz", "hxz", "~港澳", "~回乡证"),
    "taiwan_permit": ("tw_permit", "tbz", "twtxz", "~台胞", "~台湾"),
    "cn_mobile": (
        "mobile",
        "mobile_no",
        "mobile_phone",
        "cellphone",
        "cell",
        "sjhm",
        "sjh",
        "*sjh",
        "*sjhm",
        "ylsjh",
        "~手机",
    ),
    "phone": (
        "phone",
        "tel",
        "telephone",
        "phone_no",
        "lxdh",
        "*lxdh",
        "dh",
        "*dh",
        "lxfs",
        "~电话",
        "~联系方式",
    ),
    "cn_landline": ("landline", "gddh", "zj", "~座机", "~固话", "~固定电话"),
    "email": (
        "email",
        "e_mail",
        "mail",
        "email_address",
        "dzyx",
        "yx",
        "*yx",
        "~邮箱",
        "~电子邮件",
    ),
    "address": (
        "address",
        "addr",
        "dz",
        "*dz",
        "jtdz",
        "hjdz",
        "zcdz",
        "jzdz",
        "txdz",
        "fcdz",
        "zz",
        "~地址",
        "~住址",
        "~住所",
    ),
    "bank_card": (
        "card_no",
        "cardno",
        "card_number",
        "bank_card",
        "bankcard",
        "yhkh",
        "*yhkh",
        "card",
        "*kh",
        "~银行卡",
        "~卡号",
    ),
    "uscc": (
        "uscc",
        "tyshxydm",
        "xydm",
        "credit_code",
        "social_credit_code",
        "~统一社会信用代码",
        "~信用代码",
    ),
    "ip_address": ("ip", "ip_addr", "ip_address", "ipaddr", "*ip", "~ip地址"),
    "licence_plate": (
        "plate",
        "plate_no",
        "licence_plate",
        "license_plate",
        "cphm",
        "cph",
        "~车牌",
    ),
    "person_name": (
        "name",
        "real_name",
        "full_name",
        "fullname",
        "xm",
        "*xm",
        "khmc",
        "hm",
        "fddbr",
        "frdb",
        "syqr",
        "owner",
        "owner_name",
        "contact_name",
        "~姓名",
        "~法定代表人",
        "~户名",
        "~所有权人",
        "~联系人",
    ),
    "birth_date": ("birth", "birthday", "dob", "birth_date", "date_of_birth", "csrq", "~出生"),
    "gender": ("gender", "sex", "xb", "~性别"),
    "ethnicity": ("ethnicity", "nation", "mz", "~民族"),
    "marital_status": ("marital", "marital_status", "marriage", "hyzk", "~婚姻"),
    "education": ("education", "edu", "degree", "xl", "whcd", "~学历", "~文化程度"),
    "employer": ("employer", "work_unit", "workplace", "gzdw", "dwmc", "~工作单位", "~单位名称"),
    "income": (
        "income",
        "salary",
        "ysr",
        "nsr",
        "*sr",
        "wage",
        "assets",
        "~收入",
        "~工资",
        "~月薪",
        "~年薪",
        "~资产",
    ),
    "credit_info": (
        "loan_amount",
        "dkje",
        "jkje",
        "annual_rate",
        "rate",
        "nll",
        "ll",
        "lv",
        "term_months",
        "term",
        "qx",
        "dkqx",
        "repay_method",
        "hkfs",
        "guarantee_type",
        "dbfs",
        "five_class",
        "wjfl",
        "dpd",
        "yqts",
        "overdue",
        "outstanding",
        "balance",
        "ye",
        "dkye",
        "disburse_date",
        "fkrq",
        "maturity_date",
        "dqrq",
        "yhrq",
        "yhbj",
        "yhlx",
        "cnhkrq",
        "zxpf",
        "credit_score",
        "yqzhs",
        "pgjz",
        "yxje",
        "guarantee_amount",
        "dbje",
        "credit_limit",
        "sxed",
        "principal_due",
        "interest_due",
        "due_date",
        "~借款金额",
        "~贷款金额",
        "~利率",
        "~期限",
        "~还款方式",
        "~担保方式",
        "~五级分类",
        "~逾期",
        "~余额",
        "~放款",
        "~到期",
        "~应还",
        "~承诺还款",
        "~征信",
        "~信用评分",
        "~评估价值",
        "~意向金额",
        "~担保金额",
        "~授信",
    ),
    "transaction": (
        "txn_amount",
        "txn_time",
        "transaction",
        "trans_amount",
        "trans_time",
        "repay_time",
        "repay_amount",
        "repay_channel",
        "pay_channel",
        "jysj",
        "jyje",
        "hksj",
        "hkje",
        "hkqd",
        "~还款时间",
        "~还款金额",
        "~还款渠道",
        "~交易时间",
        "~交易金额",
        "~交易渠道",
        "~实还",
    ),
    "amount": (
        "amount",
        "amt",
        "principal",
        "interest",
        "penalty",
        "bj",
        "lx",
        "fx",
        "je",
        "~本金",
        "~利息",
        "~罚息",
        "~金额",
    ),
    "status": ("status", "state", "zt", "~状态"),
    "account_number": (
        "account",
        "account_no",
        "acct",
        "acct_no",
        "loan_acct_no",
        "dkzh",
        "~账号",
        "~账户",
    ),
    "password_hash": (
        "password",
        "passwd",
        "pwd",
        "password_hash",
        "pass_hash",
        "pwd_hash",
        "mm",
        "dlmm",
        "~密码",
    ),
    "pin": ("pin", "trade_pin", "pin_code", "jymm", "qkmm", "~交易密码", "~取款密码", "~支付密码"),
    "cvn": ("cvv", "cvv2", "cvn", "cvn2", "cvc", "cvc2", "~安全码", "~验证码"),
    "auth_token": (
        "token",
        "api_token",
        "access_token",
        "refresh_token",
        "session",
        "session_id",
        "sessionid",
        "api_key",
        "apikey",
        "secret",
        "secret_key",
        "~令牌",
        "~密钥",
    ),
    "free_text": (
        "note",
        "notes",
        "remark",
        "remarks",
        "memo",
        "comment",
        "comments",
        "description",
        "desc",
        "content",
        "bz",
        "csnr",
        "*nr",
        "~备注",
        "~说明",
        "~内容",
        "~记录",
        "~描述",
        "~情况",
    ),
}

# Groups: one hint that supports several types (the values decide among them).
GROUPS: dict[str, tuple[str, ...]] = {
    "id_document": ("cn_resident_id", "passport", "hk_macau_permit", "taiwan_permit"),
    "phone": ("cn_mobile", "cn_landline"),
}

# Short pinyin abbreviations that spell other common field words as well (their readings,
# 订单号 ``ddh`` aside). A hint through one of them, or through a word ending only (``ddh``
# ends in ``dh``), is ambiguous: it lowers the bar only while the values do not
# contradict its type (``classify``: look-alikes failing their check, a numbering).
AMBIGUOUS: dict[str, str] = {
    "dh": "电话 / 单号 / 订货 / 贷后",
    "zj": "座机 / 证件 / 资金 / 总计",
    "yx": "邮箱 / 有效 / 影像 / 意向",
    "hm": "户名 / 号码 / 黑名单",
    "xm": "姓名 / 项目",
    "dz": "地址 / 对账 / 垫资",
    "zz": "住址 / 资质 / 转账",
    "xl": "学历 / 序列 / 线路",
    "mz": "民族 / 名字",
}

# Names of keys, codes and serial numbers: values that merely look like PII.
NEGATIVE = (
    "order",
    "order_no",
    "ddh",
    "contract",
    "contract_no",
    "htbh",
    "hth",
    "serial",
    "lsh",
    "seq",
    "xh",
    "no",
    "code",
    "bh",
    "id",
    "batch",
    "pch",
    "product",
    "branch",
    "jg",
    "jgdm",
    "login",
    "user",
    "bank",
    "khh",
    "brand",
    "clpp",
    "~订单",
    "~合同",
    "~流水号",
    "~序号",
    "~编号",
    "~批次",
    "~产品",
    "~机构",
    "~网点",
    "~开户行",
    "~品牌",
    "~用户名",
    "~登录名",
)
# Prefixes that make a "name" column something other than a person's name.
NOT_PERSON = (
    "branch",
    "product",
    "login",
    "company",
    "bank",
    "file",
    "table",
    "org",
    "user",
    "corp",
    "shop",
    "store",
    "brand",
    "qy",
    "~机构",
    "~产品",
    "~公司",
    "~企业",
    "~银行",
    "~网点",
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")


@dataclass(frozen=True)
class NameHit:
    """One piece of name evidence: the hint it matched, how, and its weight."""

    hint: str
    alias: str
    how: str  # "exact" | "token" | "suffix" | "substring"
    weight: float


def tokens(name: str) -> list[str]:
    """Lower-case tokens of a column name (snake, kebab, camel case, spaces)."""
    return [t for t in _SPLIT.split(_CAMEL.sub("_", name).lower()) if t]


def _hit(name: str, aliases: tuple[str, ...]) -> tuple[str, str, float] | None:
    low = name.lower()
    toks = tokens(name)
    joined = "_".join(toks)
    flat = "".join(toks)
    best: tuple[str, str, float] | None = None
    for a in aliases:
        if a.startswith("~"):
            if a[1:] in low:
                cand = (a[1:], "substring", 0.8)
            else:
                continue
        elif a.startswith("*"):
            suf = a[1:]
            if any(t.endswith(suf) and t != suf and len(t) <= len(suf) + 4 for t in toks):
                cand = (suf, "suffix", 0.7)
            else:
                continue
        elif a in (joined, flat):
            cand = (a, "exact", 1.0)
        elif a in toks or ("_" in a and a in joined):
            cand = (a, "token", 0.9)
        else:
            continue
        if best is None or cand[2] > best[2]:
            best = cand
    return best


def name_evidence(name: str) -> list[NameHit]:
    """Every hint the column name supports, strongest first."""
    out = []
    for hint, aliases in HINTS.items():
        h = _hit(name, aliases)
        if h:
            out.append(NameHit(hint, h[0], h[1], h[2]))
    return sorted(out, key=lambda x: -x.weight)


def is_negative(name: str) -> bool:
    """The name says key / code / serial / order / contract (not personal data)."""
    return _hit(name, NEGATIVE) is not None


def not_person(name: str) -> bool:
    """The name qualifies "name" as something else's name (branch, product, company …)."""
    return _hit(name, NOT_PERSON) is not None


def is_ambiguous(hit: NameHit) -> bool:
    """The hit is a word ending only, or an abbreviation with several common readings."""
    return hit.how == "suffix" or hit.alias in AMBIGUOUS


def ambiguous_hints(name: str) -> dict[str, NameHit]:
    """PII type → the name hit supporting it, for the types that only ambiguous hits
    support (``ddh`` → cn_mobile/cn_landline through ``*dh``; ``mobile_dh`` → none)."""
    out: dict[str, NameHit] = {}
    sure: set[str] = set()
    for hit in name_evidence(name):
        for t in GROUPS.get(hit.hint, (hit.hint,)):
            if not is_ambiguous(hit):
                sure.add(t)
            elif t not in out:
                out[t] = hit
    return {t: h for t, h in out.items() if t not in sure}


def type_weights(name: str) -> dict[str, tuple[float, Msg]]:
    """PII type → (weight, explanation) from the column name, groups expanded."""
    out: dict[str, tuple[float, Msg]] = {}
    for hit in name_evidence(name):
        types = GROUPS.get(hit.hint, (hit.hint,))
        for t in types:
            w = hit.weight
            if t == "person_name" and not_person(name):
                continue
            why = Msg(
                "detect.ev.name",
                name=name,
                how=Msg(f"detect.how.{hit.how}"),
                alias=hit.alias,
                hint=hit.hint,
            )
            if t not in out or out[t][0] < w:
                out[t] = (w, why)
    return out
