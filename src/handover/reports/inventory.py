"""The inventory report: every column × PII type × JR/T 0171 tier × JR/T 0197 level.

Written as XLSX (openpyxl) and HTML (jinja2, autoescaped) in zh-CN or English; the
evidence and notes are rendered in the report's language (plain-text notes of a source
as they are). Only masked evidence reaches the report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.i18n import add, normalize_lang, t
from handover.taxonomy import TAXONOMY

if TYPE_CHECKING:
    from handover.detect.scan import Inventory

TEMPLATES = Path(__file__).parent / "templates"

_KEYS = {
    "title": ("个人信息资产清单(数据分类分级)", "Personal information inventory (classification)"),
    "source": ("数据源", "Source"),
    "mode": ("扫描方式", "Scan mode"),
    "mode_sample": (
        "抽样扫描(每表 {n} 行,种子 {seed})",
        "sampled ({n} rows per table, seed {seed})",
    ),
    "mode_full": ("全量扫描", "full (every row)"),
    "when": ("扫描时间", "Scanned at"),
    "summary": ("概况", "Summary"),
    "summary_text": (
        "{tables} 张表,{columns} 个字段;含个人信息 {pii} 个,敏感个人信息 {sensitive} 个,"
        "C3 {c3} 个,自由文本 {free} 个",
        "{tables} tables, {columns} columns; {pii} with personal information, {sensitive} "
        "sensitive, {c3} C3, {free} free text",
    ),
    "by_type": ("按信息类型汇总", "By PII type"),
    "type": ("类型", "Type"),
    "label": ("名称", "Name"),
    "columns": ("字段数", "Columns"),
    "masking": ("默认遮蔽规则", "Default masking"),
    "table": ("表", "Table"),
    "rows": ("行", "rows"),
    "column": ("字段", "Column"),
    "db_type": ("数据库类型", "DB type"),
    "pii": ("个人信息类型(占比)", "PII types (share)"),
    "sensitive": ("敏感", "Sensitive"),
    "confidence": ("置信度", "Confidence"),
    "evidence": ("依据(示例已遮蔽)", "Evidence (examples masked)"),
    "free_text": ("自由文本", "free text"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "footer": (
        "依据 PIPL 第 28 条、JR/T 0171-2020、JR/T 0197-2020 分类分级;报告中的示例值均已遮蔽。",
        "Classified per PIPL Art. 28, JR/T 0171-2020 and JR/T 0197-2020; every example is masked.",
    ),
    "sheet_summary": ("汇总", "Summary"),
    "sheet_columns": ("字段清单", "Columns"),
    "sheet_notes": ("问题与说明", "Notes"),
    "note": ("说明", "Note"),
}
add({f"inventory.{k}": {"zh-CN": zh, "en": en} for k, (zh, en) in _KEYS.items()})


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
    """The inventory report as an XLSX workbook (summary, columns, notes)."""
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
        ws.append(row)
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(
        [tx["type"], tx["label"], tx["columns"], "PIPL 28", "JR/T 0171", "JR/T 0197", tx["masking"]]
    )
    for cell in ws[ws.max_row]:
        cell.font = bold
    for r in ctx["types"]:
        ws.append(
            [r["name"], r["label"], r["count"], r["sensitive"], r["tier"], r["level"], r["mask"]]
        )
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 40
    cols = wb.create_sheet(tx["sheet_columns"])
    cols.append(
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
        ]
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
                [
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
                ]
            )
            if c.tier in fills:
                for cell in cols[cols.max_row][:6]:
                    cell.fill = fills[c.tier]
    for letter, width in zip("ABCDEFGHIJ", (18, 18, 14, 30, 10, 10, 8, 8, 10, 80), strict=True):
        cols.column_dimensions[letter].width = width
    cols.freeze_panes = "A2"
    notes = wb.create_sheet(tx["sheet_notes"])
    notes.append([tx["table"], tx["note"]])
    for tr in inv.tables:
        for n in tr.notes:
            notes.append([tr.name, ctx["note"](n)])
    wb.save(path)
    return path


def write_inventory_reports(inv: Inventory, out_dir: Path, lang: str = "zh-CN") -> list[Path]:
    """Write ``inventory-<stamp>.xlsx`` and ``.html`` into ``out_dir``; returns both paths."""
    lang = normalize_lang(lang)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = inv.started_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")
    suffix = "" if lang == "zh-CN" else ".en"
    base = out_dir / f"inventory-{stamp}{suffix}"
    xlsx = write_xlsx(inv, Path(f"{base}.xlsx"), lang)
    html = Path(f"{base}.html")
    tmp = Path(f"{base}.html.tmp")
    tmp.write_text(render_html(inv, lang), encoding="utf-8")
    tmp.replace(html)
    return [xlsx, html]
