"""``handover migrate`` against pgloader, SQLite→PostgreSQL and MariaDB→PostgreSQL.

Same data for both (a synthetic loan book: 1,000,000 customers; ``--quick`` 100,000),
same run, same server. pgloader gets the flags /work/shared/PEERS.md says a faithful
copy needs (``text(n)`` typemods dropped, REAL kept as float8); its summary is parsed
and the target's row counts are checked for both tools. PostgreSQL is CHECKPOINTed
before every timed run. handover runs with its checkpoints on (one target transaction
per batch, checkpoint row in the same transaction) and ``--no-backup`` (pgloader takes
no backup either).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.measure import load_line, timed

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIA_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/mysql"
BIN = Path(sys.executable).parent
#: timed runs of each tool per path, interleaved (the median is reported)
REPEAT = 3
#: database names carry the process id: other checkouts' benches use the same server
TAG = str(os.getpid())


def _fresh_db(admin_url: str, name: str) -> str:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return str(
        sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    )


def _drop_db(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        extra = " WITH (FORCE)" if engine.dialect.name == "postgresql" else ""
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{extra}")
    engine.dispose()


def _checkpoint() -> None:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("CHECKPOINT")
    engine.dispose()


def _counts(url: str, schema: str | None = None) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        names = [n for n in insp.get_table_names(schema=schema) if not n.startswith("_handover")]
        prep = engine.dialect.identifier_preparer
        out = {}
        with engine.connect() as conn:
            for n in names:
                q = f"{prep.quote(schema)}.{prep.quote(n)}" if schema else prep.quote(n)
                out[n] = int(conn.exec_driver_sql(f"SELECT count(*) FROM {q}").scalar() or 0)
        return out
    finally:
        engine.dispose()


def _pgloader(source: str, target: str) -> tuple[float, int, dict[str, Any]]:
    exe = shutil.which("pgloader")
    if exe is None:
        raise RuntimeError(
            "pgloader is not installed: make deps-bench (apt-get install -y pgloader)"
        )
    # pgloader's SBCL heap defaults to 1 GB: at 1,000,000 customers it dies with "Heap
    # exhausted, game over" (exit 1, nothing reported) on both paths. 8 GB lets it finish.
    cmd = [
        exe,
        "--dynamic-space-size",
        "8192",
        "--cast",
        "type text to text drop typemod",
        "--cast",
        "type real to float8 using float-to-string",
        source,
        target,
    ]
    _checkpoint()
    # a pgloader that loses its connection may hang without a word: 30 min at most
    seconds, peak, stdout, stderr, code = timed(cmd, timeout=1800)
    out = stdout + stderr
    m = re.search(r"Total import time\s+(\S+)\s+(\d+)", out)
    summary = {
        "exit": code,
        "errors": 0 if m and m.group(1) == "✓" else (m.group(1) if m else "no summary"),
        "rows": int(m.group(2)) if m else 0,
    }
    if code:
        fatal = [
            ln.strip() for ln in out.splitlines() if "fatal" in ln.lower() or "heap" in ln.lower()
        ]
        summary["failure"] = (fatal or out.strip().splitlines()[-1:] or ["?"])[-1][:120]
    return seconds, peak, summary


def _handover(ws: Path, source: str, target: str) -> tuple[float, int, int]:
    """``handover migrate`` as the user runs it: the CLI in its own process (with its
    checkpoints, rejects, reconciled counts and ledger events; ``--no-backup``)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [str(BIN / "handover"), "-w", str(ws), "migrate", source, target, "--no-backup"]
    cmd += ["--reason", "benchmark", "--json"]
    _checkpoint()
    seconds, peak, out, err, code = timed(cmd, env)
    if code:
        raise RuntimeError(f"handover migrate failed: {err.strip()[-300:]}")
    rows = int(json.loads(out[out.index("{") :])["rows"])
    return seconds, peak, rows


def _pipe(seller: Path, url: str, ddl: str) -> tuple[float, int]:
    """The bare limit: ``sqlite3 -csv … | psql -c "\\copy … csv"`` per table into tables
    without keys or indexes (the DDL handover made, before its constraints)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    made = subprocess.run(["psql", "-q", conninfo, "-c", ddl], capture_output=True, text=True)
    if made.returncode:
        raise RuntimeError(f"psql could not create the tables: {made.stderr.strip()[:200]}")
    con = sqlite3.connect(seller)
    names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    con.close()
    _checkpoint()
    script = " && ".join(
        f"sqlite3 -csv {shlex.quote(str(seller))} 'SELECT * FROM \"{n}\"' | "
        f"psql -q {shlex.quote(conninfo)} -c '\\copy \"{n}\" FROM STDIN csv'"
        for n in names
    )
    seconds, peak, _out, err, code = timed(["bash", "-c", script])
    if code:
        raise RuntimeError(f"sqlite3 | psql failed: {err.strip()[-300:]}")
    return seconds, peak


def _tables_ddl(url: str) -> str:
    """CREATE TABLE statements of ``url``'s tables, columns only (pg_dump's pre-data)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    out = subprocess.run(
        ["pg_dump", "--schema-only", "--section=pre-data", "--no-owner", conninfo],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # pg_dump's own session settings and psql meta-commands (\\restrict) are not DDL
    skip = ("SET ", "SELECT pg_catalog", "\\")
    keep = [ln for ln in out.splitlines() if not ln.startswith(skip)]
    return "\n".join(keep)


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.1f} ({min(xs):.1f}–{max(xs):.1f})"


