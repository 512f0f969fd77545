"""The assessment document (GB/T 39335-2020 clause 5): a draft pre-filled from what
handover holds, edits that make new versions, and the checks before submission.

A document is plain JSON data. Texts handover writes are ``[zh-CN, en]`` pairs; texts a
person writes are kept as written. Pre-filled levels are suggestions by the rules below
and say so (``prefilled``); the assessor confirms or changes them by editing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

from handover.crypto import sha256_hex
from handover.errors import BadInput
from handover.i18n import Msg
from handover.ledger.canonical import canonical_json_of
from handover.pia.evidence import Evidence
from handover.pia.method import Method, load_method

SCHEMA = "handover.pia/1"
STANDARD = "GB/T 39335-2020"
TREATMENTS = ("reduce", "accept", "avoid", "transfer")
MEASURE_STATUS = ("done", "planned")
REVIEW_DAYS = 90  # default time to a risk's first review

Pair = list[str]


def _pair(zh: str, en: str) -> Pair:
    return [zh, en]


# --- necessity (5.1; PIPL Art. 55) --------------------------------------------------------

TRIGGERS: dict[str, tuple[str, Pair]] = {
    "sensitive": (
        "PIPL Art. 55(1)",
        _pair("处理敏感个人信息", "processing sensitive personal information"),
    ),
    "automated_decision": (
        "PIPL Art. 55(2)",
        _pair("利用个人信息进行自动化决策", "automated decision-making with personal information"),
    ),
    "provide_to_processor": (
        "PIPL Art. 55(3)",
        _pair(
            "向其他个人信息处理者提供个人信息",
            "providing personal information to another processor",
        ),
    ),
    "entrusted": (
        "PIPL Art. 55(3)",
        _pair("委托处理个人信息", "entrusting the processing of personal information"),
    ),
    "cross_border": (
        "PIPL Art. 55(4)",
        _pair("向境外提供个人信息", "providing personal information abroad"),
    ),
}


def _necessity(ev: Evidence, data_map: dict[str, Any]) -> dict[str, Any]:
    scans = [e.seq for e in ev.of("scan.run")][-1:]
    vendors = [e.seq for e in ev.of("governance.vendor.register")]
    found = {
        "sensitive": (data_map["totals"]["sensitive_columns"] > 0, scans),
        # The transfer itself: the seller provides its customers' information to the buyer.
        "provide_to_processor": (ev.transfer is not None, []),
        "entrusted": (bool(ev.vendors), vendors),
        "automated_decision": (False, []),
        "cross_border": (False, []),
    }
    triggers = {
        key: {"applies": found[key][0], "basis": basis, "text": text, "evidence": found[key][1]}
        for key, (basis, text) in TRIGGERS.items()
    }
    return {
        "triggers": triggers,
        "required": any(t["applies"] for t in triggers.values()),
        "note": "",
    }


# --- data map (5.3) -----------------------------------------------------------------------


def data_map(inventory: dict[str, Any] | None) -> dict[str, Any]:
    """Tables, PII columns, types, tiers, levels and record counts of the stored scan."""
    if inventory is None:
        return {"scan_id": None, "source": None, "tables": [], "totals": _totals([])}
    tables = []
    for tb in inventory.get("tables", []):
        cols = tb.get("columns", [])
        pii = [c for c in cols if c.get("primary")]
        tiers = Counter(str(c.get("tier")) for c in cols if c.get("tier"))
        levels = [int(c["level"]) for c in cols if isinstance(c.get("level"), int)]
        types = sorted({str(c["primary"]) for c in pii})
        tables.append(
            {
                "name": tb["name"],
                "rows": tb.get("rows"),
                "columns": len(cols),
                "pii_columns": len(pii),
                "sensitive_columns": sum(1 for c in cols if c.get("sensitive")),
                "tiers": dict(sorted(tiers.items())),
                "max_level": max(levels, default=None),
                "types": types,
                "identifies_people": bool(
                    {"person_name", "cn_resident_id", "passport", "hk_macau_permit"} & set(types)
                ),
                "pii": [
                    {
                        "column": c["name"],
                        "type": c["primary"],
                        "tier": c.get("tier"),
                        "level": c.get("level"),
                        "sensitive": bool(c.get("sensitive")),
                    }
                    for c in pii
                ],
            }
        )
    return {
        "scan_id": inventory.get("scan_id"),
        "source": inventory.get("source"),
        "tables": tables,
        "totals": _totals(tables),
    }


def _totals(tables: list[dict[str, Any]]) -> dict[str, Any]:
    by_tier: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    for tb in tables:
        for c in tb["pii"]:
            if c["tier"]:
                by_tier[str(c["tier"])] += 1
            if c["level"] is not None:
                by_level[str(c["level"])] += 1
    return {
        "tables": len(tables),
        "columns": sum(tb["columns"] for tb in tables),
        "pii_columns": sum(tb["pii_columns"] for tb in tables),
        "sensitive_columns": sum(tb["sensitive_columns"] for tb in tables),
        "records": sum(tb["rows"] or 0 for tb in tables),
        # An upper bound: a person may appear in several tables and several times in one.
        "people_records": sum(tb["rows"] or 0 for tb in tables if tb["identifies_people"]),
        "largest_people_table": max(
            (tb["rows"] or 0 for tb in tables if tb["identifies_people"]), default=0
        ),
        "by_tier": dict(sorted(by_tier.items())),
        "by_level": dict(sorted(by_level.items())),
        "has_c3": by_tier.get("C3", 0) > 0,
    }


# --- processing description -------------------------------------------------------------


def _processing(ev: Evidence) -> dict[str, Any]:
    tr = ev.transfer or {}
    channels: list[Pair] = []
    if ev.of("package.seal"):
        channels.append(_pair("加密封装包(文件)", "sealed encrypted package (files)"))
    if ev.of("migrate.start"):
        channels.append(_pair("数据库到数据库迁移", "database-to-database migration"))
    if ev.of("dd.extract"):
        channels.append(_pair("去标识化尽调数据包", "de-identified due-diligence extract"))
    if not channels:
        channels.append(
            _pair("加密封装包与数据库迁移(计划)", "sealed package and database migration (planned)")
        )

    def party(key: str) -> dict[str, Any] | None:
        p = tr.get(key)
        return dict(p) if isinstance(p, dict) else None

    return {
        "transfer": tr.get("name"),
        "seller": party("seller"),
        "buyer": party("buyer"),
        "advisor": party("advisor"),
        "purpose": tr.get("purpose"),
        "announced": _iso(tr.get("announced")),
        "closing": _iso(tr.get("closing")),
        "channels": channels,
        "subjects": None,
        "note": "",
    }


def _iso(value: Any) -> str | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if value else None


# --- measures (5.8; what handover did) ---------------------------------------------------

SUITES = {"aes": "AES-256-GCM / SHA-256 / Ed25519", "sm": "SM4-GCM / SM3 (GB/T 39786) / Ed25519"}


def _owner(ev: Evidence, role: str, fallback: str = "") -> str:
    return next((p.name for p in ev.people if role in p.roles and p.active), fallback)


def _measures(ev: Evidence, due: str | None) -> list[dict[str, Any]]:
    dpo = _owner(ev, "dpo")
    engineer = _owner(ev, "data_engineer", dpo)
    out: list[dict[str, Any]] = []

    def add(mid: str, kind: str, title: Pair, detail: Pair, seqs: list[int], owner: str) -> None:
        out.append(
            {
                "id": mid,
                "kind": kind,
                "title": title,
                "detail": detail,
                "status": "done" if seqs else "planned",
                "evidence": seqs[:50],
                "owner": owner,
                "due": None if seqs else due,
            }
        )

    seals = ev.of("package.seal")
    suites = sorted({str(e.details.get("suite") or ev.suite) for e in seals}) or [ev.suite]
    suite_text = "; ".join(SUITES.get(s, s) for s in suites)
    add(
        "M1",
        "encryption",
        _pair("加密封装与分级密钥", "encrypted packages, keys per tier"),
        _pair(
            f"算法:{suite_text};C2、C3 列各用独立密钥,密钥由密钥库/HSM 保护;已封装 {len(seals)} 次",
            f"suite: {suite_text}; C2 and C3 columns each under their own key, keys held by the "
            f"keyring/HSM; {len(seals)} package(s) sealed",
        ),
        [e.seq for e in seals],
        engineer,
    )
    active = [g for g in ev.grants if g.state == "active"]
    approvals = [e.seq for e in ev.of("governance.grant.approve")]
    add(
        "M2",
        "access",
        _pair("最小权限授权(双人审批)", "least-privilege grants (maker-checker)"),
        _pair(
            f"有效授权 {len(active)} 项;明文访问可能触及 C3 时需两名审批人",
            f"{len(active)} active grant(s); clear access that may reach C3 needs two approvers",
        ),
        approvals,
        dpo,
    )
    ndas = [e.seq for e in ev.of("governance.nda.add", "governance.nda.sign")]
    add(
        "M3",
        "nda",
        _pair("保密协议", "non-disclosure agreements"),
        _pair(f"已登记保密协议 {len(ev.ndas)} 份", f"{len(ev.ndas)} NDA(s) registered"),
        ndas,
        dpo,
    )
    passed = [e.seq for e in ev.of("governance.training.take") if e.details.get("passed")]
    add(
        "M4",
        "training",
        _pair("个人信息保护培训与考核", "personal information protection training and tests"),
        _pair(f"通过考核 {len(passed)} 人次", f"{len(passed)} passing assessment(s)"),
        passed,
        dpo,
    )
    dd = ev.of("dd.extract")
    ks = sorted({int(e.details["k"]) for e in dd if isinstance(e.details.get("k"), int)})
    add(
        "M5",
        "deidentification",
        _pair(
            "尽调数据去标识化(令牌化、遮蔽、k-匿名)",
            "de-identified due-diligence extract (tokens, masking, k-anonymity)",
        ),
        _pair(
            f"已生成 {len(dd)} 次;k = {', '.join(map(str, ks)) or '-'}",
            f"{len(dd)} extract(s); k = {', '.join(map(str, ks)) or '-'}",
        ),
        [e.seq for e in dd],
        _owner(ev, "dd_analyst", engineer),
    )
    verified = [e.seq for e in ev.of("verify.run") if e.details.get("equal")]
    add(
        "M6",
        "verification",
        _pair("迁移后逐行核验", "row-by-row verification after migration"),
        _pair(f"核验通过 {len(verified)} 次", f"{len(verified)} passing verification(s)"),
        verified,
        _owner(ev, "auditor", engineer),
    )
    certs = ev.of("erase.certificate")
    add(
        "M7",
        "destruction",
        _pair("销毁与销毁证明(NIST SP 800-88)", "destruction with certificates (NIST SP 800-88)"),
        _pair(
            f"已出具销毁证明 {len(certs)} 份;计划:交割后销毁卖方及中间环节全部副本",
            f"{len(certs)} certificate(s) issued; plan: destroy every copy at the seller and "
            "intermediaries after closing",
        ),
        [e.seq for e in certs],
        engineer,
    )
    assessed = [e.seq for e in ev.of("governance.vendor.assess")]
    add(
        "M8",
        "vendor",
        _pair(
            "第三方安全评估与委托处理协议", "vendor security assessment and processing agreement"
        ),
        _pair(f"已登记第三方 {len(ev.vendors)} 家", f"{len(ev.vendors)} vendor(s) registered"),
        assessed,
        dpo,
    )
    # A notice campaign is done once sent (its announcement counts too); the plan once a
    # drill has run it (the rules file is the plan). Until then: planned, owner and date.
    sent = ev.of("notices.campaign.send", "notices.announcement")
    add(
        "M9",
        "notice",
        _pair(
            "向个人告知接收方名称和联系方式(PIPL 第二十二条)",
            "tell individuals the recipient's name and contact (PIPL Art. 22)",
        ),
        _pair(
            f"告知活动发送 {len(ev.of('notices.campaign.send'))} 次,公告 "
            f"{len(ev.of('notices.announcement'))} 次",
            f"{len(ev.of('notices.campaign.send'))} campaign send(s), "
            f"{len(ev.of('notices.announcement'))} announcement(s)",
        ),
        [e.seq for e in sent],
        dpo,
    )
    drills = ev.of("incident.drill.finish")
    add(
        "M10",
        "incident",
        _pair(
            "个人信息安全事件应急预案(PIPL 第五十一条、第五十七条)",
            "incident response plan (PIPL Arts. 51, 57)",
        ),
        _pair(
            f"报告时限规则即预案;已完成演练 {len(drills)} 次",
            f"the deadline rules are the plan; {len(drills)} drill(s) finished",
        ),
        [e.seq for e in drills],
        dpo,
    )
    return out


# --- risks (5.4–5.6) ----------------------------------------------------------------------


def _risks(
    ev: Evidence, method: Method, dm: dict[str, Any], measures: list[dict[str, Any]], today: dt.date
) -> list[dict[str, Any]]:
    done = {m["id"] for m in measures if m["status"] == "done"}
    c3 = bool(dm["totals"]["has_c3"])
    review = (today + dt.timedelta(days=REVIEW_DAYS)).isoformat()
    dpo = _owner(ev, "dpo")
    engineer = _owner(ev, "data_engineer", dpo)

    def lk(needs: tuple[str, ...], without: str, with_: str = "low") -> str:
        return with_ if set(needs) <= done else without

    spec: list[tuple[str, str, Pair, list[str], str, str, tuple[str, ...], str]] = [
        (
            "R1",
            "network",
            _pair(
                "封装包或备份在传输、存储中泄露", "a package or backup leaks in transit or at rest"
            ),
            ["property", "reputation"],
            "severe" if c3 else "high",
            lk(("M1",), "medium"),
            ("M1", "M7"),
            engineer,
        ),
        (
            "R2",
            "people",
            _pair("人员越权或超范围访问明文数据", "staff read clear data beyond their need"),
            ["property", "reputation", "autonomy"],
            "high",
            lk(("M2", "M3", "M4"), "medium"),
            ("M2", "M3", "M4"),
            dpo,
        ),
        (
            "R3",
            "process",
            _pair("尽调数据被重新识别", "the due-diligence extract is re-identified"),
            ["reputation", "discrimination"],
            "high",
            lk(("M5",), "medium"),
            ("M5", "M3"),
            _owner(ev, "dd_analyst", dpo),
        ),
        (
            "R4",
            "process",
            _pair(
                "迁移数据不完整或被篡改,影响个人权益",
                "migrated records are incomplete or altered, harming individuals",
            ),
            ["property", "autonomy"],
            "medium",
            lk(("M6",), "medium"),
            ("M6",),
            engineer,
        ),
        (
            "R5",
            "business",
            _pair("卖方或中间环节保留副本", "copies remain at the seller or intermediaries"),
            ["property", "reputation"],
            "high",
            lk(("M7",), "medium"),
            ("M7", "M8"),
            engineer,
        ),
        (
            "R6",
            "business",
            _pair(
                "个人未获告知或接收方改变处理目的",
                "individuals are not told, or the buyer changes the purpose",
            ),
            ["autonomy"],
            "medium",
            lk(("M9",), "medium"),
            ("M9",),
            dpo,
        ),
        (
            "R7",
            "people",
            _pair("受托第三方处理不当", "a vendor mishandles the data"),
            ["property", "reputation"],
            "high",
            lk(("M8",), "medium"),
            ("M8", "M3"),
            dpo,
        ),
    ]
    return [
        {
            "id": rid,
            "title": title,
            "source": source,
            "rights": rights,
            "impact": impact,
            "likelihood": likelihood,
            "level": method.level(impact, likelihood),
            "measures": list(ms),
            "owner": owner,
            "review_on": review,
            "treatment": "reduce",
            "prefilled": True,
        }
        for rid, source, title, rights, impact, likelihood, ms, owner in spec
    ]


def draft(ev: Evidence, *, title: str, now: dt.datetime) -> dict[str, Any]:
    """A new assessment pre-filled from the inventory, the workspace's transfer, the
    ledger and the governance facts in ``ev``."""
    method = load_method()
    dm = data_map(ev.inventory)
    tr = ev.transfer or {}
    today = ev.day(now)  # the workspace's calendar day, not UTC's
    due = _iso(tr.get("closing")) or (today + dt.timedelta(days=30)).isoformat()
    measures = _measures(ev, due)
    team = [
        {"name": p.name, "role": role}
        for p in ev.people
        if p.active
        for role in ("dpo", "compliance_officer")
        if role in p.roles
    ]
    return {
        "schema": SCHEMA,
        "standard": STANDARD,
        "title": title,
        "method": method.to_json(),
        "prepared_at": now.isoformat(),
        "necessity": _necessity(ev, dm),
        "team": team,
        "signatory": None,
        "processing": _processing(ev),
        "data_map": dm,
        "risks": _risks(ev, method, dm, measures, today),
        "measures": measures,
        "dpo_opinion": None,
        "conclusion": "",
    }


# --- edits ---------------------------------------------------------------------------------

EDITABLE = {
    "title",
    "necessity",
    "team",
    "signatory",
    "processing",
    "risks",
    "measures",
    "conclusion",
}


#: where edits come from, named in a bad value's message: a file's path, or a form's name
#: as a message in the reader's language
Where = str | Msg

#: a risk or measure id an edit may add: it becomes part of the register's code
#: ``PIA<assessment>-<id>`` (at most 40 characters)
NEW_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")


def read_edits(path: Path) -> dict[str, Any]:
    """An edits file (TOML or JSON, by extension); BadInput naming the file when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput.msg("pia.edits_missing", path=path) from None
    except UnicodeDecodeError:
        raise BadInput.msg("pia.edits_bad", path=path, detail=Msg("pia.detail.not_utf8")) from None
    except OSError as exc:
        detail = Msg("pia.detail.unreadable", error=type(exc).__name__)
        raise BadInput.msg("pia.edits_bad", path=path, detail=detail) from None
    try:
        data: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        # The parser's own words carry the line and column of the fault.
        detail = Msg("pia.detail.syntax", error=str(exc).splitlines()[0])
        raise BadInput.msg("pia.edits_bad", path=path, detail=detail) from None
    if not isinstance(data, dict):
        raise BadInput.msg("pia.edits_bad", path=path, detail=Msg("pia.detail.not_table"))
    return data


