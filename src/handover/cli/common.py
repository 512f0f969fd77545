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
    from handover.workspace import Workspace

console = Console()
err_console = Console(stderr=True)


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


def fail(message: str, code: int) -> None:
    """Print one line to stderr (prefixed in the user's language) and exit with ``code``."""
    from handover.i18n import t

    prefix = t("error.prefix", _current_lang())
    err_console.print(
        f"[bold red]{prefix}:[/] {message}", highlight=False, markup=True, soft_wrap=True
    )
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn library errors into one line on stderr and the contract's exit code."""
    from handover.errors import HandoverError

    try:
        yield
    except HandoverError as exc:
        fail(_escape(exc.render(_current_lang())), exc.exit_code)
    except KeyboardInterrupt:
        from handover.i18n import t

        fail(t("error.interrupted", _current_lang()), 130)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@contextmanager
def workspace_of(ctx: typer.Context) -> Iterator[Workspace]:
    """Open the workspace named by the global options for one command (see
    :func:`handover.flows.workspace.opened`: it ends with a signed checkpoint)."""
    from handover.flows.workspace import opened

    g = globals_of(ctx)
    overrides: dict[str, Any] = {}
    if g.lang:
        overrides["lang"] = g.lang
    with opened(g.workspace, **overrides) as ws:
        yield ws


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON on stdout (UTF-8, not ASCII-escaped)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


Command = Callable[..., Any]
