"""Enforcement: ``authorize`` decides, ``require`` decides or raises :class:`Refused`.

Every decision, allow or refuse, is written to the ledger (``access.allow`` /
``access.refuse``) with the actor, action, resource, reason and the reason's parameters.

A data-touching action is allowed only when, at that moment, the person:

1. is identified (logged in; in a demo workspace the cast member for the action);
2. is active and holds a role allowed to attempt the action (``ACTION_ROLES``);
3. is bound by an NDA in force (active or expiring) whose scope covers the resource;
4. has a current passing record of every required course;
5. if vendor staff: works for a registered vendor whose latest assessment passes;
6. holds an active grant covering the resource's items, at least its mode, the action
   (when the grant names actions), with enough distinct approvers who are neither its
   requester nor its grantee and hold the approver role, and whose purpose is within
   the NDA's purposes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from handover.errors import BadInput, Refused
from handover.governance.grants import Grant, grants_of
from handover.governance.models import PersonRow
from handover.governance.ndas import Nda, binding_ndas
from handover.governance.people import Person, load_person, person_by_id
from handover.governance.policy import (
    ACTION_ROLES,
    ALL,
    DATA_ACTIONS,
    DEMO_ACTORS,
    ITEM,
    MODE_RANK,
    ROLE_ACTIONS,
    TIERS,
    approvals_needed,
    check_action,
    check_mode,
    covers,
    local_zone,
    now_utc,
    parse_items,
)
from handover.i18n import t

if TYPE_CHECKING:
    from handover.workspace import Workspace


@dataclass(frozen=True)
class Resource:
    """What an action touches: scope items (``*``, tiers C1-C3, tables, table.columns)
    and the mode of access (masked < tokenised < clear).

    Text form: ``ITEM[,ITEM...][/MODE]``, e.g. ``C1,C2/masked``, ``customers/clear``,
    ``*`` (everything, clear). Mode defaults to clear, the most demanding.
    """

    items: tuple[str, ...]
    mode: str = "clear"

    @classmethod
    def parse(cls, text: str | Resource) -> Resource:
        """Parse the text form (BadInput on a malformed resource)."""
        if isinstance(text, Resource):
            return text
        body, sep, mode = text.strip().rpartition("/")
        if not sep:
            body, mode = mode, "clear"
        return cls(parse_items(body, "resource"), check_mode(mode.strip()))

    def __str__(self) -> str:
        return f"{','.join(self.items)}/{self.mode}"


#: refusals about who the user is, not about what they may do: bad input (exit 2)
CREDENTIAL_REFUSALS = frozenset({"gov.refuse.session_expired"})


@dataclass(frozen=True)
class Decision:
    """An authorisation decision: who, what, on which resource, allowed or not, and why."""

    allowed: bool
    actor: str
    action: str
    resource: str
    reason_key: str
    reason: str
    reason_en: str
    at: dt.datetime
    grant_id: int | None = None
    nda_id: int | None = None
    purpose: str = "access control"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 allowed; 2 for a credentials problem (an expired session: log in again); 3
        for a policy refusal."""
        if self.allowed:
            return 0
        return 2 if self.reason_key in CREDENTIAL_REFUSALS else 3

    def to_json(self) -> dict[str, Any]:
        """Machine form (also the ledger details)."""
        return {
            "allowed": self.allowed,
            "actor": self.actor,
            "action": self.action,
            "resource": self.resource,
            "reason_key": self.reason_key,
            "reason": self.reason,
            "reason_en": self.reason_en,
            "params": self.params,
            "grant_id": self.grant_id,
            "nda_id": self.nda_id,
            "at": self.at.isoformat(),
        }


@dataclass
class _Verdict:
    allowed: bool
    key: str
    params: dict[str, Any]
    grant_id: int | None = None
    nda_id: int | None = None
    purpose: str = "access control"


def _refuse(key: str, **params: Any) -> _Verdict:
    return _Verdict(False, key, params)


