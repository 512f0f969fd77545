"""Reading ahead in another process (``handover.migrate.ahead``): the same batches, keys,
rejects and fingerprints as the reading thread, errors brought back, no process left."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from handover.flows.migrate import migrate
from handover.migrate import MigrateOptions
from handover.migrate.ahead import ReadProcess
from handover.migrate.fingerprint import Fingerprint
from handover.migrate.reader import DatabaseSource
from migrate_data import TABLES, assert_same, build


def _opts(**kw: Any) -> MigrateOptions:
    return MigrateOptions(no_backup=True, reason="test", batch_size=97, **kw)


def test_process_reader_gives_the_threads_batches(tmp_path: Path) -> None:
    db = tmp_path / "seller.db"
    build(f"sqlite:///{db}", customers=120)
    src = DatabaseSource(str(db))
    ahead = ReadProcess(src.url)
    try:
        for d in src.schema():
            mine = [(b, Fingerprint().add(b.data)) for b in src.read(d, after=None, batch_size=50)]
            theirs = list(ahead.read(d, after=None, batch_size=50))
            assert len(mine) == len(theirs) > 0
            for (a, fa), (b, fb) in zip(mine, theirs, strict=True):
                assert a.data.equals(b.data) and a.keys == b.keys and a.last_key == b.last_key
                assert a.rejects == b.rejects and fa == fb
        # a read after a key, then one abandoned half-way: its process is stopped
        d = src.schema()[-1]
        first = next(iter(src.read(d, after=None, batch_size=40)))
        rest = list(ahead.read(d, after=first.last_key, batch_size=40))
        assert rest[0][0].keys != first.keys
        it = ahead.read(d, after=None, batch_size=10)
        next(it)
        proc = ahead.proc
        assert proc is not None
        it.close()  # type: ignore[attr-defined]
        assert ahead.proc is None and proc.poll() is not None
        # … and the next read starts another
        assert sum(b.data.num_rows for b, _f in ahead.read(d, after=None, batch_size=1000)) > 0
        # released at the end of a copy: the caller goes on, a thread waits for the child
        proc = ahead.proc
        assert proc is not None
        ahead.release()
        assert ahead.proc is None
        assert proc.wait(timeout=30) == 0  # it ended by itself, on the end of its input
    finally:
        ahead.close()
        src.close()


def test_an_error_in_the_reading_process_reaches_the_caller(tmp_path: Path) -> None:
    db = tmp_path / "seller.db"
    build(f"sqlite:///{db}", customers=20)
    src = DatabaseSource(str(db))
    defs = {d.name: d for d in src.schema()}
    con = sqlite3.connect(db)
    con.execute("DROP TABLE repayment")
    con.commit()
    con.close()
    ahead = ReadProcess(src.url)
    try:
        with pytest.raises(Exception, match="repayment"):
            list(ahead.read(defs["repayment"], after=None, batch_size=50))
        # the process goes on with the next table
        assert sum(
            b.data.num_rows for b, _f in ahead.read(defs["branch"], after=None, batch_size=5)
        )
    finally:
        ahead.close()
        src.close()
    assert ahead.proc is None


def test_migrate_with_the_process_reader(workspace: Any, tmp_path: Path, pg_url: str) -> None:
    db = tmp_path / "seller.db"
    counts = build(f"sqlite:///{db}", customers=150)
    res = migrate(workspace, str(db), pg_url, _opts(process_rows=1))
    assert res.status == "done" and res.rows == sum(counts.values())
    assert {t.name: t.rows for t in res.tables} == counts
    assert_same(f"sqlite:///{db}", pg_url, TABLES)


def test_rejects_through_the_process_reader(workspace: Any, tmp_path: Path, pg_url: str) -> None:
    """Read-stage and write-stage rejects are the same as with the reading thread."""
    db = tmp_path / "dirty.db"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE person (id INTEGER PRIMARY KEY, name VARCHAR(4), born DATE, income DECIMAL(10,2))"
    )
    rows = [(i, f"张{i % 10}", f"1990-01-{1 + i % 28:02d}", f"{i}.5") for i in range(1, 401)]
    rows[123] = (124, "欧阳娜娜张伟", "1990-01-01", "1.25")
    rows[250] = (251, "李四", "1990-02-30", "2.00")
    rows[300] = (301, "王五", "1990-03-01", "3.125")
    con.executemany("INSERT INTO person VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    res = migrate(workspace, str(db), pg_url, _opts(process_rows=1, allow_rejects=3))
    assert res.rows == 397 and res.rejects == 3
    assert res.reject_file is not None
    lines = [json.loads(x) for x in res.reject_file.read_text(encoding="utf-8").splitlines()]
    assert {(x["key"], x["column"], x["stage"]) for x in lines} == {
        ("124", "name", "write"),
        ("251", "born", "read"),
        ("301", "income", "read"),
    }


def test_what_the_reading_process_prints_stays_out_of_its_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library that prints to standard output in the child (Python's print, or a C
    library writing descriptor 1) cannot break the frames: they have the pipe to
    themselves and the rest goes to standard error."""
    db = tmp_path / "seller.db"
    build(f"sqlite:///{db}", customers=40)
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    (noisy / "sitecustomize.py").write_text(
        "import os\n"
        "from handover.migrate import reader\n"
        "_read = reader.DatabaseSource.read\n"
        "def read(self, *a, **k):\n"
        "    for batch in _read(self, *a, **k):\n"
        "        print('noise from print', flush=True)\n"
        "        os.write(1, b'noise from descriptor 1')\n"
        "        yield batch\n"
        "reader.DatabaseSource.read = read\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(noisy))
    src = DatabaseSource(str(db))
    ahead = ReadProcess(src.url)
    try:
        for d in src.schema():
            mine = [b.data for b in src.read(d, after=None, batch_size=30)]
            theirs = [b.data for b, _f in ahead.read(d, after=None, batch_size=30)]
            assert len(mine) == len(theirs) > 0
            assert all(a.equals(b) for a, b in zip(mine, theirs, strict=True))
    finally:
        ahead.close()
        src.close()
