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

import contextlib
import datetime as dt
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select, update

from handover.crypto.digest import hex_each, sha256_hex
from handover.crypto.suites import new_hash
from handover.crypto.tokenize import Later, Tokens, tokens_later
from handover.errors import BadInput, CheckFailed
from handover.holders import holder, lives
from handover.notices.channels import Channel, ChannelDown, InDoubt, Message, Result
from handover.notices.models import (
    TAG_INDEX,
    NoticeCampaignRow,
    NoticeOutboxRow,
    NoticeUnreachableRow,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.events import EventSink
    from handover.notices.audience import Audience
    from handover.workspace import Workspace

PENDING = ("queued", "sending", "retry")
STATES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "retry",
    "failed",
    "cancelled",
)
MAX_ATTEMPTS = 4
BACKOFF = dt.timedelta(seconds=30)
INSERT_CHUNK = 50_000

Now = Callable[[], dt.datetime]


#: China Standard Time (Asia/Shanghai: UTC+8 all year, no daylight saving since 1991)
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def china_date(at: dt.datetime) -> dt.date:
    """The calendar date in China of instant ``at``: what a letter, an announcement or the
    SMS provider's records are dated (00:00-08:00 Beijing time is still the day before
    in UTC)."""
    return at.astimezone(CHINA).date()


def provider_date(at: dt.datetime) -> str:
    """The provider's calendar date of instant ``at`` (``yyyyMMdd``, China Standard Time,
    UTC+8: how Aliyun SMS dates its send records)."""
    return china_date(at).strftime("%Y%m%d")


def next_provider_date(date: str) -> str | None:
    """The provider's date after ``date`` (both ``yyyyMMdd``); None if ``date`` is none."""
    if len(date) != 8:
        return None
    try:
        day = dt.datetime.strptime(date, "%Y%m%d").date() + dt.timedelta(days=1)
    except (ValueError, OverflowError):
        return None
    return day.strftime("%Y%m%d")


def utcnow() -> dt.datetime:
    """The real clock (aware UTC); tests inject their own."""
    return dt.datetime.now(dt.UTC)


def idem_key(campaign_id: int, recipient: str, channel: str) -> str:
    """The idempotency key of one notice: the same (campaign, person, channel) always
    gives the same key, and the outbox holds each key once."""
    return sha256_hex(f"{campaign_id}:{recipient}:{channel}".encode())[:32]


def idem_keys(campaign_id: int, recipients: pa.Array, channel: str) -> pa.Array:
    """:func:`idem_key` of each of ``recipients`` (no nulls), in one C call a million."""
    import pyarrow as pa
    import pyarrow.compute as pc

    messages = pc.binary_join_element_wise(
        pa.scalar(f"{campaign_id}:"), recipients.cast(pa.string()), pa.scalar(f":{channel}"), ""
    )
    return hex_each(messages, 32)


def reference_of(campaign_id: int, recipient: str) -> str:
    """The short reference printed on a person's notices (the same on every channel)."""
    return sha256_hex(f"ref:{campaign_id}:{recipient}".encode())[:10].upper()


def _rows_for(
    campaign_id: int,
    recipients: Sequence[str],
    channel: str,
    tags: Sequence[str | None] | None = None,
) -> list[dict[str, Any]]:
    tags = tags if tags is not None else [None] * len(recipients)
    return [
        {
            "campaign_id": campaign_id,
            "key": idem_key(campaign_id, r, channel),
            "recipient": r,
            "channel": channel,
            "state": "queued",
            "attempts": 0,
            "address_tag": tag,
        }
        for r, tag in zip(recipients, tags, strict=True)
    ]


#: the address column of each channel in an audience, and the prefix its tag is keyed with
ADDRESS_OF = {"email": ("email", "E:"), "sms": ("mobile", "M:"), "letter": ("address", "A:")}
Tagger = Tokens


def address_tags(tagger: Tagger, channel: str, addresses: pa.Array) -> list[str | None]:
    """Keyed tokens of ``addresses`` of ``channel`` (prefixed so a mobile and an e-mail
    never share a token); what receipts and replies are matched on."""
    return list(_tag_array(tagger, channel, addresses).to_pylist())


def _tag_array(tagger: Tagger, channel: str, addresses: pa.Array) -> pa.Array:
    """:func:`address_tags` as an Arrow array."""
    return _tags_later(tagger, channel, addresses)()


