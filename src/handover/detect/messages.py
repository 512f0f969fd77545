"""User-facing texts of the scan (column evidence and notes), in zh-CN and English.

Evidence and notes are kept as :class:`~handover.i18n.Msg` (key + values) so the
inventory is stored language-neutrally and rendered in the reader's language; notes
stored as plain text (inventories of older versions) are shown as they are.
"""

from __future__ import annotations

from typing import Any

from handover.i18n import Msg, add

# What each recognizer checks, by recognizer key: the English is ``Recognizer.check``;
# :mod:`handover.detect.recognizers` registers both as ``detect.check.<key>``.
CHECKS_ZH = {
    "cn_resident_id_18": "GB 11643 MOD 11-2 校验码、真实出生日期、省级行政区划代码",
    "cn_resident_id_15": "15 位旧身份证号:省级行政区划代码与真实的 19YYMMDD 出生日期",
    "cn_mobile": "11 位数字,号段为在用的移动网络号段",
    "cn_mobile_masked": "脱敏的手机号(138****5678):号段在用,中间四位已隐藏",
    "cn_landline": "区号 010/02x/0xxx + 7-8 位用户号码",
    "bank_card": "16-19 位数字,Luhn 校验,发卡行首位 3-6(银联 62)",
    "uscc": "GB 32100 模 31 校验及内嵌的 GB 11714 组织机构代码校验",
    "passport": "中国护照号码格式(E/G/D/S/P 系列)",
    "hk_macau_permit": "往来港澳通行证 C/W 系列或回乡证 H/M 系列格式",
    "hk_macau_residence": "港澳居民居住证:810000/820000 + GB 11643 校验",
    "taiwan_residence": "台湾居民居住证:830000 + GB 11643 校验",
    "taiwan_permit": "台胞证 8/10 位数字或往来台湾通行证 L/T 系列",
    "email": "RFC 5322 地址格式",
    "ipv4": "点分四段,每段 0-255",
    "ipv6": "8 组十六进制数,或用一个 :: 省略",
    "licence_plate": "省份简称 + 城市字母 + 5-6 位字符(GA 36)",
    "person_name": "以常见姓氏开头的 2-4 个汉字",
    "address": "行政区划词(省/市/区/县)后接街道级词(路/街/村/号 …)",
    "birth_date": "1900 年至今的真实日期",
    "gender": "男/女 或 male/female",
    "gender_code": "单字符代码 0/1/2、M/F",
    "ethnicity": "56 个民族之一(GB/T 3304)",
    "marital_status": "未婚/已婚/离异/丧偶 …",
    "education": "小学 … 博士(学历层次)",
    "password_hash": "bcrypt / argon2 / PBKDF2 / crypt(3) 哈希格式",
    "password_hex": "MD5/SHA-1/SHA-256/SM3 十六进制摘要",
    "auth_token": "JWT、sk_live_/ghp_/xox/AKIA 密钥格式",
    "token_generic": "20 个以上密钥字符集中的字符",
    "pin": "4-6 位数字",
    "cvn": "3-4 位数字",
    "account_number": "6-32 位数字或大写字母",
    "income": "数值",
    "transaction": "任意值(列名表明为交易字段)",
    "credit_info": "任意值(列名表明为贷款/信用字段)",
    "employer": "两个及以上字符的名称",
}

