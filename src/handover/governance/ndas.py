"""NDAs (保密协议): parties, signatories, scope, duties, dates, the signed document's
SHA-256, and breaches. Status is derived from the dates and breaches, never stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from handover.errors import BadInput
from handover.governance.models import (
    NdaBreachRow,
    NdaPartyRow,
    NdaRow,
    NdaSignatoryRow,
    OrganisationRow,
    PersonRow,
)
from handover.governance.people import Person, org_row, person_row
from handover.governance.policy import (
    ALL,
    EXPIRING_DAYS,
    MANAGE,
    check_id,
    local_date,
    now_utc,
    parse_items,
)

if TYPE_CHECKING:
    from handover.workspace import Workspace

STATUSES = ("pending", "active", "expiring", "expired", "breached")
IN_FORCE = ("active", "expiring")


def nda_status(
    signed_on: dt.date | None,
    effective_on: dt.date,
    expires_on: dt.date,
    breaches: int,
    today: dt.date,
) -> str:
    """Derived status on the local calendar day ``today``: breached > pending (unsigned,
    not yet signed — a signing date ahead of today — or not yet effective) > expired >
    expiring (ends within 30 days, still in force) > active."""
    if breaches:
        return "breached"
    if signed_on is None or today < signed_on or today < effective_on:
        return "pending"
    if today > expires_on:
        return "expired"
    if (expires_on - today).days <= EXPIRING_DAYS:
        return "expiring"
    return "active"


@dataclass(frozen=True)
class Breach:
    """A recorded breach of an NDA."""

    id: int
    person: str
    occurred_on: dt.date
    description: str
    follow_up: str

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "person": self.person,
            "occurred_on": self.occurred_on.isoformat(),
            "description": self.description,
            "follow_up": self.follow_up,
        }


@dataclass(frozen=True)
class Nda:
    """An NDA as registered, with its status on the day it was read."""

    id: int
    title: str
    parties: tuple[str, ...]
    signatories: tuple[str, ...]
    items: tuple[str, ...]
    purposes: tuple[str, ...]
    duties: str
    liability_clause: str
    signed_on: dt.date | None
    effective_on: dt.date
    expires_on: dt.date
    document_name: str
    document_sha256: str
    breaches: tuple[Breach, ...]
    status: str

    @property
    def in_force(self) -> bool:
        """Whether it binds today (active or expiring)."""
        return self.status in IN_FORCE

    def covers(self, items: Iterable[str], purpose: str | None = None) -> bool:
        """Whether its scope covers ``items`` (and ``purpose`` when given)."""
        from handover.governance.policy import covers

        if not covers(self.items, tuple(items)):
            return False
        if purpose is None or ALL in self.purposes:
            return True
        return purpose.strip().casefold() in {p.casefold() for p in self.purposes}

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "parties": list(self.parties),
            "signatories": list(self.signatories),
            "scope": list(self.items),
            "purposes": list(self.purposes),
            "duties": self.duties,
            "liability_clause": self.liability_clause,
            "signed_on": self.signed_on.isoformat() if self.signed_on else None,
            "effective_on": self.effective_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
            "document_name": self.document_name,
            "document_sha256": self.document_sha256,
            "breaches": [b.to_json() for b in self.breaches],
        }


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of the file at ``path``; BadInput naming it when it cannot be read."""
    from handover.crypto import sha256_file

    try:
        return sha256_file(path)
    except FileNotFoundError:
        raise BadInput.msg("gov.file_missing", path=path) from None
    except IsADirectoryError:
        raise BadInput.msg("gov.file_is_dir", path=path) from None
    except PermissionError:
        raise BadInput.msg("gov.file_denied", path=path) from None


