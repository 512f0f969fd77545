"""Durable file operations of the key store, shared with sessions and sanitization: atomic
0600 writes, a re-entrant folder lock, folder fsync, and overwrite-before-unlink (the one
file overwrite of handover: destroyed keyring entries, ended sessions, shred runs).

Overwrite (NIST SP 800-88 "clear") goes through the file system: on copy-on-write file
systems (btrfs, ZFS, APFS), journaling with data journaling, SSDs (wear levelling,
over-provisioning) and snapshots or backups the old blocks may survive. Encrypted files are
therefore also cryptographically erased (their keys destroyed) before they are overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handover.errors import BadInput


def fsync_dir(folder: Path) -> None:
    """Flush ``folder``'s entries (a created, renamed or removed name) to stable storage."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(path: Path, mode: int = 0o600) -> Iterator[Path]:
    """A new empty file beside ``path`` (``mode``: 0600 unless the file is meant to be
    shared, such as a public announcement) to write, which replaces ``path`` when
    the block ends without error and is removed otherwise: readers see the old or the new
    file, never half. Each writer gets its own name, so two threads or processes writing
    the same path at once do not write into, or rename away, each other's file."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def place_folder(tmp: Path, out: Path, exists: str) -> None:
    """Rename the finished folder ``tmp`` to ``out``, which must not exist or be an empty
    folder (one claimed for it): a folder or file another run put there meanwhile is
    BadInput ``exists`` naming ``out`` (the caller removes ``tmp``), never an OS error."""
    try:
        tmp.rename(out)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise BadInput.msg(exists, path=out) from None
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600) so readers see the old or the new file, never
    half; durable when it returns."""
    with replacing(path) as tmp, tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
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


CHUNK = 1 << 20
#: a read-back window this long or longer is searched in two halves at once (thread hand-off
#: costs tens of microseconds; a MiB's search about four milliseconds)
SPLIT_MIN = 1 << 18

#: called after each overwrite pass of a file: (path, pass number, bytes written)
OverwriteHook = Callable[[Path, int, int], None]


@dataclass
class FileOutcome:
    """One file: its size, the bytes each pass wrote, and whether the read-back matched."""

    path: str
    size: int
    passes: list[int] = field(default_factory=list)
    readback_ok: bool = False
    samples_found: int = 0
    removed: bool = False

    def to_json(self) -> dict[str, Any]:
        """Certificate form."""
        return {
            "path": self.path,
            "size": self.size,
            "overwritten": self.passes,
            "readback_ok": self.readback_ok,
            "samples_found": self.samples_found,
            "removed": self.removed,
        }