def _bad(where: Where, field: str, detail: Msg) -> BadInput:
    """The one-line error naming ``where`` and ``field``; ``detail`` says what is wanted,
    in the reader's language."""
    return BadInput.msg("pia.edit_field", where=where, field=field, detail=detail)


def _one_of(allowed: Any) -> Msg:
    return Msg("pia.detail.one_of", allowed=", ".join(allowed))


def _unknown_field(allowed: str) -> Msg:
    return Msg("pia.detail.unknown_field", allowed=allowed)


def _text(value: Any, where: Where, field: str, limit: int = 4000) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _bad(where, field, Msg("pia.detail.text", limit=limit))
    return value.strip()


def _date(value: Any, where: Where, field: str) -> str:
    # A TOML datetime is a datetime, which is also a date: a review or due date is a day,
    # and keeping the time would make it unreadable as a date later (at approval).
    if isinstance(value, dt.datetime):
        raise _bad(where, field, Msg("pia.detail.date_not_time"))
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise _bad(where, field, Msg("pia.detail.date")) from None


def _new_id(where: Where, field: str, value: str) -> None:
    if not NEW_ID.match(value):
        raise _bad(where, field, Msg("pia.detail.new_id"))


def content_sha256(doc: dict[str, Any]) -> str:
    """SHA-256 of what the DPO's opinion speaks to: the document without the opinion and
    without the identity fields a stored version adds (``assessment_id``, ``version``)."""
    body = {k: v for k, v in doc.items() if k not in ("dpo_opinion", "assessment_id", "version")}
    return sha256_hex(canonical_json_of(body))


