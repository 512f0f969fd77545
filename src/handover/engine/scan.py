"""The scan on an executor: the same kernels as :func:`handover.detect.scan.scan_source`.

Per table, a worker takes the seeded sample (:func:`~handover.detect.scan.sample_table`);
with ``--full`` the rows the sample made worth re-reading are profiled shard by shard
(:func:`~handover.detect.scan.profile_rows`) and the partial profiles merged in shard
order (:func:`~handover.detect.scan.merge_rows`) before the table is classified here.
Shards are cut at multiples of the full pass's batch, so every batch is profiled exactly
as a local run profiles it: same primary types, shares, counts and examples (the first
two found in key order; a local run reads SQLite in rowid order too).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.detect.scan import (
    DEFAULT_SAMPLE,
    DEFAULT_SEED,
    Inventory,
    Sampled,
    conclude_table,
    merge_rows,
    opened,
    profile_rows,
    sample_table,
    scan_source,
)
from handover.engine.executor import Executor, task_keys
from handover.engine.runs import RunLog, hide, pending, reveal, shard_task
from handover.engine.shards import Key, Shard, by_groups, cut
from handover.engine.worker import SourceRef
from handover.engine.worker import opened as open_cached
from handover.errors import BadInput
from handover.prefetch import prefetch
from handover.sources import PLAIN, FileReading
from handover.sources.base import DEFAULT_BATCH

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.detect.profile import ColumnProfile, Plan
    from handover.progress import Progress
    from handover.sources import Source, TableInfo


def scan(
    spec: str | Path,
    *,
    executor: Executor,
    ref: SourceRef | None = None,
    full: bool = False,
    sample: int = DEFAULT_SAMPLE,
    seed: int = DEFAULT_SEED,
    progress: Progress | None = None,
    reading: FileReading = PLAIN,
    batch_rows: int = DEFAULT_BATCH,
    run: RunLog | None = None,
) -> Inventory:
    """Scan ``spec`` on ``executor``: :func:`scan_source` itself on the local executor; on
    a cluster one sample task per table, then one full-pass task per shard (``ref``: the
    spec wrapped for the workers; ``run``: the record in the store that keeps each
    shard's partial profile as it arrives, and holds those of a resumed run)."""
    if not executor.sharded:
        return scan_source(
            spec,
            full=full,
            sample=sample,
            seed=seed,
            progress=progress,
            reading=reading,
            batch_rows=batch_rows,
        )
    assert ref is not None
    t0 = time.perf_counter()
    with opened(spec, full, sample, seed, progress, reading) as (src, inv, infos):
        jobs = [_SampleJob(ref, info, full, sample, seed, reading) for info in infos]
        sampled: list[Sampled | None] = [None] * len(infos)
        for i, res in executor.run(_sample, jobs, task_keys("scan-sample", len(jobs))):
            sampled[i] = res
        done = [s for s in sampled if s is not None]
        assert len(done) == len(infos)
        cuts = _cut_all(src, infos, done, executor.shard_rows, batch_rows, run, ref.key_id)
        row_jobs: list[_RowsJob] = []
        for info, s in zip(infos, done, strict=True):
            key, shards = cuts.get(info.name, ((), []))
            row_jobs += [
                _RowsJob(ref, info.name, key, s.todo, sh, batch_rows, reading) for sh in shards
            ]
        parts = _full_pass(executor, row_jobs, run, progress, ref.key_id)
        for info, s in zip(infos, done, strict=True):
            full_rows = None
            if s.todo:
                n = sum(1 for t, _ in parts if t == info.name)
                full_rows = merge_rows(parts[(info.name, j)] for j in range(n))
            inv.tables.append(conclude_table(info, s, full_rows))
            if progress is not None:
                read = sum(_rows_of(p) for (t, _), p in parts.items() if t == info.name)
                progress.advance(info.name, max(0, (info.rows or 0) - read))
    inv.seconds = time.perf_counter() - t0
    return inv


Cuts = dict[str, tuple[tuple[str, ...], list[Shard]]]


def _cut_all(
    src: Source,
    infos: list[TableInfo],
    sampled: list[Sampled],
    shard_rows: int,
    batch_rows: int,
    run: RunLog | None,
    key_id: str,
) -> Cuts:
    """The key and the shards of every table a full pass re-reads: cut now, or as the
    resumed ``run`` recorded them (kept in ``run``, wrapped under the engine key
    ``key_id``: the cut points are key values, for a later resume)."""
    from handover.engine.shards import shard_json, shard_of

    if run is not None and "cuts" in run.options:
        planned = reveal(run.ws, key_id, run.options["cuts"])
        for info, s in zip(infos, sampled, strict=True):
            if s.todo and info.name not in planned:
                # the source changed since the run began: its recorded plan no longer
                # covers this table, and a resume must not classify it from a sample alone
                raise BadInput.msg("engine.resume_changed", run=run.id, table=info.name)
        return {
            name: (tuple(c["key"]), [shard_of(name, j, sh) for j, sh in enumerate(c["shards"])])
            for name, c in planned.items()
        }
    out: Cuts = {}
    for info, s in zip(infos, sampled, strict=True):
        if not s.todo:
            continue
        key = scan_key(src, info)
        rows = _shard_rows(shard_rows, batch_rows)
        if key:
            out[info.name] = (key, _shards(src, info, key, rows))
        else:
            out[info.name] = (key, by_groups(info.name, src.row_groups(info.name), rows))
    if run is not None:
        cuts = {
            name: {"key": list(key), "shards": [shard_json(sh) for sh in shards]}
            for name, (key, shards) in out.items()
        }
        run.note("cuts", hide(run.ws, key_id, cuts))
    return out


def _task(job: _RowsJob) -> str:
    return shard_task(job.table, job.shard.index)


def _full_pass(
    executor: Executor,
    jobs: list[_RowsJob],
    run: RunLog | None,
    progress: Progress | None,
    key_id: str,
) -> dict[tuple[str, int], dict[str, ColumnProfile]]:
    """The full-pass profile of every shard: recorded by the resumed ``run`` (for the same
    columns), else computed on the cluster and recorded in ``run`` as it arrives (wrapped
    under the engine key ``key_id``: examples and number ranges are personal data)."""
    from handover.detect.profile import ColumnProfile

    parts: dict[tuple[str, int], dict[str, ColumnProfile]] = {}
    todo = list(range(len(jobs)))
    if run is not None:
        tasks = [_task(j) for j in jobs]
        by_task = dict(zip(tasks, jobs, strict=True))

        def valid(task: str, done: dict[str, Any]) -> bool:
            return bool(done.get("columns") == sorted(by_task[task].todo))

        todo = pending(run, tasks, valid)
        for i in set(range(len(jobs))) - set(todo):
            job = jobs[i]
            found = reveal(run.ws, key_id, run.done[tasks[i]]["profiles"])
            parts[(job.table, job.shard.index)] = {
                c: ColumnProfile.from_json(p) for c, p in found.items()
            }
    run_jobs = [jobs[i] for i in todo]
    for i, part in executor.run(_rows, run_jobs, task_keys("scan-rows", len(run_jobs))):
        job = run_jobs[i]
        parts[(job.table, job.shard.index)] = part
        if run is not None:
            run.accept(
                _task(job),
                {
                    "columns": sorted(job.todo),
                    "profiles": hide(run.ws, key_id, {c: p.to_json() for c, p in part.items()}),
                },
            )
        if progress is not None:
            progress.advance(job.table, _rows_of(part))
    return parts


def _rows_of(part: dict[str, ColumnProfile]) -> int:
    """Rows a full-pass part read (every column of it counts them all)."""
    return next(iter(part.values())).rows if part else 0


def _shard_rows(rows: int, batch_rows: int) -> int:
    """``rows`` rounded up to a multiple of the full pass's batch."""
    return max(1, -(-rows // batch_rows)) * batch_rows


def scan_key(src: Source, info: TableInfo) -> tuple[str, ...]:
    """The order a sharded full pass reads ``info`` in: SQLite's rowid (its storage order,
    which a local scan reads in), else the primary key; ``()`` for a file table."""
    from handover.sources.sql import SqlSource
    from handover.sources.sqlite import SqliteSource

    if not isinstance(src, SqlSource):
        return ()
    if isinstance(src, SqliteSource) and src.has_rowid(info.name):
        return ("rowid",)
    return tuple(info.primary_key)


def _shards(src: Source, info: TableInfo, key: tuple[str, ...], rows: int) -> list[Shard]:
    from handover.sources.sql import SqlSource

    assert isinstance(src, SqlSource)
    return cut(info.name, src.every(info.name, key, rows), rows)


# --- on the workers ------------------------------------------------------------------------


@dataclass(frozen=True)
class _SampleJob:
    ref: SourceRef
    info: TableInfo
    full: bool
    sample: int
    seed: int
    reading: FileReading


@dataclass(frozen=True)
class _RowsJob:
    ref: SourceRef
    table: str
    key: tuple[str, ...]
    todo: dict[str, Plan]
    shard: Shard
    batch_rows: int
    reading: FileReading


def _open(ref: SourceRef, reading: FileReading) -> Source:
    from handover.sources import open_source

    def open_it(spec: str) -> Source:
        return open_source(spec, reading=reading)

    return open_cached("scan", ref, reading, open_it)


def _sample(job: _SampleJob) -> Sampled:
    src = _open(job.ref, job.reading)
    return sample_table(src, job.info, full=job.full, sample=job.sample, seed=job.seed)


def _rows(job: _RowsJob) -> dict[str, ColumnProfile]:
    src = _open(job.ref, job.reading)
    batches = shard_batches(src, job.table, list(job.todo), job.key, job.shard, job.batch_rows)
    # reading overlaps the (GIL-free) kernels, as in a local scan
    return profile_rows(prefetch(batches), job.todo)


def shard_batches(
    src: Source,
    table: str,
    columns: list[str],
    key: tuple[str, ...],
    shard: Shard,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """The batches of one shard: ``batch_rows`` rows each, in key order after the shard's
    lower bound, ``shard.limit`` rows in all (the whole table in storage order without a key)."""
    if shard.groups is not None:
        yield from src.group_batches(table, shard.groups, columns, batch_rows)
        return
    if not key:
        yield from src.batches(table, columns=columns, batch_size=batch_rows)
        return
    from handover.sources.sql import SqlSource

    assert isinstance(src, SqlSource)
    left = shard.limit
    after: Key | None = shard.after
    for batch in src.batches(table, columns, batch_rows, order_by=list(key), after=after):
        if left is not None and batch.num_rows >= left:
            yield batch.slice(0, left)
            return
        if left is not None:
            left -= batch.num_rows
        yield batch
