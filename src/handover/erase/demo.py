"""The demo's last stage: shred the seller's data and write the certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handover.demo import DemoContext


def step_shred(ctx: DemoContext) -> str:
    """Shred ``ctx.seller_db`` and every package/key of the demo; returns the summary line.

    Uses the verify an earlier demo step recorded; if none, verifies seller against buyer
    now; if there is no buyer database either, forces with the reason recorded.
    """
    from handover.erase import Scope, shred
    from handover.erase.control import norm_spec
    from handover.i18n import t
    from handover.ledger import entries

    ws, seller = ctx.ws, str(ctx.seller_db)
    verified = any(
        isinstance(e.details.get("source"), str)
        and norm_spec(e.details["source"]) == norm_spec(seller)
        for e in entries(ws, action="verify.run")
    )
    force, reason = False, None
    if not verified and ctx.buyer_db.exists():
        from handover.verify import verify

        verify(seller, str(ctx.buyer_db), ws=ws)
    elif not verified:
        force = True
        reason = "演示:本次演示没有迁移与校验步骤 / demo run without a migrate/verify step"
    result = shred(
        ws, Scope(source=seller), force=force, reason=reason, seed=ctx.seed, lang=ctx.lang
    )
    ctx.results["shred"] = result
    return t(
        "erase.done",
        ctx.lang,
        samples=result.samples,
        found=result.found,
        cert=result.certificate_dir,
        **result.counts(),
    )
