"""Files (CSV, XLSX, Parquet, folders) as a migration source, read through ``handover.sources``.

Databases are read by migrate's typed reader; files have no declared SQL types, so their
neutral schema is derived from the Arrow types ``handover.sources`` infers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from handover.db.reflect import ColumnDef, TableDef

if TYPE_CHECKING:
    from handover.db.reflect import TableDef as _TableDef
    from handover.migrate.reader import Key, SourceBatch


def _column(name: str, t: pa.DataType, nullable: bool) -> ColumnDef:
    if pa.types.is_boolean(t):
        kind = "bool"
    elif pa.types.is_integer(t):
        kind = "int64"
    elif pa.types.is_floating(t):
        kind = "float64"
    elif pa.types.is_decimal(t):
        return ColumnDef(name, "decimal", precision=t.precision, scale=t.scale, nullable=nullable)
    elif pa.types.is_date(t):
        kind = "date"
    elif pa.types.is_timestamp(t):
        kind = "timestamptz" if t.tz else "timestamp"
    elif pa.types.is_time(t):
        kind = "time"
    elif pa.types.is_binary(t) or pa.types.is_large_binary(t):
        kind = "binary"
    else:
        kind = "text"
    return ColumnDef(name, kind, nullable=nullable, declared=str(t))


class FileReader:
    """A CSV/XLSX/Parquet file or folder, streamed by ``handover.sources``."""

    is_package = False
    family = "files"

    def __init__(self, spec: str | Path, tables: list[str] | None = None) -> None:
        from handover.sources import open_source

        self.src = open_source(spec)
        self.display = self.src.display or str(spec)
        self.kind = self.src.kind
        infos = self.src.tables()
        if tables is not None:
            infos = [i for i in infos if i.name in tables]
        self._infos = {i.name: i for i in infos}
        self._defs = [
            TableDef(
                i.name,
                [_column(c.name, c.arrow_type, c.nullable) for c in i.columns],
                tuple(i.primary_key),
            )
            for i in infos
        ]

    def schema(self) -> list[TableDef]:
        """Every table, in the order the source lists them."""
        return self._defs

    def count(self, table: _TableDef) -> int:
        """Row count as the source reports it."""
        return int(self._infos[table.name].rows)

    def resume_key(self, table: _TableDef) -> tuple[str, ...]:
        """Files are read whole, in file order."""
        return ()

    def read(
        self, table: _TableDef, *, after: Key | None, batch_size: int
    ) -> Iterator[SourceBatch]:
        """Every row in file order, cast to the neutral schema's Arrow types."""
        from handover.migrate.reader import SourceBatch

        schema = table.arrow_schema
        for batch in self.src.batches(table.name, batch_size=batch_size):
            data = pa.RecordBatch.from_arrays(
                [col.cast(f.type) for col, f in zip(batch.columns, schema, strict=True)],
                schema=schema,
            )
            yield SourceBatch(data, [], None, data.num_rows)

    def close(self) -> None:
        """Release the source."""
        self.src.close()
