"""Reading a restored package back from its target (the last check of ``handover unseal``,
:mod:`handover.flows.unseal`), which works in this order (docs/package.md, "Unsealing"):

1. check the package completely before the target is touched: signature, file set,
   SHA-256 of every file, keys, then decrypt every table and recompute its row count,
   Merkle root and set digest. Any failure: one line, exit 1, nothing written;
2. write through ``handover.migrate`` (its schema creation, bulk writers, checkpoints,
   constraints); the package source recomputes the digests again while it streams and
   refuses before a table is reconciled if anything changed since step 1;
3. read every table back from the target and compare its row count and order-free row
   digest with the manifest; only then is ``package.unseal`` recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handover.errors import CheckFailed
from handover.package.rows import RowSet

if TYPE_CHECKING:
    from handover.package.manifest import Manifest


def read_back(
    manifest: Manifest,
    url: str,
    shown: str,
    tables: list[str] | None,
    row_sets: dict[str, str],
) -> list[dict[str, Any]]:
    """Read every restored table from ``url`` and compare its count with the manifest and its
    order-free :class:`RowSet` with ``row_sets`` (computed from the checked package).

    The set digest does not depend on row order, so engines that sort text keys by
    different collations still agree.
    """
    from handover.db.reflect import TableDef
    from handover.migrate.reader import DatabaseSource

    entries = [e for e in manifest.tables if tables is None or e.name in tables]
    src = DatabaseSource(url, [e.name for e in entries], spellings=False)
    out = []
    try:
        by_name = {d.name: d for d in src.schema()}
        for e in entries:
            want = TableDef.from_json(e.schema)
            got = by_name[e.name]
            digest = RowSet()
            for sb in src.read(got, after=None, batch_size=65_536):
                if sb.rejects:
                    raise CheckFailed.msg(
                        "package.target_mismatch", target=shown, table=e.name, what="values"
                    )
                digest.add_batch(_as(sb.data.select(want.column_names), want, got))
            if digest.count != e.rows:
                raise CheckFailed.msg(
                    "package.target_mismatch", target=shown, table=e.name, what="rows"
                )
            # the package's own rows, checked against its signed manifest before the restore
            expected = row_sets[e.name]
            if digest.hex() != expected:
                raise CheckFailed.msg(
                    "package.target_mismatch", target=shown, table=e.name, what="digest"
                )
            out.append({"name": e.name, "rows": digest.count, "row_set": expected})
    finally:
        src.close()
    return out


def _as(data: Any, want: Any, got: Any) -> Any:
    """The target's rows in the package's column types: a date/time the package holds as
    SQLite text is rendered in its recorded spelling, SQLite text read back is parsed."""
    import pyarrow as pa

    from handover.migrate import spelling

    schema = want.arrow_schema
    arrays = []
    for arr, f, col in zip(data.columns, schema, want.columns, strict=True):
        if arr.type != f.type and col.kind in spelling.TEMPORAL:
            if col.stored_text:
                arr = spelling.render(arr, col.kind, col.spelling)
            elif got.column(col.name).stored_text:
                arr = spelling.parse(arr, col.kind)[0]
        arrays.append(arr if arr.type == f.type else arr.cast(f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
