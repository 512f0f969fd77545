"""``handover verify`` against ``sqldiff --primarykey`` (Debian ``sqlite3-tools``), SQLite ↔ SQLite.

The synthetic loan book is written once and copied; the copy is compared as it is
(0 differences), then with 1,000 differences injected into two tables (``cust_info``,
``loan_iou``: 250 changed, 150 deleted, 100 inserted each). Both tools run as
subprocesses on the same files in the same run, interleaved, three times per case; the
median is reported with the peak RSS of each process (``wait4``). Each tool's output is
checked against the injected differences: handover's JSON key lists, sqldiff's
UPDATE/DELETE/INSERT statements.

handover runs with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed from its
environment), as an installed package runs; its time includes interpreter start-up,
opening the workspace, the authorisation check and the ledger event.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from bench.measure import load_line, timed_private

BIN = Path(sys.executable).parent
REPEAT = 3
#: (table, key, text column changed) of the injected differences
TARGETS = (("cust_info", "khbh", "khxm"), ("loan_iou", "iou_id", "status"))
Found = dict[tuple[str, str], set[int]]


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, str]:
    """Seconds, peak RSS and private memory (MB, :func:`timed_private`) and stdout of one
    run of ``cmd``; a run that fails (exit code above 1) is an error."""
    seconds, peak, out, err, code, private = timed_private(cmd, env)
    if code not in (0, 1):
        raise RuntimeError(f"{cmd[0]} failed: {err[-300:]}")
    return seconds, peak, private, out


def _inject(path: Path, per_table: int) -> Found:
    """Change, delete and insert rows of each table of TARGETS (no NULL involved)."""
    rnd = random.Random(11)
    truth: Found = {}
    con = sqlite3.connect(path)
    for table, key, col in TARGETS:
        keys = [k for (k,) in con.execute(f"SELECT {key} FROM {table}")]
        top = max(keys)
        picks = rnd.sample(keys, per_table * 8 // 10)
        changed, missing = set(picks[: per_table // 2]), set(picks[per_table // 2 :])
        extra = {top + 1 + 7 * i for i in range(per_table - len(changed) - len(missing))}
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        rest = ", ".join(c for c in cols if c != key)
        con.executemany(
            f"UPDATE {table} SET {col} = {col} || '改' WHERE {key} = ?", [(k,) for k in changed]
        )
        con.executemany(f"DELETE FROM {table} WHERE {key} = ?", [(k,) for k in missing])
        source = min(keys)
        con.executemany(
            f"INSERT INTO {table} ({key}, {rest}) SELECT ?, {rest} FROM {table} WHERE {key} = ?",
            [(k, source) for k in sorted(extra)],
        )
        truth[(table, "changed")] = changed
        truth[(table, "missing")] = missing
        truth[(table, "extra")] = extra
    con.commit()
    con.close()
    return truth


def _handover(ws: Path, a: Path, b: Path) -> tuple[float, tuple[int, int], Found]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [str(BIN / "handover"), "-w", str(ws), "verify", str(a), str(b), "--json"]
    seconds, rss, private, out = _timed(cmd, env)
    found: Found = {}
    for table in json.loads(out)["tables"]:
        if table.get("truncated"):
            raise RuntimeError("handover verify truncated its key lists")
        for kind in ("changed", "missing", "extra"):
            if table[kind]:
                found[(table["name"], kind)] = {int(k) for k in table[kind]}
    return seconds, (rss, private), found


_STMT = re.compile(r"^(UPDATE|DELETE FROM|INSERT INTO) \"?([^\s\"(]+)\"?")
_WHERE = re.compile(r"WHERE \"?\w+\"?=(-?\d+);$")
_VALUES = re.compile(r"VALUES\((-?\d+),")


def _sqldiff(a: Path, b: Path) -> tuple[float, int, Found]:
    exe = shutil.which("sqldiff")
    if exe is None:
        raise RuntimeError("sqldiff is not installed: make deps-bench (sqlite3-tools)")
    seconds, rss, _private, out = _timed([exe, "--primarykey", str(a), str(b)])
    found: Found = {}
    kinds = {"UPDATE": "changed", "DELETE FROM": "missing", "INSERT INTO": "extra"}
    for line in out.splitlines():
        m = _STMT.match(line)
        if not m:
            continue
        key = (_VALUES if m.group(1) == "INSERT INTO" else _WHERE).search(line)
        if key is None:
            raise RuntimeError(f"sqldiff statement without a key: {line[:80]}")
        found.setdefault((m.group(2), kinds[m.group(1)]), set()).add(int(key.group(1)))
    return seconds, rss, found


def run(quick: bool) -> str:
    """Markdown section: seconds and peak RSS of handover verify and sqldiff, ratio."""
    from handover.flows.workspace import init_workspace
    from handover.synth import synthesize

    customers = 50_000 if quick else 1_000_000  # the size issue 21 names
    k = 1_000
    lines: list[str] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "seller.db", Path(tmp) / "buyer.db"
        synthesize(str(a), customers=customers, seed=2026)
        con = sqlite3.connect(a)
        names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = sum(con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names)
        con.close()
        size_mb = a.stat().st_size / 1e6
        init_workspace(Path(tmp) / "ws", demo=True).close()
        ws = Path(tmp) / "ws"
        header = [
            f"## verify SQLite ↔ SQLite: handover verify vs sqldiff --primarykey ({customers:,} customers)",
            "",
            f"`python -m bench --only verify_sqlite{' --quick' if quick else ''}` — synthetic loan book "
            f"of {customers:,} customers: {rows:,} rows in {len(names)} tables, {size_mb:,.0f} MB, "
            "compared with a copy of itself; then 1,000 differences in `cust_info` and "
            "`loan_iou` (250 changed, 150 deleted, 100 inserted each). Both tools run as "
            f"subprocesses, {REPEAT} interleaved runs each per case; median seconds (min–max) "
            "and the largest peak RSS; for handover also its largest private memory (anonymous "
            "pages, sampled every 50 ms): its RSS counts the pages of both files it reads "
            "through SQLite's memory maps, the kernel's file cache counted once per mapping. "
            "Every difference each tool reports is checked against the injected ones.",
            "",
            "| differences | handover s | handover RSS MB | handover private MB | sqldiff s | sqldiff RSS MB | ratio | all found (handover / sqldiff) |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        lines += header
        for diffs in (0, k):
            shutil.copyfile(a, b)
            truth: Found = {}
            if diffs:
                truth = {key: v for key, v in _inject(b, k // len(TARGETS)).items() if v}
            h_times, s_times, h_rss, h_private, s_rss = [], [], 0, 0, 0
            ok_h = ok_s = True
            for _ in range(REPEAT):
                h_s, (rss, private), found = _handover(ws, a, b)
                h_times.append(h_s)
                h_rss, h_private = max(h_rss, rss), max(h_private, private)
                ok_h = ok_h and found == truth
                s_s, rss, found = _sqldiff(a, b)
                s_times.append(s_s)
                s_rss = max(s_rss, rss)
                ok_s = ok_s and found == truth
            h, s = statistics.median(h_times), statistics.median(s_times)
            lines.append(
                f"| {diffs:,} | {h:.2f} ({min(h_times):.2f}–{max(h_times):.2f}) | {h_rss:,} | "
                f"{h_private:,} | "
                f"{s:.2f} ({min(s_times):.2f}–{max(s_times):.2f}) | {s_rss:,} | {s / h:.2f}× | "
                f"{'yes' if ok_h else 'NO'} / {'yes' if ok_s else 'NO'} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    lines += [
        "",
        "ratio = sqldiff median / handover median (above 1: handover is faster). "
        + load_line(load_before, load_after),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
