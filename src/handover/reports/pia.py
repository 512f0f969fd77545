"""Renderings of the impact assessment report (个人信息保护影响评估报告): HTML and PDF,
zh-CN and en.

The signed document is ``pia.json``; these renderings show it for people and embed its
detached signature (key, signature, SHA-256 of the signed bytes). The PDF goes through the
shared recipe with the Chinese font embedded: the report is kept at least three years and
must print the same on any reader.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from handover.i18n import normalize_lang
from handover.reports.certificate import TEMPLATES

_L: dict[str, tuple[str, str]] = {
    "title": ("个人信息保护影响评估报告", "Personal information protection impact assessment"),
    "subtitle": (
        "依据 GB/T 39335-2020《信息安全技术 个人信息安全影响评估指南》及《个人信息保护法》第五十五条、第五十六条",
        "After GB/T 39335-2020 (guidance for personal information security impact assessment) and PIPL Arts. 55–56",
    ),
    "id": ("评估编号", "Assessment"),
    "version": ("版本", "Version"),
    "status": ("状态", "Status"),
    "sha256": ("文档 SHA-256", "Document SHA-256"),
    "prepared": ("编制时间", "Prepared"),
    "transfer": ("交易", "Transfer"),
    "seller": ("卖方(提供方)", "Seller (provider)"),
    "buyer": ("买方(接收方)", "Buyer (recipient)"),
    "signatory": ("报告签署人", "Signatory"),
    "approved": ("审批", "Approval"),
    "retain": ("保存至(PIPL 第五十六条)", "Kept until (PIPL Art. 56)"),
    "s_necessity": ("一、评估必要性(5.1;PIPL 第五十五条)", "1. Necessity (5.1; PIPL Art. 55)"),
    "trigger": ("情形", "Case"),
    "basis": ("依据", "Basis"),
    "applies": ("适用", "Applies"),
    "evidence": ("账本证据(序号)", "Ledger evidence (seq)"),
    "required": ("结论:需要开展评估", "Conclusion: an assessment is required"),
    "not_required": ("结论:无需评估", "Conclusion: no assessment is required"),
    "s_team": ("二、评估团队与签署人(5.2.1)", "2. Team and signatory (5.2.1)"),
    "name": ("姓名", "Name"),
    "role": ("职责", "Role"),
    "s_processing": ("三、处理活动描述", "3. Processing"),
    "purpose": ("处理目的", "Purpose"),
    "announced": ("公告日", "Announced"),
    "closing": ("交割日", "Closing"),
    "channels": ("传输方式", "Channels"),
    "subjects": ("个人信息主体人数", "Individuals"),
    "contact": ("联系人", "Contact"),
    "s_data_map": ("四、数据映射(5.3)", "4. Data map (5.3)"),
    "scan": ("扫描", "Scan"),
    "table": ("表", "Table"),
    "rows": ("记录数", "Records"),
    "pii": ("个人信息字段", "PII columns"),
    "sensitive": ("敏感", "Sensitive"),
    "tiers": ("类别(JR/T 0171)", "Tiers (JR/T 0171)"),
    "max_level": ("最高级别(JR/T 0197)", "Max level (JR/T 0197)"),
    "types": ("类型", "Types"),
    "totals": ("合计", "Totals"),
    "totals_text": (
        "{tables} 张表、{columns} 个字段,其中个人信息字段 {pii} 个(敏感 {sensitive} 个);{records} 条记录,其中涉及个人的记录 {people} 条(上限,一人可出现多次);按类别 {by_tier};按级别 {by_level}",
        "{tables} tables, {columns} columns of which {pii} hold personal information ({sensitive} sensitive); {records} records, {people} of them about people (an upper bound: one person may appear many times); by tier {by_tier}; by level {by_level}",
    ),
    "columns": ("个人信息字段明细", "Personal information columns"),
    "column": ("字段", "Column"),
    "type": ("类型", "Type"),
    "tier": ("类别", "Tier"),
    "level": ("级别", "Level"),
    "s_risks": (
        "五、风险源、权益影响与风险等级(5.4–5.6)",
        "5. Risk sources, impact on rights and risk levels (5.4–5.6)",
    ),
    "risk": ("风险", "Risk"),
    "source": ("风险源", "Source"),
    "rights": ("权益影响", "Rights affected"),
    "impact": ("影响程度", "Impact"),
    "likelihood": ("可能性", "Likelihood"),
    "measures": ("措施", "Measures"),
    "owner": ("负责人", "Owner"),
    "review": ("复查日期", "Review"),
    "matrix": ("风险矩阵(可能性 × 影响程度)", "Risk matrix (likelihood × impact)"),
    "prefilled": ("(规则预填)", "(pre-filled by rule)"),
    "s_measures": ("六、保护措施(5.8)", "6. Measures (5.8)"),
    "measure": ("措施", "Measure"),
    "detail": ("说明", "Detail"),
    "state": ("状态", "Status"),
    "due": ("完成日期", "Due"),
    "done": ("已完成", "done"),
    "planned": ("计划中", "planned"),
    "s_opinion": ("七、个人信息保护负责人意见", "7. Opinion of the data protection officer"),
    "no_opinion": ("(尚无)", "(none yet)"),
    "s_conclusion": ("八、结论与审批记录", "8. Conclusion and decisions"),
    "decision": ("决定", "Decision"),
    "by": ("人员", "By"),
    "at": ("时间", "At"),
    "reason": ("理由", "Reason"),
    "s_method": ("评估方法说明", "About the method"),
    "method_note": (
        "条款编号按 GB/T 39335-2020 公开目录核对;风险源四个维度(5.4)与权益影响四个维度(5.5)的名称、四级量表及风险矩阵未能与标准全文核对,为 handover 方法第 {version} 版的取值(见 docs/pia.md)。",
        "Clause numbers were checked against the published table of contents of GB/T 39335-2020; the names of the four risk-source dimensions (5.4) and of the four impact dimensions (5.5), the four-step scales and the matrix could not be checked against the full text and are handover method version {version} (see docs/pia.md).",
    ),
    "signature": (
        "签名(Ed25519,分离式,针对 pia.json 的规范 JSON)",
        "Signature (Ed25519, detached, over the canonical JSON pia.json)",
    ),
    "key": ("签名密钥", "Signing key"),
    "json_sha256": ("pia.json 的 SHA-256", "SHA-256 of pia.json"),
    "ledger": ("账本序号", "Ledger seq"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "code": ("编号", "ID"),
    "lk_impact": ("可能性 \\ 影响程度", "likelihood \\ impact"),
}

STATUS: dict[str, tuple[str, str]] = {
    "draft": ("草稿", "draft"),
    "submitted": ("待审批", "submitted"),
    "approved": ("已批准", "approved"),
    "rejected": ("已驳回", "rejected"),
}
DECISIONS: dict[str, tuple[str, str]] = {
    "submit": ("提交", "submitted"),
    "approve": ("批准", "approved"),
    "reject": ("驳回", "rejected"),
}


def labels(lang: str) -> dict[str, str]:
    """The report's labels in ``lang``."""
    i = 0 if normalize_lang(lang) == "zh-CN" else 1
    return {k: v[i] for k, v in _L.items()}


