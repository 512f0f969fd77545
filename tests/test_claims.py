"""What a running command holds lives in the workspace's store (``handover.claims``): a
console's jobs and CLI commands in other processes see each other's claims, a holder
whose process is gone holds nothing, and takers racing for one resource get it once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from handover import claims
from handover.claims import EVERYTHING, uses
from handover.errors import BadInput


def _holders(store: Any) -> list[str]:
    return sorted({c["who"] for c in claims.listing(store)})


def test_claims_exclude_each_other_only_where_one_side_is_alone(workspace: Any) -> None:
    store = workspace.store
    src = workspace.path / "seller.db"
    one, two = workspace.path / "packages" / "a", workspace.path / "packages" / "b"
    a, b = claims.new_holder(), claims.new_holder()
    try:
        sealing = claims.take(store, uses((src,), (one,)), "seal", "cli a", a)
        # another seal of the same source into another folder runs beside it
        beside = claims.take(store, uses((src,), (two,)), "seal", "cli b", b)
        claims.give(store, beside)
        # the same folder, or a shred of everything, is refused naming the holder
        with pytest.raises(BadInput, match=r"seal by cli a @ .* pid \d+ \(since "):
            claims.take(store, uses((src,), (one,)), "seal", "cli b", b)
        with pytest.raises(BadInput, match="seal by cli a"):
            claims.take(store, EVERYTHING, "shred", "cli b", b)
        assert {c["kind"] for c in claims.listing(store)} == {"seal"}  # refused: none held
        # a holder's own claims never refuse it, nor are they taken twice
        again = claims.take(store, uses((src,), (one,)), "seal", "cli a", a)
        assert again.ids == ()
        claims.give(store, sealing)
        shred = claims.take(store, EVERYTHING, "shred", "cli b", b)
        assert [c["kind"] for c in claims.listing(store)] == ["shred"]
        claims.give(store, shred)
        assert claims.listing(store) == []
    finally:
        claims.forget(a)
        claims.forget(b)


def test_a_place_is_one_claim_however_it_is_spelt(tmp_path: Path) -> None:
    spelt = [
        "postgresql://postgres@127.0.0.1/book",
        "postgresql+psycopg://u:pw@localhost:5432/book",
    ]
    assert uses(writes=(spelt[0],)) == uses(writes=(spelt[1],))
    assert uses(writes=(spelt[0],)) != uses(writes=("postgresql://127.0.0.1/other",))
    assert uses(writes=(tmp_path / "x.db",)) == uses(writes=(f"sqlite:///{tmp_path}/x.db",))
    assert all("pw" not in c.resource for c in uses(writes=(spelt[1],)))
    # this machine however a URL names it (helper-43: two migrations into one database)
    for host in ("127.0.0.2", "0.0.0.0", socket.gethostname(), "[::1]"):
        assert uses(writes=(f"postgresql://u@{host}/book",)) == uses(writes=(spelt[0],)), host
    # an unescaped @ in a password: no part of it in the claim, nor in the masked URL
    from handover.db.url import mask

    odd = "postgresql://postgres:my@pw@127.0.0.1/book"
    assert uses(writes=(odd,)) == uses(writes=(spelt[0],))
    assert mask(odd) == "postgresql://postgres:***@127.0.0.1/book"


def test_a_holder_whose_process_is_gone_holds_nothing(workspace: Any) -> None:
    """A command killed while it ran left its rows: the next taker removes them. One
    that still runs (here a sleeping process) refuses until it ends; a holder of this
    pid that this process does not know is a predecessor's (a restarted container)."""
    store = workspace.store
    host = socket.gethostname()
    me = claims.new_holder()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        claims.take(store, EVERYTHING, "shred", "cli", f"{host}:{proc.pid}:t0")
        with pytest.raises(BadInput, match="shred by cli"):
            claims.take(store, uses(), "scan", "cli", me)
    finally:
        proc.kill()
        proc.wait()
    held = claims.take(store, uses(), "scan", "cli", me)  # the dead holder's row is gone
    assert [c["kind"] for c in claims.listing(store)] == ["scan"]
    claims.give(store, held)
    claims.take(store, EVERYTHING, "shred", "cli", f"{host}:{os.getpid()}:before")
    claims.give(store, claims.take(store, uses(), "scan", "cli", me))
    assert claims.listing(store) == []
    claims.forget(me)


