"""``handover migrate``: authorise, take the sealed backup, copy with checkpoints and
resume (:class:`handover.migrate.CopyJob`), every run's events in the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from handover.db.connect import connect
from handover.db.url import mask
from handover.errors import BadInput, Refused
from handover.flows.seal import backup as seal_backup
from handover.flows.sources import open_migration_source
from handover.governance import Decision, data_resource, require
from handover.ledger import Recorder
from handover.migrate.migrate import (
    CopyJob,
    MigrateOptions,
    MigrateResult,
    find_run,
    target_url,
)
from handover.migrate.models import MigrateRun
from handover.migrate.reader import TARGET
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
    run_row = find_run(ws, opts.run_id, opts.lang, only)
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
    lang = opts.lang
    prog: Progress = progress or NoProgress()
    check_options(opts)
    run_row, source, target = _resumed(ws, source, target, opts)
    if not source or not target:
        raise BadInput.msg("migrate.needs_source_target")
    decision = _decide(ws, source, run_row, opts, authorized=authorized)
    events = Recorder(ws, decision.actor)
    url = target_url(target)
    src = open_migration_source(ws, source, opts.tables, target=url)
    try:
        defs = assign_names(src.schema())
        engine = connect(url, wording=TARGET, pool_size=2, max_overflow=2)
        try:
            job = CopyJob(ws, src, engine, defs, opts, prog, events)
            if run_row is not None:
                return job.resume(run_row)
            job.preflight()
            backup = None
            if not src.is_package and not opts.no_backup:
                # The backup is a sealed package of the source (``handover restore`` opens it).
                backup = seal_backup(
                    ws, source, name=f"backup-{job.run_id}", lang=lang, authorized=decision
                ).to_json()
            return job.start(backup)
        finally:
            engine.dispose()
    finally:
        src.close()
