"""Console sessions: the same Argon2id accounts as ``handover login``, a random token per
login kept by the browser (HttpOnly cookie) or an API client (bearer header), only its
SHA-256 in the store; sessions expire (absolute and idle), end on logout, on a new
password and can be revoked. Failed logins are throttled per account and per client
address by governance's one rule (``governance.session.throttled``), which the CLI's
logins share: failures at either count for both.

Every login, refused login, throttled attempt and logout is a ledger event; the name tried
is recorded, the client address never (it is personal information), the password never.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover.errors import Refused
from handover.governance.models import PersonRow
from handover.governance.people import Person, load_person, person_by_id
from handover.governance.policy import SESSION_HOURS, utc
from handover.governance.session import WINDOW, client_digest, note_attempt, throttled
from handover.web.models import WebSessionRow

if TYPE_CHECKING:
    from handover.ledger import Clock
    from handover.workspace import Workspace

#: a session idle this long is over (the absolute limit is governance's SESSION_HOURS)
IDLE = dt.timedelta(minutes=30)
#: last_seen_at is written at most this often (one write per minute, not per request)
TOUCH_EVERY = dt.timedelta(seconds=60)
ANONYMOUS = "web:anonymous"
PURPOSE = "authentication"


@dataclass(frozen=True)
class WebSession:
    """A live console session: who, since when, until when; ``token`` is the secret."""

    id: int
    person: Person
    created_at: dt.datetime
    expires_at: dt.datetime
    token: str = field(repr=False)

    def to_json(self) -> dict[str, object]:
        """Machine form (never the token)."""
        return {
            "session": self.id,
            "person": self.person.to_json(),
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


def csrf_token(token: str) -> str:
    """The CSRF token of a session (or pre-login) token: derived from that secret, so only
    a page served to its holder can carry it; no server-side state."""
    from handover.crypto import sha256_hex

    return sha256_hex(b"handover-web-csrf\0" + token.encode("utf-8"))


def csrf_matches(token: str, given: str | None) -> bool:
    """Whether ``given`` is the CSRF token of ``token`` (constant-time)."""
    from handover.crypto.passwords import same_digest

    return bool(given) and same_digest(csrf_token(token), str(given))


def attempt_tag(token: str, course: str, seed: int) -> str:
    """The tag binding a training attempt's seed to the session it was drawn for: the
    answers are graded on exactly the questions that session was shown."""
    from handover.crypto import sha256_hex

    body = f"{course}\0{seed}".encode()
    return sha256_hex(b"handover-web-training\0" + token.encode("utf-8") + b"\0" + body)


def attempt_matches(token: str, course: str, seed: int, given: object) -> bool:
    """Whether ``given`` is the tag of that attempt (constant-time)."""
    from handover.crypto.passwords import same_digest

    return isinstance(given, str) and same_digest(attempt_tag(token, course, seed), given)


def start_session(
    ws: Workspace,
    name: str,
    password: str,
    client: str,
    *,
    clock: Clock,
    hours: float = SESSION_HOURS,
    one_time_ok: bool = False,
) -> WebSession:
    """Check ``name``'s password (Argon2id, as ``handover login``) and start a session.

    Refused (and ledgered) for a wrong password, an unknown or inactive name — all alike —
    and, without checking the password, when the account or the client address has too
    many recent failures (CLI failures count too). A one-time password (set by somebody
    else) opens a session good only for setting one's own (``one_time_ok``: the console's
    pages, see ``security.signed_in``); otherwise (the API) it is refused with a message
    pointing to that page. A new token every time: a token from before the login never
    becomes a session (no fixation).
    """
    from handover.crypto.passwords import verify_password
    from handover.ledger import record

    at = utc(clock())
    name = name.strip()[:64]
    who = client_digest(client)
    over = throttled(ws, name, who, at)
    if over.over:
        record(
            ws,
            ANONYMOUS,
            "web.login.throttled",
            f"person {name}",
            PURPOSE,
            over.to_json(),
            clock=clock,
        )
        raise Refused.msg("web.throttled", minutes=int(WINDOW.total_seconds() // 60))
    one_time: Person | None = None
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one_or_none()
        ok = verify_password(password, row.password_hash if row is not None else None)
        ok = ok and row is not None and row.active
        note_attempt(s, name, who, ok, at)
        session: WebSession | None = None
        if ok and row is not None and row.password_one_time and not one_time_ok:
            one_time = load_person(s, name)
        elif ok and row is not None:
            session = _open(s, row.id, at, hours)
    if one_time is not None or session is None:
        if one_time is not None:
            # An API client cannot set a password: the person sets their own on the
            # console's page, or with `handover people password NAME`.
            by = one_time.password_set_by or "-"
            why = {"reason": "one-time password: set your own first", "set_by": by}
            refusal = Refused.msg("web.login_one_time", name=name, by=by)
        else:
            why = {"reason": "bad name or password, or inactive"}
            refusal = Refused.msg("gov.login_refused", name=name)
        record(ws, ANONYMOUS, "web.login.refused", f"person {name}", PURPOSE, why, clock=clock)
        raise refusal
    details: dict[str, object] = {
        "session": session.id,
        "expires_at": session.expires_at.isoformat(),
    }
    if session.person.one_time_password:
        details["one_time_password"] = True  # good for setting their own, nothing else
    record(ws, name, "web.login", f"person {name}", PURPOSE, details, clock=clock)
    return session


def _open(s: Session, person_id: int, at: dt.datetime, hours: float) -> WebSession:
    """A new session of the person with a new random token (its SHA-256 stored)."""
    from handover.crypto.passwords import new_session_token, token_digest

    token = new_session_token()
    expires = at + dt.timedelta(hours=hours)
    row = WebSessionRow(
        person_id=person_id,
        token_hash=token_digest(token),
        created_at=at,
        expires_at=expires,
        last_seen_at=at,
    )
    s.add(row)
    s.flush()
    return WebSession(row.id, person_by_id(s, person_id), at, expires, token)


def change_password(
    ws: Workspace,
    session: WebSession,
    current: str,
    new: str,
    client: str,
    *,
    clock: Clock,
) -> WebSession:
    """The session's person sets their own password, as ``handover people password``
    does (:func:`~handover.governance.people.set_password`: the password rule, the
    current one checked and throttled like a console login from ``client``, every session
    of theirs ended, ``governance.person.password`` in the ledger); then this browser
    goes on in a new session with a new token (``web.login``, ``after``: password)."""
    from handover.governance.people import set_password
    from handover.ledger import record

    name = session.person.name
    at = utc(clock())
    set_password(ws, name, new, current=current, client=client_digest(client), actor=name, now=at)
    with ws.store.session() as s:
        renewed = _open(s, session.person.id, at, SESSION_HOURS)
    record(
        ws,
        name,
        "web.login",
        f"person {name}",
        PURPOSE,
        {
            "session": renewed.id,
            "expires_at": renewed.expires_at.isoformat(),
            "after": "password",
            "replaces": session.id,
        },
        clock=clock,
    )
    return renewed


def resume_session(ws: Workspace, token: str | None, *, clock: Clock) -> WebSession | None:
    """The live session of ``token``, or None: unknown, ended, expired, idle too long, or
    its person deactivated. An idle or expired session is ended in the store."""
    from handover.crypto.passwords import token_digest

    if not token or len(token) > 200:
        return None
    at = utc(clock())
    with ws.store.session() as s:
        row = s.scalars(
            select(WebSessionRow).where(WebSessionRow.token_hash == token_digest(token))
        ).one_or_none()
        if row is None or row.ended_at is not None:
            return None
        if utc(row.expires_at) <= at or utc(row.last_seen_at) + IDLE <= at:
            row.ended_at, row.ended_why = at, "expired"
            return None
        person = person_by_id(s, row.person_id)
        if not person.active:
            row.ended_at, row.ended_why = at, "inactive"
            return None
        set_at = person.password_set_at
        if person.one_time_password and (set_at is None or utc(row.created_at) < set_at):
            # a reset ends the sessions already; a row it missed. A session opened with
            # the one-time password after it is kept: it only sets one's own (signed_in).
            row.ended_at, row.ended_why = at, "password"
            return None
        if at - utc(row.last_seen_at) >= TOUCH_EVERY:
            row.last_seen_at = at
        return WebSession(row.id, person, utc(row.created_at), utc(row.expires_at), token)


def end_session(ws: Workspace, session: WebSession, *, clock: Clock, why: str = "logout") -> None:
    """End ``session`` now (logout); its token is refused from then on."""
    from handover.ledger import record

    at = utc(clock())
    with ws.store.session() as s:
        row = s.get(WebSessionRow, session.id)
        if row is None or row.ended_at is not None:
            return
        row.ended_at, row.ended_why = at, why
    name = session.person.name
    record(ws, name, f"web.{why}", f"person {name}", PURPOSE, {"session": session.id}, clock=clock)


def live_sessions(ws: Workspace, person: Person, *, clock: Clock) -> list[dict[str, object]]:
    """The person's sessions that have not ended or expired (for the account page)."""
    at = utc(clock())
    with ws.store.session() as s:
        rows = s.scalars(
            select(WebSessionRow)
            .where(WebSessionRow.person_id == person.id, WebSessionRow.ended_at.is_(None))
            .order_by(WebSessionRow.id)
        ).all()
        return [
            {
                "id": r.id,
                "created_at": utc(r.created_at),
                "expires_at": utc(r.expires_at),
                "last_seen_at": utc(r.last_seen_at),
            }
            for r in rows
            if utc(r.expires_at) > at
            and utc(r.last_seen_at) + IDLE > at
            and not person.one_time_password
        ]


def revoke_session(ws: Workspace, person: Person, session_id: int, *, clock: Clock) -> bool:
    """End one of ``person``'s own sessions (another browser); False when there is none."""
    from handover.ledger import record

    at = utc(clock())
    with ws.store.session() as s:
        row = s.get(WebSessionRow, session_id)
        if row is None or row.person_id != person.id or row.ended_at is not None:
            return False
        row.ended_at, row.ended_why = at, "revoked"
    record(
        ws,
        person.name,
        "web.revoke",
        f"person {person.name}",
        PURPOSE,
        {"session": session_id},
        clock=clock,
    )
    return True
