"""Synthesis speed: ``handover synth`` into SQLite versus the ceiling of plain sqlite3.

handover generates AND writes every row (numpy generation, Faker pools, checksums,
mess), in a child process so its peak RSS is its own. The peers only write rows that
already exist: ``executemany`` of the same tuples (read back beforehand, untimed) with
the same bulk PRAGMAs, and ``INSERT … SELECT`` from the attached file (pure C copy).
"""

from __future__ import annotations

import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, sys
from handover.synth import synthesize
r = synthesize(sys.argv[1], customers=int(sys.argv[2]), seed=2026)
print(json.dumps(r.to_json()))
"""

PRAGMAS = (
    "journal_mode=OFF",
    "synchronous=OFF",
    "locking_mode=EXCLUSIVE",
    "temp_store=MEMORY",
    "cache_size=-262144",
    "page_size=8192",
)


def _schema(src: sqlite3.Connection) -> list[tuple[str, str]]:
    return src.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='table' ORDER BY rowid"
    ).fetchall()


def _fresh(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    for p in PRAGMAS:
        con.execute(f"PRAGMA {p}")
    return con


def _executemany_peer(src_path: Path, dst_path: Path) -> tuple[int, float]:
    """Rows and seconds spent in executemany only (reading the rows is not timed)."""
    src = sqlite3.connect(src_path)
    dst = _fresh(dst_path)
    rows_total, spent = 0, 0.0
    for name, sql in _schema(src):
        dst.execute(sql)
        width = len(src.execute(f'PRAGMA table_info("{name}")').fetchall())
        ins = f'INSERT INTO "{name}" VALUES ({",".join("?" * width)})'
        cur = src.execute(f'SELECT * FROM "{name}" ORDER BY rowid')
        while True:
            chunk = cur.fetchmany(250_000)
            if not chunk:
                break
            t0 = time.perf_counter()
            dst.execute("BEGIN")
            dst.executemany(ins, chunk)
            dst.execute("COMMIT")
            spent += time.perf_counter() - t0
            rows_total += len(chunk)
    src.close()
    dst.close()
    return rows_total, spent


def _insert_select_peer(src_path: Path, dst_path: Path) -> tuple[int, float]:
    src = sqlite3.connect(src_path)
    schema = _schema(src)
    src.close()
    dst = _fresh(dst_path)
    for _, sql in schema:
        dst.execute(sql)
    dst.execute("ATTACH DATABASE ? AS s", (str(src_path),))
    t0 = time.perf_counter()
    dst.execute("BEGIN")
    rows = 0
    for name, _ in schema:
        rows += dst.execute(f'INSERT INTO main."{name}" SELECT * FROM s."{name}"').rowcount
    dst.execute("COMMIT")
    spent = time.perf_counter() - t0
    dst.close()
    return rows, spent


def run(quick: bool) -> str:
    """Synthesize 1,000,000 customers (quick: 100,000) into SQLite; compare with the peers."""
    customers = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        target = Path(tmp) / "book.db"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(target), str(customers)],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        rows = int(res["total_rows"])
        size_mb = target.stat().st_size / 2**20
        em_rows, em_s = _executemany_peer(target, Path(tmp) / "peer.db")
        is_rows, is_s = _insert_select_peer(target, Path(tmp) / "peer2.db")
    assert em_rows == rows == is_rows
    synth_s = float(res["seconds"])
    lines = [
        "## synth — synthetic loan book into SQLite",
        "",
        f"`.venv/bin/python -m bench --only synth{' --quick' if quick else ''}` — "
        f"{customers:,} customers, {rows:,} rows in {len(res['tables'])} tables, "
        f"{size_mb:,.0f} MB file.",
        "",
        "| what | seconds | rows/s | ratio to handover |",
        "|---|---:|---:|---:|",
        f"| handover synth (generate + write, child process wall {wall:.1f} s) | {synth_s:.1f} "
        f"| {rows / synth_s:,.0f} | 1.00 |",
        f"| peer: sqlite3 executemany of the same ready tuples (write only) | {em_s:.1f} "
        f"| {em_rows / em_s:,.0f} | {synth_s / em_s:.2f}× faster |",
        f"| peer: INSERT … SELECT from the file (C-only copy, ceiling) | {is_s:.1f} "
        f"| {is_rows / is_s:,.0f} | {synth_s / is_s:.2f}× faster |",
        "",
        f"Peak RSS of the synth process: {peak_mb:,.0f} MB (ru_maxrss of the child).",
    ]
    return "\n".join(lines)
