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


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM), GBK or GB18030 — whichever decodes the file's head.

    Raises :class:`BadInput` naming the file and row of the first undecodable byte.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    first_error: UnicodeDecodeError | None = None
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            head.decode(enc)
            return enc
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the head's end is not an error.
            if len(head) == HEAD_BYTES and exc.start >= len(head) - 4:
                return enc
            if first_error is None:
                first_error = exc
    assert first_error is not None
    raise BadInput.msg("sources.bad_bytes", path=path, row=_row_of(head, first_error.start))


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
    if any(not c for c in first) or len(set(first)) != len(first):
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
    """One CSV file as one table (named after the file)."""

    kind = "csv"

    def __init__(self, path: Path, name: str | None = None) -> None:
        if not path.is_file():
            raise BadInput.msg("sources.no_file", path=path)
        self.path = path
        self.display = str(path)
        self.name = name or path.stem
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        self.dialect = detect_encoding(path, head) if head else "utf-8"
        self.csv = (
            sniff_dialect(path, head, self.dialect) if head else CsvDialect("utf-8", ",", False)
        )
        self._info: TableInfo | None = None
        self._names: list[str] = []

    def _header_names(self) -> list[str]:
        with self.path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        text = head.decode(self.csv.encoding, errors="ignore")
        first = next(csv.reader(text.splitlines()[:1], delimiter=self.csv.delimiter), [])
        if self.csv.header:
            names = [c.strip() or f"column_{i + 1}" for i, c in enumerate(first)]
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
        data = self.path.read_bytes()
        try:
            data.decode(self.csv.encoding)
        except UnicodeDecodeError as dec:
            return BadInput.msg(
                "sources.mixed_encoding",
                path=self.path,
                row=_row_of(data, dec.start),
                encoding=self.csv.label,
            )
        return BadInput.msg("sources.bad_csv", path=self.path, kind=type(exc).__name__)

    def tables(self) -> list[TableInfo]:
        """The file as one table; rows are counted by reading it once."""
        if self._info is not None:
            return [self._info]
        self._names = self._header_names()
        bad: list[Any] = []
        rows = 0
        try:
            for batch in self._reader(
                [self._names[0]] if self._names else None, DEFAULT_BATCH, bad
            ):
                rows += batch.num_rows
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise self._fail(exc) from None
        notes: list[Msg | str] = [
            Msg("sources.note.encoding", encoding=self.csv.label),
            Msg("sources.note.delimiter", delimiter=self.csv.delimiter),
        ]
        if not self.csv.header:
            notes.append(Msg("sources.note.no_header"))
        if bad:
            first = bad[0]
            line = self._line_of(first[2])
            notes.append(
                Msg(
                    "sources.note.ragged",
                    n=len(bad),
                    first=Msg("sources.note.first_at", row=line) if line else "",
                    fields=first[1],
                    expected=first[0],
                )
            )
        cols = [ColumnInfo(n, "TEXT", pa.string()) for n in self._names]
        self._info = TableInfo(self.name, cols, [], rows, notes)
        return [self._info]

    def _line_of(self, text: str) -> int | None:
        data = self.path.read_bytes()
        pos = data.find(text.encode(self.csv.encoding, errors="ignore"))
        return _row_of(data, pos) if pos >= 0 else None

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Every data row, all columns as strings; ragged rows are skipped (see notes)."""
        info = self.table(table)
        for c in columns or []:
            if c not in info.column_names:
                raise BadInput.msg("sources.no_column", path=self.path, column=c)
        bad: list[Any] = []
        try:
            for batch in self._reader(columns, batch_size, bad):
                for off in range(0, batch.num_rows, batch_size):
                    yield batch.slice(off, batch_size)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise self._fail(exc) from None


class XlsxSource(Source):
    """An XLSX workbook read with openpyxl in read-only mode; one table per sheet."""

    kind = "xlsx"

    def __init__(self, path: Path) -> None:
        import openpyxl

        if not path.is_file():
            raise BadInput.msg("sources.no_file", path=path)
        self.path = path
        self.display = str(path)
        try:
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException
            raise BadInput.msg("sources.bad_xlsx", path=path, kind=type(exc).__name__) from None
        sheets = self.book.sheetnames
        single_default = len(sheets) == 1 and sheets[0].strip().lower() in DEFAULT_SHEETS
        self._sheet_of = {(path.stem if single_default else s): s for s in sheets}
        self._tables: list[TableInfo] | None = None

    def _rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        ws = self.book[self._sheet_of[table]]
        return iter(ws.iter_rows(values_only=True))

    def tables(self) -> list[TableInfo]:
        """One table per sheet: first row is the header; rows counted by reading."""
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
            rows = sum(1 for r in it if any(v not in (None, "") for v in r[:width]))
            cols = [ColumnInfo(n, "XLSX CELL", pa.string()) for n in names]
            out.append(TableInfo(name, cols, [], rows, []))
        self._tables = out
        return out

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
        for r in it:
            row = tuple(r[:width]) + (None,) * (width - len(r))
            if all(v in (None, "") for v in row):
                continue
            buf.append(row)
            if len(buf) >= batch_size:
                yield self._batch(buf, idx, schema)
                buf = []
        if buf:
            yield self._batch(buf, idx, schema)

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

    def tables(self) -> list[TableInfo]:
        """The file as one table with its stored schema and row count."""
        schema = self.file.schema_arrow
        cols = [ColumnInfo(f.name, str(f.type), f.type, f.nullable) for f in schema]
        return [TableInfo(self.name, cols, [], int(self.file.metadata.num_rows))]

    def batches(
        self, table: str, columns: list[str] | None = None, batch_size: int = DEFAULT_BATCH
    ) -> Iterator[pa.RecordBatch]:
        """Every row group's rows in ``batch_size`` batches."""
        self.table(table)
        yield from self.file.iter_batches(batch_size=batch_size, columns=columns)


class FolderSource(Source):
    """Every CSV, XLSX and Parquet file in a folder (and its sub-folders) as tables."""

    kind = "folder"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.display = str(path)
        self.children: dict[str, Source] = {}
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
            if suffix in CSV_SUFFIXES:
                child = CsvSource(p, rel)
            elif suffix in PARQUET_SUFFIXES:
                child = ParquetSource(p, rel)
            else:
                child = XlsxSource(p)
                prefix = str(Path(rel).parent)
                if prefix != ".":
                    child._sheet_of = {f"{prefix}/{k}": v for k, v in child._sheet_of.items()}
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

    def close(self) -> None:
        """Close every file."""
        for child in set(self.children.values()):
            child.close()
