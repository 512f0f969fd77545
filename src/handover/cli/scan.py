"""``handover scan``: discover and classify personal information in a source."""

from __future__ import annotations

from pathlib import Path

import typer

from handover.cli.common import (
    allow_bad_rows_option,
    executor_option,
    file_reading,
    globals_of,
    handled,
    json_option,
    mysql_escapes_option,
    no_header_option,
    print_json,
    progress_of,
    progress_option,
    resume_option,
    workspace_of,
)


def scan(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., help="SQLAlchemy URL, SQLite file, CSV/XLSX/Parquet file, or a folder of them."
    ),
    full: bool = typer.Option(False, "--full", help="Read every row (default: a seeded sample)."),
    sample: int = typer.Option(10_000, "--sample", help="Rows sampled per table."),
    seed: int = typer.Option(2026, "--seed", help="Seed of the sample."),
    lang: str | None = typer.Option(None, "--lang", help="Report language: zh-CN (default) or en."),
    json_out: bool = json_option("Print the inventory as JSON."),
    out: Path | None = typer.Option(
        None, "--out", help="Report folder (default: workspace reports/)."
    ),
    progress: str | None = progress_option(),
    allow_bad_rows: int = allow_bad_rows_option(),
    no_header: bool = no_header_option(),
    mysql_escapes: str = mysql_escapes_option(),
    executor: str | None = executor_option(),
    resume: str | None = resume_option(),
) -> None:
    """Scan a source: classify every column (PII type, JR/T 0171 tier, JR/T 0197 level)."""
    from handover.flows.scan import run_scan
    from handover.i18n import normalize_lang, t
    from handover.reports.tables import out_folder

    g = globals_of(ctx)
    with handled():
        if out is not None:  # a folder the reports cannot go to: refused before the scan
            out_folder(out, create=False)
        language = normalize_lang(lang or g.lang) if (lang or g.lang) else None
        with workspace_of(ctx, data=True) as ws:
            language = language or ws.settings.lang
            with progress_of(progress, json_out, language) as prog:
                inv = run_scan(
                    ws,
                    source,
                    full=full,
                    sample=sample,
                    seed=seed,
                    lang=language,
                    out_dir=out,
                    progress=prog,
                    reading=file_reading(allow_bad_rows, no_header, mysql_escapes),
                    executor=executor,
                    resume=resume,
                )
    if json_out:
        print_json(inv.to_json())
        return
    from rich.table import Table
    from rich.text import Text

    from handover.cli.common import console

    c = inv.counts()
    # names come from the data: plain text, never Rich markup
    table = Table(title=Text(t("scan.title", language, source=inv.source)))
    for key in (
        "scan.col.table",
        "scan.col.column",
        "scan.col.pii",
        "scan.col.tier",
        "scan.col.level",
        "scan.col.confidence",
    ):
        table.add_column(t(key, language), overflow="fold")
    for tr in inv.tables:
        for col in tr.columns:
            if col.pii:
                table.add_row(
                    Text(tr.name),
                    Text(col.name),
                    ", ".join(p.type for p in col.pii),
                    col.tier or "",
                    str(col.level),
                    f"{col.confidence:.2f}",
                )
    console.print(table)
    typer.echo(
        t(
            "scan.done",
            language,
            tables=c["tables"],
            columns=c["columns"],
            pii=c["pii_columns"],
            sensitive=c["sensitive_columns"],
            seconds=inv.seconds,
        )
    )
    from handover.detect.messages import render

    for where, note in inv.screen_notes():
        typer.echo(
            "  " + t("detect.note.where", language, where=where, note=render(note, language))
        )
    for p in inv.reports:
        typer.echo(t("scan.report", language, path=p))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root ``handover`` app."""
    app.command("scan")(scan)
