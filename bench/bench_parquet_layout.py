"""Parquet's dictionary encoding: pyarrow's default (every column) against handover's
layout (only the columns whose first batch repeats its values, ``handover.parquet_layout``),
on the same batches.

The synthetic book's tables of more than 100,000 rows are read into memory once (not
timed), each as the seal reads it (``open_source`` batches of 65,536 rows); then every
table is written to a Parquet file, batch by batch, by each layout in turn, three
interleaved rounds. Reported: the writer's CPU seconds (median), the files' total size,
and the check that every file reads back equal to the batches written. Command:
``python -m bench --only parquet_layout`` (``--quick``: 20,000 customers; else 200,000).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import load_line

ROUNDS = 3
LARGE = 100_000


def _tables(db: Path) -> dict[str, list[Any]]:
    from handover.sources import open_source

    out: dict[str, list[Any]] = {}
    with open_source(str(db)) as src:
        for info in src.tables():
            batches = list(src.batches(info.name))
            if sum(b.num_rows for b in batches) > LARGE:
                out[info.name] = batches
    return out


def _write(tables: dict[str, list[Any]], folder: Path, layout: str) -> tuple[float, int, bool]:
    """CPU seconds, bytes and read-back check of writing every table with ``layout``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from handover.parquet_layout import dictionary_columns

    cpu = 0.0
    size = 0
    same = True
    for name, batches in tables.items():
        path = folder / f"{name}-{layout}.parquet"
        t0 = time.process_time()
        dictionary: Any = True if layout == "default" else dictionary_columns(batches[0])
        with pq.ParquetWriter(path, batches[0].schema, use_dictionary=dictionary) as w:
            for b in batches:
                w.write_batch(b)
        cpu += time.process_time() - t0
        size += path.stat().st_size
        same = same and pq.read_table(path).equals(pa.Table.from_batches(batches))
        path.unlink()
    return cpu, size, same


def run(quick: bool) -> str:
    from handover.synth import synthesize

    customers = 20_000 if quick else 200_000
    with tempfile.TemporaryDirectory(prefix="bench-parquet-") as tmp:
        folder = Path(tmp)
        db = folder / "book.db"
        synthesize(str(db), customers=customers, seed=2026)
        tables = _tables(db)
        rows = sum(b.num_rows for bs in tables.values() for b in bs)
        before = os.getloadavg()
        got: dict[str, list[tuple[float, int, bool]]] = {"default": [], "handover": []}
        for _ in range(ROUNDS):
            for layout in got:
                got[layout].append(_write(tables, folder, layout))
        after = os.getloadavg()
    med = {k: statistics.median(c for c, _, _ in v) for k, v in got.items()}
    size = {k: v[0][1] for k, v in got.items()}
    same = {k: all(s for _, _, s in v) for k, v in got.items()}
    lines = [
        f"## Parquet's dictionary: pyarrow's default vs handover's layout ({customers:,} customers)",
        "",
        f"`python -m bench --only parquet_layout{' --quick' if quick else ''}` — the "
        f"{len(tables)} tables of more than {LARGE:,} rows ({rows:,} rows: "
        f"{', '.join(tables)}), in memory, written batch by batch; median CPU seconds of "
        f"{ROUNDS} interleaved rounds.",
        "",
        "| layout | writer CPU s | files MB | reads back equal |",
        "|---|---:|---:|---|",
    ]
    for k in got:
        lines.append(
            f"| {k} | {med[k]:.2f} | {size[k] / 1e6:,.0f} | {'yes' if same[k] else 'NO'} |"
        )
    lines += [
        "",
        f"handover ÷ default: CPU {med['handover'] / med['default']:.2f}×, size "
        f"{size['handover'] / size['default']:.2f}×. {load_line(before, after)}",
    ]
    return "\n".join(lines)
