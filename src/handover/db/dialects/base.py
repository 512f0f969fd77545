"""What every dialect module provides; defaults are standard SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import sqlalchemy as sa

    from handover.db.reflect import TableDef

#: (kind, length, precision, scale) of a neutral column; kind None: unsupported
Kind = tuple[str | None, int | None, int | None, int | None]


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
    #: dates and times are typed values the engine prints in its own spelling (not text
    #: as SQLite stores it), and column comments may carry a SQLite column's description
    typed_temporals: ClassVar[bool] = True

    def quote(self, name: str) -> str:
        """``name`` quoted as an identifier, for SQL run without parameters (a ``%`` is
        not doubled: SQLAlchemy's preparer does that for its own parameter style)."""
        return '"' + name.replace('"', '""') + '"'

    def session(self, use: str) -> tuple[str, ...]:
        """The statements a connection made for ``use`` runs first: ``verify`` (what the
        digest SQL relies on), ``store`` (the platform store's durability)."""
        return self.sessions.get(use, ())

    # --- reflection ------------------------------------------------------------------

    def kind_of(self, t: Any) -> Kind | None:
        """The neutral kind of a reflected SQLAlchemy type where this engine differs from
        the standard reading (checked after NULL and BOOLEAN); None: the standard one."""
        return None

    def is_integer_key(self, t: Any) -> bool:
        """Whether a sole primary key column of type ``t`` may be auto-assigned."""
        import sqlalchemy as sa

        return isinstance(t, sa.Integer)

    def autoincrement(self, info: dict[str, Any], auto: bool, *, sole_int_pk: bool) -> bool:
        """Whether the reflected column ``info`` is auto-assigned, given what SQLAlchemy
        says (``auto``) and whether it is the table's sole integer key."""
        return auto

    def native_tables(
        self, conn: sa.Connection, defs: list[TableDef], *, spellings: bool = True
    ) -> list[TableDef]:
        """``defs`` with what only this engine's own catalogue says (nothing by default)."""
        return defs

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"
