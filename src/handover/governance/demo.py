"""The demo cast: people, NDAs, training, a vendor and approved grants, so that every
stage of ``make demo`` runs under real access control (docs/governance.md)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handover.governance.policy import local_date, now_utc

if TYPE_CHECKING:
    from handover.governance.training import Ask, AskedQuestion
    from handover.workspace import Workspace

VENDOR_ORG = "示例数据迁移服务有限公司"


@dataclass(frozen=True)
class CastMember:
    """One person of the demo cast; the password is for the demo workspace only."""

    name: str
    display_name: str
    side: str
    roles: tuple[str, ...]
    password: str


DEMO_CAST: tuple[CastMember, ...] = (
    CastMember("wangmin", "王敏", "seller", ("dpo", "compliance_officer"), "wangmin-demo-2026"),
    CastMember("zhoujie", "周杰", "seller", ("approver",), "zhoujie-demo-2026"),
    CastMember("zhaolei", "赵磊", "seller", ("data_engineer",), "zhaolei-demo-2026"),
    CastMember("liqiang", "李强", "buyer", ("dpo", "approver"), "liqiang-demo-2026"),
    CastMember("chenjing", "陈静", "buyer", ("dd_analyst",), "chenjing-demo-2026"),
    CastMember("liuyang", "刘洋", "advisor", ("auditor",), "liuyang-demo-2026"),
    CastMember("huangtao", "黄涛", "vendor", ("vendor_staff",), "huangtao-demo-2026"),
)

DEMO_VENDOR_ANSWERS = {
    "encryption": "both",
    "access_control": "mfa_least_privilege",
    "incident_response": "plan_tested",
    "certifications": ["iso27001", "mlps3"],
    "sub_processors": "none",
    "data_location": "mainland",
}

NDA_TEXT = """保密协议(演示)/ Non-disclosure agreement (demo)

甲方(卖方):{seller}
乙方(买方):{buyer}
丙方(交易顾问):{advisor}

1. 保密信息:卖方借款人的个人信息及个人金融信息(JR/T 0171-2020 C1、C2、C3 类),以及
   尽职调查、交割与迁移过程中接触的全部数据。
2. 义务:仅为本次交易之目的使用;最小必要;不得复制、外传;按 handover 授权访问;
   交易终止或完成后删除并出具删除证明。
