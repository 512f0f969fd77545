"""The record of a sharded run in the platform store: what it is, and each shard whose
result was accepted, committed as it arrives (a lost scheduler loses no finished shard)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handover.engine.executor import EngineLost
from handover.errors import BadInput

if TYPE_CHECKING:
    from handover.engine.executor import Executor
    from handover.workspace import Workspace

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class RunLog:
    """One run of ``kind`` in ``ws``'s store; ``done`` holds the accepted shard results."""

    ws: Workspace
    id: str
    kind: str
    options: dict[str, Any]
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    clock: Clock = _utcnow

    @classmethod
    def start(
        cls,
        ws: Workspace,
        kind: str,
        source: str,
        target: str,
        options: dict[str, Any],
        clock: Clock = _utcnow,
    ) -> RunLog:
        """Record a new run (``source``/``target`` masked; ``options`` without secrets)."""
        from handover.engine.models import EngineRun

        run_id = f"{kind}-{clock().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        with ws.store.session() as s:
            s.add(
                EngineRun(
                    id=run_id,
                    kind=kind,
                    source=source,
                    target=target,
                    status="running",
                    started_at=clock(),
                    finished_at=None,
                    options=options,
                )
            )
        return cls(ws, run_id, kind, options, clock=clock)

    @classmethod
    def resume(
        cls,
        ws: Workspace,
        kind: str,
        run_id: str,
        clock: Clock = _utcnow,
        args: dict[str, Any] | None = None,
    ) -> RunLog:
        """The unfinished run ``run_id`` of ``kind`` with its finished shards (BadInput
        naming it when there is no such run, it is finished, or — ``args`` given — it
        was started with other arguments; the run is left as it was then)."""
        from sqlalchemy import select

        from handover.engine.models import EngineRun, EngineShard

        with ws.store.session() as s:
            run = s.get(EngineRun, run_id)
            if run is None or run.kind != kind:
                raise BadInput.msg("engine.no_run", run=run_id, kind=kind)
            if run.status == "done":
                raise BadInput.msg("engine.run_done", run=run_id)
            if args is not None and dict(run.options).get("args") != args:
                raise BadInput.msg("engine.resume_args", run=run_id)
            run.status = "running"
            done = {
                r.task: dict(r.result)
                for r in s.scalars(select(EngineShard).where(EngineShard.run_id == run_id))
            }
            options = dict(run.options)
        return cls(ws, run_id, kind, options, done, clock)

    def accept(self, task: str, result: dict[str, Any]) -> bool:
        """Record ``task``'s result unless one was accepted already (then False)."""
        from handover.engine.models import EngineShard

        if task in self.done:
            return False
        with self.ws.store.session() as s:
            s.add(EngineShard(run_id=self.id, task=task, result=result, done_at=self.clock()))
        self.done[task] = result
        return True

    def forget(self, task: str) -> None:
        """Drop ``task``'s result (its output is gone; the shard runs again)."""
        from sqlalchemy import delete

        from handover.engine.models import EngineShard

        with self.ws.store.session() as s:
            s.execute(
                delete(EngineShard).where(EngineShard.run_id == self.id, EngineShard.task == task)
            )
        self.done.pop(task, None)

    def note(self, name: str, value: Any) -> None:
        """Keep ``value`` (JSON) under ``name`` in the run's options: how the coordinator
        cut the work, so that a resumed run cuts it the same way."""
        from handover.engine.models import EngineRun

        self.options = {**self.options, name: value}
        with self.ws.store.session() as s:
            run = s.get(EngineRun, self.id)
            if run is not None:
                run.options = dict(self.options)

    def finish(self, status: str) -> None:
        """Close the run as ``done`` or ``failed`` (a failed run can be resumed)."""
        from handover.engine.models import EngineRun

        with self.ws.store.session() as s:
            run = s.get(EngineRun, self.id)
            if run is not None:
                run.status = status
                run.finished_at = self.clock()


@contextmanager
def recorded(
    ws: Workspace,
    kind: str,
    executor: Executor,
    *,
    resume: str | None,
    source: str,
    target: str,
    args: dict[str, Any],
    clock: Clock = _utcnow,
) -> Iterator[RunLog]:
    """A run of ``kind`` on ``executor`` recorded in the store: a new one, or the
    unfinished run ``resume`` (refused in one line when its ``args`` differ from these).

    A lost cluster inside ends the run as ``failed`` and becomes one line naming the run
    and the ``--resume`` to give; any other failure ends it as ``aborted``; success as
    ``done``. ``args`` (JSON, masked, without secrets): what the run was asked."""
    args = json.loads(json.dumps(args))
    if resume is not None:
        run = RunLog.resume(ws, kind, resume, clock, args)
    else:
        run = RunLog.start(ws, kind, source, target, {"args": args}, clock)
    try:
        yield run
    except EngineLost:
        run.finish("failed")
        raise EngineLost.msg("engine.lost_resume", address=executor.name, run=run.id) from None
    except BaseException:
        run.finish("aborted")
        raise
    run.finish("done")


#: binds what a run keeps wrapped to this use
PRIVATE = b"engine-run-private"


def hide(ws: Workspace, key_id: str, value: Any) -> str:
    """``value`` (JSON) wrapped under the workspace's engine key ``key_id``, as a run
    records what may be personal data: the key values its tables are cut at, a scan
    shard's profiles (their examples and number ranges)."""
    from handover.crypto import Keys

    with Keys(ws) as keys:
        return keys.wrap(key_id, json.dumps(value).encode("utf-8"), PRIVATE).hex()


def reveal(ws: Workspace, key_id: str, blob: Any) -> Any:
    """What :func:`hide` wrapped (a value recorded in clear by an older run: as it is)."""
    from handover.crypto import Keys

    if not isinstance(blob, str):
        return blob
    with Keys(ws) as keys:
        clear = keys.unwrap(bytes.fromhex(blob), PRIVATE, key_id=key_id).material
    return json.loads(clear.decode("utf-8"))


#: the longest task name ``engine_shards.task`` holds
TASK_CHARS = 64


def shard_task(table: str, index: int) -> str:
    """The name a run records shard ``index`` of ``table`` under: ``table#index``, or the
    table's digest instead of its name when that would not fit the store's column (a
    64-character MariaDB table name and its shard number)."""
    name = f"{table}#{index}"
    if len(name) <= TASK_CHARS:
        return name
    from handover.crypto import sha256_hex

    return f"{sha256_hex(table.encode('utf-8'))[:40]}#{index}"


def pending(
    run: RunLog, tasks: list[str], valid: Callable[[str, dict[str, Any]], bool]
) -> list[int]:
    """The indexes of ``tasks`` still to run: not recorded in ``run``, or recorded with a
    result ``valid`` rejects (its output gone or changed: forgotten, run again)."""
    out = []
    for i, task in enumerate(tasks):
        done = run.done.get(task)
        if done is not None and valid(task, done):
            continue
        if done is not None:
            run.forget(task)
        out.append(i)
    return out
