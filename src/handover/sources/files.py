"""File sources: CSV (encoding, delimiter and header sniffed), XLSX, Parquet, folders.

CSV and XLSX carry no types: every column streams as Arrow ``string`` so leading zeros
and 18-digit numbers stay exactly as written. Parquet keeps its own schema.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from handover.errors import BadInput
from handover.i18n import Msg
from handover.sources.base import DEFAULT_BATCH, ColumnInfo, Source, TableInfo

HEAD_BYTES = 1 << 20
CSV_SUFFIXES = (".csv", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
DEFAULT_SHEETS = {"sheet", "sheet1", "工作表1", "表1"}


@dataclass(frozen=True)
class CsvDialect:
    """What sniffing found: encoding, delimiter, whether the first row is a header."""

    encoding: str  # Python codec name: utf-8, utf-8-sig, gbk, gb18030
    delimiter: str
    header: bool

    @property
    def label(self) -> str:
        return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8-SIG", "gbk": "GBK", "gb18030": "GB18030"}[
            self.encoding
        ]


def _row_of(data: bytes, offset: int) -> int:
    """1-based line number of byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


@dataclass(frozen=True)
class BadRow:
    """A row a file reader could not read: the line it starts on and why."""

    row: int | None
    why: Msg


#: row numbers named in one message; the rest are counted
ROWS_SHOWN = 10


def row_list(rows: list[int | None]) -> str:
    """``3, 7, 9 …`` — the first :data:`ROWS_SHOWN` row numbers of ``rows``."""
    known = [str(r) for r in rows if r is not None][:ROWS_SHOWN]
    more = len(rows) > len(known)
    return ", ".join(known) + (" …" if more else "") if known else "?"


def check_bad_rows(where: object, bad: list[BadRow], allowance: int) -> None:
    """Refuse a table that lost more rows than ``allowance`` (BadInput naming the rows)."""
    if len(bad) > allowance:
        raise BadInput.msg(
            "sources.bad_rows",
            where=where,
            n=len(bad),
            rows=row_list([b.row for b in bad]),
            why=bad[0].why,
        )


def _line_start(mm: Any, needle: bytes, start: int) -> int:
    """Offset of the first ``needle`` at or after ``start`` that begins a line; -1 if none."""
    at = int(mm.find(needle, start))
    while at > 0 and mm[at - 1] != 0x0A:
        at = int(mm.find(needle, at + 1))
    return at


def locate_rows(path: Path, encoding: str, texts: list[str]) -> list[int | None]:
    """The line on which each of ``texts`` (rows the CSV parser gave up on, in file order)
    starts; None where the text is not found. One pass over the file, memory-mapped."""
    import mmap

    import numpy as np

    if not texts:
        return []
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    out: list[int | None] = []
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        view = np.frombuffer(mm, dtype=np.uint8)
        try:
            counted, line, pos = 0, 1, 0
            for text in texts:
                needle = text.encode(codec, errors="ignore")[:4096]
                at = _line_start(mm, needle, pos) if needle else -1
                if at < 0 and pos:
                    at = _line_start(mm, needle, 0)
                if at < 0:
                    out.append(None)
                    continue
                if at < counted:
                    counted, line = 0, 1
                line += int(np.count_nonzero(view[counted:at] == 0x0A))
                counted, pos = at, at + 1
                out.append(line)
        finally:
            del view
    return out


def _odd_quotes(path: Path, quote: int = 0x22) -> bool:
    """True when the file holds an odd number of quote characters (vectorised count)."""
    import mmap

    import numpy as np

    if path.stat().st_size == 0:
        return False
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        view = np.frombuffer(mm, dtype=np.uint8)
        try:
            return bool(int(np.count_nonzero(view == quote)) % 2)
        finally:
            del view


