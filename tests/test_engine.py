"""The engine: scan, seal, verify and dd-extract on a Dask cluster give what the local
executor gives on the same synthetic book; a worker killed during a seal, and a lost
scheduler with ``--resume``.

A ``LocalCluster`` of two worker processes (one thread each) on 127.0.0.1 serves the
module; the lost-scheduler test runs its own ``dask scheduler`` and ``dask worker``
processes so that it can kill the scheduler.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine_support import (
    Cluster,
    KillScheduler,
    cli,
    differing_copy,
    free_port,
    local_cluster,
    make_book,
)
from handover.cli.main import app
from handover.i18n import Msg

distributed = pytest.importorskip("distributed")

runner = CliRunner()
CUSTOMERS = 300
#: rows per shard here: the bigger tables (repayments, schedules) get several shards
SHARD_ROWS = 500
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster() as c:
        yield c


@pytest.fixture(scope="module")
def address(cluster: Any) -> str:
    return "dask://" + str(cluster.scheduler_address).removeprefix("tcp://")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_book(tmp_path_factory.mktemp("engine"), CUSTOMERS)


_cli = cli


def _rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(db)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_handover%'"
            )
        ]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def _open(ws: Path) -> Any:
    from handover.workspace import open_workspace

    return open_workspace(ws)


def _executor(address: str, shard_rows: int = SHARD_ROWS) -> Any:
    from handover.engine import DaskExecutor

    return DaskExecutor(address, shard_rows=shard_rows)


# --- scan -------------------------------------------------------------------------------


def test_scan_full_gives_the_local_inventory(book: tuple[Path, Path], address: str) -> None:
    ws, src = book
    local = json.loads(_cli(ws, "scan", str(src), "--full", "--json").stdout)
    remote = json.loads(
        _cli(ws, "scan", str(src), "--full", "--json", "--executor", address).stdout
    )
    assert remote == local
    assert any(c.get("pii") for t in local["tables"] for c in t["columns"])


def _scanned_both_ways(
    book: tuple[Path, Path], executor: Callable[[], AbstractContextManager[Any]]
) -> tuple[Any, Any, Any]:
    """The book's full scan (sample 200, batches of 100) here, and through ``executor``
    with a source reference: ``(ref, local, remote)``."""
    from handover.engine import LocalExecutor
    from handover.engine.scan import scan
    from handover.engine.worker import source_ref
    from handover.ledger import Recorder

    ws_path, src = book
    ws = _open(ws_path)
    try:
        ref = source_ref(ws, str(src), str(src), Recorder(ws, "test"))
        kw: dict[str, Any] = {"full": True, "sample": 200, "batch_rows": 100}
        local = scan(src, executor=LocalExecutor(), **kw)
        with executor() as ex:
            remote = scan(src, executor=ex, ref=ref, **kw)
    finally:
        ws.close()
    return ref, local, remote


def test_scan_shards_merge_batch_for_batch(book: tuple[Path, Path], address: str) -> None:
    """Shards cut at multiples of the full pass's batch: counts, shares and examples equal."""
    ref, local, remote = _scanned_both_ways(book, lambda: _executor(address, shard_rows=300))
    assert repr(ref) == f"SourceRef({str(book[1])!r})"
    assert remote.to_json() == local.to_json()
    assert remote.counts() == local.counts()
    # the repayments table really was cut into several shards
    assert max(t.rows for t in local.tables) > 3 * 300


