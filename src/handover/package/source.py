"""Opening a package: the checks, and the package as a migration source.

:class:`PackageSource` checks the signature, the file set, every file's SHA-256 and the
keys when it opens; while it streams a table it recomputes the row digests and refuses
(:class:`CheckFailed`) before the last batch is handed over if the count or the root
differs from the manifest. It implements :class:`handover.migrate.reader.MigrationSource`,
so ``handover migrate PKG TARGET`` and ``handover unseal`` reuse migrate's writers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto.errors import DecryptionFailed
from handover.errors import CheckFailed
from handover.package.manifest import MANIFEST, SIGNATURE, TABLES_DIR, Manifest, read_verified
from handover.package.rows import ENCODINGS, MERKLE_ENCODING, RowDigest
from handover.results import PerTableRows

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.crypto import Keys
    from handover.db.reflect import TableDef
    from handover.migrate.reader import Key, SourceBatch
    from handover.package.manifest import TableEntry
    from handover.workspace import Workspace


def is_package(spec: str | Path) -> bool:
    """True if ``spec`` is a folder holding a package manifest."""
    from handover.db.url import is_url

    if is_url(spec):
        return False
    p = Path(spec)
    return p.is_dir() and (p / MANIFEST).is_file()


@dataclass
class PackageCheck(PerTableRows):
    """The outcome of checking a package: who signed it and what each table holds."""

    package: Path
    package_id: str
    signer: dict[str, Any]
    tables: list[dict[str, Any]] = field(default_factory=list)
    deep: bool = True

    def to_json(self) -> dict[str, Any]:
        """Machine form: ids, counts and digests only."""
        return {
            "package": str(self.package),
            "package_id": self.package_id,
            "signed_by": {k: self.signer.get(k) for k in ("key_id", "key_version", "public_key")},
            "tables": self.tables,
            "rows": self.rows,
            "rows_decrypted_and_digested": self.deep,
        }


class PackageSource:
    """A sealed package, checked on open, streamed table by table with digest checks."""

    is_package = True
    family = "package"

    def __init__(
        self,
        ws: Workspace,
        path: str | Path,
        tables: list[str] | None = None,
    ) -> None:
        from handover.crypto import Keys

        self.ws = ws
        self.path = Path(path)
        self.display = str(self.path)
        self.manifest, self.signer = read_verified(ws, self.path)
        entries = self.manifest.tables
        if tables is not None:
            missing = sorted(set(tables) - {e.name for e in entries})
            if missing:
                from handover.errors import BadInput

                raise BadInput.msg("package.no_table", package=self.display, table=missing[0])
            entries = [e for e in entries if e.name in tables]
        self.entries = entries
        self._check_files()
        self.keys: Keys = Keys(ws)
        try:
            self._check_keys()
        except BaseException:
            self.keys.close()
            raise
        from handover.db.reflect import TableDef

        self._defs = [TableDef.from_json(e.schema) for e in entries]

    # --- checks on open ----------------------------------------------------------------------

    def _check_files(self) -> None:
        from handover.crypto import sha256_file

        files = [f for e in self.manifest.tables for f in e.files()]
        listed = {f for f, _, _ in files}
        for f, _, _ in files:
            if not (self.path / f).is_file():
                raise CheckFailed.msg("package.missing_file", package=self.display, file=f)
        present = {MANIFEST, SIGNATURE}
        for p in sorted(self.path.rglob("*")):
            rel = p.relative_to(self.path).as_posix()
            if p.is_dir() and rel == TABLES_DIR:
                continue
            if rel not in listed and rel not in present:
                raise CheckFailed.msg("package.unexpected_file", package=self.display, file=rel)
        for f, sha, size in files:
            p = self.path / f
            if p.stat().st_size != size or sha256_file(p) != sha:
                raise CheckFailed.msg("package.hash_mismatch", package=self.display, file=f)

    def _check_keys(self) -> None:
        from handover.crypto import KeyNotFound

        for key_id in self.manifest.key_ids:
            try:
                info = self.keys.get(key_id)
            except KeyNotFound:
                raise CheckFailed.msg(
                    "package.key_missing", package=self.display, key_id=key_id
                ) from None
            if info.state == "destroyed":
                raise CheckFailed.msg(
                    "package.key_destroyed",
                    package=self.display,
                    key_id=key_id,
                    when=info.destroyed_at,
                )

    # --- MigrationSource ---------------------------------------------------------------------

    def entry(self, table: str) -> TableEntry:
        """The manifest entry of ``table``."""
        return self.manifest.table(table)

    def schema(self) -> list[TableDef]:
        """The tables as the manifest describes them, referenced tables first."""
        return self._defs

    def count(self, table: TableDef) -> int:
        """Rows of ``table`` according to the (signed) manifest."""
        return self.entry(table.name).rows

    def resume_key(self, table: TableDef) -> tuple[str, ...]:
        """The key the table was sealed in order of (empty: copy whole)."""
        return tuple(self.entry(table.name).order_key)

    def read(self, table: TableDef, *, after: Key | None, batch_size: int) -> Iterator[SourceBatch]:
        """Decrypted batches in package order, after the row whose key is ``after``.

        A full read (``after`` None) recomputes the row digests and raises CheckFailed
        instead of yielding the last batch when the count or root differs.
        """
        from handover.migrate.reader import SourceBatch

        e = self.entry(table.name)
        schema = table.arrow_schema
        key = list(e.order_key)
        encoding = str(self.manifest.row_digest.get("encoding") or MERKLE_ENCODING)
        if encoding not in ENCODINGS:
            raise CheckFailed.msg(
                "package.bad_digest_encoding", package=self.display, encoding=encoding
            )
        held: SourceBatch | None = None
        skipping = after is not None
        for batch in self._checked(e, schema, batch_size, encoding, digest=after is None):
            data = batch
            if skipping:
                data, skipping = _after(data, key, after)
                if data.num_rows == 0:
                    continue
            keys = [data.column(k).to_pylist() for k in key]
            last = tuple(col[-1] for col in keys) if key else None
            sb = SourceBatch(data, keys, last, data.num_rows)
            # Hold one batch back: the last one is released only after the digest check.
            if held is not None:
                yield held
            held = sb
        if held is not None:
            yield held

    def _checked(
        self, e: TableEntry, schema: pa.Schema, batch_size: int, encoding: str, *, digest: bool
    ) -> Iterator[pa.RecordBatch]:
        """The table's batches in package order (shard after shard); with ``digest`` the
        count and roots are checked when the last batch has been handed over, before the
        caller releases it (CheckFailed naming the table)."""
        from handover.package.rows import chunks_root

        if e.shards is None:
            d = RowDigest(encoding) if digest else None
            for b in self._file_batches(e, e.file, schema, batch_size):
                if d is not None:
                    d.add_batch(b)
                yield b
            if d is not None:
                self._check_digest(e, d)
            return
        chunks = bytearray()
        rows = 0
        for shard in e.shards:
            sd = RowDigest() if digest else None
            for b in self._file_batches(e, str(shard["file"]), schema, batch_size):
                if sd is not None:
                    sd.add_batch(b)
                yield b
            if sd is not None:
                if sd.count != int(shard["rows"]) or sd.root().hex() != shard["row_root"]:
                    raise CheckFailed.msg(
                        "package.digest_mismatch", package=self.display, table=e.name
                    )
                chunks += sd.chunk_digests()
                rows += sd.count
        if digest:
            if rows != e.rows:
                raise CheckFailed.msg(
                    "package.rows_mismatch",
                    package=self.display,
                    table=e.name,
                    found=rows,
                    expected=e.rows,
                )
            if chunks_root(bytes(chunks)).hex() != e.row_root:
                raise CheckFailed.msg("package.digest_mismatch", package=self.display, table=e.name)

    def _check_digest(self, e: TableEntry, digest: RowDigest) -> None:
        if digest.count != e.rows:
            raise CheckFailed.msg(
                "package.rows_mismatch",
                package=self.display,
                table=e.name,
                found=digest.count,
                expected=e.rows,
            )
        row_set = digest.set_digest()
        if digest.root().hex() != e.row_root or (
            e.row_set is not None and (row_set is None or row_set.hex() != e.row_set)
        ):
            raise CheckFailed.msg("package.digest_mismatch", package=self.display, table=e.name)

    def _file_batches(
        self, e: TableEntry, file: str, schema: pa.Schema, batch_size: int
    ) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from handover.crypto.parquet import decryption_properties

        names = [c["parquet_name"] for c in e.columns]
        expected = pa.schema(
            [pa.field(n, f.type, f.nullable) for n, f in zip(names, schema, strict=True)]
        )
        fail = DecryptionFailed.msg("package.decrypt_failed", package=self.display, table=e.name)
        try:
            pf = pq.ParquetFile(
                self.path / file, decryption_properties=decryption_properties(self.keys)
            )
        except (OSError, pa.ArrowException):
            raise fail from None
        try:
            if not pf.schema_arrow.remove_metadata().equals(expected, check_metadata=False):
                raise CheckFailed.msg("package.schema_mismatch", package=self.display, table=e.name)
            it = pf.iter_batches(batch_size=batch_size)
            while True:
                try:
                    batch = next(it)
                except StopIteration:
                    break
                except (OSError, pa.ArrowException):
                    raise fail from None
                yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
        finally:
            pf.close()

    def close(self) -> None:
        """Release the key backend."""
        self.keys.close()

    def __enter__(self) -> PackageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _after(data: pa.RecordBatch, key: list[str], after: Any) -> tuple[pa.RecordBatch, bool]:
    """Rows after the one whose key equals ``after``; (rows, still skipping)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not key:
        return data, False
    mask = None
    for name, value in zip(key, after, strict=True):
        col = data.column(name)
        eq = pc.equal(col, pa.scalar(value, col.type))
        mask = eq if mask is None else pc.and_(mask, eq)
    assert mask is not None
    hits = pc.indices_nonzero(pc.fill_null(mask, False))
    if len(hits) == 0:
        return data.slice(0, 0), True
    start = int(hits[0].as_py()) + 1
    return data.slice(start), False