def unclosed_quote(path: Path, encoding: str, delimiter: str) -> int | None:
    """The line where a quote opens that the file never closes (the parser would take the
    rest of the file as one value), or None. Only a file with an odd number of quotes
    is parsed again, by the strict ``csv`` module."""
    if not _odd_quotes(path):
        return None
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        start = 0
        try:
            while True:
                start = reader.line_num
                if next(reader, None) is None:
                    return None
        except csv.Error as exc:
            return start + 1 if "unexpected end of data" in str(exc) else None


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM), GBK or GB18030 — whichever decodes the file's head.

    Raises :class:`BadInput` naming the file and row of the first undecodable byte, and
    refuses a head that mixes UTF-8 lines with lines in another encoding (decoding it
    whole as GBK would turn the UTF-8 lines into other characters without an error).
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    first_error: UnicodeDecodeError | None = None
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            head.decode(enc)
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the head's end is not an error.
            if len(head) == HEAD_BYTES and exc.start >= len(head) - 4:
                return enc
            if first_error is None:
                first_error = exc
            continue
        if enc != "utf-8":
            _refuse_mixed(path, head, enc)
            if len(head) == HEAD_BYTES:
                _refuse_utf8_later(path, enc)
        return enc
    assert first_error is not None
    raise BadInput.msg("sources.bad_bytes", path=path, row=_row_of(head, first_error.start))


_CJK = re.compile("[\u4e00-\u9fff]")
#: a line counts as UTF-8 text when it decodes as UTF-8 and holds this many Chinese
#: characters (a GBK line decoding as such is about as likely as a hash collision)
UTF8_EVIDENCE = 4


def _refuse_mixed(path: Path, head: bytes, enc: str) -> None:
    """BadInput when ``head`` (decodable as ``enc``) has lines that are clearly UTF-8
    Chinese text beside lines that are not UTF-8 at all."""
    first_utf8: int | None = None  # byte offset of the first UTF-8 line
    first_other: int | None = None  # byte offset of the first byte that is not UTF-8
    offset = 0
    for raw in head.splitlines(keepends=True):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if first_other is None and not (
                offset + len(raw) == len(head) == HEAD_BYTES and exc.start >= len(raw) - 4
            ):
                first_other = offset + exc.start
        else:
            if first_utf8 is None and len(_CJK.findall(text)) >= UTF8_EVIDENCE:
                first_utf8 = offset
        if first_utf8 is not None and first_other is not None:
            break
        offset += len(raw)
    if first_utf8 is None or first_other is None:
        return
    at = max(first_utf8, first_other)
    label = {"gbk": "GBK", "gb18030": "GB18030"}[enc]
    first, then = ("UTF-8", label) if first_utf8 < first_other else (label, "UTF-8")
    raise BadInput.msg(
        "sources.mixed_encodings",
        path=path,
        row=_row_of(head, at),
        offset=at,
        first=first,
        then=then,
    )


#: bytes of a file examined at once for UTF-8 text after its head (plus an overlap)
SCAN_CHUNK = 16 << 20
#: candidate places checked line by line at most (each a whole-line UTF-8 decode)
MAX_CANDIDATES = 10_000


def _refuse_utf8_later(path: Path, enc: str) -> None:
    """BadInput when a line after the head of a GBK/GB18030 file is clearly UTF-8 Chinese
    text (the rule of :func:`_refuse_mixed`). Vectorised: numpy finds places where four
    3-byte UTF-8 sequences of Chinese characters follow each other (lead E4–E9, two
    continuation bytes 80–BF; GBK text almost never lines up so), and only the lines
    holding one are decoded."""
    import mmap

    import numpy as np

    size = path.stat().st_size
    span = 12  # four 3-byte sequences
    checked = 0
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = HEAD_BYTES - span
        while start < size - span + 1 and checked < MAX_CANDIDATES:
            end = min(size, start + SCAN_CHUNK + span)
            v = np.frombuffer(mm, dtype=np.uint8, count=end - start, offset=start)
            lead = (v >= 0xE4) & (v <= 0xE9)
            cont = (v >= 0x80) & (v <= 0xBF)
            tri = lead[:-2] & cont[1:-1] & cont[2:]
            run = tri[:-9] & tri[3:-6] & tri[6:-3] & tri[9:]
            line_end = -1
            for i in np.flatnonzero(run).tolist():
                at = start + int(i)
                if at <= line_end:
                    continue  # this line was decoded already
                checked += 1
                line_start = mm.rfind(b"\n", 0, at) + 1
                line_end = mm.find(b"\n", at)
                line_end = size if line_end < 0 else line_end
                try:
                    text = mm[line_start:line_end].decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if len(_CJK.findall(text)) >= UTF8_EVIDENCE:
                    del v, lead, cont, tri, run
                    row = _count_lines(mm, line_start) + 1
                    label = {"gbk": "GBK", "gb18030": "GB18030"}[enc]
                    raise BadInput.msg(
                        "sources.mixed_encodings",
                        path=path,
                        row=row,
                        offset=line_start,
                        first=label,
                        then="UTF-8",
                    )
                if checked >= MAX_CANDIDATES:
                    break
            del v, lead, cont, tri, run
            start = end - span + 1


