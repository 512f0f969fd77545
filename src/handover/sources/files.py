"""File sources: CSV (encoding and delimiter sniffed, first row the header), XLSX,
Parquet, folders.

CSV and XLSX carry no types: every column streams as Arrow ``string`` so leading zeros
and 18-digit numbers stay exactly as written. Parquet keeps its own schema.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from handover.errors import BadInput
from handover.i18n import Msg
from handover.sources import PARQUET_SUFFIXES, XLSX_SUFFIXES, csv_suffixes
from handover.sources.base import DEFAULT_BATCH, ColumnInfo, Source, TableInfo

HEAD_BYTES = 1 << 20
DEFAULT_SHEETS = {"sheet", "sheet1", "工作表1", "表1"}


#: how each encoding a CSV file can have is named in notes and messages
LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8-SIG", "gbk": "GBK", "gb18030": "GB18030"}


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is read: its encoding, delimiter, and whether its first row is the
    header (always, unless the caller says the file has none)."""

    encoding: str  # what the file is: utf-8, utf-8-sig, gbk, gb18030
    delimiter: str
    header: bool

    @property
    def codec(self) -> str:
        """The Python codec that reads it: GBK is read as GB18030, its superset, so a rare
        character beyond GBK (䶮 …) later in a GBK file is read, not refused."""
        return "gb18030" if self.encoding == "gbk" else self.encoding

    @property
    def label(self) -> str:
        return LABELS[self.encoding]


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


def check_bad_rows(
    where: object, bad: list[BadRow], allowance: int, key: str = "sources.bad_rows"
) -> None:
    """Refuse a table that lost more rows than ``allowance`` (BadInput naming the rows;
    ``key``: the message, which may say more of what to do)."""
    if len(bad) > allowance:
        raise BadInput.msg(
            key,
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
    # A value the csv module stops at (128 KiB, its default) is no sign of a closed quote:
    # it is read up to the largest row the parser takes (which a quote that swallows the
    # rest of a file soon passes), and beyond that told as the quote that opens it. The
    # limit is the module's, for the process: raised for this reading only.
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, LARGEST_BLOCK))
    try:
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            while True:
                start = reader.line_num
                try:
                    if next(reader, None) is None:
                        return None
                except csv.Error as exc:
                    text = str(exc)
                    if "unexpected end of data" in text or "field larger than" in text:
                        return start + 1
                    # another slip (a quote and then more text, ``"a"b``, which the
                    # parser reads as ``ab``): the module goes on from the next line, and
                    # so does the search; stopping here would leave a quote later in the
                    # file unseen, and the rows it swallows folded into one value
    finally:
        csv.field_size_limit(limit)


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM), GBK or GB18030 — whichever decodes the file's head
    (GBK and GB18030 are both read as GB18030, see :attr:`CsvDialect.codec`).

    Raises :class:`BadInput` naming the file and row of the undecodable byte (where the
    candidate that read furthest stopped), and refuses a GBK/GB18030 file with lines that
    are clearly UTF-8 (decoding them as GB18030 would turn them into other characters
    without an error). A UTF-8 head followed by other bytes is settled by
    :meth:`CsvSource.tables`, which reads the whole file.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    cut = len(head) == HEAD_BYTES
    errors: list[UnicodeDecodeError] = []
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            head.decode(enc)
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the head's end is not an error.
            if not (cut and exc.start >= len(head) - 4):
                errors.append(exc)
                continue
        if enc != "utf-8":
            _refuse_mixed(path, head, LABELS[enc])
            if cut:
                _refuse_utf8_later(path, LABELS[enc], HEAD_BYTES - UTF8_SPAN)
        return enc
    furthest = max(errors, key=lambda e: e.start)
    raise BadInput.msg("sources.bad_bytes", path=path, row=_row_of(head, furthest.start))


_CJK = re.compile("[\u4e00-\u9fff]")
#: a line counts as UTF-8 text when it decodes as UTF-8 and holds this many Chinese
#: characters (a GBK line decoding as such is about as likely as a hash collision)
UTF8_EVIDENCE = 4


def _refuse_mixed(path: Path, head: bytes, label: str) -> None:
    """BadInput when ``head`` (decodable as the encoding ``label`` names) has lines that
    are clearly UTF-8 Chinese text beside lines that are not UTF-8 at all."""
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
#: bytes of four 3-byte UTF-8 sequences (the evidence :func:`_refuse_utf8_later` seeks)
UTF8_SPAN = 12


