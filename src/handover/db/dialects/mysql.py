"""MySQL and MariaDB: server-built CSV pages, session settings, types, digests, sanitization."""

from __future__ import annotations

from typing import ClassVar

from handover.db.dialects.base import Dialect


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


DIALECT = MySQL()
