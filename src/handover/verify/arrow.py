"""The digests of a SQLite file's side against PostgreSQL or MariaDB, over Arrow.

The server hashes its cheaper digest text (:func:`~handover.verify.normalize.digest_form`,
``encode_digest_row``): each value's canonical text, a timestamp's fraction trimmed, a
decimal shown with its declared scale, ``<text>,`` or ``<length>:<text>`` per column.
SQLite's SQL rendering of that text (a ``typeof()``-aware CASE per value and a Python
hash per row) was most of verify's cost. Here ADBC's driver reads the stored values as
Arrow columns (:mod:`handover.db.adbc`), Arrow kernels build the text column by column,
the rows are hashed by one C-level loop and summed per segment exactly.

It must be the text SQLite's own value expressions give (the other side's digests are
compared with it), so a batch is rendered here only where the driver's column type and
the values pin it down (:func:`render`). Anything else — a value whose storage class the
Arrow type hides, text among numbers, a double outside the range where ``%.15g`` is
shown exactly, a text holding a NUL, a key not stored as an integer — sends the whole
piece to :func:`_canonical_digests`: SQLite renders each value's canonical text and the
digest text is built from it. ``tests/test_verify_arrow.py`` checks both against each
other and against :mod:`handover.verify.normalize`, value class by value class.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.crypto.digest import md5_fingerprints
from handover.db.adbc import EXACT_INT, ArrowReader, faithful
from handover.db.reflect import sqlite_reals
from handover.db.url import read_only_uri
from handover.verify.normalize import FORGED
from handover.verify.sql import ArrowDigest

try:  # the same texts in one pass over the buffers, in C (Arrow kernels otherwise)
    from handover.verify import _rowtext
except ImportError:
    _rowtext = None  # type: ignore[assignment]

#: rows per driver batch
BATCH_ROWS = 1 << 16
#: the statement's text of a REAL in this range is ``printf('%.15g')``: its shortcut from
#: 10^-3, and below that down to 10^-4 ``CAST(x AS TEXT)`` (``%!.15g``, still in plain
#: notation) with its trailing zeros dropped, which is the same text
_G15_LO, _G15_HI = 1e-4, 1e14
#: powers of ten: a decimal of at most 15 significant digits >= 1e-4 has at most 18 decimals
_SCALES = 19
_POW10_F = 10.0 ** np.arange(_SCALES)
#: 'YYYY-MM-DD HH:MM:SS' in ASCII digits: nothing to trim or replace, 19 characters
_STAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
#: the largest scale :func:`_g15` pads to itself (10^15 * 10^3 < 2^63)
_PAD_MAX = 3
_SIGN = pa.array(["", "-"])
_POINT = pa.array(["", "."])
_POW10_I = np.array([10**i for i in range(_SCALES)], dtype=np.int64)


def digests(path: str, plan: ArrowDigest) -> list[tuple[Any, int, str]]:
    """The digest rows of one piece of a SQLite file against a server — (segment, count,
    exact sum of the row hashes as text) — over Arrow where the driver's values pin the
    text down, else from SQLite's canonical texts (:func:`_canonical_digests`). A NULL
    key is the segment None (the caller names the problem)."""
    rows = _arrow_digests(path, plan)
    return _canonical_digests(path, plan) if rows is None else rows


def _arrow_digests(path: str, plan: ArrowDigest) -> list[tuple[Any, int, str]] | None:
    """:func:`digests` over Arrow; None where the driver is missing or refuses, or a
    batch is not rendered exactly here."""
    reader = ArrowReader.open(Path(path))
    if reader is None:
        return None
    try:
        reals = column_reals(path, plan.table, plan.columns)
        sums: dict[Any, list[int]] = {}
        stream = reader.stream(plan.sql, BATCH_ROWS)
        pages = stream.pages()
        try:
            for page in pages:
                if not _add(page, plan, sums, reals):
                    return None
        finally:
            pages.close()
        if stream.refused:
            return None
        return [(b, n, str(total)) for b, (n, total) in sorted(sums.items())]
    finally:
        reader.close()


def _canonical_digests(path: str, plan: ArrowDigest) -> list[tuple[Any, int, str]]:
    """:func:`digests` with each value's canonical text rendered by SQLite
    (``plan.canonical``: the statement's own value expressions and its segment
    arithmetic, read by ``sqlite3``), the digest text built from it over Arrow. The key
    holds integers (verify refuses any other before digests) or NULL: then the one row
    ``(None, …)``, which the caller names."""
    sums: dict[Any, list[int]] = {}
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        cur = conn.execute(plan.canonical)
        while rows := cur.fetchmany(BATCH_ROWS):
            cols = list(zip(*rows, strict=True))
            if None in cols[0]:
                return [(None, 1, "0")]
            texts = digest_values(
                [pa.array(c, pa.string()) for c in cols[1:]], plan.kinds, plan.forms
            )
            commas = [True] * len(texts)
            hashes = row_hashes60(digest_texts(texts, plan.forms, len(rows), commas))
            _sum_by(np.array(cols[0], dtype=np.int64), hashes, sums)
    finally:
        conn.close()
    return [(b, n, str(total)) for b, (n, total) in sorted(sums.items())]


def column_reals(path: str, table: str, columns: Sequence[str]) -> list[bool] | None:
    """Per column of ``columns`` of ``table``, whether the file's declared type lets it hold a REAL
    (:func:`handover.db.reflect.sqlite_reals`); None: assume every column may."""
    if not table:
        return None
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    try:
        return sqlite_reals(conn, table, list(columns))
    finally:
        conn.close()


def _add(
    page: pa.Table, plan: ArrowDigest, sums: dict[Any, list[int]], reals: list[bool] | None = None
) -> bool:
    """Add one batch's rows to ``sums`` (segment → [count, sum]); False where the batch
    is not rendered exactly here. ``reals``: per column, whether it may hold a REAL."""
    rendered = render_page(page, plan.kinds, plan.forms, reals)
    if rendered is None:
        return False
    keys, texts, commas = rendered
    hashes = row_hashes60(digest_texts(texts, plan.forms, page.num_rows, commas))
    keys = keys - plan.origin
    # SQLite's integer division truncates toward zero
    _sum_by(np.sign(keys) * (np.abs(keys) // plan.width), hashes, sums)
    return True


def render_page(
    page: pa.Table,
    kinds: Sequence[str],
    forms: Sequence[tuple[bool, int | None]],
    reals: list[bool] | None = None,
) -> tuple[np.ndarray, list[pa.Array], list[bool]] | None:
    """One batch of :func:`~handover.verify.sql.select_sql` (key, values, flag) as its
    integer keys, each value's digest text (:func:`render` with its form) and, per
    column, whether the driver gave text (it may hold a comma or nothing); None where
    the batch is not rendered exactly here: a key NULL or not stored as an integer, a
    date or time not stored as text, a value :func:`render` leaves to SQLite."""
    seg, odd = page.column(0).chunk(0), page.column(page.num_columns - 1).chunk(0)
    if not pa.types.is_integer(seg.type) or seg.null_count:
        return None
    if pc.any(pc.not_equal(odd, 0)).as_py():
        return None
    texts, commas = [], []
    for i, (kind, form) in enumerate(zip(kinds, forms, strict=True)):
        raw = page.column(i + 1).chunk(0)
        text = render(raw, kind, form, reals=reals is None or reals[i])
        if text is None:
            return None
        texts.append(text)
        commas.append(pa.types.is_string(raw.type))
    return seg.to_numpy(zero_copy_only=False).astype(np.int64), texts, commas


def _sum_by(buckets: np.ndarray, hashes: np.ndarray, sums: dict[Any, list[int]]) -> None:
    """Count and exact sum of ``hashes`` (60-bit) per segment in ``buckets``, added to
    ``sums``."""
    ids, inverse = np.unique(buckets, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(ids))
    # two 30-bit halves: a float64 sum of at most 2**16 of them is exact
    hi = np.bincount(inverse, weights=(hashes >> np.uint64(30)).astype(np.float64))
    lo = np.bincount(inverse, weights=(hashes & np.uint64((1 << 30) - 1)).astype(np.float64))
    for b, n, h, low in zip(ids.tolist(), counts.tolist(), hi.tolist(), lo.tolist(), strict=True):
        acc = sums.setdefault(b, [0, 0])
        acc[0] += n
        acc[1] += (int(h) << 30) + int(low)


def row_hashes60(rows: pa.Array) -> np.ndarray:
    """The 60-bit row hash (:func:`handover.verify.normalize.row_hash60`) of each text."""
    texts: list[bytes] = rows.cast(pa.binary()).to_pylist()
    first = np.frombuffer(md5_fingerprints(texts), dtype=">u8")[::2]
    return (first >> np.uint64(4)).astype(np.uint64)


def digest_texts(
    values: Sequence[pa.Array],
    forms: Sequence[tuple[bool, int | None]],
    n: int,
    commas: Sequence[bool],
) -> pa.Array:
    """Each row's digest text of a server pair (``normalize.encode_digest_row``, its NUL
    mark included) from its values' digest texts (:func:`render` with a form,
    :func:`digest_values`): ``<text>,`` for a compact column, ``<length>:<text>``
    otherwise (NULL: ``,`` / ``:``). ``commas``: the compact columns that may hold a
    comma or nothing (text read from SQLite, not numbers Arrow formatted)."""
    if _rowtext is not None:
        rows = _c_rows(values, forms, n, commas)
        if rows is not None:
            return rows
    pieces: list[pa.Array | pa.Scalar] = []
    forged: pa.Array | None = None
    comma_sep = pa.scalar(",")
    for text, (compact, _scale), check in zip(values, forms, commas, strict=True):
        if compact:
            if check and text.null_count != len(text):
                # a comma, or an empty text (it would read as NULL's bare separator)
                odd = pc.or_(pc.match_substring(text, ","), pc.equal(text, ""))
                odd = pc.fill_null(odd, False)
                forged = odd if forged is None else pc.or_(forged, odd)
            pieces += [pc.fill_null(text, "") if text.null_count else text, comma_sep]
        else:
            length = pc.cast(pc.utf8_length(text), pa.string())
            pieces.append(pc.fill_null(pc.binary_join_element_wise(length, text, ":"), ":"))
    if not pieces:
        return pa.array([""] * n, pa.string())
    rows = pc.binary_join_element_wise(*pieces, "")
    if forged is not None and pc.any(forged).as_py():
        rows = pc.if_else(forged, pc.binary_join_element_wise(FORGED, rows, ""), rows)
    return rows


def _c_rows(
    values: Sequence[pa.Array],
    forms: Sequence[tuple[bool, int | None]],
    n: int,
    commas: Sequence[bool],
) -> pa.Array | None:
    """:func:`digest_texts` by ``_rowtext.rows``; None where a column is no string array
    or the rows' text is too long for one (the kernels build it then)."""
    columns = []
    for text, (compact, _scale), check in zip(values, forms, commas, strict=True):
        if text.type != pa.string() or len(text) != n:
            return None
        validity, offsets, data = text.buffers()
        if offsets is None:  # an empty array may have none
            return None
        columns.append(
            (
                validity if text.null_count else None,
                offsets,
                b"" if data is None else data,
                text.offset,
                compact,
                compact and check,
            )
        )
    built = _rowtext.rows(columns, n)
    return None if built is None else _strings(n, None, *built)


