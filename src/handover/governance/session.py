"""CLI login sessions: an expiring random token in a 0600 file of the workspace, its
SHA-256 in the store. ``current_person`` is who the ledger records as the actor."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import stat
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from handover.errors import BadInput
from handover.governance.models import PersonRow, SessionRow
from handover.governance.people import Person, load_person, person_by_id
from handover.governance.policy import MAX_SESSION_HOURS, SESSION_HOURS, now_utc, utc

if TYPE_CHECKING:
    from handover.workspace import Workspace

SESSION_FILE = ".session"


@dataclass(frozen=True)
class SessionInfo:
    """A live login: who, since when, until when."""

    person: Person
    created_at: dt.datetime
    expires_at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        """Machine form (never the token)."""
        return {
            "person": self.person.to_json(),
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


def session_path(ws: Workspace) -> Path:
    """The token file of the workspace (mode 0600)."""
    return ws.path / SESSION_FILE


def login(
    ws: Workspace,
    name: str,
    password: str | None,
    *,
    hours: float = SESSION_HOURS,
    now: dt.datetime | None = None,
) -> SessionInfo:
    """Check ``name``'s password and start a session of ``hours`` (at most 24).

    A wrong password, an unknown or inactive name all give the same answer, bad
    credentials (exit 2), and a ``governance.login.refused`` ledger event; nothing is
    written to the session file.
    """
    from handover.crypto.files import atomic_write
    from handover.crypto.passwords import new_session_token, token_digest, verify_password
    from handover.ledger import record

    if not password:
        raise BadInput.msg("gov.password_missing")
    if not 0 < hours <= MAX_SESSION_HOURS:
        raise BadInput.msg("gov.session_hours", max=MAX_SESSION_HOURS)
    at = now_utc(now)
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()
        ok = verify_password(password, row.password_hash if row is not None else None)
        if not ok or row is None or not row.active:
            failed = True
        else:
            failed = False
            token = new_session_token()
            expires = at + dt.timedelta(hours=hours)
            s.add(
                SessionRow(
                    person_id=row.id,
                    token_hash=token_digest(token),
                    created_at=at,
                    expires_at=expires,
                )
            )
            person = load_person(s, name)
    if failed:
        record(
            ws,
            current_actor(ws),
            "governance.login.refused",
            f"person {name}",
            "authentication",
            {"reason": "bad name or password, or inactive"},
        )
        raise BadInput.msg("gov.bad_credentials", name=name)
    atomic_write(session_path(ws), token.encode("ascii"))
    record(
        ws,
        name,
        "governance.login",
        f"person {name}",
        "authentication",
        {"expires_at": expires.isoformat()},
    )
    return SessionInfo(person, at, expires)


def authenticate(
    ws: Workspace,
    name: str,
    password: str | None,
    *,
    purpose: str,
    now: dt.datetime | None = None,
) -> tuple[Person, int]:
    """Check ``name``'s password for one act without starting a session — the second
    person of a dual control acting at the first one's terminal (shred's validator).

    Returns the person and the seq of the ``governance.authenticated`` ledger event
    (``purpose`` in its details); bad credentials (exit 2) and a
    ``governance.login.refused`` event for a wrong password or an unknown or inactive
    name, as :func:`login`.
    """
    from handover.crypto.passwords import verify_password
    from handover.ledger import record

    if not password:
        raise BadInput.msg("gov.password_missing_for", name=name)
    at = now_utc(now)
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()
        ok = verify_password(password, row.password_hash if row is not None else None)
        person = load_person(s, name) if ok and row is not None and row.active else None
    if person is None:
        record(
            ws,
            current_actor(ws, now=at),
            "governance.login.refused",
            f"person {name}",
            "authentication",
            {"reason": "bad name or password, or inactive", "for": purpose},
        )
        raise BadInput.msg("gov.bad_credentials", name=name)
    entry = record(
        ws,
        name,
        "governance.authenticated",
        f"person {name}",
        "authentication",
        {"for": purpose, "at": at.isoformat()},
    )
    return person, entry.seq


def _read_token(ws: Workspace) -> str | None:
    path = session_path(ws)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    # A token others can read is as good as leaked: do not honour it.
    if stat.S_IMODE(st.st_mode) & 0o077 or st.st_uid != os.getuid():
        return None
    token = path.read_text(encoding="ascii", errors="replace").strip()
    return token or None


class SessionExpired(BadInput):
    """The workspace's session has expired: log in again (exit 2). Never a fallback to
    another identity (a demo stand-in or the OS account) for what needs a person."""


def current_session(ws: Workspace, *, now: dt.datetime | None = None) -> SessionInfo | None:
    """The live session of this workspace, or None (no token file, ended, inactive);
    :class:`SessionExpired` when the token file names a session past its end."""
    from handover.crypto.passwords import token_digest

    token = _read_token(ws)
    if token is None:
        return None
    at = now_utc(now)
    with ws.store.session() as s:
        row = s.scalars(
            select(SessionRow).where(SessionRow.token_hash == token_digest(token))
        ).one_or_none()
        if row is None or row.ended_at is not None:
            return None
        person = person_by_id(s, row.person_id)
        if utc(row.expires_at) <= at:
            raise SessionExpired.msg(
                "gov.session_expired",
                name=person.name,
                at=utc(row.expires_at).isoformat(timespec="minutes"),
            )
        if not person.active:
            return None
        return SessionInfo(person, utc(row.created_at), utc(row.expires_at))


def current_person(ws: Workspace, *, now: dt.datetime | None = None) -> Person | None:
    """The logged-in person of this workspace, or None when there is no live session."""
    info = current_session(ws, now=now)
    return info.person if info is not None else None


def current_actor(ws: Workspace, *, now: dt.datetime | None = None) -> str:
    """Who is acting: the logged-in person of the workspace, else the OS account
    (``os:<user>``; also after the session expired: what is recorded then is done by
    the account, never by the person whose session it was)."""
    try:
        person = current_person(ws, now=now)
    except SessionExpired:
        return os_actor()
    if person is not None:
        return person.name
    return os_actor()


def os_actor() -> str:
    """The OS account running this process, as an actor name (``os:<user>``)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in containers without passwd entries
        user = "unknown"
    return f"os:{user}"


def logout(ws: Workspace, *, now: dt.datetime | None = None) -> Person | None:
    """End the workspace's session (store and token file); returns who was logged in."""
    from handover.crypto.files import overwrite_file
    from handover.crypto.passwords import token_digest
    from handover.ledger import record

    token = _read_token(ws)
    person: Person | None = None
    if token is not None:
        with ws.store.session() as s:
            row = s.scalars(
                select(SessionRow).where(SessionRow.token_hash == token_digest(token))
            ).one_or_none()
            if row is not None and row.ended_at is None:
                row.ended_at = now_utc(now)
                person = person_by_id(s, row.person_id)
    with suppress(FileNotFoundError):  # no token file: nothing to overwrite
        overwrite_file(session_path(ws))
    if person is not None:
        record(ws, person.name, "governance.logout", f"person {person.name}", "authentication")
    return person
