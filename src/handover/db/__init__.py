"""The one database layer: URLs, connections, reflection and per-engine SQL.

- :mod:`handover.db.url`: the one place a database URL or SQLite path is parsed, given
  handover's drivers and masked for display;
- :mod:`handover.db.connect`: engines with the session settings a use needs, and the
  one-line :class:`~handover.errors.BadInput` when a database cannot be reached;
- :mod:`handover.db.reflect`: reflection into one engine-neutral table description
  (:class:`~handover.db.reflect.TableDef`);
- :mod:`handover.db.dialects`: what is engine-specific — fast read paths, bulk write
  paths, type mapping, digest and sanitization SQL — one module per engine.

A base room: it imports only the core modules (errors, i18n), never a kernel.
"""

from handover.db.url import is_url, mask, parse, sqlite_path, to_url

__all__ = ["is_url", "mask", "parse", "sqlite_path", "to_url"]
