"""Two runs at once in one process, as the console's jobs are (threads): each writer of a
file has its own temporary file, two scans of the same second keep their own reports,
and runs that need the workspace's engine or tokenisation key share one instead of
making one each. Found by the console's executor test, whose scan, seal and
due-diligence extract start together (the extract failed now and then under load)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from handover.crypto import Keys
from handover.crypto.files import atomic_write, replacing
from handover.detect.scan import Inventory
from handover.errors import BadInput, bug_site
from handover.flows.workspace import init_workspace
from handover.ledger import Recorder, entries
from handover.reports.inventory import write_inventory_reports
from handover.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = init_workspace(tmp_path / "ws", demo=True)
    yield w
    w.close()


def _at_once(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """``fn(i)`` in ``n`` threads released together; their results (or the first error)."""
    gate = threading.Barrier(n)
    out: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = fn(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return out


def test_each_writer_of_a_path_has_its_own_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    seen: list[Path] = []
    with replacing(path) as a, replacing(path) as b:
        seen += [a, b]
        a.write_text("first", encoding="utf-8")
        b.write_text("second", encoding="utf-8")
    assert seen[0] != seen[1]
    assert path.stat().st_mode & 0o777 == 0o600
    # b was left last: it replaced a's file, which had replaced nothing
    assert path.read_text(encoding="utf-8") == "first"
    with replacing(path, mode=0o644) as tmp:  # a file to publish (an announcement)
        tmp.write_text("public", encoding="utf-8")
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.txt"]

    payloads = [bytes([i]) * 200_000 for i in range(8)]
    _at_once(8, lambda i: atomic_write(path, payloads[i]))
    assert path.read_bytes() in payloads  # one writer's file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(ValueError), replacing(path) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise ValueError("the renderer failed")
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_two_scans_of_the_same_second_keep_their_own_reports(tmp_path: Path) -> None:
    at = dt.datetime(2026, 12, 5, 9, 30, 1, tzinfo=dt.UTC)
    scans = [Inventory("seller.db", "sqlite", "sample", 1000, i, started_at=at) for i in range(4)]
    paths = _at_once(4, lambda i: write_inventory_reports(scans[i], tmp_path))
    names = sorted(p.name for pair in paths for p in pair)
    assert names == sorted(
        f"inventory-20261205T093001{n}.{ext}"
        for n in ("", "-2", "-3", "-4")
        for ext in ("xlsx", "html")
    )
    assert all(p.stat().st_size > 0 for pair in paths for p in pair)
    english = write_inventory_reports(scans[0], tmp_path, "en")
    assert [p.name for p in english] == [
        "inventory-20261205T093001.en.xlsx",
        "inventory-20261205T093001.en.html",
    ]
    again = write_inventory_reports(scans[0], tmp_path, "en")
    assert again[0].name == "inventory-20261205T093001-2.en.xlsx"


@pytest.mark.parametrize("purpose", ["engine", "tokenize"])
def test_runs_starting_together_share_one_key(ws: Workspace, purpose: str) -> None:
    def first_use(i: int) -> str:
        with Keys(ws, events=Recorder(ws, f"os:job{i}")) as keys:
            return keys.newest_or_create(purpose)

    ids = _at_once(4, first_use)
    assert len(set(ids)) == 1
    with Keys(ws) as keys:
        made = [k.key_id for k in keys.list() if k.purpose == purpose]
    assert made == ids[:1]
    created = [e for e in entries(ws, action="key.create") if e.subject == ids[0]]
    assert len(created) == 1


def test_a_bug_is_placed_in_handover_code_without_its_message() -> None:
    try:
        Inventory("seller.db", "sqlite", "sample", 1, 1).counts()["no such count"]
    except KeyError as exc:
        where = bug_site(exc)
    # the innermost frame is this test's: not handover's code, so its file name
    assert where.startswith("test_concurrent_writers.py:")
    try:
        write_inventory_reports(None, Path("."))  # type: ignore[arg-type]
    except AttributeError as exc:
        where = bug_site(exc)
    assert where.startswith("handover/reports/inventory.py:"), where
    assert "None" not in where


def test_a_job_failing_on_a_bug_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A console job that fails on a bug names the place in handover's code (no value):
    its page and the API say ``KeyError at handover/…py:line``."""
    import time

    from starlette.testclient import TestClient

    import handover.flows.scan as flows_scan
    from handover.web.app import create_app
    from web_support import TestClock, api_token, build_scanned_workspace, login

    ready = build_scanned_workspace(tmp_path / "ws", customers=20)

    def broken(*args: Any, **kwargs: Any) -> Any:
        return {}["customer 张三 410101199001011234"]  # a bug whose message holds a value

    monkeypatch.setattr(flows_scan, "run_scan", broken)
    clock = TestClock(ready + dt.timedelta(minutes=1))
    with TestClient(create_app(tmp_path / "ws", clock=clock), follow_redirects=False) as client:
        login(client, "zhaolei")
        token = api_token(client, "zhaolei")
        job = client.post("/api/jobs/scan", json={"source": "seller.db"}, headers=token).json()
        for _ in range(600):
            job = client.get(f"/api/jobs/{job['id']}", headers=token).json()
            if job["status"] != "running":
                break
            time.sleep(0.05)
        assert job["status"] == "failed" and job["error_key"] == "web.jobs.internal_at"
        # the innermost frame of handover's own code: here the job calling the broken flow
        assert "KeyError at handover/web/jobs.py:" in job["error"], job["error"]
        assert "410101" not in job["error"] and "张三" not in job["error"]
        page = client.get(f"/jobs/{job['id']}").text
        assert "KeyError" in page and "handover/web/jobs.py:" in page
        assert "410101" not in page


