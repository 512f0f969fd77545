"""Shared fixtures: temporary workspaces and real database servers.

Server fixtures create a fresh database per test and drop it afterwards. When a server
is absent the test is skipped with the reason, except under CI (``CI=true``) where a
missing server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN = os.environ.get("HANDOVER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIA_ADMIN = os.environ.get("HANDOVER_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(what: str, exc: Exception) -> None:
    reason = f"{what} not reachable ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def require_built(built: bool, module: str, needs: str) -> None:
    """Skip a test of the optional C module ``module`` where it was not built (no
    ``needs`` at install); under ``CI=true``, where ``make install`` builds every one, fail."""
    if not built:
        reason = f"{module} was not built (no {needs})"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


def _server_db(admin_url: str, what: str, prefix: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:
        _unavailable(what, exc)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from sqlalchemy import create_engine as _ce

        with admin.connect() as conn:
            if admin.dialect.name == "postgresql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()
        del _ce


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database on the machine's server."""
    yield from _server_db(PG_ADMIN, "PostgreSQL at 127.0.0.1:5432", "ho_test")


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """URL of a fresh, empty MariaDB database on the machine's server."""
    yield from _server_db(MARIA_ADMIN, "MariaDB at 127.0.0.1:3306", "ho_test")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[object]:
    """An initialised demo workspace in a temporary directory (SQLite store)."""
    from handover.flows.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("HANDOVER_") and not key.startswith("HANDOVER_TEST_"):
            monkeypatch.delenv(key, raising=False)
