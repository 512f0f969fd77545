"""Reading a SQLite book as handover's stages do, against reading it bare into Arrow.

Each run reads every table of the synthetic book once, in a fresh process, and reports
its CPU seconds (user + system):

- **handover, as migrate/seal/dd-extract read**: ``DatabaseSource.read`` in key pages,
  typed to the declared types, rejects named (ADBC's driver, ``sqlite3`` where a batch's
  types leave doubt: :mod:`handover.db.adbc`);
- **the same with sqlite3 only**: the read before ADBC (``fetchall`` → ``pa.array``);
- **handover, as scan reads**: ``SqliteSource.batches`` (by affinity);
- **peer: bare ADBC read**: ``SELECT *`` of each table into Arrow, nothing checked.

Three interleaved runs each; the median is reported. Command:
``python -m bench --only sqlite_read`` (``--quick``: 20,000 customers; else 200,000).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.measure import load_line

REPEAT = 3
WAYS = ("migrate", "migrate-sqlite3", "scan", "bare")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _read(way: str, db: Path) -> tuple[float, int]:
    """CPU seconds and rows of one read of every table of ``db``."""
    t0 = _cpu()
    n = 0
    if way == "bare":
        import sqlite3

        import adbc_driver_sqlite.dbapi as adbc

        from handover.db.reflect import sqlite_tables

        names = sqlite_tables(sqlite3.connect(db))
        with adbc.connect(str(db), autocommit=True) as conn:
            for name in names:
                with conn.cursor() as cur:
                    cur.execute(f'SELECT * FROM "{name}"')
                    n += cur.fetch_arrow_table().num_rows
    elif way.startswith("migrate"):
        from handover.migrate.reader import DatabaseSource

        src = DatabaseSource(db)
        try:
            if way == "migrate-sqlite3":
                src.reader._arrow = None  # type: ignore[attr-defined]
            for t in src.schema():
                for sb in src.read(t, after=None, batch_size=16384):
                    n += sb.rows_read
        finally:
            src.close()
    else:
        from handover.sources import open_source

        with open_source(db) as s:
            for name in s.table_names():
                n += sum(b.num_rows for b in s.batches(name, batch_size=16384))
    return _cpu() - t0, n


def _one(way: str, db: Path) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_sqlite_read", way, str(db)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def run(quick: bool) -> str:
    from handover.synth import synthesize

    customers = 20_000 if quick else 200_000
    before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "book.db"
        synthesize(str(db), customers=customers, seed=2026)
        times: dict[str, list[float]] = {w: [] for w in WAYS}
        rows: dict[str, int] = {}
        for _ in range(REPEAT):
            for way in WAYS:
                cpu, n = _one(way, db)
                times[way].append(cpu)
                rows[way] = n
    after = os.getloadavg()
    med = {w: statistics.median(v) for w, v in times.items()}
    same = len(set(rows.values())) == 1
    lines = [
        "## Reading SQLite (every table of the book)",
        "",
        f"`python -m bench --only sqlite_read{' --quick' if quick else ''}`: "
        f"{customers:,} customers, {rows['bare']:,} rows; CPU seconds, median of "
        f"{REPEAT} interleaved runs; rows equal in every way: {'yes' if same else 'NO'}. "
        + load_line(before, after),
        "",
        "| read | CPU s | ÷ bare ADBC read |",
        "|---|---:|---:|",
    ]
    labels = {
        "migrate": "handover, as migrate/seal/dd-extract read",
        "migrate-sqlite3": "the same, sqlite3 only (before ADBC)",
        "scan": "handover, as scan reads",
        "bare": "peer: bare ADBC `SELECT *` into Arrow",
    }
    for w in WAYS:
        lines.append(f"| {labels[w]} | {med[w]:.1f} | {med[w] / med['bare']:.2f}× |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    cpu, n = _read(sys.argv[1], Path(sys.argv[2]))
    print(f"{cpu:.3f} {n}")
