"""Organisations and people with roles; the first person bootstraps an empty workspace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handover.errors import BadInput, Refused
from handover.governance.models import OrganisationRow, PersonRoleRow, PersonRow
from handover.governance.policy import (
    MANAGE,
    MIN_PASSWORD,
    ORG_KINDS,
    check_name,
    check_role,
    now_utc,
)

if TYPE_CHECKING:
    from handover.workspace import Workspace


@dataclass(frozen=True)
class Organisation:
    """A party to the transfer or a vendor."""

    id: int
    name: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {"id": self.id, "name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class Person:
    """A person who may log in, with the organisation they belong to and their roles."""

    id: int
    name: str
    display_name: str
    org: str
    org_kind: str
    roles: tuple[str, ...] = field(default_factory=tuple)
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        """Machine form (never the password hash)."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "org": self.org,
            "org_kind": self.org_kind,
            "roles": list(self.roles),
            "active": self.active,
        }


def _person(s: Session, row: PersonRow) -> Person:
    org = s.get(OrganisationRow, row.org_id)
    assert org is not None
    roles = s.scalars(
        select(PersonRoleRow.role)
        .where(PersonRoleRow.person_id == row.id)
        .order_by(PersonRoleRow.role)
    ).all()
    return Person(row.id, row.name, row.display_name, org.name, org.kind, tuple(roles), row.active)


def person_row(s: Session, name: str) -> PersonRow:
    """The stored person called ``name`` (BadInput naming it when unknown)."""
    row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()
    if row is None:
        raise BadInput.msg("gov.no_person", name=name)
    return row


def not_service(s: Session, row: PersonRow) -> None:
    """Refuse to change the roles or password of a service account: it holds its one
    service role and no usable password (governance/service.py)."""
    from handover.governance.policy import SERVICE_ROLES

    roles = set(s.scalars(select(PersonRoleRow.role).where(PersonRoleRow.person_id == row.id)))
    if roles & set(SERVICE_ROLES):
        raise BadInput.msg("gov.service_account", name=row.name)


def org_row(s: Session, name: str) -> OrganisationRow:
    """The stored organisation called ``name`` (BadInput naming it when unknown)."""
    row = s.scalars(select(OrganisationRow).where(OrganisationRow.name == name)).one_or_none()
    if row is None:
        raise BadInput.msg("gov.no_org", name=name)
    return row


def load_person(s: Session, name: str) -> Person:
    """The person ``name`` with organisation and roles."""
    return _person(s, person_row(s, name))


def person_by_id(s: Session, person_id: int) -> Person:
    """The person with id ``person_id``."""
    row = s.get(PersonRow, person_id)
    if row is None:
        raise BadInput.msg("gov.no_person_id", id=person_id)
    return _person(s, row)


def get_person(ws: Workspace, name: str) -> Person:
    """The person ``name`` (BadInput when unknown)."""
    with ws.store.session() as s:
        return load_person(s, name)


def list_people(ws: Workspace) -> list[Person]:
    """Every person, by name."""
    with ws.store.session() as s:
        rows = s.scalars(select(PersonRow).order_by(PersonRow.name)).all()
        return [_person(s, r) for r in rows]


def list_orgs(ws: Workspace) -> list[Organisation]:
    """Every organisation, by name."""
    with ws.store.session() as s:
        rows = s.scalars(select(OrganisationRow).order_by(OrganisationRow.name)).all()
        return [Organisation(r.id, r.name, r.kind) for r in rows]


def check_password(ws: Workspace, password: str | None) -> str:
    """A usable new password: at least 10 characters outside a demo workspace."""
    if not password:
        raise BadInput.msg("gov.password_missing")
    minimum = 6 if ws.settings.demo else MIN_PASSWORD
    if len(password) < minimum:
        raise BadInput.msg("gov.password_short", n=minimum)
    if len(password.encode("utf-8")) > 1024:
        raise BadInput.msg("gov.password_long")
    return password


def _manager(ws: Workspace, actor: str | None, now: dt.datetime | None) -> str:
    from handover.governance.authorize import require

    return require(ws, MANAGE, "*", actor=actor, now=now).actor


