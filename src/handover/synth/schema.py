"""The loan book's tables: columns, SQL types, keys, CSV encodings and ground truth.

This is the single source for DDL on every target, the CSV/XLSX headers and
``truth.json``. Names mix English, pinyin abbreviations and Chinese, as the systems
of Chinese small-loan companies do.

Truth rule (docs/synth.md): a column's truth is the type of value it holds, whoever
the value belongs to (a branch's landline is ``cn_landline``, an employer's USCC is
``uscc``); ``None`` for internal codes, keys, labels and C1 data (opening date,
branch). Loan terms, balances, schedules, classification and overdue facts are
``credit_info``; money that moved (repayment flows) is ``transaction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Truth = str | dict[str, list[str]] | None

PII_TYPES = (
    "cn_resident_id",
    "cn_mobile",
    "cn_landline",
    "bank_card",
    "uscc",
    "passport",
    "hk_macau_permit",
    "taiwan_permit",
    "email",
    "ip_address",
    "licence_plate",
    "person_name",
    "address",
    "birth_date",
    "gender",
    "income",
    "credit_info",
    "transaction",
    "account_number",
    "password_hash",
    "pin",
    "cvn",
    "auth_token",
    # additions this data needs (KYC attributes of a borrower, JR/T 0171 C2):
    "employer",
    "marital_status",
    "education",
)


@dataclass(frozen=True)
class Column:
    """One column: name, portable SQL type, ground truth, nullability."""

    name: str
    type: str  # bigint | int | smallint | varchar(n) | text | date | timestamp | decimal(p,s)
    truth: Truth = None
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """One table with its primary key, foreign keys and CSV encoding."""

    name: str
    title: str
    columns: tuple[Column, ...]
    pk: tuple[str, ...]
    fks: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = ()
    csv_encoding: str = "utf-8"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def C(name: str, type_: str, truth: Truth = None, nullable: bool = False) -> Column:
    """Shorthand for a column."""
    return Column(name, type_, truth, nullable)


ID_MIXED: Truth = {"mixed": ["cn_resident_id", "hk_macau_permit", "taiwan_permit", "passport"]}
NOTE_TYPES = sorted(
    ["person_name", "cn_mobile", "cn_landline", "cn_resident_id", "address", "bank_card"]
)

TABLES: tuple[Table, ...] = (
    Table(
        "org_branch",
        "机构网点",
        (
            C("branch_code", "varchar(8)"),
            C("branch_name", "varchar(60)"),
            C("address", "varchar(120)", "address"),
            C("phone", "varchar(20)", "cn_landline"),
            C("opened_on", "date"),
        ),
        pk=("branch_code",),
    ),
    Table(
        "sys_user",
        "系统用户(员工)",
        (
            C("user_id", "int"),
            C("login_name", "varchar(32)"),
            C("real_name", "varchar(20)", "person_name"),
            C("mobile", "varchar(20)", "cn_mobile"),
            C("email", "varchar(64)", "email"),
            C("branch_code", "varchar(8)"),
            C("role", "varchar(20)"),
            C("password_hash", "varchar(128)", "password_hash"),
            C("trade_pin", "varchar(8)", "pin"),
            C("api_token", "varchar(64)", "auth_token", nullable=True),
            C("last_login_ip", "varchar(40)", "ip_address", nullable=True),
            C("status", "varchar(8)"),
            C("created_at", "timestamp"),
        ),
        pk=("user_id",),
        fks=((("branch_code",), "org_branch", ("branch_code",)),),
    ),
    Table(
        "login_log",
        "登录日志",
        (
            C("log_id", "bigint"),
            C("user_id", "int"),
            C("login_time", "timestamp"),
            C("login_ip", "varchar(40)", "ip_address"),
            C("result", "varchar(16)"),
        ),
        pk=("log_id",),
        fks=((("user_id",), "sys_user", ("user_id",)),),
        csv_encoding="gbk",
    ),
    Table(
        "qy_info",
        "企业信息(工作单位/企业借款人)",
        (
            C("qybh", "bigint"),
            C("qymc", "varchar(80)"),
            C("tyshxydm", "varchar(18)", "uscc"),
            C("qylx", "varchar(20)"),
            C("fddbr", "varchar(20)", "person_name"),
            C("zcdz", "varchar(120)", "address"),
            C("lxdh", "varchar(20)", "cn_landline", nullable=True),
            C("hy", "varchar(30)"),
            C("zczb", "decimal(16,2)"),
            C("clrq", "date"),
        ),
        pk=("qybh",),
        csv_encoding="gb18030",
    ),
    Table(
        "cust_info",
        "客户信息",
        (
            C("khbh", "bigint"),
            C("khxm", "varchar(20)", "person_name"),
            C("xb", "varchar(4)", "gender"),
            C("csrq", "date", "birth_date"),
            C("zjlx", "varchar(16)"),
            C("zjhm", "varchar(32)", ID_MIXED),
            C("sjhm", "varchar(32)", "cn_mobile"),
            C("gddh", "varchar(20)", "cn_landline", nullable=True),
            C("dzyx", "varchar(64)", "email", nullable=True),
            C("hjdz", "varchar(120)", "address"),
            C("jtdz", "varchar(120)", "address"),
            C("qybh", "bigint", nullable=True),
            C("gzdw", "varchar(80)", "employer", nullable=True),
            C("ysr", "decimal(12,2)", "income"),
            C("hyzk", "varchar(8)", "marital_status"),
            C("xl", "varchar(12)", "education"),
            C("khrq", "date"),
            C("jgdm", "varchar(8)"),
            C("khjl", "int"),
            C("cjsj", "timestamp"),
        ),
        pk=("khbh",),
        fks=(
            (("qybh",), "qy_info", ("qybh",)),
            (("jgdm",), "org_branch", ("branch_code",)),
            (("khjl",), "sys_user", ("user_id",)),
        ),
        csv_encoding="gbk",
    ),
    Table(
        "yhk_info",
        "客户银行卡",
        (
            C("kid", "bigint"),
            C("khbh", "bigint"),
            C("yhkh", "varchar(19)", "bank_card"),
            C("khh", "varchar(20)"),
            C("ylsjh", "varchar(32)", "cn_mobile"),
            C("cvn2", "varchar(3)", "cvn", nullable=True),
            C("sfmr", "smallint"),
            C("bdrq", "date"),
        ),
        pk=("kid",),
        fks=((("khbh",), "cust_info", ("khbh",)),),
    ),
    Table(
        "emergency_contact",
        "紧急联系人",
        (
            C("联系人编号", "bigint"),
            C("客户编号", "bigint"),
            C("联系人姓名", "varchar(20)", "person_name"),
            C("关系", "varchar(8)"),
            C("联系电话", "varchar(32)", "cn_mobile"),
        ),
        pk=("联系人编号",),
        fks=((("客户编号",), "cust_info", ("khbh",)),),
        csv_encoding="utf-8-sig",
    ),
    Table(
        "loan_iou",
        "借据",
        (
            C("iou_id", "bigint"),
            C("iou_no", "varchar(24)"),
            C("contract_no", "varchar(18)"),
            C("loan_acct_no", "varchar(20)", "account_number"),
            C("cust_id", "bigint"),
            C("corp_id", "bigint", nullable=True),
            C("product", "varchar(20)"),
            C("loan_amount", "decimal(14,2)", "credit_info"),
            C("annual_rate", "decimal(6,4)", "credit_info"),
            C("term_months", "smallint", "credit_info"),
            C("repay_method", "varchar(12)", "credit_info"),
            C("guarantee_type", "varchar(4)", "credit_info"),
            C("five_class", "varchar(4)", "credit_info"),
            C("dpd", "int", "credit_info"),
            C("outstanding", "decimal(14,2)", "credit_info"),
            C("status", "varchar(8)", "credit_info"),
            C("disburse_date", "date", "credit_info"),
            C("maturity_date", "date", "credit_info"),
            C("disburse_card", "varchar(19)", "bank_card"),
            C("branch_code", "varchar(8)"),
        ),
        pk=("iou_id",),
        fks=(
            (("cust_id",), "cust_info", ("khbh",)),
            (("corp_id",), "qy_info", ("qybh",)),
            (("branch_code",), "org_branch", ("branch_code",)),
        ),
    ),
    Table(
        "zxsq",
        "征信查询授权",
        (
            C("sqbh", "bigint"),
            C("khbh", "bigint"),
            C("iou_id", "bigint"),
            C("sqsj", "timestamp"),
            C("sqfs", "varchar(12)"),
            C("sqr_xm", "varchar(20)", "person_name"),
            C("sqr_zjhm", "varchar(32)", ID_MIXED),
            C("qm_ip", "varchar(40)", "ip_address", nullable=True),
            C("cxyy", "varchar(12)"),
            C("zxpf", "smallint", "credit_info"),
            C("yqzhs", "smallint", "credit_info"),
        ),
        pk=("sqbh",),
        fks=(
            (("khbh",), "cust_info", ("khbh",)),
            (("iou_id",), "loan_iou", ("iou_id",)),
        ),
    ),
    Table(
        "loan_guarantor",
        "保证人",
        (
            C("guarantor_id", "bigint"),
            C("iou_id", "bigint"),
            C("name", "varchar(20)", "person_name"),
            C("sfzh", "varchar(32)", "cn_resident_id"),
            C("mobile", "varchar(32)", "cn_mobile"),
            C("relation", "varchar(8)"),
            C("address", "varchar(120)", "address"),
            C("guarantee_amount", "decimal(14,2)", "credit_info"),
        ),
        pk=("guarantor_id",),
        fks=((("iou_id",), "loan_iou", ("iou_id",)),),
    ),
    Table(
        "dzyw",
        "抵质押物",
        (
            C("dzywbh", "bigint"),
            C("jjid", "bigint"),
            C("yplx", "varchar(8)"),
            C("cphm", "varchar(10)", "licence_plate", nullable=True),
            C("clpp", "varchar(20)", nullable=True),
            C("fcdz", "varchar(120)", "address", nullable=True),
            C("pgjz", "decimal(14,2)", "credit_info"),
            C("syqr", "varchar(20)", "person_name"),
        ),
        pk=("dzywbh",),
        fks=((("jjid",), "loan_iou", ("iou_id",)),),
    ),
    Table(
        "hkjh",
        "还款计划",
        (
            C("jjid", "bigint"),
            C("qc", "smallint"),
            C("yhrq", "date", "credit_info"),
            C("yhbj", "decimal(14,2)", "credit_info"),
            C("yhlx", "decimal(14,2)", "credit_info"),
            C("zt", "varchar(8)", "credit_info"),
        ),
        pk=("jjid", "qc"),
        fks=((("jjid",), "loan_iou", ("iou_id",)),),
    ),
    Table(
        "hkls",
        "还款流水",
        (
            C("流水号", "bigint"),
            C("借据ID", "bigint"),
            C("期次", "smallint"),
            C("还款时间", "timestamp", "transaction"),
            C("还款金额", "decimal(14,2)", "transaction"),
            C("本金", "decimal(14,2)", "transaction"),
            C("利息", "decimal(14,2)", "transaction"),
            C("罚息", "decimal(14,2)", "transaction"),
            C("还款渠道", "varchar(12)", "transaction"),
            C("还款卡号", "varchar(19)", "bank_card", nullable=True),
            C("订单号", "varchar(11)", nullable=True),
        ),
        pk=("流水号",),
        fks=((("借据ID",), "loan_iou", ("iou_id",)),),
        csv_encoding="gb18030",
    ),
    Table(
        "csjl",
        "催收记录",
        (
            C("jlbh", "bigint"),
            C("jjid", "bigint"),
            C("cssj", "timestamp"),
            C("csy", "int"),
            C("csfs", "varchar(8)"),
            C("csnr", "text", {"free_text": NOTE_TYPES}),
            C("cnhkrq", "date", "credit_info", nullable=True),
        ),
        pk=("jlbh",),
        fks=(
            (("jjid",), "loan_iou", ("iou_id",)),
            (("csy",), "sys_user", ("user_id",)),
        ),
        csv_encoding="gbk",
    ),
    Table(
        "dr_khmd_2019",
        "2019年导入客户名单(Excel)",
        (
            C("序号", "bigint"),
            C("客户姓名", "varchar(20)", "person_name"),
            C("身份证号", "varchar(32)", "cn_resident_id"),
            C("手机号码", "varchar(32)", "cn_mobile"),
            C("意向金额", "decimal(12,2)", "credit_info"),
            C("来源渠道", "varchar(12)"),
            C("导入时间", "timestamp"),
        ),
        pk=("序号",),
        csv_encoding="gbk",
    ),
)

BY_NAME = {t.name: t for t in TABLES}


def truth() -> dict[str, dict[str, Truth]]:
    """Ground truth ``{table: {column: type | None | {"mixed"|"free_text": [...]}}}``."""
    return {t.name: {c.name: c.truth for c in t.columns} for t in TABLES}
