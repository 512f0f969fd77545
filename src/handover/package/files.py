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
from handover.errors import BadInput
from handover.sources import PLAIN, FileReading

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

    def __init__(
        self,
        spec: str | Path,
        tables: list[str] | None = None,
        *,
        reading: FileReading = PLAIN,
    ) -> None:
        from handover.sources import open_source

        self.src = open_source(spec, reading=reading)
        self.display = self.src.display or str(spec)
        self.kind = self.src.kind
        try:
            infos = self.src.tables()
            if tables is not None:
                infos = [i for i in infos if i.name in tables]
            self._infos = {i.name: i for i in infos}
            self._defs = [
                TableDef(
                    i.name,
                    [self._carried(i.name, c.name, c.arrow_type, c.nullable) for c in i.columns],
                    tuple(i.primary_key),
                )
                for i in infos
            ]
        except BaseException:
            self.src.close()
            raise

    def _carried(self, table: str, name: str, t: pa.DataType, nullable: bool) -> ColumnDef:
        """The neutral column of a file column; BadInput naming it for a nested type
        (list, struct, map), which has no column type in a package or a database."""
        if pa.types.is_nested(t) or pa.types.is_union(t):
            raise BadInput.msg(
                "package.nested_column", path=self.display, table=table, column=name, type=str(t)
            )
        return _column(name, t, nullable)

    def skipped(self) -> dict[str, list[int]]:
        """The rows (line numbers) each table lost as allowed
        (:class:`handover.sources.FileReading`)."""
        return {k: v for k, v in self.src.skipped().items() if k in self._infos}

    def schema(self) -> list[TableDef]:
        """Every table, in the order the source lists them."""
        return self._defs

    def count(self, table: _TableDef) -> int:
        """Row count as the source reports it."""
        return int(self._infos[table.name].rows)

    def resume_key(self, table: _TableDef) -> tuple[str, ...]:
        """Files are read whole, in file order."""
        return ()

    def row_groups(self, table: _TableDef) -> list[int] | None:
        """Rows of each row group of a Parquet table (None: not Parquet)."""
        return self.src.row_groups(table.name)

    def read(
        self,
        table: _TableDef,
        *,
        after: Key | None,
        batch_size: int,
        groups: tuple[int, int] | None = None,
    ) -> Iterator[SourceBatch]:
        """Every row in file order (only row groups ``groups`` of a Parquet table when
        given), cast to the neutral schema's Arrow types."""
        from handover.migrate.reader import SourceBatch

        schema = table.arrow_schema
        if groups is None:
            batches = self.src.batches(table.name, batch_size=batch_size)
        else:
            batches = self.src.group_batches(table.name, groups, batch_size=batch_size)
        for batch in batches:
            data = pa.RecordBatch.from_arrays(
                [col.cast(f.type) for col, f in zip(batch.columns, schema, strict=True)],
                schema=schema,
            )
            yield SourceBatch(data, [], None, data.num_rows)

    def close(self) -> None:
        """Release the source."""
        self.src.close()