def _pick(value: Any, i: int) -> str:
    if isinstance(value, list) and len(value) == 2:
        return str(value[i])
    return "" if value is None else str(value)


def _party(p: dict[str, Any] | None) -> str:
    if not p:
        return "-"
    contact = ", ".join(x for x in (p.get("contact"), p.get("phone"), p.get("email")) if x)
    return f"{p.get('name', '')} ({contact})" if contact else str(p.get("name", ""))


def _counts(d: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in d.items()) or "-"


def context(export: dict[str, Any], sig: dict[str, Any], lang: str) -> dict[str, Any]:
    """Everything a rendering needs, already in ``lang``: ``export`` is the signed
    ``pia.json`` (assessment header + document), ``sig`` its detached signature."""
    from handover.pia.method import load_method

    method = load_method()
    lang = normalize_lang(lang)
    i = 0 if lang == "zh-CN" else 1
    L = labels(lang)
    doc = export["document"]
    head = export["assessment"]
    dm = doc["data_map"]
    tot = dm["totals"]
    triggers = [
        [
            _pick(t["text"], i),
            t["basis"],
            L["yes"] if t["applies"] else L["no"],
            ", ".join(map(str, t["evidence"])) or "-",
        ]
        for t in doc["necessity"]["triggers"].values()
    ]
    pr = doc["processing"]
    processing = [
        [L["transfer"], pr.get("transfer") or "-"],
        [L["seller"], _party(pr.get("seller"))],
        [L["buyer"], _party(pr.get("buyer"))],
        [L["purpose"], pr.get("purpose") or "-"],
        [L["announced"], pr.get("announced") or "-"],
        [L["closing"], pr.get("closing") or "-"],
        [L["channels"], "; ".join(_pick(c, i) for c in pr.get("channels", []))],
        [L["subjects"], f"{pr['subjects']:,}" if isinstance(pr.get("subjects"), int) else "-"],
    ]
    if pr.get("note"):
        processing.append(["", pr["note"]])
    tables = [
        [
            tb["name"],
            f"{tb['rows']:,}" if isinstance(tb.get("rows"), int) else "-",
            str(tb["pii_columns"]),
            str(tb["sensitive_columns"]),
            _counts(tb["tiers"]),
            str(tb["max_level"] if tb["max_level"] is not None else "-"),
            ", ".join(tb["types"]),
        ]
        for tb in dm["tables"]
    ]
    columns = [
        [
            f"{tb['name']}.{c['column']}",
            c["type"],
            c["tier"] or "-",
            str(c["level"] or "-"),
            L["yes"] if c["sensitive"] else "",
        ]
        for tb in dm["tables"]
        for c in tb["pii"]
    ]
    risks = [
        [
            r["id"],
            _pick(r["title"], i) + (" " + L["prefilled"] if r.get("prefilled") else ""),
            method.label("sources", r["source"], lang),
            "; ".join(method.label("rights", x, lang) for x in r["rights"]),
            method.label("impact", r["impact"], lang),
            method.label("likelihood", r["likelihood"], lang),
            method.label("level", r["level"], lang),
            ", ".join(r["measures"]),
            r.get("owner") or "-",
            r.get("review_on") or "-",
        ]
        for r in doc["risks"]
    ]
    matrix = [
        [method.label("likelihood", lk, lang)]
        + [method.label("level", x, lang) for x in method.matrix[lk]]
        for lk in reversed(method.likelihood)
    ]
    measures = [
        [
            m["id"],
            _pick(m["title"], i),
            _pick(m["detail"], i),
            L[m["status"]] if m["status"] in ("done", "planned") else m["status"],
            m.get("owner") or "-",
            m.get("due") or "-",
            ", ".join(map(str, m.get("evidence", [])[:12]))
            + (" …" if len(m.get("evidence", [])) > 12 else ""),
        ]
        for m in doc["measures"]
    ]
    decisions = [
        [
            _pick(list(DECISIONS.get(d["decision"], (d["decision"],) * 2)), i),
            f"v{d['version']}",
            d["actor"],
            d["at"],
            d.get("reason") or "",
        ]
        for d in head.get("decisions", [])
    ]
    op = doc.get("dpo_opinion")
    return {
        "L": L,
        "lang": lang,
        "head": head,
        "doc": doc,
        "sig": sig,
        "status": _pick(list(STATUS.get(head["status"], (head["status"],) * 2)), i),
        "header": [
            [L["id"], str(head["id"])],
            [L["version"], str(head["version"])],
            [L["status"], _pick(list(STATUS.get(head["status"], (head["status"],) * 2)), i)],
            [L["sha256"], head["sha256"]],
            [L["prepared"], doc.get("prepared_at", "")],
            [L["signatory"], doc.get("signatory") or "-"],
            [L["approved"], head.get("approval") or "-"],
            [L["retain"], head.get("retain_until") or "-"],
        ],
        "triggers": triggers,
        "required": L["required"] if doc["necessity"]["required"] else L["not_required"],
        "necessity_note": doc["necessity"].get("note") or "",
        "team": [[m["name"], m["role"]] for m in doc.get("team", [])],
        "processing": processing,
        "totals": L["totals_text"].format(
            tables=tot["tables"],
            columns=tot["columns"],
            pii=tot["pii_columns"],
            sensitive=tot["sensitive_columns"],
            records=f"{tot['records']:,}",
            people=f"{tot['people_records']:,}",
            by_tier=_counts(tot["by_tier"]),
            by_level=_counts(tot["by_level"]),
        ),
        "scan": f"#{dm.get('scan_id')} {dm.get('source') or ''}",
        "tables": tables,
        "columns": columns,
        "risks": risks,
        "matrix_head": [L["lk_impact"]] + [method.label("impact", x, lang) for x in method.impact],
        "matrix": matrix,
        "measures": measures,
        "opinion": f"{op['text']} — {op['by']}, {op['at']}" if op else L["no_opinion"],
        "conclusion": doc.get("conclusion") or "-",
        "decisions": decisions,
        "method_note": L["method_note"].format(version=doc["method"]["version"]),
        "json": json.dumps(export, ensure_ascii=False, indent=1),
    }


