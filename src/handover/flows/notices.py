"""``handover notices``: PIPL Art. 22 notice campaigns (docs/notices.md).

create  — check the templates and element texts, pick the people tables from the scan
          inventory, and request the maker-checker grant that sending needs (no data read);
approve — an approver other than the maker approves that grant (governance/grants.py);
send    — authorise ``notices.send`` on the contact columns in clear, derive the audience,
          queue it once, send every pending notice exactly once, record the evidence.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handover.db.url import mask as mask_spec
from handover.errors import BadInput, Refused
from handover.flows.scan import inventory_for
from handover.governance import Decision, current_person, require
from handover.governance.policy import DEMO_ACTORS, ITEM
from handover.ledger import Recorder, record
from handover.notices.audience import PeopleTable, derive_audience, people_tables
from handover.notices.campaign import (
    CHANNELS,
    TEMPLATE_OF,
    Campaign,
    Composer,
    load_campaign,
    read_content,
    template_entry,
)
from handover.notices.channels import Channel, SmtpChannel, SmtpConfig
from handover.notices.models import NoticeCampaignRow
from handover.notices.outbox import (
    BACKOFF,
    Journal,
    RateLimit,
    SendStats,
    apply_receipts,
    counts,
    pending,
    queue,
    release_lease,
    send_channel,
    take_lease,
    utcnow,
)
from handover.notices.sms import AliyunSmsChannel, AliyunSmsConfig, parse_reports
from handover.notices.templates import (
    SMS_MAX_CHARS,
    builtin_path,
    category_labels,
    check_content,
    check_template,
    default_content,
)
from handover.sources import open_source
from handover.workspace import Workspace

ACTION = "notices.send"
PURPOSE = "客户告知(个人信息保护法第二十二条)/ customer notices (PIPL Art. 22)"
GRANT_DAYS = 30
Now = Callable[[], dt.datetime]


def _maker(ws: Workspace, actor: str | None) -> str:
    if actor is not None:
        return actor
    me = current_person(ws)
    if me is not None:
        return me.name
    if ws.settings.demo:
        return DEMO_ACTORS[ACTION]
    raise Refused.msg("gov.login_needed")


def scope_items(
    people: Sequence[PeopleTable], cols: dict[tuple[str, str], dict[str, Any]]
) -> list[str]:
    """The grant scope of the contact columns: ``table.column`` where that can be a scope
    item, else the column's tier (a Chinese column name widens to its tier, never weaker)."""
    items: list[str] = []
    for p in people:
        for item in p.contact_items():
            table, column = item.split(".", 1)
            if not ITEM.match(item):
                item = cols.get((table, column), {}).get("tier") or "C2"
            if item not in items:
                items.append(item)
    return items