def _valid_approvers(s: Session, g: Grant) -> list[str]:
    """Approvers that count: distinct, approved, not requester/grantee, hold approver now."""
    names: list[str] = []
    for name in g.approved_by:
        if name in (g.requested_by, g.grantee) or name in names:
            continue
        row = s.query(PersonRow).filter(PersonRow.name == name).one_or_none()
        # an approver whose password somebody else set may be that somebody: no count
        if row is None or not row.active or row.password_one_time:
            continue
        if "approver" in person_by_id(s, row.id).roles:
            names.append(name)
    return names


def _nda_refusal(person: Person, covering: list[Nda], res: Resource) -> _Verdict:
    if not covering:
        return _refuse("gov.refuse.no_nda", name=person.name, items=",".join(res.items))
    n = covering[-1]
    if n.status == "expired":
        return _Verdict(
            False,
            "gov.refuse.nda_expired",
            {"name": person.name, "nda": n.id, "title": n.title, "date": n.expires_on.isoformat()},
            nda_id=n.id,
        )
    if n.status == "breached":
        return _Verdict(
            False,
            "gov.refuse.nda_breached",
            {"name": person.name, "nda": n.id, "title": n.title},
            nda_id=n.id,
        )
    starts = max(n.effective_on, n.signed_on or n.effective_on)  # signed ahead: pending
    return _Verdict(
        False,
        "gov.refuse.nda_pending",
        {"name": person.name, "nda": n.id, "title": n.title, "date": starts.isoformat()},
        nda_id=n.id,
    )


GRANT_RANK = {"active": 0, "pending": 1, "not_yet": 2, "expired": 3, "rejected": 4, "revoked": 5}


def _evaluate(
    s: Session, person: Person, action: str, res: Resource, at: dt.datetime, zone: dt.tzinfo
) -> _Verdict:
    """The verdict for ``person`` at instant ``at``; NDA and vendor dates are calendar
    days in ``zone``, the workspace's time zone."""
    from handover.governance.training import training_gaps
    from handover.governance.vendors import vendor_of

    if not person.active:
        return _refuse("gov.refuse.inactive", name=person.name)
    if person.one_time_password:
        return _refuse(
            "gov.refuse.password_one_time", name=person.name, by=person.password_set_by or "-"
        )
    allowed_roles = ACTION_ROLES[action]
    if not allowed_roles & set(person.roles):
        return _refuse(
            "gov.refuse.role",
            name=person.name,
            action=action,
            roles=",".join(person.roles) or "-",
            need=",".join(sorted(allowed_roles)),
        )
    if action in ROLE_ACTIONS:
        role = sorted(allowed_roles & set(person.roles))[0]
        return _Verdict(True, "gov.allow.manage", {"name": person.name, "role": role})
    today = at.astimezone(zone).date()
    covering = [n for n in binding_ndas(s, person, today) if n.covers(res.items)]
    in_force = [n for n in covering if n.in_force]
    if not in_force:
        return _nda_refusal(person, covering, res)
    gaps = training_gaps(s, person, at)
    if gaps:
        gap = gaps[0]
        if gap.lapsed_at is None:
            return _refuse("gov.refuse.training_never", name=person.name, course=gap.course)
        return _refuse(
            "gov.refuse.training_lapsed",
            name=person.name,
            course=gap.course,
            date=gap.lapsed_at.astimezone(zone).date().isoformat(),
        )
    vendor, is_vendor_staff = vendor_of(s, person)
    if is_vendor_staff:
        if vendor is None:
            return _refuse("gov.refuse.vendor_unregistered", name=person.name, vendor=person.org)
        if vendor.latest is None or not vendor.latest.passing(today):
            state = (
                "-"
                if vendor.latest is None
                else f"{vendor.latest.decision}, {vendor.latest.reassess_on.isoformat()}"
            )
            return _refuse(
                "gov.refuse.vendor_assessment", name=person.name, vendor=vendor.name, state=state
            )
    candidates = [
        g
        for g in grants_of(s, person, at)
        if covers(g.scope, res.items)
        and MODE_RANK[g.mode] >= MODE_RANK[res.mode]
        and (not g.actions or action in g.actions)
    ]
    if not candidates:
        return _refuse("gov.refuse.no_grant", name=person.name, action=action, resource=str(res))
    problems: list[tuple[int, int, _Verdict]] = []
    for g in candidates:
        if g.state != "active":
            key = f"gov.refuse.grant_{g.state}"
            params: dict[str, Any] = {"name": person.name, "id": g.id}
            if g.state == "pending":
                params.update(have=len(g.approved_by), need=g.approvals_needed)
            elif g.state in ("expired", "not_yet"):
                params.update(
                    date=(g.valid_until if g.state == "expired" else g.valid_from).isoformat(
                        timespec="minutes"
                    )
                )
            problems.append((GRANT_RANK[g.state], -g.id, _Verdict(False, key, params, g.id)))
            continue
        need = max(g.approvals_needed, approvals_needed(g.scope, g.mode))
        have = _valid_approvers(s, g)
        if len(have) < need:
            problems.append(
                (
                    0,
                    -g.id,
                    _Verdict(
                        False,
                        "gov.refuse.grant_approvals",
                        {"name": person.name, "id": g.id, "need": need, "have": len(have)},
                        g.id,
                    ),
                )
            )
            continue
        nda = next((n for n in in_force if n.covers(res.items, g.purpose)), None)
        if nda is None:
            problems.append(
                (
                    0,
                    -g.id,
                    _Verdict(
                        False,
                        "gov.refuse.grant_purpose",
                        {"name": person.name, "id": g.id, "purpose": g.purpose},
                        g.id,
                    ),
                )
            )
            continue
        return _Verdict(
            True,
            "gov.allow",
            {"name": person.name, "id": g.id, "mode": g.mode, "purpose": g.purpose, "nda": nda.id},
            grant_id=g.id,
            nda_id=nda.id,
            purpose=g.purpose,
        )
    return min(problems, key=lambda p: (p[0], p[1]))[2]


