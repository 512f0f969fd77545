"""``handover seal``: the encrypted, signed transfer package (and the pre-migration backup).

One Parquet file per table, written with Parquet Modular Encryption (encrypted footer;
one column key for the C3 columns, one for C2, one for every other column, chosen from
the scan inventory), and a signed ``manifest.json`` (docs/package.md). The package is
built in a hidden folder beside ``out`` and renamed into place at the end: a failure
leaves no package and no key behind.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import secrets
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto.files import place_folder
from handover.errors import BadInput
from handover.package.manifest import TABLES_DIR, Manifest, TableEntry, write_signed
from handover.package.rows import CHUNK_ROWS, ENCODING, RowDigest
from handover.parquet_layout import dictionary_columns
from handover.progress import Progress
from handover.results import PerTableRows
from handover.sources import PLAIN, FileReading, check_reading

if TYPE_CHECKING:
    from handover.db.reflect import TableDef
    from handover.events import EventSink
    from handover.migrate.reader import MigrationSource, SourceBatch
    from handover.workspace import Workspace

Clock = Callable[[], dt.datetime]
KEY_PURPOSE = "package"
#: rows per Parquet row group (and per digest task)
BATCH_ROWS = 65_536
#: digest tasks in flight before the writer waits (bounds memory)
DIGEST_DEPTH = 4
_BAD_NAME = re.compile(r"[,;:]")


def utcnow() -> dt.datetime:
    """The real clock, in UTC (the default of every ``clock`` here)."""
    return dt.datetime.now(dt.UTC)


@dataclass
class SealResult(PerTableRows):
    """What was sealed: where, which tables, how many rows and bytes, under which keys."""

    package: Path
    package_id: str
    purpose: str
    source: str
    tables: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    footer_key: str = ""
    suite: str = "aes"
    seconds: float = 0.0
    scan_id: int | None = None
    #: rows (line numbers) each file table lost, as ``--allow-bad-rows`` allowed
    skipped: dict[str, list[int]] = field(default_factory=dict)
    #: tables of the source left out because they hold no column and no row (an empty
    #: sheet); the manifest lists them too
    without_columns: list[str] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(int(x["bytes"]) for x in self.tables)

    def to_json(self) -> dict[str, Any]:
        """Machine form (``--json``, ledger, migrate's backup record): ids and counts only."""
        return {
            "package": str(self.package),
            "package_id": self.package_id,
            "purpose": self.purpose,
            "source": self.source,
            "tables": self.tables,
            "rows": self.rows,
            "bytes": self.bytes,
            "column_keys": self.keys,
            "footer_key": self.footer_key,
            "suite": self.suite,
            "seconds": round(self.seconds, 3),
            "skipped_rows": self.skipped,
            "tables_without_columns": self.without_columns,
        }


# --- reading the source ----------------------------------------------------------------


def is_database(spec: str | Path) -> bool:
    """True for a database URL or a SQLite file; False for CSV/XLSX/Parquet files or folders."""
    from handover.db.url import is_url

    if is_url(spec):
        return True
    from handover.sources import SQLITE_SUFFIXES

    path = Path(spec)
    if not path.is_file():
        return False
    if path.suffix.lower() in SQLITE_SUFFIXES:
        return True
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def open_reader(
    spec: str | Path,
    tables: list[str] | None = None,
    *,
    reading: FileReading = PLAIN,
    spellings: bool = True,
) -> MigrationSource:
    """The reader seal uses: migrate's typed database reader, or files through
    ``handover.sources`` (``reading``: how file tables are read, :class:`FileReading`).

    ``spellings=False``: SQLite's date/time columns are not profiled for the spelling
    they share (a full scan of each table) — for a reader that only needs their stored
    text, which is read the same either way."""
    check_reading(spec, reading)
    if is_database(spec):
        from handover.migrate.reader import DatabaseSource

        return DatabaseSource(str(spec), tables, spellings=spellings)
    from handover.package.files import FileReader

    return FileReader(spec, tables, reading=reading)


def skipped_rows(reader: MigrationSource) -> dict[str, list[int]]:
    """The rows (line numbers) each file table lost as allowed; empty for databases."""
    from handover.package.files import FileReader

    return reader.skipped() if isinstance(reader, FileReader) else {}


# --- sealing -----------------------------------------------------------------------------


def seal_reader(
    ws: Workspace,
    reader: MigrationSource,
    defs: list[TableDef],
    out: Path,
    *,
    tiers: dict[tuple[str, str], str | None],
    scan_id: int | None,
    shown: str,
    events: EventSink,
    purpose: str = "transfer",
    clock: Clock = utcnow,
    progress: Progress | None = None,
) -> SealResult:
    """Seal the tables ``defs`` of ``reader`` into the package folder ``out``; see docs/package.md.

    Every column is encrypted under its JR/T 0171 tier's key (``tiers`` from the scan
    inventory); the manifest records schemas, row counts, row-digest roots and file
    hashes, signed with the workspace key. Built in a hidden folder renamed into place at
    the end: a failure leaves no package and no key (key events go to ``events``).
    """
    from handover.crypto import Keys

    t0 = time.perf_counter()
    defs, bare = without_columns(reader, defs, shown)
    created: list[str] = []
    tmp = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    try:
        plan = [plan_table(d, tiers) for d in defs]
        with Keys(ws, events=events) as keys:
            key_ids = create_keys(keys, plan, created)
            footer = key_ids["other"]
            (tmp / TABLES_DIR).mkdir(parents=True)
            entries = []
            suite = ws.settings.crypto_suite
            for i, (d, p) in enumerate(zip(defs, plan, strict=True), start=1):
                rel = table_file(i, d.name)
                entries.append(
                    _seal_table(
                        reader,
                        d,
                        p,
                        tmp / rel,
                        rel,
                        keys,
                        key_ids,
                        footer,
                        suite,
                        shown,
                        progress,
                    )
                )
        manifest = build_manifest(
            entries,
            key_ids=key_ids,
            suite=suite,
            purpose=purpose,
            source={
                "display": shown,
                "kind": getattr(reader, "kind", None) or _kind(reader),
                **({"tables_without_columns": bare} if bare else {}),
            },
            scan_id=scan_id,
            clock=clock,
        )
        write_signed(ws, tmp, manifest, events=events)
        place_folder(tmp, out, "package.exists")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        discard_keys(ws, created, events)
        raise
    return result_of(manifest, out, shown, key_ids, suite, time.perf_counter() - t0, scan_id)


def without_columns(
    reader: MigrationSource, defs: list[TableDef], shown: str
) -> tuple[list[TableDef], list[str]]:
    """``defs`` without the tables that hold no column (an empty XLSX sheet: scan and
    dd-extract list it, and a Parquet file cannot encrypt it), and their names, which the
    manifest records. Such a table that still counts rows is refused (BadInput naming
    it), as is a source left with no table to seal."""
    kept: list[TableDef] = []
    bare: list[str] = []
    for d in defs:
        if d.columns:
            kept.append(d)
        elif reader.count(d):
            raise BadInput.msg("package.no_columns", table=d.name)
        else:
            bare.append(d.name)
    if not kept:
        raise BadInput.msg("package.no_tables", source=shown)
    return kept, bare


def create_keys(keys: Any, plan: list[dict[str, Any]], created: list[str]) -> dict[str, str]:
    """The package's keys (``other`` always, ``C3``/``C2`` when a column needs them), each
    id appended to ``created`` as soon as it exists (to be discarded on failure)."""
    needed = {c["key"] for p in plan for c in p["columns"]}
    key_ids: dict[str, str] = {}
    for slot in ("C3", "C2", "other"):
        if slot in needed or slot == "other":
            info = keys.create(KEY_PURPOSE, None if slot == "other" else slot)
            created.append(info.key_id)
            key_ids[slot] = info.key_id
    return key_ids


def table_file(i: int, name: str, shard: int | None = None) -> str:
    """The package-relative file of table number ``i`` (1-based), or of one of its shards."""
    part = "" if shard is None else f".{shard:05d}"
    return f"{TABLES_DIR}/{i:04d}-{_slug(name)}{part}.parquet"


def build_manifest(
    entries: list[TableEntry],
    *,
    key_ids: dict[str, str],
    suite: str,
    purpose: str,
    source: dict[str, Any],
    scan_id: int | None,
    clock: Clock,
) -> Manifest:
    """The manifest of a package whose tables are ``entries``."""
    sharded = any(e.shards is not None for e in entries)
    row_digest = {
        "encoding": ENCODING,
        "chunk_rows": CHUNK_ROWS,
        "leaf": "SHA-256(0x00 || the chunk's canonical rows concatenated)",
        "root": "RFC 6962 Merkle root over the chunk digests in file order",
    }
    if sharded:
        row_digest["shards"] = (
            "a sharded table's root is the RFC 6962 Merkle root over the chunk digests of "
            "its shards in shard order (chunks restart at every shard); each shard's "
            "row_root is the root over its own chunks"
        )
    return Manifest(
        package_id=f"pkg-{clock().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}",
        created_at=clock().isoformat(),
        purpose=purpose,
        source=source,
        crypto={
            "suite": suite,
            "parquet_algorithm": "AES_GCM_V1",
            "encrypted_footer": True,
            "kms": "handover",
            "key_wrapping": "single (data keys wrapped by the handover key backend)",
            "column_keys": key_ids,
            "footer_key": key_ids["other"],
        },
        tables=entries,
        inventory={"scan_id": scan_id},
        row_digest=row_digest,
    )


def result_of(
    manifest: Manifest,
    out: Path,
    shown: str,
    key_ids: dict[str, str],
    suite: str,
    seconds: float,
    scan_id: int | None,
) -> SealResult:
    """The :class:`SealResult` of the package written as ``manifest`` into ``out``."""
    return SealResult(
        package=out,
        package_id=manifest.package_id,
        purpose=manifest.purpose,
        source=shown,
        tables=[
            {"name": e.name, "rows": e.rows, "bytes": e.bytes}
            | ({"shards": len(e.shards)} if e.shards is not None else {})
            for e in manifest.tables
        ],
        keys=key_ids,
        footer_key=key_ids["other"],
        suite=suite,
        seconds=seconds,
        scan_id=scan_id,
        without_columns=list(manifest.source.get("tables_without_columns", [])),
    )


def _kind(reader: Any) -> str:
    family = getattr(reader, "family", None)
    return str(family) if family else "files"


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("_")
    return slug[:60] or "table"


def plan_table(d: TableDef, tiers: dict[tuple[str, str], str | None]) -> dict[str, Any]:
    """Each column's Parquet name, tier and key slot (``C3``, ``C2`` or ``other``);
    BadInput for a table without columns, which no encrypted Parquet file can hold
    (both seals leave such tables out first: :func:`without_columns`)."""
    if not d.columns:
        raise BadInput.msg("package.table_without_columns", table=d.name)
    cols = []
    used: set[str] = set()
    for i, c in enumerate(d.columns):
        tier = tiers.get((d.name, c.name))
        slot = tier if tier in ("C3", "C2") else "other"
        pq_name = c.name
        # pyarrow serialises column keys as "key:col,col;key:col": these characters
        # cannot be carried, so such a column is stored under a positional name.
        if _BAD_NAME.search(pq_name) or pq_name in used or not pq_name:
            pq_name = f"_c{i}"
        used.add(pq_name)
        cols.append({"name": c.name, "parquet_name": pq_name, "tier": tier, "key": slot})
    return {"columns": cols}


def _seal_table(
    reader: MigrationSource,
    d: TableDef,
    plan: dict[str, Any],
    path: Path,
    rel: str,
    keys: Any,
    key_ids: dict[str, str],
    footer: str,
    suite: str,
    shown: str,
    progress: Progress | None,
) -> TableEntry:
    order_key = list(reader.resume_key(d))
    if any(k not in d.column_names for k in order_key):
        order_key = []  # e.g. SQLite's rowid: not a column of the package
    if progress is not None:
        progress.task(d.name, None)
    digest, sealed = seal_file(
        source_batches(reader, d, shown),
        d,
        plan,
        path,
        keys,
        key_ids,
        suite,
        None if progress is None else functools.partial(progress.advance, d.name),
    )
    return TableEntry(
        name=d.name,
        file=rel,
        rows=digest.count,
        schema=d.to_json(),
        columns=plan["columns"],
        order_key=order_key,
        row_root=digest.root().hex(),
        row_set=None,
        sha256=sealed["sha256"],
        bytes=sealed["bytes"],
        sm3=sealed.get("sm3"),
    )


def source_batches(
    reader: MigrationSource,
    d: TableDef,
    shown: str,
    pages: Iterable[SourceBatch] | None = None,
) -> Iterator[Any]:
    """The rows of ``d`` in key order as the package stores them (its Arrow schema), read
    from ``pages`` (one shard's; default the whole table); a row the source cannot type
    stops the seal (BadInput naming table, row key and column)."""
    from handover.prefetch import prefetch

    schema = d.arrow_schema
    if pages is None:
        pages = reader.read(d, after=None, batch_size=BATCH_ROWS)
    for sb in prefetch(iter(pages)):
        if sb.rejects:
            r = sb.rejects[0]
            raise BadInput.msg(
                "package.source_reject",
                source=shown,
                table=d.name,
                row_key=r.key,
                column=r.column,
            )
        yield sb.data if sb.data.schema == schema else sb.data.cast(schema)


def seal_file(
    batches: Iterable[Any],
    d: TableDef,
    plan: dict[str, Any],
    path: Path,
    keys: Any,
    key_ids: dict[str, str],
    suite: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[RowDigest, dict[str, Any]]:
    """Write ``batches`` (rows of ``d``) to the encrypted Parquet file ``path`` under the
    package keys ``key_ids`` (data keys made and wrapped by ``keys``' backend): the rows'
    digest and ``{"sha256", "bytes"[, "sm3"]}`` of the file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from handover.crypto import sha256_file, sm3_file
    from handover.crypto.parquet import encryption_properties

    columns = plan["columns"]
    column_keys: dict[str, list[str]] = {}
    for c in columns:
        column_keys.setdefault(key_ids[c["key"]], []).append(c["parquet_name"])
    pq_schema = pa.schema(
        [
            pa.field(c["parquet_name"], f.type, f.nullable)
            for c, f in zip(columns, d.arrow_schema, strict=True)
        ]
    )
    props = encryption_properties(keys, column_keys, key_ids["other"])
    # the columns' encodings follow the first batch (parquet_layout); the rows as they come
    rows = iter(batches)
    first = next(rows, None)
    layout = [] if first is None else dictionary_columns(_named(first, pq_schema))
    writer = pq.ParquetWriter(path, pq_schema, encryption_properties=props, use_dictionary=layout)
    try:
        ahead = [] if first is None else [first]
        digest = write_digested(writer, itertools.chain(ahead, rows), pq_schema, progress)
    finally:
        writer.close()
    out: dict[str, Any] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    if suite == "sm":
        out["sm3"] = sm3_file(path)
    return digest, out


def write_digested(
    writer: Any,
    batches: Iterable[Any],
    pq_schema: Any,
    progress: Callable[[int], None] | None = None,
) -> RowDigest:
    """Write ``batches`` through the Parquet ``writer`` while a worker thread digests them.

    The writer (Parquet encoding and encryption) and the digest (Arrow rendering, one
    SHA-256 per chunk of rows) both run in native code that releases the GIL, so on two
    cores they overlap; the single worker keeps the digest in row order.
    """
    digest = RowDigest()
    pending: deque[Future[None]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seal-digest") as pool:
        try:
            for data in batches:
                writer.write_batch(_named(data, pq_schema))
                pending.append(pool.submit(digest.add_batch, data))
                while len(pending) >= DIGEST_DEPTH:
                    pending.popleft().result()
                if progress is not None:
                    progress(data.num_rows)
            while pending:
                pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
    return digest


def _named(data: Any, pq_schema: Any) -> Any:
    """``data``'s columns under the package's Parquet names."""
    import pyarrow as pa

    return pa.RecordBatch.from_arrays(data.columns, schema=pq_schema)


def discard_keys(ws: Workspace, key_ids: list[str], events: EventSink) -> None:
    """Erase the keys of a package that was not finished (their events say why)."""
    if not key_ids:
        return
    from handover.crypto import Keys

    try:
        with Keys(ws, events=events) as keys:
            for key_id in key_ids:
                keys.destroy(key_id, "seal did not finish; key never protected a package")
    except Exception:  # the seal's own error is the one to report
        pass
