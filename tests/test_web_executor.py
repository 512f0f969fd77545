"""The console's jobs on a chosen executor, through the app client: the forms offer the
configured executors (local, the ``executor`` setting, the ``executors`` list); a scan,
a seal, a verification and a due-diligence extract started on a Dask cluster run there
and their job pages say so; an executor that is not configured, or configured but not
usable (a ``tls://`` address without its certificates), is a 4xx naming the field, and
no job starts."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from engine_support import local_cluster
from handover.web.app import create_app
from web_support import TestClock, api_token, build_scanned_workspace, copy_workspace, login

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with local_cluster() as c:
        yield "dask://" + str(c.scheduler_address).removeprefix("tcp://")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dt.datetime]:
    path = tmp_path_factory.mktemp("web-executor") / "ws"
    return path, build_scanned_workspace(path, customers=100)


@pytest.fixture
def console(
    template: tuple[Path, dt.datetime],
    cluster: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[TestClient, Path]]:
    src, ready = template
    path = copy_workspace(src, tmp_path / "ws")
    # the cluster, and a TLS scheduler whose certificates are not configured
    monkeypatch.setenv("HANDOVER_EXECUTORS", f'["{cluster}", "tls://127.0.0.1:9"]')
    clock = TestClock(ready + dt.timedelta(minutes=1))
    with TestClient(create_app(path, clock=clock), follow_redirects=False) as client:
        yield client, path


def _wait(client: TestClient, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    for _ in range(3000):  # a real thread does the work: a generous bound, not a timing
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["status"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running")


def _executor_on_page(client: TestClient, job_id: int) -> str:
    page = client.get(f"/jobs/{job_id}").text
    found = re.search(r'id="job-executor">(.*?)</dd>', page, re.S)
    assert found is not None, page[:500]
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_jobs_run_on_the_chosen_executor(console: tuple[TestClient, Path], cluster: str) -> None:
    client, path = console
    login(client, "zhaolei")
    token = api_token(client, "zhaolei")
    page = client.get("/jobs").text
    for form in ("scan", "seal", "verify", "extract"):
        select = re.search(rf'<select id="{form}-executor" name="executor">(.*?)</select>', page)
        assert select is not None, form
        assert re.findall(r'<option value="([^"]+)"', select.group(1)) == [
            "local",
            cluster,
            "tls://127.0.0.1:9",
        ]

    started = {
        "scan": client.post("/api/jobs/scan", json={"source": "seller.db", "executor": cluster},
                            headers=token),
        "seal": client.post("/api/jobs/seal", json={"source": "seller.db", "name": "pkg-dask",
                                                    "executor": cluster}, headers=token),
        "dd-extract": client.post("/api/jobs/dd-extract", json={
            "source": "seller.db", "name": "dd-dask", "executor": cluster}, headers=token),
    }  # fmt: skip
    for kind, r in started.items():
        assert r.status_code == 200, (kind, r.text)
        job = _wait(client, token, r.json()["id"])
        assert job["status"] == "done", (kind, job["error"])
        assert job["kind"] == kind and job["params"]["executor"] == cluster
        assert _executor_on_page(client, job["id"]) == cluster
    assert (path / "packages" / "pkg-dask" / "manifest.json").is_file()
    assert (path / "extracts" / "dd-dask" / "report" / "k-anonymity.json").is_file()

    # the form of the page, on the cluster; and the default (local) said as such
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    r = client.post(
        "/jobs/verify",
        data={"source": "seller.db", "target": "seller.db", "executor": cluster,
              "csrf_token": csrf.group(1)},
    )  # fmt: skip
    assert r.status_code == 303
    job = _wait(client, token, int(r.headers["location"].rsplit("/", 1)[1]))
    assert job["status"] == "done" and job["result"]["equal"] is True
    assert _executor_on_page(client, job["id"]) == cluster
    r = client.post("/api/jobs/scan", json={"source": "seller.db"}, headers=token)
    job = _wait(client, token, r.json()["id"])
    assert job["params"]["executor"] == "local"
    assert _executor_on_page(client, job["id"]) == "本机(本服务器)"

    # the ledger says where each ran (the flows record the executor)
    from handover.ledger import entries
    from handover.workspace import open_workspace

    ws = open_workspace(path)
    try:
        seals = [e for e in entries(ws, action="package.seal") if cluster in e.body.decode()]
    finally:
        ws.close()
    assert len(seals) == 1


def test_a_bad_executor_is_a_4xx_naming_the_field(console: tuple[TestClient, Path]) -> None:
    client, _ = console
    token = api_token(client, "zhaolei")
    before = client.get("/api/jobs", headers=token).json()
    for body, words in (
        ({"source": "seller.db", "executor": "dask://127.0.0.1:1"}, "不是已配置的执行器"),
        ({"source": "seller.db", "executor": "spark://x:1"}, "不是已配置的执行器"),
        ({"source": "seller.db", "executor": "tls://127.0.0.1:9"}, "executor_tls_ca"),
    ):
        r = client.post("/api/jobs/scan", json=body, headers=token)
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["message"].startswith("executor:") and "Traceback" not in r.text
        assert error["key"].startswith("web.jobs.") and words in r.text
    r = client.post(
        "/api/jobs/seal",
        json={"source": "seller.db", "name": "p", "executor": "dask://10.0.0.10:8786"},
        headers=token,
    )
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("executor:")
    assert client.get("/api/jobs", headers=token).json() == before
    # the page's form: 400 in the reader's language, naming the field
    login(client, "zhaolei")
    page = client.get("/jobs").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    r = client.post(
        "/jobs/scan",
        data={"source": "seller.db", "executor": "dask://127.0.0.1:1", "csrf_token": csrf.group(1)},
    )
    assert r.status_code == 400 and "executor" in r.text and "不是已配置的执行器" in r.text
