"""De-identification for due diligence: tokens, masking, generalisation hierarchies, the
least-loss k-anonymity search, free-text tags (GB/T 35273-2020, GB/T 37964-2019). See
docs/deid.md."""

from handover.deid.anonymize import Anonymisation, Policy, QuasiIdentifier, anonymise
from handover.deid.extract import (
    ColumnPlan,
    ExtractResult,
    parse_l_diversity,
    plan_tables,
)
from handover.deid.kanon import KReport, k_anonymity

__all__ = [
    "Anonymisation",
    "ColumnPlan",
    "ExtractResult",
    "KReport",
    "Policy",
    "QuasiIdentifier",
    "anonymise",
    "k_anonymity",
    "parse_l_diversity",
    "plan_tables",
]
