"""What is engine-specific, one module per engine family, and the registry.

``get(name)`` gives the :class:`~handover.db.dialects.base.Dialect` of a SQLAlchemy
dialect or backend name (``sqlite``, ``postgresql``, ``mysql``, ``mariadb``). Each
module holds its engine's SQL: the fast read paths, the bulk write path, the session
settings, the type mapping of reflection and DDL, the digest SQL of ``verify`` and the
sanitization SQL of ``erase``. Adding an engine means adding one module and one line
to :data:`MODULES`. Modules load on first use (start-up stays light).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handover.db.dialects.base import Dialect

#: SQLAlchemy backend/dialect name → the module of its family (MariaDB is MySQL's)
MODULES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}


def family(name: str) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB and MySQL share one family); an
    engine handover does not know keeps its own name."""
    return MODULES.get(name, name)


def find(name: str) -> Dialect | None:
    """The dialect of the engine called ``name``, or None if handover does not know it."""
    module = MODULES.get(name)
    if module is None:
        return None
    dialect: Dialect = importlib.import_module(f"{__name__}.{module}").DIALECT
    return dialect


def get(name: str) -> Dialect:
    """The dialect of the engine called ``name``; LookupError if handover does not know it."""
    dialect = find(name)
    if dialect is None:
        raise LookupError(f"no dialect for engine {name!r}")
    return dialect


__all__ = ["MODULES", "family", "find", "get"]
