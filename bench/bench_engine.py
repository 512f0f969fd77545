"""The engine: the same book on the local executor and on a Dask ``LocalCluster`` of two
worker processes (one thread each) on this 2-core machine.

For scan ``--full``, seal, verify (the book against a copy of itself) and dd-extract:
seconds on each executor and the overhead ratio (cluster / local; on 2 cores the cluster
cannot be much faster, it shows what shipping the kernels costs). Then the seal's
per-shard throughput measured on the workers and the read rate of the source alone,
the figures docs/scale.md extrapolates from. The cluster's start-up is not counted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import load_line

#: rows per shard: a multiple of 16,384 (roots equal to a local seal's), small enough
#: that the big tables of the book are cut into several shards
SHARD_ROWS = 262_144


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _read_rate(src: str) -> tuple[int, float]:
    """Rows and seconds to read every table in key order (migrate's reader), one process."""
    from handover.package.seal import open_reader

    reader = open_reader(src)
    rows = 0
    t0 = time.perf_counter()
    try:
        for d in reader.schema():
            for sb in reader.read(d, after=None, batch_size=65_536):
                rows += sb.rows_read
    finally:
        reader.close()
    return rows, time.perf_counter() - t0


def run(quick: bool) -> str:
    """Markdown section: local vs LocalCluster(2) for scan, seal, verify, dd-extract."""
    from distributed import LocalCluster

    from handover.engine import DaskExecutor, LocalExecutor
    from handover.engine.models import EngineRun, EngineShard
    from handover.flows.extract import dd_extract
    from handover.flows.scan import run_scan
    from handover.flows.seal import seal
    from handover.flows.verify import verify
    from handover.flows.workspace import init_workspace
    from handover.synth import synthesize
    from handover.workspace import open_workspace

    customers = 100_000 if quick else 1_000_000
    lines = [
        "## Beyond one machine (`--executor dask://…`)",
        "",
        f"`python -m bench --only engine{' --quick' if quick else ''}` — synthetic loan "
        f"book of {customers:,} customers in SQLite; the local executor against a "
        "`dask.distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)` "
        f"on the same 2-core machine, shards of {SHARD_ROWS:,} rows. Overhead = cluster "
        "seconds / local seconds (below 1: the cluster is faster).",
        "",
    ]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = str(base / "seller.db")
        synthesize(src, customers=customers, seed=2026)
        copy = str(base / "buyer.db")
        shutil.copy(src, copy)
        init_workspace(base / "ws", demo=True).close()
        ws = open_workspace(base / "ws")
        t_up, cluster = _timed(
            lambda: LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
            )
        )
        try:
            remote = DaskExecutor(
                "dask://" + str(cluster.scheduler_address).removeprefix("tcp://"),
                shard_rows=SHARD_ROWS,
            )
            local = LocalExecutor(SHARD_ROWS)
            rows_read, t_read = _read_rate(src)
            table = ["| step | local s | cluster s | overhead | rows/s local | rows/s cluster |",
                     "|---|---|---|---|---|---|"]  # fmt: skip
            steps = [
                ("scan --full", lambda ex: run_scan(ws, src, full=True, executor=ex)),
                ("seal", lambda ex: seal(ws, src, base / f"pkg-{id(ex)}", executor=ex)),
                ("verify", lambda ex: verify(src, copy, ws=ws, executor=ex)),
                ("dd-extract", lambda ex: dd_extract(ws, src, base / f"dd-{id(ex)}", executor=ex)),
            ]  # fmt: skip
            run_scan(ws, src)  # the inventory exists beforehand, as in a real transfer
            sealed: Any = None
            for name, step in steps:
                t_local, _ = _timed(lambda step=step: step(local))
                t_remote, out = _timed(lambda step=step: step(remote))
                if name == "seal":
                    sealed = out
                table.append(
                    f"| {name} | {t_local:.1f} | {t_remote:.1f} | {t_remote / t_local:.2f} | "
                    f"{rows_read / t_local:,.0f} | {rows_read / t_remote:,.0f} |"
                )
            with ws.store.session() as s:
                seals = s.query(EngineShard).join(EngineRun, EngineRun.id == EngineShard.run_id)
                shards = [
                    r.result
                    for r in seals.filter(EngineRun.kind == "seal").all()
                    if "seconds" in r.result
                ]
            shard_rows = sum(int(r["rows"]) for r in shards)
            shard_secs = sum(float(r["seconds"]) for r in shards)
            big = [r for r in shards if int(r["rows"]) == SHARD_ROWS]
            per_big = (
                sum(int(r["rows"]) for r in big) / sum(float(r["seconds"]) for r in big)
                if big
                else float("nan")
            )
            remote.close()
        finally:
            cluster.close()
            ws.close()
        lines += [
            f"{rows_read:,} rows in {len(sealed.tables)} tables; "
            f"cluster start-up {t_up:.1f} s (not counted).",
            "",
            *table,
            "",
            "| seal, per shard on a worker | value |",
            "|---|---|",
            f"| shards | {len(shards)} |",
            f"| rows per worker-second, all shards | {shard_rows / shard_secs:,.0f} |",
            f"| rows per worker-second, full {SHARD_ROWS:,}-row shards | {per_big:,.0f} |",
            f"| source read alone (keyset pages, one process) | {rows_read / t_read:,.0f} rows/s |",
            "",
            load_line(load_before, os.getloadavg()),
        ]
    return "\n".join(lines)