def test_a_job_is_refused_while_a_running_job_holds_what_it_needs(tmp_path: Path) -> None:
    """The console's jobs claim what they use: while a shred (all the transfer's data,
    alone) runs, a scan is refused naming the running job, and starts once it has ended;
    two jobs reading one source run side by side, two writing one place do not."""
    import time

    from starlette.testclient import TestClient

    from handover.claims import EVERYTHING
    from handover.flows.scan import authorize_scan
    from handover.web import jobs
    from handover.web.app import create_app
    from web_support import TestClock, api_token, build_scanned_workspace, login

    ready = build_scanned_workspace(tmp_path / "ws", customers=20)
    clock = TestClock(ready + dt.timedelta(minutes=1))
    app = create_app(tmp_path / "ws", clock=clock)
    with TestClient(app, follow_redirects=False) as client:
        console = app.state.console
        login(client, "zhaolei")
        token = api_token(client, "zhaolei")
        gate = threading.Event()
        decision = authorize_scan(console.ws, actor="zhaolei", now=console.now())

        def hold(progress: Any) -> dict[str, Any]:
            gate.wait(timeout=120)
            return {}

        blocker = jobs.Plan("shred", decision, "x", {}, hold, claims=EVERYTHING)
        held = jobs.start(console, blocker)
        try:
            r = client.post("/api/jobs/scan", json={"source": "seller.db"}, headers=token)
            assert r.status_code == 400, r.text
            assert r.json()["error"]["key"] == "claims.busy"
            assert f"console job {held.id} @" in r.json()["error"]["message"]
            with pytest.raises(BadInput):  # a second shred too
                jobs.start(console, blocker)
        finally:
            gate.set()
        for _ in range(600):
            job = client.get(f"/api/jobs/{held.id}", headers=token).json()
            if job["status"] != "running":
                break
            time.sleep(0.05)
        assert job["status"] == "done"
        # released before its end shows: the next job starts at once
        r = client.post("/api/jobs/scan", json={"source": "seller.db"}, headers=token)
        assert r.status_code == 200, r.text