def with_opinion(
    doc: dict[str, Any], *, by: str, at: dt.datetime, text: str, version: int
) -> dict[str, Any]:
    """``doc`` carrying the DPO's opinion, bound to its content: the opinion is kept as
    ``version`` (the version it makes) with the :func:`content_sha256` it was given on."""
    out: dict[str, Any] = json.loads(json.dumps(doc))
    out["dpo_opinion"] = {
        "by": by,
        "at": at.isoformat(),
        "text": text,
        "version": version,
        "content_sha256": content_sha256(doc),
    }
    return out


def opinion_current(doc: dict[str, Any]) -> bool:
    """Whether ``doc`` has a DPO opinion given on exactly its present content."""
    op = doc.get("dpo_opinion")
    return isinstance(op, dict) and op.get("content_sha256") == content_sha256(doc)


def apply_edits(doc: dict[str, Any], edits: dict[str, Any], where: Where) -> dict[str, Any]:
    """A new document: ``doc`` with ``edits`` applied (see docs/pia.md, "Editing"); every
    value is checked and a bad one is a BadInput naming ``where`` and the field. An edit
    that changes the content drops the DPO's opinion: it spoke to the content before
    (the version that holds it keeps it)."""
    method = load_method()
    out: dict[str, Any] = json.loads(json.dumps(doc))
    unknown = sorted(set(edits) - EDITABLE)
    if unknown:
        raise _bad(
            where,
            unknown[0],
            Msg("pia.detail.unknown_section", allowed=", ".join(sorted(EDITABLE))),
        )
    if "title" in edits:
        out["title"] = _text(edits["title"], where, "title", 300) or out["title"]
    if "conclusion" in edits:
        out["conclusion"] = _text(edits["conclusion"], where, "conclusion")
    if "signatory" in edits:
        out["signatory"] = _text(edits["signatory"], where, "signatory", 64) or None
    if "team" in edits:
        team = edits["team"]
        if not isinstance(team, list) or not team:
            raise _bad(where, "team", Msg("pia.detail.team"))
        out["team"] = [
            {
                "name": _text(
                    m.get("name") if isinstance(m, dict) else None, where, f"team[{i}].name", 64
                ),
                "role": _text(
                    m.get("role", "") if isinstance(m, dict) else None,
                    where,
                    f"team[{i}].role",
                    100,
                ),
            }
            for i, m in enumerate(team)
        ]
    if "necessity" in edits:
        nec = edits["necessity"]
        if not isinstance(nec, dict):
            raise _bad(where, "necessity", Msg("pia.detail.table"))
        for key, value in nec.items():
            if key == "note":
                out["necessity"]["note"] = _text(value, where, "necessity.note")
            elif key in out["necessity"]["triggers"]:
                if not isinstance(value, bool):
                    raise _bad(where, f"necessity.{key}", Msg("pia.detail.bool"))
                out["necessity"]["triggers"][key]["applies"] = value
            else:
                allowed = ", ".join(["note", *out["necessity"]["triggers"]])
                raise _bad(where, f"necessity.{key}", _unknown_field(allowed))
        out["necessity"]["required"] = any(
            t["applies"] for t in out["necessity"]["triggers"].values()
        )
    if "processing" in edits:
        pr = edits["processing"]
        if not isinstance(pr, dict):
            raise _bad(where, "processing", Msg("pia.detail.table"))
        for key, value in pr.items():
            if key == "subjects":
                # the ledger's JSON holds integers up to 2**53 exactly (its detail refused a
                # larger one, naming neither the file nor the field)
                if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**53:
                    raise _bad(where, "processing.subjects", Msg("pia.detail.count"))
                out["processing"]["subjects"] = value
            elif key == "note":
                out["processing"]["note"] = _text(value, where, "processing.note")
            elif key == "channels":
                if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                    raise _bad(where, "processing.channels", Msg("pia.detail.texts"))
                out["processing"]["channels"] = [[c, c] for c in value]
            else:
                raise _bad(where, f"processing.{key}", _unknown_field("subjects, note, channels"))
    if "measures" in edits:
        _edit_measures(out, edits["measures"], where)
    if "risks" in edits:
        _edit_risks(out, edits["risks"], where, method)
    if out.get("dpo_opinion") and content_sha256(out) != content_sha256(doc):
        out["dpo_opinion"] = None
    return out


