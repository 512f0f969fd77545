"""Organisations and people with roles; the first person bootstraps an empty workspace."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import DateTime, Integer, String, column, func, select, table, update
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
    utc,
)

if TYPE_CHECKING:
    from handover.i18n import Msg
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
    #: who set the password (None: before this was recorded) and when
    password_set_by: str | None = None
    password_set_at: dt.datetime | None = None
    #: set by somebody else outside a demo: it only serves to set one's own
    one_time_password: bool = False

    def to_json(self) -> dict[str, Any]:
        """Machine form (never the password hash)."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "org": self.org,
            "org_kind": self.org_kind,
            "roles": list(self.roles),
            "active": self.active,
            "password_set_by": self.password_set_by,
            "one_time_password": self.one_time_password,
        }


def _person(s: Session, row: PersonRow) -> Person:
    org = s.get(OrganisationRow, row.org_id)
    assert org is not None
    roles = s.scalars(
        select(PersonRoleRow.role)
        .where(PersonRoleRow.person_id == row.id)
        .order_by(PersonRoleRow.role)
    ).all()
    return Person(
        row.id,
        row.name,
        row.display_name,
        org.name,
        org.kind,
        tuple(roles),
        row.active,
        row.password_set_by,
        utc(row.password_set_at) if row.password_set_at is not None else None,
        bool(row.password_one_time),
    )


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


def _min_password(ws: Workspace) -> int:
    return 6 if ws.settings.demo else MIN_PASSWORD


def password_rule(ws: Workspace) -> Msg:
    """What :func:`check_password` asks of a new password in this workspace, to show
    where one is chosen."""
    from handover.i18n import Msg

    key = "gov.password_rule_demo" if ws.settings.demo else "gov.password_rule"
    return Msg(key, n=_min_password(ws))


def check_password(ws: Workspace, password: str | None, name: str | None = None) -> str:
    """A usable new password for ``name``. Outside a demo workspace: at least 10
    characters, not the login name, not one character repeated nor a plain run
    (``abcdefghij``, ``9876543210``), and at least two kinds of characters among
    lower-case letters, upper-case letters, digits and anything else."""
    if not password:
        raise BadInput.msg("gov.password_missing")
    if len(password.encode("utf-8")) > 1024:
        raise BadInput.msg("gov.password_long")
    minimum = _min_password(ws)
    if len(password) < minimum:
        raise BadInput.msg("gov.password_short", n=minimum)
    if ws.settings.demo:
        return password
    folded = password.casefold()
    if name is not None and folded == name.casefold():
        raise BadInput.msg("gov.password_is_name")
    if len(set(folded)) == 1:
        raise BadInput.msg("gov.password_repeated")
    if {ord(b) - ord(a) for a, b in itertools.pairwise(folded)} in ({1}, {-1}):
        raise BadInput.msg("gov.password_sequence")
    kinds = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other"
        for c in password
    }
    if len(kinds) < 2:
        raise BadInput.msg("gov.password_kinds")
    return password


def _manager(ws: Workspace, actor: str | None, now: dt.datetime | None) -> str:
    from handover.governance.authorize import require

    return require(ws, MANAGE, "*", actor=actor, now=now).actor


def _acting(ws: Workspace, actor: str | None, now: dt.datetime | None) -> str | None:
    """Who would act as a manager (nothing decided, nothing recorded)."""
    from handover.governance.authorize import acting_name

    return acting_name(ws, actor, MANAGE, now=now)


def _manager_not(
    ws: Workspace,
    actor: str | None,
    now: dt.datetime | None,
    target: str,
    verb: str,
    key: str,
    /,
    **values: Any,
) -> str:
    """The manager acting on ``target``'s account, never ``target`` themselves: refused
    and ledgered (:func:`_refused`) before the decision is asked when the one acting is
    ``target``, and after it when the decision names them."""
    if _acting(ws, actor, now) == target:
        _refused(ws, target, verb, target, key, **values)
    who = _manager(ws, actor, now)
    if who == target:
        _refused(ws, who, verb, target, key, **values)
    return who


def _refused(
    ws: Workspace, actor: str, verb: str, target: str, key: str, **values: Any
) -> NoReturn:
    """Record ``governance.person.<verb>.refused`` (reason in English, its key and values)
    as ``actor``'s, then raise the refusal for the person to read in their language."""
    from handover.i18n import t
    from handover.ledger import record

    record(
        ws,
        actor,
        f"governance.person.{verb}.refused",
        f"person {target}",
        "governance",
        {"reason": t(key, "en", **values), "reason_key": key, "params": values},
    )
    raise Refused.msg(key, **values)


