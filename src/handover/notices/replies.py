"""What people answer to a campaign: objections, opt-outs, deletion requests, and yes or
no to a consent campaign (a new purpose: PIPL Art. 14, 22).

Answers arrive as SMS replies (the provider's ``SmsUp`` messages), or are entered by
staff from a letter, a call or the counter (``handover notices objection``). Each is kept
per recipient token with its kind, how it came and a digest of the message, never the
clear text or number; an answer seen twice (the same provider sequence id) is recorded
once. An opt-out also stops the person's notices not yet sent (``cancelled``). A consent
campaign counts, per person, the latest answer: yes, no, or no answer (silence is no
consent: PIPL Art. 14 ¶1 asks for an informed, voluntary and explicit indication).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from handover.crypto.digest import sha256_hex
from handover.notices.models import NoticeOutboxRow, NoticeReplyRow
from handover.notices.outbox import PENDING, Tagger, address_tags, reference_of

if TYPE_CHECKING:
    from handover.workspace import Workspace

KINDS: tuple[str, ...] = ("objection", "opt_out", "deletion", "consent_yes", "consent_no", "other")
VIA: tuple[str, ...] = ("sms", "email", "letter", "phone", "counter", "web")
#: words of a reply, in the order they are tried (不同意 before 同意, "N" before nothing)
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("consent_no", re.compile(r"^(N|NO)\b|不同意|拒绝")),
    ("consent_yes", re.compile(r"^(Y|YES)\b|同意")),
    ("opt_out", re.compile(r"^(TD|T|STOP|UNSUBSCRIBE)\b|退订")),
    ("deletion", re.compile(r"DELETE|ERASE|删除")),
    ("objection", re.compile(r"OBJECT|反对|异议")),
)


def classify(content: str) -> str:
    """The kind of a reply's text (``other`` when no rule fits: a person reads it)."""
    text = unicodedata.normalize("NFKC", content).strip().upper()
    for kind, rule in _RULES:
        if rule.search(text):
            return kind
    return "other"


@dataclass(frozen=True)
class Reply:
    """One answer of one person (recipient token), ready to be recorded."""

    recipient: str
    kind: str
    via: str
    ref: str
    content_sha256: str | None
    received_at: dt.datetime


@dataclass(frozen=True)
class SmsUp:
    """One SMS reply as the provider reports it (held in memory only)."""

    phone: str
    content: str
    sequence_id: str


def parse_sms_up(data: Any) -> list[SmsUp]:
    """Replies from a ``SmsUp`` JSON array (``phone_number``, ``content``,
    ``sequence_id``); entries without them are skipped."""
    from handover.notices.sms import normalize_mobile

    if not isinstance(data, list):
        return []
    out: list[SmsUp] = []
    for r in data:
        if isinstance(r, dict) and r.get("phone_number") and r.get("sequence_id") is not None:
            out.append(
                SmsUp(
                    normalize_mobile(str(r["phone_number"])),
                    str(r.get("content") or ""),
                    str(r["sequence_id"]),
                )
            )
    return out


def recipients_by_tag(
    ws: Workspace, campaign_id: int, channel: str, addresses: Sequence[str], tagger: Tagger
) -> list[str | None]:
    """The recipient token of each address (mobile or e-mail) in the campaign's outbox,
    or None; matched on the address's keyed token, never on a stored clear value."""
    import pyarrow as pa

    tags = address_tags(tagger, channel, pa.array(list(addresses), pa.string()))
    wanted = sorted({t for t in tags if t})
    found: dict[str, str] = {}
    with ws.store.session() as s:
        for start in range(0, len(wanted), 500):
            for tag, rcpt in s.execute(
                select(NoticeOutboxRow.address_tag, NoticeOutboxRow.recipient).where(
                    NoticeOutboxRow.campaign_id == campaign_id,
                    NoticeOutboxRow.channel == channel,
                    NoticeOutboxRow.address_tag.in_(wanted[start : start + 500]),
                )
            ):
                if tag is not None:
                    found[tag] = rcpt
    return [found.get(t) if t else None for t in tags]