def _among(value: Any, allowed: Any) -> bool:
    """``value`` is one of the names ``allowed`` (a list or table from the file is not,
    and is never looked up: it cannot be hashed)."""
    return isinstance(value, str) and value in allowed


def _edit_measures(out: dict[str, Any], raw: Any, where: Where) -> None:
    if not isinstance(raw, dict):
        raise _bad(where, "measures", Msg("pia.detail.measures_table"))
    by_id = {m["id"]: m for m in out["measures"]}
    for mid, fields in raw.items():
        if not isinstance(fields, dict):
            raise _bad(where, f"measures.{mid}", Msg("pia.detail.table"))
        m = by_id.get(mid)
        if m is None:
            _new_id(where, f"measures.{mid}", mid)
            m = {
                "id": mid,
                "kind": "other",
                "title": ["", ""],
                "detail": ["", ""],
                "status": "planned",
                "evidence": [],
                "owner": "",
                "due": None,
            }
            if "title" not in fields:
                raise _bad(where, f"measures.{mid}.title", Msg("pia.detail.new_measure_title"))
            out["measures"].append(m)
            by_id[mid] = m
        for key, value in fields.items():
            f = f"measures.{mid}.{key}"
            if key == "owner":
                m["owner"] = _text(value, where, f, 64)
            elif key == "due":
                m["due"] = _date(value, where, f)
            elif key == "status":
                if not _among(value, MEASURE_STATUS):
                    raise _bad(where, f, _one_of(MEASURE_STATUS))
                m["status"] = value
            elif key in ("title", "detail"):
                text = _text(value, where, f, 500)
                m[key] = [text, text]
            else:
                raise _bad(where, f, _unknown_field("owner, due, status, title, detail"))