def _strings(n: int, valid: np.ndarray | None, offsets: bytes, data: bytes) -> pa.Array:
    """A string array of ``n`` values from int32 ``offsets`` and ``data`` (``valid``:
    per value, whether it is not NULL; None: none is)."""
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def digest_values(
    texts: Sequence[pa.Array], kinds: Sequence[str], forms: Sequence[tuple[bool, int | None]]
) -> list[pa.Array]:
    """The digest texts of canonical texts (``normalize.render_digest``): a timestamp's
    fraction without trailing zeros, a decimal padded to its scale."""
    out = []
    for text, kind, (_compact, scale) in zip(texts, kinds, forms, strict=True):
        if kind == "timestamp":
            text = _stamp_digest(text)
        elif scale is not None and kind in ("decimal", "float"):
            text = _pad_scale(text, scale)
        out.append(text)
    return out


def _stamp_digest(text: pa.Array) -> pa.Array:
    """``normalize.render_digest`` of canonical timestamps: ``YYYY-MM-DD HH:MM:SS.ffffff``
    loses the fraction's trailing zeros (and the point when nothing is left)."""
    full = pc.and_(
        pc.equal(pc.utf8_length(text), 26),
        pc.equal(pc.utf8_slice_codeunits(text, 19, 20), "."),
    )
    head = pc.utf8_slice_codeunits(text, 0, 19)
    frac = pc.utf8_rtrim(pc.utf8_slice_codeunits(text, 20), "0")
    trimmed = pc.if_else(pc.equal(frac, ""), head, pc.binary_join_element_wise(head, frac, "."))
    return pc.if_else(pc.fill_null(full, False), trimmed, text)