def _count_lines(mm: Any, end: int) -> int:
    """Newlines in the first ``end`` bytes of ``mm`` (vectorised, in chunks)."""
    import numpy as np

    n = 0
    for at in range(0, end, SCAN_CHUNK):
        v = np.frombuffer(mm, dtype=np.uint8, count=min(SCAN_CHUNK, end - at), offset=at)
        n += int(np.count_nonzero(v == 0x0A))
        del v
    return n


_NUMERIC = re.compile(r"^[\s+\-]?[0-9][0-9.,\-/:\s]*[Ee]?[+\-]?[0-9]*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .\-]*$")


def sniff_dialect(path: Path, head: bytes, encoding: str) -> CsvDialect:
    """Delimiter (, ; tab |) and header presence from the first lines of the file."""
    text = head.decode(encoding, errors="ignore")
    lines = text.splitlines()[:50]
    if len(head) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]
    sample = "\n".join(lines)
    if path.suffix.lower() == ".tsv":
        delim = "\t"
    else:
        try:
            delim = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            counts = {d: sample.count(d) for d in ",;\t|"}
            delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    rows = list(csv.reader(lines[:20], delimiter=delim))
    return CsvDialect(encoding, delim, _has_header(rows))


def _has_header(rows: list[list[str]]) -> bool:
    if not rows:
        return False
    first = [c.strip() for c in rows[0]]
    if any(not c for c in first):
        return False
    if any(_NUMERIC.match(c) for c in first):
        return False
    if len(rows) == 1:
        return True
    # A header differs in kind from the data below it: some column is numeric or long
    # in the data but not in the first row, or the first row looks like identifiers.
    for row in rows[1:]:
        for cell in row[: len(first)]:
            if _NUMERIC.match(cell.strip()) and cell.strip():
                return True
    if all(_IDENT.match(c) for c in first):
        return True
    lengths = [len(c) for c in first]
    data_lengths = [len(c) for r in rows[1:] for c in r]
    return bool(data_lengths) and max(lengths) < max(data_lengths)


