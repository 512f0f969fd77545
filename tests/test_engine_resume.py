"""``--resume RUN`` for scan, verify and dd-extract on a Dask cluster: the scheduler is
killed mid-run (one line naming the run and the resume command), the same command is
run again with ``--resume`` against a new scheduler, and the result is the one an
uninterrupted run gives (the local executor's, which the cluster's equals: see
tests/test_engine.py). Every accepted shard was recorded in the store as it arrived;
a recorded dd-extract shard whose file is gone or changed is computed again."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from engine_support import Cluster, KillScheduler, cli, differing_copy, make_book

distributed = pytest.importorskip("distributed")

SHARD_ROWS = 400


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_book(tmp_path_factory.mktemp("resume"), 300)


@pytest.fixture
def clusters() -> Iterator[Callable[[], Cluster]]:
    """Start scheduler+worker pairs on demand; all stopped at the end."""
    started: list[Cluster] = []

    def start() -> Cluster:
        c = Cluster()
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


def _interrupted(
    ws_path: Path, cluster: Cluster, after: int, step: Callable[[Any, Any, Any], object]
) -> str:
    """Run ``step(ws, executor, progress)`` on ``cluster``, whose scheduler is killed after
    ``after`` accepted shards: the run id the one-line error names."""
    from handover.engine import EngineLost
    from handover.workspace import open_workspace

    ws = open_workspace(ws_path)
    try:
        with cluster.executor(SHARD_ROWS) as ex, pytest.raises(EngineLost) as lost:
            step(ws, ex, KillScheduler(cluster, after))
    finally:
        ws.close()
    line = str(lost.value)
    assert "\n" not in line and "was lost during the run" in line and "--resume " in line
    return line.rsplit("--resume ", 1)[1].split()[0]


def _recorded(ws_path: Path, run: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """The run's status and its recorded shard results."""
    from handover.engine.models import EngineRun, EngineShard
    from handover.workspace import open_workspace

    ws = open_workspace(ws_path)
    try:
        with ws.store.session() as s:
            status = s.get(EngineRun, run).status
            done = {r.task: dict(r.result) for r in s.query(EngineShard).filter_by(run_id=run)}
    finally:
        ws.close()
    return status, done


def _revealed(ws_path: Path, blob: Any) -> Any:
    """What a run recorded wrapped under the workspace's engine key."""
    from handover.engine.runs import reveal
    from handover.engine.worker import engine_key
    from handover.ledger import Recorder
    from handover.workspace import open_workspace

    ws = open_workspace(ws_path)
    try:
        return reveal(ws, engine_key(ws, Recorder(ws, "test")), blob)
    finally:
        ws.close()


def _options(ws_path: Path, run: str) -> dict[str, Any]:
    from handover.engine.models import EngineRun
    from handover.workspace import open_workspace

    ws = open_workspace(ws_path)
    try:
        with ws.store.session() as s:
            return dict(s.get(EngineRun, run).options)
    finally:
        ws.close()


def _phones(src: Path) -> list[str]:
    """The book's mobile numbers (cust_info.sjhm)."""
    con = sqlite3.connect(src)
    try:
        return [r[0] for r in con.execute("SELECT sjhm FROM cust_info WHERE sjhm IS NOT NULL")]
    finally:
        con.close()


def test_scan_resumes_from_the_recorded_profiles(
    book: tuple[Path, Path], clusters: Callable[[], Cluster]
) -> None:
    from handover.flows.scan import run_scan

    ws_path, src = book
    opts = ("--full", "--sample", "100", "--json")
    local = json.loads(cli(ws_path, "scan", str(src), *opts).stdout)
    run = _interrupted(
        ws_path,
        clusters(),
        2,
        lambda ws, ex, sink: run_scan(ws, src, full=True, sample=100, executor=ex, progress=sink),
    )
    assert run.startswith("scan-")
    status, done = _recorded(ws_path, run)
    assert status == "failed" and len(done) >= 2
    # each record is a shard's partial profile of the columns the full pass re-reads,
    # wrapped under the engine key: its examples and number ranges are personal data
    one = next(iter(done.values()))
    profiles = _revealed(ws_path, one["profiles"])
    assert one["columns"] == sorted(profiles) and one["columns"]
    phones = _phones(src)
    assert any(str(p) in json.dumps(profiles) for p in phones)  # the clear profile has them
    stored = json.dumps([done, _options(ws_path, run)], ensure_ascii=False)
    assert [p for p in phones if p in stored] == []

    second = clusters()
    second.executor(SHARD_ROWS).close()  # up
    where = ("--executor", second.address)
    other = cli(ws_path, "scan", str(src), "--full", "--sample", "99", *where, "--resume", run,
                 code=2)  # fmt: skip
    assert run in other.output and len(other.output.strip().splitlines()) == 1
    assert "other arguments" in other.output
    resumed = json.loads(cli(ws_path, "scan", str(src), *opts, *where, "--resume", run).stdout)
    assert resumed == local
    assert _recorded(ws_path, run)[0] == "done"
    again = cli(ws_path, "scan", str(src), *opts, *where, "--resume", run, code=2)
    assert "is finished already" in again.output


