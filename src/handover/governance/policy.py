"""The fixed vocabulary of governance: roles, organisation kinds, actions, modes, tiers.

Kept in one module so the CLI, the docs and the authorisation matrix test read the same
lists. ``ACTION_ROLES`` says which roles may attempt an action at all; a grant, an NDA
and current training are still needed for every data-touching action.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Literal

from handover.errors import MAX_ID, BadInput

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from handover.workspace import Workspace

ROLES: tuple[str, ...] = (
    "dpo",
    "compliance_officer",
    "data_engineer",
    "dd_analyst",
    "approver",
    "auditor",
    "vendor_staff",
)
#: roles of service accounts (a cron job, not a person): given only by ``people service``,
#: never by ``people add`` or ``people role``; each can do exactly its one action
SERVICE_ROLES: tuple[str, ...] = ("incident_clock", "sms_hook")
ORG_KINDS: tuple[str, ...] = ("seller", "buyer", "advisor", "vendor")

DATA_ACTIONS: tuple[str, ...] = (
    "scan.evidence",
    "dd.extract",
    "seal",
    "unseal",
    "migrate",
    "verify",
    "shred",
    "key.manage",
    "notices.send",
)
MANAGE = "governance.manage"
# Actions on the assessment and the compliance evidence: they touch no personal data
# (the PIA holds counts and column names), so a role is enough, like MANAGE.
PIA_EDIT = "pia.edit"
PIA_APPROVE = "pia.approve"
COMPLIANCE = "compliance.check"
# Incident handling (docs/incidents.md): anyone registered may report a security event;
# the DPO or compliance officer promotes, grades, reports, drills and closes.
INCIDENT_REPORT = "incident.report"
INCIDENT_MANAGE = "incident.manage"
# Checking the clocks (`incidents tick`) and the early-warning rules (`incidents warn`):
# anyone registered, and the `incident_clock` service account run from cron.
INCIDENT_TICK = "incident.tick"
# What the SMS provider reports back (delivery receipts, people's replies): settled in the
# outbox by keyed token, no clear value kept; the DPO or compliance officer imports them,
# and the provider pushes them through the console as the `sms_hook` service account.
NOTICES_RECEIPTS = "notices.receipts"
#: actions decided on the person's role alone: they touch records about the data, not the data
ROLE_ACTIONS: tuple[str, ...] = (
    MANAGE,
    PIA_EDIT,
    PIA_APPROVE,
    COMPLIANCE,
    INCIDENT_REPORT,
    INCIDENT_MANAGE,
    INCIDENT_TICK,
    NOTICES_RECEIPTS,
)
ACTIONS: tuple[str, ...] = (*DATA_ACTIONS, *ROLE_ACTIONS)

ACTION_ROLES: dict[str, frozenset[str]] = {
    "scan.evidence": frozenset({"dpo", "compliance_officer", "data_engineer"}),
    "dd.extract": frozenset({"dd_analyst", "data_engineer"}),
    "seal": frozenset({"data_engineer"}),
    "unseal": frozenset({"data_engineer", "vendor_staff"}),
    "migrate": frozenset({"data_engineer", "vendor_staff"}),
    "verify": frozenset({"data_engineer", "auditor", "compliance_officer", "vendor_staff"}),
    "shred": frozenset({"data_engineer", "vendor_staff"}),
    "key.manage": frozenset({"data_engineer", "dpo"}),
    # PIPL Art. 22 notices read the contact columns in clear; the DPO answers for them.
    "notices.send": frozenset({"dpo", "compliance_officer"}),
    MANAGE: frozenset({"dpo", "compliance_officer"}),
    PIA_EDIT: frozenset({"dpo", "compliance_officer"}),
    # GB/T 39335-2020 5.2.1: a named person signs the report; the DPO or an approver.
    PIA_APPROVE: frozenset({"dpo", "approver"}),
    COMPLIANCE: frozenset({"dpo", "compliance_officer", "auditor"}),
    INCIDENT_REPORT: frozenset(ROLES),
    INCIDENT_MANAGE: frozenset({"dpo", "compliance_officer"}),
    INCIDENT_TICK: frozenset({*ROLES, "incident_clock"}),
    NOTICES_RECEIPTS: frozenset({"dpo", "compliance_officer", "sms_hook"}),
}

# Who acts in a demo workspace when nobody is logged in (docs/governance.md, demo cast).
DEMO_ACTORS: dict[str, str] = {
    "scan.evidence": "zhaolei",
    "dd.extract": "chenjing",
    "seal": "zhaolei",
    "unseal": "zhaolei",
    "migrate": "zhaolei",
    "verify": "liuyang",
    "shred": "zhaolei",
    "key.manage": "zhaolei",
    "notices.send": "wangmin",
    MANAGE: "wangmin",
    PIA_EDIT: "wangmin",
    PIA_APPROVE: "liqiang",
    COMPLIANCE: "wangmin",
    INCIDENT_REPORT: "wangmin",
    INCIDENT_MANAGE: "wangmin",
    INCIDENT_TICK: "wangmin",
    NOTICES_RECEIPTS: "wangmin",
}

MODES: tuple[str, ...] = ("masked", "tokenised", "clear")
MODE_RANK = {m: i for i, m in enumerate(MODES)}
TIERS: tuple[str, ...] = ("C1", "C2", "C3")
ALL = "*"

NAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
ITEM = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
EXPIRING_DAYS = 30
SESSION_HOURS = 8
MAX_SESSION_HOURS = 24
MIN_PASSWORD = 10


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime (SQLite hands stored times back naive)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def now_utc(now: dt.datetime | None = None) -> dt.datetime:
    """The injected time, or the real clock, as aware UTC."""
    return utc(now) if now is not None else dt.datetime.now(dt.UTC)


def local_zone(ws: Workspace) -> ZoneInfo:
    """The workspace's time zone (:attr:`Workspace.zone`): the calendar NDAs, vendor
    reassessments and grant start dates are written in."""
    return ws.zone


def local_date(ws: Workspace, at: dt.datetime) -> dt.date:
    """The calendar date of instant ``at`` in the workspace's time zone
    (:meth:`Workspace.local_date`)."""
    return ws.local_date(at)


def local_text(ws: Workspace, at: dt.datetime, sep: str = " ") -> str:
    """Instant ``at`` as local date and minute with its offset: ``2027-01-01 00:00+08:00``."""
    return utc(at).astimezone(local_zone(ws)).isoformat(sep=sep, timespec="minutes")


def local_midnight(ws: Workspace, day: dt.date) -> dt.datetime:
    """00:00 local time on ``day``, as aware UTC."""
    return utc(dt.datetime.combine(day, dt.time(), local_zone(ws)))


def check_id(value: int, key: str) -> int:
    """A record id the store can hold; BadInput ``key`` (which names the record) for any
    other number, so that 99999999999999999999 is "no such record", not a crash."""
    if not 0 < value <= MAX_ID:
        raise BadInput.msg(key, id=value)
    return value


def check_name(name: str) -> str:
    """A login name: lower-case letters, digits, ``.``, ``_``, ``-`` (2–64 characters)."""
    if not NAME.match(name):
        raise BadInput.msg("gov.bad_name", name=name)
    return name


def check_role(role: str) -> str:
    """One of :data:`ROLES`."""
    if role not in ROLES:
        raise BadInput.msg("gov.bad_role", role=role, roles=", ".join(ROLES))
    return role


def check_action(action: str) -> str:
    """One of :data:`ACTIONS`."""
    if action not in ACTIONS:
        raise BadInput.msg("gov.bad_action", action=action, actions=", ".join(ACTIONS))
    return action


def check_mode(mode: str) -> str:
    """One of :data:`MODES` (``tokenized`` is accepted for ``tokenised``)."""
    mode = "tokenised" if mode == "tokenized" else mode
    if mode not in MODES:
        raise BadInput.msg("gov.bad_mode", mode=mode, modes=", ".join(MODES))
    return mode


def parse_items(
    text: str | list[str] | tuple[str, ...],
    what: Literal["scope", "nda_scope", "resource"] = "scope",
) -> tuple[str, ...]:
    """Scope items: ``*``, tiers ``C1``/``C2``/``C3``, ``table`` or ``table.column``;
    ``what`` (``scope``, ``nda_scope`` or ``resource``) names the list in errors."""
    raw = text.split(",") if isinstance(text, str) else list(text)
    items: list[str] = []
    for part in raw:
        item = part.strip()
        if not item:
            continue
        if item.upper() in TIERS:
            item = item.upper()
        elif item != ALL and not ITEM.match(item):
            raise BadInput.msg(f"gov.items_bad.{what}", item=item)
        if item not in items:
            items.append(item)
    if not items:
        raise BadInput.msg(f"gov.items_empty.{what}")
    return tuple(sorted(items))


def covers(have: tuple[str, ...] | list[str], want: tuple[str, ...] | list[str]) -> bool:
    """Whether scope ``have`` covers every item of ``want``.

    ``*`` covers everything; a tier covers only that tier; a table covers the table and
    its columns; a column covers only itself. ``*`` in ``want`` needs ``*`` in ``have``.
    """
    hs = set(have)
    if ALL in hs:
        return True
    for item in want:
        if item in hs:
            continue
        if item in TIERS or item == ALL:
            return False
        table = item.split(".", 1)[0]
        if "." in item and table in hs:
            continue
        return False
    return True


def approvals_needed(scope: tuple[str, ...] | list[str], mode: str) -> int:
    """Two distinct approvers for clear access that may reach C3, else one.

    A table or ``*`` may hold C3 columns the library cannot rule out, so only a clear
    grant restricted to tiers C1/C2 gets by with one approval.
    """
    if mode != "clear":
        return 1
    return 1 if all(item in ("C1", "C2") for item in scope) else 2
