"""Helpers every command shares: global options, JSON output, error → exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from handover.i18n import Msg
    from handover.progress import Progress
    from handover.sources import FileReading
    from handover.workspace import Workspace

#: no emoji codes and no markup: text from the data (table and column names, paths,
#: values, messages that name them) is printed as it is — ``mobile:x:`` is no emoji,
#: ``name[cn]`` or ``[/b]`` no markup; styles are given as ``rich.text.Text`` styles.
console = Console(emoji=False, markup=False)
err_console = Console(stderr=True, emoji=False, markup=False)


@dataclass
class Globals:
    """Options given before the command name."""

    workspace: Path | None = None
    lang: str | None = None


#: the options of the command being run (for error lines printed outside a context)
_active: list[tuple[Globals, Any]] = []


def globals_of(ctx: typer.Context) -> Globals:
    root = ctx.find_root()
    if not isinstance(root.obj, Globals):
        root.obj = Globals()
    _active[:] = [(root.obj, ctx)]
    return root.obj


def lang_of(ctx: typer.Context) -> str:
    g = globals_of(ctx)
    if g.lang:
        return g.lang
    from handover.settings import load_settings

    try:
        return load_settings(g.workspace).lang
    except Exception:
        return "zh-CN"


def _current_lang() -> str:
    return lang_of(_active[0][1]) if _active else "zh-CN"


def coded(prefix: str, code: str, lang: str) -> str:
    """The text of ``code`` (a status, a risk level …) under the catalogue's ``prefix`` in
    ``lang``, as the console shows it; the code itself where the catalogue has none.
    ``--json`` keeps the codes."""
    from handover.i18n import catalog, t

    key = f"{prefix}.{code}"
    return t(key, lang) if key in catalog() else code


def fail(message: str, code: int) -> None:
    """Print one line to stderr (prefixed in the user's language) and exit with ``code``."""
    from rich.text import Text

    from handover.i18n import t

    prefix = t("error.prefix", _current_lang())
    line = Text.assemble((f"{prefix}:", "bold red"), " ", message)
    err_console.print(line, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn library errors into one line on stderr and the contract's exit code."""
    from handover.errors import HandoverError
    from handover.i18n import UnsupportedLanguage

    try:
        yield
    except HandoverError as exc:
        fail(exc.render(_current_lang()), exc.exit_code)
    except UnsupportedLanguage as exc:  # a --lang of a command (scan, notices …)
        fail(exc.message.render(_current_lang()), 2)
    except KeyboardInterrupt:
        from handover.i18n import t

        fail(t("error.interrupted", _current_lang()), 130)


@contextmanager
def workspace_of(ctx: typer.Context, *, data: bool = False) -> Iterator[Workspace]:
    """Open the workspace named by the global options for one command (see
    :func:`handover.flows.workspace.opened`: it ends with a signed checkpoint; ``data``:
    a command on customer data, which needs a ledger that verifies)."""
    from handover.flows.workspace import opened

    g = globals_of(ctx)
    overrides: dict[str, Any] = {}
    if g.lang:
        overrides["lang"] = g.lang
    with opened(g.workspace, data=data, **overrides) as ws:
        yield ws


def ask_password(secret: Any, prompt: str, *, missing: str = "gov.password_missing") -> str:
    """The password from the settings (``secret``: a SecretStr from the environment),
    else the prompt; bad input (exit 2, message ``missing``) when there is neither (no
    terminal to ask at)."""
    import click

    from handover.errors import BadInput

    if secret is not None:
        return str(secret.get_secret_value())
    try:
        value: str = typer.prompt(prompt, hide_input=True, err=True)
    except (click.exceptions.Abort, typer.Abort):
        raise BadInput.msg(missing) from None
    return value


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON on stdout (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


Command = Callable[..., Any]


PROGRESS_MODES = ("bars", "json", "none")


def tables_option(what: str = "Only these tables") -> Any:
    """The ``--tables/-t`` option: one spelling for every command that takes a table filter."""
    return typer.Option([], "--tables", "-t", help=f"{what} (repeat or comma-separate).")


def json_option(what: str = "Machine-readable output.") -> Any:
    """The ``--json`` option of every command."""
    return typer.Option(False, "--json", help=what)


def allow_bad_rows_option() -> Any:
    """The ``--allow-bad-rows`` option of every command that reads CSV/XLSX files."""
    return typer.Option(
        0,
        "--allow-bad-rows",
        help="CSV/XLSX rows that cannot be read (wrong number of fields, a quote never "
        "closed, a value beyond the header) a table may lose; each one is reported with "
        "its row number. With more (default: any), nothing is read or changed.",
    )


def no_header_option() -> Any:
    """The ``--no-header`` option of every command that reads CSV files."""
    return typer.Option(
        False,
        "--no-header",
        help="The CSV files have no header row (e.g. MySQL SELECT … INTO OUTFILE): the "
        "first row is data, the columns are column_1, column_2 … (default: the first row "
        "is the header; it is never guessed).",
    )


def mysql_escapes_option() -> Any:
    """The ``--mysql-escapes`` option of every command that reads CSV files."""
    return typer.Option(
        "",
        "--mysql-escapes",
        metavar="LAYOUT",
        help="The CSV files use MySQL's backslash escapes, as SELECT … INTO OUTFILE and "
        "mysqldump --tab write them: \\N is NULL, \\\\ a backslash, a backslash before a "
        "delimiter, quote or line break keeps it in the value, and an empty field is an "
        "empty text, and .txt files (mysqldump --tab) are CSV files. LAYOUT: 'unenclosed' "
        "as MySQL writes by default (a quote is a character like any other), 'enclosed' "
        "when the export said [OPTIONALLY] ENCLOSED BY '\"'; 'unenclosed-crlf' or "
        "'enclosed-crlf' when it said LINES TERMINATED BY '\\r\\n' (default: RFC 4180 "
        "quoting, an empty field is NULL).",
    )


def file_reading(allow_bad_rows: int, no_header: bool, mysql_escapes: str) -> FileReading:
    """How the command's file tables are read, from its ``--allow-bad-rows``,
    ``--no-header`` and ``--mysql-escapes``."""
    from handover.sources import FileReading

    return FileReading(allow_bad_rows, header=not no_header, escapes=mysql_escapes)


def executor_option() -> Any:
    """The ``--executor`` option of the commands that run data kernels."""
    return typer.Option(
        None,
        "--executor",
        help="Where the data kernels run: local (this machine) or a Dask scheduler, "
        "tls://host:8786 (TLS, with the executor_tls_* settings) or dask://host:8786 "
        "(plain: this machine, or executor_allow_plain) (default: the executor setting, "
        "HANDOVER_EXECUTOR).",
    )


def resume_option() -> Any:
    """The ``--resume RUN`` option of the commands that run data kernels on a cluster."""
    return typer.Option(
        None,
        "--resume",
        help="Continue the cluster run RUN (named by the error of a run whose scheduler "
        "was lost), with the same arguments: only the shards not finished run again.",
    )


def echo_skipped(skipped: dict[str, list[int]], lang: str) -> None:
    """One line per table that lost rows as ``--allow-bad-rows`` allowed."""
    from handover.i18n import t
    from handover.sources.files import row_list

    for table, rows in skipped.items():
        typer.echo(t("cli.skipped_rows", lang, table=table, n=len(rows), rows=row_list(list(rows))))


def split_list(values: list[str]) -> list[str] | None:
    """Values of a repeatable, comma-separable option; None when none are given."""
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def progress_option() -> Any:
    """The ``--progress`` option of every long command."""
    return typer.Option(
        None,
        "--progress",
        help="bars (default), json (JSON lines on stderr, as the web console reads them) "
        "or none; with --json the default is none.",
    )


class RichBars:
    """Rich progress bars on stderr: one per task, with rows, rows/s, ETA and refused rows."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            Task,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress
        from rich.text import Text

        from handover.i18n import t

        class Rate(ProgressColumn):
            def render(self, task: Task) -> Text:
                speed = task.speed
                return Text(t("cli.progress.rate", lang, rate=speed) if speed else "", style="cyan")

        class Refused(ProgressColumn):
            def render(self, task: Task) -> Text:
                n = int(task.fields.get("rejects", 0))
                return Text(t("cli.progress.rejected", lang, n=n) if n else "", style="red")

        self.bar: RichProgress = RichProgress(
            TextColumn("{task.description}", markup=False),  # a table's name
            BarColumn(),
            MofNCompleteColumn(),
            Rate(),
            TimeRemainingColumn(),
            Refused(),
            console=err_console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def phase(self, text: Msg) -> None:
        from rich.text import Text

        self.bar.console.print(Text(text.render(self.lang), style="dim"))

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        self.tasks[name] = self.bar.add_task(
            name,
            total=max(total, 1) if total is not None else None,
            completed=done + rejects,
            rejects=rejects,
        )

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        task = self.tasks[name]
        current = int(self.bar.tasks[self.bar.task_ids.index(task)].fields.get("rejects", 0))
        self.bar.update(task, advance=rows + rejects, rejects=current + rejects)


@contextmanager
def progress_of(mode: str | None, json_out: bool, lang: str) -> Iterator[Progress]:
    """The renderer ``--progress`` names (BadInput for an unknown one): Rich bars, JSON lines
    on stderr, or nothing; default bars, or nothing with ``--json``."""
    from handover.errors import BadInput
    from handover.progress import JsonLines, NoProgress

    chosen = mode or ("none" if json_out else "bars")
    if chosen not in PROGRESS_MODES:
        raise BadInput.msg("cli.progress.bad_mode", mode=chosen, modes=", ".join(PROGRESS_MODES))
    if chosen == "none":
        yield NoProgress()
    elif chosen == "json":

        def write(line: str) -> None:
            sys.stderr.write(line)
            sys.stderr.flush()

        yield JsonLines(write)
    else:
        bars = RichBars(lang)
        with bars.bar:
            yield bars
