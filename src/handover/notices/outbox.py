"""The outbox: one row per (campaign, recipient, channel), driven through

    queued → sending → sent → delivered / undelivered (receipts)
                     ↘ retry (transient; backoff) → sending …
                     ↘ failed (permanent, or attempts used up) → a letter row (fallback)

Exactly once, also under ``kill -9``: a row is marked ``sending`` (committed) before its
message leaves, and every message the provider accepted is appended to the campaign's
journal file the moment it is accepted (one ``write``; it survives the process being
killed). A later run first folds the journal into the store, so accepted messages are
never sent again; a row still ``sending`` after that was in flight when the process
died, and is sent again *with the same idempotency key* (the e-mail Message-ID, the SMS
OutId), which receivers use to drop the copy. Rows are claimed by one process at a time
(the campaign's lease).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select, update

from handover.crypto.digest import sha256_hex
from handover.crypto.suites import new_hash
from handover.errors import BadInput
from handover.notices.channels import Channel, ChannelDown, Message, Result
from handover.notices.models import NoticeCampaignRow, NoticeOutboxRow, NoticeUnreachableRow

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.notices.audience import Audience
    from handover.workspace import Workspace

PENDING = ("queued", "sending", "retry")
STATES = ("queued", "sending", "sent", "delivered", "undelivered", "retry", "failed")
MAX_ATTEMPTS = 4
BACKOFF = dt.timedelta(seconds=30)
INSERT_CHUNK = 50_000

Now = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The real clock (aware UTC); tests inject their own."""
    return dt.datetime.now(dt.UTC)


def idem_key(campaign_id: int, recipient: str, channel: str) -> str:
    """The idempotency key of one notice: the same (campaign, person, channel) always
    gives the same key, and the outbox holds each key once."""
    return sha256_hex(f"{campaign_id}:{recipient}:{channel}".encode())[:32]


def reference_of(campaign_id: int, recipient: str) -> str:
    """The short reference printed on a person's notices (the same on every channel)."""
    return sha256_hex(f"ref:{campaign_id}:{recipient}".encode())[:10].upper()


def _rows_for(campaign_id: int, recipients: Sequence[str], channel: str) -> list[dict[str, Any]]:
    return [
        {
            "campaign_id": campaign_id,
            "key": idem_key(campaign_id, r, channel),
            "recipient": r,
            "channel": channel,
            "state": "queued",
            "attempts": 0,
        }
        for r in recipients
    ]


def plan_rows(audience: Audience, channels: Sequence[str]) -> dict[str, list[str]]:
    """Recipients per channel: e-mail to those with an e-mail, SMS to those with a
    mobile; a letter to those with an address and none of the electronic channels asked."""
    import numpy as np
    import pyarrow.compute as pc

    r = audience.recipients
    out: dict[str, list[str]] = {}
    electronic = np.zeros(r.num_rows, dtype=np.bool_)
    for ch, col in (("email", "email"), ("sms", "mobile")):
        if ch in channels:
            has = np.asarray(pc.is_valid(r.column(col)).combine_chunks())
            electronic |= has
            out[ch] = r.column("recipient").filter(has).to_pylist()
    if "letter" in channels:
        has = np.asarray(pc.is_valid(r.column("address")).combine_chunks()) & ~electronic
        out["letter"] = r.column("recipient").filter(has).to_pylist()
    return out


def queue(
    ws: Workspace, campaign_id: int, audience: Audience, *, now: Now = utcnow
) -> dict[str, int]:
    """Put every notice of the campaign in the outbox and record the unreachable rows, in
    one transaction (all or nothing); returns the notices queued per channel."""
    with ws.store.session() as s:
        camp = s.get(NoticeCampaignRow, campaign_id)
        assert camp is not None
        if camp.queued_at is not None:
            raise BadInput.msg("notices.already_queued", id=campaign_id)
        planned = plan_rows(audience, camp.channels)
        conn = s.connection()

        for ch, recipients in planned.items():
            for start in range(0, len(recipients), INSERT_CHUNK):
                conn.execute(
                    insert(NoticeOutboxRow),
                    _rows_for(campaign_id, recipients[start : start + INSERT_CHUNK], ch),
                )
        lost = audience.unreachable.to_pylist()
        if lost:
            conn.execute(
                insert(NoticeUnreachableRow),
                [
                    {
                        "campaign_id": campaign_id,
                        "idx": i,
                        "table_name": u["table"][:300],
                        "row_key": (u["row_key"] or "")[:300],
                        "name_masked": (u["name_masked"] or "")[:100],
                        "reason": u["reason"],
                    }
                    for i, u in enumerate(lost)
                ],
            )
        counts = {ch: len(v) for ch, v in planned.items()}
        camp.queued_at = now()
        camp.fingerprint = audience.fingerprint
        camp.status = "queued"
        camp.summary = {**audience.summary(), "queued": counts}
    return counts


