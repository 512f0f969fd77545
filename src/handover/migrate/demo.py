"""The demo's migrate stage: the seller's SQLite database into the buyer's."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handover.demo import DemoContext


def step_migrate(ctx: DemoContext) -> str:
    """Migrate ``ctx.seller_db`` into ``ctx.buyer_db`` (a fresh file); returns the summary line.

    Takes the sealed backup first when the package stage is installed; otherwise runs
    with ``--no-backup --reason demo`` and says so.
    """
    from handover.i18n import t
    from handover.migrate import MigrateOptions, backup_available, migrate

    if ctx.buyer_db.exists():
        ctx.buyer_db.unlink()
    with_backup = backup_available()
    opts = MigrateOptions(
        no_backup=not with_backup, reason=None if with_backup else "demo", lang=ctx.lang
    )
    res = migrate(ctx.ws, str(ctx.seller_db), str(ctx.buyer_db), opts)
    ctx.results["migrate"] = res
    key = "demo.migrate.done_backup" if with_backup else "demo.migrate.done"
    package = (res.backup or {}).get("package", "")
    return t(
        key,
        ctx.lang,
        tables=len(res.tables),
        rows=res.rows,
        target=ctx.buyer_db.name,
        seconds=res.seconds,
        package=package,
    )
