"""MySQL and MariaDB: server-built CSV pages, session settings, types, digests, sanitization."""

from __future__ import annotations

from typing import Any, ClassVar

from handover.db.dialects.base import Dialect, Kind


class MySQL(Dialect):
    """MySQL/MariaDB through PyMySQL, always in utf8mb4."""

    name: ClassVar[str] = "mysql"
    backends: ClassVar[tuple[str, ...]] = ("mysql", "mariadb")
    driver: ClassVar[str | None] = "pymysql"
    url_query: ClassVar[dict[str, str]] = {"charset": "utf8mb4"}
    sessions: ClassVar[dict[str, tuple[str, ...]]] = {
        # temporal values compare and print in UTC, as every other engine holds them
        "verify": ("SET time_zone = '+00:00'",),
    }

    def quote(self, name: str) -> str:
        """``name`` quoted with backticks."""
        return "`" + name.replace("`", "``") + "`"

    # --- reflection ------------------------------------------------------------------

    def kind_of(self, t: Any) -> Kind | None:
        """TINYINT(1) is MariaDB's BOOLEAN; YEAR and MEDIUMINT are small integers; a SET
        holds a comma-separated list of its members, up to all of them."""
        from sqlalchemy.dialects import mysql

        if isinstance(t, mysql.TINYINT):
            if getattr(t, "display_width", None) == 1:
                return "bool", None, None, None
            return "int16", None, None, None
        if isinstance(t, mysql.YEAR):
            return "int16", None, None, None
        if isinstance(t, mysql.MEDIUMINT):
            return "int32", None, None, None
        if isinstance(t, mysql.DOUBLE):
            return "float64", None, None, None
        if isinstance(t, mysql.SET):
            members = [str(v) for v in t.values]
            return "string", max(sum(len(v) for v in members) + len(members) - 1, 1), None, None
        return None


DIALECT = MySQL()