3. 违约责任:见第 9 条;违约方赔偿全部损失并承担《个人信息保护法》下的责任。
生效日 {effective},到期日 {expires}。
"""


@functools.lru_cache(maxsize=16)
def _demo_hash(password: str) -> str:
    # The demo passwords are public (docs/governance.md); hashing each once per process
    # keeps demo workspaces quick to create in tests without weakening anything real.
    from handover.crypto.passwords import hash_password

    return hash_password(password)


def _oracle(ws: Workspace) -> Ask:
    from handover.governance.training import get_course

    course = get_course(ws, "pipl-jrt0171")
    lang = ws.settings.lang
    right = {q.prompt[lang]: q.options[q.answer][lang] for q in course.questions}

    def ask(q: AskedQuestion) -> str:
        return "ABCDEFGH"[q.options.index(right[q.prompt])]

    return ask


def seed_demo_cast(ws: Workspace, *, now: dt.datetime | None = None) -> None:
    """Create the demo cast in a demo workspace: organisations, people with passwords,
    the transaction NDA and the vendor's data-processing agreement, passed training, an
    assessed vendor, and grants approved by two approvers where clear access needs it."""
    from handover.errors import BadInput
    from handover.governance.grants import approve_grant, request_grant
    from handover.governance.ndas import add_nda
    from handover.governance.people import add_org, add_person
    from handover.governance.training import ensure_builtin_courses, take_course
    from handover.governance.vendors import assess_vendor, register_vendor

    if not ws.settings.demo:
        raise BadInput.msg("gov.demo_only", path=ws.path)
    at = now_utc(now)
    tr = ws.settings.transfer
    assert tr is not None
    orgs = {
        "seller": tr.seller.name,
        "buyer": tr.buyer.name,
        "advisor": tr.advisor.name if tr.advisor else "示例交易顾问",
        "vendor": VENDOR_ORG,
    }
    for kind in ("seller", "buyer", "advisor"):
        add_org(ws, orgs[kind], kind, now=at)
    dpo = DEMO_CAST[0]
    for m in DEMO_CAST:
        if m.side == "vendor":
            continue
        add_person(
            ws,
            m.name,
            m.display_name,
            orgs[m.side],
            m.roles,
            m.password,
            actor=None if m is dpo else dpo.name,
            now=at,
            password_hash=_demo_hash(m.password),
        )
    today = local_date(ws, at)
    effective, expires = today - dt.timedelta(days=30), today + dt.timedelta(days=365)
    folder = ws.path / "governance"
    folder.mkdir(exist_ok=True)
    doc = folder / "demo-nda-transaction.txt"
    doc.write_text(
        NDA_TEXT.format(
            seller=orgs["seller"],
            buyer=orgs["buyer"],
            advisor=orgs["advisor"],
            effective=effective,
            expires=expires,
        ),
        encoding="utf-8",
    )
    add_nda(
        ws,
        title="交易保密协议 / Transaction NDA",
        parties=[orgs["seller"], orgs["buyer"], orgs["advisor"]],
        signatories=[m.name for m in DEMO_CAST if m.side != "vendor"],
        scope="*",
        purposes=["*"],
        duties="仅为本次交易使用;最小必要;按授权访问;完成后删除 / use for this deal only; "
        "least data; access through grants; delete afterwards",
        liability_clause="第 9 条 违约责任 / clause 9 liability",
        signed_on=effective,
        effective_on=effective,
        expires_on=expires,
        document=doc,
        actor=dpo.name,
        now=at,
    )
    dpa = folder / "demo-dpa-vendor.txt"
    dpa.write_text(
        f"数据处理委托协议(演示):{orgs['seller']} 委托 {VENDOR_ORG} 进行数据迁移与销毁。\n"
        "Data processing agreement (demo): migration and shredding only.\n",
        encoding="utf-8",
    )
    add_org(ws, VENDOR_ORG, "vendor", actor=dpo.name, now=at)
    vendor_staff = [m for m in DEMO_CAST if m.side == "vendor"]
    for m in vendor_staff:
        add_person(
            ws,
            m.name,
            m.display_name,
            VENDOR_ORG,
            m.roles,
            m.password,
            actor=dpo.name,
            now=at,
            password_hash=_demo_hash(m.password),
        )
    migration = "数据迁移与销毁 / migration and shredding"
    dpa_nda = add_nda(
        ws,
        title="数据处理委托协议 / Data processing agreement",
        parties=[orgs["seller"], VENDOR_ORG],
        signatories=[m.name for m in vendor_staff],
        scope="*",
        purposes=[migration],
        duties="仅按委托迁移与销毁;不得保留副本 / migrate and shred as instructed; keep no copy",
        liability_clause="第 7 条 / clause 7",
        signed_on=effective,
        effective_on=effective,
        expires_on=expires,
        document=dpa,
        actor=dpo.name,
        now=at,
    )
    register_vendor(
        ws,
        VENDOR_ORG,
        services="数据迁移与介质销毁 / data migration and media sanitisation",
        agreement_nda_id=dpa_nda.id,
        actor=dpo.name,
        now=at,
    )
    assess_vendor(ws, VENDOR_ORG, DEMO_VENDOR_ANSWERS, actor=dpo.name, now=at)
    ensure_builtin_courses(ws, now=at)
    ask = _oracle(ws)
    for n, m in enumerate(DEMO_CAST):
        take_course(ws, "pipl-jrt0171", ask, person=m.name, seed=2026 + n, now=at)
    until = at + dt.timedelta(days=180)
    plan = [
        (
            "zhaolei",
            "wangmin",
            "*",
            "clear",
            "交接:封装、迁移、校验与销毁 / handover: seal, migrate, verify, shred",
            (),
            ("zhoujie", "liqiang"),
        ),
        (
            "chenjing",
            "chenjing",
            "*",
            "tokenised",
            "尽职调查 / due diligence",
            ("dd.extract",),
            ("zhoujie",),
        ),
        (
            "liuyang",
            "wangmin",
            "*",
            "clear",
            "独立校验 / independent verification",
            ("verify",),
            ("zhoujie", "liqiang"),
        ),
        (
            "huangtao",
            "wangmin",
            "*",
            "clear",
            migration,
            ("migrate", "verify", "shred", "unseal"),
            ("zhoujie", "liqiang"),
        ),
    ]
    for grantee, maker, scope, mode, purpose, actions, approvers in plan:
        g = request_grant(
            ws,
            grantee,
            scope=scope,
            mode=mode,
            purpose=purpose,
            valid_until=until,
            actions=actions,
            actor=maker,
            now=at,
        )
        for approver in approvers:
            approve_grant(ws, g.id, actor=approver, now=at)


def step_governance(ctx: Any) -> str:
    """Demo step: show the cast's access control at work (one allow, one refuse, both
    ledgered) and summarise people, NDAs in force and active grants."""
    from handover.governance.authorize import authorize
    from handover.governance.grants import list_grants
    from handover.governance.ndas import list_ndas
    from handover.governance.people import list_people
    from handover.i18n import t

    ws = ctx.ws
    allowed = authorize(ws, "chenjing", "dd.extract", "*/tokenised")
    refused = authorize(ws, "chenjing", "dd.extract", "*/clear")
    return t(
        "gov.demo_step",
        ctx.lang,
        people=len(list_people(ws)),
        ndas=sum(n.in_force for n in list_ndas(ws)),
        grants=len(list_grants(ws, state="active")),
        allowed=allowed.reason if allowed.allowed else "-",
        refused=refused.reason if not refused.allowed else "-",
    )