def test_a_folder_another_run_finished_first_is_a_one_line_refusal(tmp_path: Path) -> None:
    """Two seals (or extracts) of one name run at once outside the console: the second to
    finish finds the folder there and is refused as bad input naming it (it had been an
    OS error: "internal error … a bug"); the first one's folder is untouched."""
    from handover.crypto.files import place_folder

    out = tmp_path / "packages" / "pkg"
    out.mkdir(parents=True)
    (out / "manifest.json").write_text("first", encoding="utf-8")
    tmp = tmp_path / "packages" / ".pkg.partial-2"
    tmp.mkdir()
    (tmp / "manifest.json").write_text("second", encoding="utf-8")
    with pytest.raises(BadInput, match="already exists") as caught:
        place_folder(tmp, out, "package.exists")
    assert str(out) in str(caught.value)
    assert (out / "manifest.json").read_text(encoding="utf-8") == "first"
    afile = tmp_path / "packages" / "a-file"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(BadInput, match="already exists"):
        place_folder(tmp, afile, "package.exists")
    fresh = tmp_path / "packages" / "other"
    place_folder(tmp, fresh, "package.exists")
    assert (fresh / "manifest.json").read_text(encoding="utf-8") == "second" and not tmp.exists()


def test_a_second_console_leaves_the_first_ones_jobs_running(tmp_path: Path) -> None:
    """A console starting marks as interrupted only the jobs whose console process is
    gone: a second console on the same workspace had marked the first one's live jobs
    interrupted and resumable (helper-40)."""
    import socket
    import subprocess
    import sys

    from sqlalchemy import update

    from handover.flows.scan import authorize_scan
    from handover.web import jobs
    from handover.web.app import create_app
    from handover.web.models import WebJobRow
    from web_support import TestClock, build_scanned_workspace

    ready = build_scanned_workspace(tmp_path / "ws", customers=20)
    clock = TestClock(ready + dt.timedelta(minutes=1))
    first = create_app(tmp_path / "ws", clock=clock)
    console = first.state.console
    gate = threading.Event()
    decision = authorize_scan(console.ws, actor="zhaolei", now=console.now())

    def hold(progress: Any) -> dict[str, Any]:
        gate.wait(timeout=120)
        return {}

    live = jobs.start(console, jobs.Plan("scan", decision, "x", {}, hold))
    dead = jobs.start(console, jobs.Plan("scan", decision, "y", {}, hold))
    earlier = jobs.start(console, jobs.Plan("scan", decision, "z", {}, hold))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                           capture_output=True, text=True)  # fmt: skip
    gone = f"{socket.gethostname()}:{ended.stdout.strip()}"
    try:
        with console.ws.store.session() as s:  # as a console killed while it ran this job
            s.execute(
                update(WebJobRow)
                .where(WebJobRow.id == dead.id)
                .values(progress={"phase": "", "tasks": [], "console": gone})
            )
            # this pid, but an earlier process of it (a restarted container's console)
            s.execute(
                update(WebJobRow)
                .where(WebJobRow.id == earlier.id)
                .values(
                    progress={
                        "phase": "",
                        "tasks": [],
                        "console": f"{socket.gethostname()}:{os.getpid()}:00000000",
                    }
                )
            )
        create_app(tmp_path / "ws", clock=clock)  # the second console starts
        assert jobs.get_job(console.ws, live.id).status == "running"
        assert jobs.get_job(console.ws, dead.id).status == "interrupted"
        assert jobs.get_job(console.ws, earlier.id).status == "interrupted"
    finally:
        gate.set()


