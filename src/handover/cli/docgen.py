"""Generate docs/cli.md from the commands' ``--help`` (``make docs``).

A test regenerates it and fails when the committed file differs, so the CLI reference
can never drift from the code.
"""

from __future__ import annotations

from typing import Any

import typer.main

from handover.cli.main import app


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    out = [(path, cmd)]
    if hasattr(cmd, "commands"):
        for name in sorted(cmd.commands):
            out.extend(_walk(cmd.commands[name], [*path, name]))
    return out


def render() -> str:
    """The CLI reference as markdown: one section per command with its --help text."""
    root = typer.main.get_command(app)
    parts = [
        "# CLI reference / 命令参考",
        "",
        "Generated from `--help` by `make docs`; do not edit by hand.",
        "",
    ]
    for path, cmd in _walk(root, ["handover"]):
        ctx = cmd.context_class(
            cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100
        )
        parts += [f"## `{' '.join(path)}`", "", "```", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


def command_paths() -> list[str]:
    """Every command path, e.g. ``handover audit verify`` (for the docs test)."""
    return [" ".join(p) for p, _ in _walk(typer.main.get_command(app), ["handover"])]


if __name__ == "__main__":
    print(render(), end="")
