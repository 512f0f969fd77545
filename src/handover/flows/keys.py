"""``handover keys create/rotate/destroy``: a person's own key operations, authorised as
``key.manage`` on the key's tier, each change recorded as theirs."""

from __future__ import annotations

from handover.claims import EVERYTHING, claiming
from handover.crypto.keys import KeyInfo, Keys, check_key_args
from handover.errors import BadInput
from handover.governance import require
from handover.ledger import Recorder
from handover.workspace import Workspace


def _key_resource(tier: str | None) -> str:
    # A key opens, in clear, the data of its tier; a key without one may protect any tier.
    return f"{tier}/clear" if tier else "C1,C2,C3/clear"


def create_key(ws: Workspace, purpose: str, tier: str | None = None) -> KeyInfo:
    """Create a key for a person: authorised as ``key.manage`` on the key's tier (no tier:
    every tier), clear; Refused (exit 3) before anything is created."""
    tier = check_key_args(purpose, tier)
    decision = require(ws, "key.manage", _key_resource(tier))
    with Keys(ws, events=Recorder(ws, decision.actor)) as keys:
        return keys.create(purpose, tier)


def rotate_key(ws: Workspace, key_id: str) -> KeyInfo:
    """Rotate a key for a person: authorised as ``key.manage`` on the key's tier, clear."""
    with Keys(ws) as keys:
        decision = require(ws, "key.manage", _key_resource(keys.active(key_id).tier))
        keys.events = Recorder(ws, decision.actor)
        return keys.rotate(key_id)


@claiming("key.destroy", lambda **_: EVERYTHING)
def destroy_key(ws: Workspace, key_id: str, reason: str) -> KeyInfo:
    """Destroy a key (crypto-erase) for a person: authorised as ``key.manage`` on the
    key's tier, clear; Refused (exit 3) leaves the key untouched."""
    if not reason.strip():
        raise BadInput.msg("crypto.destroy_needs_reason")
    with Keys(ws) as keys:
        decision = require(ws, "key.manage", _key_resource(keys.active(key_id).tier))
        keys.events = Recorder(ws, decision.actor)
        return keys.destroy(key_id, reason)
