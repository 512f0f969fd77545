"""A Chinese font that is embedded in every PDF handover writes for people to keep.

A letter or a public announcement must print the same on any reader and printer, so the
glyphs travel in the file: a TrueType font from a Debian package, registered with
reportlab as a ``TTFont`` (embedded as a subset). The Adobe CID fonts built into reportlab
(STSong-Light) are never embedded and render with whatever font the reader substitutes.
"""

from __future__ import annotations

import threading
from pathlib import Path

from handover.errors import HandoverError

#: (file, index in a .ttc collection, Debian package) in order of preference; only
#: TrueType outlines (reportlab cannot embed CFF/OpenType-CFF such as Noto CJK)
CANDIDATES: tuple[tuple[str, int, str], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "fonts-wqy-microhei"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "fonts-wqy-zenhei"),
)
FONT_NAME = "HandoverCJK"
PACKAGE = CANDIDATES[0][2]
#: Held while reportlab builds a document, and while the font is registered: reportlab
#: keeps the glyphs each document uses in its ``TTFont``, shared by the process, and two
#: documents built at once in two threads (two console jobs) corrupt it — a KeyError in
#: its ``makeSubset``, seen with two dossier builds. Documents are built one at a time.
BUILDING = threading.RLock()


class FontMissing(HandoverError):
    """The system lacks the font package (exit 2)."""

    exit_code = 2


def font_file(candidates: tuple[tuple[str, int, str], ...] = CANDIDATES) -> tuple[Path, int]:
    """The first installed font of ``candidates``; FontMissing naming the package otherwise."""
    for path, index, _ in candidates:
        if Path(path).is_file():
            return Path(path), index
    raise FontMissing.msg("reports.font_missing", path=candidates[0][0], package=candidates[0][2])


def cjk_font() -> str:
    """Register the embedded Chinese font with reportlab (once) and return its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with BUILDING:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            path, index = font_file()
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=index))
    return FONT_NAME
