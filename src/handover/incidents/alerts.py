"""E-mails to the DPO and the people responsible when a duty's clock needs them: a
reminder once 80 % of the time is used, an escalation once the deadline passed.

They go through an outbox of their own (``incident_alerts``): :func:`queue` adds one row
per (duty, kind, address) in the same transaction that records the reminder or the
escalation, so no reminder is recorded without its mails; :func:`send` hands the due
rows to a channel of the notices room (SMTP), one by one, each marked ``sending``
before it leaves and settled right after, so a crash resends at most the mail in hand —
with the same Message-ID (the row's key). A transient refusal waits (backoff), a
permanent one fails; a server that cannot be reached leaves every row as it was.
A mail whose duty is no longer open (met, waived) or whose incident is closed is not
sent: its row becomes ``obsolete`` — an escalation must never say "still not met" about a
duty that was.
Addresses are staff addresses from ``[incidents.mail]``; they never reach the ledger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from handover.crypto.digest import sha256_hex
from handover.events import EventSink
from handover.incidents.models import AlertRow, IncidentRow, ObligationRow
from handover.incidents.records import Obligation, day_clocks, obligation_of
from handover.notices.channels import Channel, ChannelDown, Message

if TYPE_CHECKING:
    from handover.workspace import Workspace

Clock = Callable[[], dt.datetime]
KINDS = ("remind", "escalate")
MAX_ATTEMPTS = 4
BACKOFF = dt.timedelta(minutes=2)
PURPOSE = "incident response"


@dataclass(frozen=True)
class MailPlan:
    """Who gets the mails: everyone in ``to``; for an escalation also ``escalate_to``;
    and the incident's lead when ``people`` knows their address."""

    to: tuple[str, ...]
    escalate_to: tuple[str, ...] = ()
    people: dict[str, str] = field(default_factory=dict)

    def recipients(self, kind: str, lead: str) -> list[str]:
        """The addresses of one mail of ``kind`` about an incident led by ``lead``."""
        extra = self.escalate_to if kind == "escalate" else ()
        mine = (self.people[lead],) if lead in self.people else ()
        return list(dict.fromkeys(a.strip().lower() for a in (*self.to, *extra, *mine)))


def alert_key(obligation_id: int, kind: str, address: str) -> str:
    """The idempotency key (and Message-ID) of one alert mail."""
    return sha256_hex(f"alert:{obligation_id}:{kind}:{address}".encode())[:32]


def queue(
    s: Session,
    obligations: Sequence[ObligationRow],
    kind: str,
    plan: MailPlan,
    leads: dict[int, str],
    now: dt.datetime,
) -> int:
    """Add the alert rows of ``kind`` for ``obligations`` (inside the caller's
    transaction); returns how many."""
    rows = [
        {
            "key": alert_key(ob.id, kind, address),
            "obligation_id": ob.id,
            "kind": kind,
            "address": address,
            "state": "queued",
            "attempts": 0,
            "created_at": now,
        }
        for ob in obligations
        for address in plan.recipients(kind, leads.get(ob.incident_id, ""))
    ]
    if rows:
        s.execute(insert(AlertRow), rows)
    return len(rows)


@dataclass
class AlertStats:
    """What one :func:`send` did."""

    sent: int = 0
    retry: int = 0
    failed: int = 0
    #: not sent because the duty was met or waived, or the incident closed, meanwhile
    obsolete: int = 0
    pending: int = 0
    #: the refusal that stopped the run (server unreachable, login refused)
    stopped: ChannelDown | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "sent": self.sent,
            "retry": self.retry,
            "failed": self.failed,
            "obsolete": self.obsolete,
            "pending": self.pending,
            "stopped": str(self.stopped) if self.stopped is not None else None,
        }


def _due(at: dt.datetime) -> Any:
    return or_(
        AlertRow.state.in_(("queued", "sending")),
        and_(AlertRow.state == "retry", AlertRow.next_at <= at),
    )


def _stale(ob: ObligationRow | None, inc: IncidentRow | None) -> bool:
    # A mail about a duty met or waived, or about a closed incident, would tell its
    # readers something no longer true.
    return ob is None or inc is None or ob.status != "open" or inc.status == "closed"


def pending_count(ws: Workspace) -> int:
    """Alert mails not yet sent nor given up on, about a duty still open."""
    from sqlalchemy import func

    with ws.store.session() as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(AlertRow)
                .join(ObligationRow, ObligationRow.id == AlertRow.obligation_id)
                .join(IncidentRow, IncidentRow.id == ObligationRow.incident_id)
                .where(
                    AlertRow.state.in_(("queued", "sending", "retry")),
                    ObligationRow.status == "open",
                    IncidentRow.status != "closed",
                )
            )
            or 0
        )


def _drop_stale(
    ws: Workspace, ids: Sequence[int], stats: AlertStats, outcomes: list[dict[str, Any]]
) -> list[int]:
    """Mark ``obsolete`` the due alerts no longer worth sending; returns the others."""
    keep: list[int] = []
    with ws.store.session() as s:
        for alert_id in ids:
            row = s.get(AlertRow, alert_id, with_for_update=True)
            if row is None:
                continue
            ob = s.get(ObligationRow, row.obligation_id)
            inc = s.get(IncidentRow, ob.incident_id) if ob is not None else None
            if _stale(ob, inc):
                _obsolete(row, stats, outcomes)
            else:
                keep.append(alert_id)
    return keep


