"""The seal on an executor: one encrypted Parquet file per shard, one package.

The coordinator makes the package keys (in the workspace's key backend, as a local seal
does) and cuts every table into key ranges (:mod:`handover.engine.shards`). Each worker
opens the source and the workspace's key backend itself, reads its range and writes it
with :func:`handover.package.seal.seal_file`: pyarrow draws the data keys on the worker
and has them wrapped there by the package keys, so no data key and no source password
crosses the network in clear. A shard is written under a temporary name and renamed
into place, so a shard run twice (its worker died) leaves one file; the coordinator
accepts one result per shard and records it in the store, so that ``--resume RUN``
after a lost scheduler runs only the missing shards.

A table of one shard is stored exactly as a local seal stores it; a table of several is
listed with its ``shards`` (manifest version 2) and its root is the Merkle root over
all its chunk digests in shard order, equal to a local seal's when every shard but the
last holds a multiple of 16,384 rows (``shard_rows``' default does).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto.files import place_folder
from handover.engine.executor import EngineLost, Executor
from handover.engine.runs import RunLog, hide, reveal, shard_task
from handover.engine.shards import Shard, cut_reader, shard_json, shard_of, shard_pages
from handover.engine.worker import SourceRef, reader, workspace
from handover.errors import BadInput, CheckFailed
from handover.package.manifest import TABLES_DIR, TableEntry, write_signed
from handover.package.seal import (
    BATCH_ROWS,
    Clock,
    SealResult,
    build_manifest,
    create_keys,
    discard_keys,
    plan_table,
    result_of,
    seal_file,
    seal_reader,
    source_batches,
    table_file,
    utcnow,
    without_columns,
)
from handover.sources import PLAIN, FileReading

if TYPE_CHECKING:
    from handover.db.reflect import TableDef
    from handover.events import EventSink
    from handover.migrate.reader import MigrationSource
    from handover.progress import Progress
    from handover.workspace import Workspace

KIND = "seal"


def seal(
    ws: Workspace,
    reader: MigrationSource,
    defs: list[TableDef],
    out: Path,
    *,
    executor: Executor,
    ref: SourceRef | None,
    tiers: dict[tuple[str, str], str | None],
    scan_id: int | None,
    shown: str,
    events: EventSink,
    purpose: str = "transfer",
    clock: Clock = utcnow,
    progress: Progress | None = None,
    reading: FileReading = PLAIN,
    resume: str | None = None,
) -> SealResult:
    """Seal ``defs`` of ``reader`` into the new package folder ``out`` on ``executor``:
    :func:`handover.package.seal.seal_reader` itself on the local executor; on a cluster
    one task per shard (``ref``: the source wrapped for the workers; ``resume``: the id of
    a run that lost its scheduler, whose finished shards are kept)."""
    if not executor.sharded:
        return seal_reader(
            ws,
            reader,
            defs,
            out,
            tiers=tiers,
            scan_id=scan_id,
            shown=shown,
            events=events,
            purpose=purpose,
            clock=clock,
            progress=progress,
        )
    assert ref is not None
    from handover.crypto import Keys

    t0 = time.perf_counter()
    # an empty sheet is left out and named, as on one machine
    defs, bare = without_columns(reader, defs, shown)
    by_name = {d.name: d for d in defs}
    created: list[str] = []
    if resume is not None:
        run = RunLog.resume(ws, KIND, resume)
        # the cut points are key values: the record keeps them wrapped (older runs: clear)
        opts = run.options = {
            **run.options,
            "tables": reveal(ws, ref.key_id, run.options["tables"]),
        }
        if (
            opts["out"] != str(out.resolve())
            or opts["source"] != shown
            or not FileReading.from_options(opts).alike(reading)
        ):
            raise BadInput.msg("engine.resume_mismatch", run=resume)
        missing = [t["name"] for t in opts["tables"] if t["name"] not in by_name]
        if missing:
            raise BadInput.msg("engine.resume_mismatch", run=resume)
        tmp = Path(opts["tmp"])
        if not tmp.is_dir():
            raise BadInput.msg("engine.run_gone", run=resume, path=tmp)
    else:
        tmp = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
        try:
            plans = [plan_table(d, tiers) for d in defs]
            with Keys(ws, events=events) as keys:
                key_ids = create_keys(keys, plans, created)
            tables = []
            for i, (d, p) in enumerate(zip(defs, plans, strict=True), start=1):
                tables.append(_table_plan(reader, d, p, i, executor.shard_rows))
            opts = {
                "out": str(out.resolve()),
                "tmp": str(tmp.resolve()),
                "source": shown,
                "kind": getattr(reader, "kind", None) or getattr(reader, "family", "files"),
                "purpose": purpose,
                "scan_id": scan_id,
                "suite": ws.settings.crypto_suite,
                "key_ids": key_ids,
                **reading.to_options(),
                "tables": tables,
            }
            (tmp / TABLES_DIR).mkdir(parents=True)
            recorded = {**opts, "tables": hide(ws, ref.key_id, tables)}
            run = RunLog.start(ws, KIND, shown, str(out), recorded)
            run.options = opts  # in clear here; the record keeps the cut points wrapped
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            discard_keys(ws, created, events)
            raise
        created = list(opts["key_ids"].values())
    try:
        _run_shards(executor, run, ref, by_name, tmp, shown, progress)
        _clear_partials(tmp)
        entries = [_entry(by_name[t["name"]], t, run, tmp) for t in opts["tables"]]
        manifest = build_manifest(
            entries,
            key_ids=opts["key_ids"],
            suite=opts["suite"],
            purpose=opts["purpose"],
            source={
                "display": shown,
                "kind": opts["kind"],
                **({"tables_without_columns": bare} if bare else {}),
            },
            scan_id=opts["scan_id"],
            clock=clock,
        )
        write_signed(ws, tmp, manifest, events=events)
        place_folder(tmp, out, "package.exists")
    except EngineLost:
        # the finished shards and the keys stay for --resume
        run.finish("failed")
        raise EngineLost.msg("engine.lost_resume", address=executor.name, run=run.id) from None
    except BaseException:
        run.finish("aborted")
        shutil.rmtree(tmp, ignore_errors=True)
        discard_keys(ws, list(opts["key_ids"].values()), events)
        raise
    run.finish("done")
    return result_of(
        manifest,
        out,
        shown,
        opts["key_ids"],
        opts["suite"],
        time.perf_counter() - t0,
        opts["scan_id"],
    )


def _table_plan(
    reader: MigrationSource, d: TableDef, plan: dict[str, Any], i: int, rows: int
) -> dict[str, Any]:
    """How table number ``i`` is cut and where its files go (JSON for the run record)."""
    order_key = list(reader.resume_key(d))
    shards = cut_reader(reader, d, rows)
    single = len(shards) == 1
    return {
        "name": d.name,
        "plan": plan,
        # SQLite's rowid orders the table but is not a column of the package
        "order_key": order_key if all(k in d.column_names for k in order_key) else [],
        "shards": [
            {**shard_json(sh), "file": table_file(i, d.name, None if single else j)}
            for j, sh in enumerate(shards)
        ],
    }


def _task(t: dict[str, Any], j: int) -> str:
    return shard_task(t["name"], j)


def _run_shards(
    executor: Executor,
    run: RunLog,
    ref: SourceRef,
    by_name: dict[str, TableDef],
    tmp: Path,
    shown: str,
    progress: Progress | None,
) -> None:
    from handover.crypto import sha256_file

    opts = run.options
    jobs: list[_ShardJob] = []
    names: list[str] = []
    for t in opts["tables"]:
        if progress is not None:
            progress.task(t["name"], None)
        for j, sh in enumerate(t["shards"]):
            task = _task(t, j)
            done = run.done.get(task)
            if done is not None:
                path = tmp / done["file"]
                if path.is_file() and sha256_file(path) == done["sha256"]:
                    if progress is not None:
                        progress.advance(t["name"], int(done["rows"]))
                    continue
                run.forget(task)  # its file is gone or changed: sealed again
            jobs.append(
                _ShardJob(
                    ref,
                    by_name[t["name"]],
                    t["plan"],
                    sh["file"],
                    str(tmp),
                    dict(opts["key_ids"]),
                    opts["suite"],
                    shard_of(t["name"], j, sh),
                    shown,
                    FileReading.from_options(opts),
                )
            )
            names.append(task)
    keys = [f"handover-seal-{run.id}-{i}" for i in range(len(jobs))]
    for i, result in executor.run(seal_shard, jobs, keys):
        job = jobs[i]
        written = tmp / result.pop("partial")
        if names[i] in run.done:  # a second run of a shard already accepted
            written.unlink(missing_ok=True)
            continue
        if job.shard.limit is not None and result["rows"] != job.shard.limit:
            # fewer rows than when the shards were cut: the source changed meanwhile
            raise CheckFailed.msg("engine.source_changed", source=shown, table=job.d.name)
        # the accepted run's file takes the shard's name; any other run of the shard
        # (its worker died after writing) stays a partial file, removed at the end
        os.replace(written, tmp / result["file"])
        run.accept(names[i], result)
        if progress is not None:
            progress.advance(job.d.name, int(result["rows"]))


def _clear_partials(tmp: Path) -> None:
    """Remove what a shard killed mid-write left (its retry wrote the shard again)."""
    for p in (tmp / TABLES_DIR).glob(".*.partial-*"):
        p.unlink(missing_ok=True)


def _entry(d: TableDef, t: dict[str, Any], run: RunLog, tmp: Path) -> TableEntry:
    from handover.crypto import digest_hex
    from handover.package.rows import chunks_root

    results = [run.done[_task(t, j)] for j in range(len(t["shards"]))]
    chunks = b"".join(bytes.fromhex(r["chunks"]) for r in results)
    rows = sum(int(r["rows"]) for r in results)
    root = chunks_root(chunks).hex()
    common: dict[str, Any] = {
        "name": d.name,
        "file": results[0]["file"],
        "rows": rows,
        "schema": d.to_json(),
        "columns": t["plan"]["columns"],
        "order_key": t["order_key"],
        "row_root": root,
        "row_set": None,
    }
    if len(results) == 1:
        r = results[0]
        return TableEntry(**common, sha256=r["sha256"], bytes=int(r["bytes"]), sm3=r.get("sm3"))
    fields = ("file", "rows", "row_root", "sha256", "bytes", "sm3")
    return TableEntry(
        **common,
        sha256=digest_hex("".join(r["sha256"] for r in results).encode("ascii")),
        bytes=sum(int(r["bytes"]) for r in results),
        shards=[{k: r[k] for k in fields if k in r} for r in results],
    )


# --- on the workers ------------------------------------------------------------------------


@dataclass(frozen=True)
class _ShardJob:
    ref: SourceRef
    d: TableDef
    plan: dict[str, Any]
    file: str
    tmp: str
    key_ids: dict[str, str]
    suite: str
    shard: Shard
    shown: str
    reading: FileReading


def seal_shard(job: _ShardJob) -> dict[str, Any]:
    """Seal one shard on a worker into a partial file beside ``job.tmp/job.file`` (the
    coordinator renames it when it accepts this run): its counts and digests
    (``chunks``: the chunk digests the table's root is built from) and the seconds it
    took."""
    from handover.crypto import Keys

    t0 = time.perf_counter()
    ws = workspace(job.ref.workspace)
    final = Path(job.tmp) / job.file
    part = final.with_name(f".{final.name}.partial-{secrets.token_hex(4)}")
    source = reader(job.ref, job.reading)
    with Keys(ws) as keys:
        try:
            digest, sealed = seal_file(
                source_batches(
                    source, job.d, job.shown, shard_pages(source, job.d, job.shard, BATCH_ROWS)
                ),
                job.d,
                job.plan,
                part,
                keys,
                job.key_ids,
                job.suite,
            )
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    return {
        # written under a name of its own: the coordinator renames the one run it accepts
        "partial": part.relative_to(job.tmp).as_posix(),
        "file": job.file,
        "rows": digest.count,
        "row_root": digest.root().hex(),
        "chunks": digest.chunk_digests().hex(),
        # the worker's own time for the shard (docs/scale.md's per-shard throughput)
        "seconds": round(time.perf_counter() - t0, 3),
        **sealed,
    }