def _pad_scale(text: pa.Array, scale: int) -> pa.Array:
    """``normalize.pad_scale`` of canonical decimal texts."""
    plain = pc.fill_null(pc.match_substring_regex(text, r"^-?[0-9]+(\.[0-9]+)?$"), False)
    point = pc.find_substring(text, ".")
    length = pc.utf8_length(text)
    decimals = pc.if_else(pc.less(point, 0), 0, pc.subtract(pc.subtract(length, point), 1))
    short = pc.and_(plain, pc.fill_null(pc.less_equal(decimals, scale), False))
    missing = pc.subtract(pa.scalar(scale, pa.int32()), pc.cast(decimals, pa.int32()))
    zeros = pc.binary_repeat(pa.scalar("0"), pc.if_else(short, missing, 0))
    dot = pc.if_else(pc.less(point, 0), ".", "")
    padded = pc.binary_join_element_wise(text, dot, zeros, "")
    return pc.if_else(short, padded, text)


def render(
    arr: pa.Array,
    kind: str,
    form: tuple[bool, int | None] | None = None,
    *,
    reals: bool = True,
) -> pa.Array | None:
    """The canonical texts the statement gives for the driver's column ``arr`` of
    ``kind`` (NULL stays null) or, with the column's ``form`` (compact, scale), its
    digest texts for a server pair (:func:`digest_values` of them); None where they are
    not certain here. ``reals=False``: the column cannot hold a REAL (TEXT affinity)."""
    scale = None if form is None else form[1]
    pad = scale if kind in ("decimal", "float") else None
    t = arr.type
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_integer(t):
        # INTEGER: every kind renders CAST(x AS TEXT) (date and time: not TEXT)
        digits = pc.cast(arr, pa.string())
        return digits if pad is None else pc.binary_join_element_wise(digits, "." + "0" * pad, "")
    if pa.types.is_floating(t):
        # a REAL, or an INTEGER the driver widened among REALs
        if kind == "int":
            return _integral(arr)
        if kind not in ("decimal", "float"):
            return None
        if pad is not None and pad > _PAD_MAX:
            text = _g15(arr)
            return None if text is None else _pad_scale(text, pad)
        return _g15(arr, pad)
    if pa.types.is_string(t):
        if not faithful(arr, reals=reals) or _holds_nul(arr):
            return None  # SQLite's length() stops at a NUL
        return _text(arr, kind, digest=form is not None)
    return None


