"""The foundation's commands through the CLI runner: output, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from handover.cli.main import app

runner = CliRunner()


def test_init_human_and_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", str(tmp_path / "a"), "init", "--demo"])
    assert res.exit_code == 0, res.output
    assert "已创建工作区" in res.output
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path / "b"),
            "--lang",
            "en",
            "init",
            "--seller",
            "甲小贷",
            "--buyer",
            "乙金控",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["workspace"].endswith("/b")
    toml = (tmp_path / "b" / "handover.toml").read_text(encoding="utf-8")
    assert "甲小贷" in toml and "乙金控" in toml


def test_init_twice_exits_2_with_one_line(tmp_path: Path) -> None:
    assert runner.invoke(app, ["-w", str(tmp_path), "init", "--demo"]).exit_code == 0
    res = runner.invoke(app, ["-w", str(tmp_path), "--lang", "en", "init", "--demo"])
    assert res.exit_code == 2
    assert "already exists" in res.output
    assert "Traceback" not in res.output


def test_init_with_only_seller_is_bad_usage(tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", str(tmp_path / "x"), "init", "--seller", "甲"])
    assert res.exit_code == 2
    assert not (tmp_path / "x").exists()


def test_help_is_fast_and_light() -> None:
    code = (
        "import sys, handover.cli.main as m\n"
        "heavy = [n for n in ('pyarrow', 'sqlalchemy', 'fastapi', 'numpy') if n in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported by the CLI: {out.stdout}"


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert res.output.startswith("handover ")


def test_python_dash_m_runs_the_command() -> None:
    """``python -m handover.cli.main`` is the ``handover`` command (it used to import the
    module and do nothing)."""
    for module in ("handover.cli.main",):
        out = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("handover "), module
