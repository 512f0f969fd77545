"""The public announcement (公告) for the people a campaign could not reach one by one:
every element of a full notice, no person named, as HTML (for the website) and PDF (for
print and the notice board; Chinese font embedded)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from handover.crypto.files import replacing
from handover.notices.templates import content_hash, load_renderer

if TYPE_CHECKING:
    from handover.notices.campaign import Campaign


@dataclass(frozen=True)
class Announcement:
    """The files written and the SHA-256 of each (what the ledger keeps)."""

    html: Path
    pdf: Path
    sha256: dict[str, str]
    unreachable: int


def write_announcement(
    camp: Campaign,
    folder: Path,
    *,
    unreachable: int,
    published: dt.date,
    text_template: Path | None = None,
    html_template: Path | None = None,
) -> Announcement:
    """Render the announcement in the campaign's language with its element texts (the
    template checked for every legal element first) into ``folder``."""
    from handover.notices.campaign import ANNOUNCEMENT_OF
    from handover.notices.letters import _styles, text_flowables, write_pdf
    from handover.reports.tables import out_folder

    out_folder(folder)  # a bad folder is refused before anything is written
    kind = ANNOUNCEMENT_OF[camp.kind]
    extra = {"unreachable": unreachable, "published": published.isoformat()}
    text = load_renderer(kind, camp.lang, camp.content, path=text_template).render("", "", **extra)
    html = load_renderer(kind, camp.lang, camp.content, path=html_template, fmt="html").render(
        "", "", **extra
    )
    suffix = "" if camp.lang == "zh-CN" else f".{camp.lang}"
    html_path = folder / f"campaign-{camp.id}-announcement{suffix}.html"
    with replacing(html_path, mode=0o644) as tmp:  # to be published
        tmp.write_text(html, "utf-8")
    lines = text.splitlines()
    st = _styles()
    story = [
        *text_flowables(lines[0], st["title"]),
        *text_flowables("\n".join(lines[1:]), st["body"]),
    ]
    pdf_path = write_pdf(
        folder / f"campaign-{camp.id}-announcement{suffix}.pdf",
        story,
        title=lines[0],
        footer=f"{camp.content.get('seller_name', '')} · {published.isoformat()}",
    )
    return Announcement(
        html_path,
        pdf_path,
        {"html": content_hash(html), "text": content_hash(text), "pdf": _file_sha(pdf_path)},
        unreachable,
    )


def _file_sha(path: Path) -> str:
    from handover.crypto.digest import sha256_hex

    return sha256_hex(path.read_bytes())
