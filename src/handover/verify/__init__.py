"""Row-exact verification of a migrated database: ``compare(source, target)``; the
authorised, recorded step is :func:`handover.flows.verify.verify`."""

from __future__ import annotations

from handover.verify.plan import connect
from handover.verify.results import TableResult, VerifyResult
from handover.verify.verify import compare

__all__ = ["TableResult", "VerifyResult", "compare", "connect"]
