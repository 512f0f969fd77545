"""Grants: a person may touch data only through one. Maker-checker: requested by one
person, approved by a different person holding the approver role; clear access that may
reach C3 needs two distinct approvers, neither the requester nor the grantee."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handover.errors import BadInput, Refused
from handover.governance.models import GrantApprovalRow, GrantRow, PersonRow
from handover.governance.people import Person, load_person, person_by_id
from handover.governance.policy import (
    ACTION_ROLES,
    DATA_ACTIONS,
    MANAGE,
    approvals_needed,
    check_id,
    check_mode,
    local_midnight,
    now_utc,
    parse_items,
    utc,
)
from handover.i18n import t

if TYPE_CHECKING:
    from handover.workspace import Workspace

MAX_DAYS = 366
STATES = ("pending", "active", "not_yet", "expired", "rejected", "revoked")


@dataclass(frozen=True)
class Approval:
    """One approver's decision."""

    approver: str
    decision: str
    decided_at: dt.datetime


@dataclass(frozen=True)
class Grant:
    """A grant as stored, with its state at the time it was read."""

    id: int
    grantee: str
    requested_by: str
    scope: tuple[str, ...]
    mode: str
    purpose: str
    actions: tuple[str, ...]
    valid_from: dt.datetime
    valid_until: dt.datetime
    approvals_needed: int
    status: str
    approvals: tuple[Approval, ...]
    state: str

    @property
    def approved_by(self) -> tuple[str, ...]:
        """Names of those who approved."""
        return tuple(a.approver for a in self.approvals if a.decision == "approve")

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "grantee": self.grantee,
            "requested_by": self.requested_by,
            "scope": list(self.scope),
            "mode": self.mode,
            "purpose": self.purpose,
            "actions": list(self.actions),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "approvals_needed": self.approvals_needed,
            "approved_by": list(self.approved_by),
            "status": self.status,
            "state": self.state,
        }


def grant_state(
    status: str, valid_from: dt.datetime, valid_until: dt.datetime, now: dt.datetime
) -> str:
    """``pending``/``rejected``/``revoked`` as stored; an approved grant is ``active``,
    ``not_yet`` (before its window) or ``expired`` (after it). A pending grant whose
    window has passed is ``expired`` too."""
    if status in ("rejected", "revoked"):
        return status
    if now >= valid_until:
        return "expired"
    if status == "pending":
        return "pending"
    if now < valid_from:
        return "not_yet"
    return "active"


def load_grant(s: Session, row: GrantRow, now: dt.datetime) -> Grant:
    """A stored grant with its approvals and state at ``now``."""
    grantee = s.get(PersonRow, row.grantee_id)
    requester = s.get(PersonRow, row.requested_by_id)
    assert grantee is not None and requester is not None
    approvals = tuple(
        Approval(name, a.decision, utc(a.decided_at))
        for a, name in s.execute(
            select(GrantApprovalRow, PersonRow.name)
            .join(PersonRow, PersonRow.id == GrantApprovalRow.approver_id)
            .where(GrantApprovalRow.grant_id == row.id)
            .order_by(GrantApprovalRow.id)
        ).all()
    )
    vf, vu = utc(row.valid_from), utc(row.valid_until)
    return Grant(
        id=row.id,
        grantee=grantee.name,
        requested_by=requester.name,
        scope=tuple(row.scope),
        mode=row.mode,
        purpose=row.purpose,
        actions=tuple(row.actions or ()),
        valid_from=vf,
        valid_until=vu,
        approvals_needed=row.approvals_needed,
        status=row.status,
        approvals=approvals,
        state=grant_state(row.status, vf, vu, now),
    )


def _session_actor(ws: Workspace, actor: str | None, now: dt.datetime) -> Person:
    from handover.governance.session import current_person

    with ws.store.session() as s:
        if actor is not None:
            return load_person(s, actor)
    me = current_person(ws, now=now)
    if me is None:
        raise Refused.msg("gov.login_needed")
    return me


def may_request_for_others(person: Person) -> bool:
    """Whether ``person`` may ask for a grant whose grantee is somebody else: a manager
    (the roles of ``governance.manage``, the DPO and the compliance officer)."""
    return bool(ACTION_ROLES[MANAGE] & set(person.roles))


def may_revoke(person: Person, grant: Grant) -> bool:
    """Whether ``person`` may revoke ``grant``: active, and its requester, an approver or
    a manager."""
    return (person.active and not person.one_time_password) and (
        person.name == grant.requested_by
        or "approver" in person.roles
        or bool(ACTION_ROLES[MANAGE] & set(person.roles))
    )


