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

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIA_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/mysql"


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


def _pgloader(source: str, target: str) -> tuple[float, dict[str, Any]]:
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
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    m = re.search(r"Total import time\s+(\S+)\s+(\d+)", out)
    summary = {
        "exit": proc.returncode,
        "errors": 0 if m and m.group(1) == "✓" else (m.group(1) if m else "no summary"),
        "rows": int(m.group(2)) if m else 0,
    }
    if proc.returncode:
        fatal = [
            ln.strip() for ln in out.splitlines() if "fatal" in ln.lower() or "heap" in ln.lower()
        ]
        summary["failure"] = (fatal or out.strip().splitlines()[-1:] or ["?"])[-1][:120]
    return seconds, summary


def _handover(ws: Any, source: str, target: str) -> tuple[float, Any]:
    from handover.flows.migrate import migrate
    from handover.migrate import MigrateOptions

    _checkpoint()
    t0 = time.perf_counter()
    res = migrate(ws, source, target, MigrateOptions(no_backup=True, reason="benchmark"))
    return time.perf_counter() - t0, res


def run(quick: bool) -> str:
    """Markdown section: rows/s of handover and pgloader on the same loan book, and ratio."""
    from handover.flows.workspace import init_workspace
    from handover.synth import synthesize

    customers = 100_000 if quick else 1_000_000
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    rows_out: list[tuple[str, int, float, float, dict[str, Any]]] = []
    try:
        ws = init_workspace(tmp / "ws", demo=True)
        seller = tmp / "seller.db"
        synthesize(str(seller), customers=customers, seed=2026)
        src_counts = _counts(f"sqlite:///{seller}")
        total = sum(src_counts.values())

        # SQLite → PostgreSQL
        pgl = _fresh_db(PG_ADMIN, "bench_mig_pgl")
        pgl_s, pgl_sum = _pgloader(f"sqlite://{seller}", pgl.replace("+psycopg", ""))
        pgl_ok = _counts(pgl) == src_counts
        _drop_db(PG_ADMIN, "bench_mig_pgl")
        hov = _fresh_db(PG_ADMIN, "bench_mig_hov")
        hov_s, res = _handover(ws, str(seller), hov)
        hov_ok = _counts(hov) == src_counts and res.rows == total
        _drop_db(PG_ADMIN, "bench_mig_hov")
        rows_out.append(
            (
                "SQLite → PostgreSQL",
                total,
                hov_s,
                pgl_s,
                {"pgloader": pgl_sum, "pgloader_counts_ok": pgl_ok, "handover_counts_ok": hov_ok},
            )
        )

        # MariaDB → PostgreSQL (the same loan book loaded into MariaDB by synth)
        maria = _fresh_db(MARIA_ADMIN, "bench_mig_src")
        synthesize(maria, customers=customers, seed=2026, truth_path=str(tmp / "maria.truth.json"))
        m_counts = _counts(maria)
        m_total = sum(m_counts.values())
        pgl = _fresh_db(PG_ADMIN, "bench_mig_pgl")
        pgl_s, pgl_sum = _pgloader(
            maria.replace("+pymysql", "").split("?")[0], pgl.replace("+psycopg", "")
        )
        pgl_ok = _counts(pgl, schema="bench_mig_src") == m_counts
        _drop_db(PG_ADMIN, "bench_mig_pgl")
        hov = _fresh_db(PG_ADMIN, "bench_mig_hov")
        hov_s, res = _handover(ws, maria, hov)
        hov_ok = _counts(hov) == m_counts and res.rows == m_total
        _drop_db(PG_ADMIN, "bench_mig_hov")
        _drop_db(MARIA_ADMIN, "bench_mig_src")
        rows_out.append(
            (
                "MariaDB → PostgreSQL",
                m_total,
                hov_s,
                pgl_s,
                {"pgloader": pgl_sum, "pgloader_counts_ok": pgl_ok, "handover_counts_ok": hov_ok},
            )
        )
        ws.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        f"## migrate: handover vs pgloader ({customers:,} customers{', quick' if quick else ''})",
        "",
        "`python -m bench --only migrate` — same loan book, same PostgreSQL 15, CHECKPOINT before "
        'each timed run; pgloader 3.6 with `--dynamic-space-size 8192 --cast "type text to '
        'text drop typemod" --cast "type real to float8 using float-to-string"`; handover with per-batch checkpoints, '
        "`--no-backup`. Both targets' row counts checked against the source.",
        "",
        "| path | rows | handover s | handover rows/s | pgloader s | pgloader rows/s | ratio | checks |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, n, hs, ps, chk in rows_out:
        p = chk["pgloader"]
        check = (
            f"handover counts {'ok' if chk['handover_counts_ok'] else 'WRONG'}; pgloader counts "
            f"{'ok' if chk['pgloader_counts_ok'] else 'WRONG'}, summary rows {p['rows']:,}, "
            f"errors {p['errors']}, exit {p['exit']}"
            + (f", failed: {p['failure']}" if p.get("failure") else "")
        )
        # a peer that failed has no throughput to compare with
        peer_ok = chk["pgloader_counts_ok"] and p["exit"] == 0
        ratio = f"{ps / hs:.2f}×" if peer_ok else "n/a (pgloader failed)"
        lines.append(
            f"| {name} | {n:,} | {hs:.1f} | {n / hs:,.0f} | {ps:.1f} | {n / ps:,.0f} | "
            f"{ratio} | {check} |"
        )
    lines.append("")
    lines.append("ratio = pgloader time / handover time (above 1: handover is faster).")
    load_after = os.getloadavg()
    lines.append(
        f"Load average (1/5/15 min) {'/'.join(f'{x:.2f}' for x in load_before)} before, "
        f"{'/'.join(f'{x:.2f}' for x in load_after)} after, on {os.cpu_count()} cores."
    )
    return "\n".join(lines)
