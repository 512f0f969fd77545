"""A document as numbered sections of paragraphs, tables and bar charts, rendered the same
way to HTML (self-contained, autoescaped) and to PDF (through :mod:`handover.reports.pdf`,
with a table of contents and bookmarks). Reports that are long lists of facts — the
regulator's dossier, the transparency report — describe their content once here and get
both renderings and both languages from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from handover.reports.certificate import TEMPLATES


@dataclass(frozen=True)
class Para:
    """A paragraph; ``small`` for notes."""

    kind: ClassVar[str] = "para"

    text: str
    small: bool = False


@dataclass(frozen=True)
class Sub:
    """A sub-heading (second level of the table of contents)."""

    kind: ClassVar[str] = "sub"

    text: str


@dataclass(frozen=True)
class Table:
    """A table: ``head`` None makes the first column labels; ``widths`` in millimetres
    (portrait A4 holds 180 mm, ``wide`` tables get a landscape page holding 267 mm)."""

    kind: ClassVar[str] = "table"

    head: list[str] | None
    rows: list[list[Any]]
    widths: list[float]
    wide: bool = False


@dataclass(frozen=True)
class Bars:
    """A horizontal bar chart of (label, value) with a unit, e.g. records per tier."""

    kind: ClassVar[str] = "bars"

    title: str
    items: list[tuple[str, float]]
    unit: str = ""

    def scaled(self) -> list[tuple[str, float, float]]:
        """(label, value, share of the largest value 0–1) per bar."""
        top = max((v for _, v in self.items), default=0) or 1
        return [(label, v, v / top) for label, v in self.items]


Block = Para | Sub | Table | Bars


@dataclass
class Section:
    """A numbered section: its heading and blocks."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Doc:
    """A whole document in one language."""

    lang: str
    title: str
    subtitle: str
    cover: list[list[str]]
    sections: list[Section]
    toc_label: str
    footer: str = ""
    #: start every section on a new page (a long dossier) or run them on (a short report)
    page_per_section: bool = True


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else "—"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    return "" if value is None else str(value)


def render_html(doc: Doc) -> str:
    """The document as one self-contained HTML page (bar charts as inline SVG)."""
    from handover.reports.tables import html_env

    return str(html_env(TEMPLATES).get_template("sections.html").render(doc=doc, fmt=_fmt))


def write_pdf(doc: Doc, path: Path, *, embed: bool = True) -> Path:
    """The document as an A4 PDF: cover table, table of contents, then the sections
    (wide tables on landscape pages); the Chinese font embedded unless ``embed`` is off."""
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import NextPageTemplate, PageBreak, Spacer

    from handover.reports.pdf import build, kit

    k = kit(embed=embed)
    story: list[Any] = [
        Spacer(1, 20 * mm),
        k.p(doc.title, k.h1),
        k.p(doc.subtitle, ParagraphStyle("st", parent=k.body, alignment=1)),
        Spacer(1, 8 * mm),
        k.table(None, doc.cover, [50, 130]),
        PageBreak(),
        k.p(doc.toc_label, k.h1),
        k.toc(),
    ]
    wide = False
    for n, sec in enumerate(doc.sections, start=1):
        want_wide = any(isinstance(b, Table) and b.wide for b in sec.blocks)
        turn = want_wide != wide or n == 1
        if turn:
            story.append(NextPageTemplate("wide" if want_wide else "page"))
            wide = want_wide
        story.append(PageBreak() if turn or doc.page_per_section else Spacer(1, 5 * mm))
        story.append(k.p(f"{n}. {sec.title}", k.h2))
        for b in sec.blocks:
            if isinstance(b, Para):
                story.append(k.p(b.text, k.small if b.small else k.body))
            elif isinstance(b, Sub):
                story.append(k.p(b.text, k.h3))
            elif isinstance(b, Table):
                rows = [[_fmt(x) for x in r] for r in b.rows]
                story.append(k.table(b.head, rows or [["—"] * len(b.widths)], b.widths))
                story.append(Spacer(1, 2 * mm))
            else:
                story.append(_bars(b, k, colors))

    def footer(canvas: Any, _pdf: Any) -> None:
        canvas.saveState()
        canvas.setFont(k.font, 7)
        canvas.drawString(15 * mm, 8 * mm, f"{doc.footer} | {canvas.getPageNumber()}")
        canvas.restoreState()

    return build(path, story, title=doc.title, on_page=footer, font=k.font, subject=doc.subtitle)


def _bars(chart: Bars, k: Any, colors: Any) -> Any:
    """A horizontal bar chart drawn with the document's font (title, then label | bar |
    value per row) as a flowable of its own: reportlab's graphics renderer would set
    its default Helvetica, which a document that embeds its font must not reference."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable

    rows = chart.scaled()
    line, label_w, bar_w = 6 * mm, 55 * mm, 95 * mm

    class Chart(Flowable):  # type: ignore[misc]
        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            return 180 * mm, line * (len(rows) + 1.5)

        def draw(self) -> None:
            c = self.canv
            height = line * (len(rows) + 1.5)
            c.setFont(k.font, 9)
            c.drawString(0, height - line * 0.9, chart.title)
            c.setFont(k.font, 7.5)
            for i, (label, value, share) in enumerate(rows):
                y = height - line * (i + 2)
                c.setFillColor(colors.black)
                c.drawString(0, y + 1.2 * mm, label[:28])
                c.setFillColor(colors.HexColor("#4a7ab5"))
                c.rect(label_w, y, max(bar_w * share, 0.5), line * 0.65, stroke=0, fill=1)
                c.setFillColor(colors.black)
                c.drawString(
                    label_w + bar_w * share + 2 * mm,
                    y + 1.2 * mm,
                    f"{_fmt(value)} {chart.unit}".strip(),
                )

    return Chart()


def write_renderings(
    describe: Callable[[dict[str, Any], str], Doc], data: dict[str, Any], folder: Path, stem: str
) -> list[Path]:
    """``<stem>.<lang>.html`` and ``<stem>.<lang>.pdf`` in zh-CN and en of the document
    ``describe(data, lang)`` gives; returns the paths."""
    out: list[Path] = []
    for lang in ("zh-CN", "en"):
        doc = describe(data, lang)
        html = folder / f"{stem}.{lang}.html"
        html.write_text(render_html(doc), encoding="utf-8")
        out += [html, write_pdf(doc, folder / f"{stem}.{lang}.pdf")]
    return out
