"""The PDF recipe every report shares: A4 (landscape pages on request), CJK wrapping,
gridded tables, a table of contents and PDF bookmarks from the section headings.

Fonts: by default reportlab's built-in Adobe CID font STSong-Light (Chinese needs no font
file and the text stays extractable, but the reader substitutes the glyphs); documents
people keep and file with a regulator ask for ``kit(embed=True)``: the TrueType font of
:mod:`handover.reports.fonts`, embedded as a subset so they print the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.reports.fonts import BUILDING

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table

CID_FONT = "STSong-Light"
#: paragraph style names that enter the table of contents and the bookmarks, by level
TOC_LEVELS = {"h2": 0, "h3": 1}


@dataclass(frozen=True)
class Kit:
    """Paragraph styles and builders of one document; ``h2``/``h3`` headings enter the
    table of contents (:meth:`toc`) and the PDF bookmarks."""

    body: ParagraphStyle
    small: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    font: str = CID_FONT

    def toc(self) -> Any:
        """A table of contents filled from the ``h2``/``h3`` headings when built."""
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import TableStyle
        from reportlab.platypus.tableofcontents import TableOfContents

        toc = TableOfContents(dotsMinLevel=0)
        toc.tableStyle = TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), self.font), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        )
        toc.levelStyles = [
            ParagraphStyle("toc0", parent=self.body, fontSize=9.5, leading=14, leftIndent=4),
            ParagraphStyle("toc1", parent=self.body, fontSize=8.5, leading=12, leftIndent=16),
        ]
        return toc

    def p(self, text: Any, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of ``text`` (escaped; never read as markup)."""
        from xml.sax.saxutils import escape

        from reportlab.platypus import Paragraph

        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style or self.body)

    def table(self, head: list[str] | None, rows: list[list[Any]], widths: list[float]) -> Table:
        """A gridded table with a shaded, repeated header row (none when ``head`` is None;
        then the first column is shaded as labels); widths in millimetres."""
        from reportlab.lib import colors
        from reportlab.lib.units import mm
        from reportlab.platypus import Table, TableStyle

        data = [[self.p(h, self.small) for h in head]] if head is not None else []
        data += [[self.p(x, self.small) for x in r] for r in rows]
        shaded = ((0, 0), (-1, 0)) if head is not None else ((0, 0), (0, -1))
        tb = Table(data, colWidths=[w * mm for w in widths], repeatRows=1 if head else 0)
        tb.setStyle(
            TableStyle(
                [
                    # the cells are paragraphs, but a table still sets its cell font:
                    # the kit's, so that no unembedded Helvetica enters the file
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", *shaded, colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return tb


def build(
    path: Path,
    story: list[Any],
    *,
    title: str,
    on_page: Callable[[Any, Any], None] | None = None,
    font: str | None = None,
    **info: str,
) -> Path:
    """Write ``story`` as an A4 PDF at ``path`` (15 mm margins, author handover; ``info``:
    more document properties such as ``subject``, ``keywords``); ``on_page`` draws on
    every page; ``font`` (the kit's) is also the canvas's initial font, so no other font
    is referenced. Pages are portrait; ``NextPageTemplate("wide")`` in the story switches
    to landscape (``"page"`` back). A story holding :meth:`Kit.toc` is built in as many
    passes as its page numbers need."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph
    from reportlab.platypus.tableofcontents import TableOfContents

    class Doc(BaseDocTemplate):  # type: ignore[misc]
        _last_level: int = -1
        _headings: int = 0

        def afterFlowable(self, flowable: Any) -> None:
            if not isinstance(flowable, Paragraph):
                return
            level = TOC_LEVELS.get(flowable.style.name)
            if level is None:
                return
            level = min(level, self._last_level + 1)  # outlines never skip a level
            self._last_level = level
            text = flowable.getPlainText()
            key = f"h{self._headings}"
            self._headings += 1
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
            self.notify("TOCEntry", (level, text, self.page, key))

        def beforeDocument(self) -> None:
            self._last_level = -1
            self._headings = 0

    path.parent.mkdir(parents=True, exist_ok=True)
    margin = 15 * mm
    portrait, wide = A4, landscape(A4)
    pdf = Doc(
        str(path),
        pagesize=portrait,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author="handover",
        initialFontName=font,
        **info,
    )
    extra = {"onPage": on_page} if on_page is not None else {}
    pdf.addPageTemplates(
        [
            PageTemplate(
                id=name,
                frames=[Frame(margin, margin, size[0] - 2 * margin, size[1] - 2 * margin)],
                pagesize=size,
                **extra,
            )
            for name, size in (("page", portrait), ("wide", wide))
        ]
    )
    with BUILDING:  # one document at a time in this process (reportlab's font state)
        if any(isinstance(x, TableOfContents) for x in story):
            pdf.multiBuild(story)
        else:
            pdf.build(story)
    return path


def kit(*, embed: bool = False) -> Kit:
    """The shared styles: the built-in CID font (registered once per process), or with
    ``embed`` the embedded TrueType Chinese font (FontMissing names its package when the
    system lacks it)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if embed:
        from handover.reports.fonts import cjk_font

        font = cjk_font()
    else:
        font = CID_FONT
        if CID_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    body = ParagraphStyle("b", fontName=font, fontSize=8.5, leading=11.5, wordWrap="CJK")
    return Kit(
        body=body,
        small=ParagraphStyle("s", parent=body, fontSize=7, leading=9),
        h1=ParagraphStyle("h1", parent=body, fontSize=18, leading=24, alignment=1),
        h2=ParagraphStyle("h2", parent=body, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3),
        h3=ParagraphStyle("h3", parent=body, fontSize=9.5, leading=13, spaceBefore=4, spaceAfter=2),
        font=font,
    )