def test_merged_profiles_keep_one_key_order() -> None:
    """A merge lists the keys of its parts in one order, whatever order the parts hold them
    in: a worker's dicts come in its own set order (its nanny's PYTHONHASHSEED), and the
    classifier words a verdict (the checks that passed, the candidates) in dict order."""
    import random

    from handover.detect.profile import ColumnProfile
    from handover.detect.recognizers import RECOGNIZERS, TYPES

    keys = [r.key for r in RECOGNIZERS]
    rng = random.Random(7)
    seen = set()
    for _ in range(20):
        ks, ts, es = rng.sample(keys, len(keys)), rng.sample(TYPES, len(TYPES)), [17, 10, 14]
        rng.shuffle(es)
        part = ColumnProfile(
            by_key=dict.fromkeys(ks, 1),
            contra=dict.fromkeys(ks, 1),
            valid=dict.fromkeys(ts, 1),
            text_hits=dict.fromkeys(ts, 1),
            examples={t: ["x"] for t in ts},
            text_examples={t: ["x"] for t in ts},
            spread={t: (1, 2, 1) for t in ts},
            mangled_exp=dict.fromkeys(es, 1),
        )
        half = ColumnProfile(by_key=dict.fromkeys(ks[::2], 1), valid=dict.fromkeys(ts[::3], 1))
        for merged in (ColumnProfile().merge(part), half.merge(part), part.merge(half)):
            assert list(merged.by_key) == list(merged.contra) == keys
            assert list(merged.valid) == list(merged.examples) == list(TYPES)
            assert list(merged.text_hits) == list(merged.text_examples) == list(TYPES)
            assert list(merged.spread) == list(TYPES)
            assert list(merged.mangled_exp) == [10, 14, 17]
        seen.add(tuple(ks))
    assert len(seen) == 20


def _elsewhere(shard_rows: int) -> Any:
    """A sharded executor that runs here as a cluster would give the results back: the last
    task first, and every full-pass profile with its keys in another order (as a worker
    whose strings hash with another seed builds them)."""
    from handover.engine import LocalExecutor

    class Elsewhere(LocalExecutor):
        sharded = True

        def run(self, fn: Any, items: Any, keys: Any) -> Iterator[tuple[int, Any]]:
            done = list(super().run(fn, items, keys))
            for i, res in reversed(done):
                yield i, _reordered(res) if isinstance(res, dict) else res

    return Elsewhere(shard_rows)