add(
    {
        "detect.join": {"zh-CN": "{a};{b}", "en": "{a}; {b}"},
        "detect.eg": {"zh-CN": ",例:{ex}", "en": " (e.g. {ex})"},
        "detect.eg_inline": {"zh-CN": ",例:{ex}", "en": ", e.g. {ex}"},
        # Column-name evidence.
        "detect.how.exact": {"zh-CN": "完全", "en": "exact"},
        "detect.how.token": {"zh-CN": "按词", "en": "token"},
        "detect.how.suffix": {"zh-CN": "按后缀", "en": "suffix"},
        "detect.how.substring": {"zh-CN": "按子串", "en": "substring"},
        "detect.ev.name": {
            "zh-CN": "列名“{name}”{how}匹配“{alias}”({hint})",
            "en": "name {name!r} {how} match {alias!r} ({hint})",
        },
        "detect.ev.amount_in_table": {
            "zh-CN": "{why};所在表含 {target} 类列,金额归入此类",
            "en": "{why}; an amount in a table of {target} columns",
        },
        "detect.ev.status_beside_terms": {
            "zh-CN": "{why};与贷款条款列相邻的状态(相邻列)",
            "en": "{why}; a status beside loan terms (neighbours)",
        },
        # Value evidence.
        "detect.ev.values_pass": {
            "zh-CN": "{type}:{considered} 个值中 {share:.1%} 通过校验({checks}){eg}",
            "en": "{type}: {share:.1%} of {considered} values pass {checks}{eg}",
        },
        "detect.ev.values_fit": {
            "zh-CN": "{type}:{considered} 个值中 {share:.1%} 符合格式({checks}){eg}",
            "en": "{type}: {share:.1%} of {considered} values fit ({checks}){eg}",
        },
        "detect.ev.neighbours": {
            "zh-CN": "相邻列:同一表中含有同一批人的证件号码或电话号码",
            "en": "neighbours: the table holds IDs/phones of the same people",
        },
        "detect.ev.id_document": {
            "zh-CN": "{type}:证件号码列中 {share:.2%} 的值属于此类{eg}",
            "en": "{type}: {share:.2%} of values in an identity-document column{eg}",
        },
        "detect.ev.mangled": {
            "zh-CN": "{type}:{n} 个被损坏的 {digits} 位数字",
            "en": "{type}: {n} mangled numbers of {digits} digits",
        },
        "detect.ev.name_only_binary": {
            "zh-CN": "没有可检查的文本值(二进制数据):仅按列名判断类型",
            "en": "no text values to check (binary data): type from the name only",
        },
        "detect.ev.name_only_empty": {
            "zh-CN": "没有可检查的值(均为空值或占位值):仅按列名判断类型",
            "en": "no values to check (all null/placeholder): type from the name only",
        },
        "detect.ev.no_pii_binary": {
            "zh-CN": "二进制数据(字节而非文本),列名也不表明个人信息",
            "en": "binary data (bytes, not text) and no PII name",
        },
        "detect.ev.no_pii_empty": {
            "zh-CN": "没有可检查的值(空表、空值或占位值),列名也不表明个人信息",
            "en": "no values to check (empty, null or placeholders) and no PII name",
        },
        "detect.ev.no_pii_none": {
            "zh-CN": "无个人信息:{considered} 个值均不匹配任何识别器",
            "en": "no PII: none of {considered} values matches a recognizer",
        },
        "detect.ev.no_pii_below": {
            "zh-CN": "无个人信息:仅 {share:.1%} 的值形似 {type}{negative};低于阈值,疑似值不予报告",
            "en": "no PII: only {share:.1%} of values look like {type}{negative}; "
            "below the threshold, so look-alike values are not reported",
        },
        "detect.ev.negative_name": {
            "zh-CN": "(列名表明为键/编码/流水号)",
            "en": " (name says key/code/serial)",
        },
        "detect.ev.free_text": {
            "zh-CN": "自由文本:{considered} 个值,平均长度 {mean:.0f},{sentences:.0%} 为语句",
            "en": "free text: {considered} values, mean length {mean:.0f}, "
            "{sentences:.0%} sentence-like",
        },
        "detect.ev.in_cells": {
            "zh-CN": "{type}:{rows} 个单元格中有 {n} 个含此类信息{eg}",
            "en": "{type}: in {n} of {rows} cells{eg}",
        },
        "detect.ev.c1_internal": {
            "zh-CN": "C1:与个人信息一并保存的内部数据(JR/T 0171)",
            "en": "C1: internal data kept with personal records (JR/T 0171)",
        },
        # Notes: problems that do not stop a scan.
        "detect.note.truncated": {
            "zh-CN": "说明:{n} 个单元格超过 1 MiB,仅扫描了前 1 MiB(已截断)",
            "en": "note: {n} cells longer than 1 MiB: only their first 1 MiB was scanned",
        },
        "detect.note.placeholders": {
            "zh-CN": "说明:已排除 {n} 个占位值(无、N/A、0 …)",
            "en": "note: {n} placeholder values (无, N/A, 0 …) left out",
        },
        "detect.note.binary": {
            "zh-CN": "二进制:{n} 个值为字节而非文本,未扫描(按列名分类)",
            "en": "binary: {n} values are bytes, not text: not scanned (classified by name)",
        },
        "detect.note.mangled": {
            "zh-CN": "数字已损坏:{n} 个值为 Excel 科学计数法(例:{example}),"
            "第 15 位之后的数字已丢失",
            "en": "mangled: {n} values are Excel scientific notation (e.g. {example}): "
            "the digits beyond the 15th are already lost",
        },
        "detect.note.contradicted": {
            "zh-CN": "反证:{shaped} 个形似 {type} 的值中有 {failed} 个({share:.1%})"
            "未通过校验({checks};随机数字约 {random:.0%} 不通过);"
            "通过校验的值中约 {chance} 个属偶然,真实占比估计为 {genuine:.1%}",
            "en": "evidence against {type}: {failed} of {shaped} values shaped like it "
            "({share:.1%}) fail its check ({checks}; random digits: {random:.0%}), so about {chance} "
            "of those that pass are chance; estimated genuine share {genuine:.1%}",
        },
        "detect.note.numbering": {
            "zh-CN": "反证:{n} 个形似 {type} 的值是连续编号(占其数值范围的 {density:.1%}),"
            "是序号/流水号而非 {type}",
            "en": "evidence against {type}: the {n} values shaped like it fill "
            "{density:.1%} of the range they span: a numbering (serials), not {type}",
        },
        "detect.note.hint_set_aside": {
            "zh-CN": "列名“{name}”中的“{alias}”有歧义({why}),且值与 {type} 相矛盾:不据此降低阈值",
            "en": "the hint {alias!r} in name {name!r} is ambiguous ({why}) and the values "
            "contradict {type}: it does not lower the bar",
        },
        "detect.ambiguous.reads": {"zh-CN": "可读作 {words}", "en": "read as {words}"},
        "detect.ambiguous.suffix": {
            "zh-CN": "仅词尾为“{alias}”",
            "en": "only the word ending is {alias!r}",
        },
        "detect.note.name_carries": {
            "zh-CN": "列名明确表明 {type}:尽管有反证,仍归为 {type}(置信度已降低)",
            "en": "the name says {type} unambiguously: labelled {type} despite the "
            "evidence against, at a lower confidence",
        },
        "detect.note.masked_only": {
            "zh-CN": "{n} 个值为脱敏后的 {type}{eg}:去标识化的展示形式"
            "(GB/T 35273-2020),仅与明文值一并计入,不单独据此分类",
            "en": "{n} values are masked {type}{eg}: a de-identified display form "
            "(GB/T 35273-2020), counted beside clear values only, not on their own",
        },
        "detect.note.empty_table": {
            "zh-CN": "空表:仅按列名分类",
            "en": "empty table: classified by column names only",
        },
        "detect.note.where": {"zh-CN": "[{where}] {note}", "en": "[{where}] {note}"},
    }
)

# Notes worth a line on screen after a scan (the report lists every note); the ragged
# rows note comes from handover.sources (sources/messages.py).
SCREEN_NOTES = frozenset(
    {
        "detect.note.empty_table",
        "detect.note.mangled",
        "detect.note.truncated",
        "sources.note.ragged",
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
