"""PostgreSQL: COPY in and out, session settings, types, digests and sanitization."""

from __future__ import annotations

from typing import Any, ClassVar

from handover.db.dialects.base import Dialect


class PostgreSQL(Dialect):
    """PostgreSQL through psycopg 3."""

    name: ClassVar[str] = "postgresql"
    backends: ClassVar[tuple[str, ...]] = ("postgresql",)
    driver: ClassVar[str | None] = "psycopg"
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        # the digest SQL renders dates as ISO text (YYYY-MM-DD); JIT compilation costs more
        # than it saves on one-pass queries whose row estimates are inflated
        "verify": ("SET DateStyle = 'ISO'", "SET jit = off"),
    }

    # --- reflection ------------------------------------------------------------------

    def autoincrement(self, info: dict[str, Any], auto: bool, *, sole_int_pk: bool) -> bool:
        """An identity column, or a ``serial`` one (its default draws from a sequence)."""
        return auto or str(info.get("default") or "").startswith("nextval(")


DIALECT = PostgreSQL()