#: the console's sessions (``handover.web.models.WebSessionRow``), named here, not
#: imported: the library does not import the console, yet a new password ends them too
_WEB_SESSIONS = table(
    "web_sessions",
    column("person_id", Integer),
    column("ended_at", DateTime(timezone=True)),
    column("ended_why", String(20)),
)


def _end_sessions(s: Session, person_id: int, at: dt.datetime, why: str) -> int:
    """End every open session of the person, CLI (``gov_sessions``) and console
    (``web_sessions``, ended ``why``); how many CLI sessions were open."""
    from handover.governance.models import SessionRow

    n = 0
    for sess in s.scalars(
        select(SessionRow).where(SessionRow.person_id == person_id, SessionRow.ended_at.is_(None))
    ):
        sess.ended_at = at
        n += 1
    s.execute(
        update(_WEB_SESSIONS)
        .where(_WEB_SESSIONS.c.person_id == person_id, _WEB_SESSIONS.c.ended_at.is_(None))
        .values(ended_at=at, ended_why=why)
    )
    return n


def _store_password(
    s: Session, row: PersonRow, password: str, *, by: str, at: dt.datetime, one_time: bool, why: str
) -> int:
    """Give ``row`` the new ``password`` (Argon2id) set by ``by`` at ``at``, one-time or
    not, and end every open session of theirs (ended ``why``); how many CLI sessions were
    open."""
    from handover.crypto.passwords import hash_password

    row.password_hash = hash_password(password)
    row.password_set_by, row.password_set_at = by, at
    row.password_one_time = one_time
    return _end_sessions(s, row.id, at, why)


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
    pw = check_password(ws, password, name)
    who = _bootstrap_or_manager(ws, actor, now)
    at = now_utc(now)
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
            created_at=at,
            # the first person chooses their own; anyone else's is the manager's choice,
            # good only for setting their own (outside a demo)
            password_set_by=name if first or who is None else who,
            password_set_at=at,
            password_one_time=not first and who is not None and not ws.settings.demo,
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
        {"org": org, "roles": role_list, "one_time_password": person.one_time_password},
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
    """Add and remove roles of ``name`` (needs ``governance.manage``; not on oneself: that
    attempt is refused and ledgered as ``governance.person.roles.refused``)."""
    from handover.ledger import record

    add_set = {check_role(r) for r in add}
    remove_set = {check_role(r) for r in remove}
    who = _manager_not(ws, actor, now, name, "roles", "gov.own_roles")
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


def _other_managers(s: Session, row: PersonRow) -> int:
    """Active people other than ``row`` holding a manager's role (DPO, compliance officer)."""
    from handover.governance.policy import ACTION_ROLES

    return int(
        s.scalar(
            select(func.count(func.distinct(PersonRow.id)))
            .join(PersonRoleRow, PersonRoleRow.person_id == PersonRow.id)
            .where(
                PersonRow.id != row.id,
                PersonRow.active.is_(True),
                PersonRoleRow.role.in_(sorted(ACTION_ROLES[MANAGE])),
            )
        )
        or 0
    )


def deactivate(
    ws: Workspace, name: str, *, actor: str | None = None, now: dt.datetime | None = None
) -> Person:
    """Deactivate ``name``: every later authorisation for them is refused, sessions end.

    Nobody deactivates themselves, and the last active manager (DPO or compliance
    officer) stays: nobody could manage people after them. Both refusals are ledgered
    (``governance.person.deactivate.refused``)."""
    from handover.governance.policy import ACTION_ROLES
    from handover.ledger import record

    who = _manager_not(ws, actor, now, name, "deactivate", "gov.own_deactivate", name=name)
    at = now_utc(now)
    person: Person | None = None
    with ws.store.session() as s:
        row = person_row(s, name)
        roles = set(s.scalars(select(PersonRoleRow.role).where(PersonRoleRow.person_id == row.id)))
        if not (row.active and roles & ACTION_ROLES[MANAGE] and _other_managers(s, row) == 0):
            row.active = False
            _end_sessions(s, row.id, at, "inactive")
            s.flush()
            person = _person(s, row)
    if person is None:
        _refused(ws, who, "deactivate", name, "gov.last_manager", name=name)
    record(ws, who, "governance.person.deactivate", f"person {name}", "governance")
    return person


