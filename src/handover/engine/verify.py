"""Verify on an executor: each table cut into primary-key ranges, each range compared on
a worker (:func:`handover.verify.verify.compare_part`: the segment digests of the range
on both sides first, then only the differing segments bisected), the verdicts merged
per table (:func:`~handover.verify.verify.merge_parts`): the same missing, extra and
changed keys as a local run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from handover.db.url import mask
from handover.engine.executor import Executor, task_keys
from handover.engine.runs import RunLog, hide, pending, reveal
from handover.engine.worker import SourceRef, workspace
from handover.verify import VerifyResult, compare
from handover.verify.results import TableResult
from handover.verify.verify import Part, compare_part, merge_parts, parts

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
    run: RunLog | None = None,
) -> VerifyResult:
    """Compare ``source`` and ``target``: :func:`handover.verify.compare` on the local
    executor; on a cluster one task per key range (``refs``: both wrapped for the workers;
    ``run``: the record in the store that keeps each range's verdict as it arrives, and
    holds those of a resumed run)."""
    if not executor.sharded:
        return compare(source, target, tables, progress=progress)
    assert refs is not None
    t0 = time.perf_counter()
    if run is not None and "parts" in run.options:
        recorded = reveal(run.ws, refs[0].key_id, run.options["parts"])
        cut = [Part(t, lo, hi) for t, lo, hi in recorded]
    else:
        cut = parts(source, target, tables, executor.shard_rows)
        if run is not None:  # the ranges' ends are key values: wrapped
            run.note("parts", hide(run.ws, refs[0].key_id, [[p.table, p.lo, p.hi] for p in cut]))
    names = list(dict.fromkeys(p.table for p in cut))
    if progress is not None:
        for n in names:
            progress.task(n, None)
    found: dict[int, TableResult] = {}
    todo = list(range(len(cut)))
    if run is not None:
        todo = pending(run, [str(i) for i in range(len(cut))], lambda _t, _d: True)
        for i in set(range(len(cut))) - set(todo):
            found[i] = _opened(run, refs[0].key_id, run.done[str(i)])
            if progress is not None:
                progress.advance(cut[i].table, found[i].source_rows)
    jobs = [_Job(refs[0], refs[1], cut[i]) for i in todo]
    for k, res in executor.run(_compare, jobs, task_keys("verify", len(jobs))):
        i = todo[k]
        found[i] = res
        if run is not None:
            run.accept(str(i), _sealed(run, refs[0].key_id, res))
        if progress is not None:
            progress.advance(cut[i].table, res.source_rows)
    merged = [merge_parts([found[i] for i, p in enumerate(cut) if p.table == n]) for n in names]
    return VerifyResult(mask(source), mask(target), merged, time.perf_counter() - t0)


KEY_LISTS = ("missing", "extra", "changed")


def _sealed(run: RunLog, key_id: str, res: TableResult) -> dict[str, Any]:
    """A range's verdict as its run records it: counts in clear, the differing rows' keys
    (which may be personal data, e.g. an ID number as the key) wrapped under the
    workspace's engine key ``key_id`` (:func:`~handover.engine.runs.hide`)."""
    out = asdict(res)
    keys = {name: out.pop(name) for name in KEY_LISTS}
    out["keys"] = hide(run.ws, key_id, keys) if any(keys.values()) else None
    return out


def _opened(run: RunLog, key_id: str, done: dict[str, Any]) -> TableResult:
    """The verdict :func:`_sealed` recorded."""
    fields = {k: v for k, v in done.items() if k != "keys"}
    keys: dict[str, list[Any]] = {name: [] for name in KEY_LISTS}
    if done.get("keys"):
        keys = reveal(run.ws, key_id, done["keys"])
    return TableResult(
        **fields, missing=keys["missing"], extra=keys["extra"], changed=keys["changed"]
    )


@dataclass(frozen=True)
class _Job:
    source: SourceRef
    target: SourceRef
    part: Part


def _compare(job: _Job) -> TableResult:
    ws = workspace(job.source.workspace)
    return compare_part(job.source.spec(ws), job.target.spec(ws), job.part)
