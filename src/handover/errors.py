"""Errors every stage raises; each maps to one CLI exit code (DESIGN.md, Contracts).

Messages are one line, name the file/table/row/column at fault, and never contain a
secret or a clear personal value. ``transient`` says whether retrying can help.
"""

from __future__ import annotations


class HandoverError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = 2
    transient = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message.replace("\n", " ").strip())
        if transient is not None:
            self.transient = transient


class BadInput(HandoverError):
    """Bad usage or bad input: a wrong URL, an unreadable file, a bad value (exit 2)."""

    exit_code = 2


class CheckFailed(HandoverError):
    """A check ran and found a problem: a difference, a tampered ledger (exit 1)."""

    exit_code = 1


class Refused(HandoverError):
    """An action refused by policy: no grant, no NDA, missing approval (exit 3)."""

    exit_code = 3
