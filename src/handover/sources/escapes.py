"""MySQL's backslash escapes in a CSV file, as ``SELECT … INTO OUTFILE`` and
``mysqldump --tab`` write them and ``LOAD DATA`` reads them.

A backslash takes the character after it: ``\\N`` alone in a field is NULL, ``\\0`` a NUL,
``\\b`` ``\\n`` ``\\r`` ``\\t`` ``\\Z`` backspace, line feed, carriage return, tab and
Ctrl-Z; before anything else (itself, the delimiter, a quote, a line break) the character
is kept as it is. Without ``\\N`` nothing is NULL: an empty field is an empty text.

The file is read as a stream (:class:`Unescaping`): each escape pair whose meaning the
CSV parser cannot give is replaced by a mark of the same two bytes — a NUL and a code.
No such file holds a NUL byte (MySQL writes one as ``\\0``), so no mark can be read from
the data: a file holding a NUL byte is refused naming its line. The parser takes the
remaining pairs as its own escapes (the next character as it is, line breaks included),
and :func:`resolve` turns the marks in the parsed columns into what they stand for, over
whole Arrow arrays. A row's line is counted in the file's bytes, before any mark.

A line-break character inside a value is marked too: MySQL escapes only the first character
of its line terminator, and the parser would end a row at the other one (:func:`line_end`).
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.errors import BadInput

#: the escape pairs the stream marks (a NUL, then a code that is no delimiter, quote or line
#: break), in the order they are replaced (a doubled backslash first: pairs are read left
#: to right), with what each mark stands for (None: NULL)
_PAIRS: tuple[tuple[bytes, str, str | None], ...] = (
    (b"\\\\", "\x00\x01", "\\"),
    (b"\\N", "\x00\x02", None),
    (b"\\b", "\x00\x04", "\b"),
    (b"\\n", "\x00\x05", "\n"),
    (b"\\r", "\x00\x06", "\r"),
    (b"\\t", "\x00\x07", "\t"),
    (b"\\Z", "\x00\x08", "\x1a"),
    # last: the NUL it stands for must not start another mark when the marks are resolved
    (b"\\0", "\x00\x03", "\x00"),
)
_NULL = "\x00\x02"
#: the marks of a carriage return and a line feed that end no line (:data:`_IN_VALUE`)
_CR = "\x00\x0b"
_LF = "\x00\x0c"
#: every mark and what it stands for inside a text (``\\N`` alone is NULL; see resolve)
_MARKS = (
    (_CR, "\r"),
    (_LF, "\n"),
    *((mark, "N" if meaning is None else meaning) for _, mark, meaning in _PAIRS),
)
CHUNK = 1 << 22

#: a CRLF line end while the line feeds in values are marked (no file holds a NUL)
_CRLF = b"\x00\x0e"


def enclosed(layout: str) -> bool:
    """Whether an export of ``layout`` (:data:`handover.sources.MYSQL_LAYOUTS`) encloses
    its values in quotes (``[OPTIONALLY] ENCLOSED BY '"'``)."""
    return layout.startswith("enclosed")


def line_end(layout: str) -> bytes:
    """How an export of ``layout`` ends its lines: CRLF for ``…-crlf`` (``LINES
    TERMINATED BY '\\r\\n'``), else LF (MySQL's default)."""
    return b"\r\n" if layout.endswith("-crlf") else b"\n"


def check_line_end(path: Path, head: bytes, end: bytes, layout: str) -> None:
    """BadInput when the first bytes ``head`` of a CRLF export hold line feeds but no CRLF:
    MySQL wrote LF (every line of a CRLF export ends with CRLF). CR and LF are single bytes
    in GBK as in UTF-8. The other way round is no refusal: an LF export whose every line
    ends with CRLF is what MySQL writes for values that end in a CR, and the stream tells
    it (:attr:`Unescaping.all_crlf`) for a note."""
    if end == b"\r\n" and b"\n" in head and b"\r\n" not in head:
        raise BadInput.msg("sources.wrong_line_end", path=path, layout=layout, found="LF")


def marked(data: bytes, end: bytes = b"\n") -> bytes:
    """``data`` (no backslash or CR at its end: no pair or CRLF cut) with its pairs, and the
    line-break characters that stand in values of an export whose lines end with ``end``,
    marked (a CR or LF takes one byte, its mark two).

    MySQL escapes only the first character of its line terminator, so the other one stands
    in a value as it is: with ``LINES TERMINATED BY '\\n'`` (its default) every carriage
    return is in a value; with ``'\\r\\n'`` every line feed no CR precedes, and a CR after
    a backslash (escaped) is in a value even when a line feed follows. A line feed marked
    after a backslash is still a line feed: the parser takes the mark's NUL for the escaped
    character, and the mark resolves as any other.

    The pairs are found over the bytes at once (numpy): every backslash, the runs they
    make, the even places of each run (where a pair begins, read left to right), and the
    character after each; a pair to mark has its two bytes overwritten in place. The line
    breaks are ``bytes.replace`` calls."""
    if b"\\" in data:
        data = _pairs_marked(data)
    if end == b"\r\n":
        data = data.replace(b"\\\r", _CR.encode()).replace(b"\r\n", _CRLF)
        data = data.replace(b"\n", _LF.encode()).replace(b"\r", _CR.encode())
        return data.replace(_CRLF, b"\r\n")
    return data.replace(b"\r", _CR.encode()) if b"\r" in data else data


#: the mark's code for the character after a backslash (0: not marked)
_CODE = np.zeros(256, dtype=np.uint8)
for _pair, _mark, _ in _PAIRS:
    _CODE[_pair[1]] = ord(_mark[1])


def _pairs_marked(data: bytes) -> bytes:
    """``data`` with each escape pair of :data:`_PAIRS` overwritten by its mark."""
    arr = np.frombuffer(data, dtype=np.uint8).copy()
    at = np.flatnonzero(arr == 0x5C)
    n = at.size
    index = np.arange(n)
    # the index in ``at`` where each backslash's run begins
    begins = np.ones(n, dtype=bool)
    begins[1:] = np.diff(at) != 1
    first = np.maximum.accumulate(np.where(begins, index, 0))
    starts = at[(index - first) % 2 == 0]
    starts = starts[starts + 1 < arr.size]  # a last lone backslash escapes nothing here
    codes = _CODE[arr[starts + 1]]
    chosen = codes != 0
    arr[starts[chosen]] = 0
    arr[starts[chosen] + 1] = codes[chosen]
    return arr.tobytes()


def unmarked(text: str, end: bytes = b"\n") -> str:
    """A marked row's text as the file spells it (to find the row in the file): a CR mark
    was an escaped CR in a CRLF export, a bare one in an LF export."""
    if "\x00" not in text:
        return text
    for pair, mark, _ in _PAIRS:
        text = text.replace(mark, pair.decode())
    cr = "\\\r" if end == b"\r\n" else "\r"
    return text.replace(_CR, cr).replace(_LF, "\n")


def quotes_open(data: bytes) -> int:
    """How many quotes of marked ``data`` open or close a value (not escaped ones)."""
    return data.count(b'"') - data.count(b'\\"')


class Unescaping(io.RawIOBase):
    """The file at ``path`` as UTF-8 bytes with its escape pairs marked; ``codec`` is the
    file's encoding (a GBK character may end in the byte of a backslash, so the file is
    decoded before any pair is looked for: a byte it does not decode raises
    UnicodeDecodeError, which the reader tells as any other), ``end`` how its lines end
    (:func:`line_end`). ``quotes`` counts the quotes that open or close a value, as the
    stream passes (odd at the end: a quote never closed, which ``open_line`` opened);
    ``crlf`` the line feeds a carriage return precedes."""

    def __init__(self, path: Path, codec: str, end: bytes = b"\n") -> None:
        super().__init__()
        self.path = path
        self._end = end
        self.quotes = 0
        self.crlf = 0
        #: the line of the file where the last quote that opens a value stands
        self.open_line = 0
        self._fh = path.open("rb")
        self._decoder = None if codec == "utf-8" else codecs.getincrementaldecoder(codec)()
        self._carry = b""
        self._pending = memoryview(b"")
        self._lines = 1
        self._eof = False

    def readable(self) -> bool:
        return True

    def _next(self) -> bytes:
        raw = self._fh.read(CHUNK)
        self._eof = not raw
        data = self._decoder.decode(raw, final=self._eof).encode() if self._decoder else raw
        data = self._carry + data
        self._carry = b""
        if not self._eof:
            # backslashes and carriage returns at the end wait for the next bytes: a pair,
            # an escaped CR or a CRLF line end is never cut
            keep = len(data.rstrip(b"\\\r"))
            data, self._carry = data[:keep], data[keep:]
        at = data.find(b"\x00")
        if at >= 0:
            line = self._lines + data.count(b"\n", 0, at)
            raise BadInput.msg("sources.nul_byte", path=self.path, row=line)
        lines = self._lines
        self._lines += data.count(b"\n")
        self.crlf += data.count(b"\r\n")  # the carry never cuts one
        data = marked(data, self._end)
        self._count_quotes(data, lines)
        return data

    def _count_quotes(self, data: bytes, line: int) -> None:
        """Count the quotes of marked ``data`` (from ``line`` of the file) that open or
        close a value, and keep the line of the last that opens one (a backslash before a
        quote escapes it: every doubled backslash is a mark by now)."""
        if b'"' not in data:
            return
        v = np.frombuffer(data, dtype=np.uint8)
        at = np.flatnonzero(v == 0x22)
        escaped = np.zeros(at.size, dtype=bool)
        inner = at > 0  # the carry leaves no backslash at a chunk's end
        escaped[inner] = v[at[inner] - 1] == 0x5C
        at = at[~escaped]
        opening = at[(self.quotes + np.arange(at.size)) % 2 == 0]
        if opening.size:
            before = data[: int(opening[-1])]
            # the file's lines: a line feed inside a value is a mark by now
            self.open_line = line + before.count(b"\n") + before.count(_LF.encode())
        self.quotes += int(at.size)

    @property
    def all_crlf(self) -> bool:
        """Whether every line feed read so far follows a carriage return."""
        return self._lines > 1 and self.crlf == self._lines - 1

    def readinto(self, buffer: Any) -> int:
        """Fills ``buffer`` whole unless the file ends first (the parser takes a short
        read for the end of the file)."""
        filled = 0
        while filled < len(buffer):
            if not self._pending:
                if self._eof:
                    break
                self._pending = memoryview(self._next())
                continue
            n = min(len(buffer) - filled, len(self._pending))
            buffer[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        return filled

    def close(self) -> None:
        self._fh.close()
        super().close()


def text_of(cell: str) -> str:
    """One marked cell (a header's) as the text it stands for (``\\N`` alone: empty)."""
    if cell == _NULL:
        return ""
    for mark, meaning in _MARKS:
        cell = cell.replace(mark, meaning)
    return cell


def _codes_in(col: pa.Array) -> set[int]:
    """The codes of the marks in the text column ``col`` (from its character data: a
    sliced column may be told of a mark outside its rows, never miss one)."""
    data = col.buffers()[2]
    if data is None or data.size == 0:
        return set()
    v = np.frombuffer(data, dtype=np.uint8)
    at = np.flatnonzero(v == 0)
    at = at[at + 1 < v.size]
    return {int(c) for c in np.unique(v[at + 1])}


def resolve(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with the marks in its text columns turned into what they stand for: a
    field that is ``\\N`` alone becomes NULL (inside a text it is an ``N``, as ``LOAD
    DATA`` reads it). Only the marks a column holds are replaced, one Arrow pass each."""
    columns = []
    changed = False
    for col in batch.columns:
        codes = _codes_in(col) if pa.types.is_string(col.type) else set()
        if not codes:
            columns.append(col)
            continue
        changed = True
        null = pc.equal(col, _NULL) if ord(_NULL[1]) in codes else None
        for mark, meaning in _MARKS:
            if ord(mark[1]) in codes:
                col = pc.replace_substring(col, mark, meaning)
        columns.append(col if null is None else pc.if_else(null, pa.scalar(None, pa.string()), col))
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema) if changed else batch
