"""What the hardening tests share: running the real CLI and proving a refusal changed
nothing (the workspace's files and every store table's row count, and the target)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from handover.cli.main import app

#: the demo cast's auditor validates destruction in person (dual control)
runner = CliRunner(env={"HANDOVER_VALIDATOR_PASSWORD": "liuyang-demo-2026"})

#: the store's own files: SQLite may touch them (WAL, checkpoints) without a change
STORE_FILES = ("handover.db", "handover.db-wal", "handover.db-shm")


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The error output, which must be exactly one line."""
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        assert len(lines) == 1, self.err
        return lines[0]


def cli(ws: Path | str, *args: str, lang: str | None = "en") -> Outcome:
    """Run ``handover -w ws --lang lang ARGS`` through the real CLI (no ``--lang`` when
    ``lang`` is None); a crash fails."""
    res = runner.invoke(app, ["-w", str(ws), *(["--lang", lang] if lang else []), *args])
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise AssertionError(f"crashed: {res.exception!r}") from res.exception
    assert "Traceback" not in res.output
    return Outcome(res.exit_code, res.stdout, res.stderr)


def refused(ws: Path | str, code: int, *args: str, lang: str | None = "en") -> str:
    """Run a command that must fail with ``code`` and one line; that line."""
    res = cli(ws, *args, lang=lang)
    assert res.code == code, (res.code, res.out, res.err)
    return res.line


#: the ledger's own tables: compared by the entries they hold (see :func:`snapshot`)
LEDGER_TABLES = ("ledger_entries", "ledger_nodes", "ledger_head", "ledger_checkpoints")


def snapshot(ws: Path | str) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Every file of the workspace (but the store's) with its size, every store table's
    row count, and the ledger's entries other than authorisation decisions: equal
    snapshots mean nothing was changed. The record that an attempt was authorised
    (``access.allow``, written before the source is opened, with its checkpoint) is the
    audit trail of the attempt, not a change it made."""
    root = Path(ws)
    files = {
        p.relative_to(root).as_posix(): p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and p.name not in STORE_FILES
    }
    con = sqlite3.connect(f"file:{root / 'handover.db'}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {
            n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
            for n in names
            if n not in LEDGER_TABLES
        }
        events = [
            f"{r[0]} {r[1]}"
            for r in con.execute(
                "SELECT action, subject FROM ledger_entries "
                "WHERE action NOT LIKE 'access.%' ORDER BY seq"
            )
        ]
    finally:
        con.close()
    return files, counts, events


def demo_workspace(tmp_path: Path) -> Path:
    """A new demo workspace, made through the CLI."""
    path = tmp_path / "ws"
    res = cli(path, "init", "--demo")
    assert res.code == 0, res.err
    return path