def _identify(
    ws: Workspace, s: Session, actor: str | None, action: str, at: dt.datetime
) -> tuple[str, Person | None, _Verdict | None]:
    from handover.governance.session import SessionExpired, current_actor, current_person

    if actor is not None:
        row = s.query(PersonRow).filter(PersonRow.name == actor).one_or_none()
        if row is None:
            return actor, None, _refuse("gov.refuse.unknown", name=actor)
        return actor, load_person(s, actor), None
    try:
        me = current_person(ws, now=at)
    except SessionExpired as exc:
        # said as such, and never a demo stand-in instead of the person who logged in
        values = exc.message.values if exc.message is not None else {}
        return current_actor(ws, now=at), None, _refuse("gov.refuse.session_expired", **values)
    if me is not None:
        return me.name, me, None
    if ws.settings.demo:
        name = DEMO_ACTORS[action]
        row = s.query(PersonRow).filter(PersonRow.name == name).one_or_none()
        if row is not None:
            return name, load_person(s, name), None
    return current_actor(ws, now=at), None, _refuse("gov.refuse.no_login", action=action)


def authorize(
    ws: Workspace,
    actor: str | None,
    action: str,
    resource: str | Resource,
    *,
    now: dt.datetime | None = None,
) -> Decision:
    """Decide whether ``actor`` (None: the logged-in person) may do ``action`` on
    ``resource`` at ``now``; the decision is logged and ledgered either way."""
    from handover.governance.training import ensure_builtin_courses
    from handover.ledger import record

    check_action(action)
    res = Resource.parse(resource) if action not in ROLE_ACTIONS else Resource((ALL,), "clear")
    at = now_utc(now)
    lang = ws.settings.lang
    if action in DATA_ACTIONS:
        # Required courses must exist in the store, or "no gaps" would mean "no courses".
        ensure_builtin_courses(ws, now=at)
    with ws.store.session() as s:
        name, person, verdict = _identify(ws, s, actor, action, at)
        if verdict is None:
            assert person is not None
            verdict = _evaluate(s, person, action, res, at, local_zone(ws))
        decision = Decision(
            allowed=verdict.allowed,
            actor=name,
            action=action,
            resource=str(res),
            reason_key=verdict.key,
            reason=t(verdict.key, lang, **verdict.params),
            reason_en=t(verdict.key, "en", **verdict.params),
            at=at,
            grant_id=verdict.grant_id,
            nda_id=verdict.nda_id,
            purpose=verdict.purpose,
            params=verdict.params,
        )
    record(
        ws,
        name,
        "access.allow" if decision.allowed else "access.refuse",
        f"{action} {res}",
        decision.purpose,
        decision.to_json(),
    )
    return decision


