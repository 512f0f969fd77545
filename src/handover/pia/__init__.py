"""Impact assessment (GB/T 39335-2020, PIPL Arts. 55–56), the risk register and the
compliance checklist evaluated from the ledger (docs/pia.md).

This room works on what it is given: the stored inventory, the workspace's transfer,
ledger entries and facts about people; ``handover.flows.pia`` authorises, gathers those
and records every step.
"""

from handover.pia.assessment import apply_edits, data_map, draft, gaps, read_edits
from handover.pia.checklist import Result, evaluate, load_checklist, score
from handover.pia.evidence import (
    Evidence,
    GrantFact,
    NdaFact,
    PersonFact,
    TrainingFact,
    VendorFact,
)
from handover.pia.method import load_method
from handover.pia.store import Assessment, Outcome, Risk

__all__ = [
    "Assessment",
    "Evidence",
    "GrantFact",
    "NdaFact",
    "Outcome",
    "PersonFact",
    "Result",
    "Risk",
    "TrainingFact",
    "VendorFact",
    "apply_edits",
    "data_map",
    "draft",
    "evaluate",
    "gaps",
    "load_checklist",
    "load_method",
    "read_edits",
    "score",
]