def _refuse_utf8_later(path: Path, label: str, start: int) -> None:
    """BadInput when a line from byte ``start`` on of a GBK/GB18030 file (``label``) is
    clearly UTF-8 Chinese text (the rule of :func:`_refuse_mixed`). Vectorised: numpy
    finds places where four 3-byte UTF-8 sequences of Chinese characters follow each
    other (lead E4–E9, two continuation bytes 80–BF; GBK text almost never lines up so),
    and only the lines holding one are decoded."""
    import mmap

    import numpy as np

    size = path.stat().st_size
    span = UTF8_SPAN
    checked = 0
    if size == 0:
        return
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = max(0, start)
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


def _count_lines(mm: Any, end: int, start: int = 0) -> int:
    """Newlines in bytes ``start:end`` of ``mm`` (vectorised, in chunks)."""
    import numpy as np

    n = 0
    for at in range(start, end, SCAN_CHUNK):
        v = np.frombuffer(mm, dtype=np.uint8, count=min(SCAN_CHUNK, end - at), offset=at)
        n += int(np.count_nonzero(v == 0x0A))
        del v
    return n


def sniff_dialect(
    path: Path, head: bytes, encoding: str, header: bool = True, escapes: str = ""
) -> CsvDialect:
    """The delimiter (, ; tab |) from the first lines of the file. Whether the first row
    is the header is not guessed: it is, unless ``header`` is False (the caller's choice).
    With MySQL's ``escapes`` each escape pair is left out of the sample first (an escaped
    delimiter is no delimiter), and a file whose values are not enclosed takes the
    delimiter every line holds the same number of times."""
    dialect = CsvDialect(encoding, ",", header)
    text = head.decode(dialect.codec, errors="ignore")
    if escapes:
        text = re.sub(r"\\.", "", text, flags=re.S)
    lines = text.splitlines()[:50]
    if len(head) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]
    sample = "\n".join(lines)
    steady = [d for d in ",;\t|" if lines and len({ln.count(d) for ln in lines} - {0}) == 1]
    steady = [d for d in steady if all(d in ln for ln in lines)]
    if path.suffix.lower() == ".tsv" or (path.suffix.lower() == ".txt" and len(steady) != 1):
        # mysqldump --tab writes tabs unless told otherwise (--fields-terminated-by)
        delim = "\t"
    elif escapes and not escapes.startswith("enclosed") and len(steady) == 1:
        delim = steady[0]
    else:
        try:
            delim = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            counts = {d: sample.count(d) for d in ",;\t|"}
            delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    return CsvDialect(encoding, delim, header)


def mysql_like(head: bytes, delimiter: str) -> bool:
    """Whether the first bytes of a file hold a field that is ``\\N`` alone: how MySQL's
    ``SELECT … INTO OUTFILE`` writes NULL (the file then wants ``--mysql-escapes``)."""
    d = re.escape(delimiter.encode())
    return re.search(rb"(?:^|%s)\\N(?=%s|\r?\n|\Z)" % (d, d), head, re.M) is not None


#: what a header cell never is: a mainland mobile number, a resident ID number, a bank
#: card number (16-19 digits) or an e-mail address
_DATA_NOT_NAME = re.compile(
    r"1[3-9][0-9]{9}|[0-9]{17}[0-9Xx]|[0-9]{16,19}|[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
)


