"""The PDF recipe every report shares: A4, reportlab's built-in Adobe CID font
STSong-Light (Chinese needs no font file and the text stays extractable), CJK wrapping,
gridded tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table

CID_FONT = "STSong-Light"


@dataclass(frozen=True)
class Kit:
    """Paragraph styles and builders of one document."""

    body: ParagraphStyle
    small: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle

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
    **info: str,
) -> Path:
    """Write ``story`` as an A4 PDF at ``path`` (15 mm margins, author handover; ``info``:
    more document properties such as ``subject``, ``keywords``); ``on_page`` draws on
    every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    path.parent.mkdir(parents=True, exist_ok=True)
    margin = 15 * mm
    pdf = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author="handover",
        **info,
    )
    if on_page is None:
        pdf.build(story)
    else:
        pdf.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return path


def kit() -> Kit:
    """The shared styles (registering the CID font once per process)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    body = ParagraphStyle("b", fontName=CID_FONT, fontSize=8.5, leading=11.5, wordWrap="CJK")
    return Kit(
        body=body,
        small=ParagraphStyle("s", parent=body, fontSize=7, leading=9),
        h1=ParagraphStyle("h1", parent=body, fontSize=18, leading=24, alignment=1),
        h2=ParagraphStyle("h2", parent=body, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3),
    )
