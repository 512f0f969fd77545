"""Governance and access control: people and roles, logins, NDAs, training, vendors,
grants with maker-checker approval, and ``authorize``/``require`` (docs/governance.md).

Other modules call ``require(ws, action, resource)`` before touching data.
"""

from handover.governance.authorize import Decision, Resource, authorize, data_resource, require
from handover.governance.demo import DEMO_CAST, seed_demo_cast
from handover.governance.policy import ACTION_ROLES, ACTIONS, DATA_ACTIONS, MODES, ROLES
from handover.governance.session import current_actor, current_person, os_actor

__all__ = [
    "ACTIONS",
    "ACTION_ROLES",
    "DATA_ACTIONS",
    "DEMO_CAST",
    "MODES",
    "ROLES",
    "Decision",
    "Resource",
    "authorize",
    "current_actor",
    "current_person",
    "data_resource",
    "os_actor",
    "require",
    "seed_demo_cast",
]
