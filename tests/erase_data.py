"""Shared data for the erase tests: one synthetic loan book per session, copied per test."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

_BOOK: dict[str, Path] = {}


def book(tmp_root: Path) -> Path:
    """A 500-customer synthetic SQLite book (seed 1), made once per test process."""
    if "path" not in _BOOK or not _BOOK["path"].exists():
        from handover.synth import synthesize

        folder = tmp_root / "book"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "seller.db"
        synthesize(str(path), customers=500, seed=1)
        _BOOK["path"] = path
    return _BOOK["path"]


def copy_book(src: Path, dst: Path) -> Path:
    """A private copy of the book."""
    shutil.copyfile(src, dst)
    return dst


def identifiers(path: Path, n: int = 40) -> list[str]:
    """Resident ID and mobile numbers read straight from the book (for independent checks)."""
    con = sqlite3.connect(path)
    try:
        ids = [
            str(r[0])
            for r in con.execute("SELECT zjhm FROM cust_info WHERE length(zjhm)=18 LIMIT ?", (n,))
        ]
        phones = [
            str(r[0])
            for r in con.execute("SELECT sjhm FROM cust_info WHERE length(sjhm)=11 LIMIT ?", (n,))
        ]
    finally:
        con.close()
    return ids + phones


def raw_bytes(path: Path) -> bytes:
    """The database file and its -wal/-journal/-shm, concatenated."""
    out = b""
    for suffix in ("", "-wal", "-journal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            out += p.read_bytes()
    return out