class CsvSource(Source):
    """One CSV file as one table (named after the file).

    The first row is the header, as in every Excel export (``header=False``: the caller
    says the file has none; its columns are then named column_1 …). Every row the parser
    cannot read (more or fewer fields than the header, a quote that is never closed) is
    counted with its line number; more of them than ``allow_bad_rows`` and reading the
    file fails naming them (:class:`BadInput`).
    """

    kind = "csv"

    def __init__(
        self,
        path: Path,
        name: str | None = None,
        *,
        allow_bad_rows: int = 0,
        header: bool = True,
        escapes: str = "",
    ) -> None:
        if not path.is_file():
            raise BadInput.msg("sources.no_file", path=path)
        self.path = path
        self.display = str(path)
        self.name = name or path.stem
        self.allow_bad_rows = allow_bad_rows
        #: MySQL's backslash escapes (``--mysql-escapes``; :mod:`handover.sources.escapes`)
        self.escapes = escapes
        #: with MySQL's escapes: the line of a quote never closed (the last reading's)
        self._open_quote: int | None = None
        #: with MySQL's escapes: every line of an LF export ends with CR LF (a note)
        self._all_crlf = False
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
        encoding = detect_encoding(path, head) if head else "utf-8"
        self.csv = (
            sniff_dialect(path, head, encoding, header, escapes)
            if head
            else CsvDialect("utf-8", ",", header)
        )
        #: how an export read with MySQL's escapes ends its lines (the layout says)
        self._end = b"\n"
        if escapes:
            from handover.sources.escapes import check_line_end, line_end

            self._end = line_end(escapes)
            check_line_end(path, head, self._end, escapes)
        #: its head holds a field MySQL writes for NULL (a hint when it is read otherwise)
        self._mysql_like = not escapes and bool(head) and mysql_like(head, self.csv.delimiter)
        #: (byte offset, line) after the head's last whole line, when the file goes on
        #: past the head: a UTF-8 head leaves the rest to be checked from there
        self._tail = (
            (head.rfind(b"\n") + 1, head.count(b"\n") + 1) if len(head) == HEAD_BYTES else None
        )
        self._info: TableInfo | None = None
        self._names: list[str] = []
        #: rows the parser passes before the data: the header and blank lines before it
        self._skip = 0
        #: the line the header row ends on
        self._header_end = 0
        self._bad: list[BadRow] = []
        #: the last row the parser delivered is a quote never closed (dropped when allowed)
        self._open_tail = False
        #: the parser's block (bytes) the counting read the file with: every later reading
        #: takes at least this one
        self._block = 0

    def _confirm_encoding(self) -> None:
        """Settle the encoding of a UTF-8 file longer than its head: Arrow checks the rest
        is UTF-8. At the first byte that is not, GB18030 (which reads GBK) is tried over
        the whole file before refusing: a GBK file whose first MiB is plain ASCII is read
        as GBK; one with UTF-8 text before that byte, or bytes neither encoding reads, is
        refused naming the line and byte offset."""
        if self.csv.encoding != "utf-8" or self._tail is None:
            return
        found = first_not_utf8(self.path, *self._tail)
        if found is None:
            return
        offset, row = found
        if _has_non_ascii(self.path, offset):
            raise BadInput.msg(
                "sources.mixed_encoding", path=self.path, row=row, offset=offset, encoding="UTF-8"
            )
        # Every byte before ``offset`` is ASCII, which GBK and GB18030 read alike.
        other = first_undecodable(self.path, "gb18030", offset, row)
        gbk = first_undecodable(self.path, "gbk", offset, row)
        label = "GBK" if gbk is None or (other is not None and gbk[0] >= other[0]) else "GB18030"
        if other is None or other[0] > offset:
            # GB18030 reads on: lines of UTF-8 Chinese after ``offset`` are the likelier
            # reason it stops, or would be read as other characters if it does not
            _refuse_utf8_later(self.path, label, offset)
        if other is not None:
            at, at_row, enc = (*other, "GB18030") if other[0] > offset else (*found, "UTF-8")
            raise BadInput.msg(
                "sources.mixed_encoding", path=self.path, row=at_row, offset=at, encoding=enc
            )
        self.csv = replace(self.csv, encoding=label.lower())

    def _header_names(self) -> list[str]:
        """The column names, from the first row as the ``csv`` module reads it off the
        stream: quotes are respected, so a header cell holding a line break (Excel's
        Alt+Enter) stays one cell. Sets how many rows the parser passes before the data."""
        first, n, end = self._first_row()
        if not self.csv.header:
            self._skip = 0
            return [f"column_{i + 1}" for i in range(len(first))]
        self._skip = n
        self._header_end = end
        names = [c.strip() or f"column_{i + 1}" for i, c in enumerate(first)]
        for i, name in enumerate(names):
            # a mobile number, an ID number, a card number or an e-mail address is no
            # column's name: the file has no header, and its first customer would be lost
            # as names (and shown in every report); refused, the value never shown
            if _DATA_NOT_NAME.fullmatch(name):
                raise BadInput.msg("sources.header_is_data", path=self.path, column=i + 1)
        check_names(self.path, names)
        return names

    def _first_row(self) -> tuple[list[str], int, int]:
        """The first row that is not blank, its number among the parser's rows (blank
        lines count), and the line it ends on; ``([], 0, 0)`` for a file without one (with
        MySQL's escapes: :meth:`_first_escaped_row`)."""
        if self.escapes:
            return self._first_escaped_row()
        with self.path.open(encoding=self.csv.codec, errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=self.csv.delimiter)
            n = 0
            while True:
                begins = reader.line_num + 1
                try:
                    row = next(reader, None)
                except csv.Error:
                    # a cell beyond the csv module's 128 KiB: no Excel cell is that long
                    # (32,767 characters), so a quote opened in the header runs on
                    raise BadInput.msg(
                        "sources.bad_header",
                        path=self.path,
                        why=Msg("sources.why.quote", row=begins),
                    ) from None
                if row is None:
                    return [], 0, 0
                n += 1
                if row:
                    return row, n, reader.line_num

    def _first_escaped_row(self) -> tuple[list[str], int, int]:
        """With MySQL's escapes, the first row as the parser reads the marked stream (the
        ``csv`` module would stop at a value of 128 KiB, which a TEXT column may hold), its
        cells resolved, at row and line 1: MySQL writes no blank line but the one of an
        empty text in a table of one column, which is a row."""
        import pyarrow.csv as pcsv

        from handover.sources.escapes import text_of

        def first(names: list[str] | None, block: int) -> Any:
            with self._unescaping() as stream:
                reader = pcsv.open_csv(
                    stream,
                    read_options=pcsv.ReadOptions(
                        column_names=names,
                        autogenerate_column_names=names is None,
                        block_size=block,
                    ),
                    # a row of another width is the full reading's to count (and allow)
                    parse_options=self._escaped_parse(lambda row: "skip", blank_rows=False),
                    convert_options=pcsv.ConvertOptions(
                        column_types=dict.fromkeys(names or [], pa.string()),
                        strings_can_be_null=False,
                    ),
                )
                return reader.schema if names is None else reader.read_next_batch()

        block: int | None = 1 << 20
        while block is not None:  # a first value beyond a block: a larger block
            try:
                # the first opening counts the columns, the second reads them all as text
                width = len(first(None, block))
                batch = first([f"c{i}" for i in range(width)], block)
                break
            except StopIteration:
                return [], 0, 0
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                # no whole row in the block: the first row goes on past it, or the file
                # holds no row at all (blank lines only), or a quote the first row opens
                # and never closes swallowed the file
                whole = "cannot infer" in str(exc)
                if whole and self.path.stat().st_size <= block:
                    # the whole file was in the block: a larger one reads nothing more
                    return self._no_first_row(exc)
                if not (_straddles(exc) or whole):
                    raise self._fail(exc) from None
                tried, block = block, _larger(block)
                if block is None:
                    if self.csv.header:
                        why = Msg("sources.why.too_long", mib=tried >> 20)
                        raise BadInput.msg("sources.bad_header", path=self.path, why=why) from None
                    raise BadInput.msg(
                        "sources.row_too_long", path=self.path, row=1, mib=tried >> 20
                    ) from None
        return [text_of(v) for v in batch.slice(0, 1).to_pylist()[0].values()], 1, 1

    def _no_first_row(self, exc: Exception) -> tuple[list[str], int, int]:
        """A marked stream in which the parser found no whole row: none (blank lines
        only), or a quote the first row opens and never closes, which swallowed the file;
        else the parser's own failure."""
        from handover.sources.escapes import enclosed

        first_line = _first_filled_line(self.path)
        if first_line is None:
            return [], 0, 0
        if enclosed(self.escapes) and self._quote_left_open() == first_line:
            if self.csv.header:
                raise BadInput.msg(
                    "sources.bad_header",
                    path=self.path,
                    why=Msg("sources.why.quote", row=first_line),
                )
            # as the csv module reads it: one cell; the full reading then finds the quote
            # and counts the row as unreadable
            return [""], 1, first_line
        raise self._fail(exc)

    def _quote_left_open(self) -> int | None:
        """With MySQL's escapes: the line of a quote never closed, off the whole stream;
        None when every quote closes."""
        with self._unescaping() as stream:
            while stream.read(1 << 20):
                pass
            return stream.open_line if stream.quotes % 2 else None

    def _escaped_parse(self, on_invalid: Any, *, blank_rows: bool) -> Any:
        """How the parser reads a marked stream: the pairs it was left are its escapes, a
        quote encloses only in an ``enclosed`` layout, and with ``blank_rows`` a blank line
        is a row (MySQL writes one for an empty text in a table of one column; the parser
        would give a blank line in a table of more columns as a row of empty texts, so
        there it is passed, as in any CSV)."""
        import pyarrow.csv as pcsv

        from handover.sources.escapes import enclosed

        return pcsv.ParseOptions(
            delimiter=self.csv.delimiter,
            newlines_in_values=True,
            escape_char="\\",
            double_quote=False,
            quote_char='"' if enclosed(self.escapes) else False,
            ignore_empty_lines=not blank_rows,
            invalid_row_handler=on_invalid,
        )

    def _unescaping(self) -> Any:
        """The file as the stream MySQL's escapes are read from
        (:class:`handover.sources.escapes.Unescaping`)."""
        from handover.sources.escapes import Unescaping

        return Unescaping(self.path, self.csv.codec, self._end)

    def _reader(self, columns: list[str] | None, batch_size: int, bad: list[Any]) -> Any:
        import pyarrow.csv as pcsv

        names = self._names

        def on_invalid(row: Any) -> str:
            bad.append((row.expected_columns, row.actual_columns, row.text))
            return "skip"

        block = max(_batch_block(batch_size), self._block)
        if self.escapes:
            return self._escaped_reader(columns, block, on_invalid)
        return pcsv.open_csv(
            str(self.path),
            read_options=pcsv.ReadOptions(
                column_names=names,
                # counted by the parser, so a header cell with a line break is passed whole
                skip_rows_after_names=self._skip,
                encoding=self.csv.codec,
                block_size=block,
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

    def _escaped_reader(
        self, columns: list[str] | None, block: int, on_invalid: Any
    ) -> Iterator[pa.RecordBatch]:
        """The batches of a file read with MySQL's escapes, off the marked stream (UTF-8,
        the pairs marked: :mod:`handover.sources.escapes`), its header row dropped here: the
        parser's own skipping miscounts rows that hold a NUL, and every mark starts with
        one. Nothing but ``\\N`` is NULL (its mark, resolved by the caller). Sets
        :attr:`_open_quote`: the line of a quote never closed, found by the stream's count
        (an enclosed layout), else None, and :attr:`_all_crlf`; the stream is closed when
        the reading ends."""
        import pyarrow.csv as pcsv

        from handover.sources.escapes import enclosed

        stream = self._unescaping()
        try:
            reader = pcsv.open_csv(
                stream,
                read_options=pcsv.ReadOptions(column_names=self._names, block_size=block),
                parse_options=self._escaped_parse(on_invalid, blank_rows=len(self._names) == 1),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(self._names, pa.string()),
                    include_columns=columns,
                    strings_can_be_null=False,
                    null_values=[],
                ),
            )
            skip = 1 if self.csv.header else 0
            for batch in reader:
                if skip and batch.num_rows:
                    batch, skip = batch.slice(1), 0
                yield batch
            odd = enclosed(self.escapes) and stream.quotes % 2
            self._open_quote = stream.open_line if odd else None
            self._all_crlf = self._end == b"\n" and stream.all_crlf
        finally:
            stream.close()

    def _fail(self, exc: Exception) -> BadInput:
        # Locate the first undecodable byte ourselves: pyarrow's message quotes row text.
        found = first_undecodable(self.path, self.csv.codec)
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
        quotes = [t.count('"') for _, _, t in raw]
        if self.escapes:
            from handover.sources.escapes import enclosed, quotes_open, unmarked

            # counted on the marked text, where an escaped backslash is a mark
            quotes = [quotes_open(t.encode()) if enclosed(self.escapes) else 0 for *_, t in raw]
            raw = [(e, f, unmarked(t, self._end)) for e, f, t in raw]
        lines = locate_rows(self.path, self.csv.codec, [r[2] for r in raw])
        out = []
        for (expected, fields, _), line, quoted in zip(raw, lines, quotes, strict=True):
            if quoted % 2:
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
        if self.path.stat().st_size == 0:
            # no header, no row: nothing names a column (mysqldump --tab writes an empty
            # table's rows so); told, not taken for an unreadable file
            raise BadInput.msg("sources.empty_file", path=self.path)
        self._confirm_encoding()
        self._names = self._header_names()
        # with MySQL's escapes the stream counts the quotes as it passes (below)
        open_at = (
            None if self.escapes else unclosed_quote(self.path, self.csv.codec, self.csv.delimiter)
        )
        if open_at is not None and self.csv.header and open_at <= self._header_end:
            # the header swallowed the file: no row can be told from it
            raise BadInput.msg(
                "sources.bad_header", path=self.path, why=Msg("sources.why.quote", row=open_at)
            )
        raw, rows = self._count_rows(open_at)
        bad = self._bad_rows(raw)
        if self.escapes:
            # with MySQL's escapes the stream found it (an enclosed layout)
            open_at = self._open_quote
        if open_at is not None and rows and not any(b.row == open_at for b in bad):
            bad.append(BadRow(open_at, Msg("sources.why.quote", row=open_at)))
            self._open_tail = True
            rows -= 1
        hint = "sources.bad_rows_mysql" if self._mysql_like else "sources.bad_rows"
        check_bad_rows(self.path, bad, self.allow_bad_rows, hint)
        self._bad = bad
        notes: list[Msg | str] = [
            Msg("sources.note.encoding", encoding=self.csv.label),
            Msg("sources.note.delimiter", delimiter=self.csv.delimiter),
        ]
        if not self.csv.header:
            notes.append(Msg("sources.note.no_header"))
        if self.escapes:
            notes.append(Msg("sources.note.escapes", layout=self.escapes))
        if self._all_crlf:
            notes.append(Msg("sources.note.all_crlf", layout=self.escapes))
        elif self._mysql_like:
            notes.append(Msg("sources.note.mysql_like"))
        if bad:
            notes.append(
                Msg("sources.note.skipped", n=len(bad), rows=row_list([b.row for b in bad]))
            )
        cols = [ColumnInfo(n, "TEXT", pa.string()) for n in self._names]
        self._info = TableInfo(self.name, cols, [], rows, notes)
        return [self._info]

    def _count_rows(self, open_at: int | None) -> tuple[list[Any], int]:
        """The rows of one reading of the first column, and the parser's complaints. A row
        longer than the block a batch reads (one piece the parser sees: rows up to its
        size are read whole wherever they start) is read again with a larger block, up to
        :data:`LARGEST_BLOCK`; the block the counting read the file with is kept, and every
        later reading takes at least that one (a smaller batch's smaller block could stop
        at a row the counting read). ``open_at``: the line of a quote never closed, which
        is what makes a row too long where the file has one."""
        block: int | None = max(_batch_block(DEFAULT_BATCH), self._block)
        while block is not None:
            raw: list[Any] = []
            rows = 0
            self._block = block
            try:
                for batch in self._reader(
                    [self._names[0]] if self._names else None, DEFAULT_BATCH, raw
                ):
                    rows += batch.num_rows
                return raw, rows
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                if not _straddles(exc):
                    raise self._fail(exc) from None
                block = _larger(block)
        mib = self._block >> 20  # the largest, tried last
        if open_at is not None:
            raise BadInput.msg("sources.quote_swallows", path=self.path, row=open_at, mib=mib)
        # the rows read, good or not: the long one is the next or a later one
        row = rows + len(raw) + 1
        raise BadInput.msg("sources.row_too_long", path=self.path, row=row, mib=mib)

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
        from handover.sources.escapes import resolve

        try:
            pending: pa.RecordBatch | None = None
            for read in self._reader(columns, batch_size, raw):
                # MySQL's escapes: the marks the stream left resolved, whole columns at once
                batch = resolve(read) if self.escapes else read
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


#: the largest block the CSV parser is given (bytes): a row up to this size is read
#: whole; the parser holds a block and its arrays at once, so a larger one is refused
LARGEST_BLOCK = 256 << 20


def _batch_block(batch_size: int) -> int:
    """The parser's block for batches of ``batch_size`` rows: 200 bytes a row, within
    1–64 MiB."""
    return max(1 << 20, min(batch_size * 200, 64 << 20))


def _larger(block: int) -> int | None:
    """The next block to try after a row longer than ``block`` (four times, up to
    :data:`LARGEST_BLOCK`); None after the largest."""
    return None if block >= LARGEST_BLOCK else min(block * 4, LARGEST_BLOCK)


def _first_filled_line(path: Path) -> int | None:
    """The line of the file's first byte that is no line end (blank lines are line ends in
    every encoding read here); None when the file holds nothing else."""
    line = 1
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            filled = chunk.lstrip(b"\r\n")
            if filled:
                return line + chunk.count(b"\n", 0, len(chunk) - len(filled))
            line += chunk.count(b"\n")
    return None


def _straddles(exc: Exception) -> bool:
    """Arrow's parser met a row longer than its block (it reads one that spans two)."""
    return isinstance(exc, pa.ArrowInvalid) and "straddl" in str(exc)


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


def first_undecodable(
    path: Path, encoding: str, start: int = 0, line: int = 1
) -> tuple[int, int] | None:
    """``(byte offset, line)`` of the first byte of ``path`` from ``start`` (a character
    boundary on line ``line``) that is not valid ``encoding``, or None; read in chunks
    (the file is never held whole)."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    chunk_size = 8 << 20
    carry = b""
    with path.open("rb") as fh:
        fh.seek(start)
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


def first_not_utf8(path: Path, start: int = 0, line: int = 1) -> tuple[int, int] | None:
    """:func:`first_undecodable` for UTF-8, vectorised: Arrow validates the memory-mapped
    file in chunks, and only a chunk that fails is decoded to find the byte."""
    import mmap

    size = path.stat().st_size
    if start >= size:
        return None
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos = start
        while pos < size:
            end = min(size, pos + SCAN_CHUNK)
            back = 0  # end the chunk on a character boundary (at most 3 bytes back)
            while end < size and back < 3 and (mm[end] & 0xC0) == 0x80:
                end, back = end - 1, back + 1
            if not _utf8_valid(mm, pos, end):
                return first_undecodable(path, "utf-8", pos, line + _count_lines(mm, pos, start))
            pos = end
    return None


def _utf8_valid(mm: Any, start: int, end: int) -> bool:
    """True when bytes ``start:end`` of the mapped file are valid UTF-8 (Arrow's check)."""
    view = memoryview(mm)[start:end]
    try:
        data = pa.py_buffer(view)
        offsets = pa.array([0, end - start], pa.int32()).buffers()[1]
        arr = pa.Array.from_buffers(pa.utf8(), 1, [None, offsets, data])
        try:
            arr.validate(full=True)
        except pa.ArrowInvalid:
            return False
        finally:
            del arr, data
        return True
    finally:
        view.release()


def _has_non_ascii(path: Path, end: int) -> bool:
    """True when a byte of the first ``end`` bytes of ``path`` is not ASCII (vectorised)."""
    import mmap

    import numpy as np

    if end <= 0:
        return False
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for at in range(0, end, SCAN_CHUNK):
            v = np.frombuffer(mm, dtype=np.uint8, count=min(SCAN_CHUNK, end - at), offset=at)
            found = bool((v >= 0x80).any())
            del v
            if found:
                return True
    return False


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

    def __init__(
        self, path: Path, *, allow_bad_rows: int = 0, header: bool = True, escapes: str = ""
    ) -> None:
        self.path = path
        self.display = str(path)
        self.allow_bad_rows = allow_bad_rows
        #: False: the CSV files have no header row (the caller's choice, never a guess)
        self.header = header
        #: the CSV files use MySQL's backslash escapes (the caller's choice)
        self.escapes = escapes
        self.children: dict[str, Source] = {}
        self._opened: list[Source] = []
        try:
            self._open(path)
        except BaseException:
            self.close()
            raise

    def _open(self, path: Path) -> None:
        # with MySQL's escapes, the .txt files of ``mysqldump --tab`` are CSV files too
        as_csv = csv_suffixes(self.escapes)
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in (*as_csv, *XLSX_SUFFIXES, *PARQUET_SUFFIXES)
            and not p.name.startswith((".", "~$"))
        )
        if not files:
            raise BadInput.msg("sources.empty_folder", path=path)
        if (not self.header or self.escapes) and not any(p.suffix.lower() in as_csv for p in files):
            # nothing would honour the caller's "no header row" or "MySQL escapes"
            key = "sources.no_header_not_csv" if not self.header else "sources.escapes_not_csv"
            raise BadInput.msg(key, source=path)
        for p in files:
            rel = p.relative_to(path).with_suffix("").as_posix()
            suffix = p.suffix.lower()
            child: Source
            allowance = self.allow_bad_rows
            if suffix in as_csv:
                child = CsvSource(
                    p, rel, allow_bad_rows=allowance, header=self.header, escapes=self.escapes
                )
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
