"""Who holds something while it runs — a console's job, a campaign's sender — written as
``host:pid:token``, and whether that holder still lives.

On this host a holder lives while its process does; one naming this very process lives
only while the caller still knows its token (a holder left by an earlier process that
had this pid — a restarted container's — does not). On another host nothing can be told.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable


def holder(token: str) -> str:
    """``host:pid:token`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{token}"


def lives(held: str, known: Callable[[str], bool]) -> bool | None:
    """Whether the holder ``held`` (``host:pid:token``; older ones ``host:pid``) lives:
    its process on this host lives, or it names this process and ``known(held)``; None
    for a holder on another host (or one that names no pid)."""
    host, _, rest = held.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return known(held)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it lives
        return True
    return True
