"""Reading ahead in another process: the source's rows become Arrow batches on one core
while this process writes the previous batches into the target on the other.

Reading a database through its driver is Python work (one object per value, then the
columns built from them); in a thread it shares the interpreter lock with the writes.
:class:`ReadProcess` runs the same :meth:`DatabaseSource.read` in a child process and
hands each batch over with its fingerprint, pickled (Arrow buffers copy as they are).
The batches, their order, rejects and keys are exactly those of the thread path.
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO

from handover.db.reflect import TableDef
from handover.migrate.fingerprint import Fingerprint
from handover.migrate.reader import DatabaseSource, Key, SourceBatch

_DONE = b"done"
_LEN = struct.Struct("<Q")


def _put(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_LEN.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _get(stream: IO[bytes]) -> bytes | None:
    """One frame, or None at the end of the stream."""
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (n,) = _LEN.unpack(head)
    body = stream.read(n)
    if len(body) < n:
        return None
    return body


def _failure(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(("error", exc))
    except Exception:  # an exception that does not pickle is told by its kind
        return pickle.dumps(("error", RuntimeError(type(exc).__name__)))


def serve(url: str, commands: IO[bytes], out: IO[bytes]) -> None:
    """The child: for each requested table send ``(batch, fingerprint)`` frames, then
    ``done`` (an error frame instead ends the table). A full pipe holds the reading back
    (the parent writes the previous batch meanwhile); a closed one ends the process."""
    src: DatabaseSource | None = None
    try:
        while (cmd := _get(commands)) is not None:
            d, after, batch_size = pickle.loads(cmd)
            try:
                if src is None:
                    src = DatabaseSource(url)
                for sb in src.read(d, after=after, batch_size=batch_size):
                    _put(out, pickle.dumps((sb, Fingerprint().add(sb.data)), protocol=5))
                item = _DONE
            except (BrokenPipeError, KeyboardInterrupt):
                return
            except BaseException as exc:
                item = _failure(exc)
            _put(out, item)
    except BrokenPipeError:
        return
    finally:
        if src is not None:
            src.close()


class ReadProcess:
    """A child process reading tables of one database for :class:`CopyJob`; started on
    first use (:func:`main` in a new interpreter, the URL on its standard input),
    stopped by :meth:`close` or when a table's read is abandoned."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the child now (it imports while this process does other work)."""
        if self.proc is None:
            self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        # the child imports exactly what this process imports
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        proc = subprocess.Popen(
            [sys.executable, "-c", "from handover.migrate.ahead import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None
        _put(proc.stdin, self.url.encode("utf-8"))
        self.proc = proc
        return proc

    def read(
        self, d: TableDef, *, after: Key | None, batch_size: int
    ) -> Iterator[tuple[SourceBatch, Fingerprint]]:
        """The batches of ``d`` after ``after`` with their fingerprints, as
        :meth:`DatabaseSource.read` gives them."""
        proc = self.proc or self._start()
        assert proc.stdin is not None and proc.stdout is not None
        _put(proc.stdin, pickle.dumps((d, after, batch_size)))
        finished = False
        try:
            while True:
                item = _get(proc.stdout)
                if item is None:
                    raise RuntimeError("the reading process ended")
                if item == _DONE:
                    finished = True
                    return
                got = pickle.loads(item)
                if got[0] == "error":
                    finished = True
                    raise got[1]
                yield got
        finally:
            if not finished:
                self.close()  # a read left half-way: its process cannot be reused

    def close(self) -> None:
        """Stop the child process (returns once it has ended)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            _stop(proc)

    def release(self) -> None:
        """Stop the child process without waiting for it: a thread waits while the
        caller goes on (the child's interpreter takes a tenth of a second to end, which
        then overlaps the target's index builds)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            threading.Thread(target=_stop, args=(proc,), name="handover-reap", daemon=True).start()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc``'s input (it returns), wait for it, kill it if it does not end."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=2)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(timeout=5)
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


def main() -> None:
    """The child's entry point: the URL, then commands, on standard input."""
    # the frames get standard output's pipe to themselves: anything else written to
    # descriptor 1 (a library's print, a C library's message) goes to standard error
    # instead of into the middle of a frame
    frames = os.fdopen(os.dup(1), "wb")
    try:
        os.dup2(2, 1)
    except OSError:  # no standard error: what is printed goes nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    sys.stdout = sys.stderr
    url = _get(sys.stdin.buffer)
    try:
        if url is not None:
            serve(url.decode("utf-8"), sys.stdin.buffer, frames)
    finally:
        gc.freeze()  # the exit's collections need not walk what lives until then