def _tags_later(tagger: Tagger, channel: str, addresses: pa.Array | pa.ChunkedArray) -> Later:
    """:func:`_tag_array` started now (beside the caller when ``tagger`` can:
    :func:`handover.crypto.tokenize.tokens_later`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(addresses, pa.ChunkedArray):
        addresses = addresses.combine_chunks()
    prefix = ADDRESS_OF[channel][1]
    return tokens_later(tagger, pc.binary_join_element_wise(prefix, addresses, ""))


def plan_rows(audience: Audience, channels: Sequence[str]) -> dict[str, pa.Table]:
    """Recipients per channel (columns ``recipient`` and ``address``): e-mail to those with
    an e-mail, SMS to those with a mobile; a letter to those with an address and none of
    the electronic channels asked."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    r = audience.recipients
    out: dict[str, pa.Table] = {}
    electronic = np.zeros(r.num_rows, dtype=np.bool_)

    def pick(col: str, has: Any) -> pa.Table:
        mask = pa.array(has)
        return pa.table(
            {"recipient": r.column("recipient").filter(mask), "address": r.column(col).filter(mask)}
        )

    for ch, col in (("email", "email"), ("sms", "mobile")):
        if ch in channels:
            has = np.asarray(pc.is_valid(r.column(col)).combine_chunks())
            electronic |= has
            out[ch] = pick(col, has)
    if "letter" in channels:
        has = np.asarray(pc.is_valid(r.column("address")).combine_chunks()) & ~electronic
        out["letter"] = pick("address", has)
    return out


def no_channel(audience: Audience, channels: Sequence[str], campaign_id: int) -> pa.Table:
    """The recipients none of ``channels`` can reach (a person with only an address in
    an e-mail campaign), as entries of the unreachable list with reason ``no_channel``:
    the tables they appear in, the reference their notices would carry (the person's
    rows are many, no one primary key names them) and the masked name."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from handover.taxonomy import mask_value

    r = audience.recipients
    reach = np.zeros(r.num_rows, dtype=np.bool_)
    for ch, (col, _) in ADDRESS_OF.items():
        if ch in channels:
            reach |= np.asarray(pc.is_valid(r.column(col)).combine_chunks())
    lost = r.filter(pa.array(~reach))
    names = lost.column("name").to_pylist()
    return pa.table(
        {
            "table": pa.array(lost.column("tables").to_pylist(), pa.string()),
            "row_key": pa.array(
                [reference_of(campaign_id, x) for x in lost.column("recipient").to_pylist()],
                pa.string(),
            ),
            "name_masked": pa.array(
                [mask_value("person_name", v) if v else "" for v in names], pa.string()
            ),
            "reason": pa.array(["no_channel"] * lost.num_rows, pa.string()),
        }
    )


def _people_of(planned: dict[str, pa.Table]) -> int:
    """Distinct recipients with at least one notice in ``planned``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not planned:
        return 0
    every = pa.concat_arrays([t.column("recipient").combine_chunks() for t in planned.values()])
    return len(pc.unique(every))


#: outbox columns :func:`queue` writes (the others start NULL)
QUEUED_COLUMNS = ("campaign_id", "key", "recipient", "channel", "state", "attempts", "address_tag")
UNREACHABLE_COLUMNS = ("campaign_id", "idx", "table_name", "row_key", "name_masked", "reason")
#: page cache while queueing: the outbox's two hash-keyed indexes of 1 M notices
QUEUE_CACHE_MIB = 256


def _queued_batch(
    campaign_id: int, channel: str, part: pa.Table, tags: pa.Array | None
) -> pa.RecordBatch:
    """The outbox rows of ``part``'s recipients on ``channel`` (:func:`_rows_for`, as
    Arrow), their keys from ``part`` (:func:`_in_key_order`)."""
    import pyarrow as pa

    n = part.num_rows
    return pa.RecordBatch.from_arrays(
        [
            pa.array([campaign_id] * n, pa.int64()),
            part.column("key").combine_chunks(),
            part.column("recipient").combine_chunks(),
            pa.array([channel] * n, pa.string()),
            pa.array(["queued"] * n, pa.string()),
            pa.array([0] * n, pa.int64()),
            tags if tags is not None else pa.nulls(n, pa.string()),
        ],
        names=list(QUEUED_COLUMNS),
    )


def _in_key_order(
    campaign_id: int, channel: str, table: pa.Table, tags: Later | None = None
) -> pa.Table:
    """``table``'s recipients with their notices' keys (:func:`idem_key`, column ``key``)
    and, with ``tags``, their addresses' tags (column ``tag``), in the order of the keys:
    the outbox's unique index of the keys, hashes, then takes them leaf after leaf, not at
    random (977,000 notices into SQLite: 8.0 -> 7.0 s of inserts). One order for the whole
    channel, so that writing in chunks writes the same rows."""
    import pyarrow.compute as pc

    keys = idem_keys(campaign_id, table.column("recipient").combine_chunks(), channel)
    table = table.append_column("key", keys)
    if tags is not None:
        table = table.append_column("tag", tags())
    return table.take(pc.sort_indices(keys))