RISK_FIELDS = "impact, likelihood, source, rights, measures, owner, review_on, treatment, title"


def _edit_risks(out: dict[str, Any], raw: Any, where: Where, method: Method) -> None:
    if not isinstance(raw, dict):
        raise _bad(where, "risks", Msg("pia.detail.risks_table"))
    by_id = {r["id"]: r for r in out["risks"]}
    measure_ids = {m["id"] for m in out["measures"]}
    for rid, fields in raw.items():
        if not isinstance(fields, dict):
            raise _bad(where, f"risks.{rid}", Msg("pia.detail.table"))
        r = by_id.get(rid)
        if r is None:
            _new_id(where, f"risks.{rid}", rid)
            if "title" not in fields:
                raise _bad(where, f"risks.{rid}.title", Msg("pia.detail.new_risk_title"))
            r = {
                "id": rid,
                "title": ["", ""],
                "source": "process",
                "rights": [],
                "impact": "medium",
                "likelihood": "medium",
                "level": "",
                "measures": [],
                "owner": "",
                "review_on": None,
                "treatment": "reduce",
            }
            out["risks"].append(r)
            by_id[rid] = r
        for key, value in fields.items():
            f = f"risks.{rid}.{key}"
            if key in ("impact", "likelihood"):
                scale = method.impact if key == "impact" else method.likelihood
                if not _among(value, scale):
                    raise _bad(where, f, _one_of(scale))
                r[key] = value
            elif key == "source":
                if not _among(value, method.sources):
                    raise _bad(where, f, _one_of(method.sources))
                r["source"] = value
            elif key == "rights":
                if not isinstance(value, list) or any(not _among(x, method.rights) for x in value):
                    raise _bad(
                        where, f, Msg("pia.detail.list_of", allowed=", ".join(method.rights))
                    )
                r["rights"] = list(value)
            elif key == "measures":
                if not isinstance(value, list) or any(not _among(x, measure_ids) for x in value):
                    raise _bad(where, f, Msg("pia.detail.measure_ids"))
                r["measures"] = list(value)
            elif key == "owner":
                r["owner"] = _text(value, where, f, 64)
            elif key == "review_on":
                r["review_on"] = _date(value, where, f)
            elif key == "treatment":
                if not _among(value, TREATMENTS):
                    raise _bad(where, f, _one_of(TREATMENTS))
                r["treatment"] = value
            elif key == "title":
                text = _text(value, where, f, 300)
                r["title"] = [text, text]
            else:
                raise _bad(where, f, _unknown_field(RISK_FIELDS))
            if key in ("impact", "likelihood"):
                r["prefilled"] = False
        r["level"] = method.level(r["impact"], r["likelihood"])