def test_two_migrations_into_one_target_at_once_never_mix(tmp_path: Path) -> None:
    """Two migrations of one book into one new target started together (two consoles,
    or the CLI beside one) both pass the preflight; the run that finds the other's run
    row after writing its own withdraws before creating anything, so at most one copies
    and the target is that copy, whole. (One had adopted the other's tables and failed,
    and its rollback then dropped the finished copy: helper-40.) The store's claims
    refuse the second before it starts (``tests/test_claims.py``); here both act as one
    holder, so the flow's own check is what is tested."""
    from handover import claims
    from handover.flows.migrate import migrate
    from handover.flows.verify import verify
    from handover.migrate.results import MigrateOptions
    from handover.synth import synthesize

    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        seller = tmp_path / "seller.db"
        synthesize(str(seller), customers=60, seed=5)
        target = tmp_path / "buyer.db"
        one = claims.new_holder()

        def run(i: int) -> Any:
            with claims.acting_as(one):
                opts = MigrateOptions(no_backup=True, reason="test", process_rows=None)
                return migrate(ws, str(seller), str(target), opts)

        outcomes = _at_once_settled(2, run)
        claims.forget(one)
        done = [r for r in outcomes if not isinstance(r, BaseException)]
        refused = [r for r in outcomes if isinstance(r, BaseException)]
        assert len(done) <= 1, outcomes
        for exc in refused:
            assert isinstance(exc, BadInput), repr(exc)
            assert "migration run" in str(exc) or "already has table" in str(exc), str(exc)
        if done:
            assert verify(str(seller), str(target), ws=ws).equal
        # a refused run is closed with nothing to drop: no --rollback or --resume of it
        # can touch the other run's copy
        from sqlalchemy import select

        from handover.migrate.models import MigrateRun

        with ws.store.session() as s:
            runs = {
                r.id: (r.status, (r.options or {}).get("creates"))
                for r in s.scalars(select(MigrateRun))
            }
        # (one refused by the preflight has no record at all)
        assert len(runs) <= 2 and sum(st == "done" for st, _c in runs.values()) == len(done)
        assert all(st == "done" or (st, c) == ("rolled_back", []) for st, c in runs.values()), runs
        if not done:  # both withdrew: the target as it was found
            import sqlite3

            con = sqlite3.connect(target)
            assert con.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone() == (0,)
            con.close()
    finally:
        ws.close()


def _at_once_settled(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """``fn(i)`` in ``n`` threads released together: each one's result or error."""
    gate = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = fn(i)
        except BaseException as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def test_a_resumed_migration_claims_the_places_its_run_recorded(tmp_path: Path) -> None:
    """Resuming a migration from its page gives no source or target again: the job claims
    the run's own, so a new migration into that target is refused meanwhile (it had
    claimed neither: helper-41)."""
    from handover import claims
    from handover.migrate.models import MigrateRun
    from handover.web import jobs
    from handover.web.app import create_app
    from web_support import TestClock, build_scanned_workspace

    ready = build_scanned_workspace(tmp_path / "ws", customers=20)
    app = create_app(tmp_path / "ws", clock=TestClock(ready + dt.timedelta(minutes=1)))
    console = app.state.console
    target = tmp_path / "ws" / "buyer.db"
    with console.ws.store.session() as s:
        s.add(
            MigrateRun(
                id="m20261205T090000-abcdef",
                source=str(tmp_path / "ws" / "seller.db"),
                target=str(target),
                status="failed",
                started_at=ready,
                options={"creates": []},
                summary={},
            )
        )
    form = jobs.MigrateForm(source="", target="")
    plan = jobs.plan_migrate(
        console, "zhaolei", form, "zh-CN", resume_run="m20261205T090000-abcdef"
    )
    assert claims.Claim("place:" + str(target.resolve()), True) in plan.claims
    fresh = jobs.plan_migrate(
        console, "zhaolei", jobs.MigrateForm(source="seller.db", target="buyer.db"), "zh-CN"
    )
    resumed, other = claims.new_holder(), claims.new_holder()
    try:
        held = claims.take(console.ws.store, plan.claims, "migrate", "console job 1", resumed)
        with pytest.raises(BadInput, match="migrate by console job 1"):
            claims.take(console.ws.store, fresh.claims, "migrate", "console job 2", other)
        claims.give(console.ws.store, held)
    finally:
        claims.forget(resumed)
        claims.forget(other)
