"""The whole handover of one loan book, stage by stage, against the bare tools (issue 21).

One synthetic book in SQLite (1,000,000 customers; ``--quick`` 20,000; synth not timed),
copied for each of :data:`ROUNDS` rounds (shred destroys it) into a fresh demo workspace: the demo's cast and governance (people, NDAs, training, approved
grants; ``init_workspace(demo=True)``) and the demo's PIA, drafted and approved before
anything is sealed (``flows.pia.demo_step``), so every step is authorised as in
``handover demo``. Then each stage runs through the CLI exactly as a user runs it
(``handover … --json``, its own process; peak RSS from GNU time):

scan --full · seal · migrate into PostgreSQL (a database of its own, dropped after) ·
verify (SQLite source ↔ PostgreSQL target) · dd-extract · notices (create, two
approvals, send with no channel configured: the audience is queued, nothing sent) ·
shred (dual control: the demo's validator) · dossier build.

Peers for the data steps, on the same data in the same run, each checked: every table
read into Arrow (scan's floor), the same read streamed into plain Parquet files (seal's),
``sqlite3 -csv | psql \\copy`` into key-less tables (migrate's, as in bench_migrate) and
``sqldiff --primarykey`` of the seller against a copy of itself (verify's, as in
bench_verify_sqlite; SQLite ↔ SQLite, so no network read: a floor). Each peer runs right
after its stage, so both see the same machine; the table keeps each stage's median.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.bench_migrate import PG_ADMIN, _checkpoint, _counts, _drop_db, _fresh_db, _pipe
from bench.bench_migrate import _tables_ddl as tables_ddl
from bench.measure import load_line, timed

BIN = Path(sys.executable).parent
TAG = str(os.getpid())
#: rounds of the whole handover, each stage followed by its peer (the median is reported)
ROUNDS = 3


@dataclass
class Stage:
    """One stage of one round: handover's seconds and peak RSS, its peer's if any."""

    name: str
    seconds: float = 0.0
    rss: int = 0
    check: str = ""
    peer: str = ""
    peer_seconds: float | None = None
    peer_rss: int = 0


def _spread(xs: list[float]) -> str:
    """The median of ``xs`` with its range, as the other benches print it."""
    med = statistics.median(xs)
    return f"{med:.1f}" if len(xs) == 1 else f"{med:.1f} ({min(xs):.1f}–{max(xs):.1f})"


def _row(rounds: list[Stage]) -> str:
    """One stage's table row over its rounds: median seconds (min–max), the largest peak
    RSS, the ratio of the medians, every round's check (once when they agree)."""
    first = rounds[0]
    mine = [r.seconds for r in rounds]
    peers = [r.peer_seconds for r in rounds if r.peer_seconds is not None]
    checks = list(dict.fromkeys(r.check for r in rounds))
    rss = max(r.rss for r in rounds)
    if not peers:
        peer = ratio = peer_rss = "–"
    else:
        peer = _spread(peers)
        ratio = f"{statistics.median(mine) / statistics.median(peers):.2f}×"
        peer_rss = f"{max(r.peer_rss for r in rounds):,}"
    return (
        f"| {first.name} | {_spread(mine)} | {rss:,} | {first.peer or '–'} | {peer} | "
        f"{peer_rss} | {ratio} | {' / '.join(checks)} |"
    )