def register_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """What approving ``doc`` (a stored version) enters in the risk register, per risk: id,
    title and controls as ``[zh-CN, en]`` pairs, scores, owner, the review date as a date.
    Meant to run before anything is written: a value the register cannot hold (a review
    date that is not a day, e.g. one kept with a time) is a BadInput naming the field."""

    def bad(field: str, detail: Msg) -> BadInput:
        return BadInput.msg(
            "pia.register_field",
            id=doc.get("assessment_id", "-"),
            version=doc.get("version", "-"),
            field=field,
            detail=detail,
        )

    measures = {m["id"]: m for m in doc.get("measures", []) if isinstance(m, dict)}
    out = []
    for r in doc.get("risks", []):
        rid = str(r.get("id", ""))
        if not NEW_ID.match(rid):
            raise bad(f"risks.{rid}", Msg("pia.detail.new_id"))
        for key in ("source", "impact", "likelihood", "level"):
            if not isinstance(r.get(key), str) or not r[key]:
                raise bad(f"risks.{rid}.{key}", Msg("pia.detail.missing"))
        review = r.get("review_on")
        try:
            if not isinstance(review, str):
                raise ValueError(review)
            review_on = dt.date.fromisoformat(review)
        except ValueError:
            raise bad(f"risks.{rid}.review_on", Msg("pia.detail.date")) from None
        ids = [mid for mid in r.get("measures", []) if mid in measures]
        out.append(
            {
                "id": rid,
                "title": _pair_of(r.get("title")),
                "controls": [
                    [f"{mid} {_pair_of(measures[mid].get('title'))[i]}" for mid in ids]
                    for i in (0, 1)
                ],
                "source": r["source"],
                "impact": r["impact"],
                "likelihood": r["likelihood"],
                "level": r["level"],
                "owner": str(r.get("owner") or ""),
                "review_on": review_on,
            }
        )
    return out