def render_html(export: dict[str, Any], sig: dict[str, Any], lang: str = "zh-CN") -> str:
    """The report as a self-contained HTML page in ``lang`` (autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("pia.html").render(**context(export, sig, lang))


def write_pdf(export: dict[str, Any], sig: dict[str, Any], path: Path, lang: str = "zh-CN") -> Path:
    """The report as an A4 PDF in ``lang`` through the shared recipe (:mod:`handover.reports.pdf`):
    the Chinese font embedded, wide tables on landscape pages, bookmarks per section."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import NextPageTemplate, PageBreak, Spacer

    from handover.reports.pdf import build, kit

    c = context(export, sig, lang)
    L = c["L"]
    k = kit(embed=True)

    def table(head: list[str] | None, rows: list[list[Any]], widths: list[float]) -> Any:
        return k.table(head, rows or [["-"] * len(widths)], widths)

    story: list[Any] = [
        k.p(L["title"], k.h1),
        k.p(L["subtitle"], ParagraphStyle("st", parent=k.small, alignment=1)),
        Spacer(1, 4 * mm),
        table(None, c["header"], [45, 135]),
        k.p(L["s_necessity"], k.h2),
        table(
            [L["trigger"], L["basis"], L["applies"], L["evidence"]], c["triggers"], [80, 45, 15, 40]
        ),
        k.p(c["required"]),
        *([k.p(c["necessity_note"])] if c["necessity_note"] else []),
        k.p(L["s_team"], k.h2),
        table([L["name"], L["role"]], c["team"], [60, 120]),
        k.p(f"{L['signatory']}: {c['doc'].get('signatory') or '-'}"),
        k.p(L["s_processing"], k.h2),
        table(None, c["processing"], [40, 140]),
        NextPageTemplate("wide"),
        PageBreak(),
        k.p(L["s_data_map"], k.h2),
        k.p(f"{L['scan']}: {c['scan']}", k.small),
        k.p(c["totals"], k.small),
        table(
            [
                L["table"],
                L["rows"],
                L["pii"],
                L["sensitive"],
                L["tiers"],
                L["max_level"],
                L["types"],
            ],
            c["tables"],
            [38, 20, 20, 16, 38, 22, 113],
        ),
        k.p(L["s_risks"], k.h2),
        table(
            [
                L["code"],
                L["risk"],
                L["source"],
                L["rights"],
                L["impact"],
                L["likelihood"],
                L["level"],
                L["measures"],
                L["owner"],
                L["review"],
            ],
            c["risks"],
            [10, 58, 32, 45, 16, 16, 16, 22, 22, 20],
        ),
        Spacer(1, 2 * mm),
        k.p(L["matrix"], k.small),
        table(c["matrix_head"], c["matrix"], [30, 22, 22, 22, 22]),
        k.p(L["s_measures"], k.h2),
        table(
            [L["code"], L["measure"], L["detail"], L["state"], L["owner"], L["due"], L["evidence"]],
            c["measures"],
            [11, 52, 98, 16, 22, 20, 48],
        ),
        k.p(L["columns"], k.h2),
        table(
            [L["column"], L["type"], L["tier"], L["level"], L["sensitive"]],
            c["columns"],
            [90, 60, 25, 25, 25],
        ),
        NextPageTemplate("page"),
        PageBreak(),
        # sections 4–6 need the wide pages; 7 and 8 follow them, in their order
        k.p(L["s_opinion"], k.h2),
        k.p(c["opinion"]),
        k.p(L["s_conclusion"], k.h2),
        k.p(c["conclusion"]),
        table(
            [L["decision"], L["version"], L["by"], L["at"], L["reason"]],
            c["decisions"],
            [18, 14, 28, 55, 65],
        ),
        k.p(L["s_method"], k.h2),
        k.p(c["method_note"], k.small),
        k.p(L["signature"], k.h2),
        k.p(f"{L['key']}: {sig['key_id']} v{sig['key_version']} {sig['public_key']}", k.small),
        k.p(f"{L['json_sha256']}: {sig['sha256']}", k.small),
        k.p(f"Ed25519: {sig['signature']}", k.small),
    ]
    return build(
        path,
        story,
        title=f"{L['title']} #{c['head']['id']} v{c['head']['version']}",
        font=k.font,
        subject=f"Ed25519 {sig['public_key']} {sig['signature']}",
        keywords=f"sha256={sig['sha256']}",
    )


def write_renderings(export: dict[str, Any], sig: dict[str, Any], folder: Path) -> list[Path]:
    """HTML and PDF in zh-CN and en beside pia.json; returns the paths."""
    out: list[Path] = []
    for lang in ("zh-CN", "en"):
        html = folder / f"pia.{lang}.html"
        html.write_text(render_html(export, sig, lang), encoding="utf-8")
        out.append(html)
        out.append(write_pdf(export, sig, folder / f"pia.{lang}.pdf", lang))
    return out