def _handover(
    stage: Stage, ws: Path, args: list[str], env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run ``handover -w ws ARGS`` (bytecode caching on, as installed), add its time and
    peak RSS to ``stage``; its JSON output (a failed run is an error)."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [str(BIN / "handover"), "-w", str(ws), *args]
    seconds, peak, out, err, code = timed(cmd, {**base, **(env or {})})
    stage.seconds += seconds
    stage.rss = max(stage.rss, peak)
    if code:
        raise RuntimeError(f"handover {args[0]} failed ({code}): {err.strip()[-400:]}")
    print(f"   {' '.join(args[:2])}: {seconds:.1f} s, {peak:,} MB", file=sys.stderr, flush=True)
    data: dict[str, Any] = json.loads(out[out.index("{") :]) if "{" in out else {}
    return data


def _peer(stage: Stage, name: str, cmd: list[str]) -> str:
    """Run a peer command, record its time and RSS on ``stage``; its stdout."""
    seconds, peak, out, err, code = timed(cmd)
    if code:
        raise RuntimeError(f"{name} failed ({code}): {err.strip()[-400:]}")
    stage.peer, stage.peer_seconds, stage.peer_rss = name, seconds, peak
    return out


def read_all(db: str) -> dict[str, int]:
    """Scan's floor: every column of every row of every table into Arrow batches (the
    source's own reader, no detection); rows per table."""
    from handover.sources import open_source

    rows: dict[str, int] = {}
    with open_source(db) as src:
        for info in src.tables():
            rows[info.name] = sum(b.num_rows for b in src.batches(info.name))
    return rows


def parquet_all(db: str, folder: str) -> dict[str, int]:
    """Seal's floor: the same read streamed into one plain Parquet file per table (no
    encryption, no signature, no manifest); rows written per table."""
    import pyarrow.parquet as pq

    from handover.sources import open_source

    rows: dict[str, int] = {}
    with open_source(db) as src:
        for i, info in enumerate(src.tables()):
            writer = None
            n = 0
            for batch in src.batches(info.name):
                if writer is None:
                    writer = pq.ParquetWriter(Path(folder) / f"{i}.parquet", batch.schema)
                writer.write_batch(batch)
                n += batch.num_rows
            if writer is not None:
                writer.close()
            rows[info.name] = n
    return rows


def _setup(tmp: Path, customers: int) -> tuple[Path, dict[str, int]]:
    """The book, once (not timed), and its row counts per table."""
    from handover.synth import synthesize

    book = tmp / "book.db"
    synthesize(str(book), customers=customers, seed=2026)
    return book, _counts(f"sqlite:///{book}")


def _round(tmp: Path, book: Path, n: int) -> tuple[Path, Path, Path]:
    """Round ``n``'s folder, its copy of the book (shred destroys the seller's data) and a
    fresh workspace with the demo's cast and governance (not timed)."""
    from handover.flows.workspace import init_workspace

    here = tmp / f"round-{n}"
    here.mkdir()
    seller = here / "seller.db"
    shutil.copyfile(book, seller)
    ws = here / "ws"
    init_workspace(ws, demo=True).close()
    return here, ws, seller


def _pia(ws_path: Path) -> None:
    """The demo's PIA, drafted by the DPO and approved by the buyer's DPO (PIPL Art. 55:
    before anything is sealed); set-up, not timed."""
    from handover.flows.pia import demo_step
    from handover.workspace import open_workspace

    ws = open_workspace(ws_path)
    try:
        demo_step(SimpleNamespace(ws=ws, lang=ws.settings.lang))
    finally:
        ws.close()


def _stages(tmp: Path, ws: Path, seller: Path, counts: dict[str, int]) -> list[Stage]:
    total = sum(counts.values())
    py = sys.executable
    me = [py, "-m", "bench.bench_handover"]
    stages: list[Stage] = []

    scan = Stage("scan --full")
    stages.append(scan)
    inv = _handover(scan, ws, ["scan", str(seller), "--full", "--json"])
    out = _peer(scan, "read into Arrow", [*me, "read", str(seller)])
    read_ok = json.loads(out) == counts
    scan.check = f"{len(inv.get('tables', []))} tables scanned; peer rows {_ok(read_ok)}"

    _pia(ws)

    seal = Stage("seal")
    stages.append(seal)
    package = ws / "packages" / "transfer"
    package.parent.mkdir(parents=True, exist_ok=True)
    res = _handover(seal, ws, ["seal", str(seller), "--out", str(package), "--json"])
    plain = tmp / "plain-parquet"
    plain.mkdir()
    out = _peer(seal, "plain Parquet write", [*me, "parquet", str(seller), str(plain)])
    seal.check = (
        f"sealed rows {_ok(res.get('rows') == total)}; peer rows {_ok(json.loads(out) == counts)}"
    )
    shutil.rmtree(plain)

    migrate = Stage("migrate → PostgreSQL")
    stages.append(migrate)
    target = _fresh_db(PG_ADMIN, f"bench_hov_{TAG}")
    pipe_db = f"bench_hov_pipe_{TAG}"
    try:
        _checkpoint()
        res = _handover(
            migrate,
            ws,
            ["migrate", str(seller), target, "--no-backup", "--reason", "benchmark", "--json"],
        )
        migrated_ok = res.get("rows") == total and _counts(target) == counts
        pipe = _fresh_db(PG_ADMIN, pipe_db)
        seconds, peak = _pipe(seller, pipe, tables_ddl(target))
        migrate.peer = "sqlite3 -csv \\| psql \\copy"
        migrate.peer_seconds, migrate.peer_rss = seconds, peak
        migrate.check = (
            f"target counts {_ok(migrated_ok)}; peer counts {_ok(_counts(pipe) == counts)}"
        )
        _drop_db(PG_ADMIN, pipe_db)

        verify = Stage("verify SQLite ↔ PostgreSQL")
        stages.append(verify)
        res = _handover(verify, ws, ["verify", str(seller), target, "--json"])
        copy = tmp / "copy.db"
        shutil.copyfile(seller, copy)
        diff = _peer(
            verify, "sqldiff --primarykey", ["sqldiff", "--primarykey", str(seller), str(copy)]
        )
        copy.unlink()
        equal = res.get("equal") is True and len(res.get("tables", [])) == len(counts)
        verify.check = f"equal {_ok(equal)}; peer finds nothing {_ok(diff.strip() == '')}"

        dd = Stage("dd-extract")
        stages.append(dd)
        res = _handover(
            dd, ws, ["dd-extract", str(seller), "--out", str(ws / "reports" / "dd"), "--json"]
        )
        dd.check = (
            f"{res.get('rows', 0):,} rows in {len(res.get('tables', []))} tables shipped, "
            f"{len(res.get('refused', []))} refused"
        )

        notices = Stage("notices queued")
        stages.append(notices)
        camp = _handover(
            notices,
            ws,
            [
                "notices",
                "create",
                str(seller),
                "--channel",
                "sms",
                "--tables",
                "cust_info",
                "--link",
                "https://buyer.example.cn/notice",
                "--json",
            ],
        )
        cid = str(camp["id"])
        for approver in ("zhoujie", "liqiang"):
            _handover(notices, ws, ["notices", "approve", cid, "--as", approver, "--json"])
        res = _handover(notices, ws, ["notices", "send", cid, str(seller), "--json"])
        queued = sum((res.get("queued_now") or {}).values())
        notices.check = f"{queued:,} notices queued, {res.get('skipped_channels')} not sent"

        shred = Stage("shred")
        stages.append(shred)
        res = _handover(
            shred,
            ws,
            ["shred", str(seller), "--validated-by", "liuyang", "--yes", "--json"],
            {"HANDOVER_VALIDATOR_PASSWORD": "liuyang-demo-2026"},
        )
        check = res.get("verification") or {}
        shred.check = (
            f"{res.get('rows', 0):,} rows, {res.get('files', 0)} files, {res.get('keys', 0)} keys "
            f"destroyed; {check.get('found', '?')} of {check.get('samples', '?')} samples found "
            f"after, passed {_ok(check.get('passed') is True and res.get('rows') == total)}"
        )
    finally:
        _drop_db(PG_ADMIN, pipe_db)
        _drop_db(PG_ADMIN, f"bench_hov_{TAG}")

    dossier = Stage("dossier build")
    stages.append(dossier)
    res = _handover(dossier, ws, ["dossier", "build", "--json"])
    dossier.check = (
        f"{res.get('documents')} documents, {res.get('files')} files, "
        f"checklist score {float(res.get('score', 0)):.0%}"
    )
    return stages


def _ok(flag: bool) -> str:
    return "ok" if flag else "WRONG"


def _measure(customers: int, quick: bool, rounds: int) -> str:
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="bench-handover-"))
    walls: list[float] = []
    runs: list[list[Stage]] = []
    try:
        book, counts = _setup(tmp, customers)
        for n in range(1, rounds + 1):
            print(f"  round {n} of {rounds}", file=sys.stderr, flush=True)
            here, ws, seller = _round(tmp, book, n)
            t1 = time.perf_counter()
            runs.append(_stages(here, ws, seller, counts))
            walls.append(time.perf_counter() - t1)
            shutil.rmtree(here, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    rows = sum(counts.values())
    by_stage = [list(stage) for stage in zip(*runs, strict=True)]
    totals = [sum(s.seconds for s in run) for run in runs]
    bares = [sum(s.peer_seconds or 0.0 for s in run) for run in runs]
    datas = [sum(s.seconds for s in run if s.peer_seconds is not None) for run in runs]
    total, bare, data = (statistics.median(x) for x in (totals, bares, datas))
    rss = max(s.rss for run in runs for s in run)
    per_round = "; ".join(
        f"{t:.1f} s ÷ {b:.1f} s = {t / b:.2f}×" for t, b in zip(totals, bares, strict=True)
    )
    flag = " --quick" if quick else ""
    lines = [
        f"## whole handover: every stage vs the bare tools ({customers:,} customers"
        f"{', quick' if quick else ''})",
        "",
        f"`python -m bench --only handover{flag}` — one synthetic loan book in SQLite "
        f"({rows:,} rows in {len(counts)} tables; synth not timed), copied for each of "
        f"{rounds} rounds into a fresh demo workspace with the demo's cast and governance and "
        "its approved PIA (set-up, not timed); in each round every stage is the CLI "
        "(`handover … --json`) in its own process, followed by its peer on the same data "
        "(interleaved); median seconds (min–max) over the rounds, peak RSS the largest "
        "process of a stage in any round (GNU time). migrate runs with `--no-backup` (the "
        "package is sealed by the seal stage); notices are created, approved by two "
        "approvers and queued by `notices send` with no channel configured (nothing sent). "
        "Each result is checked.",
        "",
        "| stage | handover s | handover RSS MB | peer | peer s | peer RSS MB | ratio | checks |",
        "|---|---:|---:|---|---:|---:|---:|---|",
        *(_row(stage) for stage in by_stage),
        "",
        "ratio = median handover ÷ median peer (below 1: handover is faster). "
        f"Handover total, median of the rounds: {total:.1f} s over {len(by_stage)} stages "
        f"(wall {statistics.median(walls):.1f} s with the peers and checks; target ≤ 600 s at "
        f"1 M customers); largest peak RSS {rss:,} MB. Data steps with a peer: handover "
        f"{data:.1f} s ÷ bare tools' sum {bare:.1f} s = {data / bare:.2f}×; whole handover ÷ "
        f"bare tools' sum = {total / bare:.2f}× (target ≤ 1.5×). Each round: {per_round}. "
        + load_line(load_before, load_after)
        + f" The whole bench took {time.perf_counter() - t0:.0f} s.",
    ]
    return "\n".join(lines)


def run(quick: bool) -> str:
    """Markdown section: the stage table, totals and ratios (see the module text)."""
    return _measure(20_000 if quick else 1_000_000, quick, ROUNDS)


if __name__ == "__main__":
    if sys.argv[1:2] == ["read"]:
        print(json.dumps(read_all(sys.argv[2])))
    elif sys.argv[1:2] == ["parquet"]:
        print(json.dumps(parquet_all(sys.argv[2], sys.argv[3])))
    else:
        print(run(quick="--quick" in sys.argv))
