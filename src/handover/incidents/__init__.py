"""Incidents (docs/incidents.md): security events, incidents with a recorded decision,
grading per the CAC reporting measures, obligations per (regime, recipient) with legal
clocks from ``rules.toml``, reminders and escalations, reports, drills and early warning.

A kernel room: it keeps its tables and reports every change through the event sink it
is given; :mod:`handover.flows.incidents` authorises and hands it the ledger.
"""

from handover.incidents.affected import Affected, affected_people
from handover.incidents.duties import OpenDuty, Tick, open_duties
from handover.incidents.grading import decide_grade
from handover.incidents.incidents import Promotion
from handover.incidents.records import (
    CATEGORIES,
    FACTS,
    Incident,
    Obligation,
    Report,
    SecurityEvent,
    get_event,
    get_incident,
    list_events,
    list_incidents,
)
from handover.incidents.rules import GRADES, REGIMES, Rules, load_rules

__all__ = [
    "CATEGORIES",
    "FACTS",
    "GRADES",
    "REGIMES",
    "Affected",
    "Incident",
    "Obligation",
    "OpenDuty",
    "Promotion",
    "Report",
    "Rules",
    "SecurityEvent",
    "Tick",
    "affected_people",
    "decide_grade",
    "get_event",
    "get_incident",
    "list_events",
    "list_incidents",
    "load_rules",
    "open_duties",
]