def approval_refusal(person: Person, grant: Grant) -> tuple[str, dict[str, Any]] | None:
    """Why ``person`` may not approve or reject ``grant`` as it stands (the catalogue key
    and its values), or None when they may: maker-checker — an active approver who is
    neither its requester nor its grantee, holds a password they set themselves (not a
    one-time one somebody else set), has not decided it yet, while it is pending."""
    if not person.active:
        return "gov.inactive", {"name": person.name}
    if person.one_time_password:
        return "gov.approve_one_time", {
            "name": person.name,
            "id": grant.id,
            "by": person.password_set_by or "-",
        }
    if "approver" not in person.roles:
        return "gov.approve_not_approver", {"name": person.name, "id": grant.id}
    if person.name in (grant.requested_by, grant.grantee):
        return "gov.approve_self", {"name": person.name, "id": grant.id}
    if any(a.approver == person.name for a in grant.approvals):
        return "gov.approve_twice", {"name": person.name, "id": grant.id}
    if grant.state != "pending":
        return "gov.approve_not_pending", {"id": grant.id, "state": grant.state}
    return None


def _refused(
    ws: Workspace,
    actor: str,
    verb: str,
    subject: str,
    purpose: str,
    key: str,
    values: dict[str, Any],
) -> NoReturn:
    """Record ``governance.grant.<verb>.refused`` (the reason in English, its key and
    values) as ``actor``'s, then raise the refusal for the person to read in their
    language. Every refused grant step goes through here, whichever adapter asked."""
    from handover.ledger import record

    record(
        ws,
        actor,
        f"governance.grant.{verb}.refused",
        subject,
        purpose,
        {"reason": t(key, "en", **values), "reason_key": key, "params": values},
    )
    raise Refused.msg(key, **values)


