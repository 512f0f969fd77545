"""PII types → PIPL Art. 28 sensitivity → JR/T 0171 tier → JR/T 0197 level → masking rule.

The one table lives in :mod:`handover.taxonomy.table`; docs/taxonomy.md is generated
from it (``python -m handover.taxonomy``) and a test keeps the two identical.
"""

from handover.taxonomy.table import (
    COMPOUND_SURNAMES,
    LEVEL_OF_TIER,
    TAXONOMY,
    MaskRule,
    PiiType,
    Tier,
    get,
    level_of,
    markdown,
    mask_value,
    strongest_tier,
)

__all__ = [
    "COMPOUND_SURNAMES",
    "LEVEL_OF_TIER",
    "TAXONOMY",
    "MaskRule",
    "PiiType",
    "Tier",
    "get",
    "level_of",
    "markdown",
    "mask_value",
    "strongest_tier",
]
