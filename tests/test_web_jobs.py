"""Long jobs from the console over real HTTP: the console is served by uvicorn on
127.0.0.1 (a thread of this process, or a ``handover serve`` process that is killed),
spoken to with real cookies and the CSRF token the pages carry.

- the transfer's jobs end to end as the data engineer: seal, migrate (with its backup),
  verify, then shred with a validator — each the CLI's flow with the person's decision,
  its progress and outcome on the job page, its ledger events as the person's;
- a person whose role may not run a job gets 403 and an ``access.refuse`` event, and no
  job starts; a bad form field gets 4xx naming the field and nothing changes;
- a migration whose console is killed (SIGKILL) mid-copy is ``interrupted`` when the
  console starts again and is resumed from its page: the same run continues and the
  target then equals the source (checked by a verify job).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import handover
from handover.workspace import open_workspace
from web_support import (
    PASSWORDS,
    Http,
    build_scanned_workspace,
    copy_workspace,
    free_port,
    job_field,
    ledger_events,
    served,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webjobs") / "ws"
    build_scanned_workspace(path)
    return path


@pytest.fixture
def console(template: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = copy_workspace(template, tmp_path / "ws")
    with served(path) as base:
        yield base, path


ledger = ledger_events


def job_count(http: Http) -> int:
    return len(re.findall(r'<tr><td><a href="/jobs/\d+">', http.get("/jobs").text))


def test_seal_migrate_verify_shred_as_the_cli_does(console: tuple[str, Path]) -> None:
    base, path = console
    http = Http(base).login("zhaolei")
    try:
        r = http.post("/jobs/seal", {"source": "seller.db", "name": "pkg-web", "tables": ""})
        assert r.status_code == 303
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "已完成", page
        assert "封装完成:传输包 pkg-web,15 张表,3,485 行" in job_field(page, "outcome")
        assert (path / "packages" / "pkg-web" / "manifest.json").is_file()
        # The seal's tasks (one per table, with its rows) came through the progress protocol.
        tasks = page.split('<table class="tasks">', 1)[1].split("</table>", 1)[0]
        rows = re.findall(r'<tr><td>([^<]+)</td><td class="num">([\d,]+)</td>', tasks)
        assert len(rows) == 15 and sum(int(n.replace(",", "")) for _, n in rows) == 3485

        r = http.post(
            "/jobs/migrate", {"source": "seller.db", "target": "buyer.db", "batch_size": "500"}
        )
        assert r.status_code == 303
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "已完成", page
        run = job_field(page, "run")
        assert re.fullmatch(r"m\d{8}T\d{6}-[0-9a-f]{6}", run)
        assert f"运行 {run},15 张表,3,485 行,被拒 0 行" in job_field(page, "outcome")

        r = http.post("/jobs/verify", {"source": "seller.db", "target": "buyer.db"})
        page = http.wait_job(r.headers["location"])
        assert "校验通过:15 张表完全一致(比对 3,485 行)" in job_field(page, "outcome"), page

        # Shred: I execute, an auditor validates; the verify above opens the gate.
        r = http.post(
            "/jobs/shred",
            {
                "source": "seller.db",
                "target": "buyer.db",
                "media": ["source"],
                "validated_by": "liuyang",
                "validator_password": PASSWORDS["liuyang"],
            },
        )
        assert r.status_code == 303, r.text[:500]
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "已完成", page
        assert "抽样" in job_field(page, "outcome") and "仍找到 0 个" in job_field(page, "outcome")
    finally:
        http.close()
    # Every step is the data engineer's in the ledger, as if run by the CLI.
    for action in ("package.seal", "migrate.done", "verify.run", "erase.done"):
        events = ledger(path, action)
        assert events and {e.actor for e in events} == {"zhaolei"}, action
    migrated = ledger(path, "migrate.start")[-1]
    assert migrated.subject == run and migrated.details["backup"]["purpose"] == "backup"
    cert = ledger(path, "erase.certificate")[-1]
    assert (Path(cert.details["folder"]) / "certificate.json").is_file()
    assert ledger(path, "erase.start")[-1].details["validated_by"] == "liuyang"


def test_a_refused_job_is_403_in_the_ledger_and_never_starts(console: tuple[str, Path]) -> None:
    base, path = console
    http = Http(base).login("chenjing")  # a due-diligence analyst: no seal, no migrate
    try:
        before = job_count(http)
        r = http.post("/jobs/seal", {"source": "seller.db", "name": "nope"})
        assert r.status_code == 403
        assert "chenjing 的角色(dd_analyst)不能执行 seal" in r.text
        r = http.post("/jobs/migrate", {"source": "seller.db", "target": "x.db"})
        assert r.status_code == 403
        # Shred executed by someone naming themselves as validator: dual control refuses.
        other = Http(base).login("zhaolei")
        r = other.post(
            "/jobs/shred", {"source": "seller.db", "media": ["source"], "validated_by": "zhaolei"}
        )
        other.close()
        assert r.status_code == 403
        # A wrong validator password: refused in the request, no job recorded or claimed
        # (it used to start a job that failed in the background)
        other = Http(base).login("zhaolei")
        r = other.post(
            "/jobs/shred",
            {
                "media": ["extracts"],
                "validated_by": "liuyang",
                "validator_password": "not-" + PASSWORDS["liuyang"],
            },
        )
        other.close()
        assert r.status_code == 400 and "liuyang" in r.text, r.text[-800:]
        assert job_count(http) == before
    finally:
        http.close()
    assert not ledger(path, "erase.start")
    assert not (path / "packages" / "nope").exists() and not (path / "x.db").exists()
    refused = [(e.actor, e.details["action"]) for e in ledger(path, "access.refuse")]
    assert ("chenjing", "seal") in refused and ("chenjing", "migrate") in refused


def test_bad_fields_are_4xx_naming_the_field_and_change_nothing(
    console: tuple[str, Path],
) -> None:
    base, path = console
    http = Http(base).login("zhaolei")
    try:
        before = job_count(http)
        size = len(ledger(path, "package.seal"))
        cases = [
            (
                "/jobs/migrate",
                {"source": "seller.db", "target": "b.db", "batch_size": "0"},
                400,
                "batch_size",
            ),
            (
                "/jobs/migrate",
                {"source": "seller.db", "target": "b.db", "batch_size": "x"},
                400,
                "batch_size",
            ),
            ("/jobs/seal", {"source": "../../etc/passwd", "name": "p1"}, 400, "source"),
            ("/jobs/seal", {"source": "seller.db", "name": "../p1"}, 400, "name"),
            ("/jobs/seal", {"source": "seller.db"}, 400, "name"),
            ("/jobs/verify", {"source": "seller.db", "target": "/etc/hostname"}, 400, "target"),
            ("/jobs/migrate", {"source": "seller.db", "target": "no/such/dir/b.db"}, 400, "target"),
            ("/jobs/scan", {"source": "no-such.db"}, 400, "source"),
            ("/jobs/1/resume", {}, 400, ""),
        ]
        for url, form, status, field in cases:
            r = http.post(url, form)
            assert r.status_code == status, (url, form, r.status_code)
            line = re.search(r'<p class="error"[^>]*>([^<]*)</p>', r.text)
            assert line is not None and field in line.group(1), (url, form, r.text[:300])
            assert "Traceback" not in r.text
        # Without the CSRF token: refused before anything is looked at.
        r = http.post("/jobs/seal", {"source": "seller.db", "name": "p2"}, csrf=False)
        assert r.status_code == 403
        assert job_count(http) == before
    finally:
        http.close()
    assert len(ledger(path, "package.seal")) == size
    assert not any((path / "packages").glob("p*"))
    assert not (path / "b.db").exists()


def test_jobs_reach_only_the_transfers_data_and_tell_the_truth(
    console: tuple[str, Path], tmp_path: Path
) -> None:
    """A job reads and writes only the transfer's data inside the workspace: a file
    outside named by a ``sqlite:///`` URL is refused like its path, and the workspace's
    own store (people, password hashes, grants, ledger), settings and keys are refused
    whatever the spelling; a password in a URL's query never shows; a refused person
    learns nothing of the files from a migrate form; a verify that finds differences
    ends "differences found", never "done"."""
    import sqlite3

    base, path = console
    outside = tmp_path / "private.db"
    con = sqlite3.connect(outside)
    con.execute("CREATE TABLE hr (id INTEGER PRIMARY KEY, mobile TEXT)")
    con.execute("INSERT INTO hr VALUES (1, '13800138000')")
    con.commit()
    con.close()
    tampered = path / "tampered.db"
    shutil.copyfile(path / "seller.db", tampered)
    con = sqlite3.connect(tampered)
    con.execute("DELETE FROM cust_info WHERE rowid IN (SELECT rowid FROM cust_info LIMIT 3)")
    con.commit()
    con.close()
    store = path / "handover.db"
    http = Http(base).login("zhaolei")
    try:
        before = job_count(http)
        cases = [
            ("/jobs/scan", {"source": f"sqlite:///{outside}"}, "source", "工作区"),
            ("/jobs/scan", {"source": "handover.db"}, "source", "自身的数据"),
            ("/jobs/scan", {"source": f"sqlite:///{store}"}, "source", "自身的数据"),
            ("/jobs/scan", {"source": "keys/registry.json"}, "source", "自身的数据"),
            ("/jobs/scan", {"source": "handover.toml"}, "source", "自身的数据"),
            (
                "/jobs/migrate",
                {"source": "seller.db", "target": "handover.db", "no_backup": "on", "reason": "x"},
                "target",
                "自身的数据",
            ),
            (
                "/jobs/migrate",
                {"source": "seller.db", "target": f"sqlite:///{tmp_path / 'written.db'}"},
                "target",
                "工作区",
            ),
        ]
        for url, form, field, says in cases:
            r = http.post(url, form)
            assert r.status_code == 400, (url, form, r.status_code, r.text[:300])
            line = re.search(r'<p class="error"[^>]*>([^<]*)</p>', r.text)
            assert line is not None and field in line.group(1) and says in line.group(1), (
                form,
                r.text[:400],
            )
        assert job_count(http) == before
        assert not (tmp_path / "written.db").exists()

        # a password given in the URL's query is masked wherever the job is shown
        r = http.post("/jobs/scan", {"source": "postgresql://u@127.0.0.1:1/db?password=SECRETPW2"})
        assert r.status_code == 303, r.text[:300]
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "失败"
        for shown in (page, http.get("/jobs").text):
            assert "SECRETPW2" not in shown and "password=***" in shown

        r = http.post("/jobs/verify", {"source": "seller.db", "target": "tampered.db"})
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "发现差异", page
        assert "校验发现差异" in job_field(page, "outcome")
        assert "发现差异" in http.get("/jobs").text
    finally:
        http.close()
    from handover.web.jobs import list_jobs

    ws = open_workspace(path)
    try:
        assert [j.status for j in list_jobs(ws)][:2] == ["differs", "failed"]
    finally:
        ws.close()

    # a person who may never migrate gets 403 whether the source exists or not
    http = Http(base).login("chenjing")
    try:
        for source in ("seller.db", "no-such.db", "handover.db"):
            r = http.post("/jobs/migrate", {"source": source, "target": "x.db"})
            assert r.status_code == 403, (source, r.status_code)
    finally:
        http.close()


def _serve_process(path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``handover serve`` in a process of its own (to be killed with SIGKILL)."""
    src = str(Path(handover.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    code = "import sys; from handover.cli.main import main; sys.argv[0] = 'handover'; main()"
    argv = [sys.executable, "-c", code, "-w", str(path), "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    import httpx2

    for _ in range(600):
        try:
            httpx2.get(f"http://127.0.0.1:{port}/login", timeout=1)
            return proc
        except httpx2.TransportError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"handover serve did not start: {log.read_text()[-2000:]}")


@pytest.mark.slow
def test_a_killed_migration_is_resumed_from_its_page(template: Path, tmp_path: Path) -> None:
    path = copy_workspace(template, tmp_path / "ws")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve_process(path, port, tmp_path / "serve-1.log")
    try:
        http = Http(base).login("zhaolei")
        # Small batches: the copy takes hundreds of commits, so it is still running when
        # the first rows show up on the page and the console is killed.
        r = http.post(
            "/jobs/migrate",
            {"source": "seller.db", "target": "buyer.db", "batch_size": "10"},
        )
        assert r.status_code == 303
        job = r.headers["location"]
        for _ in range(2000):
            doc = http.get(job, headers={"HX-Request": "true", "HX-Target": "job"}).text
            copied = [
                int(n.replace(",", ""))
                for n in re.findall(
                    r'<td class="num">([\d,]+)</td><td class="num">[\d,]+</td>', doc
                )
            ]
            if sum(copied) > 0:
                break
            assert 'class="job job-running"' in doc, "the migration ended before rows were seen"
            time.sleep(0.05)
        run = job_field(doc, "run")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        http.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 'class="job job-running"' in doc  # killed while copying, not after
    # The run is unfinished in the store, as a killed CLI migration's is.
    ws = open_workspace(path)
    try:
        from handover.migrate.runs import last_runs

        assert {r["run_id"]: r["status"] for r in last_runs(ws)}[run] == "running"
    finally:
        ws.close()

    proc = _serve_process(path, port, tmp_path / "serve-2.log")
    try:
        http = Http(base).login("zhaolei")
        page = http.get(job).text
        assert job_field(page, "status") == "已中断"
        assert 'action="' + job + '/resume"' in page  # offered on its page
        r = http.post(job + "/resume", {"source": "", "target": ""})
        assert r.status_code == 303, r.text[:500]
        resumed = http.wait_job(r.headers["location"])
        assert job_field(resumed, "status") == "已完成", resumed
        assert job_field(resumed, "run") == run  # the same run continued
        assert f"/jobs/{job.rsplit('/', 1)[1]}" in resumed  # it says which job it resumes
        # A finished job cannot be resumed again.
        assert http.post(job + "/resume", {}).status_code == 400
        r = http.post("/jobs/verify", {"source": "seller.db", "target": "buyer.db"})
        verdict = http.wait_job(r.headers["location"])
        assert "校验通过:15 张表完全一致(比对 3,485 行)" in job_field(verdict, "outcome")
        api = http.client.post(
            "/api/login", json={"name": "zhaolei", "password": "zhaolei-demo-2026"}
        )
        token = {"Authorization": f"Bearer {api.json()['token']}"}
        done = http.client.get(
            "/api/jobs/" + r.headers["location"].rsplit("/", 1)[1], headers=token
        )
        assert done.json()["result"]["equal"] is True
        http.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    resumed_events = ledger(path, "migrate.resume")
    assert [(e.actor, e.subject) for e in resumed_events] == [("zhaolei", run)]
    done_events = [e for e in ledger(path, "migrate.done") if e.subject == run]
    assert len(done_events) == 1 and json.dumps(done_events[0].details)


def test_jobs_through_the_api_and_in_english(console: tuple[str, Path]) -> None:
    import httpx2

    base, path = console
    with httpx2.Client(base_url=base, timeout=60) as api:

        def token(name: str) -> dict[str, str]:
            r = api.post("/api/login", json={"name": name, "password": f"{name}-demo-2026"})
            return {"Authorization": f"Bearer {r.json()['token']}", "Accept-Language": "en"}

        engineer, analyst = token("zhaolei"), token("chenjing")
        r = api.post("/api/jobs/seal", json={"source": "seller.db", "name": "x"}, headers=analyst)
        assert r.status_code == 403
        assert r.json()["error"]["key"] == "gov.refuse.role"
        r = api.post("/api/jobs/verify", json={"source": "seller.db"}, headers=engineer)
        assert r.status_code == 422 and "target" in r.json()["error"]["message"]
        r = api.post(
            "/api/jobs/seal", json={"source": "seller.db", "name": "api-pkg"}, headers=engineer
        )
        assert r.status_code == 200
        job = r.json()
        assert job["kind"] == "seal" and job["status"] == "running" and job["actor"] == "zhaolei"
        for _ in range(3000):
            job = api.get(f"/api/jobs/{job['id']}", headers=engineer).json()
            if job["status"] != "running":
                break
            time.sleep(0.05)
        assert job["status"] == "done" and job["result"]["rows"] == 3485
        assert len(job["tasks"]) == 15 and sum(t["done"] for t in job["tasks"]) == 3485
        assert job["params"]["package"] == "api-pkg" and job["resumable"] is False
        r = api.post(f"/api/jobs/{job['id']}/resume", json={}, headers=engineer)
        assert r.status_code == 400 and r.json()["error"]["key"] == "web.jobs.not_resumable"
    http = Http(base).login("zhaolei")
    r = http.get("/lang/en", params={"next": "/jobs"})
    page = http.get("/jobs").text
    assert "Seal a transfer package" in page and "Migrate a database" in page
    assert "Shred and certify" in page and "seal" in page
    http.close()
    assert (path / "packages" / "api-pkg" / "manifest.json").is_file()


def _sse(lines: Iterable[str]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The progress messages and the ``end`` event of a job's event stream."""
    import json

    events: list[dict[str, Any]] = []
    end = None
    kind = "message"
    for line in lines:
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: "):
            doc = json.loads(line[len("data: ") :])
            if kind == "end":
                end = doc
            else:
                events.append(doc)
            kind = "message"
    return events, end


def _rows(events: list[dict[str, Any]]) -> dict[str, int]:
    """Rows per task as the protocol's task and advance messages add them up."""
    rows: dict[str, int] = {}
    for e in events:
        if e["event"] == "task":
            rows[e["name"]] = int(e["done"])
        elif e["event"] == "advance":
            rows[e["name"]] += int(e["rows"])
    return rows


def test_job_progress_streams_as_server_sent_events(console: tuple[str, Path]) -> None:
    """A real HTTP client reads /jobs/{id}/events from the live console: the progress
    protocol's JSON objects (phase, task, advance) as they come, then ``end``; the rows
    they add up to are the job's own count."""
    base, _ = console
    http = Http(base).login("zhaolei")
    try:
        r = http.post("/jobs/seal", {"source": "seller.db", "name": "pkg-sse"})
        assert r.status_code == 303
        job = int(r.headers["location"].rsplit("/", 1)[1])
        with http.client.stream("GET", f"/jobs/{job}/events") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store"
            events, end = _sse(stream.iter_lines())
        assert end is not None and end["status"] == "done" and end["error"] is None
        assert {e["event"] for e in events} <= {"phase", "task", "advance"}
        assert all(e["t"] >= 0 for e in events)
        rows = _rows(events)
        assert len(rows) == 15 and sum(rows.values()) == 3485
        assert job_field(http.wait_job(f"/jobs/{job}"), "status") == "已完成"
        # A finished job's stream says where it stands at once, then ends.
        events, end = _sse(http.get(f"/jobs/{job}/events").text.splitlines())
        assert end is not None and end["status"] == "done"
        assert sum(_rows(events).values()) == 3485
        assert http.get("/jobs/999999/events").status_code == 400
    finally:
        http.close()


def test_a_headerless_csv_is_scanned_and_sealed_with_the_box_ticked(
    console: tuple[str, Path],
) -> None:
    """The scan, seal and extract forms carry the CLI's ``--no-header``: without the box a
    headerless export fails as the CLI does, naming the file and never a value; with it
    the first row is a row, the columns ``column_1`` …; the job's parameters and the API
    say so."""
    base, path = console
    rows = [(i, f"客户{i}", f"138{i:08d}") for i in range(1, 41)]
    (path / "outfile.csv").write_text(
        "".join(f"{i},{n},{m}\n" for i, n, m in rows), encoding="utf-8"
    )
    http = Http(base).login("zhaolei")
    try:
        page = http.get("/jobs").text
        for form in ("scan", "seal", "extract"):
            assert f'id="{form}-no-header" name="no_header" type="checkbox"' in page
        assert "无表头行" in page
        r = http.post("/jobs/scan", {"source": "outfile.csv"})
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "失败", page
        assert "outfile.csv" in page and "13800000001" not in page
        r = http.post("/jobs/scan", {"source": "outfile.csv", "no_header": "true"})
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "已完成", page
        r = http.post("/jobs/seal", {"source": "outfile.csv", "name": "nh", "no_header": "true"})
        page = http.wait_job(r.headers["location"])
        assert job_field(page, "status") == "已完成", page
        assert "1 张表,40 行" in job_field(page, "outcome"), job_field(page, "outcome")
    finally:
        http.close()
    manifest = json.loads((path / "packages" / "nh" / "manifest.json").read_text("utf-8"))
    (table,) = manifest["tables"]
    assert table["rows"] == 40
    assert [c["name"] for c in table["columns"]] == ["column_1", "column_2", "column_3"]
    import httpx2

    with httpx2.Client(base_url=base, timeout=60) as api:
        r = api.post("/api/login", json={"name": "zhaolei", "password": "zhaolei-demo-2026"})
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        r = api.post(
            "/api/jobs/scan", json={"source": "outfile.csv", "no_header": True}, headers=auth
        )
        assert r.status_code == 200 and r.json()["params"]["no_header"] is True
