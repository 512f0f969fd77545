"""Progress notifications inside one console process: the job runner calls
:meth:`Wakeups.notify` once it has written a job's row, and every event stream waiting on
that job (``/jobs/{id}/events``) wakes at once instead of polling the store. A job run
by another process never notifies this one; its streams fall back to reading the row
every few seconds (``Console.events_fallback``).

Each job has a counter bumped by every notification. A stream takes the counter *before*
it reads the row and waits for it to move past that value, so a write landing between
the read and the wait is never missed (the wait returns at once)."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class Wakeups:
    """Per-job counters and the event loops waiting on them (thread-safe: the runner's
    thread notifies, the server's loop waits)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[int, int] = {}
        self._waiting: dict[int, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def version(self, job_id: int) -> int:
        """How many notifications job ``job_id`` has had so far."""
        with self._lock:
            return self._counts.get(job_id, 0)

    def notify(self, job_id: int) -> None:
        """Job ``job_id``'s row was just written: wake every stream waiting on it."""
        with self._lock:
            self._counts[job_id] = self._counts.get(job_id, 0) + 1
            waiting = list(self._waiting.get(job_id, ()))
        for loop, event in waiting:
            # a loop that has closed has nobody waiting on it any more
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    async def wait(self, job_id: int, seen: int, timeout: float) -> bool:
        """Wait until job ``job_id`` is notified past ``seen`` (True) or ``timeout``
        seconds pass (False: read the row anyway, the job may run elsewhere)."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            if self._counts.get(job_id, 0) != seen:
                return True
            self._waiting.setdefault(job_id, []).append(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                left = [w for w in self._waiting.get(job_id, ()) if w is not entry]
                if left:
                    self._waiting[job_id] = left
                else:
                    self._waiting.pop(job_id, None)
