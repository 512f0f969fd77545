"""``handover claims``: what running commands hold on this workspace, and releasing the
claims of a holder known to be gone (a console or command on another host that died:
its process cannot be checked from here). See :mod:`handover.claims`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handover import claims
from handover.errors import BadInput
from handover.governance.policy import MANAGE

if TYPE_CHECKING:
    from handover.workspace import Workspace


def held_claims(ws: Workspace) -> list[dict[str, Any]]:
    """Every claim held, oldest first, with whether its holder lives (None: unknown)."""
    return claims.listing(ws.store)


def release_claims(
    ws: Workspace, ids: list[int], reason: str, *, actor: str | None = None
) -> list[dict[str, Any]]:
    """Remove the claims ``ids``, authorised as ``governance.manage``; records
    ``claims.release`` with the reason. A claim whose holder lives on this host is
    refused: it is released when its command ends."""
    from handover.governance import require
    from handover.ledger import record

    if not reason.strip():
        raise BadInput.msg("claims.needs_reason")
    if not ids:
        raise BadInput.msg("claims.no_ids")
    decision = require(ws, MANAGE, "*", actor=actor)
    for c in claims.listing(ws.store):
        if c["id"] in ids and c["lives"] is True:
            raise BadInput.msg("claims.still_running", id=c["id"], who=c["who"])
    gone = claims.release(ws.store, ids)
    record(
        ws,
        decision.actor,
        "claims.release",
        ",".join(str(c["id"]) for c in gone),
        reason,
        {"claims": [{k: c[k] for k in ("id", "kind", "who")} for c in gone]},
    )
    return gone
