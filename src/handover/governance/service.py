"""Service accounts: a cron job that must act without a person's session, e.g.
``incidents tick`` / ``incidents warn`` every few minutes.

A service account is a registered name holding one service role (``SERVICE_ROLES``),
which :data:`~handover.governance.policy.ACTION_ROLES` lets do exactly one action and
nothing else; it has no usable password (nobody can log in as it). It proves itself with
a random token (shown once when issued; only its SHA-256 is stored), given to the job in
``HANDOVER_SERVICE_TOKEN``; every step it takes is ledgered under its name. Issuing a
new token revokes the older ones; a token expires after :data:`SERVICE_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from handover.errors import BadInput, Refused
from handover.governance.models import PersonRoleRow, PersonRow, ServiceTokenRow
from handover.governance.people import Person, _manager, load_person, org_row, person_by_id
from handover.governance.policy import SERVICE_ROLES, check_name, now_utc, utc

if TYPE_CHECKING:
    from handover.workspace import Workspace

SERVICE_DAYS = 366


@dataclass(frozen=True)
class ServiceToken:
    """A token just issued: the account, the token (shown once), when it expires."""

    person: Person
    token: str
    expires_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """Machine form (the token included: it is printed once, to be stored by the
        operator, and never again)."""
        return {
            "person": self.person.to_json(),
            "token": self.token,
            "expires_at": self.expires_at.isoformat(),
        }


def issue_service_token(
    ws: Workspace,
    name: str,
    *,
    org: str,
    role: str = "incident_clock",
    days: int = SERVICE_DAYS,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> ServiceToken:
    """Register service account ``name`` (in organisation ``org``) holding only
    ``role``, or re-issue its token (older tokens revoked); needs ``governance.manage``.
    A name already used by a person is refused. Records ``governance.service.token``."""
    from handover.crypto.passwords import hash_password, new_session_token, token_digest
    from handover.ledger import record

    check_name(name)
    if role not in SERVICE_ROLES:
        raise BadInput.msg("gov.bad_service_role", role=role, roles=", ".join(SERVICE_ROLES))
    if not 0 < days <= SERVICE_DAYS:
        raise BadInput.msg("gov.service_days", max=SERVICE_DAYS)
    who = _manager(ws, actor, now)
    at = now_utc(now)
    token = new_session_token()
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()
        if row is None:
            orow = org_row(s, org)
            row = PersonRow(
                name=name,
                display_name=f"service: {role}",
                org_id=orow.id,
                # nobody knows this password: a service account never logs in
                password_hash=hash_password(secrets.token_urlsafe(32)),
                active=True,
                created_at=at,
            )
            s.add(row)
            s.flush()
            s.add(PersonRoleRow(person_id=row.id, role=role))
            created = True
        else:
            roles = set(
                s.scalars(select(PersonRoleRow.role).where(PersonRoleRow.person_id == row.id))
            )
            if roles != {role}:
                raise BadInput.msg("gov.service_is_person", name=name)
            created = False
        s.execute(
            update(ServiceTokenRow)
            .where(ServiceTokenRow.person_id == row.id, ServiceTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        expires = at + dt.timedelta(days=days)
        s.add(
            ServiceTokenRow(
                person_id=row.id,
                token_hash=token_digest(token),
                created_at=at,
                created_by=who,
                expires_at=expires,
            )
        )
        s.flush()
        person = load_person(s, name)
    record(
        ws,
        who,
        "governance.service.token",
        f"person {name}",
        "governance",
        {"role": role, "created": created, "expires_at": expires.isoformat()},
    )
    return ServiceToken(person, token, expires)


def revoke_service_tokens(
    ws: Workspace, name: str, *, actor: str | None = None, now: dt.datetime | None = None
) -> int:
    """Revoke every live token of service account ``name``; returns how many."""
    from handover.ledger import record

    who = _manager(ws, actor, now)
    at = now_utc(now)
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()
        if row is None:
            raise BadInput.msg("gov.no_person", name=name)
        res = s.execute(
            update(ServiceTokenRow)
            .where(ServiceTokenRow.person_id == row.id, ServiceTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        n = int(getattr(res, "rowcount", 0) or 0)
    record(ws, who, "governance.service.revoke", f"person {name}", "governance", {"tokens": n})
    return n


def service_actor(ws: Workspace, token: str, *, now: dt.datetime | None = None) -> str:
    """The service account ``token`` belongs to (live, not revoked, its account active);
    otherwise :class:`Refused` and a ``governance.service.refused`` ledger event (the
    token itself is never recorded)."""
    from handover.crypto.passwords import token_digest
    from handover.governance.session import os_actor
    from handover.ledger import record

    at = now_utc(now)
    with ws.store.session() as s:
        row = s.scalars(
            select(ServiceTokenRow).where(ServiceTokenRow.token_hash == token_digest(token))
        ).one_or_none()
        name: str | None = None
        if row is not None and row.revoked_at is None and utc(row.expires_at) > at:
            person = person_by_id(s, row.person_id)
            if person.active and set(person.roles) <= set(SERVICE_ROLES):
                name = person.name
    if name is None:
        record(
            ws,
            os_actor(),
            "governance.service.refused",
            "service token",
            "authentication",
            {"reason": "unknown, revoked or expired token, or inactive account"},
        )
        raise Refused.msg("gov.service_refused")
    return name
