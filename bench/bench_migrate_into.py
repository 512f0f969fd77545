"""``handover migrate`` of a SQLite loan book into MariaDB and into SQLite, against the
bare loaders of the same rows: ``mariadb`` ``LOAD DATA LOCAL INFILE`` and sqlite3's
``.import`` of the CSV files ``sqlite3 -csv`` exported beforehand (export not timed).

The loaders load into the tables handover made (dumped with ``mariadb-dump --no-data``
/ ``.schema``: keys, indexes and, on MariaDB, foreign keys with ``foreign_key_checks=0``),
so both sides end with the same tables; handover also reads and converts the rows,
checkpoints every batch, reconciles counts and writes the ledger. Target row counts are
checked for both. Three interleaved runs each; median seconds (min–max), peak RSS.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from bench.bench_migrate import MARIA_ADMIN, REPEAT, TAG, _counts, _drop_db, _fresh_db
from bench.measure import load_line, timed

BIN = Path(sys.executable).parent


def _handover(ws: Path, source: Path, target: str) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [str(BIN / "handover"), "-w", str(ws), "migrate", str(source), target]
    cmd += ["--no-backup", "--reason", "benchmark", "--json"]
    seconds, peak, _out, err, code = timed(cmd, env)
    if code:
        raise RuntimeError(f"handover migrate failed: {err.strip()[-300:]}")
    return seconds, peak


def _export(seller: Path, out: Path, null: str | None) -> list[str]:
    """Every table of ``seller`` as ``out/<table>.csv`` (NULL written as ``null``)."""
    con = sqlite3.connect(seller)
    names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    con.close()
    out.mkdir(exist_ok=True)
    for n in names:
        args = ["sqlite3", "-csv"] + (["-nullvalue", null] if null else [])
        with (out / f"{n}.csv").open("wb") as fh:
            subprocess.run([*args, str(seller), f'SELECT * FROM "{n}"'], stdout=fh, check=True)
    return names


def _mariadb_cli(url: str) -> list[str]:
    u = sa.engine.make_url(url)
    return [
        "mariadb",
        f"--host={u.host}",
        f"--port={u.port or 3306}",
        f"--user={u.username}",
        "--local-infile=1",
        "--default-character-set=utf8mb4",
        str(u.database),
    ]


def _maria_load(url: str, ddl: str, csvs: Path, names: list[str]) -> tuple[float, int]:
    cli = _mariadb_cli(url)
    subprocess.run(cli, input=ddl, text=True, check=True, capture_output=True)
    loads = ["SET foreign_key_checks=0;"] + [
        f"LOAD DATA LOCAL INFILE '{csvs / n}.csv' INTO TABLE `{n}` CHARACTER SET utf8mb4 "
        "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n';"
        for n in names
    ]
    script = f"{shlex.join(cli)} -e {shlex.quote(' '.join(loads))}"
    seconds, peak, _out, err, code = timed(["bash", "-c", script])
    if code:
        raise RuntimeError(f"LOAD DATA failed: {err.strip()[-300:]}")
    return seconds, peak


def _sqlite_load(db: Path, ddl: str, csvs: Path, names: list[str]) -> tuple[float, int]:
    db.unlink(missing_ok=True)
    subprocess.run(["sqlite3", str(db)], input=ddl, text=True, check=True)
    script = csvs / "import.sql"
    script.write_text("".join(f'.import --csv {csvs / n}.csv "{n}"\n' for n in names))
    cmd = f"sqlite3 {shlex.quote(str(db))} < {shlex.quote(str(script))}"
    seconds, peak, _out, err, code = timed(["bash", "-c", cmd])
    if code or err.strip():
        raise RuntimeError(f"sqlite3 .import failed: {err.strip()[-300:]}")
    return seconds, peak


def _med(xs: list[float]) -> str:
    return f"{statistics.median(xs):.1f} ({min(xs):.1f}–{max(xs):.1f})"


def run(quick: bool) -> str:
    """Markdown section: handover migrate into MariaDB / SQLite against the bare loaders."""
    from handover.flows.workspace import init_workspace
    from handover.synth import synthesize

    customers = 20_000 if quick else 100_000
    load_before = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="bench-into-"))
    rows: list[str] = []
    try:
        init_workspace(tmp / "ws", demo=True).close()
        ws = tmp / "ws"
        seller = tmp / "seller.db"
        synthesize(str(seller), customers=customers, seed=2026)
        counts = _counts(f"sqlite:///{seller}")
        total = sum(counts.values())
        maria_names = _export(seller, tmp / "csv-maria", "\\N")
        sqlite_names = _export(seller, tmp / "csv-sqlite", None)

        for label in ("MariaDB", "SQLite"):
            h_s: list[float] = []
            l_s: list[float] = []
            h_rss = l_rss = 0
            ok_h = ok_l = True
            ddl = ""
            for _ in range(REPEAT):
                if label == "MariaDB":
                    url = _fresh_db(MARIA_ADMIN, f"bench_into_hov_{TAG}")
                    sec, peak = _handover(ws, seller, url)
                    ok_h = ok_h and _counts(url) == counts
                    if not ddl:
                        ddl = subprocess.run(
                            [
                                "mariadb-dump",
                                "--no-data",
                                *_mariadb_cli(url)[1:4],
                                f"bench_into_hov_{TAG}",
                            ],
                            check=True,
                            capture_output=True,
                            text=True,
                        ).stdout
                    _drop_db(MARIA_ADMIN, f"bench_into_hov_{TAG}")
                    h_s.append(sec)
                    h_rss = max(h_rss, peak)
                    url = _fresh_db(MARIA_ADMIN, f"bench_into_load_{TAG}")
                    sec, peak = _maria_load(url, ddl, tmp / "csv-maria", maria_names)
                    ok_l = ok_l and _counts(url) == counts
                    _drop_db(MARIA_ADMIN, f"bench_into_load_{TAG}")
                else:
                    target = tmp / "buyer.db"
                    target.unlink(missing_ok=True)
                    sec, peak = _handover(ws, seller, str(target))
                    ok_h = ok_h and _counts(f"sqlite:///{target}") == counts
                    if not ddl:
                        ddl = subprocess.run(
                            ["sqlite3", str(target), ".schema"],
                            check=True,
                            capture_output=True,
                            text=True,
                        ).stdout
                    h_s.append(sec)
                    h_rss = max(h_rss, peak)
                    loaded = tmp / "loaded.db"
                    sec, peak = _sqlite_load(loaded, ddl, tmp / "csv-sqlite", sqlite_names)
                    ok_l = ok_l and _counts(f"sqlite:///{loaded}") == counts
                l_s.append(sec)
                l_rss = max(l_rss, peak)
                print(f"{label}: handover {h_s[-1]:.1f} s, loader {sec:.1f} s", file=sys.stderr)
            h, b = statistics.median(h_s), statistics.median(l_s)
            loader = "LOAD DATA LOCAL INFILE" if label == "MariaDB" else "sqlite3 .import"
            rows.append(
                f"| SQLite → {label} | {total:,} | {_med(h_s)} | {h_rss:,} | {loader}: {_med(l_s)} | "
                f"{l_rss:,} | {b / h:.2f}× | handover counts {'ok' if ok_h else 'WRONG'}; "
                f"loader counts {'ok' if ok_l else 'WRONG'} |"
            )
            print(rows[-1], file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    return "\n".join(
        [
            f"## migrate into MariaDB and SQLite vs the bare loaders ({customers:,} customers"
            f"{', quick' if quick else ''})",
            "",
            f"`python -m bench --only migrate_into{' --quick' if quick else ''}` — the synthetic "
            "loan book in SQLite copied by `handover migrate … --no-backup` (CLI, checkpoints, "
            "rejects, counts, ledger) and loaded by the bare loader from CSV files `sqlite3 "
            "-csv` exported beforehand (not timed) into the same tables (handover's schema, "
            f"dumped). {REPEAT} interleaved runs each, median seconds (min–max).",
            "",
            "| path | rows | handover s | handover RSS MB | bare loader s | loader RSS MB | "
            "ratio | checks |",
            "|---|---:|---:|---:|---|---:|---:|---|",
            *rows,
            "",
            "ratio = loader median / handover median (the target is ≥ 0.7). "
            + load_line(load_before, load_after),
        ]
    )
