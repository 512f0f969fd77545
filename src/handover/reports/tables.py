"""Small shared rendering helpers: a workbook of plain sheets (openpyxl) and the
autoescaped Jinja2 environment every HTML report uses."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
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


#: what XML 1.0 cannot hold: the control characters but tab and line breaks, lone
#: surrogates and the noncharacters U+FFFE and U+FFFF
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xlsx_cell(value: Any) -> Any:
    """``value`` as an XLSX cell (or any XML) can hold it: text with the characters XML
    refuses (NUL, U+FFFE …) spelt ``\\x00`` / ``\\ufffe``; anything else as it is."""
    if isinstance(value, str):
        return _NOT_XML.sub(_spelt, value)
    return value


def _spelt(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_safe(value: Any) -> Any:
    """``value`` with every text in it (through dicts, lists and tuples) as XML can hold
    it (:func:`xlsx_cell`): a Word document refuses the control characters XLSX does, and a
    text stored before they were refused (a vertical tab pasted from Word) must still
    give its report."""
    if isinstance(value, dict):
        return {k: xml_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [xml_safe(v) for v in value]
    if isinstance(value, tuple):
        items = [xml_safe(v) for v in value]
        return value._make(items) if hasattr(value, "_make") else tuple(items)
    return xlsx_cell(value)


#: the first characters a spreadsheet reads a formula from (OWASP, "CSV injection"):
#: text starting so is written as a text cell with Excel's quote prefix
FORMULA_START = r"^[=+@\t\r-]"


def xlsx_text(value: str) -> bool:
    """Whether the text ``value`` needs :func:`xlsx_value`'s explicit text cell: openpyxl
    would store it as a formula (``=…``) or an error (``#N/A``), or a spreadsheet would
    read a formula from it once the cell is edited (``+ - @``, tab, CR first)."""
    from openpyxl.cell.cell import ERROR_CODES

    return value[:1] in ("=", "+", "-", "@", "\t", "\r") or value in ERROR_CODES


def xlsx_value(ws: Any, value: Any) -> Any:
    """``value`` ready for ``ws.append`` (a worksheet, also a write-only one): as
    :func:`xlsx_cell`, and text that is formula-like (:func:`xlsx_text`) as a text cell
    holding it exactly (type ``s``, quote prefix): never a live formula or an error
    cell in a workbook a buyer or an officer opens."""
    value = xlsx_cell(value)
    if isinstance(value, str) and xlsx_text(value):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def xlsx_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """``values`` as one row for ``ws.append``, each through :func:`xlsx_value`."""
    return [xlsx_value(ws, v) for v in values]


def out_folder(folder: Path, *, create: bool = True) -> Path:
    """``folder``, made with its parents, once it can be written to; BadInput naming it
    otherwise (a path through a file, a folder not writable), nothing written.
    ``create=False``: the same check before a long step, nothing made (the folder, or the
    nearest of its parents that exists, must be a folder one can write in)."""
    from handover.errors import BadInput

    if not create:
        near = folder
        while not near.exists() and near.parent != near:
            near = near.parent
        if not near.is_dir():
            reason = "FileExistsError" if near == folder else "NotADirectoryError"
            raise BadInput.msg("reports.out_folder", path=folder, reason=reason)
        if not os.access(near, os.W_OK | os.X_OK):
            raise BadInput.msg("reports.out_folder", path=folder, reason="PermissionError")
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput.msg("reports.out_folder", path=folder, reason=type(exc).__name__) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput.msg("reports.out_folder", path=folder, reason="PermissionError")
    return folder


def write_workbook(path: Path, sheets: Sequence[Sheet], *, heading: str = "") -> Path:
    """Write ``sheets`` to an XLSX file (bold header, frozen below it); returns ``path``.
    Every text is a text cell (:func:`xlsx_value`): no value becomes a formula. Written
    row by row (openpyxl's write-only mode: a list of tens of thousands of rows is not
    kept as cells first)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    def styled(ws: Any, value: Any, font: Any) -> Any:
        cell = xlsx_value(ws, value)
        if not isinstance(cell, Cell):
            cell = WriteOnlyCell(ws, cell)
        cell.font = font
        return cell

    wb = Workbook(write_only=True)
    for n, sh in enumerate(sheets):
        ws = wb.create_sheet(sh.title[:31])
        top = [[styled(ws, heading, Font(bold=True, size=14))]] if n == 0 and heading else []
        top += [xlsx_row(ws, (label, value)) for label, value in sh.lines]
        if sh.lines:
            top.append([])
        # what must precede the rows: the frozen pane below the header, the widths
        ws.freeze_panes = f"A{len(top) + 2}"
        for i, width in enumerate(sh.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        for row in top:
            ws.append(row)
        ws.append([styled(ws, h, Font(bold=True)) for h in sh.header])
        for row in sh.rows:
            ws.append(xlsx_row(ws, row))
    if not sheets:
        wb.create_sheet("Sheet")
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
