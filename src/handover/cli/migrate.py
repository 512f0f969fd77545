"""``handover migrate``: parse, call :func:`handover.migrate.migrate`, render progress/result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from handover.cli.common import err_console, handled, lang_of, print_json, workspace_of

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import Task, TaskID
    from rich.text import Text


class _Live:
    """Rich progress bars: one per table, with rows, rows/s, ETA and refused rows."""

    def __init__(self, lang: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress
        from rich.text import Text

        from handover.i18n import t

        class Rate(ProgressColumn):
            def render(self, task: Task) -> Text:
                speed = task.speed
                return Text(t("cli.migrate.rate", lang, rate=speed) if speed else "", style="cyan")

        class Refused(ProgressColumn):
            def render(self, task: Task) -> Text:
                n = int(task.fields.get("rejects", 0))
                return Text(t("cli.migrate.rejected", lang, n=n) if n else "", style="red")

        self.bar: RichProgress = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            Rate(),
            TimeRemainingColumn(),
            Refused(),
            console=err_console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.lang = lang

    def phase(self, text: str) -> None:
        self.bar.console.print(f"[dim]{text}[/]")

    def table(self, name: str, total: int, done: int, rejects: int) -> None:
        self.tasks[name] = self.bar.add_task(
            name, total=max(total, 1), completed=done + rejects, rejects=rejects
        )

    def advance(self, name: str, rows: int, rejects: int) -> None:
        task = self.tasks[name]
        current = int(self.bar.tasks[self.bar.task_ids.index(task)].fields.get("rejects", 0))
        self.bar.update(task, advance=rows + rejects, rejects=current + rejects)


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
        "`--resume SOURCE TARGET` to give the URLs again (e.g. with passwords).",
    ),
    tables: str | None = typer.Option(None, help="Only these tables (comma-separated)."),
    batch_size: int = typer.Option(50_000, help="Rows per batch (one target transaction each)."),
    no_backup: bool = typer.Option(
        False, "--no-backup", help="Do not seal a backup of the source first (needs --reason)."
    ),
    reason: str | None = typer.Option(
        None, help="Why no backup is taken (recorded in the ledger)."
    ),
    allow_rejects: int = typer.Option(
        0, help="Succeed even if up to N rows are refused by the target (they are reported)."
    ),
    list_runs: bool = typer.Option(False, "--list", help="List recent runs and exit."),
    batch_pause_ms: int = typer.Option(0, hidden=True, help="Test hook: sleep after each batch."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """Copy a database into SQLite, PostgreSQL or MariaDB with checkpoints; resume after a crash."""
    from handover.migrate import MigrateOptions
    from handover.migrate import migrate as run_migrate
    from handover.migrate.migrate import last_runs

    lang = lang_of(ctx)
    run_id = None
    if resume and source is not None and target is None:
        run_id, source = source, None  # `--resume RUN`
    with handled(), workspace_of(ctx) as ws:
        if list_runs:
            runs = last_runs(ws)
            if json_out:
                print_json(runs)
            else:
                for r in runs:
                    typer.echo(f"{r['run_id']}  {r['status']:<9}  {r['source']} → {r['target']}")
            return
        opts = MigrateOptions(
            tables=[x.strip() for x in tables.split(",") if x.strip()] if tables else None,
            batch_size=batch_size,
            no_backup=no_backup,
            reason=reason,
            allow_rejects=allow_rejects,
            resume=resume,
            run_id=run_id,
            batch_pause=batch_pause_ms / 1000.0,
            lang=lang,
        )
        if json_out:
            result = run_migrate(ws, source, target, opts)
        else:
            live = _Live(lang)
            with live.bar:
                result = run_migrate(ws, source, target, opts, progress=live)
    if json_out:
        print_json(result.to_json())
    else:
        _render(result, lang)


def _render(result: Any, lang: str) -> None:
    from rich.table import Table

    from handover.cli.common import console
    from handover.i18n import t

    table = Table(show_header=True)
    for key in (
        "migrate.col.table",
        "migrate.col.rows",
        "migrate.col.rejects",
        "migrate.col.seconds",
    ):
        table.add_column(t(key, lang), justify="left" if key.endswith("table") else "right")
    for x in result.tables:
        table.add_row(x.name, f"{x.rows:,}", f"{x.rejects:,}", f"{x.seconds:.1f}")
    console.print(table)
    for note in result.notes:
        typer.echo(note)
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
