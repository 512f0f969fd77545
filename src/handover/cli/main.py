"""The ``handover`` command. Heavy libraries are imported inside commands only."""

from __future__ import annotations

from pathlib import Path

import typer

from handover import __version__
from handover.cli import (
    audit,
    claims,
    dossier,
    governance,
    incidents,
    keys,
    migrate,
    notices,
    package,
    pia,
    scan,
    serve,
    shred,
    verify,
    workspace,
)
from handover.cli.common import (
    globals_of,
    workspace_of,
)
from handover.cli.usage import HandoverGroup

app = typer.Typer(
    name="handover",
    cls=HandoverGroup,
    help="handover(交接):小贷公司客户信息从卖方到买方的合规交接 / "
    "carry a small-loan company's customer information from seller to buyer, with proof.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
# Every command module registers its commands the same way.
for _module in (
    workspace,
    scan,
    package,
    migrate,
    verify,
    notices,
    pia,
    dossier,
    incidents,
    shred,
    governance,
    keys,
    claims,
    audit,
    serve,
):
    _module.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"handover {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        envvar="HANDOVER_WORKSPACE",
        help="Workspace directory (default ./handover-data).",
    ),
    lang: str | None = typer.Option(None, "--lang", help="zh-CN (default) or en."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
) -> None:
    """Global options."""
    from handover.cli.common import fail, lang_of
    from handover.i18n import UnsupportedLanguage, normalize_lang

    g = globals_of(ctx)
    _root[:] = [ctx]  # the language of an internal error's line (main)
    g.workspace = workspace
    if lang is not None:
        try:
            normalize_lang(lang)
        except UnsupportedLanguage as exc:  # told in the workspace's language (or zh-CN)
            fail(exc.message.render(lang_of(ctx)), 2)
    g.lang = lang


#: the root command's context once its options are read (an internal error's language)
_root: list[typer.Context] = []


def _error_lang() -> str:
    """The user's language (``--lang``, the workspace's), zh-CN where none is known yet."""
    from handover.cli.common import lang_of

    try:
        return lang_of(_root[0]) if _root else "zh-CN"
    except Exception:  # the settings themselves are what failed
        return "zh-CN"


def main() -> None:
    """Console-script entry point: a bug prints one line in the user's language
    (``--debug`` for the traceback)."""
    import gc
    import sys

    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: library errors are handled per command
        if "--debug" in sys.argv:
            raise
        from handover.errors import bug_site
        from handover.i18n import t

        where = bug_site(exc)
        line = t("cli.internal_error", _error_lang(), kind=type(exc).__name__, where=where)
        sys.stderr.write(line + "\n")
        raise SystemExit(70) from None
    finally:
        # what is still alive lives until the exit: the interpreter's last collections
        # need not walk it (a quarter of a second after a large migrate)
        gc.freeze()


__all__ = ["app", "main", "workspace_of"]


if __name__ == "__main__":  # python -m handover.cli.main, as the `handover` script
    main()