def _unreachable_batch(campaign_id: int, start: int, part: pa.Table) -> pa.RecordBatch:
    """Rows ``start``… of the unreachable list as ``notice_unreachable`` rows."""
    import pyarrow as pa

    n = part.num_rows
    cut = {
        "table_name": [t[:300] for t in part.column("table").to_pylist()],
        "row_key": [(k or "")[:300] for k in part.column("row_key").to_pylist()],
        "name_masked": [(m or "")[:100] for m in part.column("name_masked").to_pylist()],
    }
    return pa.RecordBatch.from_arrays(
        [
            pa.array([campaign_id] * n, pa.int64()),
            pa.array(range(start, start + n), pa.int64()),
            *(pa.array(cut[c], pa.string()) for c in UNREACHABLE_COLUMNS[2:5]),
            part.column("reason").combine_chunks(),
        ],
        names=list(UNREACHABLE_COLUMNS),
    )


def queue(
    ws: Workspace,
    campaign_id: int,
    audience: Audience,
    *,
    tagger: Tagger | None = None,
    now: Now = utcnow,
    chunk: int = INSERT_CHUNK,
) -> dict[str, int]:
    """Put every notice of the campaign in the outbox and record the unreachable rows and
    the people none of its channels can reach (:func:`no_channel`), in one transaction
    (all or nothing); returns the notices queued per channel. Every recipient is either
    queued or listed, or nothing is (CheckFailed). With ``tagger`` each e-mail and SMS
    row keeps its address's keyed token (receipts, replies).

    Rows are built and written ``chunk`` at a time as Arrow batches, through the store
    engine's bulk insert (one ``executemany`` or ``COPY`` per chunk)."""
    from handover.db import dialects

    with ws.store.session() as s:
        camp = s.get(NoticeCampaignRow, campaign_id)
        assert camp is not None
        if camp.queued_at is not None:
            raise BadInput.msg("notices.already_queued", id=campaign_id)
        planned = plan_rows(audience, camp.channels)
        unplanned = no_channel(audience, camp.channels, campaign_id)
        people = _people_of(planned)
        if people + unplanned.num_rows != len(audience):
            raise CheckFailed.msg(
                "notices.people_unreconciled",
                id=campaign_id,
                recipients=len(audience),
                queued=people,
                no_channel=unplanned.num_rows,
            )
        conn = s.connection()
        sql = dialects.get(conn.dialect.name)
        dbapi = conn.connection.dbapi_connection

        def write(table: str, batch: pa.RecordBatch, kinds: list[str]) -> None:
            sql.bulk_insert(
                dbapi,
                table,
                list(batch.schema.names),
                batch,
                kinds,
                lambda part: list(part.columns),
            )

        rebuild = _rebuild_tag_index(s, planned)
        with sql.page_cache(dbapi, QUEUE_CACHE_MIB), contextlib.ExitStack() as later:
            for ch, table in planned.items():
                # the tags are computed (in the tokens' worker process when the tagger
                # has one) while the keys are
                tags = (
                    _tags_later(tagger, ch, table.column("address"))
                    if tagger is not None and ch != "letter"
                    else None
                )
                table = _in_key_order(campaign_id, ch, table, tags)
                for start in range(0, table.num_rows, chunk):
                    part = table.slice(start, chunk)
                    tagged = part.column("tag").combine_chunks() if tags is not None else None
                    batch = _queued_batch(campaign_id, ch, part, tagged)
                    write(NoticeOutboxRow.__tablename__, batch, _OUTBOX_KINDS)
                    if rebuild:  # the first write opened the transaction
                        rebuild = False
                        later.enter_context(sql.index_after(dbapi, *_tag_index_ddl(conn)))
            # the source rows no notice can reach, then the people no channel of the
            # campaign reaches: one list, numbered on
            idx = 0
            for lost in (audience.unreachable, unplanned):
                for start in range(0, lost.num_rows, chunk):
                    part = lost.slice(start, chunk)
                    batch = _unreachable_batch(campaign_id, idx, part)
                    write(NoticeUnreachableRow.__tablename__, batch, _UNREACHABLE_KINDS)
                    idx += part.num_rows
        counts = {ch: t.num_rows for ch, t in planned.items()}
        camp.queued_at = now()
        camp.fingerprint = audience.fingerprint
        camp.status = "queued"
        summary = audience.summary()
        camp.summary = {
            **summary,
            "queued": counts,
            "people_queued": people,
            # the unreachable list: the source rows no notice can reach, and the people
            # none of the campaign's channels reaches (the announcement is for both)
            "unreachable": summary["unreachable"] + unplanned.num_rows,
            "unreachable_rows": summary["unreachable"],
            "no_channel": unplanned.num_rows,
        }
    return counts


#: notices queued at once from which the address-tag index is built again after the rows
#: (when the outbox held no more before): sorting its keyed hashes once beats inserting
#: each into a random page (977k SMS notices: 1.3 s less CPU in SQLite)
REBUILD_MIN = 100_000