class CsvSource(Source):
    """One CSV file as one table (named after the file).

    Every row the parser cannot read (more or fewer fields than the header, a quote that
    is never closed) is counted with its line number; more of them than
    ``allow_bad_rows`` and reading the file fails naming them (:class:`BadInput`).
    """

    kind = "csv"

    def __init__(self, path: Path, name: str | None = None, *, allow_bad_rows: int = 0) -> None:
        if not path.is_file():
            raise BadInput.msg("sources.no_file", path=path)
        self.path = path
        self.display = str(path)
        self.name = name or path.stem
        self.allow_bad_rows = allow_bad_rows
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        self.dialect = detect_encoding(path, head) if head else "utf-8"
        self.csv = (
            sniff_dialect(path, head, self.dialect) if head else CsvDialect("utf-8", ",", False)
        )
        self._info: TableInfo | None = None
        self._names: list[str] = []
        self._bad: list[BadRow] = []
        #: the last row the parser delivered is a quote never closed (dropped when allowed)
        self._open_tail = False

    def _header_names(self) -> list[str]:
        with self.path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        text = head.decode(self.csv.encoding, errors="ignore")
        first = next(csv.reader(text.splitlines()[:1], delimiter=self.csv.delimiter), [])
        if self.csv.header:
            names = [c.strip() or f"column_{i + 1}" for i, c in enumerate(first)]
            check_names(self.path, names)
        else:
            names = [f"column_{i + 1}" for i in range(len(first))]
        return names

    def _reader(self, columns: list[str] | None, batch_size: int, bad: list[Any]) -> Any:
        import pyarrow.csv as pcsv

        names = self._names

        def on_invalid(row: Any) -> str:
            bad.append((row.expected_columns, row.actual_columns, row.text))
            return "skip"

        return pcsv.open_csv(
            str(self.path),
            read_options=pcsv.ReadOptions(
                column_names=names,
                skip_rows=1 if self.csv.header else 0,
                encoding=self.csv.encoding,
                block_size=max(1 << 20, min(batch_size * 200, 64 << 20)),
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=self.csv.delimiter,
                newlines_in_values=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=columns,
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=False,
            ),
        )

    def _fail(self, exc: Exception) -> BadInput:
        # Locate the first undecodable byte ourselves: pyarrow's message quotes row text.
        found = first_undecodable(self.path, self.csv.encoding)
        if found is not None:
            offset, row = found
            return BadInput.msg(
                "sources.mixed_encoding",
                path=self.path,
                row=row,
                offset=offset,
                encoding=self.csv.label,
            )
        return BadInput.msg("sources.bad_csv", path=self.path, kind=type(exc).__name__)

    def _bad_rows(self, raw: list[Any]) -> list[BadRow]:
        lines = locate_rows(self.path, self.csv.encoding, [r[2] for r in raw])
        out = []
        for (expected, fields, text), line in zip(raw, lines, strict=True):
            if text.count('"') % 2:
                why = Msg("sources.why.quote", row=line or "?")
            else:
                why = Msg("sources.why.fields", row=line or "?", fields=fields, expected=expected)
            out.append(BadRow(line, why))
        return out

    def tables(self) -> list[TableInfo]:
        """The file as one table; rows are counted by reading it once, and the rows the
        parser could not read are checked against ``allow_bad_rows`` here, before any
        row is delivered."""
        if self._info is not None:
            return [self._info]
        self._names = self._header_names()
        raw: list[Any] = []
        rows = 0
        try:
            for batch in self._reader(
                [self._names[0]] if self._names else None, DEFAULT_BATCH, raw
            ):
                rows += batch.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise self._fail(exc) from None
        bad = self._bad_rows(raw)
        open_at = unclosed_quote(self.path, self.csv.encoding, self.csv.delimiter)
        if open_at is not None and rows and not any(b.row == open_at for b in bad):
            bad.append(BadRow(open_at, Msg("sources.why.quote", row=open_at)))
            self._open_tail = True
            rows -= 1
        check_bad_rows(self.path, bad, self.allow_bad_rows)
        self._bad = bad
        notes: list[Msg | str] = [
            Msg("sources.note.encoding", encoding=self.csv.label),
            Msg("sources.note.delimiter", delimiter=self.csv.delimiter),
        ]
        if not self.csv.header:
            notes.append(Msg("sources.note.no_header"))
        if bad:
            notes.append(
                Msg("sources.note.skipped", n=len(bad), rows=row_list([b.row for b in bad]))
            )
        cols = [ColumnInfo(n, "TEXT", pa.string()) for n in self._names]
        self._info = TableInfo(self.name, cols, [], rows, notes)
        return [self._info]

    def skipped(self) -> dict[str, list[int]]:
        """The lines of the rows this file lost (only as many as allowed)."""
        self.tables()
        return {self.name: [b.row or 0 for b in self._bad]} if self._bad else {}

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Every data row, all columns as strings; the rows :meth:`tables` found unreadable
        are left out, and the count delivered must match the count taken then."""
        info = self.table(table)
        for c in columns or []:
            if c not in info.column_names:
                raise BadInput.msg("sources.no_column", path=self.path, column=c)
        raw: list[Any] = []
        delivered = 0
        try:
            pending: pa.RecordBatch | None = None
            for batch in self._reader(columns, batch_size, raw):
                if pending is not None:
                    yield from _slices(pending, batch_size)
                    delivered += pending.num_rows
                pending = batch
            if pending is not None:
                if self._open_tail and pending.num_rows:
                    pending = pending.slice(0, pending.num_rows - 1)
                yield from _slices(pending, batch_size)
                delivered += pending.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise self._fail(exc) from None
        lost = len(raw) + (1 if self._open_tail else 0)
        if delivered != info.rows or lost != len(self._bad):
            raise BadInput.msg(
                "sources.changed", path=self.path, rows=delivered, expected=info.rows
            )


def _slices(batch: pa.RecordBatch, size: int) -> Iterator[pa.RecordBatch]:
    for off in range(0, batch.num_rows, size):
        yield batch.slice(off, size)


def check_names(where: object, names: list[str]) -> None:
    """Refuse column names a table cannot have: the same name twice, or a control
    character (NUL …; tab and line breaks are kept, as Excel headers hold them) that no
    report, package or database can carry."""
    seen: set[str] = set()
    for i, n in enumerate(names):
        bad = next((ch for ch in n if ch not in "\t\n\r" and ord(ch) < 0x20), None)
        if bad is not None:
            raise BadInput.msg(
                "sources.control_in_name", where=where, position=i + 1, code=f"U+{ord(bad):04X}"
            )
        if n in seen:
            raise BadInput.msg("sources.duplicate_column", where=where, column=n)
        seen.add(n)


def first_undecodable(path: Path, encoding: str) -> tuple[int, int] | None:
    """``(byte offset, line)`` of the first byte of ``path`` that is not valid ``encoding``,
    or None; read in chunks (the file is never held whole)."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    chunk_size = 8 << 20
    start = 0  # file offset of ``data``
    line = 1  # line of ``start``
    carry = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(chunk_size)
            final = len(chunk) < chunk_size
            data = carry + chunk
            carry = b""
            try:
                data.decode(codec)
            except UnicodeDecodeError as exc:
                if not final and exc.end >= len(data) - 1 and len(data) - exc.start <= 4:
                    # A character cut by the chunk's end: decode it with the next chunk.
                    carry, data = data[exc.start :], data[: exc.start]
                else:
                    return start + exc.start, line + data.count(b"\n", 0, exc.start)
            line += data.count(b"\n")
            start += len(data)
            if final:
                return None


