"""Database URLs: the one place a URL or a SQLite path is parsed, completed and masked.

A *spec* names a database: a SQLAlchemy URL (``postgresql://…``, ``mysql://…``,
``sqlite:///file.db``) or the path of a SQLite file. :func:`parse` gives a URL
handover's drivers (psycopg for PostgreSQL, PyMySQL with utf8mb4 for MySQL/MariaDB,
from the engine's dialect module); :func:`mask` is the one form shown to people and
written to reports, logs and the ledger (password as ``***``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from handover.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: shown instead of a URL that does not parse (it may hold a password anywhere)
UNPARSEABLE = "<unparseable URL>"


def read_only_uri(path: str | Path) -> str:
    """The SQLite URI file name that opens ``path`` read-only (``uri=True``), the path
    percent-quoted: a ``%``, ``?`` or ``#`` in a file name names that file, not another."""
    from urllib.parse import quote

    return f"file:{quote(str(path))}?mode=ro"


def is_url(spec: str | Path) -> bool:
    """True for a database URL, False for a path."""
    return "://" in str(spec)


def mask(spec: str | Path) -> str:
    """``spec`` with any password shown as ``***`` (safe for reports, logs and the
    ledger); a path as given."""
    s = str(spec)
    if not is_url(s):
        return s
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme, _, rest = s.partition("://")
    netloc, slash, tail = rest.partition("/")
    if netloc.count("@") > 1:  # an unescaped @ in the password: all of it is the password
        user = netloc.partition("@")[0].partition(":")[0]
        return _SECRET_QUERY.sub(
            r"\1***", f"{scheme}://{user}:***@{netloc.rpartition('@')[2]}{slash}{tail}"
        )
    try:
        shown = make_url(s).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return UNPARSEABLE
    # libpq and the MySQL drivers also take a password from the query (?password=…)
    return _SECRET_QUERY.sub(r"\1***", shown)


#: a query parameter of a URL whose value is a secret (``password``, ``sslpassword``,
#: ``passwd``, ``pwd``, a ``secret`` or ``token``), up to its end
_SECRET_QUERY = re.compile(r"([?&][^=&#]*(?:pass|pwd|secret|token)[^=&#]*=)[^&#]*", re.IGNORECASE)


def parse(url: str, *, own_driver: bool = False) -> URL:
    """``url`` parsed, with handover's driver where it names none and the engine's
    connection defaults (MySQL/MariaDB: utf8mb4); ``own_driver``: handover's driver even
    where another is named (the bulk paths need it). :class:`BadInput` (masked) if
    ``url`` is no URL (a path included: see :func:`to_url`)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    s = str(url)
    if not is_url(s):
        raise BadInput.msg("db.not_url", url=s)
    try:
        parsed = make_url(s)
    except (ArgumentError, ValueError):
        raise BadInput.msg("db.not_url", url=mask(s)) from None
    from handover.db import dialects

    dialect = dialects.find(parsed.get_backend_name())
    if dialect is None:
        return parsed
    if dialect.driver and ("+" not in parsed.drivername or own_driver):
        name = parsed.get_backend_name()
        name = name if name in dialect.backends else dialect.name  # postgres: an old alias
        parsed = parsed.set(drivername=f"{name}+{dialect.driver}")
    missing = {k: v for k, v in dialect.url_query.items() if k not in parsed.query}
    return parsed.update_query_dict(missing) if missing else parsed


def to_url(spec: str | Path) -> str:
    """:func:`parse` as a URL string, password included (for an engine, never for display);
    a path as ``sqlite:///`` and its absolute path, written as is."""
    if not is_url(spec):
        return f"sqlite:///{Path(spec).resolve()}"
    return parse(str(spec)).render_as_string(hide_password=False)


def backend(spec: str | Path) -> str:
    """The engine family ``spec`` names: ``sqlite`` for a path, else the URL's family
    (``postgresql``, ``mysql`` for MariaDB too, or the backend as SQLAlchemy names it)."""
    from handover.db.dialects import family

    return "sqlite" if not is_url(spec) else family(parse(str(spec)).get_backend_name())


#: names of this machine a server URL may use (a loopback address is also one)
_THIS_MACHINE = ("localhost", "::1", "", "0.0.0.0", "[::1]")


def _loopback(host: str) -> bool:
    """An address of this machine's loopback (``127.0.0.0/8``, ``::1``)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name
        return False


def place(spec: str | Path) -> str:
    """Where ``spec`` is, whatever its spelling: a SQLite file's absolute path (given as a
    path or a ``sqlite:///`` URL); a server database's family, host, port and database,
    whatever driver, user or password the URL names (``postgresql+psycopg://u@localhost/db``
    is ``postgresql://127.0.0.1:5432/db``); a URL that does not parse, masked."""
    path = sqlite_path(spec)
    if path is not None:
        return str(path.resolve())
    try:
        url = parse(str(spec))
    except BadInput:
        return mask(spec)
    kind = backend(spec)
    # the host after the last @ (an unescaped @ in a password is not the host's); this
    # machine however it is named: its name, localhost, any loopback or 0.0.0.0
    host = (url.host or "").rpartition("@")[2].lower()
    if host in _THIS_MACHINE or _loopback(host) or host == socket.gethostname().lower():
        host = "127.0.0.1"
    port = url.port or {"postgresql": 5432, "mysql": 3306}.get(kind)
    return f"{kind}://{host}:{port}/{url.database}"


def located(**specs: str | Path | None) -> dict[str, str]:
    """The :func:`place` of each named spec (``source=…, target=…``; None left out): what a
    ledger event records beside the spelling it shows, so that a later command finds the
    same data whatever folder it runs in or however it spells the address."""
    return {role: place(spec) for role, spec in specs.items() if spec}


def sqlite_path(spec: str | Path) -> Path | None:
    """The SQLite file ``spec`` names (a path, or a ``sqlite:///`` URL); None for a server
    database, an in-memory SQLite or a URL that does not parse."""
    if not is_url(spec):
        return Path(spec)
    try:
        url = parse(str(spec))
    except BadInput:
        return None
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)
