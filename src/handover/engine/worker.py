"""What a shard task needs on a worker: the workspace (opened once per worker process)
and the source, whose spec travels wrapped under the workspace's engine key.

A database URL may hold a password: the coordinator wraps the spec with
:meth:`handover.crypto.Keys.wrap` under a key of purpose ``engine``, and each worker
unwraps it through its own key backend (keyring or HSM). The clear spec is never part
of a task's key, arguments' repr or a log line; only its masked display is.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.migrate.reader import MigrationSource
    from handover.sources import FileReading
    from handover.workspace import Workspace

ENGINE_PURPOSE = "engine"
#: binds a wrapped spec to this use (it cannot be replayed as a data key)
CONTEXT = b"engine-source"

T = TypeVar("T")
_lock = threading.Lock()
_open: dict[str, Workspace] = {}


def workspace(path: str) -> Workspace:
    """The workspace at ``path``, opened once per worker process (settings from the
    worker's own environment: key backend, passphrase or PIN)."""
    from handover.workspace import open_workspace

    with _lock:
        ws = _open.get(path)
        if ws is None:
            ws = open_workspace(Path(path))
            _open[path] = ws
        return ws


@dataclass(frozen=True)
class SourceRef:
    """A source as a task carries it: the workspace path, the masked display and the
    spec wrapped under the engine key (shown as its display only)."""

    workspace: str
    display: str
    key_id: str
    blob: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"SourceRef({self.display!r})"

    def spec(self, ws: Workspace) -> str:
        """The clear spec, unwrapped through ``ws``'s key backend."""
        from handover.crypto import Keys

        with Keys(ws) as keys:
            return keys.unwrap(self.blob, CONTEXT, key_id=self.key_id).material.decode("utf-8")


#: sources a worker keeps open between the shards of a run (per thread: a SQLite
#: connection stays in its thread); the least recently used beyond this are closed
KEEP_OPEN = 4
_sources: OrderedDict[tuple[str, bytes, FileReading, int], Any] = OrderedDict()


@atexit.register
def _close_sources() -> None:
    """Close the sources still kept when the process ends: their drivers (ADBC's) then
    release them while they still can, not in the interpreter's teardown."""
    with _lock:
        held = list(_sources.values())
        _sources.clear()
    for src in held:
        with contextlib.suppress(Exception):
            src.close()


def opened(kind: str, ref: SourceRef, reading: FileReading, open_it: Callable[[str], T]) -> T:
    """The source of ``ref`` opened by ``open_it(spec)``, once per worker thread and run
    (a run wraps its spec anew, so its blob names it): the next shard of the same run
    reuses it instead of reading the catalogue again (seconds on a big SQLite file)."""
    key = (kind, ref.blob, reading, threading.get_ident())
    with _lock:
        found = _sources.get(key)
        if found is not None:
            _sources.move_to_end(key)
            return cast(T, found)
    src = open_it(ref.spec(workspace(ref.workspace)))
    with _lock:
        _sources[key] = src
        while len(_sources) > KEEP_OPEN:
            _, old = _sources.popitem(last=False)
            with contextlib.suppress(Exception):
                old.close()
    return src


def engine_key(ws: Workspace, events: EventSink) -> str:
    """The workspace's engine key (made on first use, its creation an event)."""
    from handover.crypto import Keys

    with Keys(ws, events=events) as keys:
        return keys.newest_or_create(ENGINE_PURPOSE)


def source_ref(ws: Workspace, spec: str, display: str, events: EventSink) -> SourceRef:
    """``spec`` wrapped for the workers of a run of ``ws``."""
    from handover.crypto import Keys
    from handover.db.url import is_url

    if not is_url(spec):
        spec = str(Path(spec).resolve())  # workers do not share the coordinator's cwd
    key_id = engine_key(ws, events)
    with Keys(ws) as keys:
        blob = keys.wrap(key_id, spec.encode("utf-8"), CONTEXT)
    return SourceRef(str(ws.path.resolve()), display, key_id, blob)


def reader(ref: SourceRef, reading: FileReading) -> MigrationSource:
    """The typed reader of ``ref`` (migrate's database reader or the file reader), kept
    open between the shards of a run like :func:`opened`."""
    from handover.package.seal import open_reader

    def open_it(spec: str) -> MigrationSource:
        return open_reader(spec, None, reading=reading)

    return opened("reader", ref, reading, open_it)
