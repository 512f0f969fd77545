"""``handover verify``: authorise, compare row by row (:func:`handover.verify.compare`),
record ``verify.run`` (counts only, never key values)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from handover.claims import Claim, claiming, uses
from handover.db.url import located
from handover.engine import Executor, executor_for
from handover.errors import BadInput
from handover.governance import Decision, data_resource, require
from handover.ledger import Recorder, record
from handover.progress import Progress
from handover.verify import VerifyResult, compare
from handover.workspace import Workspace


def authorize_verify(
    ws: Workspace,
    tables: Sequence[str] | None = None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    """The decision a verification needs: ``verify`` on the tables (default every tier)
    in clear — differing rows are read in clear and their keys shown."""
    return require(
        ws, "verify", data_resource(tables, "clear"), actor=actor, now=now, authorized=authorized
    )


def verify_claims(source: str, target: str, **_: object) -> tuple[Claim, ...]:
    """What verifying ``source`` against ``target`` holds while it runs."""
    return uses((source, target))


@claiming("verify", verify_claims)
def verify(
    source: str,
    target: str,
    tables: Sequence[str] | None = None,
    *,
    ws: Workspace | None = None,
    progress: Progress | None = None,
    authorized: Decision | None = None,
    executor: str | Executor | None = None,
    resume: str | None = None,
) -> VerifyResult:
    """Compare ``source`` and ``target`` (see :func:`handover.verify.compare`). With ``ws``
    the run is first authorised (:func:`authorize_verify`; ``authorized``: a decision taken
    already, e.g. by the console before starting the job) and recorded in its ledger.
    ``executor``: where the comparison runs (a cluster needs ``ws``: its key backend
    wraps both URLs for the workers; it records each range's verdict in the store, and
    ``resume`` continues the run of that id whose scheduler was lost)."""
    decision = authorize_verify(ws, tables, authorized=authorized) if ws is not None else None
    where: str | None = None
    if ws is None:
        if executor is not None:
            raise BadInput.msg("engine.needs_workspace")
        result = compare(source, target, tables, progress=progress)
    else:
        from handover.db.url import mask
        from handover.engine.runs import recorded
        from handover.engine.verify import verify as engine_verify
        from handover.engine.worker import source_ref

        with executor_for(executor, ws.settings) as ex:
            if not ex.sharded:
                if resume is not None:
                    raise BadInput.msg("engine.resume_local", run=resume)
                result = engine_verify(source, target, tables, executor=ex, progress=progress)
            else:
                assert decision is not None
                events = Recorder(ws, decision.actor)
                shown = (mask(source), mask(target))
                refs = (
                    source_ref(ws, source, shown[0], events),
                    source_ref(ws, target, shown[1], events),
                )
                args = {"source": shown[0], "target": shown[1], "tables": tables or None}
                with recorded(
                    ws, "verify", ex, resume=resume, source=shown[0], target=shown[1], args=args
                ) as run:
                    result = engine_verify(
                        source, target, tables, executor=ex, refs=refs, progress=progress, run=run
                    )
                where = mask(ex.name)
    if ws is not None and decision is not None:
        record(
            ws,
            decision.actor,
            "verify.run",
            f"{result.source} → {result.target}",
            "migration verification",
            {
                **result.details,
                "located": located(source=source, target=target),
                **({"executor": where} if where else {}),
            },
        )
    return result
