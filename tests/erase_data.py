"""Shared data for the erase tests: one synthetic loan book per session, copied per test."""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
from collections.abc import Iterable
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


def big_book(tmp_root: Path) -> Path:
    """A 1,200-customer synthetic SQLite book (seed 11): over 1,000 ID/phone values."""
    if "big" not in _BOOK or not _BOOK["big"].exists():
        from handover.synth import synthesize

        folder = tmp_root / "big-book"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "seller.db"
        synthesize(str(path), customers=1200, seed=11)
        _BOOK["big"] = path
    return _BOOK["big"]


#: a resident ID number (18 characters) or a mainland mobile number, as stored
ID_OR_PHONE = re.compile(r"^(?:\d{17}[\dXx]|1[3-9]\d{9})$")


def id_phone_values(cells: Iterable[object], n: int, seed: int) -> list[str]:
    """``n`` distinct resident-ID/mobile values drawn at random from ``cells`` (test oracle,
    independent of handover's recognisers); fewer only when fewer exist."""
    found = sorted({str(c) for c in cells if c is not None and ID_OR_PHONE.match(str(c))})
    return random.Random(seed).sample(found, min(n, len(found)))


def sqlite_cells(path: Path, skip: Iterable[str] = ()) -> list[object]:
    """Every text cell of every table of a SQLite file (``skip``: tables left out)."""
    con = sqlite3.connect(path)
    out: list[object] = []
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            if name in set(skip):
                continue
            for row in con.execute(f'SELECT * FROM "{name}"'):
                out += [v for v in row if isinstance(v, str)]
    finally:
        con.close()
    return out


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
