"""CLI login sessions: an expiring random token in a 0600 file of the workspace, its
SHA-256 in the store. ``current_person`` is who the ledger records as the actor.

Every password check (CLI login, console login, a validator's password, a password
change) goes through :func:`check_credentials`: throttled per account and per client by
one rule (:func:`throttled`), each attempt noted, never the password.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import stat
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from handover.errors import BadInput, Refused
from handover.governance.models import LoginAttemptRow, PersonRow, SessionRow
from handover.governance.people import Person, load_person, person_by_id
from handover.governance.policy import MAX_SESSION_HOURS, SESSION_HOURS, now_utc, utc

if TYPE_CHECKING:
    from handover.workspace import Workspace

SESSION_FILE = ".session"
#: failed password checks counted over this window
WINDOW = dt.timedelta(minutes=15)
#: failures of one account within WINDOW (since its last success) before it is throttled
MAX_NAME_FAILURES = 5
#: failures from one client within WINDOW before it is throttled
MAX_CLIENT_FAILURES = 20
BAD_CREDENTIALS = "bad name or password, or inactive"


def client_digest(address: str) -> str:
    """What the store keeps of where a password came from (a console client's address,
    the CLI's OS account): its SHA-256, enough to count failures."""
    from handover.crypto import sha256_hex

    return sha256_hex(b"handover-web-client\0" + address.encode("utf-8"))


@dataclass(frozen=True)
class Throttle:
    """Recent failures of an account and of a client; ``over`` when either must wait."""

    by_name: int
    by_client: int

    @property
    def over(self) -> bool:
        """Whether the account or the client has failed too often within the window."""
        return self.by_name >= MAX_NAME_FAILURES or self.by_client >= MAX_CLIENT_FAILURES

    def to_json(self) -> dict[str, int]:
        """Ledger details of a throttled attempt."""
        return {
            "by_name": self.by_name,
            "by_client": self.by_client,
            "window_minutes": int(WINDOW.total_seconds() // 60),
        }


def throttled(
    ws: Workspace, name: str, client: str, at: dt.datetime, *, own_client: bool = False
) -> Throttle:
    """Failed password checks of account ``name`` (since its last success) and of
    ``client`` (a :func:`client_digest`) within :data:`WINDOW` before ``at``; attempts
    older than two windows are forgotten. ``own_client``: the account's failures from
    ``client`` only — a password typed at this machine's CLI (or a validator's) is not
    locked out by guesses sent to the console from elsewhere, which throttle the
    console's logins of that name."""
    since = at - WINDOW
    name = name[:64]
    with ws.store.session() as s:
        s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < at - 2 * WINDOW))
        last_ok = s.scalar(
            select(func.max(LoginAttemptRow.at)).where(
                LoginAttemptRow.name == name, LoginAttemptRow.ok.is_(True)
            )
        )
        name_since = max(since, utc(last_ok)) if last_ok is not None else since
        mine = [LoginAttemptRow.client == client] if own_client else []
        by_name = s.scalar(
            select(func.count()).where(
                LoginAttemptRow.name == name,
                LoginAttemptRow.ok.is_(False),
                LoginAttemptRow.at > name_since,
                *mine,
            )
        )
        by_client = s.scalar(
            select(func.count()).where(
                LoginAttemptRow.client == client,
                LoginAttemptRow.ok.is_(False),
                LoginAttemptRow.at > since,
            )
        )
    return Throttle(int(by_name or 0), int(by_client or 0))


def note_attempt(s: Session, name: str, client: str, ok: bool, at: dt.datetime) -> None:
    """Count one password check of ``name`` from ``client`` (right or wrong)."""
    s.add(LoginAttemptRow(at=at, name=name[:64], client=client, ok=ok))


def cli_client() -> str:
    """The client of a password typed at this process: its OS account (hashed)."""
    return client_digest(f"cli:{os_actor()}")


