"""The whole handover of one loan book, stage by stage, against the bare tools (issue 21).

One synthetic book in SQLite (1,000,000 customers; ``--quick`` 20,000; synth not timed)
and a demo workspace: the demo's cast and governance (people, NDAs, training, approved
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
bench_verify_sqlite; SQLite ↔ SQLite, so no network read: a floor).
"""

from __future__ import annotations

import json
import os
import shutil
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


@dataclass
class Stage:
    """One stage of the run: handover's seconds and peak RSS, its peer's if any."""

    name: str
    seconds: float = 0.0
    rss: int = 0
    check: str = ""
    peer: str = ""
    peer_seconds: float | None = None
    peer_rss: int = 0

    def row(self) -> str:
        peer = "–" if self.peer_seconds is None else f"{self.peer_seconds:.1f}"
        ratio = "–" if self.peer_seconds is None else f"{self.seconds / self.peer_seconds:.2f}×"
        peer_rss = "–" if self.peer_seconds is None else f"{self.peer_rss:,}"
        return (
            f"| {self.name} | {self.seconds:.1f} | {self.rss:,} | {self.peer or '–'} | {peer} | "
            f"{peer_rss} | {ratio} | {self.check} |"
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


def _setup(tmp: Path, customers: int) -> tuple[Path, Path, dict[str, int]]:
    """The book (not timed) and the workspace with the demo's cast and governance."""
    from handover.flows.workspace import init_workspace
    from handover.synth import synthesize

    seller = tmp / "seller.db"
    synthesize(str(seller), customers=customers, seed=2026)
    ws = tmp / "ws"
    init_workspace(ws, demo=True).close()
    return ws, seller, _counts(f"sqlite:///{seller}")


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


def _measure(customers: int, quick: bool) -> str:
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="bench-handover-"))
    try:
        ws, seller, counts = _setup(tmp, customers)
        t1 = time.perf_counter()
        stages = _stages(tmp, ws, seller, counts)
        wall = time.perf_counter() - t1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    rows = sum(counts.values())
    total = sum(s.seconds for s in stages)
    peered = [s for s in stages if s.peer_seconds is not None]
    data = sum(s.seconds for s in peered)
    bare = sum(s.peer_seconds or 0.0 for s in peered)
    rss = max(s.rss for s in stages)
    flag = " --quick" if quick else ""
    lines = [
        f"## whole handover: every stage vs the bare tools ({customers:,} customers"
        f"{', quick' if quick else ''})",
        "",
        f"`python -m bench --only handover{flag}` — one synthetic loan book in SQLite "
        f"({rows:,} rows in {len(counts)} tables; synth not timed), a demo workspace with the "
        "demo's cast and governance and its approved PIA (set-up, not timed); each stage is the "
        "CLI (`handover … --json`) in its own process, once; peak RSS is the largest process "
        "of a stage (GNU time). migrate runs with `--no-backup` (the package is sealed by the "
        "seal stage); notices are created, approved by two approvers and queued by `notices send` "
        "with no channel configured (nothing sent). Each peer runs on the same data in the same "
        "run and its result is checked.",
        "",
        "| stage | handover s | handover RSS MB | peer | peer s | peer RSS MB | ratio | checks |",
        "|---|---:|---:|---|---:|---:|---:|---|",
        *(s.row() for s in stages),
        "",
        "ratio = handover ÷ peer (below 1: handover is faster). "
        f"Handover total {total:.1f} s over {len(stages)} stages (wall {wall:.1f} s with the "
        f"peers and checks; target ≤ 600 s at 1 M customers); largest peak RSS {rss:,} MB. "
        f"Data steps with a peer: handover {data:.1f} s ÷ bare tools' sum {bare:.1f} s = "
        f"{data / bare:.2f}×; whole handover ÷ bare tools' sum = {total / bare:.2f}× "
        "(target ≤ 1.5×). "
        + load_line(load_before, load_after)
        + f" The whole bench took {time.perf_counter() - t0:.0f} s.",
    ]
    return "\n".join(lines)


def run(quick: bool) -> str:
    """Markdown section: the stage table, totals and ratios (see the module text)."""
    return _measure(20_000 if quick else 1_000_000, quick)


if __name__ == "__main__":
    if sys.argv[1:2] == ["read"]:
        print(json.dumps(read_all(sys.argv[2])))
    elif sys.argv[1:2] == ["parquet"]:
        print(json.dumps(parquet_all(sys.argv[2], sys.argv[3])))
    else:
        print(run(quick="--quick" in sys.argv))
