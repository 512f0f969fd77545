"""Row-exact verification of a migrated database: ``verify(source, target)``."""

from __future__ import annotations

from handover.sources import mask_spec
from handover.verify.verify import TableResult, VerifyResult, connect, verify

__all__ = ["TableResult", "VerifyResult", "connect", "mask_spec", "verify"]
