"""The demo's sealing and due-diligence steps (called from :mod:`handover.demo`)."""

from __future__ import annotations

from typing import Any

import handover.deid.messages
import handover.package.messages  # noqa: F401  (the step titles)
from handover.i18n import t


def step_seal(ctx: Any) -> str:
    """Seal the demo seller database into ``packages/transfer`` and check it fully."""
    from handover.package import seal, verify_package

    out = ctx.ws.settings.packages_dir / "transfer"
    out.parent.mkdir(parents=True, exist_ok=True)
    res = seal(ctx.ws, str(ctx.seller_db), out, lang=ctx.lang)
    verify_package(ctx.ws, out, lang=ctx.lang)
    ctx.results["seal"] = res
    return t(
        "package.sealed",
        ctx.lang,
        tables=len(res.tables),
        rows=res.rows,
        path=res.package,
        mb=res.bytes / 1e6,
        seconds=res.seconds,
    )


def step_dd(ctx: Any) -> str:
    """Write the due-diligence extract of the demo seller database into ``reports/dd-extract``."""
    from handover.deid import dd_extract

    res = dd_extract(
        ctx.ws, str(ctx.seller_db), ctx.ws.settings.reports_dir / "dd-extract", lang=ctx.lang
    )
    ctx.results["dd"] = res
    below = [r.table for r in res.kanon if not r.satisfied]
    return t(
        "deid.done",
        ctx.lang,
        path=res.out,
        tables=len(res.tables),
        rows=res.rows,
        key_id=res.token_key,
        k=5,
        below=", ".join(below) or "-",
    )
