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

import handover.package.messages  # noqa: F401  (registers the texts)
from handover.errors import CheckFailed
from handover.i18n import t
from handover.package.rows import RowSet

if TYPE_CHECKING:
    from handover.package.manifest import Manifest


def read_back(
    manifest: Manifest,
    url: str,
    shown: str,
    tables: list[str] | None,
    lang: str,
    row_sets: dict[str, str],
) -> list[dict[str, Any]]:
    """Read every restored table from ``url`` and compare its count with the manifest and its
    order-free :class:`RowSet` with ``row_sets`` (computed from the checked package).

    The set digest does not depend on row order, so engines that sort text keys by
    different collations still agree.
    """
    from handover.migrate.reader import DatabaseSource
    from handover.migrate.schema import TableDef

    entries = [e for e in manifest.tables if tables is None or e.name in tables]
    src = DatabaseSource(url, [e.name for e in entries])
    out = []
    try:
        by_name = {d.name: d for d in src.schema()}
        for e in entries:
            want = TableDef.from_json(e.schema).arrow_schema
            got = by_name[e.name]
            digest = RowSet()
            for sb in src.read(got, after=None, batch_size=65_536):
                if sb.rejects:
                    raise CheckFailed(
                        t(
                            "package.target_mismatch",
                            lang,
                            target=shown,
                            table=e.name,
                            what="values",
                        )
                    )
                data = sb.data.select(want.names)
                digest.add_batch(_as(data, want))
            if digest.count != e.rows:
                raise CheckFailed(
                    t("package.target_mismatch", lang, target=shown, table=e.name, what="rows")
                )
            # the package's own rows, checked against its signed manifest before the restore
            expected = row_sets[e.name]
            if digest.hex() != expected:
                raise CheckFailed(
                    t("package.target_mismatch", lang, target=shown, table=e.name, what="digest")
                )
            out.append({"name": e.name, "rows": digest.count, "row_set": expected})
    finally:
        src.close()
    return out


def _as(data: Any, schema: Any) -> Any:
    import pyarrow as pa

    arrays = [
        col if col.type == f.type else col.cast(f.type)
        for col, f in zip(data.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
