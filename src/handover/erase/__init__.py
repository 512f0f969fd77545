"""Destruction with proof: ``handover shred`` and certificates of sanitization.

- :func:`plan_shred` lists what a run destroys (source tables and rows, packages, due
  diligence extracts, exports, temporary files, keys) and what it keeps under which
  retention rule; :func:`shred` does it, verifies it and writes the signed certificate;
- :func:`verify_certificate` checks a certificate's signature and ledger proofs.

See docs/erase.md for the methods per medium and their limits (NIST SP 800-88).
"""

from handover.erase.certificate import CertificateCheck, verify_certificate
from handover.erase.control import Actor, Gate
from handover.erase.methods import METHODS, Method
from handover.erase.plan import MEDIA, Plan, PlanItem, Scope
from handover.erase.retention import RetentionRule, load_rules
from handover.erase.shred import ShredResult, plan_shred, shred

__all__ = [
    "MEDIA",
    "METHODS",
    "Actor",
    "CertificateCheck",
    "Gate",
    "Method",
    "Plan",
    "PlanItem",
    "RetentionRule",
    "Scope",
    "ShredResult",
    "load_rules",
    "plan_shred",
    "shred",
    "verify_certificate",
]