@dataclass(frozen=True)
class Reactivation:
    """A person made active again, and their grants still open (``(id, state)``: pending,
    not yet begun or active), which count again unless revoked; expired ones stay expired."""

    person: Person
    grants: tuple[tuple[int, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Machine form (never the password)."""
        return {
            "person": self.person.to_json(),
            "grants": [{"id": i, "state": st} for i, st in self.grants],
        }


def reactivate(
    ws: Workspace,
    name: str,
    password: str | None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Reactivation:
    """Make the deactivated ``name`` active again with a new ``password`` chosen by the
    manager (``governance.manage``), one-time outside a demo workspace: their old password
    is dead, and they do nothing before setting their own. Sessions ended by the
    deactivation stay ended; grants keep their own dates.

    Nobody reactivates themselves (refused and ledgered,
    ``governance.person.reactivate.refused``); an unknown or already active person, or a
    service account (its old tokens must not come back), is bad input and nothing
    changes. Records ``governance.person.reactivate``."""
    from handover.governance.grants import grants_of
    from handover.governance.policy import SERVICE_ROLES
    from handover.ledger import record

    who = _manager_not(ws, actor, now, name, "reactivate", "gov.own_reactivate", name=name)
    at = now_utc(now)
    one_time = not ws.settings.demo
    with ws.store.session() as s:
        row = person_row(s, name)
        if row.active:
            raise BadInput.msg("gov.already_active", name=name)
        roles = set(s.scalars(select(PersonRoleRow.role).where(PersonRoleRow.person_id == row.id)))
        if roles & set(SERVICE_ROLES):
            raise BadInput.msg("gov.service_reactivate", name=name)
        pw = check_password(ws, password, name)
        row.active = True
        # a session the deactivation missed (a login racing it) ends here too
        _store_password(s, row, pw, by=who, at=at, one_time=one_time, why="inactive")
        s.flush()
        person = _person(s, row)
        open_grants = tuple(
            (g.id, g.state)
            for g in grants_of(s, person, at)
            if g.state in ("pending", "not_yet", "active")
        )
    record(
        ws,
        who,
        "governance.person.reactivate",
        f"person {name}",
        "governance",
        {
            "set_by": who,
            "one_time_password": one_time,
            "open_grants": [{"id": i, "state": st} for i, st in open_grants],
        },
    )
    return Reactivation(person, open_grants)


def resets_password(ws: Workspace, name: str, *, now: dt.datetime | None = None) -> bool:
    """Whether setting ``name``'s password now would be a manager's reset (the one acting
    is somebody else holding a manager's role) rather than ``name``'s own change, which
    needs their current password. Nothing is decided or recorded."""
    from handover.governance.policy import ACTION_ROLES

    me = _acting(ws, None, now)
    if me is None or me == name:
        return False
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == me)).one_or_none()
        return row is not None and bool(ACTION_ROLES[MANAGE] & set(_person(s, row).roles))


def set_password(
    ws: Workspace,
    name: str,
    password: str | None,
    *,
    current: str | None = None,
    client: str | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Person:
    """Set ``name``'s password; every session of theirs ends (CLI and console).

    With ``current`` — their present password, checked (and throttled) like a login — it
    is the person's own choice (``client``: the console client's digest it came from,
    see :func:`~handover.governance.session.check_credentials`; ``actor``: who a refusal
    is recorded for). Without it a manager (``governance.manage``) sets somebody else's:
    outside a demo workspace that is a one-time password, which lets the person do
    nothing but set their own with it (``handover people password NAME`` or the console's
    page ``/account/password``).
    """
    from handover.ledger import record

    pw = check_password(ws, password, name)
    at = now_utc(now)
    if current is not None:
        from handover.governance.session import check_credentials

        check_credentials(
            ws, name, current, at=at, purpose="password change", client=client, actor=actor
        )
        if current == pw:
            raise BadInput.msg("gov.password_same")
        who, one_time = name, False
    else:
        if _acting(ws, actor, now) == name:
            raise BadInput.msg("gov.password_own_current", name=name)
        who = _manager(ws, actor, now)
        if who == name:
            raise BadInput.msg("gov.password_own_current", name=name)
        one_time = not ws.settings.demo
    with ws.store.session() as s:
        row = person_row(s, name)
        not_service(s, row)
        ended = _store_password(s, row, pw, by=who, at=at, one_time=one_time, why="password")
        s.flush()
        person = _person(s, row)
    record(
        ws,
        who,
        "governance.person.password",
        f"person {name}",
        "governance",
        {"set_by": who, "one_time_password": one_time, "cli_sessions_ended": ended},
    )
    return person
