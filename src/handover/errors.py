"""Errors every stage raises; each maps to one CLI exit code (DESIGN.md, Contracts).

Messages are one line, name the file/table/row/column at fault, and never contain a
secret or a clear personal value. ``transient`` says whether retrying can help.

A message from the zh-CN/en catalogue (:mod:`handover.i18n`) is raised with
:meth:`HandoverError.msg` (``raise BadInput.msg("erase.no_table", table=name, db=shown)``): the
library does not need to know the user's language; ``str(exc)`` is the English text
(logs, tests) and the CLI prints :meth:`HandoverError.render` in the user's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from handover.i18n import Msg

E = TypeVar("E", bound="HandoverError")


class HandoverError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = 2
    transient = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message.replace("\n", " ").strip())
        if transient is not None:
            self.transient = transient
        #: the catalogue message, when raised with :meth:`msg`
        self.message: Msg | None = None

    @classmethod
    def msg(cls: type[E], key: str, /, *, transient: bool | None = None, **values: Any) -> E:
        """The error whose text is catalogue message ``key`` filled with ``values``."""
        from handover.i18n import Msg

        return cls.of(Msg(key, **values), transient=transient)

    @classmethod
    def of(cls: type[E], message: Msg, /, *, transient: bool | None = None) -> E:
        """The error whose text is the catalogue message ``message``."""
        err = cls(str(message), transient=transient)
        err.message = message
        return err

    def __reduce__(self) -> tuple[Any, ...]:
        # Kept whole through pickling (an error raised on a cluster worker comes back to
        # the coordinator): its class, text, transience and catalogue message.
        return (_rebuild, (type(self), str(self), self.transient, self.message))

    def render(self, lang: str | None) -> str:
        """The message in ``lang`` (catalogue messages; other texts as raised)."""
        if self.message is None:
            return str(self)
        return self.message.render(lang).replace("\n", " ").strip()


#: the largest id a store keeps (a signed 64-bit integer); anything above is no record
MAX_ID = 2**63 - 1


class BadInput(HandoverError):
    """Bad usage or bad input: a wrong URL, an unreadable file, a bad value (exit 2)."""

    exit_code = 2


class CheckFailed(HandoverError):
    """A check ran and found a problem: a difference, a tampered ledger (exit 1)."""

    exit_code = 1


class Refused(HandoverError):
    """An action refused by policy: no grant, no NDA, missing approval (exit 3)."""

    exit_code = 3


def _rebuild(
    cls: type[HandoverError], text: str, transient: bool, message: Msg | None
) -> HandoverError:
    """Unpickle a :class:`HandoverError` (see ``__reduce__``)."""
    err = cls.__new__(cls)
    Exception.__init__(err, text)
    err.transient = transient
    err.message = message
    return err


def bug_site(exc: BaseException) -> str:
    """Where a bug raised ``exc``: the innermost frame in handover's own code, as
    ``handover/room/module.py:line`` (no value, no message: safe to show and log), else
    the innermost frame's file name and line."""
    import traceback
    from pathlib import Path

    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "-"
    root = Path(__file__).resolve().parent
    for frame in reversed(frames):
        path = Path(frame.filename)
        if path.is_relative_to(root):
            return f"handover/{path.relative_to(root).as_posix()}:{frame.lineno}"
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}"
