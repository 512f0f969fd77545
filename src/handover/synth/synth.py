"""``synthesize``: write a synthetic small-loan company's loan book to a target, with the
ground truth (``truth.json``) beside it. See docs/synth.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handover.errors import BadInput
from handover.prefetch import prefetch
from handover.progress import Progress
from handover.synth.schema import BY_NAME, TABLES, truth

MAX_CUSTOMERS = 10_000_000
XLSX_MAX_CUSTOMERS = 50_000
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


@dataclass
class SynthResult:
    """What was written where: rows per table, total, time, truth file."""

    customers: int
    seed: int
    kind: str  # sqlite | postgresql | mysql | csv | xlsx
    target: str  # path, or URL with the password masked
    tables: dict[str, int]
    total_rows: int
    seconds: float
    truth_path: str
    encodings: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The machine form (``--json``)."""
        return {
            "customers": self.customers,
            "seed": self.seed,
            "kind": self.kind,
            "target": self.target,
            "tables": dict(self.tables),
            "total_rows": self.total_rows,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.total_rows / self.seconds) if self.seconds else None,
            "truth_path": self.truth_path,
            "encodings": dict(self.encodings),
        }


@dataclass
class _Target:
    kind: str
    shown: str
    truth: Path
    path: Path | None = None
    url: str | None = None


def _classify(out: str, fmt: str | None, truth_path: str | None) -> _Target:
    from handover.db.url import backend, is_url, mask, sqlite_path

    if not isinstance(out, str) or not out.strip():
        raise BadInput.msg("synth.out_empty")
    if fmt is not None and fmt not in ("csv", "xlsx"):
        raise BadInput.msg("synth.bad_format", target=out, fmt=fmt)
    if is_url(out):
        shown = mask(out)
        kind = backend(out)
        if kind == "sqlite":
            path = sqlite_path(out)
            if path is None:
                raise BadInput.msg("synth.sqlite_path", target=shown)
            return _classify(str(path), fmt, truth_path)
        if fmt is not None:
            raise BadInput.msg("synth.format_folder_only", target=shown)
        if kind not in ("postgresql", "mysql"):
            raise BadInput.msg("synth.unsupported_url", target=shown)
        return _Target(kind, shown, Path(truth_path or "truth.json"), url=out)
    p = Path(out)
    if p.suffix.lower() in SQLITE_SUFFIXES:
        if fmt is not None:
            raise BadInput.msg("synth.format_folder_only", target=out)
        return _Target(
            "sqlite",
            str(p),
            Path(truth_path) if truth_path else p.with_name(p.stem + ".truth.json"),
            path=p,
        )
    return _Target(
        fmt or "csv", str(p), Path(truth_path) if truth_path else p / "truth.json", path=p
    )


def _check_writable_dir(d: Path, shown: str) -> None:
    if not d.is_dir():
        raise BadInput.msg("synth.no_folder", target=shown, folder=d)
    if not os.access(d, os.W_OK | os.X_OK):
        raise BadInput.msg("synth.folder_readonly", target=shown, folder=d)


