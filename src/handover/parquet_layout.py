"""Which columns of a Parquet file handover writes are dictionary-encoded: the one
decision for the sealed package, the due-diligence extract and a cluster's shard files.

Parquet's writer, left to its default, dictionary-encodes every column: it hashes each
value into a dictionary until the dictionary page reaches its limit (1 MiB) and only then
falls back to plain encoding, again in every row group (one per batch here). That pays
for a column whose values repeat (a channel, a status, an instalment number, an amount)
and is wasted work for one whose values are nearly all distinct (a token, an ID number,
an order number, a timestamp): every value is hashed, and the dictionary is either
abandoned once it outgrows its page or kept though it saves nothing.

So a column is dictionary-encoded only when the first batch written holds at most
:data:`DICTIONARY_SHARE` distinct values per row. Measured on the seven large tables of
the 1,000,000-customer book (`docs/benchmarks.md`, "Parquet's dictionary"): the source
rows as sealed 10.5 → 7.6 s of the writer's CPU, files 756 → 706 MB; the extract's rows
10.9 → 7.5 s, 1,118 → 1,061 MB. The values, and what a reader gets back, are the same
either way: only the encoding of a column chunk differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

#: a column whose first batch has at most this many distinct values per row is
#: dictionary-encoded (0.3 gave the same sizes at more CPU; 0.5 more of both)
DICTIONARY_SHARE = 0.1


def dictionary_columns(batch: pa.RecordBatch) -> list[str]:
    """The names of ``batch``'s columns worth a dictionary (see the module's rule); a
    column whose distinct values Arrow cannot count keeps one, as by default."""
    import pyarrow as pa

    limit = DICTIONARY_SHARE * batch.num_rows
    # The rows before this many hold too many distinct values already, for the columns
    # of nearly all distinct values that cost most to count: the rest is not counted.
    head = int(2 * limit) + 1
    out: list[str] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            if head < len(column) and _distinct(column.slice(0, head)) > limit:
                continue
            distinct = _distinct(column)
        except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
            distinct = 0
        if distinct <= limit:
            out.append(name)
    return out


def _distinct(column: pa.Array) -> int:
    import pyarrow.compute as pc

    return int(pc.count_distinct(column, mode="all").as_py())


__all__ = ["DICTIONARY_SHARE", "dictionary_columns"]