def _load(s: Session, row: NdaRow, today: dt.date) -> Nda:
    parties = s.scalars(
        select(OrganisationRow.name)
        .join(NdaPartyRow, NdaPartyRow.org_id == OrganisationRow.id)
        .where(NdaPartyRow.nda_id == row.id)
        .order_by(OrganisationRow.name)
    ).all()
    signatories = s.scalars(
        select(PersonRow.name)
        .join(NdaSignatoryRow, NdaSignatoryRow.person_id == PersonRow.id)
        .where(NdaSignatoryRow.nda_id == row.id)
        .order_by(PersonRow.name)
    ).all()
    breaches = [
        Breach(b.id, name, b.occurred_on, b.description, b.follow_up)
        for b, name in s.execute(
            select(NdaBreachRow, PersonRow.name)
            .join(PersonRow, PersonRow.id == NdaBreachRow.person_id)
            .where(NdaBreachRow.nda_id == row.id)
            .order_by(NdaBreachRow.id)
        ).all()
    ]
    scope = row.scope or {}
    return Nda(
        id=row.id,
        title=row.title,
        parties=tuple(parties),
        signatories=tuple(signatories),
        items=tuple(scope.get("items", [])),
        purposes=tuple(scope.get("purposes", [])),
        duties=row.duties,
        liability_clause=row.liability_clause,
        signed_on=row.signed_on,
        effective_on=row.effective_on,
        expires_on=row.expires_on,
        document_name=row.document_name,
        document_sha256=row.document_sha256,
        breaches=tuple(breaches),
        status=nda_status(row.signed_on, row.effective_on, row.expires_on, len(breaches), today),
    )


def binding_ndas(s: Session, person: Person, today: dt.date) -> list[Nda]:
    """NDAs binding ``person``: signed by them, or with their organisation as a party."""
    rows = s.scalars(
        select(NdaRow)
        .where(
            or_(
                NdaRow.id.in_(
                    select(NdaSignatoryRow.nda_id).where(NdaSignatoryRow.person_id == person.id)
                ),
                NdaRow.id.in_(
                    select(NdaPartyRow.nda_id)
                    .join(OrganisationRow, OrganisationRow.id == NdaPartyRow.org_id)
                    .where(OrganisationRow.name == person.org)
                ),
            )
        )
        .order_by(NdaRow.id)
    ).all()
    return [_load(s, r, today) for r in rows]