def create_campaign(
    ws: Workspace,
    source: str | Path,
    *,
    name: str,
    channels: Sequence[str] = ("email", "sms"),
    lang: str | None = None,
    tables: Sequence[str] = (),
    exclude: Sequence[str] = (),
    content_file: Path | None = None,
    templates: dict[str, Path] | None = None,
    link: str | None = None,
    sms_max_chars: int = SMS_MAX_CHARS,
    actor: str | None = None,
    now: Now = utcnow,
) -> Campaign:
    """Create a campaign and request the grant that sending it needs (maker-checker).

    Reads no customer value: the people tables and categories come from the stored scan
    inventory (a scan is run if there is none of this source); templates and element
    texts are checked first, so a missing element is refused before anyone approves.
    """
    from handover.governance.grants import request_grant
    from handover.i18n import normalize_lang

    language = normalize_lang(lang or ws.settings.lang)
    chans = list(dict.fromkeys(c.strip() for c in channels if c.strip()))
    for c in chans:
        if c not in CHANNELS:
            raise BadInput.msg("notices.bad_channel", channel=c, channels=", ".join(CHANNELS))
    if not chans:
        raise BadInput.msg("notices.bad_channel", channel="-", channels=", ".join(CHANNELS))
    cols, _ = inventory_for(ws, source)
    with open_source(source) as src:
        keys = {t.name: t.primary_key for t in src.tables()}
    people = people_tables(cols, keys, only=tables, exclude=exclude)
    types = sorted({v["primary"] for v in cols.values() if v.get("primary")})
    content = default_content(ws.settings.transfer, category_labels(types, language), language)
    if link:
        content["link"] = link
    if content_file is not None:
        content.update(read_content(content_file))
    entries: dict[str, dict[str, str]] = {}
    for ch in chans:
        for kind, fmt in TEMPLATE_OF[ch]:
            path = (templates or {}).get(f"{kind}.{fmt}") or builtin_path(kind, language, fmt)
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise BadInput.msg(
                    "notices.template_unreadable", path=path, reason=type(exc).__name__
                ) from None
            check_template(kind, text, str(path))
            check_content(kind, content)
            entries[f"{kind}.{fmt}"] = template_entry(kind, fmt, text, str(path), sms_max_chars)
    maker = _maker(ws, actor)
    items = scope_items(people, cols)
    at = now()
    grant = request_grant(
        ws,
        maker,
        scope=items,
        mode="clear",
        purpose=PURPOSE,
        valid_until=at + dt.timedelta(days=GRANT_DAYS),
        actions=[ACTION],
        actor=maker,
        now=at,
    )
    with ws.store.session() as s:
        row = NoticeCampaignRow(
            name=name.strip()[:200] or "notices",
            source=mask_spec(str(source)),
            lang=language,
            channels=chans,
            people=[p.to_json() for p in people],
            content=content,
            templates=entries,
            maker=maker,
            grant_id=grant.id,
            status="created",
            created_at=at,
            summary={},
        )
        s.add(row)
        s.flush()
        campaign = Campaign.of(row)
    record(
        ws,
        maker,
        "notices.campaign.create",
        f"campaign {campaign.id}",
        PURPOSE,
        {
            "name": campaign.name,
            "source": campaign.source,
            "channels": chans,
            "tables": [p.table for p in people],
            "scope": items,
            "grant_id": grant.id,
            "approvals_needed": grant.approvals_needed,
            "templates": {k: v["sha256"] for k, v in entries.items()},
            "content_sha256": {k: _sha(v) for k, v in sorted(content.items())},
        },
    )
    return campaign


def _sha(text: str) -> str:
    from handover.notices.templates import content_hash

    return content_hash(text)


def approve_campaign(
    ws: Workspace, campaign_id: int, *, actor: str | None = None, now: Now | None = None
) -> dict[str, Any]:
    """Approve the campaign's grant as the logged-in approver (or ``actor``): the
    maker-checker of :mod:`handover.governance.grants` (approver role, neither the maker
    nor the grantee, two approvers for clear access beyond tiers C1/C2)."""
    from handover.governance.grants import approve_grant

    camp = load_campaign(ws, campaign_id)
    if camp.grant_id is None:
        raise BadInput.msg("notices.no_campaign", id=campaign_id)
    grant = approve_grant(ws, camp.grant_id, actor=actor, now=now() if now else None)
    return {"campaign": campaign_id, **grant.to_json()}


def _grant_state(ws: Workspace, grant_id: int, at: dt.datetime) -> str:
    from handover.governance.grants import list_grants

    for g in list_grants(ws, now=at):
        if g.id == grant_id:
            return g.state
    return "missing"


@dataclass
class SendReport:
    """What ``notices send`` did: per channel counts and the outbox afterwards."""

    campaign: int
    queued_now: dict[str, int] | None
    channels: list[SendStats] = field(default_factory=list)
    outbox: dict[str, dict[str, int]] = field(default_factory=dict)
    pending: int = 0
    unreachable: int = 0
    skipped_channels: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "campaign": self.campaign,
            "queued_now": self.queued_now,
            "channels": [c.to_json() for c in self.channels],
            "outbox": self.outbox,
            "pending": self.pending,
            "unreachable": self.unreachable,
            "skipped_channels": self.skipped_channels,
        }