def _case(
    label: str, ws: Path, source: str, pgl_source: str, counts: dict[str, int], schema: str | None
) -> tuple[str, str | None]:
    """One path, REPEAT interleaved runs of each tool: the table row, and the tables' DDL."""
    total = sum(counts.values())
    h_s: list[float] = []
    p_s: list[float] = []
    h_rss = p_rss = 0
    ok_h = ok_p = True
    summary: dict[str, Any] = {}
    ddl = None
    for _ in range(REPEAT):
        hov = _fresh_db(PG_ADMIN, f"bench_mig_hov_{TAG}")
        sec, peak, rows = _handover(ws, source, hov)
        h_s.append(sec)
        h_rss = max(h_rss, peak)
        ok_h = ok_h and rows == total and _counts(hov) == counts
        if ddl is None:
            ddl = _tables_ddl(hov)
        _drop_db(PG_ADMIN, f"bench_mig_hov_{TAG}")
        pgl = _fresh_db(PG_ADMIN, f"bench_mig_pgl_{TAG}")
        sec, peak, summary = _pgloader(pgl_source, pgl.replace("+psycopg", ""))
        p_s.append(sec)
        p_rss = max(p_rss, peak)
        ok_p = ok_p and summary["exit"] == 0 and _counts(pgl, schema=schema) == counts
        _drop_db(PG_ADMIN, f"bench_mig_pgl_{TAG}")
    h, p = statistics.median(h_s), statistics.median(p_s)
    check = (
        f"handover counts {'ok' if ok_h else 'WRONG'}; pgloader counts "
        f"{'ok' if ok_p else 'WRONG'}, summary rows {summary['rows']:,}, "
        f"errors {summary['errors']}, exit {summary['exit']}"
        + (f", failed: {summary['failure']}" if summary.get("failure") else "")
    )
    ratio = f"{p / h:.2f}×" if ok_p else "n/a (pgloader failed)"
    row = (
        f"| {label} | {total:,} | {_median(h_s)} | {total / h:,.0f} | {h_rss:,} | "
        f"{_median(p_s)} | {total / p:,.0f} | {p_rss:,} | {ratio} | {check} |"
    )
    print(row, file=sys.stderr, flush=True)
    return row, ddl


def run(quick: bool) -> str:
    """Markdown section: seconds, rows/s and peak RSS of handover and pgloader on the same
    loan book (median of interleaved runs), their ratio, and the bare pipe's limit."""
    from handover.flows.workspace import init_workspace
    from handover.synth import synthesize

    customers = 100_000 if quick else 1_000_000
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    rows_out: list[str] = []
    limit = ""
    try:
        init_workspace(tmp / "ws", demo=True).close()
        ws = tmp / "ws"
        seller = tmp / "seller.db"
        synthesize(str(seller), customers=customers, seed=2026)
        src_counts = _counts(f"sqlite:///{seller}")
        total = sum(src_counts.values())
        row, ddl = _case(
            "SQLite → PostgreSQL", ws, str(seller), f"sqlite://{seller}", src_counts, None
        )
        rows_out.append(row)
        if ddl is not None:
            pipe_s: list[float] = []
            peak = 0
            for _ in range(REPEAT):
                url = _fresh_db(PG_ADMIN, f"bench_mig_pipe_{TAG}")
                sec, rss = _pipe(seller, url, ddl)
                ok = _counts(url) == src_counts
                pipe_s.append(sec)
                peak = max(peak, rss)
                _drop_db(PG_ADMIN, f"bench_mig_pipe_{TAG}")
            limit = (
                f"Limit in the same run: `sqlite3 -csv | psql \\copy` of every table into "
                f"tables without keys or indexes, {_median(pipe_s)} s "
                f"({total / statistics.median(pipe_s):,.0f} rows/s, counts "
                f"{'ok' if ok else 'WRONG'}, peak RSS {peak:,} MB)."
            )

        # MariaDB → PostgreSQL (the same loan book loaded into MariaDB by synth)
        maria = _fresh_db(MARIA_ADMIN, f"bench_mig_src_{TAG}")
        synthesize(maria, customers=customers, seed=2026, truth_path=str(tmp / "maria.truth.json"))
        m_counts = _counts(maria)
        row, _ddl = _case(
            "MariaDB → PostgreSQL",
            ws,
            maria,
            maria.replace("+pymysql", "").split("?")[0],
            m_counts,
            f"bench_mig_src_{TAG}",
        )
        rows_out.append(row)
        _drop_db(MARIA_ADMIN, f"bench_mig_src_{TAG}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        f"## migrate: handover vs pgloader ({customers:,} customers{', quick' if quick else ''})",
        "",
        f"`python -m bench --only migrate{' --quick' if quick else ''}` — same loan book, same "
        "PostgreSQL 15, CHECKPOINT before each timed run; pgloader 3.6 with "
        '`--dynamic-space-size 8192 --cast "type text to text drop typemod" --cast "type real '
        'to float8 using float-to-string"`; handover is the CLI (`handover migrate … '
        "--no-backup --reason benchmark --json`) with per-batch checkpoints, rejects, reconciled "
        f"counts and ledger events. {REPEAT} interleaved runs of each tool: median seconds "
        "(min–max); peak RSS is the largest process of a run (GNU time). Both targets' row "
        "counts checked against the source every run.",
        "",
        "| path | rows | handover s | handover rows/s | handover RSS MB | pgloader s | "
        "pgloader rows/s | pgloader RSS MB | ratio | checks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *rows_out,
        "",
        "ratio = pgloader median / handover median (above 1: handover is faster). " + limit,
    ]
    load_after = os.getloadavg()
    lines.append(load_line(load_before, load_after))
    return "\n".join(lines)