def _rebuild_tag_index(s: Any, planned: dict[str, pa.Table]) -> bool:
    """Whether the queue's rows outnumber both :data:`REBUILD_MIN` and the outbox's rows
    (building the index again then costs at most twice the sort of the new tags)."""
    from sqlalchemy import func

    adding = sum(t.num_rows for t in planned.values())
    if adding < REBUILD_MIN:
        return False
    held = s.execute(select(func.count()).select_from(NoticeOutboxRow)).scalar_one()
    return bool(adding >= held)


def _tag_index_ddl(conn: Any) -> tuple[str, str]:
    """The address-tag index's DROP and CREATE statements in ``conn``'s dialect."""
    from sqlalchemy.schema import CreateIndex, DropIndex

    table = NoticeOutboxRow.metadata.tables[NoticeOutboxRow.__tablename__]
    (index,) = (ix for ix in table.indexes if ix.name == TAG_INDEX)
    return (
        str(DropIndex(index, if_exists=True).compile(dialect=conn.dialect)),
        str(CreateIndex(index, if_not_exists=True).compile(dialect=conn.dialect)),
    )


_OUTBOX_KINDS = ["int64", "string", "string", "string", "string", "int64", "string"]
_UNREACHABLE_KINDS = ["int64", "int64", "string", "string", "string", "string"]


# --- the lease: one sender per campaign ------------------------------------------------


#: the leases the senders of this process hold now (a lease naming this process but not
#: here was left by an earlier process of the same pid, e.g. a restarted container)
_held: set[str] = set()
_held_lock = threading.Lock()


def _holder_lives(lease: str) -> bool:
    """A lease's sender lives (one on another host does not count: taken over)."""

    def known(held: str) -> bool:
        with _held_lock:
            return held in _held

    return lives(lease, known) is True


def take_lease(ws: Workspace, campaign_id: int) -> str:
    """Claim the campaign for this sender (``host:pid:token``, one per call); refused
    while another live sender holds it — another process, or another thread of this
    one (two console jobs would each have sent every pending notice: helper-40). A lease
    of a sender that is gone (a killed process; one of an earlier process of this pid) is
    taken over. The lease is set only if it is still the one read (compare and set):
    two senders reading it at once cannot both take it."""
    mine = holder(secrets.token_hex(4))
    with _held_lock:  # live before it can be seen: another sender reading it must wait
        _held.add(mine)
    for _ in range(5):
        with ws.store.session() as s:
            camp = s.get(NoticeCampaignRow, campaign_id)
            assert camp is not None
            seen = camp.lease
        if seen and _holder_lives(seen):
            pid = seen.partition(":")[2].partition(":")[0]
            with _held_lock:
                _held.discard(mine)
            raise BadInput.msg("notices.busy", id=campaign_id, pid=pid)
        with ws.store.session() as s:
            free = (
                NoticeCampaignRow.lease.is_(None)
                if seen is None
                else (NoticeCampaignRow.lease == seen)
            )
            res = s.execute(
                update(NoticeCampaignRow)
                .where(NoticeCampaignRow.id == campaign_id, free)
                .values(lease=mine)
            )
            taken = bool(getattr(res, "rowcount", 0))
        if taken:
            return mine
    with _held_lock:
        _held.discard(mine)
    raise BadInput.msg("notices.busy", id=campaign_id, pid="?")


def release_lease(ws: Workspace, campaign_id: int, lease: str) -> None:
    """Give the campaign back (only if this sender still holds it)."""
    with _held_lock:
        _held.discard(lease)
    with ws.store.session() as s:
        s.execute(
            update(NoticeCampaignRow)
            .where(NoticeCampaignRow.id == campaign_id, NoticeCampaignRow.lease == lease)
            .values(lease=None)
        )


# --- the journal ------------------------------------------------------------------------


#: How long after a call the provider's records are waited for before "no record of it"
#: is believed: ``QuerySendDetails`` answers from records the provider files after it
#: takes a send, and a query made sooner may not see one yet (a notice sent twice)
RECORDS_SETTLE = dt.timedelta(minutes=10)
#: how an intent line spells when it was journaled (UTC)
INTENT_AT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Intent:
    """A provider call about to be made (journaled before it): its call id (the SMS
    ``OutId``), the provider's date of it (``yyyyMMdd``), the keys it carries, and when it
    was journaled, just before the call (UTC, ``YYYY-MM-DDTHH:MM:SSZ``; empty in the lines
    of older runs)."""

    call_id: str
    date: str
    keys: tuple[str, ...]
    at: str = ""

    def line(self) -> bytes:
        """The journal line (``? CALL DATE key,key,... AT``)."""
        at = f" {self.at}" if self.at else ""
        return f"? {self.call_id} {self.date} {','.join(self.keys)}{at}\n".encode()

    def settled_at(self) -> dt.datetime | None:
        """When the provider's records of this call can be believed (:data:`RECORDS_SETTLE`
        after it); None when the line does not say when the call was made."""
        try:
            made = dt.datetime.strptime(self.at, INTENT_AT).replace(tzinfo=dt.UTC)
            return made + RECORDS_SETTLE
        except (ValueError, OverflowError):  # a line no run wrote: asked about at once
            return None