def send_campaign(
    ws: Workspace,
    campaign_id: int,
    source: str | Path,
    *,
    smtp: SmtpConfig | None = None,
    sms: AliyunSmsConfig | None = None,
    resume: bool = False,
    batch: int = 200,
    rate: float | None = None,
    backoff: dt.timedelta = BACKOFF,
    now: Now = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    channels: dict[str, Channel] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> SendReport:
    """Send campaign ``campaign_id`` (its people read from ``source``, the same source it
    was created on); see the module text. ``channels`` replaces the channel built from
    ``smtp`` (other transports)."""
    from handover.crypto.tokenize import tokenize
    from handover.deid.extract import token_key

    camp = load_campaign(ws, campaign_id)
    if mask_spec(str(source)) != camp.source:
        raise BadInput.msg("notices.source_changed", id=campaign_id, source=mask_spec(str(source)))
    people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
    cols, _ = inventory_for(ws, source)
    decision: Decision = require(ws, ACTION, f"{','.join(scope_items(people, cols))}/clear")
    at = now()
    assert camp.grant_id is not None
    state = _grant_state(ws, camp.grant_id, at)
    if state != "active":
        raise Refused.msg("notices.not_approved", id=campaign_id, grant=camp.grant_id, state=state)
    if camp.status != "created" and not resume:
        raise BadInput.msg("notices.started", id=campaign_id)
    events = Recorder(ws, decision.actor)
    built: dict[str, Channel] = dict(channels or {})
    if "email" in camp.channels and "email" not in built:
        if smtp is None:
            raise BadInput.msg("notices.no_smtp", id=campaign_id)
        built["email"] = SmtpChannel(smtp)
    if "sms" in camp.channels and "sms" not in built and sms is not None:
        built["sms"] = AliyunSmsChannel(sms)
    lease = take_lease(ws, campaign_id)
    try:
        key_id = token_key(ws, events)
        with open_source(source) as src:
            audience = derive_audience(src, people, lambda a: tokenize(ws, key_id, a))
        queued_now = None
        if camp.status == "created":
            queued_now = queue(ws, campaign_id, audience, now=now)
            events(
                "notices.campaign.queue",
                f"campaign {campaign_id}",
                PURPOSE,
                {**audience.summary(), "queued": queued_now},
            )
        elif camp.fingerprint != audience.fingerprint:
            raise BadInput.msg("notices.source_changed", id=campaign_id, source=camp.source)
        composer = Composer(camp, audience)
        report = SendReport(campaign_id, queued_now, unreachable=audience.unreachable.num_rows)
        folder = ws.path / "notices"
        for ch in camp.channels:
            if ch not in built:
                report.skipped_channels.append(ch)
                continue
            journal = Journal(folder / f"campaign-{campaign_id}-{ch}.journal")
            try:
                stats = send_channel(
                    ws,
                    campaign_id,
                    built[ch],
                    lambda c, ch=ch: composer.compose(ch, c),  # type: ignore[misc]
                    journal=journal,
                    events=events,
                    batch=batch,
                    rate=RateLimit(rate, sleep=sleep),
                    backoff=backoff,
                    fallback=composer.has_address if "letter" in camp.channels else None,
                    now=now,
                    sleep=sleep,
                    progress=progress,
                )
            finally:
                journal.close()
            report.channels.append(stats)
        report.outbox = counts(ws, campaign_id)
        report.pending = pending(ws, campaign_id, camp.channels)
        with ws.store.session() as s:
            row = s.get(NoticeCampaignRow, campaign_id)
            assert row is not None
            if report.pending == 0:
                row.status, row.finished_at = "done", now()
        events(
            "notices.campaign.send",
            f"campaign {campaign_id}",
            PURPOSE,
            {
                "channels": [c.to_json() for c in report.channels],
                "outbox": report.outbox,
                "pending": report.pending,
                "resume": resume,
            },
        )
        return report
    finally:
        release_lease(ws, campaign_id, lease)


def record_receipts(ws: Workspace, campaign_id: int, reports: Any) -> dict[str, int]:
    """Apply SMS delivery receipts (``SmsReport`` JSON array) to the campaign's outbox and
    record the counts (never a number) in the ledger."""
    from handover.governance import current_actor

    load_campaign(ws, campaign_id)
    result = apply_receipts(ws, campaign_id, parse_reports(reports))
    record(ws, current_actor(ws), "notices.receipts", f"campaign {campaign_id}", PURPOSE, result)
    return result


def campaign_status(ws: Workspace, campaign_id: int) -> dict[str, Any]:
    """The campaign and its outbox counts per channel and state (no personal data)."""
    camp = load_campaign(ws, campaign_id)
    return {**camp.to_json(), "outbox": counts(ws, campaign_id)}