class Needles:
    """Every byte form of every sample searched at once in a block: each position's first
    four bytes looked up among the forms' first four (vectorised), then an exact
    comparison only where they match — one pass over the block however many samples
    (searching each form in turn costs samples × forms passes: minutes for a 1 GB extract
    and 1,000 samples).

    The lookup reads the block as two-byte words in place (one view per alignment, no
    copy) and rules out nearly every position with a bitmap indexed by the word itself
    (64 Ki entries: stays in cache), set for the forms' first two bytes; only the
    survivors have their four-byte word built and looked up among the sorted prefixes
    (a read-back of random bytes with 1,000 samples: about one position in twenty). On
    random bytes this costs two thirds of a four-byte hashed lookup."""

    PREFIX = 4

    def __init__(self, needles: list[list[bytes]]) -> None:
        import numpy as np

        #: (sample, form) of forms too short for the lookup: searched one by one
        self.short: list[tuple[int, bytes]] = []
        self.by_prefix: dict[int, list[tuple[int, bytes]]] = {}
        longest = 0
        for j, forms in enumerate(needles):
            for f in forms:
                longest = max(longest, len(f))
                if len(f) < self.PREFIX:
                    self.short.append((j, f))
                else:
                    key = int.from_bytes(f[: self.PREFIX], "little")
                    self.by_prefix.setdefault(key, []).append((j, f))
        self.keys = np.array(sorted(self.by_prefix), dtype=np.uint32)
        #: whether some form starts with these two bytes (as a little-endian word)
        self.heads = np.zeros(1 << 16, dtype=np.bool_)
        self.heads[self.keys & np.uint32(0xFFFF)] = True
        #: bytes of a block kept before the next one: a form across the seam is whole
        self.overlap = max(64, longest)

    def find(self, window: bytes, found: set[int], helper: Executor | None = None) -> None:
        """Add to ``found`` every sample one of whose forms occurs in ``window``; with
        ``helper`` (a thread) the window's second half is searched there meanwhile (numpy's
        kernels leave the interpreter lock), a form across the halves' seam by the first."""
        for j, f in self.short:
            if j not in found and f in window:
                found.add(j)
        n = len(window)
        if not len(self.keys) or n < self.PREFIX:
            return
        if helper is None or n < SPLIT_MIN:
            self._scan(window, 0, n, found)
            return
        mid = (n // 2) & ~1  # even: the two-byte words keep their alignments
        other: set[int] = set()
        second = helper.submit(self._scan, window, mid, n, other)
        try:
            self._scan(window, 0, mid, found)
        finally:
            second.result()
        found |= other

    def _scan(self, window: bytes, lo: int, hi: int, found: set[int]) -> None:
        """:meth:`find`'s lookup of the forms starting at positions ``lo`` (even) to
        ``hi`` of ``window``."""
        import numpy as np

        n = len(window)
        last = len(self.keys) - 1
        data = np.frombuffer(window, dtype=np.uint8)
        # Position lo + 2 * i + r is word i of the view at offset lo + r: every position,
        # each once; only those with four bytes left in the window can start a form.
        for r in (0, 1):
            start = lo + r
            end = min(hi - 1, n - 2)  # the last position whose word is whole
            if end < start:
                continue
            heads = np.frombuffer(window, dtype="<u2", offset=start, count=(end - start) // 2 + 1)
            pos = np.flatnonzero(self.heads[heads]) * 2 + start
            pos = pos[pos <= n - self.PREFIX]
            if not len(pos):
                continue
            words = data[pos].astype(np.uint32)
            for k in range(1, self.PREFIX):
                words |= data[pos + k].astype(np.uint32) << np.uint32(8 * k)
            at = np.minimum(np.searchsorted(self.keys, words), last)
            hit = self.keys[at] == words
            for p, w in zip(pos[hit].tolist(), words[hit].tolist(), strict=True):
                for j, f in self.by_prefix[w]:
                    if j not in found and window.startswith(f, p):
                        found.add(j)


def overwrite_file(
    path: Path,
    *,
    passes: int = 1,
    needles: list[list[bytes]] | None = None,
    hook: OverwriteHook | None = None,
) -> FileOutcome:
    """Overwrite ``path`` with random bytes ``passes`` times (fsync each; each pass a new
    :class:`~handover.crypto.suites.RandomStream`), read it back, rename it to a random
    name and unlink it; the folder is fsynced.

    ``needles`` (sample byte forms) are searched in the read-back of the last pass from its
    first block that differs from the stream on: blocks before it are the stream's own
    bytes, drawn without regard to the file, so a sample there would be chance, not data
    left behind. The one file overwrite of handover: shred runs, destroyed keyring entries,
    ended login sessions. FileNotFoundError (nothing written) when ``path`` does not exist.
    """
    from handover.crypto.suites import RandomStream

    size = path.stat().st_size
    out = FileOutcome(str(path), size)
    last: RandomStream | None = None
    with path.open("r+b") as fh:
        for n in range(1, passes + 1):
            fh.seek(0)
            written = 0
            last = RandomStream()  # a fresh key for every pass
            while written < size:
                block = last.read(min(CHUNK, size - written))
                fh.write(block)
                written += len(block)
            fh.flush()
            os.fsync(fh.fileno())
            out.passes.append(written)
            if hook is not None:
                hook(path, n, written)
        # Read back what the file system now returns: exactly the last pass (compared
        # byte for byte with its stream generated again), and no sample where it is not.
        fh.seek(0)
        expected = last.again() if last is not None else None
        same = expected is not None
        got = 0
        found: set[int] = set()
        search = Needles(needles or [])
        tail = b""
        with ThreadPoolExecutor(1, thread_name_prefix="shred-search") as helper:
            while block := fh.read(CHUNK):
                got += len(block)
                if same and expected is not None and block != expected.read(len(block)):
                    same = False
                window = tail + block
                if not same:  # the seam with the block before is in the window
                    search.find(window, found, helper)
                tail = window[-search.overlap :]
        out.readback_ok = same and got == size
        out.samples_found = len(found)
    # A random name first, so the directory entry no longer tells what the file was.
    hidden = path.with_name(f".shred-{secrets.token_hex(8)}")
    os.replace(path, hidden)
    hidden.unlink()
    fsync_dir(path.parent)
    out.removed = not path.exists() and not hidden.exists()
    return out


#: the block zeroed and read back at a time by :func:`zero_fill`
ZERO_CHUNK = 1 << 22


def zero_fill(fd: int) -> tuple[int, bool]:
    """Overwrite the whole file open read-write at ``fd`` in place with zeros, ``fsync``,
    read it back (every byte must be zero, and as many as were written), then truncate it
    to nothing and ``fsync`` again: ``(bytes overwritten, read-back ok)``.

    The zeros reach the disk before the truncation: pages still dirty when a file is
    truncated are dropped, never written, and the old blocks would go back to the file
    system as they were. ``fd`` stays open: the caller may hold locks on the file that
    closing any descriptor of it would release (POSIX record locks are per process)."""
    size = os.fstat(fd).st_size
    zeros = bytes(ZERO_CHUNK)
    done = 0
    while done < size:
        done += os.pwrite(fd, zeros[: min(ZERO_CHUNK, size - done)], done)
    os.fsync(fd)
    buf = bytearray(ZERO_CHUNK)
    view = memoryview(buf)
    got, same = 0, True
    while same and (n := os.preadv(fd, [view], got)):
        same = (buf if n == ZERO_CHUNK else buf[:n]) == zeros[:n]
        got += n
    os.ftruncate(fd, 0)
    os.fsync(fd)
    return done, same and got == size


def overwrite_tree(
    root: Path,
    *,
    passes: int = 1,
    needles: list[list[bytes]] | None = None,
    hook: OverwriteHook | None = None,
) -> list[FileOutcome]:
    """Overwrite and unlink every regular file under ``root`` (or ``root`` itself), then
    remove the emptied folders. Symbolic links are unlinked, never followed."""
    if root.is_symlink():
        root.unlink()
        return []
    if root.is_file():
        return [overwrite_file(root, passes=passes, needles=needles, hook=hook)]
    if not root.is_dir():
        raise BadInput.msg("erase.no_path", path=root)
    outcomes: list[FileOutcome] = []
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        d = Path(dirpath)
        for name in sorted(filenames):
            p = d / name
            if p.is_symlink() or not p.is_file():
                p.unlink()
                continue
            outcomes.append(overwrite_file(p, passes=passes, needles=needles, hook=hook))
        for name in dirnames:
            sub = d / name
            if sub.is_symlink():
                sub.unlink()
            else:
                sub.rmdir()
    root.rmdir()
    if root.parent.exists():
        fsync_dir(root.parent)
    return outcomes


def tree_size(root: Path) -> tuple[int, int]:
    """``(files, bytes)`` under ``root`` (or of the file itself)."""
    if root.is_file():
        return 1, root.stat().st_size
    files = total = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            if p.is_file() and not p.is_symlink():
                files += 1
                total += p.stat().st_size
    return files, total
