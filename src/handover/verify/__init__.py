"""Row-exact verification of a migrated database: ``compare(source, target)``; the
authorised, recorded step is :func:`handover.flows.verify.verify`."""

from __future__ import annotations

from handover.verify.verify import TableResult, VerifyResult, compare, connect

__all__ = ["TableResult", "VerifyResult", "compare", "connect"]