class XlsxSource(Source):
    """An XLSX workbook read with openpyxl in read-only mode; one table per sheet.

    A row holding a value to the right of the header's last column has a cell no column
    can take: it counts as unreadable, like a ragged CSV row (see ``allow_bad_rows``).
    """

    kind = "xlsx"

    def __init__(self, path: Path, *, allow_bad_rows: int = 0) -> None:
        import openpyxl

        if not path.is_file():
            raise BadInput.msg("sources.no_file", path=path)
        self.path = path
        self.display = str(path)
        self.allow_bad_rows = allow_bad_rows
        try:
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException
            raise BadInput.msg("sources.bad_xlsx", path=path, kind=type(exc).__name__) from None
        sheets = self.book.sheetnames
        single_default = len(sheets) == 1 and sheets[0].strip().lower() in DEFAULT_SHEETS
        self._sheet_of = {(path.stem if single_default else s): s for s in sheets}
        self._tables: list[TableInfo] | None = None
        self._bad: dict[str, list[BadRow]] = {}

    def _rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        ws = self.book[self._sheet_of[table]]
        return iter(ws.iter_rows(values_only=True))

    def _first_row(self, table: str) -> int:
        """The sheet row number of the first row :meth:`_rows` gives (the header)."""
        ws = self.book[self._sheet_of[table]]
        return int(getattr(ws, "min_row", 1) or 1)

    def _where(self, table: str) -> Msg:
        return Msg("sources.in_sheet", path=self.path, sheet=self._sheet_of[table])

    def tables(self) -> list[TableInfo]:
        """One table per sheet: first row is the header; rows counted by reading, and
        rows with values beyond the header checked against ``allow_bad_rows``."""
        if self._tables is not None:
            return self._tables
        out = []
        for name in self._sheet_of:
            it = self._rows(name)
            header = next(it, None) or ()
            width = len(header)
            while width and header[width - 1] in (None, ""):
                width -= 1
            names = [
                str(h).strip() if h not in (None, "") else f"column_{i + 1}"
                for i, h in enumerate(header[:width])
            ]
            check_names(self._where(name), names)
            rows = 0
            bad: list[BadRow] = []
            first = self._first_row(name)
            for n, r in enumerate(it, start=first + 1):
                if _beyond(r, width):
                    bad.append(BadRow(n, Msg("sources.why.wide", row=n, columns=width)))
                elif any(v not in (None, "") for v in r[:width]):
                    rows += 1
            check_bad_rows(self._where(name), bad, self.allow_bad_rows)
            self._bad[name] = bad
            notes: list[Msg | str] = []
            if bad:
                notes.append(
                    Msg("sources.note.skipped", n=len(bad), rows=row_list([b.row for b in bad]))
                )
            cols = [ColumnInfo(n, "XLSX CELL", pa.string()) for n in names]
            out.append(TableInfo(name, cols, [], rows, notes))
        self._tables = out
        return out

    def skipped(self) -> dict[str, list[int]]:
        """The sheet rows each table lost (only as many as allowed)."""
        self.tables()
        return {k: [b.row or 0 for b in v] for k, v in self._bad.items() if v}

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Every non-empty row after the header; cells become strings column by column."""
        info = self.table(table)
        names = info.column_names
        wanted = columns or names
        idx = []
        for c in wanted:
            if c not in names:
                raise BadInput.msg("sources.sheet_no_column", path=self.path, sheet=table, column=c)
            idx.append(names.index(c))
        schema = pa.schema([pa.field(c, pa.string()) for c in wanted])
        it = self._rows(table)
        next(it, None)
        width = len(names)
        buf: list[tuple[Any, ...]] = []
        delivered = lost = 0
        for r in it:
            if _beyond(r, width):
                lost += 1
                continue
            row = tuple(r[:width]) + (None,) * (width - len(r))
            if all(v in (None, "") for v in row):
                continue
            buf.append(row)
            if len(buf) >= batch_size:
                delivered += len(buf)
                yield self._batch(buf, idx, schema)
                buf = []
        if buf:
            delivered += len(buf)
            yield self._batch(buf, idx, schema)
        if delivered != info.rows or lost != len(self._bad.get(table, [])):
            raise BadInput.msg(
                "sources.changed", path=self.path, rows=delivered, expected=info.rows
            )

    @staticmethod
    def _batch(rows: list[tuple[Any, ...]], idx: list[int], schema: pa.Schema) -> pa.RecordBatch:
        cols = list(zip(*rows, strict=True))
        arrays = []
        for i in idx:
            values = cols[i]
            try:
                arr = pa.array(values)
                if pa.types.is_null(arr.type):
                    arr = pa.nulls(len(values), pa.string())
                arr = arr.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                arr = pa.array([None if v is None else str(v) for v in values], pa.string())
            arrays.append(arr)
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def close(self) -> None:
        """Close the workbook."""
        self.book.close()


def _beyond(row: tuple[Any, ...], width: int) -> bool:
    """True when ``row`` holds a value to the right of the header's ``width`` columns."""
    return len(row) > width and any(v not in (None, "") for v in row[width:])