def _obsolete(row: AlertRow, stats: AlertStats, outcomes: list[dict[str, Any]]) -> None:
    """Settle ``row`` as not worth sending (:func:`_stale`), counted and told."""
    row.state = "obsolete"
    stats.obsolete += 1
    outcomes.append(
        {"key": row.key, "kind": row.kind, "obligation": row.obligation_id, "outcome": "obsolete"}
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def compose(
    kind: str,
    key: str,
    address: str,
    ob: Obligation,
    inc: IncidentRow,
    *,
    now: dt.datetime,
    timezone: str,
) -> Message:
    """The mail about duty ``ob`` of incident ``inc``: in Chinese, then in English (who
    reads it may read either); a drill's says so in its subject. A clock in days gives its
    last day and the days left, not hours."""
    from handover.i18n import t

    drill = inc.drill_id is not None
    clock_key, clock_values = (
        ob.period.clock()
        if ob.period is not None
        else (
            "incidents.report.legal_clock" if ob.legal_clock else "incidents.report.target_clock",
            {"hours": f"{ob.hours:g}"},
        )
    )
    parts: list[str] = []
    subject = ""
    for lang in ("zh-CN", "en"):
        values = {
            "incident": inc.id,
            "title": inc.title,
            "grade": t(f"incidents.grade.{inc.grade}", lang),
            "obligation": ob.id,
            "regime": t(f"incidents.regime.{ob.regime}", lang),
            "recipient": ob.recipient_in(lang),
            "kind": t(f"incidents.kind.{ob.kind}", lang),
            "due": f"{ob.due_text(timezone)} ({timezone})",
            "left": ob.time_left(now).render(lang),
            "clock": t(clock_key, lang, **clock_values),
            "source": ob.source,
        }
        if lang == "zh-CN":
            subject = t(f"incidents.mail.subject.{kind}", lang, **values)
        parts.append(t(f"incidents.mail.body.{kind}", lang, **values))
    if drill:
        subject = f"[演练 DRILL] {subject}"
        parts.insert(
            0, t("incidents.mail.drill", "zh-CN") + " / " + t("incidents.mail.drill", "en")
        )
    return Message(key, address, subject, "\n\n".join(parts) + "\n")


def send(
    ws: Workspace,
    channel: Channel,
    *,
    events: EventSink,
    clock: Clock,
    timezone: str,
    max_attempts: int = MAX_ATTEMPTS,
    backoff: dt.timedelta = BACKOFF,
) -> AlertStats:
    """Send every due alert mail through ``channel`` (see the module text); records
    ``incident.alert.send`` with the counts and keys (never an address)."""
    now = _utc(clock())
    stats = AlertStats()
    clocks = day_clocks(ws)
    with ws.store.session() as s:
        due = s.scalars(select(AlertRow.id).where(_due(now)).order_by(AlertRow.id)).all()
    outcomes: list[dict[str, Any]] = []
    # Settled even when the server is down, so they never wait for it nor count as pending.
    due = _drop_stale(ws, due, stats, outcomes)
    if due:
        try:
            channel.open()  # before any row is claimed: an unreachable server changes nothing
        except ChannelDown as exc:
            stats.stopped = exc
            due = []
    try:
        for alert_id in due:
            with ws.store.session() as s:
                row = s.get(AlertRow, alert_id, with_for_update=True)
                if row is None or row.state in ("sent", "failed", "obsolete"):
                    continue
                ob = s.get(ObligationRow, row.obligation_id)
                inc = s.get(IncidentRow, ob.incident_id) if ob is not None else None
                if ob is None or inc is None:
                    continue
                if _stale(ob, inc):  # met or closed since the check above
                    _obsolete(row, stats, outcomes)
                    continue
                message = compose(
                    row.kind,
                    row.key,
                    row.address,
                    obligation_of(ob, clocks),
                    inc,
                    now=now,
                    timezone=timezone,
                )
                row.state, row.attempts = "sending", row.attempts + 1
                attempts, key, kind, ob_id = row.attempts, row.key, row.kind, ob.id
            try:
                res = channel.send(message)
            except ChannelDown as exc:
                stats.stopped = exc
                with ws.store.session() as s:
                    s.execute(
                        update(AlertRow)
                        .where(AlertRow.id == alert_id)
                        .values(state="queued", attempts=attempts - 1)
                    )
                break
            values: dict[str, Any] = {"error": res.error}
            if res.outcome == "sent":
                values.update(state="sent", sent_at=now)
                stats.sent += 1
            elif res.outcome == "retry" and attempts < max_attempts:
                values.update(state="retry", next_at=now + backoff * (2 ** (attempts - 1)))
                stats.retry += 1
            else:
                values.update(state="failed")
                stats.failed += 1
            with ws.store.session() as s:
                s.execute(update(AlertRow).where(AlertRow.id == alert_id).values(**values))
            outcomes.append(
                {"key": key, "kind": kind, "obligation": ob_id, "outcome": values["state"]}
            )
    finally:
        if due:
            channel.close()
    stats.pending = pending_count(ws)
    if outcomes or stats.stopped is not None:
        events(
            "incident.alert.send",
            "incident alerts",
            PURPOSE,
            {
                "at": now.isoformat(),
                **{k: v for k, v in stats.to_json().items() if k != "stopped"},
                "stopped": stats.stopped.message.key
                if stats.stopped is not None and stats.stopped.message
                else None,
                "mails": outcomes,
            },
        )
    return stats
