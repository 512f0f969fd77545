"""Renderings of an incident report (初始报告, 补充报告, 总结报告): HTML, PDF and DOCX, zh-CN
and en.

The document is data built by :func:`handover.incidents.report.report_document`; every
text a reader sees is there in both languages. The PDF uses the shared recipe of
:mod:`handover.reports.pdf`; a drill's report says so across every page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handover.i18n import normalize_lang
from handover.reports.tables import xml_safe

TEMPLATES = Path(__file__).parent / "templates"

#: the report's labels: catalogue keys ``incidents.doc.<name>``
LABELS: tuple[str, ...] = (
    "incident",
    "name",
    "grade",
    "aware_at",
    "lead",
    "status",
    "status_then",
    "generated",
    "basis",
    "computed",
    "decided",
    "reason",
    "none_met",
    "duties",
    "regime",
    "recipient",
    "kind",
    "due",
    "clock",
    "source",
    "timeline",
    "seq",
    "at",
    "actor",
    "what",
    "signoff",
    "filled_by",
    "reviewed_by",
    "head",
    "seal",
    "date",
    "drill",
    "page",
    "judged",
    "judged_by",
)


def labels(lang: str) -> dict[str, str]:
    """The report's labels in ``lang`` (``page`` keeps its ``{n}`` to be filled)."""
    from handover.i18n import catalog

    texts = catalog()
    return {k: texts[f"incidents.doc.{k}"][normalize_lang(lang)] for k in LABELS}


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
    judged = [
        f"{text(j['grade'], lang)}: {text(j['text'], lang)} — {j['source']} [{j['verified']}]"
        f"\n{L['judged_by'].format(by=j['by'], at=j['at'][:16], reason=j['reason'])}"
        for j in basis.get("judged", [])
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
            *([(L["judged"], "\n".join(judged))] if judged else []),
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
                text(d["recipient"], lang),
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


def closing_tables(c: dict[str, Any]) -> list[tuple[str, list[str], list[Any], list[float]]]:
    """The duties, the timeline and the sign-off of a report context as (heading, header
    row, rows, column widths in mm): what the PDF and the DOCX both end with."""
    L = c["L"]
    date = f"{L['date']}:"
    return [
        (
            L["duties"],
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
        (
            L["timeline"],
            [L["seq"], L["at"], L["actor"], L["what"]],
            c["timeline"],
            [16, 40, 34, 90],
        ),
        (
            L["signoff"],
            [L["filled_by"], L["reviewed_by"], L["head"], L["seal"]],
            [[c["prepared_by"], "\n\n", "", ""], [date, date, date, ""]],
            [45, 45, 45, 45],
        ),
    ]


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
    for heading, head, rows, widths in closing_tables(c):
        story += [k.p(heading, k.h2), k.table(head, rows, widths)]
    story += [Spacer(1, 2 * mm), k.p(c["sources"], k.small)]

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


#: the East Asian font a DOCX asks Word/WPS for (宋体, on every Chinese Windows and in WPS)
DOCX_CJK_FONT = "SimSun"
DOCX_LATIN_FONT = "Times New Roman"


def _docx_fonts(document: Any) -> None:
    """Latin and East Asian fonts of the styles the report uses (Word reads East Asian
    text in ``w:eastAsia``, which python-docx does not set by itself)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid"):
        style = document.styles[name]
        style.font.name = DOCX_LATIN_FONT
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), DOCX_CJK_FONT)
    document.styles["Normal"].font.size = Pt(10.5)  # 五号


def _docx_table(
    document: Any, head: list[str] | None, rows: list[Any], widths: list[float]
) -> None:
    """A bordered table (a header row in bold when ``head``), column widths in mm."""
    from docx.shared import Mm

    table = document.add_table(rows=0, cols=len(widths))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    for j, w in enumerate(widths):
        table.columns[j].width = Mm(w)  # the grid (LibreOffice, WPS) and each cell (Word)
    for i, row in enumerate(([head] if head else []) + [list(r) for r in rows]):
        cells = table.add_row().cells
        for j, value in enumerate(row):
            cells[j].width = Mm(widths[j])
            para = cells[j].paragraphs[0]
            lines = str(value if value is not None else "").split("\n")
            for k, line in enumerate(lines):
                run = para.add_run(line)
                run.bold = bool(head) and i == 0
                if k < len(lines) - 1:
                    run.add_break()


def _docx_page_field(paragraph: Any) -> None:
    """A PAGE field (the page number Word fills in)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def write_docx(doc: dict[str, Any], path: Path, lang: str = "zh-CN") -> Path:
    """The report as an A4 Word document (DOCX) in ``lang``: the same content as the PDF,
    fonts set for Chinese; a drill's says so in a red line and in every page's header."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt, RGBColor

    c = xml_safe(context(doc, lang))
    L = c["L"]
    document = Document()
    _docx_fonts(document)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    props = document.core_properties
    props.title = f"{c['title']} #{doc['incident']['id']}"
    props.author = c["prepared_by"] or "handover"
    props.language = c["lang"]
    red = RGBColor(0xB0, 0, 0)
    if c["drill"]:
        # Every page of a drill's report says so, so that no page can pass as real.
        head = section.header.paragraphs[0]
        head.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = head.add_run(L["drill"])
        run.bold, run.font.color.rgb = True, red
        banner = document.add_paragraph()
        banner.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = banner.add_run(L["drill"])
        run.bold, run.font.size, run.font.color.rgb = True, Pt(14), red
    foot = section.footer.paragraphs[0]
    page_label = L["page"].split("{n}")
    foot.add_run(f"{c['title']} | #{doc['incident']['id']} | {page_label[0]}")
    _docx_page_field(foot)
    foot.add_run(page_label[1] if len(page_label) > 1 else "")
    title = document.add_heading(c["title"], level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _docx_table(document, None, c["header"], [45, 135])
    document.add_heading(L["basis"], level=2)
    _docx_table(document, None, c["basis"], [45, 135])
    if c["first_items_note"]:
        note = document.add_paragraph().add_run(c["first_items_note"])
        note.font.size = Pt(9)
    for item in c["items"]:
        document.add_heading(item["title"], level=2)
        _docx_table(document, None, item["rows"], [45, 135])
    for heading, head, rows, widths in closing_tables(c):
        document.add_heading(heading, level=2)
        _docx_table(document, head, rows, widths)
    sources = document.add_paragraph().add_run(c["sources"])
    sources.font.size = Pt(8)
    document.save(str(path))
    return path


def write_renderings(doc: dict[str, Any], folder: Path) -> list[Path]:
    """``report.json`` and the HTML, PDF and DOCX in zh-CN and en in ``folder``; returns
    the paths."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    out = [folder / "report.json"]
    out[0].write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    for lang in ("zh-CN", "en"):
        html = folder / f"report.{lang}.html"
        html.write_text(render_html(doc, lang), encoding="utf-8")
        out.append(html)
        out.append(write_pdf(doc, folder / f"report.{lang}.pdf", lang))
        out.append(write_docx(doc, folder / f"report.{lang}.docx", lang))
    return out
