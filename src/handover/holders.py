"""Who holds something while it runs — a console's job, a campaign's sender, a command's
claims — written as ``host:pid:token``, and whether that holder still lives.

The token starts with the process's PID namespace and start time (``ns-start-random``,
Linux; ``0-0-random`` where ``/proc`` does not tell), so that a pid reused by another
process, or the same pid number in another container with the same host name, is not
taken for the holder. On this host a holder lives while its process does (same pid,
same start time); one naming this very process lives only while the caller still knows
its token (a holder left by an earlier process that had this pid — a restarted
container's — does not). On another host, or in another PID namespace, nothing can be
told.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from pathlib import Path


def _stat(pid: int) -> tuple[str, int] | None:
    """The state letter (``Z``: a zombie) and start time (clock ticks after boot) of
    process ``pid``, None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text("ascii", "replace").rpartition(")")[2]
        state, *rest = fields.split()
        return state, int(rest[18])
    except (OSError, ValueError, IndexError):
        return None


def _start(pid: int) -> int | None:
    """The start time of process ``pid``, None if unknown."""
    got = _stat(pid)
    return got[1] if got else None


@functools.cache
def _namespace() -> int:
    """This process's PID namespace (its inode), 0 if unknown."""
    try:
        return int(os.readlink("/proc/self/ns/pid").partition("[")[2].rstrip("]"))
    except (OSError, ValueError):
        return 0


def holder(token: str) -> str:
    """``host:pid:ns-start-token`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_namespace()}-{_start(os.getpid()) or 0}-{token}"


def lives(held: str, known: Callable[[str], bool]) -> bool | None:
    """Whether the holder ``held`` (``host:pid:ns-start-token``; older ones ``host:pid``
    or ``host:pid:token``) lives: its process on this host lives (with the start time it
    had), or it names this process and ``known(held)``; None for a holder on another
    host or in another PID namespace (or one that names no pid)."""
    host, _, rest = held.partition(":")
    pid, _, token = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    parts = token.split("-")
    ns, start = (
        (int(parts[0]), int(parts[1]))
        if len(parts) >= 3 and all(p.isdigit() for p in parts[:2])
        else (0, 0)
    )
    if ns and _namespace() and ns != _namespace():
        return None
    if int(pid) == os.getpid():
        return known(held)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it lives
        pass
    got = _stat(int(pid))
    if got is None:
        return True  # its process lives; nothing more can be told
    if got[0] in ("Z", "X"):  # killed, not yet reaped by its parent: ended
        return False
    return not start or got[1] == start
