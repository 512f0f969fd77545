"""Pieces shared by the typed results of steps (STYLE.md habit 3)."""

from __future__ import annotations

from typing import Any


class PerTableRows:
    """Mixin for a result that lists one summary per table, each with a ``rows`` count."""

    tables: list[dict[str, Any]]

    @property
    def rows(self) -> int:
        """Rows over all tables."""
        return sum(int(x["rows"]) for x in self.tables)
