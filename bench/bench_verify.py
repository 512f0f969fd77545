"""``handover verify`` against reladiff 0.6.0 on the same tables (PostgreSQL and MariaDB).

Both tools run as subprocesses on the same databases in the same run; the differences
each reports are checked against the ones injected. reladiff runs with
``--skip-sort-results`` and ``COLUMNS=10000`` (see /work/shared/PEERS.md); the injected
differences have no NULLs, because reladiff crashes on a NULL difference across databases.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_ADMIN = os.environ.get("HANDOVER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIA_ADMIN = os.environ.get("HANDOVER_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
BIN = Path(sys.executable).parent
COLUMNS = ["id", "name", "amount", "rate", "opened", "updated", "status", "note"]
PG_DDL = (
    "CREATE TABLE loans (id bigint PRIMARY KEY, name varchar(64) NOT NULL, amount numeric(14,2), "
    "rate numeric(8,4), opened date, updated timestamp(6), status integer, note varchar(200))"
)
MY_DDL = (
    "CREATE TABLE loans (id bigint PRIMARY KEY, name varchar(64) NOT NULL, amount decimal(14,2), "
    "rate decimal(8,4), opened date, updated datetime(6), status int, note varchar(200)) "
    "CHARACTER SET utf8mb4"
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
#: timed runs of each tool per case (interleaved; the median is reported)
REPEAT = 3


def _rows(n: int, seed: int = 11) -> Iterator[tuple[Any, ...]]:
    rnd = random.Random(seed)
    t0 = dt.datetime(2023, 1, 1)
    for i in range(1, n + 1):
        yield (
            i,
            rnd.choice(SURNAMES) + rnd.choice(SURNAMES) + str(i % 997),
            f"{rnd.randrange(100_00, 500_000_00) / 100:.2f}",
            f"{rnd.randrange(0, 240000) / 10000:.4f}",
            (dt.date(2018, 1, 1) + dt.timedelta(days=rnd.randrange(2500))).isoformat(),
            (
                t0 + dt.timedelta(seconds=rnd.randrange(10**8), microseconds=rnd.randrange(10**6))
            ).isoformat(sep=" "),
            rnd.randrange(5),
            rnd.choice(["正常", "逾期", "已结清", "展期", "核销"]) + f" 备注{i % 31}",
        )


def _tsv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in _rows(n):
            fh.write("\t".join(str(v) for v in r) + "\n")


@contextmanager
def _database(admin_url: str, name: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


def _load(url: str, tsv: Path) -> None:
    engine = sa.create_engine(url, connect_args={"local_infile": True} if "mysql" in url else {})
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(PG_DDL))
            raw = conn.connection.dbapi_connection
            with raw.cursor() as cur, tsv.open("rb") as fh, cur.copy("COPY loans FROM STDIN") as cp:  # type: ignore[union-attr]
                while chunk := fh.read(1 << 20):
                    cp.write(chunk)
            conn.execute(sa.text("ANALYZE loans"))
        else:
            conn.execute(sa.text(MY_DDL))
            conn.execute(
                sa.text(f"LOAD DATA LOCAL INFILE '{tsv}' INTO TABLE loans CHARACTER SET utf8mb4")
            )
            conn.execute(sa.text("ANALYZE TABLE loans"))
    engine.dispose()


def _inject(url: str, n: int, k: int) -> dict[str, set[int]]:
    """Change, delete and insert ``k`` rows in all (no NULL differences)."""
    rnd = random.Random(5)
    picks = rnd.sample(range(1, n + 1), k * 8 // 10)
    changed, missing = set(picks[: k // 2]), set(picks[k // 2 :])
    extra = {n + 1 + 7 * i for i in range(k - len(changed) - len(missing))}
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        ids = ",".join(map(str, sorted(changed)))
        conn.execute(sa.text(f"UPDATE loans SET amount = amount + 0.01 WHERE id IN ({ids})"))
        conn.execute(
            sa.text(f"DELETE FROM loans WHERE id IN ({','.join(map(str, sorted(missing)))})")
        )
        conn.execute(
            sa.text(
                "INSERT INTO loans VALUES (:id, '新客户', 1000.00, 0.1200, '2024-01-01', "
                "'2024-01-01 00:00:00', 1, '新增')"
            ),
            [{"id": i} for i in sorted(extra)],
        )
    engine.dispose()
    return {"missing": missing, "extra": extra, "changed": changed}


def _checkpoint() -> None:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text("CHECKPOINT"))
    engine.dispose()


def _handover(ws: Path, a: str, b: str) -> tuple[float, dict[str, set[Any]]]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "handover"), "-w", str(ws), "verify", a, b, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"handover verify failed: {proc.stderr.strip()}")
    table = json.loads(proc.stdout)["tables"][0]
    if table.get("truncated"):
        raise RuntimeError("handover verify truncated its key lists")
    return seconds, {k: set(table[k]) for k in ("missing", "extra", "changed")}


def _reladiff_url(url: str) -> str:
    u = sa.engine.make_url(url)
    scheme = "postgresql" if u.get_backend_name() == "postgresql" else "mysql"
    return u.set(drivername=scheme).render_as_string(hide_password=False)


def _reladiff(a: str, b: str) -> tuple[float, dict[str, set[Any]]]:
    env = dict(os.environ, COLUMNS="10000")
    cmd = [
        str(BIN / "reladiff"),
        _reladiff_url(a),
        "loans",
        _reladiff_url(b),
        "loans",
        "-k",
        "id",
        *[x for c in COLUMNS[1:] for x in ("-c", c)],
        "--json",
        "--skip-sort-results",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    # reladiff prints its rows on stdout; warnings go to stderr
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"reladiff failed: {proc.stderr.strip()[-300:]}")
    minus: set[int] = set()
    plus: set[int] = set()
    for line in proc.stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith("["):
            continue  # reladiff's warnings
        sign, values = json.loads(line)
        (minus if sign == "-" else plus).add(int(values[0]))
    return seconds, {"missing": minus - plus, "extra": plus - minus, "changed": minus & plus}


def _as_int(found: dict[str, set[Any]]) -> dict[str, set[int]]:
    return {k: {int(x) for x in v} for k, v in found.items()}


def run(quick: bool) -> str:
    """Markdown section: seconds of handover verify and reladiff, ratio, differences found."""
    n = 100_000 if quick else 1_000_000
    k = 1_000
    lines = [
        "## verify: handover verify vs reladiff 0.6.0",
        "",
        f"Table `loans`, {n:,} rows × 8 columns (bigint key, Chinese text, 2 decimals, date, "
        "timestamp(6), int, text); PostgreSQL 15 and MariaDB 10.11 on this machine. "
        f"Differences: 0, then {k:,} (500 changed, 300 deleted, 200 inserted, no NULLs). Both tools "
        "run as subprocesses; reladiff with `--skip-sort-results`, `COLUMNS=10000`, every column.",
        "",
        f"Each case: {REPEAT} interleaved runs of each tool; median seconds (min–max).",
        "",
        "| pair | differences | handover s | reladiff s | ratio | all found (handover / reladiff) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    from handover.flows.workspace import init_workspace

    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp) / "loans.tsv"
        _tsv(tsv, n)
        init_workspace(Path(tmp) / "ws", demo=True).close()
        ws = Path(tmp) / "ws"
        with (
            _database(PG_ADMIN, "ho_bench_a") as pa,
            _database(PG_ADMIN, "ho_bench_b") as pb,
            _database(MARIA_ADMIN, "ho_bench_m") as ma,
        ):
            for url in (pa, pb, ma):
                _load(url, tsv)
            for label, a, b in (("PostgreSQL↔PostgreSQL", pa, pb), ("MariaDB↔PostgreSQL", ma, pb)):
                for diffs in (0, k):
                    if diffs:
                        _load_fresh(pb, tsv)
                        truth = _inject(pb, n, k)
                    else:
                        _load_fresh(pb, tsv)
                        truth = {"missing": set(), "extra": set(), "changed": set()}
                    # interleaved runs, the median of each tool: one run on a 2-core
                    # machine swings by 2x with whatever else is running
                    h_times: list[float] = []
                    r_times: list[float] = []
                    ok_h = ok_r = True
                    for _ in range(REPEAT):
                        _checkpoint()
                        h_s, h_found = _handover(ws, a, b)
                        _checkpoint()
                        r_s, r_found = _reladiff(a, b)
                        h_times.append(h_s)
                        r_times.append(r_s)
                        ok_h = ok_h and _as_int(h_found) == truth
                        ok_r = ok_r and _as_int(r_found) == truth
                    h_s, r_s = statistics.median(h_times), statistics.median(r_times)
                    lines.append(
                        f"| {label} | {diffs:,} | {h_s:.2f} ({min(h_times):.2f}–{max(h_times):.2f}) | "
                        f"{r_s:.2f} ({min(r_times):.2f}–{max(r_times):.2f}) | {r_s / h_s:.1f}× | "
                        f"{'yes' if ok_h else 'NO'} / {'yes' if ok_r else 'NO'} |"
                    )
                    print(lines[-1], file=sys.stderr, flush=True)
    lines.append("")
    lines.append(
        "ratio = reladiff median / handover median (higher is better for handover). "
        "Timings include process start-up of both tools."
    )
    return "\n".join(lines)


def _load_fresh(url: str, tsv: Path) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS loans"))
    engine.dispose()
    _load(url, tsv)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