def _reordered(part: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import replace

    fields = ("valid", "by_key", "examples", "text_hits", "text_examples", "contra", "spread")
    return {
        c: replace(p, **{f: dict(reversed(getattr(p, f).items())) for f in fields})
        for c, p in reversed(part.items())
    }


def test_scan_shards_merge_in_any_order(book: tuple[Path, Path]) -> None:
    """Shards that finish in another order, their profiles' keys in another order: the
    same inventory as the local scan (an ID column lists its two checks in the order its
    merged profile holds them)."""
    _ref, local, remote = _scanned_both_ways(book, lambda: nullcontext(_elsewhere(300)))
    assert remote.to_json() == local.to_json()
    # the 18- and 15-digit checks of the ID columns: their order is what varied
    zjhm = next(c for t in local.tables for c in t.columns if c.name == "zjhm")
    assert "cn_resident_id_15" in str(zjhm.to_json()["evidence_keys"])


# --- seal -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sealed(book: tuple[Path, Path], address: str) -> tuple[Path, Path]:
    """The book sealed locally and on the cluster (shards of 500 rows)."""
    ws, src = book
    base = ws.parent
    _cli(ws, "seal", str(src), "--out", str(base / "pkg-local"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", str(SHARD_ROWS))
        _cli(ws, "seal", str(src), "--out", str(base / "pkg-dask"), "--executor", address)
    return base / "pkg-local", base / "pkg-dask"


def test_sealed_on_the_cluster_unseals_to_the_same_rows(
    book: tuple[Path, Path], sealed: tuple[Path, Path]
) -> None:
    ws, src = book
    local, remote = sealed
    for pkg in (local, remote):
        _cli(ws, "unseal", str(pkg), "--to", str(pkg.with_suffix(".db")))
    assert _rows(remote.with_suffix(".db")) == _rows(local.with_suffix(".db")) == _rows(src)


def test_sharded_manifest_roots_and_files(sealed: tuple[Path, Path]) -> None:
    from handover.package.rows import CHUNK_ROWS

    local, remote = sealed
    ml = json.loads((local / "manifest.json").read_text("utf-8"))
    mr = json.loads((remote / "manifest.json").read_text("utf-8"))
    assert ml["version"] == 1 and mr["version"] == 2
    sharded = 0
    for a, b in zip(ml["tables"], mr["tables"], strict=True):
        assert (a["name"], a["rows"], a["schema"]) == (b["name"], b["rows"], b["schema"])
        if "shards" not in b:
            # a table of one shard is stored as a local seal stores it
            assert b["row_root"] == a["row_root"]
            continue
        sharded += 1
        shards = b["shards"]
        assert [s["rows"] for s in shards[:-1]] == [SHARD_ROWS] * (len(shards) - 1)
        assert sum(s["rows"] for s in shards) == a["rows"]
        # 500-row shards are not whole chunks: the root is over each shard's own chunks
        assert SHARD_ROWS % CHUNK_ROWS != 0 and b["row_root"] != a["row_root"]
    assert sharded >= 2
    files = sorted(p.name for p in (remote / "tables").iterdir())
    listed = sorted(Path(s["file"]).name for t in mr["tables"] for s in t.get("shards") or [t])
    assert files == listed  # one file per shard, nothing left over


def test_sharded_package_verifies_and_migrates(
    book: tuple[Path, Path], sealed: tuple[Path, Path], tmp_path: Path
) -> None:
    from handover.package.source import verify_package

    ws, src = book
    remote = sealed[1]
    w = _open(ws)
    try:
        check = verify_package(w, remote)
    finally:
        w.close()
    assert check.rows == sum(len(v) for v in _rows(src).values())
    target = tmp_path / "migrated.db"
    _cli(ws, "migrate", str(remote), str(target))
    assert _rows(target) == _rows(src)


def test_a_changed_shard_is_named(book: tuple[Path, Path], sealed: tuple[Path, Path]) -> None:
    from handover.errors import CheckFailed
    from handover.package.source import verify_package

    ws, _ = book
    copy = ws.parent / "pkg-tampered"
    shutil.copytree(sealed[1], copy)
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    shard = next(t for t in manifest["tables"] if "shards" in t)["shards"][1]
    path = copy / shard["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    w = _open(ws)
    try:
        with pytest.raises(CheckFailed, match=shard["file"]):
            verify_package(w, copy)
    finally:
        w.close()


def test_roots_equal_when_shards_are_whole_chunks() -> None:
    """Shards of a multiple of CHUNK_ROWS rows: the combined root is the one-file root."""
    from handover.package.rows import CHUNK_ROWS, RowDigest, chunks_root, digest_table

    n = 2 * CHUNK_ROWS + 1234
    table = pa.table({"id": pa.array(range(n)), "name": pa.array([f"客户{i}" for i in range(n)])})
    whole = digest_table(table).root()
    chunks = b""
    for start in range(0, n, CHUNK_ROWS):
        d = RowDigest()
        d.add_batch(table.slice(start, CHUNK_ROWS))
        chunks += d.chunk_digests()
    assert chunks_root(chunks) == whole
    uneven = RowDigest()
    uneven.add_batch(table.slice(0, 1000))
    rest = RowDigest()
    rest.add_batch(table.slice(1000))
    assert chunks_root(uneven.chunk_digests() + rest.chunk_digests()) != whole


# --- verify -----------------------------------------------------------------------------


def test_verify_finds_the_same_differences(
    book: tuple[Path, Path], address: str, tmp_path: Path
) -> None:
    ws, src = book
    buyer = differing_copy(src, tmp_path / "buyer.db")
    local = _cli(ws, "verify", str(src), str(buyer), "--json", code=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", "400")
        remote = _cli(ws, "verify", str(src), str(buyer), "--json", "--executor", address, code=1)
    a, b = json.loads(local.stdout), json.loads(remote.stdout)
    assert a == b
    by = {t["name"]: t for t in a["tables"]}
    assert by["hkls"]["missing"] == [10001, 3000012]
    assert len(by["cust_info"]["changed"]) == 2 and len(by["hkjh"]["missing"]) == 1
    same = _cli(ws, "verify", str(src), str(src), "--json", "--executor", address)
    assert json.loads(same.stdout)["equal"] is True


# --- dd-extract -------------------------------------------------------------------------


def test_extract_is_the_local_extract(book: tuple[Path, Path], address: str) -> None:
    ws, src = book
    base = ws.parent
    _cli(ws, "scan", str(src))  # the inventory (a dd analyst may not scan)
    _cli(ws, "dd-extract", str(src), "--out", str(base / "dd-local"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", "400")
        _cli(ws, "dd-extract", str(src), "--out", str(base / "dd-dask"), "--executor", address)
    local, remote = base / "dd-local", base / "dd-dask"
    names = sorted(p.name for p in (local / "parquet").iterdir())
    assert names == sorted(p.name for p in (remote / "parquet").iterdir()) and names
    for n in names:
        assert pq.read_table(remote / "parquet" / n).equals(pq.read_table(local / "parquet" / n)), n
    ka = json.loads((local / "report" / "k-anonymity.json").read_text("utf-8"))
    kb = json.loads((remote / "report" / "k-anonymity.json").read_text("utf-8"))
    for doc in (ka, kb):
        doc.pop("seconds", None)
    assert kb == ka


# --- failures ---------------------------------------------------------------------------


class _KillOnce:
    """A progress sink that kills the worker busiest at the first finished shard."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.killed: int | None = None

    def phase(self, text: Msg) -> None:
        pass

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        pass

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        if self.killed is not None:
            return
        busy = self.client.processing()
        pids = self.client.run(os.getpid)
        addr = max(busy, key=lambda a: len(busy[a]))
        self.killed = int(pids[addr])
        os.kill(self.killed, signal.SIGKILL)


def test_a_worker_killed_during_seal(book: tuple[Path, Path], address: str) -> None:
    from handover.flows.seal import seal
    from handover.package.source import verify_package

    ws_path, src = book
    out = ws_path.parent / "pkg-killed"
    ws = _open(ws_path)
    try:
        with _executor(address, shard_rows=200) as ex:
            watch = _KillOnce(ex.client)
            seal(ws, src, out, executor=ex, progress=watch)
            assert watch.killed is not None
            ex.client.wait_for_workers(2, timeout=60)
        check = verify_package(ws, out)
    finally:
        ws.close()
    assert check.rows == sum(len(v) for v in _rows(src).values())
    assert not [p for p in (out / "tables").iterdir() if p.name.startswith(".")]
    _cli(ws_path, "unseal", str(out), "--to", str(out.with_suffix(".db")))
    assert _rows(out.with_suffix(".db")) == _rows(src)


def test_lost_scheduler_then_resume(book: tuple[Path, Path]) -> None:
    from handover.engine import EngineLost
    from handover.engine.models import EngineShard
    from handover.flows.seal import seal
    from handover.package.source import verify_package

    ws_path, src = book
    out = ws_path.parent / "pkg-resumed"
    first = Cluster()
    try:
        ws = _open(ws_path)
        try:
            with first.executor(300) as ex, pytest.raises(EngineLost) as lost:
                seal(ws, src, out, executor=ex, progress=KillScheduler(first, 3))
        finally:
            ws.close()
    finally:
        first.stop()
    line = str(lost.value)
    assert "\n" not in line and "--resume seal-" in line
    run = line.rsplit("--resume ", 1)[1].split()[0]
    assert not out.exists()
    ws = _open(ws_path)
    try:
        with ws.store.session() as s:
            kept = {r.task: r.result["file"] for r in s.query(EngineShard).filter_by(run_id=run)}
    finally:
        ws.close()
    assert len(kept) >= 3
    partial = next(ws_path.parent.glob(".pkg-resumed.partial-*"))
    stamps = {t: (partial / f).stat().st_mtime_ns for t, f in kept.items()}

    # the same command again, with --resume, on a new cluster: only the missing shards run
    second = Cluster()
    try:
        env = {"HANDOVER_SHARD_ROWS": "300"}
        second.executor(300).close()  # wait until it is up
        res = runner.invoke(
            app,
            ["-w", str(ws_path), "seal", str(src), "--out", str(out),
             "--executor", second.address, "--resume", run, "--json"],
            env=env,
        )  # fmt: skip
        assert res.exit_code == 0, res.output
    finally:
        second.stop()
    assert {t: (out / kept[t]).stat().st_mtime_ns for t in kept} == stamps
    ws = _open(ws_path)
    try:
        check = verify_package(ws, out)
    finally:
        ws.close()
    assert check.rows == sum(len(v) for v in _rows(src).values())
    again = _cli(ws_path, "seal", str(src), "--out", str(out) + "-x", "--resume", run, code=2)
    assert "--executor" in again.output


def test_unreachable_scheduler_is_one_line(
    book: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handover.engine import executor

    monkeypatch.setattr(executor, "CONNECT_SECONDS", 2.0)
    ws, src = book
    res = _cli(ws, "scan", str(src), "--executor", f"dask://127.0.0.1:{free_port()}", code=2)
    assert "Traceback" not in res.output
    assert [ln for ln in res.stderr.splitlines() if ln.strip()] == [
        ln for ln in res.stderr.splitlines() if "Dask scheduler" in ln
    ]
    bad = _cli(ws, "scan", str(src), "--executor", "spark://x", code=2)
    assert "spark://x" in bad.stderr


# --- a Parquet folder: shards are runs of row groups ---------------------------------------


@pytest.fixture(scope="module")
def parquet_folder(book: tuple[Path, Path]) -> Path:
    """Three tables of the book as Parquet files of 300-row row groups."""
    from handover.sources import open_source

    folder = book[0].parent / "parquet-book"
    folder.mkdir()
    with open_source(book[1]) as src:
        for name in ("cust_info", "hkls", "hkjh"):
            table = pa.Table.from_batches(list(src.batches(name)))
            pq.write_table(table, folder / f"{name}.parquet", row_group_size=300)
    return folder


def test_parquet_folder_on_the_cluster(
    book: tuple[Path, Path], parquet_folder: Path, address: str
) -> None:
    ws, _ = book
    base = ws.parent
    local = json.loads(_cli(ws, "scan", str(parquet_folder), "--full", "--json").stdout)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", str(SHARD_ROWS))
        remote = _cli(ws, "scan", str(parquet_folder), "--full", "--json", "--executor", address)
        assert json.loads(remote.stdout) == local
        _cli(ws, "seal", str(parquet_folder), "--out", str(base / "pq-dask"), "--executor", address)
    _cli(ws, "seal", str(parquet_folder), "--out", str(base / "pq-local"))
    manifest = json.loads((base / "pq-dask" / "manifest.json").read_text("utf-8"))
    hkls = next(t for t in manifest["tables"] if t["name"] == "hkls")
    # 300-row groups gathered into shards of at least 500 rows: 600 each, the rest last
    assert [s["rows"] for s in hkls["shards"][:-1]] == [600] * (len(hkls["shards"]) - 1)
    for pkg in ("pq-local", "pq-dask"):
        _cli(ws, "unseal", str(base / pkg), "--to", str(base / f"{pkg}.db"))
    assert _rows(base / "pq-dask.db") == _rows(base / "pq-local.db")


# --- a database server, and what travels to the workers ------------------------------------


@pytest.mark.parametrize("server", ["pg_url", "mariadb_url"])
def test_server_source_sealed_and_extracted_on_the_cluster(
    book: tuple[Path, Path], address: str, server: str, request: pytest.FixtureRequest
) -> None:
    """Key ranges of a PostgreSQL/MariaDB table: boundaries found by the server, each
    worker on its own connection; the package and the extract equal the local ones."""
    from handover.synth import synthesize

    url = str(request.getfixturevalue(server))
    ws, _ = book
    base = ws.parent / f"server-{server}"
    base.mkdir()
    synthesize(url, customers=120, seed=9, truth_path=str(base / "truth.json"))
    _cli(ws, "seal", url, "--out", str(base / "local"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", "150")
        _cli(ws, "seal", url, "--out", str(base / "dask"), "--executor", address)
        _cli(ws, "dd-extract", url, "--out", str(base / "dd-dask"), "--executor", address)
    _cli(ws, "dd-extract", url, "--out", str(base / "dd-local"))
    manifest = json.loads((base / "dask" / "manifest.json").read_text("utf-8"))
    assert any("shards" in t for t in manifest["tables"])
    for pkg in ("local", "dask"):
        _cli(ws, "unseal", str(base / pkg), "--to", str(base / f"{pkg}.db"))
    assert _rows(base / "dask.db") == _rows(base / "local.db")
    for p in sorted((base / "dd-local" / "parquet").iterdir()):
        assert pq.read_table(base / "dd-dask" / "parquet" / p.name).equals(pq.read_table(p))


def test_a_source_password_never_travels_in_clear(book: tuple[Path, Path]) -> None:
    import pickle

    from handover.engine.worker import source_ref
    from handover.ledger import Recorder

    ws_path, _ = book
    url = "postgresql://loan:s3cret-Pa55@10.0.0.5:5432/loanbook"
    ws = _open(ws_path)
    try:
        ref = source_ref(ws, url, "postgresql://loan:***@10.0.0.5:5432/loanbook", Recorder(ws, "t"))
        wire = pickle.dumps(ref)
        assert b"s3cret-Pa55" not in wire and "s3cret" not in repr(ref)
        assert ref.spec(ws) == url  # unwrapped by the workspace's key backend
        from handover.crypto import Keys

        with Keys(ws) as keys:
            assert keys.get(ref.key_id).purpose == "engine"
    finally:
        ws.close()


def test_executor_settings(tmp_path: Path) -> None:
    from handover.engine import LocalExecutor, open_executor
    from handover.errors import BadInput
    from handover.settings import load_settings

    (tmp_path / "handover.toml").write_text('executor = "local"\nshard_rows = 4096\n')
    settings = load_settings(tmp_path)
    ex = open_executor(None, settings)
    assert isinstance(ex, LocalExecutor) and ex.shard_rows == 4096 and not ex.sharded
    with pytest.raises(BadInput, match="spark://x"):
        open_executor("spark://x", settings)


def test_whole_chunk_shards_keep_the_local_roots(
    book: tuple[Path, Path], address: str, tmp_path: Path
) -> None:
    """Shards of 16,384 rows (one row-digest chunk): every table root equals the local one."""
    from handover.package.rows import CHUNK_ROWS
    from handover.synth import synthesize

    ws, _ = book
    src = tmp_path / "bigger.db"
    synthesize(str(src), customers=2_400, seed=3)
    _cli(ws, "seal", str(src), "--out", str(tmp_path / "local"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", str(CHUNK_ROWS))
        _cli(ws, "seal", str(src), "--out", str(tmp_path / "dask"), "--executor", address)
    ml = json.loads((tmp_path / "local" / "manifest.json").read_text("utf-8"))
    mr = json.loads((tmp_path / "dask" / "manifest.json").read_text("utf-8"))
    assert any(len(t.get("shards") or []) > 1 for t in mr["tables"])
    assert [(t["name"], t["rows"], t["row_root"]) for t in mr["tables"]] == [
        (t["name"], t["rows"], t["row_root"]) for t in ml["tables"]
    ]


def test_a_kernel_error_on_a_worker_comes_back_whole(address: str, tmp_path: Path) -> None:
    """A BadInput raised on a worker reaches the coordinator with its catalogue message
    (rendered in the user's language there), and is not retried."""
    from handover.db.reflect import TableDef
    from handover.engine.seal import _ShardJob, seal_shard
    from handover.engine.shards import Shard
    from handover.engine.worker import SourceRef
    from handover.errors import BadInput

    gone = tmp_path / "no-workspace"
    ref = SourceRef(str(gone), "x.db", "engine-0", b"")
    job = _ShardJob(ref, TableDef("t", []), {"columns": []}, "tables/t.parquet", str(tmp_path),
                    {"other": "k"}, "aes", Shard("t", 0), "x.db", 0)  # fmt: skip
    with _executor(address) as ex, pytest.raises(BadInput) as err:
        list(ex.run(seal_shard, [job], ["handover-test-error-0"]))
    assert err.value.message is not None and err.value.message.key == "workspace.missing"
    assert str(gone) in err.value.render("zh-CN")


def test_an_empty_sheet_is_left_out_on_the_cluster_as_on_one_machine(
    book: tuple[Path, Path], address: str, tmp_path: Path
) -> None:
    """A workbook with an empty sheet: the cluster's seal leaves it out and names it in
    its result and manifest, and seals the other sheet exactly as one machine does (it
    refused the whole workbook before)."""
    from openpyxl import Workbook

    ws, _ = book
    wb = Workbook()
    sheet = wb.active
    sheet.title = "客户"
    sheet.append(["id", "姓名", "手机号"])
    for i in range(1, 1_201):
        sheet.append([i, f"客户{i}", f"138{i:08d}"])
    wb.create_sheet("空表")
    src = tmp_path / "withempty.xlsx"
    wb.save(src)
    local = json.loads(
        _cli(ws, "seal", str(src), "--out", str(tmp_path / "local"), "--json").stdout
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", str(SHARD_ROWS))
        res = _cli(
            ws, "seal", str(src), "--out", str(tmp_path / "dask"), "--executor", address, "--json"
        )
    done = json.loads(res.stdout)
    assert done["tables_without_columns"] == local["tables_without_columns"] == ["空表"]
    ml = json.loads((tmp_path / "local" / "manifest.json").read_text("utf-8"))
    mr = json.loads((tmp_path / "dask" / "manifest.json").read_text("utf-8"))
    assert mr["source"]["tables_without_columns"] == ["空表"]
    assert (
        [(t["name"], t["rows"], t["row_root"]) for t in mr["tables"]]
        == [(t["name"], t["rows"], t["row_root"]) for t in ml["tables"]]
        == [("客户", 1_200, ml["tables"][0]["row_root"])]
    )


def test_a_headerless_csv_is_read_as_one_on_the_cluster(
    book: tuple[Path, Path], address: str, tmp_path: Path
) -> None:
    """``--no-header`` travels to the workers: the cluster's scan and seal of a CSV without
    a header row equal one machine's, the first row a row (without the option the file is
    refused there as here)."""
    ws, _ = book
    src = tmp_path / "outfile.csv"
    src.write_text("".join(f"{i},客户{i},138{i:08d}\n" for i in range(1, 1_201)), encoding="utf-8")
    local_scan = json.loads(_cli(ws, "scan", str(src), "--full", "--no-header", "--json").stdout)
    local = json.loads(
        _cli(ws, "seal", str(src), "--out", str(tmp_path / "local"), "--no-header", "--json").stdout
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDOVER_SHARD_ROWS", str(SHARD_ROWS))
        _cli(ws, "scan", str(src), "--full", "--executor", address, code=2)
        remote_scan = _cli(
            ws, "scan", str(src), "--full", "--no-header", "--json", "--executor", address
        )
        assert json.loads(remote_scan.stdout) == local_scan
        remote = json.loads(
            _cli(
                ws,
                "seal",
                str(src),
                "--out",
                str(tmp_path / "dask"),
                "--no-header",
                "--executor",
                address,
                "--json",
            ).stdout
        )
    assert remote["rows"] == local["rows"] == 1_200
    ml = json.loads((tmp_path / "local" / "manifest.json").read_text("utf-8"))
    mr = json.loads((tmp_path / "dask" / "manifest.json").read_text("utf-8"))
    # a CSV file is one shard, read by a worker: one opened with a header would refuse it
    assert [(t["name"], t["rows"], t["row_root"]) for t in mr["tables"]] == [
        (t["name"], t["rows"], t["row_root"]) for t in ml["tables"]
    ]


def test_a_headerless_seal_resumes_only_as_headerless(
    book: tuple[Path, Path], tmp_path: Path
) -> None:
    """A cluster seal of headerless CSV files that lost its scheduler records how it read
    them: ``--resume`` without ``--no-header`` is refused (the columns would differ from
    the shards already sealed), with it the run completes and every first row is a row."""
    from handover.engine import EngineLost
    from handover.flows.seal import seal
    from handover.sources import FileReading

    ws_path, _ = book
    folder = tmp_path / "outfiles"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.csv").write_text(
            # no phone or ID number in the first row: read with a header, it is taken as one
            "".join(f"{i},客户{i},{i * 100}.00\n" for i in range(1, 401)),
            encoding="utf-8",
        )
    out = tmp_path / "pkg"
    first = Cluster()
    try:
        ws = _open(ws_path)
        try:
            with first.executor(300) as ex, pytest.raises(EngineLost) as lost:
                seal(
                    ws,
                    folder,
                    out,
                    executor=ex,
                    progress=KillScheduler(first, 1),
                    reading=FileReading(header=False),
                )
        finally:
            ws.close()
    finally:
        first.stop()
    run = str(lost.value).rsplit("--resume ", 1)[1].split()[0]
    second = Cluster()
    try:
        second.executor(300).close()  # wait until it is up
        args = ["seal", str(folder), "--out", str(out), "--executor", second.address]
        refused = _cli(ws_path, *args, "--resume", run, code=2)
        assert "--no-header" in refused.output and run in refused.output, refused.output
        done = json.loads(_cli(ws_path, *args, "--resume", run, "--no-header", "--json").stdout)
    finally:
        second.stop()
    assert done["rows"] == 800
