"""``handover verify``: parse, call :func:`handover.verify.verify`, render the verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from handover.cli.common import (
    console,
    executor_option,
    handled,
    json_option,
    lang_of,
    print_json,
    progress_of,
    progress_option,
    resume_option,
    split_list,
    tables_option,
    workspace_of,
)

if TYPE_CHECKING:
    from handover.verify import VerifyResult


def verify(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source: a SQLite file or a database URL."),
    target: str = typer.Argument(..., help="Target: a SQLite file or a database URL."),
    tables: list[str] = tables_option("Only these tables (default all)"),
    executor: str | None = executor_option(),
    resume: str | None = resume_option(),
    json_out: bool = json_option(),
    progress: str | None = progress_option(),
) -> None:
    """Compare SOURCE and TARGET row by row by primary key (exit 1 when anything differs)."""
    from handover.flows.verify import verify as run_verify

    lang = lang_of(ctx)
    with (
        handled(),
        workspace_of(ctx, data=True) as ws,
        progress_of(progress, json_out, lang) as prog,
    ):
        result = run_verify(
            source,
            target,
            split_list(tables),
            ws=ws,
            progress=prog,
            executor=executor,
            resume=resume,
        )
    if json_out:
        print_json(result.to_json(lang))
    else:
        _render(result, lang)
    if not result.equal:
        raise typer.Exit(1)


def _render(result: VerifyResult, lang: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from handover.i18n import t

    # names come from the data: plain text, never Rich markup
    title = t("verify.title", lang, source=result.source, target=result.target)
    table = Table(title=Text(title))
    for key in ("table", "source_rows", "target_rows", "missing", "extra", "changed", "equal"):
        table.add_column(
            t(f"verify.col.{key}", lang),
            justify="left" if key == "table" else "right",
            overflow="fold",
        )
    for r in result.tables:
        table.add_row(
            Text(r.name),
            f"{r.source_rows:,}",
            f"{r.target_rows:,}",
            f"{r.n_missing:,}",
            f"{r.n_extra:,}",
            f"{r.n_changed:,}",
            Text("✓", style="green") if r.equal else Text("✗", style="red"),
        )
    console.print(table)
    if result.normalisations:
        console.print(t("verify.normalisations", lang))
        for code in result.normalisations:
            console.print(f"  - {t(f'verify.norm.{code}', lang)}", markup=False)
    key = "verify.equal" if result.equal else "verify.different"
    n = len(result.tables) if result.equal else sum(not r.equal for r in result.tables)
    console.print(t(key, lang, tables=n, fetched=result.rows_fetched, seconds=result.seconds))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root ``handover`` app."""
    app.command("verify")(verify)
