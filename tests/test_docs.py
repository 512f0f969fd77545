"""Docs checked by code: the CLI reference is generated, every setting documented."""

from __future__ import annotations

from pathlib import Path

from handover.cli import docgen
from handover.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == docgen.render(), "docs/cli.md is stale: run `make docs`"


def test_every_command_is_in_readme_or_docs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in docgen.command_paths()[1:]:
        top = " ".join(path.split()[:2])
        assert f"`{top}" in text, f"README does not mention {top}"


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{name}`" in text, f"setting {name} missing from docs/settings.md"
        assert f"HANDOVER_{name.upper()}" in text or name == "transfer"


def test_readme_quick_start_is_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick


def test_ci_runs_make_test() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "make lint" in ci


def test_no_merge_conflict_markers_left() -> None:
    root = Path(__file__).resolve().parents[1]
    offenders = [
        f"{p.relative_to(root)}:{n}"
        for top in ("src", "tests", "docs", "bench")
        for p in sorted((root / top).rglob("*"))
        if p.is_file() and p.suffix in (".py", ".md", ".toml", ".txt", ".json", ".html")
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "======="
    ] + [
        f"{name}:{n}"
        for name in ("README.md", "Makefile", "pyproject.toml")
        for n, line in enumerate((root / name).read_text(encoding="utf-8").splitlines(), 1)
        if line.startswith(("<<<<<<< ", ">>>>>>> "))
    ]
    assert offenders == []
