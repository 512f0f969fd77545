"""``handover seal / unseal / backup / restore / dd-extract``: parse, call the library, render."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from handover.cli.common import (
    allow_bad_rows_option,
    echo_skipped,
    executor_option,
    file_reading,
    handled,
    json_option,
    lang_of,
    mysql_escapes_option,
    no_header_option,
    print_json,
    progress_of,
    progress_option,
    resume_option,
    split_list,
    tables_option,
    workspace_of,
)

if TYPE_CHECKING:
    from handover.package import SealResult


def seal(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., help="Source: database URL, SQLite file, CSV/XLSX/Parquet file or folder."
    ),
    out: Path = typer.Option(..., "--out", help="Package folder to create (must not exist)."),
    tables: list[str] = tables_option("Seal only these tables"),
    allow_bad_rows: int = allow_bad_rows_option(),
    no_header: bool = no_header_option(),
    mysql_escapes: str = mysql_escapes_option(),
    executor: str | None = executor_option(),
    resume: str | None = resume_option(),
    json_out: bool = json_option(),
    progress: str | None = progress_option(),
) -> None:
    """Seal a source into an encrypted, signed transfer package (Parquet + manifest)."""
    from handover.flows.seal import seal as do_seal

    lang = lang_of(ctx)
    with (
        handled(),
        workspace_of(ctx, data=True) as ws,
        progress_of(progress, json_out, lang) as prog,
    ):
        result = do_seal(
            ws,
            source,
            out,
            tables=split_list(tables),
            progress=prog,
            reading=file_reading(allow_bad_rows, no_header, mysql_escapes),
            executor=executor,
            resume=resume,
        )
    _render_sealed(result, json_out, lang)


def _render_sealed(result: SealResult, json_out: bool, lang: str) -> None:
    from handover.i18n import t

    if json_out:
        print_json(result.to_json())
        return
    typer.echo(
        t(
            "package.sealed",
            lang,
            tables=len(result.tables),
            rows=result.rows,
            path=result.package,
            mb=result.bytes / 1e6,
            seconds=result.seconds,
        )
    )
    echo_skipped(result.skipped, lang)
    if result.without_columns:  # an empty sheet: nothing to seal, named, not silent
        typer.echo(t("package.left_out", lang, tables=", ".join(result.without_columns)))


def unseal(
    ctx: typer.Context,
    package: Path = typer.Argument(..., help="Package folder (holding manifest.json)."),
    to: str | None = typer.Option(
        None, "--to", help="Target: PostgreSQL/MariaDB URL or SQLite file."
    ),
    check_only: bool = typer.Option(
        False, "--check-only", help="Only check the package (signature, hashes, row digests)."
    ),
    json_out: bool = json_option(),
    progress: str | None = progress_option(),
) -> None:
    """Check a package completely, then restore it into a database and check the result."""
    _open_package(ctx, package, to, check_only, json_out, progress, restore=False)


def backup(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="Source to back up: database URL or SQLite file."),
    name: str | None = typer.Option(
        None, "--name", help="Folder name under the workspace's packages/."
    ),
    json_out: bool = json_option(),
) -> None:
    """Seal a source as a backup package inside the workspace (the pre-migration backup)."""
    from handover.flows.seal import backup as do_backup

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx, data=True) as ws:
        result = do_backup(ws, source, name=name)
    _render_sealed(result, json_out, lang)


def restore(
    ctx: typer.Context,
    package: Path = typer.Argument(..., help="Backup package folder."),
    to: str = typer.Option(..., "--to", help="Target: PostgreSQL/MariaDB URL or SQLite file."),
    json_out: bool = json_option(),
    progress: str | None = progress_option(),
) -> None:
    """Restore a backup package into an empty database (checked like unseal)."""
    _open_package(ctx, package, to, False, json_out, progress, restore=True)


def _open_package(
    ctx: typer.Context,
    package: Path,
    to: str | None,
    check_only: bool,
    json_out: bool,
    progress: str | None,
    *,
    restore: bool,
) -> None:
    from handover.errors import BadInput
    from handover.flows.unseal import check_package
    from handover.flows.unseal import restore as do_restore
    from handover.flows.unseal import unseal as do_unseal
    from handover.i18n import t

    lang = lang_of(ctx)
    result: Any
    with handled(), workspace_of(ctx, data=True) as ws:
        if check_only:
            result = check_package(ws, package)
        elif not to:
            raise BadInput.msg("cli.unseal_target")
        else:
            step = do_restore if restore else do_unseal
            with progress_of(progress, json_out, lang) as prog:
                # one command per process: nothing else opens the target
                result = step(ws, package, to, progress=prog, own_process=True)
    if json_out:
        print_json(result.to_json())
    elif check_only:
        typer.echo(
            t("package.verified", lang, path=package, tables=len(result.tables), rows=result.rows)
        )
    else:
        typer.echo(
            t(
                "package.unsealed",
                lang,
                path=package,
                target=result.target,
                tables=len(result.tables),
                rows=result.rows,
            )
        )


def dd_extract(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., help="Source: database URL, SQLite file, CSV/XLSX/Parquet file or folder."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Folder to create for the extract (must not exist)."
    ),
    k: int = typer.Option(
        5, "--k", help="Every shipped table meets k over its quasi-identifiers (2 or more)."
    ),
    qi: str = typer.Option(
        "birth_date,gender,address", "--qi", help="Quasi-identifier PII types, comma-separated."
    ),
    max_suppression: float = typer.Option(
        5.0,
        "--max-suppression",
        help="Percent of a table's records that may be suppressed to reach k (0-100); "
        "a table needing more is refused.",
    ),
    l_diversity: str = typer.Option(
        "",
        "--l-diversity",
        help="COLUMN:L - every class must also hold L distinct values of COLUMN (e.g. ysr:3).",
    ),
    xlsx_limit: int = typer.Option(
        20_000, "--xlsx-limit", help="Write XLSX only for tables with at most this many rows."
    ),
    tables: list[str] = tables_option("Extract only these tables"),
    allow_bad_rows: int = allow_bad_rows_option(),
    no_header: bool = no_header_option(),
    mysql_escapes: str = mysql_escapes_option(),
    executor: str | None = executor_option(),
    resume: str | None = resume_option(),
    json_out: bool = json_option(),
    progress: str | None = progress_option(),
) -> None:
    """Write the buyer's de-identified due-diligence extract (Parquet + XLSX + k-anonymity report)."""
    from handover.deid import parse_l_diversity
    from handover.flows.extract import dd_extract as do_extract
    from handover.i18n import t

    lang = lang_of(ctx)
    types = tuple(x.strip() for x in qi.split(",") if x.strip())
    with (
        handled(),
        workspace_of(ctx, data=True) as ws,
        progress_of(progress, json_out, lang) as prog,
    ):
        result = do_extract(
            ws,
            source,
            out,
            k=k,
            quasi_identifiers=types,
            max_suppression=max_suppression / 100,
            l_diversity=parse_l_diversity(l_diversity) if l_diversity else None,
            xlsx_limit=xlsx_limit,
            tables=split_list(tables),
            lang=lang,
            reading=file_reading(allow_bad_rows, no_header, mysql_escapes),
            progress=prog,
            executor=executor,
            resume=resume,
        )
    if json_out:
        print_json(result.to_json())
    else:
        below = [x["name"] for x in result.refused]
        typer.echo(
            t(
                "deid.done",
                lang,
                path=result.out,
                tables=len(result.tables),
                rows=result.rows,
                key_id=result.token_key,
                k=k,
                below=", ".join(below) or "-",
            )
        )
        echo_skipped(result.skipped, lang)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root ``handover`` app."""
    app.command("seal")(seal)
    app.command("unseal")(unseal)
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("dd-extract")(dd_extract)
