"""A job's event stream (``/jobs/{id}/events``) woken by the job's own progress writes.

The console's fallback read of the job row is set to an hour, so every event the stream
delivers while the job runs was delivered by the in-process notification: the test lets
the job take each step only once the previous step's events have arrived, and checks
their order and completeness (never how long anything took; a missing notification
shows as the stream's read timing out). A job of another process (its row written
without this process's notification) is followed by the fallback read alone.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handover.flows.workspace import init_workspace
from handover.i18n import Msg
from handover.web.app import create_app
from handover.web.wakeups import Wakeups
from web_support import Http, served_app

#: longer than the test could ever wait: only a notification delivers progress
NEVER = 3600.0
#: how long the test waits for an event before calling the stream stuck (a guard only)
GUARD = 60.0


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webevents") / "ws"
    init_workspace(path, demo=True).close()
    return path


def _read(http: Http, url: str, out: queue.Queue[tuple[str, Any]]) -> None:
    """Put each message of the stream at ``url`` on ``out`` as (event, JSON), then
    ("closed", None); a failure as ("error", its text)."""
    kind = "message"
    try:
        with http.client.stream("GET", url, timeout=GUARD) as stream:
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: "):
                    out.put((kind, json.loads(line[len("data: ") :])))
                    kind = "message"
        out.put(("closed", None))
    except Exception as exc:  # the guard: a stuck stream times out
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def _next(out: queue.Queue[tuple[str, Any]]) -> tuple[str, Any]:
    got = out.get(timeout=GUARD + 5)
    assert got[0] != "error", got
    return got


def _stream(http: Http, job: int) -> queue.Queue[tuple[str, Any]]:
    out: queue.Queue[tuple[str, Any]] = queue.Queue()
    threading.Thread(target=_read, args=(http, f"/jobs/{job}/events", out), daemon=True).start()
    return out


@pytest.fixture
def console(template: Path, tmp_path: Path) -> Iterator[tuple[Any, Http]]:
    import shutil

    path = tmp_path / "ws"
    shutil.copytree(template, path)
    app = create_app(path, events_fallback=NEVER)
    with served_app(app) as base:
        http = Http(base).login("zhaolei")
        try:
            yield app.state.console, http
        finally:
            http.close()


def test_progress_wakes_the_stream_of_a_job_of_this_process(console: tuple[Any, Http]) -> None:
    from handover.flows.scan import authorize_scan
    from handover.web.jobs import Plan, start

    con, http = console
    gates = [threading.Event() for _ in range(3)]

    def run(progress: Any) -> dict[str, Any]:
        progress.phase(Msg("dossier.phase.check"))
        gates[0].wait(GUARD)
        progress.task("customers", 3)
        gates[1].wait(GUARD)
        progress.advance("customers", 2)
        progress.phase(Msg("dossier.phase.seal"))  # writes the rows advanced so far too
        gates[2].wait(GUARD)
        progress.advance("customers", 1)  # written when the job ends (flush)
        return {"rows": 3}

    decision = authorize_scan(con.ws, actor="zhaolei")
    job = start(con, Plan("scan", decision, "test", {}, run, lang="zh-CN")).id
    out = _stream(http, job)
    try:
        kind, doc = _next(out)
        assert (kind, doc["event"], doc["text"]) == ("message", "phase", "检查清单重新评估")
        gates[0].set()
        kind, doc = _next(out)
        assert (doc["event"], doc["name"], doc["total"], doc["done"]) == ("task", "customers", 3, 0)
        gates[1].set()
        # The rows advanced and the new phase: one write or two, every one of them woken.
        got = [_next(out)[1] for _ in range(2)]
        assert sorted((d["event"], d.get("rows"), d.get("text")) for d in got) == [
            ("advance", 2, None),
            ("phase", None, "生成文本、绑定账本并签名"),
        ]
        gates[2].set()
        kind, doc = _next(out)
        assert (kind, doc["event"], doc["rows"]) == ("message", "advance", 1)
        kind, doc = _next(out)
        assert kind == "end" and doc["status"] == "done" and doc["error"] is None
        assert _next(out) == ("closed", None)
    finally:
        for gate in gates:
            gate.set()


def test_a_job_of_another_process_is_followed_by_the_fallback_read(
    template: Path, tmp_path: Path
) -> None:
    """No notification reaches this console from another process: its streams read the
    row every ``events_fallback`` seconds (short here) and still see every change."""
    import datetime as dt
    import shutil

    from sqlalchemy import update

    from handover.web.models import WebJobRow

    path = tmp_path / "ws"
    shutil.copytree(template, path)
    app = create_app(path, events_fallback=0.05)
    con = app.state.console
    at = dt.datetime.now(dt.UTC)
    with con.ws.store.session() as s:  # as another console process would write it
        row = WebJobRow(
            kind="scan",
            actor="zhaolei",
            source="elsewhere",
            status="running",
            steps=0,
            current="",
            started_at=at,
            updated_at=at,
            result={},
            params={},
            progress={"phase": "外部进程", "tasks": []},
        )
        s.add(row)
        s.flush()
        job = row.id

    def write(**values: Any) -> None:
        with con.ws.store.session() as s:
            s.execute(update(WebJobRow).where(WebJobRow.id == job).values(**values))

    with served_app(app) as base:
        http = Http(base).login("zhaolei")
        try:
            out = _stream(http, job)
            assert _next(out)[1] == {"event": "phase", "t": 0.0, "text": "外部进程"}
            task = {"name": "loans", "total": 5, "done": 5, "rejects": 0}
            write(progress={"phase": "外部进程", "tasks": [task]}, steps=1)
            doc = _next(out)[1]
            assert (doc["event"], doc["name"], doc["done"]) == ("task", "loans", 5)
            write(status="done", finished_at=at)
            kind, doc = _next(out)
            assert kind == "end" and doc["status"] == "done" and doc["steps"] == 1
        finally:
            http.close()


def test_a_notification_is_never_lost() -> None:
    """A write between the stream's read and its wait wakes the wait at once; a
    notification from another thread wakes a waiting loop; no notification: timeout."""

    async def main() -> None:
        w = Wakeups()
        seen = w.version(7)
        w.notify(7)  # between the read and the wait
        assert await w.wait(7, seen, NEVER) is True
        seen = w.version(7)
        threading.Thread(target=w.notify, args=(7,)).start()
        assert await w.wait(7, seen, NEVER) is True
        assert w.version(7) == seen + 1
        assert await w.wait(8, w.version(8), 0.01) is False
        w.notify(9)  # nobody waits: nothing breaks

    asyncio.run(main())