def add_org(
    ws: Workspace,
    name: str,
    kind: str,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Organisation:
    """Register an organisation (seller, buyer, advisor or vendor).

    An empty workspace may register organisations before its first person exists.
    """
    from handover.ledger import record

    name = name.strip()
    if not name or len(name) > 200:
        raise BadInput.msg("gov.org_name")
    if kind not in ORG_KINDS:
        raise BadInput.msg("gov.org_kind", kind=kind, kinds=", ".join(ORG_KINDS))
    who = _bootstrap_or_manager(ws, actor, now)
    at = now_utc(now)
    with ws.store.session() as s:
        if s.scalars(select(OrganisationRow).where(OrganisationRow.name == name)).first():
            raise BadInput.msg("gov.org_exists", name=name)
        row = OrganisationRow(name=name, kind=kind, created_at=at)
        s.add(row)
        s.flush()
        org = Organisation(row.id, row.name, row.kind)
    from handover.governance.session import os_actor  # session builds on this module

    # Before the first person exists nobody can be logged in: the OS account acts.
    record(
        ws,
        who or os_actor(),
        "governance.org.add",
        f"organisation {name}",
        "governance",
        {"kind": kind},
    )
    return org


def _bootstrap_or_manager(ws: Workspace, actor: str | None, now: dt.datetime | None) -> str | None:
    with ws.store.session() as s:
        people = s.scalar(select(func.count()).select_from(PersonRow)) or 0
    if people == 0:
        return actor
    return _manager(ws, actor, now)


def add_person(
    ws: Workspace,
    name: str,
    display_name: str,
    org: str,
    roles: Iterable[str],
    password: str | None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    password_hash: str | None = None,
) -> Person:
    """Register a person with roles and an initial password (stored as Argon2id;
    ``password_hash``, an Argon2id PHC string of it, saves hashing it again).

    The first person of a workspace needs no login but must be a DPO or compliance
    officer (who then manages everyone else); later ones need ``governance.manage``.
    """
    from handover.crypto.passwords import hash_password
    from handover.ledger import record

    check_name(name)
    role_list = sorted({check_role(r) for r in roles})
    if not role_list:
        raise BadInput.msg("gov.roles_missing")
    pw = check_password(ws, password)
    who = _bootstrap_or_manager(ws, actor, now)
    with ws.store.session() as s:
        first = (s.scalar(select(func.count()).select_from(PersonRow)) or 0) == 0
        if first and not {"dpo", "compliance_officer"} & set(role_list):
            raise Refused.msg("gov.first_person")
        orow = org_row(s, org)
        if s.scalars(select(PersonRow).where(PersonRow.name == name)).first():
            raise BadInput.msg("gov.person_exists", name=name)
        if "vendor_staff" in role_list and orow.kind != "vendor":
            raise BadInput.msg("gov.vendor_staff_org", org=org)
        row = PersonRow(
            name=name,
            display_name=display_name.strip() or name,
            org_id=orow.id,
            password_hash=password_hash or hash_password(pw),
            active=True,
            created_at=now_utc(now),
        )
        s.add(row)
        s.flush()
        for r in role_list:
            s.add(PersonRoleRow(person_id=row.id, role=r))
        s.flush()
        person = _person(s, row)
    record(
        ws,
        who if who is not None else name,
        "governance.person.add",
        f"person {name}",
        "governance",
        {"org": org, "roles": role_list},
    )
    return person


def set_roles(
    ws: Workspace,
    name: str,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Person:
    """Add and remove roles of ``name`` (needs ``governance.manage``; not on oneself)."""
    from handover.ledger import record

    add_set = {check_role(r) for r in add}
    remove_set = {check_role(r) for r in remove}
    who = _manager(ws, actor, now)
    if who == name:
        raise Refused.msg("gov.own_roles")
    with ws.store.session() as s:
        row = person_row(s, name)
        not_service(s, row)
        current = set(
            s.scalars(select(PersonRoleRow.role).where(PersonRoleRow.person_id == row.id))
        )
        org = s.get(OrganisationRow, row.org_id)
        if "vendor_staff" in add_set and org is not None and org.kind != "vendor":
            raise BadInput.msg("gov.vendor_staff_org", org=org.name)
        new = (current | add_set) - remove_set
        if not new:
            raise BadInput.msg("gov.roles_missing")
        for r in current - new:
            obj = s.get(PersonRoleRow, (row.id, r))
            if obj is not None:
                s.delete(obj)
        for r in new - current:
            s.add(PersonRoleRow(person_id=row.id, role=r))
        s.flush()
        person = _person(s, row)
    record(
        ws,
        who,
        "governance.person.roles",
        f"person {name}",
        "governance",
        {"added": sorted(add_set), "removed": sorted(remove_set), "roles": list(person.roles)},
    )
    return person


def deactivate(
    ws: Workspace, name: str, *, actor: str | None = None, now: dt.datetime | None = None
) -> Person:
    """Deactivate ``name``: every later authorisation for them is refused, sessions end."""
    from handover.governance.models import SessionRow
    from handover.ledger import record

    who = _manager(ws, actor, now)
    at = now_utc(now)
    with ws.store.session() as s:
        row = person_row(s, name)
        row.active = False
        for sess in s.scalars(
            select(SessionRow).where(SessionRow.person_id == row.id, SessionRow.ended_at.is_(None))
        ):
            sess.ended_at = at
        s.flush()
        person = _person(s, row)
    record(ws, who, "governance.person.deactivate", f"person {name}", "governance")
    return person


def set_password(
    ws: Workspace,
    name: str,
    password: str | None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Set ``name``'s password: the logged-in person for themselves, or a manager."""
    from handover.crypto.passwords import hash_password
    from handover.governance.session import current_person
    from handover.ledger import record

    pw = check_password(ws, password)
    me = current_person(ws, now=now)
    who = (
        me.name
        if me is not None and me.name == name and actor is None
        else _manager(ws, actor, now)
    )
    with ws.store.session() as s:
        row = person_row(s, name)
        not_service(s, row)
        row.password_hash = hash_password(pw)
    record(ws, who, "governance.person.password", f"person {name}", "governance")
