"""The record of a sharded run in the platform store: what it is, and each shard whose
result was accepted, committed as it arrives (a lost scheduler loses no finished shard)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput

if TYPE_CHECKING:
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
    def resume(cls, ws: Workspace, kind: str, run_id: str, clock: Clock = _utcnow) -> RunLog:
        """The unfinished run ``run_id`` of ``kind`` with its finished shards (BadInput
        naming it when there is no such run or it is finished)."""
        from sqlalchemy import select

        from handover.engine.models import EngineRun, EngineShard

        with ws.store.session() as s:
            run = s.get(EngineRun, run_id)
            if run is None or run.kind != kind:
                raise BadInput.msg("engine.no_run", run=run_id, kind=kind)
            if run.status == "done":
                raise BadInput.msg("engine.run_done", run=run_id)
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

    def finish(self, status: str) -> None:
        """Close the run as ``done`` or ``failed`` (a failed run can be resumed)."""
        from handover.engine.models import EngineRun

        with self.ws.store.session() as s:
            run = s.get(EngineRun, self.id)
            if run is not None:
                run.status = status
                run.finished_at = self.clock()