def _pair_of(value: Any) -> Pair:
    """A ``[zh-CN, en]`` pair from a kept text (a pair, or one text for both)."""
    if isinstance(value, list) and len(value) >= 2:
        return [str(value[0]), str(value[1])]
    return [str(value or "")] * 2


def gaps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """What stops the document from being submitted: (message key, values) per gap. The
    DPO's opinion must have been given on this very content (:func:`opinion_current`)."""
    out: list[tuple[str, dict[str, Any]]] = []
    if not doc.get("signatory"):
        out.append(("pia.gap.signatory", {}))
    if not doc.get("team"):
        out.append(("pia.gap.team", {}))
    op = doc.get("dpo_opinion")
    if not op:
        out.append(("pia.gap.opinion", {}))
    elif not opinion_current(doc):
        given = op.get("version") if isinstance(op, dict) else None
        out.append(("pia.gap.opinion_stale", {"version": given or "-"}))
    if not doc.get("data_map", {}).get("tables"):
        out.append(("pia.gap.data_map", {}))
    for r in doc.get("risks", []):
        if not r.get("owner") or not r.get("review_on"):
            out.append(("pia.gap.risk", {"id": r["id"]}))
    for m in doc.get("measures", []):
        if m.get("status") == "planned" and (not m.get("owner") or not m.get("due")):
            out.append(("pia.gap.measure", {"id": m["id"]}))
    return out