class ParquetSource(Source):
    """One Parquet file as one table (named after the file), schema as stored."""

    kind = "parquet"

    def __init__(self, path: Path, name: str | None = None) -> None:
        import pyarrow.parquet as pq

        self.path = path
        self.display = str(path)
        self.name = name or path.stem
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise BadInput.msg("sources.bad_parquet", path=path, kind=type(exc).__name__) from None

        check_names(self.path, list(self.file.schema_arrow.names))

    def tables(self) -> list[TableInfo]:
        """The file as one table with its stored schema and row count."""
        schema = self.file.schema_arrow
        cols = [ColumnInfo(f.name, str(f.type), f.type, f.nullable) for f in schema]
        return [TableInfo(self.name, cols, [], int(self.file.metadata.num_rows))]

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Every row group's rows in ``batch_size`` batches (as many as the footer says)."""
        info = self.table(table)
        yield from self._counted(
            range(self.file.metadata.num_row_groups), info.rows, columns, batch_size
        )

    def _counted(
        self, groups: range, want: int, columns: list[str] | None, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        """The rows of row groups ``groups``; BadInput when they are not ``want`` rows."""
        delivered = 0
        try:
            for batch in self.file.iter_batches(
                batch_size=batch_size, row_groups=groups, columns=columns
            ):
                delivered += batch.num_rows
                yield batch
        except (pa.ArrowInvalid, OSError) as exc:
            raise BadInput.msg(
                "sources.bad_parquet", path=self.path, kind=type(exc).__name__
            ) from None
        if delivered != want:
            raise BadInput.msg("sources.changed", path=self.path, rows=delivered, expected=want)

    def row_groups(self, table: str) -> list[int] | None:
        """Rows of each row group, from the footer."""
        self.table(table)
        meta = self.file.metadata
        return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]

    def group_batches(
        self,
        table: str,
        groups: tuple[int, int],
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[pa.RecordBatch]:
        """The rows of row groups ``groups[0]`` to ``groups[1] - 1`` (one shard of the file)."""
        sizes = self.row_groups(table) or []
        want = sum(sizes[groups[0] : groups[1]])
        yield from self._counted(range(*groups), want, columns, batch_size)


class FolderSource(Source):
    """Every CSV, XLSX and Parquet file in a folder (and its sub-folders) as tables."""

    kind = "folder"

    def __init__(self, path: Path, *, allow_bad_rows: int = 0) -> None:
        self.path = path
        self.display = str(path)
        self.allow_bad_rows = allow_bad_rows
        self.children: dict[str, Source] = {}
        self._opened: list[Source] = []
        try:
            self._open(path)
        except BaseException:
            self.close()
            raise

    def _open(self, path: Path) -> None:
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in (*CSV_SUFFIXES, *XLSX_SUFFIXES, *PARQUET_SUFFIXES)
            and not p.name.startswith((".", "~$"))
        )
        if not files:
            raise BadInput.msg("sources.empty_folder", path=path)
        for p in files:
            rel = p.relative_to(path).with_suffix("").as_posix()
            suffix = p.suffix.lower()
            child: Source
            allowance = self.allow_bad_rows
            if suffix in CSV_SUFFIXES:
                child = CsvSource(p, rel, allow_bad_rows=allowance)
            elif suffix in PARQUET_SUFFIXES:
                child = ParquetSource(p, rel)
            else:
                child = XlsxSource(p, allow_bad_rows=allowance)
                prefix = str(Path(rel).parent)
                if prefix != ".":
                    child._sheet_of = {f"{prefix}/{k}": v for k, v in child._sheet_of.items()}
            self._opened.append(child)
            for info in child.tables():
                if info.name in self.children:
                    raise BadInput.msg(
                        "sources.duplicate_table", path=p, table=info.name, folder=path
                    )
                self.children[info.name] = child
        kinds = {c.kind for c in self.children.values()}
        self.kind = kinds.pop() if len(kinds) == 1 else "folder"

    def tables(self) -> list[TableInfo]:
        """The tables of every file, in name order."""
        out = []
        for name, child in self.children.items():
            out.append(child.table(name))
        return sorted(out, key=lambda t: t.name)

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """The batches of the file holding ``table``."""
        if table not in self.children:
            raise BadInput.msg("sources.no_table", source=self.path, table=table)
        yield from self.children[table].batches(table, columns, batch_size)

    def row_groups(self, table: str) -> list[int] | None:
        """The row groups of the file holding ``table`` (None: not Parquet)."""
        if table not in self.children:
            raise BadInput.msg("sources.no_table", source=self.path, table=table)
        return self.children[table].row_groups(table)

    def group_batches(
        self,
        table: str,
        groups: tuple[int, int],
        columns: list[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[pa.RecordBatch]:
        """Row groups of the file holding ``table``."""
        if table not in self.children:
            raise BadInput.msg("sources.no_table", source=self.path, table=table)
        yield from self.children[table].group_batches(table, groups, columns, batch_size)

    def skipped(self) -> dict[str, list[int]]:
        """The rows each file's table lost (only as many as allowed)."""
        out: dict[str, list[int]] = {}
        for child in self._opened:
            out.update(child.skipped())
        return out

    def close(self) -> None:
        """Close every file."""
        for child in self._opened:
            child.close()
