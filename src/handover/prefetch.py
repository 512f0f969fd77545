"""Iterate on a background thread: the next items are produced while the current one is
used. The one implementation of it for scan, seal, migrate, synth and dd-extract.

The overlap is real where the producer's work leaves the interpreter lock (SQLite and
ADBC reads, Arrow and numpy kernels, Parquet writes). An exception in the producer is
raised in the consumer at the point it happened; a consumer that closes the iterator
(``close()``, or :func:`closed` on its way out) stops the producer at its next item,
closes it on its own thread (its ``finally`` and ``with`` blocks run then) and waits for
that thread. A stage that consumes one prefetch and is itself prefetched must
close its input when it ends, however it ends (:func:`closed`): an exception keeps the
stage's frame, and with it the input, alive in its traceback, and the thread below
would go on reading from a source the caller is about to close.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = 0, 1, 2


def prefetch(it: Iterator[T], depth: int = 2, name: str = "handover-prefetch") -> Iterator[T]:
    """The items of ``it``, at most ``depth`` of them produced ahead on a daemon thread
    called ``name``."""
    q: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: int, item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put((kind, item), timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        try:
            for item in it:
                if not put(_ITEM, item):
                    return
            put(_END, None)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_ERROR, exc)
        finally:
            # A producer stopped early is closed here, on its own thread, before the
            # consumer's close() returns: its ``with`` blocks (a cursor, a connection)
            # end now, not whenever the collector finds it, on whichever thread.
            closed(it)

    worker = threading.Thread(target=pump, name=name, daemon=True)
    worker.start()
    try:
        while True:
            kind, item = q.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def closed(it: object) -> None:
    """Close ``it`` if it can be (a generator, a :func:`prefetch`): its producer thread,
    if any, is stopped and joined."""
    close = getattr(it, "close", None)
    if close is not None:
        close()


__all__ = ["closed", "prefetch"]