# --- the lease: one sender per campaign ------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take_lease(ws: Workspace, campaign_id: int) -> str:
    """Claim the campaign for this process; refused while another live process holds it
    (a lease of a process that died, e.g. killed, is taken over)."""
    mine = f"{socket.gethostname()}:{os.getpid()}"
    with ws.store.session() as s:
        camp = s.get(NoticeCampaignRow, campaign_id)
        assert camp is not None
        if camp.lease and camp.lease != mine:
            host, _, pid = camp.lease.rpartition(":")
            if host == socket.gethostname() and pid.isdigit() and _alive(int(pid)):
                raise BadInput.msg("notices.busy", id=campaign_id, pid=pid)
        camp.lease = mine
    return mine


def release_lease(ws: Workspace, campaign_id: int, lease: str) -> None:
    """Give the campaign back (only if this process still holds it)."""
    with ws.store.session() as s:
        camp = s.get(NoticeCampaignRow, campaign_id)
        if camp is not None and camp.lease == lease:
            camp.lease = None


# --- the journal ------------------------------------------------------------------------


class Journal:
    """Append-only record of accepted messages (``key provider_id sha256`` per line)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def accepted(self, key: str, provider_id: str | None, sha: str) -> None:
        """One ``write`` per accepted message: in the kernel once it returns."""
        os.write(self._fd, f"{key} {provider_id or '-'} {sha}\n".encode())

    def entries(self) -> list[tuple[str, str | None, str]]:
        """Every complete line (a line cut by a crash is ignored: its row stays in doubt)."""
        out: list[tuple[str, str | None, str]] = []
        data = self.path.read_bytes()
        for line in data.split(b"\n")[:-1]:
            parts = line.decode("ascii", "replace").split(" ")
            if len(parts) == 3 and len(parts[0]) == 32 and len(parts[2]) == 64:
                out.append((parts[0], None if parts[1] == "-" else parts[1], parts[2]))
        return out

    def clear(self) -> None:
        """Empty the journal (its lines are in the store now)."""
        os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


def fold_journal(ws: Workspace, campaign_id: int, journal: Journal, now: Now) -> int:
    """Mark the rows the journal says were accepted as ``sent``; returns how many were
    still ``sending`` in the store (messages accepted just before a crash)."""
    entries = journal.entries()
    if not entries:
        return 0
    at = now()
    folded = 0
    with ws.store.session() as s:
        for key, provider_id, sha in entries:
            res = s.execute(
                update(NoticeOutboxRow)
                .where(
                    NoticeOutboxRow.campaign_id == campaign_id,
                    NoticeOutboxRow.key == key,
                    NoticeOutboxRow.state == "sending",
                )
                .values(
                    state="sent", provider_id=provider_id, sha256=sha, updated_at=at, error=None
                )
            )
            folded += int(getattr(res, "rowcount", 0) or 0)
    journal.clear()
    return folded


# --- sending ----------------------------------------------------------------------------


@dataclass
class Claimed:
    """One outbox row handed to a channel."""

    id: int
    key: str
    recipient: str
    attempts: int
    in_doubt: bool


Compose = Callable[[Claimed], "Message | Result"]
Fallback = Callable[[list[str]], list[str]]


@dataclass
class SendStats:
    """What one run did on one channel."""

    channel: str
    sent: int = 0
    retry: int = 0
    failed: int = 0
    in_doubt: int = 0
    folded: int = 0
    fallback: int = 0
    batches: int = 0

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return dict(self.__dict__)


@dataclass
class RateLimit:
    """At most ``per_second`` messages a second (token bucket of one second's burst)."""

    per_second: float | None
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next: float = field(default=0.0)

    def wait(self) -> None:
        """Block until the next message may go."""
        if not self.per_second:
            return
        t = self.monotonic()
        if t < self._next:
            self.sleep(self._next - t)
            t = self._next
        self._next = max(t, self._next) + 1.0 / self.per_second


def _claim(
    ws: Workspace, campaign_id: int, channel: str, limit: int, at: dt.datetime
) -> list[Claimed]:
    with ws.store.session() as s:
        rows = s.execute(
            select(
                NoticeOutboxRow.id,
                NoticeOutboxRow.key,
                NoticeOutboxRow.recipient,
                NoticeOutboxRow.attempts,
                NoticeOutboxRow.state,
            )
            .where(
                NoticeOutboxRow.campaign_id == campaign_id,
                NoticeOutboxRow.channel == channel,
                or_(
                    NoticeOutboxRow.state.in_(("queued", "sending")),
                    and_(NoticeOutboxRow.state == "retry", NoticeOutboxRow.next_at <= at),
                ),
            )
            .order_by(NoticeOutboxRow.id)
            .limit(limit)
        ).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        s.execute(
            update(NoticeOutboxRow)
            .where(NoticeOutboxRow.id.in_(ids))
            .values(state="sending", attempts=NoticeOutboxRow.attempts + 1, updated_at=at)
        )
    return [Claimed(r.id, r.key, r.recipient, r.attempts + 1, r.state == "sending") for r in rows]


def _unclaim(ws: Workspace, rows: list[Claimed]) -> None:
    """Put claimed rows that never reached the provider back as they were."""
    if not rows:
        return
    with ws.store.session() as s:
        for c in rows:
            s.execute(
                update(NoticeOutboxRow)
                .where(NoticeOutboxRow.id == c.id)
                .values(state="queued", attempts=c.attempts - 1)
            )


def _next_retry(ws: Workspace, campaign_id: int, channel: str) -> dt.datetime | None:
    with ws.store.session() as s:
        return s.scalars(
            select(NoticeOutboxRow.next_at)
            .where(
                NoticeOutboxRow.campaign_id == campaign_id,
                NoticeOutboxRow.channel == channel,
                NoticeOutboxRow.state == "retry",
            )
            .order_by(NoticeOutboxRow.next_at)
            .limit(1)
        ).first()


def _settle(
    ws: Workspace,
    campaign_id: int,
    claimed: list[Claimed],
    results: list[tuple[Result, str | None]],
    *,
    at: dt.datetime,
    max_attempts: int,
    backoff: dt.timedelta,
    fallback: Fallback | None,
    stats: SendStats,
) -> None:
    dead: list[str] = []
    with ws.store.session() as s:
        for c, (res, sha) in zip(claimed, results, strict=True):
            values: dict[str, Any] = {"updated_at": at, "error": res.error}
            if res.outcome == "sent":
                values.update(state="sent", provider_id=res.provider_id, sha256=sha)
                stats.sent += 1
            elif res.outcome == "retry" and c.attempts < max_attempts:
                delay = backoff * (2 ** (c.attempts - 1))
                values.update(state="retry", next_at=at + delay)
                stats.retry += 1
            else:
                values.update(state="failed")
                stats.failed += 1
                dead.append(c.recipient)
            s.execute(update(NoticeOutboxRow).where(NoticeOutboxRow.id == c.id).values(**values))
        if dead and fallback is not None:
            letters = fallback(dead)
            have = set(
                s.scalars(
                    select(NoticeOutboxRow.recipient).where(
                        NoticeOutboxRow.campaign_id == campaign_id,
                        NoticeOutboxRow.channel == "letter",
                        NoticeOutboxRow.recipient.in_(letters),
                    )
                )
            )
            new = [r for r in letters if r not in have]
            if new:
                s.execute(insert(NoticeOutboxRow), _rows_for(campaign_id, new, "letter"))
            stats.fallback += len(new)


def batch_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over ``key:sha256`` lines in key order: the ledger's commitment to the
    content hashes the outbox holds for one batch."""
    h = new_hash("sha256")
    for key, sha in sorted(pairs):
        h.update(f"{key}:{sha}\n".encode())
    return h.hexdigest()


def send_channel(
    ws: Workspace,
    campaign_id: int,
    channel: Channel,
    compose: Compose,
    *,
    journal: Journal,
    events: EventSink,
    batch: int = 200,
    rate: RateLimit | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    backoff: dt.timedelta = BACKOFF,
    fallback: Fallback | None = None,
    now: Now = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str, int], None] | None = None,
) -> SendStats:
    """Send every pending notice of ``channel`` (see the module text); returns counts.

    :class:`ChannelDown` from the channel ends the run; rows in hand stay pending and the
    journal keeps what was accepted, so ``--resume`` neither repeats nor skips.
    """
    from handover.notices.templates import content_hash

    stats = SendStats(channel.name)
    stats.folded = fold_journal(ws, campaign_id, journal, now)
    rate = rate or RateLimit(None)
    opened = False

    def settle(rows: list[Claimed], results: list[tuple[Result, str | None]]) -> None:
        _settle(
            ws,
            campaign_id,
            rows,
            results,
            at=now(),
            max_attempts=max_attempts,
            backoff=backoff,
            fallback=fallback,
            stats=stats,
        )

    try:
        while True:
            at = now()
            if not opened and pending(ws, campaign_id, [channel.name]):
                # Connected before any row is claimed: a server that cannot be reached
                # leaves every row as it was, not in doubt.
                channel.open()
                opened = True
            claimed = _claim(ws, campaign_id, channel.name, batch, at)
            if not claimed:
                wake = _next_retry(ws, campaign_id, channel.name)
                if wake is None:
                    break
                wait = (wake.replace(tzinfo=wake.tzinfo or dt.UTC) - at).total_seconds()
                sleep(max(wait, 0.0))
                continue
            results: list[tuple[Result, str | None]] = []
            try:
                for c in claimed:
                    stats.in_doubt += c.in_doubt
                    item = compose(c)
                    if isinstance(item, Result):
                        results.append((item, None))
                        continue
                    sha = content_hash(item.text)
                    rate.wait()
                    res = channel.send(item)
                    if res.outcome == "sent":
                        journal.accepted(c.key, res.provider_id, sha)
                    results.append((res, sha))
            except ChannelDown:
                # The provider refused the message in hand outright (account, template):
                # settle what it took, and give the rest back untouched, not in doubt.
                settle(claimed[: len(results)], results)
                _unclaim(ws, claimed[len(results) :])
                journal.clear()
                raise
            settle(claimed, results)
            journal.clear()
            stats.batches += 1
            events(
                "notices.batch",
                f"campaign {campaign_id}",
                "PIPL Art. 22 notice",
                {
                    "channel": channel.name,
                    "notices": len(claimed),
                    "sent": sum(r.outcome == "sent" for r, _ in results),
                    "in_doubt_resent": sum(c.in_doubt for c in claimed),
                    "content_sha256_digest": batch_digest(
                        (c.key, sha) for c, (r, sha) in zip(claimed, results, strict=True) if sha
                    ),
                },
            )
            if progress is not None:
                progress(channel.name, len(claimed))
    finally:
        if opened:
            channel.close()
    return stats


def apply_receipts(
    ws: Workspace, campaign_id: int, receipts: Iterable[Any], *, now: Now = utcnow
) -> dict[str, int]:
    """Settle sent notices from delivery receipts (``out_id`` = idempotency key):
    ``delivered`` or ``undelivered`` with the provider's code. A receipt for an unknown
    key, or for a row not in ``sent``, changes nothing (receipts may come twice)."""
    out = {"delivered": 0, "undelivered": 0, "ignored": 0}
    at = now()
    with ws.store.session() as s:
        for r in receipts:
            state = "delivered" if r.delivered else "undelivered"
            res = s.execute(
                update(NoticeOutboxRow)
                .where(
                    NoticeOutboxRow.campaign_id == campaign_id,
                    NoticeOutboxRow.key == r.out_id,
                    NoticeOutboxRow.state == "sent",
                )
                .values(state=state, error=None if r.delivered else r.code, updated_at=at)
            )
            n = int(getattr(res, "rowcount", 0) or 0)
            out[state if n else "ignored"] += 1
    return out


def counts(ws: Workspace, campaign_id: int) -> dict[str, dict[str, int]]:
    """Notices per channel and state."""
    from sqlalchemy import func

    out: dict[str, dict[str, int]] = {}
    with ws.store.session() as s:
        for ch, state, n in s.execute(
            select(NoticeOutboxRow.channel, NoticeOutboxRow.state, func.count())
            .where(NoticeOutboxRow.campaign_id == campaign_id)
            .group_by(NoticeOutboxRow.channel, NoticeOutboxRow.state)
        ):
            out.setdefault(ch, {})[state] = int(n)
    return out


def pending(ws: Workspace, campaign_id: int, channels: Sequence[str]) -> int:
    """Notices of ``channels`` not yet settled (queued, in flight or waiting to retry)."""
    c = counts(ws, campaign_id)
    return sum(c.get(ch, {}).get(st, 0) for ch in channels for st in PENDING)