def verify_package(
    ws: Workspace,
    path: str | Path,
    *,
    deep: bool = True,
    row_sets: bool = False,
) -> PackageCheck:
    """Check a package: signature, file set, SHA-256s, keys; with ``deep`` also decrypt every
    table and recompute its row count and digests. Raises CheckFailed on the first problem.

    With ``row_sets`` (and ``deep``) each table's entry also gets ``row_set``, the
    order-free :class:`~handover.package.rows.RowSet` of its checked rows, which
    ``unseal`` compares with the restored target.
    """
    from handover.package.rows import RowSet

    with PackageSource(ws, path) as src:
        check = PackageCheck(src.path, src.manifest.package_id, src.signer, deep=deep)
        for d in src.schema():
            e = src.entry(d.name)
            entry: dict[str, Any] = {
                "name": e.name,
                "rows": e.rows,
                "row_root": e.row_root,
                "sha256": e.sha256,
            }
            if deep:
                rs = RowSet() if row_sets else None
                for sb in src.read(d, after=None, batch_size=65_536):
                    if rs is not None:
                        rs.add_batch(sb.data)
                if rs is not None:
                    entry["row_set"] = rs.hex()
            check.tables.append(entry)
    return check


def load_manifest(ws: Workspace, path: str | Path) -> Manifest:
    """The package's manifest after its signature check (no file or key checks)."""
    return read_verified(ws, Path(path))[0]
