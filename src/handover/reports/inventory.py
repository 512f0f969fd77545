"""The inventory report: every column × PII type × JR/T 0171 tier × JR/T 0197 level.

Written as XLSX (openpyxl) and HTML (jinja2, autoescaped) in zh-CN or English; the
evidence and notes are rendered in the report's language (plain-text notes of a source
as they are). Only masked evidence reaches the report.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto.files import replacing
from handover.i18n import normalize_lang, t
from handover.reports.tables import out_folder, xlsx_row
from handover.taxonomy import TAXONOMY

if TYPE_CHECKING:
    from handover.detect.scan import Inventory

TEMPLATES = Path(__file__).parent / "templates"

#: the report's labels, catalogue keys ``inventory.<name>``
_KEYS = (
    "title",
    "source",
    "mode",
    "mode_sample",
    "mode_full",
    "when",
    "summary",
    "summary_text",
    "by_type",
    "type",
    "label",
    "columns",
    "masking",
    "table",
    "rows",
    "column",
    "db_type",
    "pii",
    "sensitive",
    "confidence",
    "evidence",
    "free_text",
    "yes",
    "no",
    "footer",
    "sheet_summary",
    "sheet_columns",
    "sheet_notes",
    "note",
)


def _texts(lang: str) -> dict[str, str]:
    return {k: t(f"inventory.{k}", lang) for k in _KEYS if k not in ("mode_sample", "summary_text")}


def _context(inv: Inventory, lang: str) -> dict[str, Any]:
    from handover.detect.messages import render

    c = inv.counts()
    mode = (
        t("inventory.mode_full", lang)
        if inv.mode == "full"
        else t("inventory.mode_sample", lang, n=inv.sample, seed=inv.seed)
    )
    summary = t(
        "inventory.summary_text",
        lang,
        tables=c["tables"],
        columns=c["columns"],
        pii=c["pii_columns"],
        sensitive=c["sensitive_columns"],
        c3=c["c3_columns"],
        free=c["free_text_columns"],
    )
    zh = lang == "zh-CN"
    yes, no = t("inventory.yes", lang), t("inventory.no", lang)
    types = [
        {
            "name": p.name,
            "label": p.zh if zh else p.en,
            "count": c["by_type"].get(p.name, 0),
            "sensitive": yes if p.sensitive else no,
            "tier": p.tier,
            "level": p.level,
            "mask": p.mask.describe(lang),
        }
        for p in TAXONOMY
        if c["by_type"].get(p.name)
    ]
    return {
        "inv": inv,
        "t": _texts(lang),
        "lang": lang,
        "mode": mode,
        "summary": summary,
        "types": types,
        "note": lambda n: render(n, lang),
        "when": inv.started_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render_html(inv: Inventory, lang: str = "zh-CN") -> str:
    """The inventory report as one self-contained HTML page."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"])
    )
    return env.get_template("inventory.html").render(**_context(inv, normalize_lang(lang)))


def write_xlsx(inv: Inventory, path: Path, lang: str = "zh-CN") -> Path:
    """The inventory report as an XLSX workbook (summary, columns, notes). Names and
    notes come from the source: every text is a text cell (:func:`xlsx_row`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    lang = normalize_lang(lang)
    ctx = _context(inv, lang)
    tx = ctx["t"]
    wb = Workbook()
    ws = wb.active
    ws.title = tx["sheet_summary"]
    bold = Font(bold=True)
    for row in (
        [tx["title"]],
        [tx["source"], inv.source],
        [tx["mode"], ctx["mode"]],
        [tx["when"], ctx["when"]],
        [tx["summary"], ctx["summary"]],
        [],
    ):
        ws.append(xlsx_row(ws, row))
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(
        xlsx_row(
            ws,
            [
                tx["type"],
                tx["label"],
                tx["columns"],
                "PIPL 28",
                "JR/T 0171",
                "JR/T 0197",
                tx["masking"],
            ],
        )
    )
    for cell in ws[ws.max_row]:
        cell.font = bold
    for r in ctx["types"]:
        ws.append(
            xlsx_row(
                ws,
                [
                    r["name"],
                    r["label"],
                    r["count"],
                    r["sensitive"],
                    r["tier"],
                    r["level"],
                    r["mask"],
                ],
            )
        )
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 40
    cols = wb.create_sheet(tx["sheet_columns"])
    cols.append(
        xlsx_row(
            cols,
            [
                tx["table"],
                tx["column"],
                tx["db_type"],
                tx["pii"],
                "JR/T 0171",
                "JR/T 0197",
                tx["sensitive"],
                tx["free_text"],
                tx["confidence"],
                tx["evidence"],
            ],
        )
    )
    for cell in cols[1]:
        cell.font = bold
    fills = {
        "C3": PatternFill("solid", fgColor="F8D7DA"),
        "C2": PatternFill("solid", fgColor="FFF3CD"),
    }
    for tr in inv.tables:
        for c in tr.columns:
            cols.append(
                xlsx_row(
                    cols,
                    (
                        tr.name,
                        c.name,
                        c.db_type,
                        ", ".join(f"{p.type} {p.share:.1%}" for p in c.pii),
                        c.tier or "",
                        c.level,
                        tx["yes"] if c.sensitive else "",
                        tx["yes"] if c.free_text else "",
                        round(c.confidence, 3),
                        "\n".join(ctx["note"](e) for e in c.evidence + c.notes),
                    ),
                )
            )
            if c.tier in fills:
                for cell in cols[cols.max_row][:6]:
                    cell.fill = fills[c.tier]
    for letter, width in zip("ABCDEFGHIJ", (18, 18, 14, 30, 10, 10, 8, 8, 10, 80), strict=True):
        cols.column_dimensions[letter].width = width
    cols.freeze_panes = "A2"
    notes = wb.create_sheet(tx["sheet_notes"])
    notes.append(xlsx_row(notes, [tx["table"], tx["note"]]))
    for tr in inv.tables:
        for n in tr.notes:
            notes.append(xlsx_row(notes, [tr.name, ctx["note"](n)]))
    with replacing(path) as tmp:
        wb.save(tmp)
    return path


def write_inventory_reports(inv: Inventory, out_dir: Path, lang: str = "zh-CN") -> list[Path]:
    """Write ``inventory-<stamp>.xlsx`` and ``.html`` into ``out_dir``; returns both paths.
    A name an earlier scan of the same second holds gets a number (``-2``, ``-3`` …):
    each scan keeps its own reports, also when the console runs several at once."""
    lang = normalize_lang(lang)
    out_folder(out_dir)  # BadInput naming a folder that cannot be written to
    stamp = inv.started_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
    suffix = "" if lang == "zh-CN" else ".en"
    base = _claim(out_dir, f"inventory-{stamp}", f"{suffix}.xlsx")
    xlsx, html = Path(f"{base}{suffix}.xlsx"), Path(f"{base}{suffix}.html")
    try:
        write_xlsx(inv, xlsx, lang)
        with replacing(html) as tmp:
            tmp.write_text(render_html(inv, lang), encoding="utf-8")
    except BaseException:
        xlsx.unlink(missing_ok=True)  # the claimed name, empty or half a pair
        raise
    return [xlsx, html]


def _claim(folder: Path, stem: str, ending: str) -> Path:
    """``folder/stem`` (or ``stem-2``, ``stem-3`` … the first free), its file ``ending``
    created empty here and now so that no other writer takes the name."""
    n = 1
    while True:
        base = folder / (stem if n == 1 else f"{stem}-{n}")
        try:
            os.close(os.open(f"{base}{ending}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            n += 1
            continue
        return base