def check_credentials(
    ws: Workspace,
    name: str,
    password: str,
    *,
    at: dt.datetime,
    purpose: str | None = None,
    client: str | None = None,
    actor: str | None = None,
) -> Person:
    """The active person ``name`` whose password this is (a one-time one too: the caller
    decides what that allows).

    Refused (exit 3) without checking the password when the account or this client
    failed too often lately (``governance.login.throttled``); bad credentials (exit 2)
    for a wrong password or an unknown or inactive name (``governance.login.refused``).
    Both are ledgered as ``actor``'s (default: whoever acts at this workspace); the
    password never is. ``client``: a console client's :func:`client_digest`, throttled
    as a console login is (every recent failure of the account counts); without it the
    password was typed at this process (:func:`cli_client`).
    """
    from handover.crypto.passwords import verify_password
    from handover.ledger import record

    typed_here = client is None
    client = cli_client() if client is None else client
    extra = {"for": purpose} if purpose else {}
    over = throttled(ws, name, client, at, own_client=typed_here)
    if over.over:
        record(
            ws,
            actor if actor is not None else current_actor(ws, now=at),
            "governance.login.throttled",
            f"person {name}",
            "authentication",
            {**over.to_json(), **extra},
        )
        raise Refused.msg(
            "gov.login_throttled", name=name, minutes=int(WINDOW.total_seconds() // 60)
        )
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()
        ok = verify_password(password, row.password_hash if row is not None else None)
        ok = ok and row is not None and row.active
        note_attempt(s, name, client, ok, at)
        person = load_person(s, name) if ok else None
    if person is None:
        record(
            ws,
            actor if actor is not None else current_actor(ws, now=at),
            "governance.login.refused",
            f"person {name}",
            "authentication",
            {"reason": BAD_CREDENTIALS, **extra},
        )
        raise BadInput.msg("gov.bad_credentials", name=name)
    return person


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
    credentials (exit 2), and a ``governance.login.refused`` ledger event; so does a
    one-time password (set by somebody else), with a message saying to set one's own
    first; too many recent failures are refused without checking (exit 3,
    ``governance.login.throttled``). Nothing is written to the session file then.
    """
    from handover.crypto.files import atomic_write
    from handover.crypto.passwords import new_session_token, token_digest
    from handover.ledger import record

    if not password:
        raise BadInput.msg("gov.password_missing")
    if not 0 < hours <= MAX_SESSION_HOURS:
        raise BadInput.msg("gov.session_hours", max=MAX_SESSION_HOURS)
    at = now_utc(now)
    person = check_credentials(ws, name, password, at=at)
    if person.one_time_password:
        refuse_one_time(ws, current_actor(ws, now=at), person)
    token = new_session_token()
    expires = at + dt.timedelta(hours=hours)
    with ws.store.session() as s:
        s.add(
            SessionRow(
                person_id=person.id,
                token_hash=token_digest(token),
                created_at=at,
                expires_at=expires,
            )
        )
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


def refuse_one_time(
    ws: Workspace, actor: str, person: Person, *, event: str = "governance.login.refused"
) -> NoReturn:
    """Refuse a login with a one-time password: ledgered as ``event``, and bad
    credentials (exit 2) saying to set one's own first (``handover people password``)."""
    from handover.ledger import record

    record(
        ws,
        actor,
        event,
        f"person {person.name}",
        "authentication",
        {"reason": "one-time password: set your own first", "set_by": person.password_set_by},
    )
    raise BadInput.msg("gov.login_one_time", name=person.name, by=person.password_set_by or "-")


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
    (``purpose`` in its details); throttled, bad credentials and one-time passwords as
    :func:`login` (``governance.login.throttled`` / ``governance.login.refused``).
    """
    from handover.ledger import record

    if not password:
        raise BadInput.msg("gov.password_missing_for", name=name)
    at = now_utc(now)
    person = check_credentials(ws, name, password, at=at, purpose=purpose)
    if person.one_time_password:
        refuse_one_time(ws, current_actor(ws, now=at), person)
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