def test_verify_resumes_from_the_recorded_verdicts(
    book: tuple[Path, Path], clusters: Callable[[], Cluster], tmp_path: Path
) -> None:
    from handover.flows.verify import verify

    ws_path, src = book
    buyer = differing_copy(src, tmp_path / "buyer.db")
    local = json.loads(cli(ws_path, "verify", str(src), str(buyer), "--json", code=1).stdout)
    run = _interrupted(
        ws_path,
        clusters(),
        3,
        lambda ws, ex, sink: verify(str(src), str(buyer), ws=ws, executor=ex, progress=sink),
    )
    status, done = _recorded(ws_path, run)
    assert status == "failed" and len(done) >= 3
    # counts in clear; the differing rows' keys (personal data, maybe) only wrapped
    for verdict in done.values():
        assert not {"missing", "extra", "changed"} & set(verdict)
        differs = verdict["n_missing"] + verdict["n_extra"] + verdict["n_changed"]
        assert (verdict["keys"] is not None) == (differs > 0)
    second = clusters()
    second.executor(SHARD_ROWS).close()
    where = ("--executor", second.address, "--resume", run)
    # another target than the run's: refused in one line, the run left as it was
    other = cli(ws_path, "verify", str(src), str(src), "--json", *where, code=2)
    assert run in other.output and len(other.output.strip().splitlines()) == 1
    assert _recorded(ws_path, run) == (status, done)
    # the parts were cut as the run recorded them: no HANDOVER_SHARD_ROWS needed here
    resumed = cli(ws_path, "verify", str(src), str(buyer), "--json", *where, code=1)
    assert json.loads(resumed.stdout) == local
    by = {t["name"]: t for t in local["tables"]}
    assert by["hkls"]["missing"] == [10001, 3000012]