def recipient_by_reference(ws: Workspace, campaign_id: int, reference: str) -> str | None:
    """The recipient whose notices carry ``reference`` (the code printed on them)."""
    ref = reference.strip().upper()
    with ws.store.session() as s:
        for rcpt in s.scalars(
            select(NoticeOutboxRow.recipient)
            .where(NoticeOutboxRow.campaign_id == campaign_id)
            .distinct()
        ):
            if reference_of(campaign_id, rcpt) == ref:
                return str(rcpt)
    return None


def record(
    ws: Workspace, campaign_id: int, replies: Sequence[Reply], *, actor: str
) -> tuple[dict[str, int], list[Reply]]:
    """Store ``replies`` (one transaction); a reply whose ``ref`` is known already is not
    stored twice. An opt-out cancels the person's pending notices. Returns the counts
    (``recorded``, ``duplicate``, ``cancelled`` and one per kind) and the replies stored."""
    out: dict[str, int] = {"recorded": 0, "duplicate": 0, "cancelled": 0}
    stored: list[Reply] = []
    if not replies:
        return out, stored
    with ws.store.session() as s:
        refs = [r.ref for r in replies]
        known: set[str] = set()
        for start in range(0, len(refs), 500):
            known |= set(
                s.scalars(
                    select(NoticeReplyRow.ref).where(
                        NoticeReplyRow.campaign_id == campaign_id,
                        NoticeReplyRow.ref.in_(refs[start : start + 500]),
                    )
                )
            )
        rows: list[dict[str, Any]] = []
        for r in replies:
            if r.ref in known:
                out["duplicate"] += 1
                continue
            known.add(r.ref)
            stored.append(r)
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "recipient": r.recipient,
                    "kind": r.kind,
                    "via": r.via,
                    "ref": r.ref,
                    "content_sha256": r.content_sha256,
                    "received_at": r.received_at,
                    "recorded_by": actor[:200],
                }
            )
            out[r.kind] = out.get(r.kind, 0) + 1
        if rows:
            s.execute(insert(NoticeReplyRow), rows)
        out["recorded"] = len(rows)
        stop = sorted({r["recipient"] for r in rows if r["kind"] == "opt_out"})
        for start in range(0, len(stop), 500):
            res = s.execute(
                update(NoticeOutboxRow)
                .where(
                    NoticeOutboxRow.campaign_id == campaign_id,
                    NoticeOutboxRow.recipient.in_(stop[start : start + 500]),
                    NoticeOutboxRow.state.in_(PENDING),
                )
                .values(state="cancelled", error="opt_out")
            )
            out["cancelled"] += int(getattr(res, "rowcount", 0) or 0)
    return out, stored


def reply_ref(via: str, key: str) -> str:
    """The de-duplication reference of a reply (digest of where it came from and its id)."""
    return sha256_hex(f"{via}:{key}".encode())[:32]


def tally(ws: Workspace, campaign_id: int, *, people: int | None = None) -> dict[str, int]:
    """Replies per kind, and for the campaign's people the consent picture: ``yes`` and
    ``no`` by each person's latest answer, ``no_answer`` for everyone else. ``people``:
    the campaign's persons when counted already (the outbox is not counted again)."""
    with ws.store.session() as s:
        by_kind = dict(
            s.execute(
                select(NoticeReplyRow.kind, func.count())
                .where(NoticeReplyRow.campaign_id == campaign_id)
                .group_by(NoticeReplyRow.kind)
            ).all()
        )
        if people is None:
            people = int(
                s.scalar(
                    select(func.count(func.distinct(NoticeOutboxRow.recipient))).where(
                        NoticeOutboxRow.campaign_id == campaign_id
                    )
                )
                or 0
            )
        latest: dict[str, str] = {}
        for rcpt, kind in s.execute(
            select(NoticeReplyRow.recipient, NoticeReplyRow.kind)
            .where(
                NoticeReplyRow.campaign_id == campaign_id,
                NoticeReplyRow.kind.in_(("consent_yes", "consent_no")),
            )
            .order_by(NoticeReplyRow.received_at, NoticeReplyRow.id)
        ):
            latest[rcpt] = kind
    yes = sum(1 for k in latest.values() if k == "consent_yes")
    no = len(latest) - yes
    out = {k: int(by_kind.get(k, 0)) for k in KINDS}
    out.update(people=people, yes=yes, no=no, no_answer=max(people - yes - no, 0))
    return out