def may_ever(
    ws: Workspace, actor: str | None, action: str, *, now: dt.datetime | None = None
) -> bool:
    """Whether ``actor`` (None: the logged-in person) is an active person with a role that
    may do ``action`` on some data; nothing is decided or recorded. An adapter whose
    decision needs a form's paths checked first asks this before checking them, so that
    a person refused whatever the data learns nothing of the files from the answer (the
    full decision follows with :func:`require`, as for any other person)."""
    check_action(action)
    at = now_utc(now)
    with ws.store.session() as s:
        _name, person, verdict = _identify(ws, s, actor, action, at)
    return (
        verdict is None
        and person is not None
        and person.active
        and not person.one_time_password
        and bool(ACTION_ROLES[action] & set(person.roles))
    )


def acting_name(
    ws: Workspace, actor: str | None, action: str, *, now: dt.datetime | None = None
) -> str | None:
    """Who a decision on ``action`` would be for — ``actor``, else the logged-in person,
    else a demo stand-in — or None when nobody is identified; nothing is decided or
    recorded (a step refused whoever decides, such as changing one's own roles, is
    refused before a decision says "allowed")."""
    check_action(action)
    at = now_utc(now)
    with ws.store.session() as s:
        _name, person, _verdict = _identify(ws, s, actor, action, at)
    return person.name if person is not None else actor


def require(
    ws: Workspace,
    action: str,
    resource: str | Resource,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    """Authorise or raise :class:`Refused` (exit 3) naming the missing NDA, training,
    assessment, grant or approval. Call it first in every data-touching library function:
    ``require(ws, "seal", "C1,C2,C3/clear")``.

    ``authorized`` is the decision of the user action this call is a step of (seal's
    scan, migrate's backup, unseal's migration): when it allowed a resource covering
    this one at least as strong a mode, it is returned as is — one decision, one ledger
    event per user action. A step reaching beyond it is decided on its own, for the same
    person (never for whoever the workspace's CLI session happens to name: a console job
    runs with the decision of the person who started it).
    """
    if authorized is not None:
        if actor in (None, authorized.actor) and _covered(authorized, action, resource):
            return authorized
        actor = actor or authorized.actor
    decision = authorize(ws, actor, action, resource, now=now)
    if decision.exit_code == 2:
        raise BadInput.msg(decision.reason_key, **decision.params)  # credentials, not policy
    if not decision.allowed:
        # The screen shows the reason in the user's language; the ledger event keeps
        # its key, parameters and English text.
        raise Refused.msg(decision.reason_key, **decision.params)
    return decision


def _covered(outer: Decision, action: str, resource: str | Resource) -> bool:
    """Whether an allowing decision reaches ``resource`` (its items, at least its mode)."""
    if not outer.allowed or check_action(action) in ROLE_ACTIONS:
        return False
    have, want = Resource.parse(outer.resource), Resource.parse(resource)
    return covers(have.items, want.items) and MODE_RANK[have.mode] >= MODE_RANK[want.mode]


def data_resource(tables: Sequence[str] | None, mode: str, tiers: Sequence[str] = TIERS) -> str:
    """The resource a data command names: the tables it was limited to, else every tier
    the source may hold (``C1,C2,C3/clear``); a table name that cannot be a scope item
    widens to the tiers, so the check never gets weaker."""
    names = [n.strip() for n in tables or () if n.strip()]
    if names and all(ITEM.match(n) and n.upper() not in TIERS for n in names):
        return f"{','.join(names)}/{check_mode(mode)}"
    return f"{','.join(tiers)}/{check_mode(mode)}"
