"""Destruction with proof: the kernel of ``handover shred`` and certificates of sanitization.

- :func:`handover.erase.plan.make_plan` lists what a run destroys (source tables and rows,
  packages, due diligence extracts, exports, temporary files, keys) and what it keeps
  under which retention rule; :func:`handover.erase.shred.execute` destroys and verifies;
  the step itself (dual control, gate, certificate) is :mod:`handover.flows.shred`;
- :func:`verify_certificate` checks a certificate's signature and ledger proofs.

See docs/erase.md for the methods per medium and their limits (NIST SP 800-88).
"""

from handover.erase.certificate import CertificateCheck, verify_certificate
from handover.erase.control import Actor, Gate
from handover.erase.methods import METHODS, Method
from handover.erase.plan import MEDIA, Plan, PlanItem, Scope
from handover.erase.retention import RetentionRule, load_rules
from handover.erase.shred import ShredResult

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
    "verify_certificate",
]
