"""Usage errors (an unknown option or command, a missing argument, a refused value) are told
as handover's other errors: one line in the user's language naming the option or
argument, with the command's --help, exit code 2; not Click's three English lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.hardening_support import cli

from handover.cli.usage import why

CASES = [
    (
        ["audit", "log", "--limit", "0"],
        "错误: --limit 的值无效:须不小于 1(用法见 handover audit log --help)",
        "error: invalid value for --limit: Input should be greater than or equal to 1 "
        "(see handover audit log --help)",
    ),
    (
        ["status", "--days", "abc"],
        "错误: --days 的值无效:须为整数(用法见 handover status --help)",
        None,
    ),
    (
        ["audit", "log", "--limt", "3"],
        "错误: 没有选项 --limt(是否想用:--limit)(用法见 handover audit log --help)",
        "error: no such option --limt (did you mean --limit?) (see handover audit log --help)",
    ),
    (
        ["risks", "add"],
        "错误: 缺少参数 code(用法见 handover risks add --help)",
        "error: missing argument code (see handover risks add --help)",
    ),
    (
        ["keys", "destroy", "k1"],
        "错误: 缺少选项 --reason(用法见 handover keys destroy --help)",
        "error: missing option --reason (see handover keys destroy --help)",
    ),
    (
        ["compliance", "show"],
        "错误: 没有命令 show(用法见 handover compliance --help)",
        None,
    ),
    (
        ["audit", "log", "extra"],
        "错误: 多出的参数:extra(用法见 handover audit log --help)",
        None,
    ),
    (
        ["--bogus"],  # a root option: --lang is read by hand (Click has read none yet)
        "错误: 没有选项 --bogus(用法见 handover --help)",
        "error: no such option --bogus (see handover --help)",
    ),
    (
        # raised by Click's parser without its command: the command found from the words
        ["audit", "log", "--limit"],
        "错误: 选项 --limit 须带一个值(用法见 handover audit log --help)",
        "error: Option '--limit' requires an argument. (see handover audit log --help)",
    ),
    (
        ["audit", "log", "--json=1"],
        "错误: 选项 --json 不带值(用法见 handover audit log --help)",
        "error: Option '--json' does not take a value. (see handover audit log --help)",
    ),
    (
        ["audi"],  # a close match Click suggests
        "错误: 没有命令 audi(是否想用:audit)(用法见 handover --help)",
        "error: No such command 'audi'. Did you mean 'audit'? (see handover --help)",
    ),
    # ids beyond what a store holds: a usage error, not OverflowError (exit 70)
    (
        ["notices", "approve", "99999999999999999999"],
        "错误: campaign 的值无效:须不大于 9223372036854775807"
        "(用法见 handover notices approve --help)",
        None,
    ),
    (
        ["pia", "show", "1", "--version", "0"],
        "错误: --version 的值无效:须不小于 1(用法见 handover pia show --help)",
        None,
    ),
    (
        ["audit", "log", "--limit", "99999999999999999999"],
        "错误: --limit 的值无效:须不大于 9223372036854775807(用法见 handover audit log --help)",
        None,
    ),
]


@pytest.mark.parametrize(("args", "zh", "en"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_usage_errors_are_one_line_in_the_users_language(
    tmp_path: Path, args: list[str], zh: str, en: str | None
) -> None:
    ws = tmp_path / "ws"  # never created: a usage error is told before any workspace
    res = cli(ws, *args, lang=None)
    assert (res.code, res.line) == (2, zh)
    res = cli(ws, *args, lang="en")
    assert res.code == 2
    assert res.line == en if en else res.line.startswith("error: ")
    assert not ws.exists()


def test_a_group_without_a_command_still_shows_its_help(tmp_path: Path) -> None:
    res = cli(tmp_path / "ws", "audit", lang=None)
    assert res.code == 2 and "verify" in res.out + res.err and "错误" not in res.err


def test_the_console_script_tells_the_same_line(tmp_path: Path) -> None:
    """The installed entry point (main), not only the app under the test runner."""
    res = subprocess.run(
        [str(Path(sys.executable).parent / "handover"), "-w", str(tmp_path), "risks", "add"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert res.stderr.strip() == "错误: 缺少参数 code(用法见 handover risks add --help)"
    assert res.stdout == ""


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        ("Input should be less than or equal to 3660", "须不大于 3660"),
        ("'x' is not a valid integer.", "「x」不是整数"),
        ("'zz' is not one of 'a', 'b'.", "「zz」须为其中之一:'a', 'b'"),
        ("Path '/nope' does not exist.", "「/nope」不存在"),
        ("Option '--executor' requires an argument.", "选项 --executor 须带一个值"),
        ("something new from Click", "something new from Click"),
    ],
)
def test_type_checks_wordings(english: str, chinese: str) -> None:
    assert why(english, "zh-CN") == chinese
    assert why(english, "en") == english
