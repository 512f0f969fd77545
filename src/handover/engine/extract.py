"""dd-extract on an executor: the row kernels (tokens, masks, tags) on the workers, the
k-anonymity over the merged table here.

Each worker reads its key range, takes the transfer's tokenisation secret from its own
key backend (the same key everywhere: the same value gives the same token on every
worker, so joins hold across shards) and sends back the de-identified batches only; the
coordinator hands them, in shard order, to :func:`handover.deid.extract.write_extract`,
which generalises and suppresses over the whole table exactly as a local run does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto import sha256_file, sha256_hex
from handover.engine.executor import EngineLost, Executor, task_keys
from handover.engine.runs import RunLog, hide, pending, reveal, shard_task
from handover.engine.shards import Shard, cut_reader, shard_json, shard_of, shard_pages
from handover.engine.worker import SourceRef, reader, workspace
from handover.parquet_layout import dictionary_columns
from handover.sources import PLAIN, FileReading

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.db.reflect import TableDef
    from handover.deid.extract import ColumnPlan
    from handover.migrate.reader import MigrationSource

#: rows per page a worker reads
BATCH_ROWS = 65_536


def transformed(
    executor: Executor,
    reader: MigrationSource,
    defs: list[TableDef],
    plans: dict[str, list[ColumnPlan]],
    *,
    ref: SourceRef,
    key_id: str,
    lang: str,
    shown: str,
    reading: FileReading = PLAIN,
    run: RunLog | None = None,
    folder: Path | None = None,
) -> Callable[[TableDef], Iterator[pa.RecordBatch]]:
    """For ``write_extract``: a table's de-identified batches, computed shard by shard on
    ``executor`` and given back in key order (``defs``: the tables in the order asked).

    With ``run`` (and its ``folder``, see :func:`shard_folder`) each shard's batches are
    written to a Parquet file there as they arrive and recorded with its hash; a shard
    a resumed run recorded is read back from its file (when the file is still the one
    recorded), not computed again."""
    by_name = {d.name: d for d in defs}
    started: dict[str, tuple[list[Shard], list[int], Iterator[tuple[int, Batches]]]] = {}
    order = [d.name for d in defs]

    def task(name: str, j: int) -> str:
        return shard_task(name, j)

    def valid(_task: str, done: dict[str, Any]) -> bool:
        assert folder is not None
        if done["file"] is None:
            return True
        path = folder / done["file"]
        return path.is_file() and sha256_file(path) == str(done["sha256"])

    def start(name: str) -> None:
        if name in started or name not in by_name:
            return
        d = by_name[name]
        shards = _cuts(run, reader, d, executor.shard_rows, ref.key_id)
        todo = list(range(len(shards)))
        if run is not None:
            todo = pending(run, [task(name, j) for j in todo], valid)
        jobs = [_Job(ref, d, plans[name], key_id, lang, shown, shards[j], reading) for j in todo]
        started[name] = (
            shards,
            todo,
            executor.run(_extract, jobs, task_keys("extract", len(jobs))),
        )

    def rows(d: TableDef) -> Iterator[pa.RecordBatch]:
        start(d.name)
        # the next table's shards start while this one's are read (one table ahead:
        # its results wait on the workers until they are asked for)
        i = order.index(d.name)
        if i + 1 < len(order):
            start(order[i + 1])
        shards, todo, results = started.pop(d.name)
        running = set(todo)
        done: dict[int, Batches] = {}
        nxt = 0

        def ready() -> Iterator[pa.RecordBatch]:
            nonlocal nxt
            while nxt < len(shards):  # released in shard order as soon as they are
                if nxt in done:
                    yield from done.pop(nxt)
                elif nxt not in running:
                    assert run is not None and folder is not None
                    yield from _read(folder, run.done[task(d.name, nxt)])
                else:
                    return
                nxt += 1

        yield from ready()
        for n, batches in results:
            j = todo[n]
            if run is not None:
                assert folder is not None
                run.accept(task(d.name, j), _write(folder, _file_of(d.name, j), batches))
            done[j] = batches
            yield from ready()

    return rows


Batches = list["pa.RecordBatch"]


def _file_of(table: str, j: int) -> str:
    """The file of shard ``j`` of ``table``: named after the table, not its position, so
    a resume after the source's tables changed never reads one table's rows as another's."""
    return f"{sha256_hex(table.encode('utf-8'))[:16]}-{j}.parquet"


def _cuts(
    run: RunLog | None, reader: MigrationSource, d: TableDef, rows: int, key_id: str
) -> list[Shard]:
    """The shards of ``d``: as the resumed ``run`` recorded them, else cut now (and kept
    in ``run`` for a later resume, wrapped under the engine key ``key_id``: the cut
    points are key values)."""
    recorded = reveal(run.ws, key_id, run.options.get("cuts", {})) if run is not None else {}
    if d.name in recorded:
        return [shard_of(d.name, j, sh) for j, sh in enumerate(recorded[d.name])]
    shards = cut_reader(reader, d, rows)
    if run is not None:
        cuts = {**recorded, d.name: [shard_json(sh) for sh in shards]}
        run.note("cuts", hide(run.ws, key_id, cuts))
    return shards


def _write(folder: Path, name: str, batches: Batches) -> dict[str, Any]:
    """``batches`` as the Parquet file ``folder/name`` (written under a temporary name,
    then renamed): its record (file, hash, the rows of each batch)."""
    import pyarrow.parquet as pq

    if not batches:
        return {"file": None, "sha256": None, "rows": []}
    path = folder / name
    part = folder / f".{name}.partial"
    first = batches[0]
    with pq.ParquetWriter(part, first.schema, use_dictionary=dictionary_columns(first)) as w:
        for b in batches:
            w.write_batch(b)
    os.replace(part, path)
    return {"file": name, "sha256": sha256_file(path), "rows": [b.num_rows for b in batches]}


def _read(folder: Path, done: dict[str, Any]) -> Batches:
    """The batches a shard's record (:func:`_write`) names, as they were."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if done["file"] is None:
        return []
    table = pq.read_table(folder / done["file"])
    out, at = [], 0
    for n in done["rows"]:
        part = table.slice(at, n)
        out.append(
            pa.RecordBatch.from_arrays(
                [c.combine_chunks() for c in part.columns], schema=table.schema
            )
        )
        at += n
    return out


@contextmanager
def shard_folder(run: RunLog, out: Path) -> Iterator[Path]:
    """The hidden folder beside ``out`` where ``run`` keeps its shards' de-identified rows
    (made now, or the resumed run's): removed at the end unless the cluster was lost
    (then it is kept for ``--resume``)."""
    import secrets

    name = run.options.get("folder") or f".{out.name}.shards-{secrets.token_hex(4)}"
    if "folder" not in run.options:
        run.note("folder", name)
    folder = out.parent / name
    folder.mkdir(exist_ok=True)
    try:
        yield folder
    except EngineLost:
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class _Job:
    ref: SourceRef
    d: TableDef
    plan: list[ColumnPlan]
    key_id: str
    lang: str
    shown: str
    shard: Shard
    reading: FileReading


def _extract(job: _Job) -> list[pa.RecordBatch]:
    from handover.crypto.tokenize import tokenizer
    from handover.deid.extract import transformed_rows

    tokens = tokenizer(workspace(job.ref.workspace), job.key_id)
    source = reader(job.ref, job.reading)
    pages = shard_pages(source, job.d, job.shard, BATCH_ROWS)
    return list(transformed_rows(pages, job.d, job.plan, tokens, job.lang, job.shown))
