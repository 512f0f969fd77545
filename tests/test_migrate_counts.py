"""A migration counts each source table twice: once when the run begins (its record, the
reading processes, the progress total) and once after the table's copy, the count it is
reconciled against — so a row deleted from the source meanwhile still fails the run,
naming the table. (A count is a full scan on most servers: it was taken four times.) Real SQLite
databases; the source written to by a real connection while the run copies.
"""

from __future__ import annotations

import collections
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from handover.errors import CheckFailed
from handover.flows.migrate import migrate
from handover.migrate.reader import DatabaseSource
from handover.migrate.results import MigrateOptions
from handover.progress import NoProgress
from migrate_data import build


def _options() -> MigrateOptions:
    return MigrateOptions(batch_size=97, no_backup=True, reason="test")


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """How often each source table is counted (the real count, on the real database)."""
    calls: collections.Counter[str] = collections.Counter()
    real = DatabaseSource.count

    def count(self: DatabaseSource, table: Any) -> int:
        calls[table.name] += 1
        return real(self, table)

    monkeypatch.setattr(DatabaseSource, "count", count)
    return calls


def test_each_table_is_counted_at_the_start_and_after_its_copy(
    workspace: Any, tmp_path: Path, counted: collections.Counter[str]
) -> None:
    src = tmp_path / "seller.db"
    rows = build(f"sqlite:///{src}", customers=300)
    result = migrate(workspace, str(src), f"sqlite:///{tmp_path / 'buyer.db'}", _options())
    assert {t.name: t.source_rows for t in result.tables} == rows
    assert dict(counted) == dict.fromkeys(rows, 2)


class _WritesDuringCopy(NoProgress):
    """Deletes the first repayment from the source once the copy of ``repayment`` is under
    way (after the run's first count of it, and after that row was copied: a row added
    ahead of the copy would be copied too, and rightly pass)."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.written = False

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        if name == "repayment" and not self.written:
            con = sqlite3.connect(self.source)
            with con:
                con.execute(
                    "DELETE FROM repayment WHERE rowid = (SELECT min(rowid) FROM repayment)"
                )
            con.close()
            self.written = True


def test_a_row_written_during_the_copy_fails_the_reconciliation(
    workspace: Any, tmp_path: Path
) -> None:
    src = tmp_path / "seller.db"
    build(f"sqlite:///{src}", customers=300)
    progress = _WritesDuringCopy(src)
    with pytest.raises(CheckFailed) as err:
        migrate(
            workspace,
            str(src),
            f"sqlite:///{tmp_path / 'buyer.db'}",
            _options(),
            progress=progress,
        )
    assert progress.written
    assert "repayment" in str(err.value), err.value


def test_the_copy_does_not_wait_for_the_other_tables_counts(
    workspace: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first counts are taken by a thread of their own while the copy goes on: the
    count of the last table is held until rows of the first table have been copied (a run
    that counted every table before copying would wait out the hold's 60 s), and every
    table is still reconciled against its count after its copy."""
    import threading

    src = tmp_path / "seller.db"
    rows = build(f"sqlite:///{src}", customers=300)
    reader = DatabaseSource(str(src))
    order = [d.name for d in reader.schema()]
    reader.close()
    first, last = order[0], order[-1]
    copied = threading.Event()
    held: list[bool] = []
    real = DatabaseSource.count

    def count(self: DatabaseSource, table: Any) -> int:
        if table.name == last and not held:
            held.append(copied.wait(60))
        return real(self, table)

    class Watch(NoProgress):
        def advance(self, name: str, rows: int, rejects: int = 0) -> None:
            if name == first:
                copied.set()

    monkeypatch.setattr(DatabaseSource, "count", count)
    result = migrate(
        workspace, str(src), f"sqlite:///{tmp_path / 'buyer.db'}", _options(), progress=Watch()
    )
    assert held == [True]  # released by the first table's rows, not by the timeout
    assert {t.name: t.source_rows for t in result.tables} == rows
