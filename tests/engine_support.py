"""Helpers of the engine's tests: a Dask scheduler and worker as processes of their own
(so that a test can kill the scheduler), and a progress sink that does it mid-run."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from handover.cli.main import app
from handover.i18n import Msg

SRC = Path(__file__).resolve().parents[1] / "src"


runner = CliRunner()


def make_book(base: Path, customers: int) -> tuple[Path, Path]:
    """A demo workspace and a synthetic seller book of ``customers`` in ``base``."""
    from handover.synth import synthesize

    src = base / "seller.db"
    synthesize(str(src), customers=customers, seed=5)
    ws = base / "ws"
    assert runner.invoke(app, ["-w", str(ws), "init", "--demo"]).exit_code == 0
    return ws, src


def cli(ws: Path, *args: str, code: int = 0) -> Any:
    """``handover -w WS --lang en ARGS``, asserting its exit code."""
    res = runner.invoke(app, ["-w", str(ws), "--lang", "en", *args])
    assert res.exit_code == code, res.output
    return res


@contextmanager
def local_cluster(**kw: Any) -> Iterator[Any]:
    """The tests' ``LocalCluster``: two worker processes of one thread each on
    127.0.0.1 (``kw``: more options, e.g. TLS security)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        **kw,
    ) as c:
        yield c


def differing_copy(src: Path, buyer: Path) -> Path:
    """A copy of the book ``src`` at ``buyer`` with two rows of hkls and one of hkjh
    missing and two customers' names changed."""
    shutil.copy(src, buyer)
    con = sqlite3.connect(buyer)
    with con:
        con.execute('DELETE FROM hkls WHERE "流水号" IN (10001, 3000012)')
        con.execute("UPDATE cust_info SET khxm = khxm || '改' WHERE khbh IN (7, 250)")
        con.execute("DELETE FROM hkjh WHERE rowid = 900")
    con.close()
    return buyer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A ``dask scheduler`` and one ``dask worker``, as processes of their own."""

    def __init__(self) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), *sys.path])}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", str(self.port), "--dashboard-address", ":0"],
            **quiet,
        )  # fmt: skip
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{self.port}",
             "--nthreads", "1", "--nworkers", "1", "--no-dashboard"],
            **quiet,
        )  # fmt: skip

    @property
    def address(self) -> str:
        return f"dask://127.0.0.1:{self.port}"

    def executor(self, shard_rows: int) -> Any:
        from handover.engine import DaskExecutor

        deadline = time.monotonic() + 60
        while True:
            try:
                ex = DaskExecutor(self.address, shard_rows=shard_rows, connect_seconds=5)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        ex.client.wait_for_workers(1, timeout=60)
        return ex

    def stop(self) -> None:
        for p in (self.worker, self.scheduler):
            if p.poll() is None:
                p.kill()
            p.wait(10)


class KillScheduler:
    """A progress sink that kills the scheduler after ``after`` finished shards."""

    def __init__(self, cluster: Cluster, after: int) -> None:
        self.cluster, self.after, self.seen = cluster, after, 0

    def phase(self, text: Msg) -> None:
        pass

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        pass

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        self.seen += 1
        if self.seen == self.after:
            self.cluster.scheduler.kill()
            self.cluster.scheduler.wait(10)
