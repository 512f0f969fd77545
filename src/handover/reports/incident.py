"""Renderings of an incident report (初始报告, 补充报告, 总结报告): HTML and PDF, zh-CN and en.

The document is data built by :func:`handover.incidents.report.report_document`; every
text a reader sees is there in both languages. The PDF uses the shared recipe of
:mod:`handover.reports.pdf`; a drill's report says so across every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handover.i18n import normalize_lang

TEMPLATES = Path(__file__).parent / "templates"

_L: dict[str, tuple[str, str]] = {
    "incident": ("事件编号", "Incident"),
    "name": ("事件名称", "Title"),
    "grade": ("事件级别", "Grade"),
    "aware_at": ("发现或获知时间", "Found or learnt at"),
    "lead": ("责任人", "Responsible"),
    "status": ("状态", "Status"),
    "status_then": ("生成时状态", "Status when written"),
    "generated": ("生成时间", "Generated"),
    "basis": ("定级依据", "Grading basis"),
    "computed": ("依规则计算", "By the rules"),
    "decided": ("决定级别", "Decided"),
    "reason": ("调整理由", "Reason"),
    "none_met": ("未达到分级指南的量化标准", "no quantitative criterion of the guide met"),
    "duties": ("报告义务与时限", "Reporting duties and deadlines"),
    "regime": ("依据", "Regime"),
    "recipient": ("报告对象", "Recipient"),
    "kind": ("类型", "Kind"),
    "due": ("截止时间", "Due"),
    "clock": ("时限", "Clock"),
    "source": ("出处", "Source"),
    "timeline": ("处置经过(取自防篡改账本)", "Timeline (from the tamper-evident ledger)"),
    "seq": ("账本序号", "Ledger seq"),
    "at": ("时间", "When"),
    "actor": ("人员", "Who"),
    "what": ("事项", "What"),
    "signoff": ("签发", "Sign-off"),
    "filled_by": ("填报人", "Prepared by"),
    "reviewed_by": ("审核人", "Reviewed by"),
    "head": ("单位负责人", "Head of unit"),
    "seal": ("单位盖章", "Seal"),
    "date": ("日期", "Date"),
    "drill": (
        "演练 — 非真实事件报告,不得报送",
        "DRILL — not a real incident report, never to be filed",
    ),
    "page": ("第 {n} 页", "page {n}"),
}


def labels(lang: str) -> dict[str, str]:
    """The report's labels in ``lang``."""
    i = 0 if normalize_lang(lang) == "zh-CN" else 1
    return {k: v[i] for k, v in _L.items()}


def text(value: Any, lang: str) -> str:
    """A document value in ``lang``: a per-language mapping, a list of values (one per
    line) or plain text."""
    if isinstance(value, dict):
        return str(value.get(normalize_lang(lang)) or value.get("en") or "")
    if isinstance(value, list | tuple):
        return "\n".join(text(v, lang) for v in value)
    return "" if value is None else str(value)


