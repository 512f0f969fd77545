"""The backup taken before a migration: a sealed package of the source.

Sealing belongs to ``handover.package`` (``backup(ws, source, name=…)``). Where that stage
is not installed this module refuses honestly instead of pretending a backup was taken;
``migrate`` then needs ``--no-backup`` with a recorded ``--reason``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from handover.errors import Refused
from handover.i18n import t

if TYPE_CHECKING:
    from handover.governance import Decision
    from handover.workspace import Workspace


def backup_available() -> bool:
    """True if the sealing stage (``handover.package``) is installed and offers ``backup``."""
    try:
        mod = importlib.import_module("handover.package")
    except ImportError:
        return False
    return callable(getattr(mod, "backup", None))


def take_backup(
    ws: Workspace,
    source: str,
    *,
    run_id: str,
    lang: str = "zh-CN",
    authorized: Decision | None = None,
) -> dict[str, Any]:
    """Seal ``source`` into a backup package in the workspace and return its description.

    Raises :class:`Refused` when the sealing stage is not available. The package is
    ``handover.package.backup`` (``packages/backup-<run>``), restorable with ``handover restore``;
    ``authorized`` is the migration's decision, which covers its backup.
    """
    if not backup_available():
        raise Refused(t("migrate.backup_unavailable", lang))
    from handover.package import backup

    return backup(ws, source, name=f"backup-{run_id}", lang=lang, authorized=authorized).to_json()