def _ends(arr: pa.Array) -> np.ndarray | None:
    """The int32 offsets of the string array ``arr``'s values (``len(arr) + 1`` of them,
    a view of its buffer); None for another type or an empty array without offsets."""
    if arr.type != pa.string():
        return None
    offsets = arr.buffers()[1]
    if offsets is None:
        return None
    return np.frombuffer(offsets, np.int32, len(arr) + 1, arr.offset * 4)


def _holds_nul(arr: pa.Array) -> bool:
    """Whether a value of the string array ``arr`` holds a NUL: one pass over the bytes
    its values span (a NULL's bytes, where it has any, count too: a refusal, not a
    wrong text)."""
    data = arr.buffers()[-1]
    if data is None or not len(arr):
        return False
    ends = _ends(arr)
    if ends is None:
        return bool(pc.any(pc.match_substring(arr, "\x00")).as_py())
    first, last = int(ends[0]), int(ends[-1])
    return not np.frombuffer(data, np.uint8, last - first, first).all()


def _lengths(arr: pa.Array) -> np.ndarray | None:
    """The byte length of each value of the string array ``arr`` (a NULL's too); None
    for another type."""
    if arr.type != pa.string():
        return None
    ends = _ends(arr)
    return np.zeros(0, np.int32) if ends is None else np.diff(ends)


