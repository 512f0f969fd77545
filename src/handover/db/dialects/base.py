"""What every dialect module provides; defaults are standard SQL."""

from __future__ import annotations

from typing import ClassVar


class Dialect:
    """One engine family's SQL and protocols. Subclasses override what differs."""

    #: the family name: ``sqlite``, ``postgresql``, ``mysql``
    name: ClassVar[str] = ""
    #: the names SQLAlchemy gives engines of this family (another name is an alias)
    backends: ClassVar[tuple[str, ...]] = ()
    #: the SQLAlchemy driver handover connects with (None: SQLAlchemy's default)
    driver: ClassVar[str | None] = None
    #: URL query values every connection gets unless the URL sets them
    url_query: ClassVar[dict[str, str]] = {}
    #: the DB-API parameter marker of the driver
    placeholder: ClassVar[str] = "%s"
    #: statements every new connection of a use runs (see :meth:`session`)
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {}

    def quote(self, name: str) -> str:
        """``name`` quoted as an identifier, for SQL run without parameters (a ``%`` is
        not doubled: SQLAlchemy's preparer does that for its own parameter style)."""
        return '"' + name.replace('"', '""') + '"'

    def session(self, use: str) -> tuple[str, ...]:
        """The statements a connection made for ``use`` runs first: ``verify`` (what the
        digest SQL relies on), ``store`` (the platform store's durability)."""
        return self.sessions.get(use, ())

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"