def still_in_doubt(doubt: dict[str, Intent]) -> list[Intent]:
    """The intents to keep journaled, each narrowed to its keys still in doubt: a call
    asked about in part (a resume claiming it in two batches) and a later call that sent
    some of its notices again both stay, and no two share a key, so the next run maps
    each notice to the one call that last carried it, whatever their order in the file."""
    keys: dict[Intent, list[str]] = {}
    for key, intent in doubt.items():
        keys.setdefault(intent, []).append(key)
    out = []
    for i, ks in keys.items():
        still = set(ks)
        out.append(Intent(i.call_id, i.date, tuple(k for k in i.keys if k in still), i.at))
    return out


class Journal:
    """Append-only record of accepted messages (``key provider_id sha256`` per line) and
    of provider calls about to be made (:class:`Intent`, for channels that can later ask
    the provider whether a call it never answered went through)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def accepted(self, key: str, provider_id: str | None, sha: str) -> None:
        """One ``write`` per accepted message: in the kernel once it returns."""
        os.write(self._fd, f"{key} {provider_id or '-'} {sha}\n".encode())

    def intent(self, intent: Intent) -> None:
        """One ``write`` before the call (a line cut by a crash is ignored)."""
        os.write(self._fd, intent.line())

    def intents(self) -> list[Intent]:
        """Every complete intent line."""
        out: list[Intent] = []
        for line in self.path.read_bytes().split(b"\n")[:-1]:
            parts = line.decode("ascii", "replace").split(" ")
            if len(parts) in (4, 5) and parts[0] == "?":
                at = parts[4] if len(parts) == 5 else ""
                out.append(Intent(parts[1], parts[2], tuple(parts[3].split(",")), at))
        return out

    def entries(self) -> list[tuple[str, str | None, str]]:
        """Every complete line (a line cut by a crash is ignored: its row stays in doubt)."""
        out: list[tuple[str, str | None, str]] = []
        data = self.path.read_bytes()
        for line in data.split(b"\n")[:-1]:
            parts = line.decode("ascii", "replace").split(" ")
            if len(parts) == 3 and len(parts[0]) == 32 and len(parts[2]) == 64:
                out.append((parts[0], None if parts[1] == "-" else parts[1], parts[2]))
        return out

    def clear(self, keep: Iterable[Intent] = ()) -> None:
        """Empty the journal (its lines are in the store now), keeping ``keep``: intents of
        calls still in doubt."""
        os.ftruncate(self._fd, 0)
        for intent in keep:
            os.write(self._fd, intent.line())

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


def fold_journal(
    ws: Workspace, campaign_id: int, journal: Journal, now: Now
) -> tuple[int, dict[str, Intent]]:
    """Mark the rows the journal says were accepted as ``sent``; returns how many were
    still ``sending`` in the store (messages accepted just before a crash), and the
    intents of calls whose rows are still ``sending`` (by key: asked about before any
    is sent again)."""
    entries = journal.entries()
    intents = journal.intents()
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
        doubt: dict[str, Intent] = {}
        keys = sorted({k for i in intents for k in i.keys})
        for start in range(0, len(keys), 500):
            sending = set(
                s.scalars(
                    select(NoticeOutboxRow.key).where(
                        NoticeOutboxRow.campaign_id == campaign_id,
                        NoticeOutboxRow.key.in_(keys[start : start + 500]),
                        NoticeOutboxRow.state == "sending",
                    )
                )
            )
            for i in intents:
                for k in i.keys:
                    if k in sending:
                        doubt[k] = i
    journal.clear(keep=still_in_doubt(doubt))
    return folded, doubt


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
    #: in-doubt notices the provider confirmed it had taken (not sent again)
    recovered: int = 0
    #: notices left in doubt when the run stopped (a call's answer lost): the next run
    #: asks the provider about them before sending any again
    held: int = 0
    #: seconds waited for the provider's records of calls in doubt (RECORDS_SETTLE)
    settle_wait_s: float = 0.0
    #: the refusal that ended the run, if any (not part of the machine form)
    stopped: Exception | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {k: v for k, v in self.__dict__.items() if k != "stopped"}


@dataclass
class RateLimit:
    """At most ``per_second`` messages a second (token bucket of one second's burst)."""

    per_second: float | None
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next: float = field(default=0.0)

    def wait(self, n: int = 1) -> None:
        """Block until the next ``n`` messages may go."""
        if not self.per_second:
            return
        t = self.monotonic()
        if t < self._next:
            self.sleep(self._next - t)
            t = self._next
        self._next = max(t, self._next) + n / self.per_second


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
        s.execute(
            update(NoticeOutboxRow),
            [{"id": c.id, "state": "queued", "attempts": c.attempts - 1} for c in rows],
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
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for c, (res, sha) in zip(claimed, results, strict=True):
        values: dict[str, Any] = {"id": c.id, "updated_at": at, "error": res.error}
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
        by_shape.setdefault(tuple(sorted(values)), []).append(values)
    with ws.store.session() as s:
        # one executemany per set of columns (ORM bulk UPDATE by primary key)
        for rows in by_shape.values():
            s.execute(update(NoticeOutboxRow), rows)
        if dead and fallback is not None:
            stats.fallback += _add_letters(s, campaign_id, fallback(dead))


def _add_letters(s: Any, campaign_id: int, letters: list[str]) -> int:
    """Queue a letter for each of ``letters`` that has none yet; returns how many."""
    have: set[str] = set()
    for start in range(0, len(letters), 500):
        have |= set(
            s.scalars(
                select(NoticeOutboxRow.recipient).where(
                    NoticeOutboxRow.campaign_id == campaign_id,
                    NoticeOutboxRow.channel == "letter",
                    NoticeOutboxRow.recipient.in_(letters[start : start + 500]),
                )
            )
        )
    new = [r for r in letters if r not in have]
    if new:
        s.execute(insert(NoticeOutboxRow), _rows_for(campaign_id, new, "letter"))
    return len(new)


def fallback_undelivered(ws: Workspace, campaign_id: int, fallback: Fallback) -> int:
    """Queue a letter for every person whose SMS came back undelivered (receipt) and whom
    no other notice reached, when a letter can reach them; returns how many."""
    with ws.store.session() as s:
        reached = select(NoticeOutboxRow.recipient).where(
            NoticeOutboxRow.campaign_id == campaign_id,
            NoticeOutboxRow.state.in_(("sent", "delivered", *PENDING)),
        )
        lost = list(
            s.scalars(
                select(NoticeOutboxRow.recipient)
                .where(
                    NoticeOutboxRow.campaign_id == campaign_id,
                    NoticeOutboxRow.state == "undelivered",
                    NoticeOutboxRow.recipient.not_in(reached),
                )
                .distinct()
            )
        )
        return _add_letters(s, campaign_id, fallback(lost)) if lost else 0


def batch_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """SHA-256 over ``key:sha256`` lines in key order: the ledger's commitment to the
    content hashes the outbox holds for one batch."""
    h = new_hash("sha256")
    for key, sha in sorted(pairs):
        h.update(f"{key}:{sha}\n".encode())
    return h.hexdigest()


def _recover(
    channel: Channel,
    ready: list[tuple[int, Message, str]],
    doubt: dict[str, Intent],
    took: Callable[[int, Message, str, Result], None],
    stats: SendStats,
    now: Now | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[int, Message, str]]:
    """Ask the provider about in-doubt calls (channels with ``recover``); the messages it
    confirms are settled as sent, the others are returned to be sent.

    The provider files a send some time after it took it: the messages it has no record
    of, asked about sooner than :data:`RECORDS_SETTLE` after the call, are asked about
    again once that time has passed (the run waits, ``sleep``), and only then sent. It
    files a send under the date it made it: a call made just before midnight (China time)
    may be filed under the next day, so the messages not found under the intent's date
    are asked about under the next date too once that date has come (``now``); before
    it, nothing can be filed there."""
    recover = getattr(channel, "recover", None)
    if recover is None or not doubt:
        return ready
    calls: dict[Intent, list[tuple[int, Message, str]]] = {}
    rest: list[tuple[int, Message, str]] = []
    for item in ready:
        intent = doubt.get(item[1].key)
        if intent is None:
            rest.append(item)
        else:
            calls.setdefault(intent, []).append(item)
    for intent, items in calls.items():
        found = _asked(recover, intent, [m for _, m, _ in items], stats, now, sleep)
        for (i, m, sha), res in zip(items, found, strict=True):
            if res is not None and res.outcome == "sent":
                took(i, m, sha, res)
                stats.recovered += 1
            else:
                rest.append((i, m, sha))
        # only the notices asked about: the call's others, claimed by a later batch (a
        # resume with a smaller --batch), stay in doubt and keep the intent journaled
        for _, m, _ in items:
            doubt.pop(m.key, None)
    return sorted(rest, key=lambda x: x[0])


def _asked(
    recover: Callable[[str, str, list[Message]], list[Result | None]],
    intent: Intent,
    msgs: list[Message],
    stats: SendStats,
    now: Now | None,
    sleep: Callable[[float], None],
) -> list[Result | None]:
    """What the provider says of ``msgs`` of the call ``intent`` (:func:`_recover`): asked
    under the call's date, and the next date once it has come; the messages it has no
    record of are asked about so again once its records have settled."""
    found: list[Result | None] = [None] * len(msgs)

    def unfound() -> list[int]:
        return [k for k, res in enumerate(found) if res is None or res.outcome != "sent"]

    def ask_every_date() -> None:
        later = next_provider_date(intent.date)
        come = later is not None and now is not None and later <= provider_date(now())
        for date in [intent.date, later] if come else [intent.date]:
            which = unfound()
            if which and date is not None:
                for k, res in zip(
                    which, recover(intent.call_id, date, [msgs[k] for k in which]), strict=True
                ):
                    found[k] = res

    ask_every_date()
    settled_at = intent.settled_at()
    if unfound() and now is not None and settled_at is not None:
        # never longer than RECORDS_SETTLE: a journaled time ahead of this clock (another
        # host's, or one set back since) must not hold the run
        wait = min((settled_at - now()).total_seconds(), RECORDS_SETTLE.total_seconds())
        if wait > 0:
            stats.settle_wait_s += wait
            sleep(wait)
            ask_every_date()
    return found


def _send_batch(
    channel: Channel,
    claimed: list[Claimed],
    compose: Compose,
    journal: Journal,
    rate: RateLimit,
    stats: SendStats,
    doubt: dict[str, Intent] | None = None,
    now: Now | None = None,
    held: set[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[Result, str | None] | None]:
    """Compose and hand the claimed rows to ``channel`` in calls of its ``batch_size``,
    journaling each accepted message as soon as its call returns. A row left ``None``
    has no answer: a :class:`ChannelDown` stopped the run (kept in ``stats.stopped``).
    It never reached the provider, unless its key is added to ``held``: the call
    carrying it went out and its answer was lost (:class:`InDoubt`); its intent is then
    added to ``doubt``, so that the journal keeps it for the next run."""
    from handover.notices.templates import content_hash

    doubt = doubt if doubt is not None else {}
    results: list[tuple[Result, str | None] | None] = [None] * len(claimed)
    ready: list[tuple[int, Message, str]] = []
    for i, c in enumerate(claimed):
        stats.in_doubt += c.in_doubt
        item = compose(c)
        if isinstance(item, Result):
            results[i] = (item, None)
        else:
            ready.append((i, item, content_hash(item.text)))
    size = max(1, int(getattr(channel, "batch_size", 1)))
    call_id = getattr(channel, "call_id", None)

    def settled(i: int, m: Message, sha: str, res: Result) -> None:
        # journaled the moment the provider accepts it; kept even if the run stops
        if results[i] is None:
            journal.accepted(claimed[i].key, res.provider_id, sha)
            results[i] = (res, sha)

    part: list[tuple[int, Message, str]] = []
    intent: Intent | None = None
    try:
        ready = _recover(channel, ready, doubt, settled, stats, now, sleep)
        for start in range(0, len(ready), size):
            part = ready[start : start + size]
            intent = None
            rate.wait(len(part))

            def took(j: int, res: Result, part: list[tuple[int, Message, str]] = part) -> None:
                i, m, sha = part[j]
                settled(i, m, sha, res)

            msgs = [m for _, m, _ in part]
            if call_id is not None and now is not None:
                at = now()
                keys = tuple(m.key for m in msgs)
                made = at.astimezone(dt.UTC).strftime(INTENT_AT)
                intent = Intent(call_id(msgs), provider_date(at), keys, made)
                journal.intent(intent)
            one = size == 1
            got = [channel.send(msgs[0])] if one else channel.send_batch(msgs, accepted=took)
            for j, res in enumerate(got):
                if res.outcome == "sent":
                    took(j, res)
                else:
                    results[part[j][0]] = (res, part[j][2])
    except InDoubt as exc:
        # The call went out: the provider may have taken the messages it carried that
        # are not settled yet. They stay in doubt, to be asked about, never resent blind.
        stats.stopped = exc
        for i, m, _ in part:
            if results[i] is None:
                if held is not None:
                    held.add(m.key)
                if intent is not None:
                    doubt[m.key] = intent
    except ChannelDown as exc:
        stats.stopped = exc
    return results


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
    purpose: str = "PIPL Art. 22 notice",
) -> SendStats:
    """Send every pending notice of ``channel`` (see the module text); returns counts.

    :class:`ChannelDown` from the channel ends the run; rows in hand stay pending and the
    journal keeps what was accepted, so ``--resume`` neither repeats nor skips.
    """
    stats = SendStats(channel.name)
    stats.folded, doubt = fold_journal(ws, campaign_id, journal, now)
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
            held: set[str] = set()
            results = _send_batch(
                channel, claimed, compose, journal, rate, stats, doubt, now, held, sleep
            )
            done = [i for i, r in enumerate(results) if r is not None]
            if len(done) < len(claimed):
                # The provider refused a call outright (account, template) or could not
                # be reached: settle what it took, and give back untouched, not in doubt,
                # what never went out. A call whose answer was lost stays in doubt
                # (``sending``, its intent kept): the next run asks the provider.
                settle([claimed[i] for i in done], [r for r in results if r is not None])
                _unclaim(
                    ws,
                    [
                        c
                        for c, r in zip(claimed, results, strict=True)
                        # in doubt (this run's lost answers, or a call an earlier run lost
                        # and could not ask about yet): kept, to be asked about
                        if r is None and c.key not in held and c.key not in doubt
                    ],
                )
                stats.held = len(held)
                journal.clear(keep=still_in_doubt(doubt))
                assert isinstance(stats.stopped, ChannelDown)
                raise stats.stopped
            settled = [r for r in results if r is not None]
            settle(claimed, settled)
            journal.clear(keep=still_in_doubt(doubt))
            stats.batches += 1
            events(
                "notices.batch",
                f"campaign {campaign_id}",
                purpose,
                {
                    "channel": channel.name,
                    "notices": len(claimed),
                    "sent": sum(r.outcome == "sent" for r, _ in settled),
                    "in_doubt_resent": sum(c.in_doubt for c in claimed),
                    "content_sha256_digest": batch_digest(
                        (c.key, sha) for c, (r, sha) in zip(claimed, settled, strict=True) if sha
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
    ws: Workspace,
    campaign_id: int,
    receipts: Sequence[Any],
    *,
    tagger: Tagger,
    now: Now = utcnow,
) -> dict[str, int]:
    """Settle sent SMS notices from delivery receipts: a receipt finds its row by the
    provider's ``biz_id`` (one per call) and the keyed token of its phone number, and
    moves it to ``delivered`` or ``undelivered`` (with the provider's code). A receipt for
    a row already settled changes nothing (``ignored``: receipts may come twice); one for
    no row of the campaign, or for a row not marked sent yet (a receipt pushed before the
    send's answer was journalled), is ``unmatched`` and changes nothing either — the
    pushing provider is told to retry it."""
    import pyarrow as pa

    out = {"delivered": 0, "undelivered": 0, "ignored": 0, "unmatched": 0}
    if not receipts:
        return out
    tags = address_tags(tagger, "sms", pa.array([r.phone for r in receipts], pa.string()))
    at = now()
    with ws.store.session() as s:
        # a row's provider id is the call's BizId, or its OutId when the row was confirmed
        # by QuerySendDetails after a crash (that answer has no BizId)
        biz = sorted({x for r in receipts for x in (r.biz_id, r.out_id) if x})
        rows: dict[tuple[str | None, str | None], int | None] = {}
        settled: set[tuple[str | None, str | None]] = set()
        for start in range(0, len(biz), 500):
            for rid, pid, tag, state in s.execute(
                select(
                    NoticeOutboxRow.id,
                    NoticeOutboxRow.provider_id,
                    NoticeOutboxRow.address_tag,
                    NoticeOutboxRow.state,
                ).where(
                    NoticeOutboxRow.campaign_id == campaign_id,
                    NoticeOutboxRow.channel == "sms",
                    NoticeOutboxRow.provider_id.in_(biz[start : start + 500]),
                )
            ):
                if state == "sent":
                    rows[(pid, tag)] = rid
                else:
                    settled.add((pid, tag))
        changes: list[dict[str, Any]] = []
        for r, tag in zip(receipts, tags, strict=True):
            found = rows.pop((r.biz_id, tag), None) or rows.pop((r.out_id, tag), None)
            if found is None:
                seen = (r.biz_id, tag) in settled or (r.out_id, tag) in settled
                out["ignored" if seen else "unmatched"] += 1
                continue
            state = "delivered" if r.delivered else "undelivered"
            out[state] += 1
            error = None if r.delivered else r.code
            changes.append({"id": found, "state": state, "error": error, "updated_at": at})
        if changes:
            s.execute(update(NoticeOutboxRow), changes)
    return out


def receipt_campaigns(ws: Workspace, receipts: Sequence[Any]) -> dict[int | None, list[Any]]:
    """The receipts of a provider's push grouped by the campaign whose SMS row carries
    their ``biz_id`` (or ``out_id``); those matching no campaign under ``None``."""
    ids = sorted({x for r in receipts for x in (r.biz_id, r.out_id) if x})
    owner: dict[str, int] = {}
    with ws.store.session() as s:
        for start in range(0, len(ids), 500):
            for pid, cid in s.execute(
                select(NoticeOutboxRow.provider_id, NoticeOutboxRow.campaign_id)
                .where(
                    NoticeOutboxRow.channel == "sms",
                    NoticeOutboxRow.provider_id.in_(ids[start : start + 500]),
                )
                .distinct()
            ):
                owner[str(pid)] = int(cid)
    out: dict[int | None, list[Any]] = {}
    for r in receipts:
        found = owner.get(r.biz_id or "") or owner.get(r.out_id or "")
        out.setdefault(found, []).append(r)
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
