"""Small file helpers for key files: atomic 0600 writes, a folder lock, folder fsync.

Overwriting a file before unlinking it is sanitization: :func:`handover.erase.files.overwrite_file`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries (a created, renamed or removed name) to stable storage."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) so readers see the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


# flock() conflicts between two descriptors of the same process too, so nested use
# (the key manager opening the keyring under its own lock) re-enters through a
# per-process, per-thread count instead of locking twice.
_HELD: dict[str, tuple[int, int]] = {}
_GUARD = threading.RLock()


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``folder`` (one writer across processes); re-entrant."""
    folder.mkdir(parents=True, exist_ok=True)
    name = str((folder / ".lock").resolve())
    with _GUARD:
        if name in _HELD:
            fd, depth = _HELD[name]
            _HELD[name] = (fd, depth + 1)
            try:
                yield
            finally:
                fd, depth = _HELD[name]
                _HELD[name] = (fd, depth - 1)
            return
        fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _HELD[name] = (fd, 1)
            try:
                yield
            finally:
                del _HELD[name]
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
