"""The platform store: SQLAlchemy 2 + Alembic; SQLite in the workspace or PostgreSQL by URL."""

from handover.store.store import Store, open_store

__all__ = ["Store", "open_store"]