def context(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """Everything a template needs, already in ``lang``."""
    L = labels(lang)
    inc = doc["incident"]
    basis = inc.get("basis") or {}
    criteria = [
        f"{text(c['grade'], lang)}: {c['metric']} ≥ {c['min']:,} — {c['source']}"
        for c in basis.get("criteria", [])
    ]
    return {
        "L": L,
        "lang": normalize_lang(lang),
        "title": text(doc["title"], lang),
        "drill": bool(doc.get("drill")),
        "header": [
            (L["incident"], f"#{inc['id']}"),
            (L["name"], inc["title"]),
            (L["grade"], text(inc["grade"], lang)),
            (L["aware_at"], inc["aware_at"]),
            (L["lead"], inc["lead"]),
            (L["status"], text(inc["status"], lang)),
            (L["generated"], doc["generated_at"]),
        ],
        "basis": [
            (L["computed"], text(basis.get("computed"), lang)),
            (L["decided"], text(basis.get("grade"), lang)),
            *([(L["reason"], basis["reason"])] if basis.get("reason") else []),
            (L["basis"], "\n".join(criteria) or L["none_met"]),
        ],
        "first_items_note": text(doc.get("first_items_note"), lang),
        "items": [
            {
                "title": text(it["title"], lang),
                "rows": [(text(k, lang), text(v, lang)) for k, v in it["rows"]],
            }
            for it in doc["items"]
        ],
        "duties": [
            [
                f"#{d['id']}",
                text(d["regime"], lang),
                d["recipient"],
                text(d["kind"], lang),
                d["due"],
                text(d["clock"], lang),
                text(d["status"], lang),
                f"{d['source']} [{d['verified']}]",
            ]
            for d in doc["duties"]
        ],
        "timeline": [
            [s["seq"], s["at"], s["actor"], text(s["what"], lang)] for s in doc["timeline"]
        ],
        "sources": text(doc.get("sources"), lang),
        "prepared_by": doc.get("prepared_by") or "",
    }


def render_html(doc: dict[str, Any], lang: str = "zh-CN") -> str:
    """The report as a self-contained HTML page in ``lang`` (autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("incident.html").render(**context(doc, lang))


def write_pdf(doc: dict[str, Any], path: Path, lang: str = "zh-CN") -> Path:
    """The report as an A4 PDF in ``lang``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Spacer

    from handover.reports.pdf import CID_FONT, build, kit

    c = context(doc, lang)
    L = c["L"]
    k = kit()
    banner = ParagraphStyle("drill", parent=k.h2, textColor=colors.red, alignment=1)
    story: list[Any] = []
    if c["drill"]:
        story.append(k.p(L["drill"], banner))
    story += [k.p(c["title"], k.h1), Spacer(1, 3 * mm), k.table(None, c["header"], [40, 140])]
    story += [k.p(L["basis"], k.h2), k.table(None, c["basis"], [40, 140])]
    if c["first_items_note"]:
        story += [Spacer(1, 2 * mm), k.p(c["first_items_note"], k.small)]
    for item in c["items"]:
        story += [k.p(item["title"], k.h2), k.table(None, item["rows"], [40, 140])]
    story += [
        k.p(L["duties"], k.h2),
        k.table(
            [
                "",
                L["regime"],
                L["recipient"],
                L["kind"],
                L["due"],
                L["clock"],
                L["status_then"],
                L["source"],
            ],
            c["duties"],
            [9, 22, 24, 16, 22, 20, 13, 54],
        ),
        k.p(L["timeline"], k.h2),
        k.table([L["seq"], L["at"], L["actor"], L["what"]], c["timeline"], [16, 40, 34, 90]),
        k.p(L["signoff"], k.h2),
        k.table(
            [L["filled_by"], L["reviewed_by"], L["head"], L["seal"]],
            [
                [c["prepared_by"], "\n\n", "", ""],
                [f"{L['date']}:", f"{L['date']}:", f"{L['date']}:", ""],
            ],
            [45, 45, 45, 45],
        ),
        Spacer(1, 2 * mm),
        k.p(c["sources"], k.small),
    ]

    def decorate(canvas: Canvas, pdf: Any) -> None:
        canvas.saveState()
        canvas.setFont(CID_FONT, 7)
        # The CID font lacks U+00B7, hence plain separators.
        footer = f"{c['title']} | #{doc['incident']['id']} | {L['page'].format(n=canvas.getPageNumber())}"
        canvas.drawString(15 * mm, 8 * mm, footer)
        if c["drill"]:
            # Every page of a drill's report says so, so that no page can pass as real.
            canvas.setFont(CID_FONT, 40)
            canvas.setFillColor(colors.Color(1, 0, 0, alpha=0.12))
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, 0, L["drill"].split(" ")[0])
        canvas.restoreState()

    return build(path, story, title=f"{c['title']} #{doc['incident']['id']}", on_page=decorate)


def write_renderings(doc: dict[str, Any], folder: Path) -> list[Path]:
    """``report.json`` and the HTML and PDF in zh-CN and en in ``folder``; returns the paths."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / "report.json"]
    out[0].write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    for lang in ("zh-CN", "en"):
        html = folder / f"report.{lang}.html"
        html.write_text(render_html(doc, lang), encoding="utf-8")
        out.append(html)
        out.append(write_pdf(doc, folder / f"report.{lang}.pdf", lang))
    return out
