"""The one progress protocol of every long step (scan, seal, unseal, migrate, verify,
synth …): the library reports, the adapters render (Rich bars in the CLI, JSON lines for
``--json`` and the web console).

A step reports *phases* (work without rows: creating tables, constraints) and *tasks*
(a table, a block of synthetic rows) that start with a total and advance by row counts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Protocol

from handover.i18n import Msg


class Progress(Protocol):
    """Where a step reports what it is doing."""

    def phase(self, text: Msg) -> None:
        """A step without rows (creating tables, constraints, signing), as a catalogue
        message the renderer shows in its reader's language."""

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        """Task ``name`` starts: ``total`` rows when known, ``done``/``rejects`` already
        handled by an earlier attempt (a resumed run)."""

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        """``rows`` more rows of task ``name`` done and ``rejects`` more refused."""


class NoProgress:
    """A :class:`Progress` that shows nothing."""

    def phase(self, text: Msg) -> None:
        pass

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        pass

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        pass


class JsonLines:
    """A :class:`Progress` writing one JSON object per report to ``write`` (e.g. stderr of
    a ``--json`` command, or a job's event stream in the web console): ``{"event": "phase"
    | "task" | "advance", "t": seconds since start, …}``."""

    def __init__(
        self,
        write: Callable[[str], object],
        clock: Callable[[], float] = time.monotonic,
        lang: str = "en",
    ):
        self.write, self.clock, self.lang = write, clock, lang
        self.t0 = clock()

    def _emit(self, event: str, **fields: object) -> None:
        doc = {"event": event, "t": round(self.clock() - self.t0, 3), **fields}
        self.write(json.dumps(doc, ensure_ascii=False) + "\n")

    def phase(self, text: Msg) -> None:
        self._emit("phase", text=text.render(self.lang), key=text.key)

    def task(self, name: str, total: int | None, done: int = 0, rejects: int = 0) -> None:
        self._emit("task", name=name, total=total, done=done, rejects=rejects)

    def advance(self, name: str, rows: int, rejects: int = 0) -> None:
        self._emit("advance", name=name, rows=rows, rejects=rejects)
