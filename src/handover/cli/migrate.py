"""``handover migrate``: parse, call :func:`handover.migrate.migrate`, render progress/result."""

from __future__ import annotations

from typing import Any

import typer

from handover.cli.common import (
    handled,
    json_option,
    lang_of,
    print_json,
    progress_of,
    progress_option,
    split_list,
    tables_option,
    workspace_of,
)


def migrate(
    ctx: typer.Context,
    source: str | None = typer.Argument(
        None, help="Source: a database URL (postgresql://, mysql://, sqlite:///) or a SQLite file."
    ),
    target: str | None = typer.Argument(
        None, help="Target: a PostgreSQL or MariaDB URL, or a SQLite file (created)."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue an unfinished run: `--resume [RUN]` (default: the last one), or "
        "`--resume SOURCE TARGET` to give the URLs again (e.g. with passwords); "
        "`--resume RUN --allow-rejects N` keeps a run that failed on its rejects.",
    ),
    rollback: bool = typer.Option(
        False,
        "--rollback",
        help="Remove from the target what an unfinished or failed run created: "
        "`--rollback [RUN] [TARGET]` (TARGET again when its URL needs a password).",
    ),
    tables: list[str] = tables_option(),
    batch_size: int = typer.Option(50_000, help="Rows per batch (one target transaction each)."),
    no_backup: bool = typer.Option(
        False, "--no-backup", help="Do not seal a backup of the source first (needs --reason)."
    ),
    reason: str | None = typer.Option(
        None, help="Why no backup is taken (recorded in the ledger)."
    ),
    allow_rejects: int = typer.Option(
        0,
        help="Succeed even if up to N rows (0 or more) are refused by the target (they are "
        "reported).",
    ),
    list_runs: bool = typer.Option(False, "--list", help="List recent runs and exit."),
    batch_pause_ms: int = typer.Option(0, hidden=True, help="Test hook: sleep after each batch."),
    json_out: bool = json_option("Machine-readable summary."),
    progress: str | None = progress_option(),
) -> None:
    """Copy a database into SQLite, PostgreSQL or MariaDB with checkpoints; resume after a crash."""
    from handover.errors import BadInput
    from handover.flows.migrate import migrate as run_migrate
    from handover.flows.migrate import rollback as run_rollback
    from handover.i18n import t
    from handover.migrate import MigrateOptions
    from handover.migrate.runs import last_runs

    lang = lang_of(ctx)
    run_id = None
    if resume and source is not None and target is None:
        run_id, source = source, None  # `--resume RUN`
    with handled(), workspace_of(ctx, data=True) as ws:
        if rollback:
            if resume:
                raise BadInput.msg("migrate.resume_or_rollback")
            undone = run_rollback(ws, source, target)
            if json_out:
                print_json(undone.to_json())
            else:
                typer.echo(
                    t(
                        "migrate.rolled_back",
                        lang,
                        run=undone.run_id,
                        count=len(undone.dropped),
                        target=undone.target,
                    )
                )
            return
        if list_runs:
            runs = last_runs(ws)
            if json_out:
                print_json(runs)
            else:
                for r in runs:
                    typer.echo(f"{r['run_id']}  {r['status']:<9}  {r['source']} → {r['target']}")
            return
        opts = MigrateOptions(
            tables=split_list(tables),
            batch_size=batch_size,
            no_backup=no_backup,
            reason=reason,
            allow_rejects=allow_rejects,
            resume=resume,
            run_id=run_id,
            batch_pause=batch_pause_ms / 1000.0,
            own_process=True,  # one command per process: nothing else opens the target
        )
        with progress_of(progress, json_out, lang) as prog:
            result = run_migrate(ws, source, target, opts, progress=prog)
    if json_out:
        print_json(result.to_json())
    else:
        _render(result, lang)


def _render(result: Any, lang: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from handover.cli.common import console
    from handover.i18n import t

    table = Table(show_header=True)
    for key in (
        "migrate.col.table",
        "migrate.col.rows",
        "migrate.col.rejects",
        "migrate.col.seconds",
    ):
        table.add_column(
            t(key, lang), justify="left" if key.endswith("table") else "right", overflow="fold"
        )
    for x in result.tables:
        table.add_row(Text(x.name), f"{x.rows:,}", f"{x.rejects:,}", f"{x.seconds:.1f}")
    console.print(table)
    for note in result.notes:
        typer.echo(note.render(lang))
    if result.no_backup_reason:
        typer.echo(t("migrate.no_backup_note", lang, reason=result.no_backup_reason))
    typer.echo(
        t(
            "migrate.summary",
            lang,
            run=result.run_id,
            tables=len(result.tables),
            rows=result.rows,
            rejects=result.rejects,
            seconds=result.seconds,
            rate=result.rows_per_s,
        )
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root ``handover`` app."""
    app.command("migrate")(migrate)
