"""dd-extract on an executor: the row kernels (tokens, masks, tags) on the workers, the
k-anonymity over the merged table here.

Each worker reads its key range, takes the transfer's tokenisation secret from its own
key backend (the same key everywhere: the same value gives the same token on every
worker, so joins hold across shards) and sends back the de-identified batches only; the
coordinator hands them, in shard order, to :func:`handover.deid.extract.write_extract`,
which generalises and suppresses over the whole table exactly as a local run does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from handover.engine.executor import Executor, task_keys
from handover.engine.shards import Shard, cut_reader, shard_pages
from handover.engine.worker import SourceRef, reader, workspace

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
    allow_bad_rows: int = 0,
) -> Callable[[TableDef], Iterator[pa.RecordBatch]]:
    """For ``write_extract``: a table's de-identified batches, computed shard by shard on
    ``executor`` and given back in key order (``defs``: the tables in the order asked)."""
    by_name = {d.name: d for d in defs}
    started: dict[str, Iterator[tuple[int, list[pa.RecordBatch]]]] = {}
    order = [d.name for d in defs]

    def start(name: str) -> None:
        if name in started or name not in by_name:
            return
        d = by_name[name]
        shards = cut_reader(reader, d, executor.shard_rows)
        jobs = [_Job(ref, d, plans[name], key_id, lang, shown, s, allow_bad_rows) for s in shards]
        started[name] = executor.run(_extract, jobs, task_keys("extract", len(jobs)))

    def rows(d: TableDef) -> Iterator[pa.RecordBatch]:
        start(d.name)
        # the next table's shards start while this one's are read (one table ahead:
        # its results wait on the workers until they are asked for)
        i = order.index(d.name)
        if i + 1 < len(order):
            start(order[i + 1])
        done: dict[int, list[pa.RecordBatch]] = {}
        nxt = 0
        for j, batches in started.pop(d.name):
            done[j] = batches
            while nxt in done:  # released in shard order as soon as they are
                yield from done.pop(nxt)
                nxt += 1

    return rows


@dataclass(frozen=True)
class _Job:
    ref: SourceRef
    d: TableDef
    plan: list[ColumnPlan]
    key_id: str
    lang: str
    shown: str
    shard: Shard
    allow_bad_rows: int


def _extract(job: _Job) -> list[pa.RecordBatch]:
    from handover.crypto import Keys, suites
    from handover.crypto.tokenize import tokenize_with
    from handover.deid.extract import transformed_rows

    ws = workspace(job.ref.workspace)
    with Keys(ws) as keys:
        info = keys.active(job.key_id)
        _, secret = keys.secret(job.key_id)
    algorithm = suites.suite(info.suite).digest

    def tokenizer(values: pa.Array) -> pa.Array:
        return tokenize_with(secret, values, algorithm=algorithm)

    source = reader(job.ref, job.allow_bad_rows)
    pages = shard_pages(source, job.d, job.shard, BATCH_ROWS)
    return list(transformed_rows(pages, job.d, job.plan, tokenizer, job.lang, job.shown))
