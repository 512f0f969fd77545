"""``handover migrate``: authorise, take the sealed backup, copy with checkpoints and
resume (:class:`handover.migrate.CopyJob`), every run's events in the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from handover.claims import Claim, holding, uses
from handover.db.connect import connect
from handover.db.reflect import Catalog, check_sqlite_file
from handover.db.url import mask, sqlite_path
from handover.errors import BadInput, Refused
from handover.flows.sources import open_migration_source
from handover.governance import Decision, data_resource, require
from handover.ledger import Recorder
from handover.migrate.migrate import CopyJob
from handover.migrate.models import MigrateRun
from handover.migrate.reader import TARGET
from handover.migrate.results import MigrateOptions, MigrateResult, RollbackResult
from handover.migrate.runs import (
    ALL_STATES,
    OPEN,
    UNFINISHED,
    accept,
    find_run,
    target_url,
)
from handover.migrate.runs import rollback as rollback_run
from handover.migrate.schema import assign_names
from handover.package.source import is_package
from handover.progress import NoProgress, Progress
from handover.workspace import Workspace


def _resumed(
    ws: Workspace, source: str | None, target: str | None, opts: MigrateOptions
) -> tuple[MigrateRun | None, str | None, str | None]:
    """The unfinished run ``opts`` resumes (None for a new run), and the source and target
    it copies between (given again, or the run's own); a resumed run keeps its tables."""
    if not opts.resume:
        return None, source, target
    only = mask(target_url(target)) if target else None
    # a failed run is resumed only to keep it with a larger --allow-rejects
    states = OPEN if opts.run_id or opts.allow_rejects > 0 else UNFINISHED
    run_row = find_run(ws, opts.run_id, only, states=states)
    if run_row.options.get("tables") and not opts.tables:
        opts.tables = list(run_row.options["tables"])
    return run_row, source or run_row.source, target or run_row.target


def _decide(
    ws: Workspace,
    source: str,
    run_row: MigrateRun | None,
    opts: MigrateOptions,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    # A new run with a backup seals the whole source first: decided for every tier.
    whole = run_row is None and not opts.no_backup and not is_package(source)
    resource = data_resource(None if whole else opts.tables, "clear")
    return require(ws, "migrate", resource, actor=actor, now=now, authorized=authorized)


def check_options(opts: MigrateOptions) -> None:
    """BadInput/Refused for options no run accepts (a batch below 1, no backup without a
    reason), before anything is opened."""
    if opts.batch_size < 1:
        raise BadInput.msg("migrate.bad_batch_size")
    if opts.allow_rejects < 0:
        raise BadInput.msg("migrate.bad_allow_rejects", value=opts.allow_rejects)
    if opts.no_backup and not (opts.reason and opts.reason.strip()):
        raise Refused.msg("migrate.no_backup_needs_reason")


def authorize_migrate(
    ws: Workspace,
    source: str | None,
    target: str | None,
    options: MigrateOptions,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """The decision :func:`migrate` would take for these arguments (``migrate`` in clear
    on the tables; every tier when a backup of the whole source is taken), after the
    same checks of the options and of the run to resume; for an adapter that decides
    before running the copy elsewhere (the console's background job)."""
    opts = replace(options)
    check_options(opts)
    run_row, source, target = _resumed(ws, source, target, opts)
    if not source or not target:
        raise BadInput.msg("migrate.needs_source_target")
    return _decide(ws, source, run_row, opts, actor=actor, now=now)


def migrate_claims(source: str, target: str, run_id: str | None = None) -> tuple[Claim, ...]:
    """What a migration of ``source`` into ``target`` holds while it runs; a resumed run
    also holds its run alone."""
    return uses((source,), (target,), (f"migrate-run:{run_id}",) if run_id else ())


def migrate(
    ws: Workspace,
    source: str | None,
    target: str | None,
    options: MigrateOptions | None = None,
    *,
    progress: Progress | None = None,
    authorized: Decision | None = None,
) -> MigrateResult:
    """Copy ``source`` into ``target`` (or resume a run); raises on refusal or failure.

    Authorised first as ``migrate`` in clear on the tables (every tier when a backup of
    the whole source is taken); the backup is a step of that decision, as this migration
    is of unseal's (``authorized``). Returns the result of a run whose tables all
    reconciled and whose rejects are within ``allow_rejects``; otherwise raises
    :class:`CheckFailed` after recording the outcome.
    """
    opts = options or MigrateOptions()
    prog: Progress = progress or NoProgress()
    check_options(opts)
    given = (source, target)
    run_row, source, target = _resumed(ws, *given, opts)
    if not source or not target:
        raise BadInput.msg("migrate.needs_source_target")
    with holding(
        ws.store, "migrate", migrate_claims(source, target, run_row.id if run_row else None)
    ):
        if run_row is not None:  # as it stands now that nothing else holds it (a rollback)
            run_row = _resumed(ws, *given, opts)[0]
        decision = _decide(ws, source, run_row, opts, authorized=authorized)
        events = Recorder(ws, decision.actor)
        if run_row is not None and run_row.status == "failed":
            return accept(ws, run_row, opts.allow_rejects, events)
        url = target_url(target)
        check_sqlite_file(url)  # a spreadsheet given as the target: refused, untouched
        new_file = _new_sqlite_file(url)
        src = open_migration_source(ws, source, opts.tables, target=url)
        try:
            defs = assign_names(src.schema())
            engine = connect(url, wording=TARGET, writes=True, pool_size=2, max_overflow=2)
            try:
                job = CopyJob(ws, src, engine, defs, opts, prog, events)
                if run_row is not None:
                    return job.resume(run_row)
                try:
                    job.preflight()
                except BadInput:
                    engine.dispose()
                    _remove_if_empty(new_file)  # connecting created it: leave no trace
                    raise
                job.new_file = new_file is not None
                backup = None
                if not src.is_package and not opts.no_backup:
                    # The backup is a sealed package of the source (``handover restore`` opens it).
                    # imported here: sealing pulls in the scanner, a run without backup never
                    from handover.flows.seal import backup as seal_backup

                    backup = seal_backup(
                        ws, source, name=f"backup-{job.run_id}", authorized=decision
                    ).to_json()
                return job.start(backup)
            finally:
                engine.dispose()
        finally:
            src.close()


def rollback(
    ws: Workspace,
    run_id: str | None,
    target: str | None = None,
) -> RollbackResult:
    """Remove from the target what an unfinished or failed run created (``migrate
    --rollback [RUN] [TARGET]``; TARGET again when its URL needs a password), so that a
    fresh run can start. Authorised as ``migrate`` on the run's tables."""
    only = mask(target_url(target)) if target and not run_id else None
    # a named run in any state: a finished one is refused with the reason
    row = find_run(ws, run_id, only, states=OPEN if run_id is None else ALL_STATES)
    tables = row.options.get("tables")
    claims = uses(writes=(target or row.target,), alone=(f"migrate-run:{row.id}",))
    with holding(ws.store, "migrate.rollback", claims):
        # as it stands now that nothing else holds it (a resume may have run meanwhile)
        row = find_run(ws, row.id, None, states=OPEN if run_id is None else ALL_STATES)
        decision = require(ws, "migrate", data_resource(tables, "clear"))
        url = target_url(target or row.target)
        engine = connect(url, wording=TARGET)
        try:
            result = rollback_run(row, engine, Recorder(ws, decision.actor), ws.store)
            empty = not Catalog(engine).table_names()
        finally:
            engine.dispose()
        path = sqlite_path(url)
        if row.options.get("new_file") and empty and path is not None:
            for p in (path, *(path.with_name(path.name + x) for x in ("-wal", "-shm", "-journal"))):
                p.unlink(missing_ok=True)  # the run created the file: as it found it, none
            result.removed_file = str(path)
    return result


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file of ``url`` if it does not exist yet (connecting will create it)."""
    path = sqlite_path(url)
    return path if path is not None and not path.exists() else None


def _remove_if_empty(path: Path | None) -> None:
    """Remove a SQLite file a refused run created by connecting, if it holds nothing."""
    if path is not None and path.is_file() and path.stat().st_size == 0:
        path.unlink()
