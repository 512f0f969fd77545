"""Small shared rendering helpers: a workbook of plain sheets (openpyxl) and the
autoescaped Jinja2 environment every HTML report uses."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Sheet:
    """One worksheet: a title, an optional block of label/value lines, a header and rows."""

    title: str
    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    lines: list[tuple[str, Any]] = field(default_factory=list)
    widths: Sequence[int] = ()


def xlsx_cell(value: Any) -> Any:
    """``value`` as an XLSX cell can hold it: text with the control characters XLSX
    refuses (NUL …) spelt ``\\x00``; anything else as it is."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return value


def out_folder(folder: Path) -> Path:
    """``folder``, made with its parents, once it can be written to; BadInput naming it
    otherwise (a path through a file, a folder not writable), nothing written."""
    from handover.errors import BadInput

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput.msg("reports.out_folder", path=folder, reason=type(exc).__name__) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput.msg("reports.out_folder", path=folder, reason="PermissionError")
    return folder


def write_workbook(path: Path, sheets: Sequence[Sheet], *, heading: str = "") -> Path:
    """Write ``sheets`` to an XLSX file (bold header, frozen below it); returns ``path``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    first = True
    for sh in sheets:
        ws = wb.active if first else wb.create_sheet()
        ws.title = sh.title[:31]
        if first and heading:
            ws.append([heading])
            ws["A1"].font = Font(bold=True, size=14)
        first = False
        for label, value in sh.lines:
            ws.append([xlsx_cell(label), xlsx_cell(value)])
        if sh.lines:
            ws.append([])
        ws.append([xlsx_cell(h) for h in sh.header])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        ws.freeze_panes = f"A{ws.max_row + 1}"  # a string: ws.cell() would add a row
        for row in sh.rows:
            ws.append([xlsx_cell(v) for v in row])
        for i, width in enumerate(sh.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
    out_folder(path.parent)
    wb.save(path)
    return path


def html_env(folder: Path) -> Any:
    """A Jinja2 environment over ``folder`` that autoescapes HTML templates."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