def _extract(out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    tables = {p.name: pq.read_table(p) for p in sorted((out / "parquet").iterdir())}
    report = json.loads((out / "report" / "k-anonymity.json").read_text("utf-8"))
    report.pop("seconds", None)
    return tables, report


def test_extract_resumes_from_the_recorded_shard_files(
    book: tuple[Path, Path], clusters: Callable[[], Cluster]
) -> None:
    from handover.flows.extract import dd_extract

    ws_path, src = book
    base = ws_path.parent
    cli(ws_path, "scan", str(src))  # the inventory both extracts use
    cli(ws_path, "dd-extract", str(src), "--out", str(base / "dd-local"))
    out = base / "dd-resumed"
    run = _interrupted(
        ws_path,
        clusters(),
        3,
        lambda ws, ex, sink: dd_extract(ws, src, out, lang="en", executor=ex, progress=sink),
    )
    assert not out.exists()
    status, done = _recorded(ws_path, run)
    assert status == "failed" and len(done) >= 3
    folder = next(base.glob(".dd-resumed.shards-*"))
    files = [d["file"] for d in done.values() if d["file"]]
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    # one recorded shard's file is gone, another's changed: both are computed again
    (folder / files[0]).unlink()
    changed = folder / files[1]
    changed.write_bytes(changed.read_bytes()[:-9] + b"x" * 9)
    kept = {f: (folder / f).stat().st_mtime_ns for f in files[2:]}

    second = clusters()
    second.executor(SHARD_ROWS).close()
    where = ("--executor", second.address, "--resume", run)
    other = cli(ws_path, "dd-extract", str(src), "--out", str(out), "--k", "7", *where, code=2)
    assert run in other.output and len(other.output.strip().splitlines()) == 1
    for name, stamp in kept.items():  # untouched: read back, not computed again
        assert (folder / name).stat().st_mtime_ns == stamp
    with pytest.MonkeyPatch.context() as mp:
        seen: list[str] = []
        from handover.engine import extract as engine_extract

        real = engine_extract._write

        def spy(folder: Path, name: str, batches: Any) -> dict[str, Any]:
            seen.append(name)
            return real(folder, name, batches)

        mp.setattr(engine_extract, "_write", spy)
        cli(ws_path, "dd-extract", str(src), "--out", str(out), *where)
    assert files[0] in seen and files[1] in seen and not set(kept) & set(seen)
    local_tables, local_report = _extract(base / "dd-local")
    tables, report = _extract(out)
    assert tables.keys() == local_tables.keys()
    for name, table in tables.items():
        assert table.equals(local_tables[name]), name
    assert report == local_report
    assert not list(base.glob(".dd-resumed.shards-*"))  # removed once the extract is written
    assert _recorded(ws_path, run)[0] == "done"


def test_resume_needs_a_cluster_and_a_run(book: tuple[Path, Path]) -> None:
    ws_path, src = book
    for args in (("scan", str(src), "--full"), ("verify", str(src), str(src)),
                 ("dd-extract", str(src), "--out", str(ws_path.parent / "never"))):  # fmt: skip
        res = cli(ws_path, *args, "--resume", "scan-20261204T000000-000000", code=2)
        assert "--executor" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (ws_path.parent / "never").exists()


def test_a_partial_profile_survives_the_store() -> None:
    """What a scan shard records is the profile it computed, merge for merge, its mangled
    example as reports show it (no ID digits in the store)."""
    from dataclasses import replace

    import pyarrow as pa

    from handover.detect.profile import ColumnProfile, Plan, profile_column

    values = pa.array(["13800138000", "4.40106199003077E+17", None, "13912345678"])
    prof = profile_column(values, Plan(None))
    assert prof.mangled == 1 and prof.mangled_example == "4.40106199003077E+17"
    prof.spread = {"mobile": (13800138000, 13912345678, 2)}
    record = json.dumps(prof.to_json())
    assert "40106199" not in record
    back = ColumnProfile.from_json(json.loads(record))
    assert back == replace(prof, mangled_example="4.4…E+17")
    assert back.merge(prof) == replace(prof.merge(prof), mangled_example="4.4…E+17")


def test_a_verdict_keeps_its_keys_wrapped(book: tuple[Path, Path]) -> None:
    from handover.engine.runs import RunLog
    from handover.engine.verify import _opened, _sealed
    from handover.engine.worker import engine_key
    from handover.ledger import Recorder
    from handover.verify.results import TableResult
    from handover.workspace import open_workspace

    ws = open_workspace(book[0])
    try:
        key_id = engine_key(ws, Recorder(ws, "test"))
        run = RunLog.start(ws, "verify", "a.db", "b.db", {"args": {}})
        res = TableResult("kh", 10, 9, missing=["110101199003077777"], n_missing=1)
        record = _sealed(run, key_id, res)
        assert "110101199003077777" not in json.dumps(record)
        assert _opened(run, key_id, json.loads(json.dumps(record))) == res
        equal = _sealed(run, key_id, TableResult("kh", 10, 10))
        assert equal["keys"] is None
        assert _opened(run, key_id, equal) == TableResult("kh", 10, 10)
        run.finish("done")
    finally:
        ws.close()


def test_a_long_table_name_fits_the_task_column() -> None:
    """``engine_shards.task`` holds 64 characters: a 64-character table name (MariaDB's
    limit) with its shard number is recorded under the table's digest, still one name per
    table and shard."""
    from handover.engine.models import EngineShard
    from handover.engine.runs import TASK_CHARS, shard_task

    assert EngineShard.__table__.c.task.type.length == TASK_CHARS
    assert shard_task("hkls", 3) == "hkls#3"
    long_a, long_b = "a" * 64, "a" * 63 + "b"
    names = {shard_task(t, i) for t in (long_a, long_b) for i in (0, 1, 12345)}
    assert len(names) == 6 and max(len(n) for n in names) <= TASK_CHARS