#: the bytes of :data:`_STAMP`: where a digit stands, and the separators' places
_STAMP_DIGITS = np.array([i for i in range(19) if i not in (4, 7, 10, 13, 16)])
_STAMP_MARKS = np.array([4, 7, 10, 13, 16])
_STAMP_SEPARATORS = np.frombuffer(b"-- ::", np.uint8)


def _usual_stamps(arr: pa.Array) -> bool:
    """True where every value of ``arr`` matches :data:`_STAMP` and every NULL spans no
    bytes, checked over the bytes as one matrix of 19 columns; False says nothing (the
    regular expression decides then)."""
    if arr.type != pa.string():
        return False
    if not len(arr):
        return True
    ends, data = _ends(arr), arr.buffers()[2]
    if ends is None or data is None:
        return False
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    lengths = np.diff(ends)
    if not np.where(valid, lengths == 19, lengths == 0).all():
        return False
    grid = np.frombuffer(data, np.uint8, 19 * int(valid.sum()), int(ends[0])).reshape(-1, 19)
    digits = grid[:, _STAMP_DIGITS]
    return bool(
        ((digits >= ord("0")) & (digits <= ord("9"))).all()
        and (grid[:, _STAMP_MARKS] == _STAMP_SEPARATORS).all()
    )


def _integral(arr: pa.Array) -> pa.Array | None:
    """kind int of doubles: an integral value below 2**53 is the integer's digits (a REAL
    or a widened INTEGER alike); any other value is left to the statement."""
    x = arr.to_numpy(zero_copy_only=False)
    ok = np.isnan(x) | ((np.trunc(x) == x) & (np.abs(x) < EXACT_INT))
    if not ok.all():
        return None
    return pc.cast(pc.cast(arr, pa.int64()), pa.string())


