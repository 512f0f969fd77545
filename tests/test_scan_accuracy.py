"""Column-level precision and recall of ``handover scan`` against the synthetic loan
book's truth.json, on every target the generator writes (SQLite, CSV UTF-8/GBK/GB18030
folder, XLSX folder, PostgreSQL, MariaDB)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handover.detect.scan import Inventory, scan_source
from handover.synth import synthesize

CUSTOMERS = 2_000
SEED = 11


def score(inv: Inventory, truth: dict[str, Any]) -> tuple[float, float, list[str]]:
    """(precision, recall) over (table, column, type) pairs of structured columns, and
    the list of problems (including free-text columns missing a type)."""
    tp = fp = fn = 0
    problems = []
    seen = set()
    for t in inv.tables:
        for c in t.columns:
            want = truth[t.name][c.name]
            seen.add((t.name, c.name))
            got = {p.type for p in c.pii}
            if isinstance(want, dict) and "free_text" in want:
                if not c.free_text or got != set(want["free_text"]):
                    problems.append(f"free text {t.name}.{c.name}: {sorted(got)} != {want}")
                continue
            w = set(want["mixed"]) if isinstance(want, dict) else ({want} if want else set())
            tp += len(w & got)
            fp += len(got - w)
            fn += len(w - got)
            if w != got:
                problems.append(f"{t.name}.{c.name}: want {sorted(w)} got {sorted(got)}")
    missing = {(tn, cn) for tn, cols in truth.items() for cn in cols} - seen
    assert not missing, f"columns not scanned: {sorted(missing)[:5]}"
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), problems


def check(spec: str, truth_path: Path) -> None:
    inv = scan_source(spec, sample=10_000, seed=1)
    truth = json.loads(truth_path.read_text("utf-8"))
    precision, recall, problems = score(inv, truth)
    assert precision >= 0.99 and recall >= 0.99, problems
    assert not [p for p in problems if p.startswith("free text")], problems


def test_sqlite(tmp_path: Path) -> None:
    res = synthesize(str(tmp_path / "book.db"), customers=CUSTOMERS, seed=SEED)
    check(str(tmp_path / "book.db"), Path(res.truth_path))
    # The same file through a SQLAlchemy URL takes the same fast path.
    check(f"sqlite:///{tmp_path / 'book.db'}", Path(res.truth_path))


def test_full_mode_agrees(tmp_path: Path) -> None:
    res = synthesize(str(tmp_path / "book.db"), customers=CUSTOMERS, seed=SEED)
    inv = scan_source(str(tmp_path / "book.db"), full=True, sample=500, seed=3)
    truth = json.loads(Path(res.truth_path).read_text("utf-8"))
    precision, recall, problems = score(inv, truth)
    assert precision >= 0.99 and recall >= 0.99, problems


def test_csv_folder_mixed_encodings(tmp_path: Path) -> None:
    res = synthesize(str(tmp_path / "csv"), customers=CUSTOMERS, seed=SEED, fmt="csv")
    assert {"gbk", "gb18030", "utf-8", "utf-8-sig"} <= set(res.encodings.values())
    check(str(tmp_path / "csv"), Path(res.truth_path))


def test_xlsx_folder(tmp_path: Path) -> None:
    res = synthesize(str(tmp_path / "xlsx"), customers=500, seed=SEED, fmt="xlsx")
    check(str(tmp_path / "xlsx"), Path(res.truth_path))


@pytest.mark.postgres
def test_postgresql(pg_url: str, tmp_path: Path) -> None:
    res = synthesize(pg_url, customers=CUSTOMERS, seed=SEED, truth_path=str(tmp_path / "t.json"))
    check(pg_url, Path(res.truth_path))


@pytest.mark.mariadb
def test_mariadb(mariadb_url: str, tmp_path: Path) -> None:
    res = synthesize(
        mariadb_url, customers=CUSTOMERS, seed=SEED, truth_path=str(tmp_path / "t.json")
    )
    check(mariadb_url, Path(res.truth_path))


def test_the_full_pass_profiles_two_batches_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The full pass profiles two batches at once (the first batch's profile can only end
    once the second's has begun) and merges them in row order: the profile is the one
    of the batches taken one after another, its examples those of the first batch."""
    import functools
    import threading

    import pyarrow as pa

    from handover.detect import scan
    from handover.detect.profile import ColumnProfile, Plan, profile_column

    batches = [
        pa.record_batch({"m": pa.array([f"1381234{i:04d}" for i in range(k * 100, k * 100 + 100)])})
        for k in range(6)
    ]
    todo = {"m": Plan(None)}
    expected = functools.reduce(
        ColumnProfile.merge,
        (profile_column(b.column("m"), todo["m"]) for b in batches),
        ColumnProfile(),
    )
    began = threading.Event()
    real = scan.profile_column

    def profile(array: Any, plan: Plan) -> ColumnProfile:
        if array[0].as_py() == "13812340100":
            began.set()
        elif array[0].as_py() == "13812340000":
            assert began.wait(timeout=30), "the second batch was not profiled beside the first"
        return real(array, plan)

    monkeypatch.setattr(scan, "profile_column", profile)
    got = scan.profile_rows(iter(batches), todo)
    assert got == {"m": expected}
    assert got["m"].valid == {"cn_mobile": 600} and got["m"].examples["cn_mobile"][0].endswith(
        "0000"
    )


