"""Create and open a workspace: handover.toml, the platform store, keys/packages/reports.

What a new workspace needs beyond its folders and store (the signing key, the ledger's
first entry, the demo cast) is set up by :func:`handover.flows.workspace.init_workspace`
through the ``setup`` hook, inside the same all-or-nothing creation.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import tomli_w

from handover.errors import BadInput, CheckFailed
from handover.settings import TOML_NAME, Settings, Transfer, load_settings
from handover.store import Store, open_store

SUBDIRS = ("keys", "packages", "reports", "exports")

DEMO_TRANSFER: dict[str, Any] = {
    "name": "示例小贷公司股权转让 / Demo small-loan company transfer",
    "purpose": "继续向原借款人提供贷款服务并管理存量借据(原处理目的不变)",
    "announced": dt.date(2026, 12, 1),
    "closing": dt.date(2027, 1, 15),
    "seller": {
        "name": "示例市诚信小额贷款有限公司",
        "contact": "王敏(个人信息保护负责人)",
        "phone": "0571-88880000",
        "email": "dpo@seller.example.cn",
        "address": "浙江省杭州市西湖区文三路 100 号",
    },
    "buyer": {
        "name": "示例普惠金融控股有限公司",
        "contact": "李强(个人信息保护负责人)",
        "phone": "021-66660000",
        "email": "privacy@buyer.example.cn",
        "address": "上海市浦东新区世纪大道 200 号",
    },
    "advisor": {
        "name": "示例律师事务所",
        "contact": "陈律师",
        "phone": "010-55550000",
        "email": "deal@advisor.example.cn",
        "address": "北京市朝阳区建国路 300 号",
    },
}


@dataclass
class Workspace:
    """An initialised workspace: its settings and its open store."""

    settings: Settings
    store: Store

    @property
    def path(self) -> Path:
        return self.settings.workspace

    @property
    def zone(self) -> ZoneInfo:
        """The workspace's time zone (``[incidents] timezone``, default Asia/Shanghai): the
        calendar NDAs, grants, reviews, retention and duties in days are written in."""
        return ZoneInfo(self.settings.incidents.timezone)

    def local_date(self, at: dt.datetime) -> dt.date:
        """The calendar date of instant ``at`` (naive: UTC) in :attr:`zone`: 00:00-08:00
        in Beijing is still the day before in UTC."""
        aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
        return aware.astimezone(self.zone).date()

    def close(self) -> None:
        self.store.dispose()


def create_workspace(
    path: Path,
    transfer: dict[str, Any] | None = None,
    *,
    demo: bool = False,
    database_url: str | None = None,
    lang: str = "zh-CN",
    setup: Callable[[Workspace], None] | None = None,
) -> Workspace:
    """Create the workspace at ``path``, then run ``setup`` on it; on any failure (in
    ``setup`` too) leave nothing behind.

    ``transfer`` is the ``[transfer]`` table (validated); ``demo`` marks a demo workspace.
    """
    toml_path = path / TOML_NAME
    if toml_path.exists():
        raise BadInput.msg("workspace.exists", path=path)
    if transfer is None:
        if not demo:
            raise BadInput.msg("workspace.needs_parties")
        transfer = DEMO_TRANSFER
    try:
        Transfer.model_validate(transfer)
    except Exception as exc:
        raise BadInput.msg(
            "workspace.bad_transfer", path=toml_path, detail=str(exc).splitlines()[0]
        ) from None
    if path.exists() and not path.is_dir():
        raise BadInput.msg("workspace.not_a_dir", path=path)
    created_dir = not path.exists()
    created: list[Path] = []
    store_files = [Path(str(path / "handover.db") + sfx) for sfx in ("", "-wal", "-shm")]
    created += [p for p in store_files if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            p = path / sub
            if not p.exists():
                p.mkdir()
                created.append(p)
        (path / "keys").chmod(0o700)
        doc: dict[str, Any] = {"lang": lang, "demo": demo, "transfer": _clean(transfer)}
        if database_url:
            doc["database_url"] = database_url
        toml_path.write_bytes(tomli_w.dumps(doc).encode("utf-8"))
        created.append(toml_path)
        settings = load_settings(path)
        store = open_store(settings.store_url)
        ws = Workspace(settings, store)
        _record_transfer(ws)
        if setup is not None:
            setup(ws)
        return ws
    except PermissionError as exc:
        _rollback(path, created_dir, created)
        raise BadInput.msg("workspace.not_writable", path=exc.filename or path) from None
    except OSError as exc:
        _rollback(path, created_dir, created)
        raise BadInput.msg(
            "workspace.os_error",
            path=exc.filename or path,
            reason=exc.strerror or type(exc).__name__,
        ) from None
    except BaseException:
        _rollback(path, created_dir, created)
        raise


def open_workspace(path: Path | str | None = None, **overrides: Any) -> Workspace:
    """Open an initialised workspace (raises :class:`BadInput` if there is none).

    The store of an initialised workspace is never created again: a store file that is
    missing, empty, unreadable, or a database without handover's schema is
    :class:`CheckFailed` naming it (the ledger and every record live there; a fresh one
    would pass for an intact, empty history).
    """
    settings = load_settings(path, **overrides)
    if not settings.toml_path.is_file():
        raise BadInput.msg("workspace.missing", path=settings.workspace)
    return Workspace(settings, open_existing_store(settings.store_url, settings.workspace))


def open_existing_store(url: str, workspace: Path) -> Store:
    """The store of the initialised ``workspace`` at ``url``, upgraded; CheckFailed naming
    the file (or masked URL) when it is not there or not a handover store."""
    from handover.db.url import mask, sqlite_path

    file = sqlite_path(url)
    shown: object = file if file is not None else mask(url)
    if file is not None and not file.is_file():
        raise CheckFailed.msg("workspace.store_missing", path=file, workspace=workspace)
    if file is not None and file.stat().st_size == 0:
        raise CheckFailed.msg("workspace.store_empty", path=file, workspace=workspace)
    if file is not None:
        _check_store_file(file, workspace)
    store = open_store(url, upgrade=False)
    try:
        if not store.current_heads():
            raise CheckFailed.msg("workspace.store_foreign", store=shown, workspace=workspace)
        store.upgrade()
    except BaseException:
        store.dispose()
        raise
    return store


def _check_store_file(file: Path, workspace: Path) -> None:
    """CheckFailed naming ``file`` unless it is a SQLite database holding handover's schema,
    checked read-only: opening the store proper switches a file to WAL, a change a
    damaged or foreign file must not get."""
    import sqlite3

    from handover.db.url import read_only_uri

    try:
        con = sqlite3.connect(read_only_uri(file), uri=True)
        try:
            found = con.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                ("alembic_version",),
            ).fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckFailed.msg("workspace.store_damaged", path=file, reason=reason) from None
    if not found:
        raise CheckFailed.msg("workspace.store_foreign", store=file, workspace=workspace)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    return value


def _record_transfer(ws: Workspace) -> None:
    from handover.store.models import TransferRow

    tr = ws.settings.transfer
    assert tr is not None
    with ws.store.session() as s:
        s.add(
            TransferRow(
                name=tr.name,
                created_at=dt.datetime.now(dt.UTC),
                parties=tr.model_dump(mode="json"),
            )
        )


def _rollback(path: Path, created_dir: bool, created: list[Path]) -> None:
    if created_dir:
        shutil.rmtree(path, ignore_errors=True)
        return
    for p in reversed(created):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
