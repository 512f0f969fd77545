"""Printed letters and PDF rendering of notices: one PDF per outbox batch, ready for mail
merge (one letter per person, each starting on a new page, address block where a
window envelope shows it), with the Chinese font embedded (:mod:`handover.reports.fonts`).

A letter counts as handed over when its batch's PDF is complete on disk: the file is
written under a temporary name, flushed to disk and renamed, and only then are its rows
``sent``. The file is named by the digest of its rows' idempotency keys, so a batch
written again after a crash replaces the same file rather than adding a second copy.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handover.crypto.digest import sha256_hex
from handover.crypto.files import replacing
from handover.i18n import t
from handover.notices.channels import Accepted, ChannelDown, Message, Result
from handover.notices.outbox import china_date

#: letters per PDF at most (one outbox batch is one PDF)
LETTERS_PER_PDF = 500


@dataclass(frozen=True)
class Letterhead:
    """Who the letters come from (printed on every letter)."""

    sender: str
    contact: str
    lang: str


def _styles() -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle

    from handover.reports.fonts import cjk_font

    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11),
        "address": ParagraphStyle("address", parent=body, fontSize=11.5, leading=17),
        "title": ParagraphStyle(
            "title", parent=body, fontSize=15, leading=22, alignment=1, spaceAfter=8
        ),
    }


def _para(text: str, style: Any) -> Any:
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    # leading spaces carry the template's indentation; reportlab drops plain ones
    stripped = text.lstrip(" ")
    pad = "&nbsp;" * (len(text) - len(stripped))
    return Paragraph(pad + escape(stripped), style)


def text_flowables(text: str, style: Any) -> list[Any]:
    """A plain-text notice as paragraphs (a blank line is a gap)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    out: list[Any] = []
    for line in text.splitlines():
        out.append(_para(line, style) if line.strip() else Spacer(1, 2.5 * mm))
    return out


def write_pdf(path: Path, story: list[Any], *, title: str, footer: str, mode: int = 0o644) -> Path:
    """Build ``story`` into ``path`` atomically (temporary file, fsync, rename): a reader
    never sees half a file, and a crash leaves none. ``mode``: the file's permissions."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    from handover.reports.fonts import BUILDING, cjk_font

    font = cjk_font()
    path.parent.mkdir(parents=True, exist_ok=True)

    def page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.drawString(20 * mm, 10 * mm, f"{footer} · {doc.page}")
        canvas.restoreState()

    with replacing(path, mode) as tmp:
        doc = SimpleDocTemplate(
            str(tmp),
            pagesize=A4,
            leftMargin=20 * mm,
            rightMargin=20 * mm,
            topMargin=18 * mm,
            bottomMargin=18 * mm,
            title=title,
            author="handover",
            initialFontName=font,
        )
        with BUILDING:  # one document at a time in this process (reportlab's font state)
            doc.build(story, onFirstPage=page, onLaterPages=page)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    return path


def letter_story(messages: Sequence[Message], head: Letterhead, today: dt.date) -> list[Any]:
    """The flowables of one letter per message, each on a new page."""
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer

    st = _styles()
    story: list[Any] = []
    for i, m in enumerate(messages):
        if i:
            story.append(PageBreak())
        story += [
            _para(f"{head.sender}  {head.contact}", st["small"]),
            Spacer(1, 22 * mm),  # the address sits in the window of a DL/C5 envelope
            *[_para(line, st["address"]) for line in m.address.splitlines()],
            _para(t("notices.letter.to", head.lang, name=m.name), st["address"]),
            Spacer(1, 14 * mm),
            _para(t("notices.letter.date", head.lang, date=today.isoformat()), st["small"]),
            Spacer(1, 4 * mm),
            _para(m.subject, st["title"]),
            *text_flowables(m.text, st["body"]),
        ]
    return story


class LetterChannel:
    """Letters as PDFs for mail merge in ``folder`` (one PDF per call of ``send_batch``)."""

    name = "letter"
    batch_size = LETTERS_PER_PDF

    def __init__(
        self,
        folder: Path,
        head: Letterhead,
        *,
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        self.folder = folder
        self.head = head
        # letters are dated in China time (UTC+8), whatever the machine's zone
        self.today = today or (lambda: china_date(dt.datetime.now(dt.UTC)))
        self.files: list[Path] = []

    def open(self) -> None:
        """Check that the folder can be written and the font is there (ChannelDown otherwise)."""
        from handover.reports.fonts import cjk_font

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ChannelDown.msg(
                "notices.letters_folder", path=self.folder, reason=type(exc).__name__
            ) from None
        cjk_font()

    def send(self, message: Message) -> Result:
        """One letter in a PDF of its own."""
        return self.send_batch([message])[0]

    def send_batch(self, messages: list[Message], accepted: Accepted | None = None) -> list[Result]:
        """Write the letters of ``messages`` into one PDF; each is ``sent`` once the file
        is complete (its provider id is ``file#n``)."""
        digest = sha256_hex("\n".join(m.key for m in messages).encode())[:16]
        path = self.folder / f"letters-{digest}.pdf"
        title = t("notices.letter.batch", self.head.lang, n=len(messages))
        try:
            write_pdf(
                path,
                letter_story(messages, self.head, self.today()),
                title=title,
                footer=f"{self.head.sender} · {path.name}",
                mode=0o600,  # names and addresses in clear: for the printing staff only
            )
        except OSError as exc:
            raise ChannelDown.msg(
                "notices.letters_folder", path=self.folder, reason=type(exc).__name__
            ) from None
        self.files.append(path)
        return [Result("sent", provider_id=f"{path.name}#{i + 1}") for i in range(len(messages))]

    def close(self) -> None:
        """Nothing to release."""