def _server_engine(t: _Target) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from handover.db.connect import Wording, connect, failure
    from handover.db.reflect import Catalog

    assert t.url is not None
    # The bulk paths need psycopg 3 (COPY) and PyMySQL.
    words = Wording("synth.connect", "synth.connect")
    engine = connect(t.url, wording=words, own_driver=True, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            existing = Catalog(conn).table_names()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise failure(exc, t.url, words) from None
    if existing:
        engine.dispose()
        raise BadInput.msg("synth.db_not_empty", target=t.shown, n=len(existing))
    return engine


def _validate(customers: int, seed: int, shown: str) -> None:
    if (
        isinstance(customers, bool)
        or not isinstance(customers, int)
        or not (1 <= customers <= MAX_CUSTOMERS)
    ):
        raise BadInput.msg("synth.customers", target=shown, max=MAX_CUSTOMERS, customers=customers)
    if isinstance(seed, bool) or not isinstance(seed, int) or not (0 <= seed < 2**63):
        raise BadInput.msg("synth.seed", target=shown, seed=seed)


def synthesize(
    out: str,
    *,
    customers: int,
    seed: int,
    fmt: str | None = None,
    truth_path: str | None = None,
    progress: Progress | None = None,
) -> SynthResult:
    """Write ``customers`` customers' loan book for ``seed`` to ``out`` (a .db/.sqlite file,
    a PostgreSQL or MariaDB URL, or a folder for CSV/XLSX) and its truth.json.

    The same (seed, customers) gives byte-identical SQLite dumps and CSV files. A bad
    target raises ``BadInput`` and leaves nothing behind. ``truth_path`` overrides where
    truth.json goes (default: ``X.truth.json`` beside ``X.db``, ``truth.json`` inside a
    folder, ``./truth.json`` for a server URL). ``progress`` advances task ``synth`` by customers per block.
    """
    from handover.synth import writers as W
    from handover.synth.generate import BLOCK, Generator

    started = time.perf_counter()
    t = _classify(out, fmt, truth_path)
    _validate(customers, seed, t.shown)
    writer: W.Writer
    if t.kind == "sqlite":
        assert t.path is not None
        _check_writable_dir(t.path.parent if str(t.path.parent) else Path("."), t.shown)
        if t.path.exists() and (t.path.is_dir() or t.path.stat().st_size > 0):
            raise BadInput.msg("synth.file_exists", target=t.shown)
        writer = W.SQLiteWriter(t.path)
    elif t.kind in ("csv", "xlsx"):
        assert t.path is not None
        if t.path.exists():
            if not t.path.is_dir():
                raise BadInput.msg("synth.not_folder", target=t.shown)
            if any(t.path.iterdir()):
                raise BadInput.msg("synth.folder_not_empty", target=t.shown)
            _check_writable_dir(t.path, t.shown)
        else:
            _check_writable_dir(t.path.parent if str(t.path.parent) else Path("."), t.shown)
        if t.kind == "xlsx" and customers > XLSX_MAX_CUSTOMERS:
            raise BadInput.msg("synth.xlsx_size", target=t.shown, max=XLSX_MAX_CUSTOMERS)
        writer = W.CsvWriter(t.path) if t.kind == "csv" else W.XlsxWriter(t.path)
    else:
        _check_writable_dir(t.truth.parent if str(t.truth.parent) else Path("."), t.shown)
        writer = W.ServerWriter(_server_engine(t), t.kind)

    counts = {tb.name: 0 for tb in TABLES}
    gen = Generator(seed, customers)
    finished = False
    if progress is not None:
        progress.task("synth", customers)
    try:
        try:
            writer.create()
            for name, cols in gen.global_batch().items():
                writer.write(BY_NAME[name], cols)
                counts[name] += len(next(iter(cols.values())))
            writer.end_block()
            for i, batch in enumerate(
                prefetch(gen.blocks(), depth=1, name="synth-generate"), start=1
            ):
                for name, cols in batch.items():
                    writer.write(BY_NAME[name], cols)
                    counts[name] += len(next(iter(cols.values())))
                writer.end_block()
                if progress is not None:
                    progress.advance("synth", min(BLOCK, customers - (i - 1) * BLOCK))
            writer.finish()
            finished = True
            _write_truth(t.truth)
        except BadInput:
            raise
        except OSError as exc:
            raise BadInput.msg(
                "synth.write", target=t.shown, error=exc.strerror or type(exc).__name__
            ) from None
        except _db_errors() as exc:
            raise BadInput.msg(
                "synth.load_refused", target=t.shown, error=type(exc).__name__
            ) from None
    except BaseException:
        with contextlib.suppress(Exception):
            writer.abort()
        if finished and t.kind == "sqlite" and t.path is not None:
            # finish() renamed the file into place before writing the truth failed.
            with contextlib.suppress(FileNotFoundError):
                t.path.unlink()
        raise
    seconds = time.perf_counter() - started
    encodings = {tb.name: tb.csv_encoding for tb in TABLES} if t.kind == "csv" else {}
    return SynthResult(
        customers=customers,
        seed=seed,
        kind=t.kind,
        target=t.shown,
        tables=counts,
        total_rows=sum(counts.values()),
        seconds=seconds,
        truth_path=str(t.truth),
        encodings=encodings,
    )


def _db_errors() -> tuple[type[BaseException], ...]:
    """DBAPI errors of the drivers in use: the target's fault, reported as bad input."""
    import sqlite3

    import psycopg
    import pymysql

    return (sqlite3.Error, psycopg.Error, pymysql.err.Error)


def _write_truth(path: Path) -> None:
    """Write truth.json atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(truth(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