def test_a_killed_command_leaves_no_claim_that_stops_the_next(workspace: Any) -> None:
    """A real command in another process takes its claims through the store and dies
    without giving them back (SIGKILL): the next command runs."""
    code = (
        "import os, sys\n"
        "from handover import claims\n"
        "from handover.workspace import open_workspace\n"
        "ws = open_workspace(sys.argv[1])\n"
        "claims.take(ws.store, claims.EVERYTHING, 'shred', 'cli', claims.new_holder())\n"
        "os.kill(os.getpid(), 9)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(workspace.path)], timeout=120)
    assert done.returncode == -9
    rows = claims.listing(workspace.store)
    assert [(c["kind"], c["lives"]) for c in rows] == [("shred", False)]
    with claims.holding(workspace.store, "scan", uses()):
        assert [c["kind"] for c in claims.listing(workspace.store)] == ["scan"]
    assert claims.listing(workspace.store) == []


def test_a_holder_on_another_host_is_released_by_a_person(workspace: Any) -> None:
    """Nothing here tells whether a holder on another host lives: it holds until a
    person releases it (recorded in the ledger); a live local holder cannot be."""
    from handover.flows.claims import release_claims
    from handover.ledger import entries

    store = workspace.store
    claims.take(store, EVERYTHING, "shred", "console job 4", "elsewhere.example:77:t")
    refusal = pytest.raises(
        BadInput,
        match=r"console job 4 @ elsewhere\.example pid 77 .* another host.*"
        r"handover claims release \d+ --reason",
    )
    with refusal, claims.holding(store, "scan", uses()):
        pass
    (row,) = claims.listing(store)
    assert row["lives"] is None
    with pytest.raises(BadInput, match="reason"):
        release_claims(workspace, [row["id"]], " ")
    me = claims.new_holder()
    mine = claims.take(store, (claims.Claim("dossier", True),), "dossier", "cli", me)
    with pytest.raises(BadInput, match="still running on this host"):
        release_claims(workspace, [mine.ids[0], row["id"]], "gone")
    assert len(claims.listing(store)) == 2  # refused: nothing released
    claims.give(store, mine)
    claims.forget(me)
    # the other host's claim: released, and the release is in the ledger
    gone = release_claims(workspace, [row["id"]], "that console's machine was rebuilt")
    assert [g["kind"] for g in gone] == ["shred"]
    assert claims.listing(store) == []
    with claims.holding(store, "scan", uses()):  # and the next command runs
        pass
    (event,) = entries(workspace, action="claims.release")
    assert event.purpose == "that console's machine was rebuilt"
    assert event.details["claims"][0]["who"] == "console job 4 @ elsewhere.example pid 77"
    with pytest.raises(BadInput, match="no claim 999"):
        release_claims(workspace, [999], "gone")
    with pytest.raises(BadInput, match="no claim 99999999999999999999"):  # not even an id
        release_claims(workspace, [99999999999999999999], "gone")
    # ids are never used again: an id from an old listing names no newer claim
    me = claims.new_holder()
    again = claims.take(store, (claims.Claim("dossier", True),), "dossier", "cli", me)
    assert again.ids[0] > row["id"]
    claims.give(store, again)
    claims.forget(me)


def test_steps_of_a_command_hold_as_that_command(workspace: Any) -> None:
    """A seal's scan, or a console job's flow, holds as its command: never refused by
    what that command itself holds, and what it adds is given back when it ends."""
    store = workspace.store
    src = workspace.path / "seller.db"
    with claims.holding(store, "seal", uses((src,), ("out",))) as outer:
        with claims.holding(store, "scan", uses((src,), ("out",), ("dossier",))) as inner:
            assert inner.holder == outer.holder and len(inner.ids) == 1  # the dossier only
        assert not any(c["resource"] == "dossier" for c in claims.listing(store))
    assert claims.listing(store) == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_of_takers_racing_for_one_resource_exactly_one_gets_it(
    backend: str, workspace: Any, request: pytest.FixtureRequest
) -> None:
    """Eight holders take the same exclusive claim at once, on the SQLite store and on a
    PostgreSQL one: the queue row makes exactly one of them win."""
    from handover.store.store import open_store

    store = workspace.store
    if backend == "postgresql":
        store = open_store(request.getfixturevalue("pg_url"))
    holders = [claims.new_holder() for _ in range(8)]
    won: list[str] = []
    refused: list[str] = []
    start = threading.Barrier(len(holders))

    def race(h: str) -> None:
        start.wait()
        try:
            claims.take(store, EVERYTHING, "shred", "cli", h)
            won.append(h)
        except BadInput:
            refused.append(h)

    threads = [threading.Thread(target=race, args=(h,)) for h in holders]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert len(won) == 1 and len(refused) == 7
        assert [c["kind"] for c in claims.listing(store)] == ["shred"]
    finally:
        for h in holders:
            claims.forget(h)
        if backend == "postgresql":
            store.dispose()


def test_a_command_is_refused_while_another_process_holds_what_it_needs(
    workspace: Any, tmp_path: Path
) -> None:
    """The CLI beside a running shred (here held by another live process): a seal is
    refused with one line naming the shred, exit 2, and nothing changes."""
    import sqlite3

    from hardening_support import cli, refused, snapshot

    db = tmp_path / "book.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        holder = f"{socket.gethostname()}:{proc.pid}:job"
        claims.take(workspace.store, EVERYTHING, "shred", "console job 9", holder)
        before = snapshot(workspace.path)
        out = str(workspace.path / "packages" / "p")
        line = refused(workspace.path, 2, "seal", str(db), "--out", out)
        assert "shred by console job 9 @" in line and "is using what this needs" in line
        assert snapshot(workspace.path) == before
        line = refused(workspace.path, 2, "scan", str(db), lang="zh-CN")
        assert "正在使用本操作所需的数据或位置" in line
    finally:
        proc.kill()
        proc.wait()
    listed = cli(workspace.path, "claims", "--json")
    assert listed.code == 0
    (row,) = json.loads(listed.out)
    assert (row["kind"], row["lives"]) == ("shred", False)  # gone: the next command clears it
    shown = cli(workspace.path, "claims").out
    assert "shred" in shown and " gone" in shown and "console job 9" in shown


def test_a_pid_reused_by_another_process_holds_nothing(workspace: Any) -> None:
    """A holder names its process's start time: a live process that now has the pid of a
    dead holder (pids wrap; a restarted container counts from 1 again) is not it."""
    from handover.holders import _namespace, _start, lives

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host, ns, started = socket.gethostname(), _namespace(), _start(proc.pid)
        assert started is not None
        its = f"{host}:{proc.pid}:{ns}-{started}-t"
        before = f"{host}:{proc.pid}:{ns}-{started - 1}-t"  # that pid's earlier owner
        assert lives(its, lambda _h: False) is True
        assert lives(before, lambda _h: False) is False
        assert lives(f"{host}:{proc.pid}:{ns + 1}-{started}-t", lambda _h: False) is None
        claims.take(workspace.store, EVERYTHING, "shred", "cli", before)
        me = claims.new_holder()
        claims.give(workspace.store, claims.take(workspace.store, uses(), "scan", "cli", me))
        claims.forget(me)
        assert claims.listing(workspace.store) == []
    finally:
        proc.kill()
        proc.wait()


def test_a_store_that_lost_the_queue_row_gets_it_again(workspace: Any) -> None:
    from sqlalchemy import delete, select

    from handover.claims import WorkClaimLockRow

    with workspace.store.session() as s:
        s.execute(delete(WorkClaimLockRow))
    with claims.holding(workspace.store, "scan", uses()):
        pass
    with workspace.store.session() as s:
        assert s.scalars(select(WorkClaimLockRow.id)).all() == [1]


def test_a_restore_holds_its_package_and_target_from_the_check_on(
    workspace: Any, tmp_path: Path
) -> None:
    """Not only while its migration writes: a shred may not start between the package's
    check and the migration, nor a migration write the target during the read-back."""
    from handover.flows.unseal import unseal

    other = f"{socket.gethostname()}:1:0-0-init"  # pid 1 (init) lives
    claims.take(workspace.store, uses(writes=(tmp_path / "t.db",)), "migrate", "cli", other)
    with pytest.raises(BadInput, match="migrate by cli"):
        unseal(workspace, tmp_path / "no-package", f"sqlite:///{tmp_path / 't.db'}")
    assert not (tmp_path / "t.db").exists()


def _console(tmp_path: Path) -> Any:
    import datetime as dt

    from handover.web.app import create_app
    from web_support import TestClock, build_scanned_workspace

    ready = build_scanned_workspace(tmp_path / "ws", customers=20)
    return create_app(tmp_path / "ws", clock=TestClock(ready + dt.timedelta(minutes=1)))


def _plan(console: Any, run: Any, kind: str = "shred") -> Any:
    from handover.flows.scan import authorize_scan
    from handover.web import jobs

    decision = authorize_scan(console.ws, actor="zhaolei", now=console.now())
    return jobs.Plan(kind, decision, "x", {}, run, claims=EVERYTHING)


def _wait(console: Any, job_id: int) -> Any:
    import time

    from handover.web import jobs

    for _ in range(600):
        job = jobs.get_job(console.ws, job_id)
        if job.status != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the job did not end")


def test_a_console_job_that_fails_to_start_or_end_holds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever fails around a console job — recording it, its first reads, giving its
    claims back — it holds nothing afterwards and is not left running (helper-42)."""
    from handover.web import jobs

    app = _console(tmp_path)
    console = app.state.console
    store = console.ws.store
    real_record = jobs._record

    def broken(*_a: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "_record", broken)
    with pytest.raises(OSError):
        jobs.start(console, _plan(console, lambda _p: {}))
    assert claims.listing(store) == []
    monkeypatch.setattr(jobs, "_record", real_record)

    # the job's first reads fail: it ends failed, its claims given back
    import handover.ledger as ledger_pkg

    real_size = ledger_pkg.ledger_size
    monkeypatch.setattr(ledger_pkg, "ledger_size", broken)
    job = _wait(console, jobs.start(console, _plan(console, lambda _p: {})).id)
    assert job.status == "failed" and job.error is not None
    assert job.error.key == "web.jobs.internal_at"
    assert claims.listing(store) == []
    monkeypatch.setattr(ledger_pkg, "ledger_size", real_size)

    # giving the claims back fails: the job still ends, as done
    real_give = claims.give
    monkeypatch.setattr(claims, "give", broken)
    job = _wait(console, jobs.start(console, _plan(console, lambda _p: {})).id)
    monkeypatch.setattr(claims, "give", real_give)
    assert job.status == "done"
    (row,) = claims.listing(store)  # still there, but its holder is forgotten: stale
    assert row["lives"] is False
    job = _wait(console, jobs.start(console, _plan(console, lambda _p: {})).id)
    assert job.status == "done" and claims.listing(store) == []


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("en", "internal error: KeyError at handover/cli/claims.py:"),
        ("zh-CN", "内部错误:KeyError,位于 handover/cli/claims.py:"),
    ],
)
def test_an_internal_error_is_one_line_in_the_users_language(
    workspace: Any, lang: str, line: str
) -> None:
    """A bug ends the command with exit 70 and one line in the language the command was
    given (it was English only), naming handover's own frame and never a value."""
    code = (
        "import sys\n"
        "import handover.flows.claims as fc\n"
        "def broken(ws):\n"
        "    raise KeyError('410101199001011234')\n"
        "fc.held_claims = broken\n"
        "from handover.cli.main import main\n"
        "sys.argv = ['handover', *sys.argv[1:]]\n"
        "main()\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, "-w", str(workspace.path), "--lang", lang, "claims"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 70, res.stderr
    (got,) = res.stderr.strip().splitlines()
    assert got.startswith(line) and "410101" not in got


def test_a_killed_holder_not_yet_reaped_holds_nothing(workspace: Any) -> None:
    """A process killed but not yet waited for by its parent (a zombie) has ended."""
    from handover.holders import _namespace, _start, lives

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    h = f"{socket.gethostname()}:{proc.pid}:{_namespace()}-{_start(proc.pid)}-t"
    claims.take(workspace.store, EVERYTHING, "shred", "cli", h)
    proc.kill()
    try:
        import time

        for _ in range(200):  # until the kernel has made it a zombie
            if lives(h, lambda _h: False) is False:
                break
            time.sleep(0.01)
        assert lives(h, lambda _h: False) is False
        with claims.holding(workspace.store, "scan", uses()):
            pass
    finally:
        proc.wait()


def test_checking_a_package_or_destroying_a_key_waits_for_what_runs(
    workspace: Any, tmp_path: Path
) -> None:
    """``unseal --check-only`` holds its package (a shred had destroyed it under the check:
    helper-43), and destroying a key holds all the data alone (a running seal had lost
    its key)."""
    from handover.flows.keys import destroy_key
    from handover.flows.unseal import check_package

    live = f"{socket.gethostname()}:1:0-0-init"  # pid 1 (init) lives
    held = claims.take(workspace.store, EVERYTHING, "shred", "cli", live)
    with pytest.raises(BadInput, match="shred by cli"):
        check_package(workspace, tmp_path / "pkg")
    claims.give(workspace.store, held)
    held = claims.take(workspace.store, uses((tmp_path / "seller.db",)), "seal", "cli", live)
    with pytest.raises(BadInput, match="seal by cli"):
        destroy_key(workspace, "no-such-key", "test")
    claims.give(workspace.store, held)


def test_the_console_shows_what_is_held_and_by_whom(tmp_path: Path) -> None:
    """The jobs page and ``GET /api/claims`` show what running commands hold — a CLI
    command's too — and a job it excludes is refused naming it."""
    from starlette.testclient import TestClient

    from web_support import api_token, login

    app = _console(tmp_path)
    console = app.state.console
    live = f"{socket.gethostname()}:1:0-0-init"  # pid 1 (init) lives
    with TestClient(app, follow_redirects=False) as client:
        login(client, "zhaolei")
        token = api_token(client, "zhaolei")
        assert 'id="held"' not in client.get("/jobs").text
        held = claims.take(console.ws.store, EVERYTHING, "shred", "cli", live)
        page = client.get("/jobs").text
        assert 'id="held"' in page and "shred" in page and "cli @ " in page
        assert "独占" in page  # alone, in the person's language
        got = client.get("/api/claims", headers=token).json()
        assert [(c["kind"], c["exclusive"], c["state"]) for c in got] == [("shred", True, "lives")]
        r = client.post("/api/jobs/scan", json={"source": "seller.db"}, headers=token)
        assert r.status_code == 400 and r.json()["error"]["key"] == "claims.busy"
        claims.give(console.ws.store, held)
        assert 'id="held"' not in client.get("/jobs").text


def test_creating_a_campaign_reads_its_source_under_a_claim(workspace: Any) -> None:
    """``notices create`` reads the source to find the people: a shred may not destroy it
    meanwhile."""
    from handover.flows.notices import create_campaign

    live = f"{socket.gethostname()}:1:0-0-init"  # pid 1 (init) lives
    held = claims.take(workspace.store, EVERYTHING, "shred", "cli", live)
    with pytest.raises(BadInput, match="shred by cli"):
        create_campaign(workspace, workspace.path / "seller.db", name="x")
    claims.give(workspace.store, held)