def add_nda(
    ws: Workspace,
    *,
    title: str,
    parties: Iterable[str],
    signatories: Iterable[str] = (),
    scope: str | Iterable[str] = "C1,C2,C3",
    purposes: Iterable[str] = (ALL,),
    duties: str = "",
    liability_clause: str = "",
    signed_on: dt.date | None = None,
    effective_on: dt.date,
    expires_on: dt.date,
    document: Path | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Nda:
    """Register an NDA; with ``document`` the signed file's SHA-256 is kept (not the file).

    Unsigned (no ``signed_on``) NDAs stay pending until :func:`sign_nda`.
    """
    from handover.governance.authorize import require
    from handover.ledger import record

    title = title.strip()
    if not title or len(title) > 300:
        raise BadInput.msg("gov.nda_title")
    party_list = sorted({p.strip() for p in parties if p.strip()})
    if len(party_list) < 2:
        raise BadInput.msg("gov.nda_parties")
    if expires_on < effective_on:
        raise BadInput.msg("gov.nda_dates", effective=effective_on, expires=expires_on)
    if signed_on is not None and signed_on > expires_on:
        raise BadInput.msg("gov.nda_signed_after", signed=signed_on, expires=expires_on)
    items = parse_items(scope if isinstance(scope, str) else tuple(scope), "nda_scope")
    purpose_list = sorted({p.strip() for p in purposes if p.strip()}) or [ALL]
    if signed_on is not None and document is None:
        raise BadInput.msg("gov.nda_document_needed")
    digest = file_sha256(document) if document is not None else ""
    who = require(ws, MANAGE, ALL, actor=actor, now=now).actor
    at = now_utc(now)
    with ws.store.session() as s:
        orgs = [org_row(s, p) for p in party_list]
        people = [person_row(s, p) for p in sorted(set(signatories))]
        row = NdaRow(
            title=title,
            scope={"items": list(items), "purposes": purpose_list},
            duties=duties.strip(),
            liability_clause=liability_clause.strip(),
            signed_on=signed_on,
            effective_on=effective_on,
            expires_on=expires_on,
            document_name=document.name if document is not None else "",
            document_sha256=digest,
            created_at=at,
            created_by=who,
        )
        s.add(row)
        s.flush()
        for o in orgs:
            s.add(NdaPartyRow(nda_id=row.id, org_id=o.id))
        for p in people:
            s.add(NdaSignatoryRow(nda_id=row.id, person_id=p.id))
        s.flush()
        nda = _load(s, row, local_date(ws, at))
    record(
        ws,
        who,
        "governance.nda.add",
        f"nda {nda.id}",
        "governance",
        {
            "title": title,
            "parties": list(nda.parties),
            "signatories": list(nda.signatories),
            "scope": list(items),
            "purposes": purpose_list,
            "document_sha256": digest,
            "effective_on": effective_on.isoformat(),
            "expires_on": expires_on.isoformat(),
        },
    )
    return nda


def sign_nda(
    ws: Workspace,
    nda_id: int,
    *,
    signed_on: dt.date,
    document: Path,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Nda:
    """Mark NDA ``nda_id`` signed on ``signed_on`` and keep the signed file's SHA-256."""
    from handover.governance.authorize import require
    from handover.ledger import record

    check_id(nda_id, "gov.no_nda_id")
    digest = file_sha256(document)
    with ws.store.session() as s:
        found = s.get(NdaRow, nda_id)
        if found is None:
            raise BadInput.msg("gov.no_nda_id", id=nda_id)
        if signed_on > found.expires_on:
            raise BadInput.msg("gov.nda_signed_after", signed=signed_on, expires=found.expires_on)
    who = require(ws, MANAGE, ALL, actor=actor, now=now).actor
    at = now_utc(now)
    with ws.store.session() as s:
        row = s.get(NdaRow, nda_id)
        if row is None:
            raise BadInput.msg("gov.no_nda_id", id=nda_id)
        row.signed_on = signed_on
        row.document_name = document.name
        row.document_sha256 = digest
        s.flush()
        nda = _load(s, row, local_date(ws, at))
    record(
        ws,
        who,
        "governance.nda.sign",
        f"nda {nda_id}",
        "governance",
        {"signed_on": signed_on.isoformat(), "document_sha256": digest},
    )
    return nda


def record_breach(
    ws: Workspace,
    nda_id: int,
    person: str,
    *,
    description: str,
    follow_up: str,
    occurred_on: dt.date | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Nda:
    """Record a breach of NDA ``nda_id`` by ``person``; the NDA becomes ``breached`` and
    stops covering anyone until a new NDA is signed."""
    from handover.governance.authorize import require
    from handover.ledger import record

    if not description.strip() or not follow_up.strip():
        raise BadInput.msg("gov.breach_text")
    check_id(nda_id, "gov.no_nda_id")
    who = require(ws, MANAGE, ALL, actor=actor, now=now).actor
    at = now_utc(now)
    with ws.store.session() as s:
        row = s.get(NdaRow, nda_id)
        if row is None:
            raise BadInput.msg("gov.no_nda_id", id=nda_id)
        prow = person_row(s, person)
        s.add(
            NdaBreachRow(
                nda_id=nda_id,
                person_id=prow.id,
                occurred_on=occurred_on or local_date(ws, at),
                description=description.strip(),
                follow_up=follow_up.strip(),
                recorded_at=at,
                recorded_by=who,
            )
        )
        s.flush()
        nda = _load(s, row, local_date(ws, at))
    record(
        ws,
        who,
        "governance.nda.breach",
        f"nda {nda_id}",
        "governance",
        {"person": person, "description": description.strip(), "follow_up": follow_up.strip()},
    )
    return nda


def list_ndas(ws: Workspace, *, now: dt.datetime | None = None) -> list[Nda]:
    """Every NDA with its status as of ``now`` (the local date of that instant)."""
    today = local_date(ws, now_utc(now))
    with ws.store.session() as s:
        return [_load(s, r, today) for r in s.scalars(select(NdaRow).order_by(NdaRow.id))]


def get_nda(ws: Workspace, nda_id: int, *, now: dt.datetime | None = None) -> Nda:
    """NDA ``nda_id`` with its status as of ``now`` (the local date of that instant)."""
    today = local_date(ws, now_utc(now))
    with ws.store.session() as s:
        row = s.get(NdaRow, check_id(nda_id, "gov.no_nda_id"))
        if row is None:
            raise BadInput.msg("gov.no_nda_id", id=nda_id)
        return _load(s, row, today)
