"""What the assessment and the checklist read: the ledger and plain facts about people,
NDAs, training, grants and vendors.

The flow (``handover.flows.pia``) gathers these from the governance store; this room only
reads them, so it never depends on access control.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handover.ledger import LedgerEntry


@dataclass(frozen=True)
class PersonFact:
    """A person as registered: login name, display name, organisation, roles."""

    name: str
    display_name: str
    org: str
    roles: tuple[str, ...]
    active: bool = True


@dataclass(frozen=True)
class NdaFact:
    """An NDA as registered; breaches with the day each occurred."""

    id: int
    title: str
    parties: tuple[str, ...]
    signatories: tuple[str, ...]
    items: tuple[str, ...]
    signed_on: dt.date | None
    effective_on: dt.date
    expires_on: dt.date
    breaches: tuple[tuple[str, dt.date], ...] = ()

    def binds(self, person: PersonFact) -> bool:
        """Whether ``person`` is bound: a signatory, or staff of a party."""
        return person.name in self.signatories or person.org in self.parties

    def in_force_on(self, day: dt.date) -> bool:
        """Signed, effective and not expired on ``day``, with no breach on or before it.

        Unlike the status governance shows today, a breach counts only from the day it
        occurred: the question is what held at a past moment.
        """
        if self.signed_on is None or self.signed_on > day:
            return False
        if not self.effective_on <= day <= self.expires_on:
            return False
        return not any(on <= day for _, on in self.breaches)


@dataclass(frozen=True)
class TrainingFact:
    """One assessment a person took."""

    person: str
    course: str
    passed: bool
    taken_at: dt.datetime
    expires_at: dt.datetime | None

    def current_at(self, at: dt.datetime) -> bool:
        """Passed, taken at or before ``at``, and not yet expired at ``at``."""
        return (
            self.passed
            and self.taken_at <= at
            and self.expires_at is not None
            and at < self.expires_at
        )


@dataclass(frozen=True)
class GrantFact:
    """A grant as stored, with its state when read."""

    id: int
    grantee: str
    scope: tuple[str, ...]
    mode: str
    purpose: str
    state: str
    approved_by: tuple[str, ...]
    approvals_needed: int


@dataclass(frozen=True)
class VendorFact:
    """A registered vendor and its latest assessment."""

    name: str
    decision: str | None
    risk: str | None
    reassess_on: dt.date | None


@dataclass
class Evidence:
    """Everything the assessment is pre-filled from and the checklist evaluates."""

    entries: Sequence[LedgerEntry]
    people: list[PersonFact] = field(default_factory=list)
    ndas: list[NdaFact] = field(default_factory=list)
    training: list[TrainingFact] = field(default_factory=list)
    required_courses: tuple[str, ...] = ()
    grants: list[GrantFact] = field(default_factory=list)
    vendors: list[VendorFact] = field(default_factory=list)
    inventory: dict[str, Any] | None = None
    transfer: dict[str, Any] | None = None
    suite: str = "aes"
    #: whether scope ``have`` covers every item of ``want`` (governance's rule, injected)
    covers: Callable[[Any, Any], bool] = lambda have, want: "*" in have
    #: a drill is due this many days after the last one (``[incidents] drill_every_days``)
    drill_every_days: int = 180
    #: the outcome of recomputing the ledger: None when not checked
    ledger_ok: bool | None = None
    ledger_problems: list[str] = field(default_factory=list)
    #: the workspace's time zone (``[incidents] timezone``): NDA, vendor and retention
    #: dates are calendar days there, not in UTC (the flow injects it)
    zone: dt.tzinfo = dt.UTC

    def day(self, at: dt.datetime) -> dt.date:
        """The calendar date of instant ``at`` (naive: UTC) in the workspace's time zone."""
        return _aware(at).astimezone(self.zone).date()

    def local(self, at: dt.datetime) -> str:
        """Instant ``at`` in the workspace's time zone, to the second, with its offset."""
        return _aware(at).astimezone(self.zone).isoformat(timespec="seconds")

    def person(self, name: str) -> PersonFact | None:
        """The person called ``name``, if registered."""
        return next((p for p in self.people if p.name == name), None)

    def of(self, *actions: str) -> list[LedgerEntry]:
        """Entries whose action is exactly one of ``actions`` (``pia.approve`` is not
        ``pia.approve.refused``)."""
        wanted = set(actions)
        return [e for e in self.entries if e.action in wanted]

    def under(self, prefix: str) -> list[LedgerEntry]:
        """Entries whose action is ``prefix`` or below it (``notices`` → ``notices.*``)."""
        return [e for e in self.entries if _matches(e.action, (prefix,))]

    def first(self, *actions: str) -> LedgerEntry | None:
        """The earliest entry of ``actions``, if any."""
        return next(iter(self.of(*actions)), None)


def _aware(at: dt.datetime) -> dt.datetime:
    # the store hands stored times back naive; they are UTC
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _matches(action: str, prefixes: Iterable[str]) -> bool:
    return any(action == p or action.startswith(p + ".") for p in prefixes)


def parse_at(value: Any) -> dt.datetime | None:
    """An aware datetime from an ISO text (``Z`` accepted), else None."""
    if not isinstance(value, str):
        return None
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
