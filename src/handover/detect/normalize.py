"""Vectorised normalisation of cell values before recognition (pyarrow.compute only).

- ``text``: NFKC (full-width digits and letters → ASCII), trimmed.
- ``compact``: ``text`` upper-cased, without spaces, dashes, dots between digits and
  brackets, with a leading +86 / 0086 / 86- removed from 13-digit mobiles.
- placeholders (无, N/A, 0, all-same-character runs …) are flagged, not removed.
- binary cells (BLOB, bytea …) are text only when their bytes are valid UTF-8 without
  a NUL byte; any other cell is bytes, never decoded (``binary_as_text`` counts them).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from handover.detect.lexicon import PLACEHOLDERS

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

_PLACEHOLDER_SET = pa.array(PLACEHOLDERS, pa.string())
# Excel shows long numbers in scientific notation and keeps 15 significant digits.
MANGLED = r"^[1-9](?:\.[0-9]{1,14})?[Ee]\+?(?:1[0-9]|9)$"
# Well-formed UTF-8 (RFC 3629 section 4) without NUL, byte by byte: RE2 matches binary
# arrays in Latin-1 mode, so ``\xNN`` here is the byte NN. Overlongs, surrogates and
# code points past U+10FFFF do not match; a NUL marks bytes, not text (as git does).
UTF8_TEXT = (
    r"^(?:[\x01-\x7F]|[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]"
    r"|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]"
    r"|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2})*$"
)


def is_binary(t: pa.DataType) -> bool:
    """True for Arrow binary types (BLOB, bytea, VARBINARY columns)."""
    return bool(
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    )


def utf8_text_mask(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Per binary cell: True when its bytes are UTF-8 text (see ``UTF8_TEXT``), null when null.

    Vectorised (one RE2 pass over the bytes); never decodes, so never raises on bad bytes.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.match_substring_regex(arr.cast(pa.binary()), UTF8_TEXT)


def binary_as_text(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, int]:
    """The text cells of a binary column as ``string`` (other cells null), and how many
    non-null cells were bytes rather than text (they are counted, never decoded)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    data = arr.cast(pa.binary())
    text = np.asarray(
        pc.fill_null(utf8_text_mask(data), False).to_numpy(zero_copy_only=False), dtype=np.bool_
    )
    n_text = int(text.sum())
    not_text = len(data) - data.null_count - n_text
    if not_text == 0:
        return data.cast(pa.string()), 0
    # Gather the text cells into fresh buffers: the bytes of the other cells must not
    # stay behind null slots, where a whole-buffer kernel could still meet them.
    index = np.where(text, np.cumsum(text) - 1, 0)
    taken = data.filter(pa.array(text)).take(pa.array(index, mask=~text))
    return taken.cast(pa.string()), not_text


def as_strings(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The column as one Arrow ``string`` array (numbers, dates cast; binary cells that
    are not UTF-8 text → null)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_string(t):
        return arr
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return arr.cast(pa.string())
    if pa.types.is_dictionary(t):
        return as_strings(arr.dictionary_decode())
    if is_binary(t):
        return binary_as_text(arr)[0]
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_floating(t):
        # Whole floats print without ".0" so 13812345678.0 reads as the number it was.
        whole = pc.and_(pc.equal(pc.floor(arr), arr), pc.less(pc.abs(arr), 1e15))
        as_int = pc.cast(pc.if_else(whole, arr, 0.0), pa.int64(), safe=False).cast(pa.string())
        return pc.if_else(whole, as_int, arr.cast(pa.string()))
    if pa.types.is_timestamp(t):
        return pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
    try:
        return arr.cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # Nested types (lists, structs, maps from Parquet) have no string cast. Render them
        # as JSON so an ID inside a list is still found: a per-cell loop, but only for these
        # rare columns; turning them into nulls would hide their contents from the scan.
        return pa.array(
            [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in arr.to_pylist()
            ],
            pa.string(),
        )


def to_text(arr: pa.Array) -> pa.Array:
    """NFKC-normalised, trimmed strings (full-width ０-９/Ａ-Ｚ become ASCII)."""
    ascii_ = pc.string_is_ascii(arr)
    if pc.all(ascii_).as_py() is not False:
        return pc.utf8_trim_whitespace(arr)
    norm = pc.if_else(ascii_, arr, pc.utf8_normalize(arr, "NFKC"))
    return pc.utf8_trim_whitespace(norm)


def to_compact(text: pa.Array) -> pa.Array:
    """Upper-cased, separators between characters removed, +86/0086/86- stripped."""
    s = pc.replace_substring_regex(text, r"[\s\-()（）._/]", "")
    s = pc.replace_substring_regex(s, r"^(?:\+86|0086|86)(1[3-9][0-9]{9})$", r"\1")
    s = pc.replace_substring_regex(s, r"^\+", "")
    return pc.utf8_upper(s)


def placeholder_mask(text: pa.Array) -> BoolArray:
    """True where the value is null or a placeholder (无, N/A, 0, 000000, xxxx …)."""
    known = pc.is_in(text, value_set=_PLACEHOLDER_SET)
    runs = pc.match_substring_regex(text, r"^(?:0+|1{6,}|9{6,}|[xX*]{3,}|(?:12345678)+9?0?|0\.0+)$")
    out = pc.or_(pc.or_(pc.fill_null(known, True), pc.fill_null(runs, False)), pc.is_null(text))
    return np.asarray(pc.fill_null(out, True).to_numpy(zero_copy_only=False), dtype=np.bool_)


def char_matrix(arr: pa.Array, width: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Rows of ``width`` bytes from a null-free string array whose values are all
    ``width`` ASCII characters long (zero copy over the Arrow buffers)."""
    n = len(arr)
    if n == 0:
        return np.zeros((0, width), dtype=np.uint8)
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    start = int(offsets[0])
    if int(offsets[-1]) - start != n * width:
        raise ValueError("char_matrix needs values of equal width")
    return data[start : start + n * width].reshape(n, width)


def digits_of(m: np.ndarray[Any, np.dtype[np.uint8]]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """ASCII digit bytes → their values (int64)."""
    return m.astype(np.int64) - 48