def test_the_sample_profiles_two_columns_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sample's columns are profiled two at a time (the first column's profile can
    only end once the second's has begun); the inventory is the same."""
    import sqlite3
    import threading

    from handover.detect import scan

    db = tmp_path / "two.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (mobile TEXT, email TEXT)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?)", [(f"1381234{i:04d}", f"u{i}@example.cn") for i in range(300)]
    )
    con.commit()
    con.close()
    monkeypatch.setattr(scan, "PROFILE_THREADS", 1)  # one column after another
    before = scan_source(str(db)).to_json()
    monkeypatch.setattr(scan, "PROFILE_THREADS", 2)
    began = threading.Event()
    real = scan.profile_column

    def profile(array: Any, plan: Any) -> Any:
        if "@" in str(array[0].as_py()):
            began.set()
        else:
            assert began.wait(timeout=30), "email was not profiled beside mobile"
        return real(array, plan)

    monkeypatch.setattr(scan, "profile_column", profile)
    after = scan_source(str(db)).to_json()
    for inv in (before, after):
        inv.pop("seconds", None)
    assert after == before
    types = {c["name"]: c["primary"] for c in after["tables"][0]["columns"]}
    assert types == {"mobile": "cn_mobile", "email": "email"}


def test_a_stop_in_the_sample_drops_the_columns_not_begun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan stops while a wide table's sample is profiled (here its progress fails
    on its first report, as a Ctrl-C there would): the error is told at once, the
    columns not begun are dropped, not profiled first."""
    import sqlite3
    import threading
    import time

    from handover.detect import scan
    from handover.progress import NoProgress

    db = tmp_path / "wide.db"
    con = sqlite3.connect(db)
    cols = [f"c{i}" for i in range(scan.WIDE + 40)]
    con.execute(f"CREATE TABLE t ({', '.join(c + ' TEXT' for c in cols)})")
    con.executemany(
        f"INSERT INTO t VALUES ({', '.join('?' * len(cols))})",
        [tuple(f"v{r}" for _ in cols) for r in range(20)],
    )
    con.commit()
    con.close()
    profiled: list[int] = []
    lock = threading.Lock()
    real = scan.profile_column

    def profile(array: Any, plan: Any) -> Any:
        with lock:
            profiled.append(1)
        time.sleep(0.01)
        return real(array, plan)

    class Failing(NoProgress):
        def advance(self, name: str, rows: int, rejects: int = 0) -> None:
            if name.endswith(".*"):
                raise RuntimeError("progress failed")

    monkeypatch.setattr(scan, "profile_column", profile)
    with pytest.raises(RuntimeError, match="progress failed"):
        scan_source(str(db), progress=Failing())
    assert scan.WIDE_STEP <= len(profiled) < len(cols) // 2, len(profiled)