def request_grant(
    ws: Workspace,
    grantee: str,
    *,
    scope: str | Iterable[str],
    mode: str,
    purpose: str,
    valid_until: dt.datetime,
    valid_from: dt.datetime | None = None,
    actions: Iterable[str] = (),
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Grant:
    """Request a grant for ``grantee`` (the maker is the logged-in person or ``actor``).

    Anyone active may ask for themselves; asking for somebody else is a manager's
    (:func:`may_request_for_others`). Refused (and ledgered as
    ``governance.grant.request.refused``) otherwise. The grant stays pending until enough
    distinct approvers approve it.
    """
    from handover.ledger import record

    at = now_utc(now)
    items = parse_items(scope if isinstance(scope, str) else tuple(scope))
    mode = check_mode(mode)
    purpose = purpose.strip()
    if not purpose or len(purpose) > 300:
        raise BadInput.msg("gov.grant_purpose")
    action_list = sorted(set(actions))
    for a in action_list:
        if a not in DATA_ACTIONS:
            raise BadInput.msg("gov.bad_action", action=a, actions=", ".join(DATA_ACTIONS))
    start = utc(valid_from) if valid_from is not None else at
    end = utc(valid_until)
    if end <= start:
        raise BadInput.msg("gov.grant_window", start=start.isoformat(), end=end.isoformat())
    if end - start > dt.timedelta(days=MAX_DAYS):
        raise BadInput.msg("gov.grant_too_long", days=MAX_DAYS)
    maker = _session_actor(ws, actor, at)
    subject = f"grant for {grantee}"
    if not maker.active:
        _refused(ws, maker.name, "request", subject, purpose, "gov.inactive", {"name": maker.name})
    if maker.one_time_password:
        values = {"name": maker.name, "by": maker.password_set_by or "-"}
        _refused(
            ws, maker.name, "request", subject, purpose, "gov.refuse.password_one_time", values
        )
    if maker.name != grantee and not may_request_for_others(maker):
        _refused(
            ws,
            maker.name,
            "request",
            subject,
            purpose,
            "gov.request_for_other",
            {
                "name": maker.name,
                "grantee": grantee,
                "need": ",".join(sorted(ACTION_ROLES[MANAGE])),
            },
        )
    with ws.store.session() as s:
        g = load_person(s, grantee)
        row = GrantRow(
            grantee_id=g.id,
            requested_by_id=maker.id,
            scope=list(items),
            mode=mode,
            purpose=purpose,
            actions=action_list,
            valid_from=start,
            valid_until=end,
            approvals_needed=approvals_needed(items, mode),
            status="pending",
            created_at=at,
        )
        s.add(row)
        s.flush()
        grant = load_grant(s, row, at)
    record(
        ws,
        maker.name,
        "governance.grant.request",
        f"grant {grant.id}",
        purpose,
        {
            "grantee": grantee,
            "scope": list(items),
            "mode": mode,
            "actions": action_list,
            "valid_from": start.isoformat(),
            "valid_until": end.isoformat(),
            "approvals_needed": grant.approvals_needed,
        },
    )
    return grant


def grant_window(
    ws: Workspace,
    days: int,
    start: dt.date | None = None,
    *,
    now: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """The window of a grant lasting ``days`` (1 to :data:`MAX_DAYS`) from 00:00 local
    time on ``start`` (the workspace's time zone), or from ``now``; BadInput naming
    ``days`` or ``start`` when it cannot be."""
    if not 0 < days <= MAX_DAYS:
        raise BadInput.msg("gov.grant_days", days=days, max=MAX_DAYS)
    try:
        begin = local_midnight(ws, start) if start is not None else now_utc(now)
        return begin, begin + dt.timedelta(days=days)
    except OverflowError:
        raise BadInput.msg("gov.grant_start", start=start) from None


def _grant_for(
    s: Session, grant_id: int, who: Person, at: dt.datetime
) -> tuple[GrantRow, Grant, Person]:
    """The row of grant ``grant_id``, its state at ``at`` and the acting person, reloaded in
    ``s``; BadInput when there is no such grant."""
    row = s.get(GrantRow, grant_id)
    if row is None:
        raise BadInput.msg("gov.no_grant_id", id=grant_id)
    return row, load_grant(s, row, at), person_by_id(s, who.id)


def _decide(
    ws: Workspace, grant_id: int, decision: str, actor: str | None, now: dt.datetime | None
) -> Grant:
    from handover.ledger import record

    check_id(grant_id, "gov.no_grant_id")
    at = now_utc(now)
    who = _session_actor(ws, actor, at)
    # (catalogue key, values) of a refusal: the ledger keeps it in English, the person
    # sees it in their language.
    refusal: tuple[str, dict[str, Any]] | None = None
    with ws.store.session() as s:
        row, grant, me = _grant_for(s, grant_id, who, at)
        refusal = approval_refusal(me, grant)
        if refusal is None:
            s.add(
                GrantApprovalRow(
                    grant_id=row.id, approver_id=me.id, decision=decision, decided_at=at
                )
            )
            try:
                s.flush()
            except IntegrityError:
                refusal = "gov.approve_twice", {"name": me.name, "id": grant_id}
            else:
                if decision == "reject":
                    row.status, row.decided_at = "rejected", at
                elif len(grant.approved_by) + 1 >= row.approvals_needed:
                    row.status, row.decided_at = "approved", at
                s.flush()
                grant = load_grant(s, row, at)
    if refusal is not None:
        key, values = refusal
        _refused(ws, who.name, decision, f"grant {grant_id}", grant.purpose, key, values)
    record(
        ws,
        who.name,
        f"governance.grant.{decision}",
        f"grant {grant_id}",
        grant.purpose,
        {
            "grantee": grant.grantee,
            "status": grant.status,
            "approved_by": list(grant.approved_by),
            "approvals_needed": grant.approvals_needed,
        },
    )
    return grant


def approve_grant(
    ws: Workspace, grant_id: int, *, actor: str | None = None, now: dt.datetime | None = None
) -> Grant:
    """Approve grant ``grant_id`` as the logged-in approver (or ``actor``).

    Refused (and ledgered) when the approver lacks the approver role, is the requester or
    the grantee, already decided this grant, or the grant is no longer pending.
    """
    return _decide(ws, grant_id, "approve", actor, now)


def reject_grant(
    ws: Workspace, grant_id: int, *, actor: str | None = None, now: dt.datetime | None = None
) -> Grant:
    """Reject grant ``grant_id`` (same conditions as approving); it can never become valid."""
    return _decide(ws, grant_id, "reject", actor, now)


def revoke_grant(
    ws: Workspace,
    grant_id: int,
    *,
    reason: str = "",
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Grant:
    """Revoke grant ``grant_id``: its requester, any approver or a manager may stop it
    (:func:`may_revoke`); anyone else is refused, and the refusal is ledgered
    (``governance.grant.revoke.refused``)."""
    from handover.ledger import record

    check_id(grant_id, "gov.no_grant_id")
    at = now_utc(now)
    who = _session_actor(ws, actor, at)
    with ws.store.session() as s:
        row, grant, me = _grant_for(s, grant_id, who, at)
        allowed = may_revoke(me, grant)
    if not allowed:
        values = {"name": me.name, "id": grant_id}
        _refused(
            ws, me.name, "revoke", f"grant {grant_id}", grant.purpose, "gov.revoke_refused", values
        )
    with ws.store.session() as s:
        row, grant, me = _grant_for(s, grant_id, who, at)
        if row.status in ("revoked", "rejected"):
            raise BadInput.msg("gov.approve_not_pending", id=grant_id, state=row.status)
        row.status, row.decided_at = "revoked", at
        s.flush()
        grant = load_grant(s, row, at)
    record(
        ws,
        who.name,
        "governance.grant.revoke",
        f"grant {grant_id}",
        grant.purpose,
        {"grantee": grant.grantee, "reason": reason},
    )
    return grant


def list_grants(
    ws: Workspace,
    *,
    person: str | None = None,
    state: str | None = None,
    now: dt.datetime | None = None,
) -> list[Grant]:
    """Grants (of ``person``; in ``state``, one of :data:`STATES`) with their state at
    ``now``."""
    if state is not None and state not in STATES:
        raise BadInput.msg("gov.grant_state", state=state, states=", ".join(STATES))
    at = now_utc(now)
    with ws.store.session() as s:
        stmt = select(GrantRow).order_by(GrantRow.id)
        if person is not None:
            stmt = stmt.where(GrantRow.grantee_id == load_person(s, person).id)
        grants = [load_grant(s, r, at) for r in s.scalars(stmt)]
    return [g for g in grants if state is None or g.state == state]


def grants_of(s: Session, person: Person, now: dt.datetime) -> list[Grant]:
    """Every grant whose grantee is ``person``."""
    rows = s.scalars(select(GrantRow).where(GrantRow.grantee_id == person.id).order_by(GrantRow.id))
    return [load_grant(s, r, now) for r in rows]
