"""De-identification for due diligence: tokens, masking, generalisation, free-text tags,
k-anonymity (GB/T 35273-2020, GB/T 37964-2019). See docs/deid.md."""

from handover.deid.extract import ColumnPlan, ExtractResult, dd_extract, plan_tables
from handover.deid.kanon import KReport, k_anonymity

__all__ = ["ColumnPlan", "ExtractResult", "KReport", "dd_extract", "k_anonymity", "plan_tables"]
