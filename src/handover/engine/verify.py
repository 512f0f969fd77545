"""Verify on an executor: each table cut into primary-key ranges, each range compared on
a worker (:func:`handover.verify.verify.compare_part`: the segment digests of the range
on both sides first, then only the differing segments bisected), the verdicts merged
per table (:func:`~handover.verify.verify.merge_parts`): the same missing, extra and
changed keys as a local run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from handover.db.url import mask
from handover.engine.executor import Executor, task_keys
from handover.engine.worker import SourceRef, workspace
from handover.verify import VerifyResult, compare
from handover.verify.verify import Part, TableResult, compare_part, merge_parts, parts

if TYPE_CHECKING:
    from handover.progress import Progress


def verify(
    source: str,
    target: str,
    tables: Sequence[str] | None,
    *,
    executor: Executor,
    refs: tuple[SourceRef, SourceRef] | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Compare ``source`` and ``target``: :func:`handover.verify.compare` on the local
    executor; on a cluster one task per key range (``refs``: both wrapped for the workers)."""
    if not executor.sharded:
        return compare(source, target, tables, progress=progress)
    assert refs is not None
    t0 = time.perf_counter()
    cut = parts(source, target, tables, executor.shard_rows)
    names = list(dict.fromkeys(p.table for p in cut))
    if progress is not None:
        for n in names:
            progress.task(n, None)
    jobs = [_Job(refs[0], refs[1], p) for p in cut]
    found: dict[int, TableResult] = {}
    for i, res in executor.run(_compare, jobs, task_keys("verify", len(jobs))):
        found[i] = res
        if progress is not None:
            progress.advance(jobs[i].part.table, res.source_rows)
    merged = [merge_parts([found[i] for i, p in enumerate(cut) if p.table == n]) for n in names]
    return VerifyResult(mask(source), mask(target), merged, time.perf_counter() - t0)


@dataclass(frozen=True)
class _Job:
    source: SourceRef
    target: SourceRef
    part: Part


def _compare(job: _Job) -> TableResult:
    ws = workspace(job.source.workspace)
    return compare_part(job.source.spec(ws), job.target.spec(ws), job.part)