def _g15(arr: pa.Array, pad: int | None = None) -> pa.Array | None:
    """kind decimal/float of doubles: ``printf('%.15g', x)`` for 10^-4 <= |x| <= 10^14,
    ``0`` for zero (an INTEGER 0, a REAL 0.0 or -0.0: the statement prints ``0``), built
    from the decimal of at most 15 significant digits whose nearest double ``x`` is. Such
    a decimal reads back from ``%.15g`` unchanged (15 = DBL_DIG), and the smallest scale
    that gives ``x`` back has no trailing zero. Any other value (another magnitude, more
    digits) is left to the statement. ``pad``: shown with at least that many decimals
    (``normalize.pad_scale``), up to :data:`_PAD_MAX`."""
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    if _rowtext is not None:
        values = np.ascontiguousarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)
        built = _rowtext.g15(values, valid, len(arr), -1 if pad is None else pad)
        if built is None:
            return None
        return _strings(len(arr), None if valid.all() else valid, *built)
    # in double precision, as the module compares (a float32's 1e14 is above 10^14)
    x = np.where(valid, arr.to_numpy(zero_copy_only=False).astype(np.float64), 1.0)
    a = np.abs(x)
    zero = a == 0
    if not (zero | ((a >= _G15_LO) & (a <= _G15_HI))).all():
        return None
    scale = np.zeros(len(x), np.int64)
    k = np.zeros(len(x), np.int64)
    todo = ~zero
    # cents first (most amounts), their trailing zeros dropped; then every scale upwards
    for s in (2, *range(_SCALES)):
        idx = np.flatnonzero(todo)
        if not len(idx):
            break
        p = _POW10_F[s]
        cand = np.rint(a[idx] * p)
        ok = (cand < 1e15) & (cand / p == a[idx])
        hit = idx[ok]
        scale[hit] = s
        k[hit] = cand[ok].astype(np.int64)
        todo[hit] = False
    if todo.any():
        return None
    # the smallest scale: a decimal that ends in 0 is the same number one scale down
    for _ in range(2):
        tens = (scale > 0) & (k % 10 == 0)
        k = np.where(tens, k // 10, k)
        scale = np.where(tens, scale - 1, scale)
    if pad is not None:
        # k < 10^15 and at most _PAD_MAX more digits: below 2^63
        target = np.maximum(scale, pad)
        k = k * _POW10_I[target - scale]
        scale = target
    unit = _POW10_I[scale]
    missing = ~valid
    whole = pc.cast(pa.array(k // unit, mask=missing), pa.string())
    # the fraction with its leading zeros: the digits of unit + fraction after the "1"
    # (none at scale 0: 1 + 0 is "1")
    frac = pc.utf8_slice_codeunits(pc.cast(pa.array(k % unit + unit), pa.string()), 1)
    sign = _SIGN.take(pa.array((x < 0).view(np.int8)))
    point = _POINT.take(pa.array((scale > 0).view(np.int8)))
    return pc.binary_join_element_wise(sign, whole, point, frac, "")


def _text(arr: pa.Array, kind: str, *, digest: bool = False) -> pa.Array | None:
    """The statement's text of a string column: TEXT (date and time: flagged otherwise in
    SQL), an INTEGER's digits, a BLOB's bytes, or a REAL's text both SQLite versions
    spell alike (:func:`~handover.db.adbc.faithful`). ``digest``: a timestamp's digest
    text (its fraction without trailing zeros)."""
    if kind == "text":
        return arr
    if kind in ("int", "decimal", "float"):
        # text among numbers: a REAL, or a BLOB a later batch shows as text, is not told
        # apart here (the statement renders a BLOB as NUL + hex)
        return None
    if kind == "date":
        lengths = _lengths(arr)
        if lengths is not None and not (lengths > 10).any():
            return arr  # no value longer than 10 bytes: each is its first 10 characters
        return pc.utf8_slice_codeunits(arr, 0, 10)
    if kind == "time":
        # normalize.clock_trim: a fraction that ends the text loses its trailing zeros
        last = pc.match_substring_regex(arr, r"^[^.]*\.[0-9]*$")
        trimmed = pc.utf8_rtrim(pc.utf8_rtrim(arr, characters="0"), characters=".")
        return pc.if_else(pc.fill_null(last, False), trimmed, arr)
    if kind == "timestamp":
        if _usual_stamps(arr) or pc.all(pc.match_substring_regex(arr, _STAMP)).as_py() is not False:
            # the usual spelling: no fraction to pad (or, in a digest text, to trim)
            return arr if digest else pc.binary_join_element_wise(arr, ".000000", "")
        v = pc.replace_substring(pc.utf8_trim(arr, " "), "T", " ")
        n = pc.utf8_length(v)
        padded = pc.utf8_slice_codeunits(pc.binary_join_element_wise(v, "000000", ""), 0, 26)
        canonical = pc.case_when(
            pc.make_struct(pc.equal(n, 10), pc.equal(n, 19), pc.greater(n, 26)),
            pc.binary_join_element_wise(v, " 00:00:00.000000", ""),
            pc.binary_join_element_wise(v, ".000000", ""),
            v,  # longer than a timestamp: kept whole, never cut to look like one
            padded,
        )
        return _stamp_digest(canonical) if digest else canonical
    return None
