"""``handover notices``: PIPL Art. 22 notice campaigns (docs/notices.md).

create  — check the templates and element texts, pick the people tables from the scan
          inventory, and request the maker-checker grant that sending needs (no data read);
approve — an approver other than the maker approves that grant (governance/grants.py);
send    — authorise ``notices.send`` on the contact columns in clear, derive the audience,
          queue it once, send every pending notice exactly once, record the evidence;
receipts, replies, objection — delivery receipts and what people answer, per person;
announce, report — the public announcement and the campaign report (no personal data).
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.claims import Claim, claiming, uses
from handover.crypto.tokenize import tokenizer_process
from handover.db.url import mask as mask_spec
from handover.db.url import place
from handover.errors import BadInput, Refused
from handover.governance import Decision, current_person, require
from handover.governance.policy import DEMO_ACTORS, ITEM, NOTICES_RECEIPTS
from handover.i18n import Msg
from handover.ledger import Recorder, record
from handover.notices import replies
from handover.notices.announce import Announcement, write_announcement
from handover.notices.audience import (
    PeopleTable,
    Restriction,
    derive_audience,
    people_tables,
    restriction_for,
)
from handover.notices.campaign import (
    CAMPAIGN_KINDS,
    CHANNELS,
    TEMPLATES_OF,
    Campaign,
    Composer,
    list_campaigns,
    load_campaign,
    read_content,
    template_entry,
)
from handover.notices.channels import Channel, DrillChannel, SmtpChannel, SmtpConfig, SmtpPool
from handover.notices.letters import LetterChannel, Letterhead
from handover.notices.models import NoticeCampaignRow
from handover.notices.outbox import (
    BACKOFF,
    Journal,
    RateLimit,
    SendStats,
    apply_receipts,
    china_date,
    counts,
    fallback_undelivered,
    pending,
    queue,
    receipt_campaigns,
    release_lease,
    send_channel,
    take_lease,
    utcnow,
)
from handover.notices.replies import Reply
from handover.notices.sms import AliyunSmsChannel, AliyunSmsConfig, parse_reports
from handover.notices.templates import (
    SMS_MAX_CHARS,
    builtin_path,
    category_labels,
    check_content,
    check_template,
    default_content,
    read_template,
)
from handover.progress import NoProgress, Progress
from handover.sources import PLAIN, FileReading, open_source
from handover.workspace import Workspace

if TYPE_CHECKING:
    from handover.governance.grants import Grant
    from handover.sources.base import Source

ACTION = "notices.send"
PURPOSE = "客户告知(个人信息保护法第二十二条)/ customer notices (PIPL Art. 22)"
BREACH_PURPOSE = "个人信息安全事件告知(个人信息保护法第五十七条)/ breach notices (PIPL Art. 57)"


def purpose_of(kind: str) -> str:
    """The grant and ledger purpose of a campaign of ``kind``."""
    return BREACH_PURPOSE if kind == "breach" else PURPOSE


GRANT_DAYS = 30
#: JR/T 0171 C3, authentication data: no category a notice lists
CREDENTIALS_TIER = "C3"
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
    people: Sequence[PeopleTable],
    cols: dict[tuple[str, str], dict[str, Any]],
    restriction: Restriction | None = None,
) -> list[str]:
    """The grant scope of the contact columns (and of the leaked identifier columns a
    restriction reads): ``table.column`` where that can be a scope item, else the
    column's tier (a Chinese column name widens to its tier, never weaker)."""
    wanted = [i for p in people for i in p.contact_items()]
    if restriction is not None:
        wanted += [f"{t}.{c}" for t, c, _ in restriction.columns]
    items: list[str] = []
    for item in wanted:
        table, column = item.split(".", 1)
        if not ITEM.match(item):
            item = cols.get((table, column), {}).get("tier") or "C2"
        if item not in items:
            items.append(item)
    return items


@claiming("notices.create", lambda source, **_: uses((source,)))
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
    kind: str = "notice",
    new_purpose: str | None = None,
    actor: str | None = None,
    now: Now = utcnow,
    content: dict[str, str] | None = None,
    leaked: Sequence[tuple[str, Sequence[str]]] | None = None,
    incident_id: int | None = None,
    drill: bool = False,
    reading: FileReading = PLAIN,
) -> Campaign:
    """Create a campaign and request the grant that sending it needs (maker-checker).

    ``kind`` ``consent`` asks the people for consent to ``new_purpose`` (PIPL Art. 14, 22):
    its templates ask for a yes or no, and the answers are tallied per person.
    ``kind`` ``breach`` tells the people an incident concerns (PIPL Art. 57): ``leaked``
    names the tables and columns concerned and limits the audience to their people
    (:func:`handover.notices.audience.restriction_for`); ``content`` gives the element
    texts; a ``drill`` campaign sends through the drill channel only. ``reading``: how
    the source's files are read (CSV files without a header row), kept with the campaign
    so that sending reads them the same way.

    Reads no customer value: the people tables and categories come from the stored scan
    inventory (a scan is run if there is none of this source); templates and element
    texts are checked first, so a missing element is refused before anyone approves.
    """
    from handover.governance.grants import request_grant
    from handover.i18n import normalize_lang

    language = normalize_lang(lang or ws.settings.lang)
    if kind not in CAMPAIGN_KINDS:
        raise BadInput.msg("notices.bad_kind_campaign", kind=kind, kinds=", ".join(CAMPAIGN_KINDS))
    if kind == "consent" and not (new_purpose or "").strip():
        raise BadInput.msg("notices.consent_needs_purpose")
    if (kind == "breach") != (leaked is not None):
        raise BadInput.msg("notices.breach_needs_incident")
    chans = list(dict.fromkeys(c.strip() for c in channels if c.strip()))
    for c in chans:
        if c not in CHANNELS:
            raise BadInput.msg("notices.bad_channel", channel=c, channels=", ".join(CHANNELS))
    if not chans:
        raise BadInput.msg("notices.bad_channel", channel="-", channels=", ".join(CHANNELS))
    from handover.flows.scan import inventory_for  # the detectors: only where a scan may run

    cols, _ = inventory_for(ws, source, actor=actor, reading=reading)
    # the primary keys of the people tables only: a source table is described (its
    # columns checked, its rows counted) only when it is read
    people = people_tables(cols, {}, only=tables, exclude=exclude)
    with open_source(source, reading=reading) as src:
        people = [replace(p, key=tuple(_primary_key(src, p.table))) for p in people]
    restriction = restriction_for(cols, people, leaked) if leaked is not None else None
    # the categories told are those of the campaign's people tables, never another
    # table's (staff accounts), and never authentication data (JR/T 0171 C3: passwords,
    # PINs, CVNs, tokens), which a notice to customers does not list
    told = {p.table for p in people}
    types = sorted(
        {
            v["primary"]
            for (table, _), v in cols.items()
            if table in told and v.get("primary") and not _credential(v["primary"])
        }
    )
    values = default_content(ws.settings.transfer, category_labels(types, language), language)
    values.update(content or {})
    if link:
        values["link"] = link
    if new_purpose:
        values["new_purpose"] = new_purpose.strip()
    if content_file is not None:
        values.update(read_content(content_file))
    content = values
    entries: dict[str, dict[str, str]] = {}
    for ch in chans:
        for tkind, fmt in TEMPLATES_OF[kind][ch]:
            user = (templates or {}).get(f"{'sms' if ch == 'sms' else 'notice'}.{fmt}")
            path = user or builtin_path(tkind, language, fmt)
            text = read_template(path)
            check_template(tkind, text, str(path))
            check_content(tkind, content)
            if ch == "sms":
                _check_sms_fits(tkind, text, str(path), content, language, sms_max_chars)
            entries[f"{tkind}.{fmt}"] = template_entry(tkind, fmt, text, str(path), sms_max_chars)
    maker = _maker(ws, actor)
    items = scope_items(people, cols, restriction)
    at = now()
    grant = request_grant(
        ws,
        maker,
        scope=items,
        mode="clear",
        purpose=purpose_of(kind),
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
            kind=kind,
            incident_id=incident_id,
            restriction=restriction.to_json() if restriction is not None else None,
            drill=drill,
            reading=reading.to_options() if reading != PLAIN else None,
        )
        s.add(row)
        s.flush()
        campaign = Campaign.of(row)
    record(
        ws,
        maker,
        "notices.campaign.create",
        f"campaign {campaign.id}",
        purpose_of(kind),
        {
            "name": campaign.name,
            "kind": kind,
            "incident": incident_id,
            "drill": drill,
            "restriction": campaign.restriction,
            "source": campaign.source,
            **({"reading": campaign.reading} if campaign.reading else {}),
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


def _credential(pii_type: str) -> bool:
    """Whether ``pii_type`` is authentication data (JR/T 0171 C3)."""
    from handover.taxonomy import TAXONOMY

    return any(p.name == pii_type and p.tier == CREDENTIALS_TIER for p in TAXONOMY)


def _check_sms_fits(
    kind: str, source: str, name: str, content: dict[str, str], lang: str, limit: int
) -> None:
    """Refuse (BadInput naming ``--sms-max-chars``) a limit the campaign's SMS cannot fit:
    the SMS rendered as it will be sent, with the campaign's texts, for a sample person
    (masked name, a reference of the real length). Only its length is told, never its
    text; otherwise every SMS of the campaign would fail at send time."""
    from handover.notices.templates import Renderer
    from handover.notices.templates import preview as sample

    unlimited = Renderer.build(kind, content, source=source, name=name, max_chars=sys.maxsize)
    chars = len(sample(unlimited, lang))
    if chars > limit:
        raise BadInput.msg("notices.sms_over_limit", limit=limit, chars=chars, name=name)


def _primary_key(src: Source, table: str) -> list[str]:
    """The primary key of ``table`` in ``src`` (none when the source has no such table,
    as a table scanned but dropped since)."""
    if table not in src.table_names():
        return []
    return src.primary_key(table)


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


def _campaign_grant(ws: Workspace, grant_id: int | None, at: dt.datetime) -> Grant | None:
    """The campaign's grant ``grant_id`` with its state at ``at`` (None: there is none)."""
    from handover.governance.grants import list_grants

    return next((g for g in list_grants(ws, now=at) if g.id == grant_id), None)


def _grant_state(ws: Workspace, grant_id: int, at: dt.datetime) -> str:
    grant = _campaign_grant(ws, grant_id, at)
    return grant.state if grant is not None else "missing"


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
    fallback_undelivered: int = 0
    #: the incident duty (PIPL Art. 57 to the individuals) this run's end met, if any
    obligation: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "campaign": self.campaign,
            "obligation": self.obligation,
            "queued_now": self.queued_now,
            "channels": [c.to_json() for c in self.channels],
            "outbox": self.outbox,
            "pending": self.pending,
            "unreachable": self.unreachable,
            "skipped_channels": self.skipped_channels,
            "fallback_undelivered": self.fallback_undelivered,
        }


def authorize_send(
    ws: Workspace,
    campaign_id: int,
    source: str | Path,
    *,
    actor: str | None = None,
    when: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    """The decision sending needs: the campaign's own grant approved, then ``notices.send``
    in clear on the campaign's contact columns (the same source it was created on,
    BadInput otherwise); Refused otherwise, ledgered either way."""
    camp = load_campaign(ws, campaign_id)
    # the same data however it is spelt (a path or its sqlite:/// URL, another folder)
    if place(str(source)) != place(camp.source):
        raise BadInput.msg("notices.source_changed", id=campaign_id, source=mask_spec(str(source)))
    # The campaign's own grant first: ``require`` looks for any grant covering the scope,
    # and campaigns on the same contact columns share it — its refusal would name another
    # campaign's grant.
    _require_approved(ws, camp, actor=actor or (authorized.actor if authorized else None), at=when)
    people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
    restriction = Restriction.from_json(camp.restriction) if camp.restriction else None
    from handover.flows.scan import inventory_for

    cols, _ = inventory_for(
        ws, source, actor=actor, authorized=authorized, reading=reading_of(camp)
    )
    resource = f"{','.join(scope_items(people, cols, restriction))}/clear"
    return require(ws, ACTION, resource, actor=actor, now=when, authorized=authorized)


def _require_approved(
    ws: Workspace, camp: Campaign, *, actor: str | None, at: dt.datetime | None
) -> None:
    """Refused (ledgered as ``notices.send.refused``) unless the campaign's own grant is
    active, naming that grant, its state and its approvals."""
    from handover.governance.authorize import acting_name

    at = at or utcnow()
    grant = _campaign_grant(ws, camp.grant_id, at)
    state = grant.state if grant is not None else "missing"
    if state == "active":
        return
    if grant is not None and state == "pending":
        refusal = Msg(
            "notices.grant_pending",
            id=camp.id,
            grant=camp.grant_id,
            have=len(grant.approved_by),
            need=grant.approvals_needed,
        )
    else:
        refusal = Msg("notices.not_approved", id=camp.id, grant=camp.grant_id, state=state)
    who = acting_name(ws, actor, ACTION, now=at) or "-"
    record(
        ws,
        who,
        "notices.send.refused",
        f"campaign {camp.id}",
        purpose_of(camp.kind),
        {"grant_id": camp.grant_id, "state": state, "reason": refusal.key},
    )
    raise Refused.of(refusal)


def reading_of(camp: Campaign) -> FileReading:
    """How ``camp``'s source files are read: as they were when it was created."""
    return FileReading.from_options(camp.reading) if camp.reading else PLAIN


def check_send(
    ws: Workspace, campaign_id: int, *, resume: bool, email: bool, at: dt.datetime
) -> Campaign:
    """The campaign, once it may be sent now: its grant approved (Refused otherwise), not
    started unless ``resume``, and an SMTP server given (``email``) when it sends e-mail
    (BadInput otherwise)."""
    camp = load_campaign(ws, campaign_id)
    assert camp.grant_id is not None
    state = _grant_state(ws, camp.grant_id, at)
    if state != "active":
        raise Refused.msg("notices.not_approved", id=campaign_id, grant=camp.grant_id, state=state)
    if camp.status != "created" and not resume:
        raise BadInput.msg("notices.started", id=campaign_id)
    if "email" in camp.channels and not email:
        raise BadInput.msg("notices.no_smtp", id=campaign_id)
    return camp


def send_claims(campaign_id: int, source: str | Path, **_: object) -> tuple[Claim, ...]:
    """What sending campaign ``campaign_id`` from ``source`` holds while it runs: the
    campaign alone (one sender at a time)."""
    return uses((source,), alone=(f"campaign:{campaign_id}",))


@claiming("notices.send", send_claims)
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
    progress: Progress | None = None,
    smtp_connections: int = 1,
    authorized: Decision | None = None,
) -> SendReport:
    """Send campaign ``campaign_id`` (its people read from ``source``, the same source it
    was created on); see the module text. ``channels`` replaces the channel built from
    ``smtp`` (other transports). Each channel is a task of ``progress`` (its pending
    notices, advanced as they are settled). ``authorized``: the ``notices.send``
    decision taken already (:func:`authorize_send`, by the console before its job).
    A drill's campaign never gets a real channel, whatever it is handed."""
    prog: Progress = progress or NoProgress()
    at = now()
    decision = authorize_send(ws, campaign_id, source, when=at, authorized=authorized)
    built: dict[str, Channel] = dict(channels or {})
    drill = load_campaign(ws, campaign_id)
    if drill.drill:
        built = {ch: DrillChannel(ch) for ch in drill.channels}
    camp = check_send(
        ws, campaign_id, resume=resume, email=smtp is not None or "email" in built, at=at
    )
    restriction = Restriction.from_json(camp.restriction) if camp.restriction else None
    events = Recorder(ws, decision.actor)
    purpose = purpose_of(camp.kind)
    if "email" in camp.channels and "email" not in built:
        assert smtp is not None
        built["email"] = (
            SmtpPool(smtp, smtp_connections) if smtp_connections > 1 else SmtpChannel(smtp)
        )
    if "sms" in camp.channels and "sms" not in built and sms is not None:
        if sms.proxy is None:  # the sms_proxy setting, else the environment's proxy
            sms = replace(sms, proxy=ws.settings.sms_proxy_for(sms.endpoint))
        built["sms"] = AliyunSmsChannel(sms)
    if "letter" in camp.channels and "letter" not in built:
        built["letter"] = LetterChannel(
            letters_folder(ws, campaign_id),
            Letterhead(
                camp.content.get("seller_name", ""),
                camp.content.get("seller_contact", ""),
                camp.lang,
            ),
            today=lambda: china_date(now()),
        )
    if camp.status == "created":
        # Queueing starts the campaign (a retry then needs --resume): every channel is
        # connected and authenticated first, so a server that cannot be reached, a login
        # refused or a letters folder not writable leaves it as it was.
        for ch in camp.channels:
            if ch in built:
                _try_channel(built[ch])
    lease = take_lease(ws, campaign_id)
    try:
        people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
        prog.phase(Msg("notices.phase.audience"))
        queued_now = None
        # the HMACs of the audience's keys and of the addresses' tags run in a worker
        # process beside the reading and the keys of the notices (large campaigns)
        from handover.deid.extract import token_key

        with tokenizer_process(ws, token_key(ws, events)) as tagger:
            with open_source(source, reading=reading_of(camp)) as src:
                audience = derive_audience(src, people, tagger, restriction)
            if camp.status == "created":
                queued_now = queue(ws, campaign_id, audience, tagger=tagger, now=now)
        # counts as queued: the audience's, the notices per channel, the people no
        # channel of the campaign reaches (listed as unreachable)
        summary = load_campaign(ws, campaign_id).summary
        if queued_now is not None:
            events("notices.campaign.queue", f"campaign {campaign_id}", purpose, summary)
        elif camp.fingerprint != audience.fingerprint:
            raise BadInput.msg("notices.source_changed", id=campaign_id, source=camp.source)
        composer = Composer(camp, audience)
        lost = audience.unreachable.num_rows + int(summary.get("no_channel") or 0)
        report = SendReport(campaign_id, queued_now, unreachable=lost)
        if "letter" in camp.channels:
            # an SMS the carrier could not deliver (receipt) falls back to a letter too
            report.fallback_undelivered = fallback_undelivered(
                ws, campaign_id, composer.has_address
            )
        folder = ws.path / "notices"
        for ch in camp.channels:
            if ch not in built:
                report.skipped_channels.append(ch)
                continue
            journal = Journal(folder / f"campaign-{campaign_id}-{ch}.journal")
            prog.task(ch, pending(ws, campaign_id, [ch]))
            try:
                stats = send_channel(
                    ws,
                    campaign_id,
                    built[ch],
                    lambda c, ch=ch: composer.compose(ch, c),  # type: ignore[misc]
                    journal=journal,
                    events=events,
                    batch=batch,
                    # the rate follows the injected clock, like the backoff
                    rate=RateLimit(rate, monotonic=lambda: now().timestamp(), sleep=sleep),
                    backoff=backoff,
                    fallback=composer.has_address if "letter" in camp.channels else None,
                    now=now,
                    sleep=sleep,
                    progress=prog.advance,
                    purpose=purpose,
                )
            finally:
                journal.close()
            report.channels.append(stats)
        report.outbox = counts(ws, campaign_id)
        report.pending = pending(ws, campaign_id, camp.channels)
        finished = False
        with ws.store.session() as s:
            row = s.get(NoticeCampaignRow, campaign_id)
            assert row is not None
            if report.pending == 0 and row.status != "done":
                row.status, row.finished_at = "done", now()
                finished = True
        events(
            "notices.campaign.send",
            f"campaign {campaign_id}",
            purpose,
            {
                "channels": [c.to_json() for c in report.channels],
                "outbox": report.outbox,
                "pending": report.pending,
                "resume": resume,
                "drill": camp.drill,
            },
        )
        if finished and camp.incident_id is not None:
            report.obligation = _incident_told(ws, camp, report, events, now)
        return report
    finally:
        release_lease(ws, campaign_id, lease)


def _try_channel(channel: Channel) -> None:
    """Open and close ``channel``: :class:`ChannelDown` when it cannot send at all (an SMS
    provider is only known to answer at its first call)."""
    channel.open()
    channel.close()


def _incident_told(
    ws: Workspace, camp: Campaign, report: SendReport, events: Recorder, now: Now
) -> int | None:
    """A breach campaign has settled every notice: the incident's duty to tell the
    individuals (PIPL Art. 57) is met now, with the campaign's counts as its note."""
    from handover.incidents.duties import notice_campaign_done

    assert camp.incident_id is not None
    sent = sum(st.get("sent", 0) + st.get("delivered", 0) for st in report.outbox.values())
    failed = sum(st.get("failed", 0) + st.get("undelivered", 0) for st in report.outbox.values())
    ob = notice_campaign_done(
        ws,
        camp.incident_id,
        camp.id,
        counts={"sent": sent, "failed": failed, "unreachable": report.unreachable},
        met_by=events.actor,
        events=events,
        clock=now,
    )
    return ob.id if ob is not None else None


def letters_folder(ws: Workspace, campaign_id: int) -> Path:
    """Where a campaign's letter PDFs are written (inside the workspace)."""
    return ws.path / "notices" / f"campaign-{campaign_id}" / "letters"


def _tagger(ws: Workspace, events: Any) -> Callable[[Any], Any]:
    """Keyed tokens under the transfer's tokenize key (the same key as the audience)."""
    from handover.crypto.tokenize import tokenizer
    from handover.deid.extract import token_key

    key_id = token_key(ws, events)
    # the secret is read once, and only when there is something to tag
    tokens = functools.cache(lambda: tokenizer(ws, key_id))
    return lambda values: tokens()(values)


def record_receipts(
    ws: Workspace, campaign_id: int, reports: Any, *, actor: str | None = None
) -> dict[str, int]:
    """Apply SMS delivery receipts (``SmsReport`` JSON array) to the campaign's outbox and
    record the counts (never a number) in the ledger. Authorised as ``notices.receipts``."""
    camp = load_campaign(ws, campaign_id)
    who = require(ws, NOTICES_RECEIPTS, "*", actor=actor).actor
    tagger = _tagger(ws, Recorder(ws, who))
    found = parse_reports(reports)
    result = apply_receipts(ws, campaign_id, found, tagger=tagger)
    result["malformed"] = _entries(reports) - len(found)
    record(ws, who, "notices.receipts", f"campaign {campaign_id}", purpose_of(camp.kind), result)
    return result


def _entries(data: Any) -> int:
    """How many entries a provider's JSON holds (a non-list is one malformed entry)."""
    return len(data) if isinstance(data, list) else 1


def push_receipts(ws: Workspace, data: Any, *, actor: str | None = None) -> dict[str, int]:
    """Delivery receipts the provider pushes (``SmsReport`` JSON array, any campaign):
    each applied to the campaign whose SMS carries its ``biz_id``; the counts per campaign
    and those of receipts matching no notice yet (``unmatched``: the provider is to push
    them again) or unreadable (``malformed``) go to the ledger — no number ever does."""
    who = require(ws, NOTICES_RECEIPTS, "*", actor=actor).actor
    found = parse_reports(data)
    total = {"delivered": 0, "undelivered": 0, "ignored": 0, "unmatched": 0}
    total["malformed"] = _entries(data) - len(found)
    groups = receipt_campaigns(ws, found)
    total["unmatched"] += len(groups.pop(None, []))
    tagger = _tagger(ws, Recorder(ws, who))
    for cid, batch in sorted((k, v) for k, v in groups.items() if k is not None):
        camp = load_campaign(ws, cid)
        res = apply_receipts(ws, cid, batch, tagger=tagger)
        record(ws, who, "notices.receipts", f"campaign {cid}", purpose_of(camp.kind), res)
        for k, n in res.items():
            total[k] += n
    record(ws, who, "notices.receipts.push", "sms provider", PURPOSE, total)
    return total


def _record_replies(
    ws: Workspace, camp: Campaign, found: list[Reply], actor: str, extra: dict[str, int]
) -> dict[str, int]:
    """Store replies and record each (recipient token, kind, how, digest) and the counts."""
    from dataclasses import replace

    from handover.ledger import Event, record_many

    if camp.kind != "consent":
        # In reply to a notice, "Y" or "N" answers no question asked: a person reads it.
        found = [replace(r, kind="other") if r.kind.startswith("consent_") else r for r in found]
    counted, stored = replies.record(ws, camp.id, found, actor=actor)
    result = {**extra, **counted}
    record_many(
        ws,
        [
            Event(
                "notices.reply",
                f"campaign {camp.id} recipient {r.recipient}",
                PURPOSE,
                {"kind": r.kind, "via": r.via, "content_sha256": r.content_sha256},
                actor=actor,
            )
            for r in stored
        ]
        + [Event("notices.replies", f"campaign {camp.id}", PURPOSE, result, actor=actor)],
    )
    return result


def import_replies(
    ws: Workspace,
    campaign_id: int,
    data: Any,
    *,
    actor: str | None = None,
    now: Now = utcnow,
) -> dict[str, int]:
    """Record the SMS replies of a ``SmsUp`` JSON array: each classified (objection,
    opt-out, deletion, yes/no to consent, other) and matched to its person by the keyed
    token of the number; a reply matching nobody is counted, never stored."""
    camp = load_campaign(ws, campaign_id)
    actor = require(ws, NOTICES_RECEIPTS, "*", actor=actor).actor
    ups = replies.parse_sms_up(data)
    tagger = _tagger(ws, Recorder(ws, actor))
    found, _ = _match_replies(ws, campaign_id, ups, tagger, now())
    return _record_replies(ws, camp, found, actor, {"unmatched": len(ups) - len(found)})


def _match_replies(
    ws: Workspace, campaign_id: int, ups: list[Any], tagger: Any, at: dt.datetime
) -> tuple[list[Reply], list[Any]]:
    """The replies of ``ups`` whose number is a recipient of the campaign's SMS, and the
    ups left unmatched."""
    from handover.crypto.digest import sha256_hex

    who = replies.recipients_by_tag(ws, campaign_id, "sms", [u.phone for u in ups], tagger)
    found = [
        Reply(
            rcpt,
            replies.classify(u.content),
            "sms",
            replies.reply_ref("sms", u.sequence_id),
            sha256_hex(u.content.encode()),
            at,
        )
        for u, rcpt in zip(ups, who, strict=True)
        if rcpt is not None
    ]
    return found, [u for u, rcpt in zip(ups, who, strict=True) if rcpt is None]


def push_replies(
    ws: Workspace, data: Any, *, actor: str | None = None, now: Now = utcnow
) -> dict[str, int]:
    """People's SMS replies the provider pushes (``SmsUp`` JSON array): each recorded for
    the newest campaign that texted that number (matched by keyed token), classified as
    :func:`import_replies` does; a reply matching no campaign is counted, never stored."""
    who = require(ws, NOTICES_RECEIPTS, "*", actor=actor).actor
    ups = replies.parse_sms_up(data)
    total = {"recorded": 0, "unmatched": 0, "malformed": _entries(data) - len(ups)}
    tagger = _tagger(ws, Recorder(ws, who))
    at = now()
    for camp in list_campaigns(ws, newest_first=True):
        if not ups:
            break
        if "sms" not in camp.channels:
            continue
        found, ups = _match_replies(ws, camp.id, ups, tagger, at)
        if found:
            _record_replies(ws, camp, found, who, {"unmatched": 0})
            total["recorded"] += len(found)
    total["unmatched"] = len(ups)
    record(ws, who, "notices.replies.push", "sms provider", PURPOSE, total)
    return total


def record_reply(
    ws: Workspace,
    campaign_id: int,
    kind: str,
    *,
    via: str = "letter",
    reference: str | None = None,
    mobile: str | None = None,
    email: str | None = None,
    actor: str | None = None,
    now: Now = utcnow,
) -> dict[str, Any]:
    """Record one answer entered by staff (from a letter, a call, the counter): the person
    named by the reference printed on their notice, or by their mobile or e-mail (held
    in memory only, matched by keyed token). Authorised as ``notices.receipts`` before
    anything is looked up: an opt-out cancels notices, and a match tells who is a
    customer."""
    who = require(ws, NOTICES_RECEIPTS, "*", actor=actor).actor
    camp = load_campaign(ws, campaign_id)
    if kind not in replies.KINDS:
        raise BadInput.msg("notices.bad_reply_kind", kind=kind, kinds=", ".join(replies.KINDS))
    if via not in replies.VIA:
        raise BadInput.msg("notices.bad_channel", channel=via, channels=", ".join(replies.VIA))
    if kind.startswith("consent_") and camp.kind != "consent":
        raise BadInput.msg("notices.not_consent", id=campaign_id)
    given = [
        (w, v) for w, v in (("reference", reference), ("mobile", mobile), ("email", email)) if v
    ]
    if len(given) != 1:
        raise BadInput.msg("notices.reply_who")
    what, value = given[0]
    if what == "reference":
        rcpt = replies.recipient_by_reference(ws, campaign_id, value)
    else:
        from handover.notices.sms import normalize_mobile

        channel = "sms" if what == "mobile" else "email"
        addr = normalize_mobile(value) if what == "mobile" else value.strip().lower()
        tagger = _tagger(ws, Recorder(ws, who))
        rcpt = replies.recipients_by_tag(ws, campaign_id, channel, [addr], tagger)[0]
    if rcpt is None:
        raise BadInput.msg("notices.reply_unknown_person", id=campaign_id, what=what)
    at = now()
    ref = replies.reply_ref(via, f"{rcpt}:{kind}:{at.isoformat()}")
    reply = Reply(rcpt, kind, via, ref, None, at)
    result = _record_replies(ws, camp, [reply], who, {})
    return {"campaign": campaign_id, "recipient": rcpt, "kind": kind, **result}


def announce_campaign(
    ws: Workspace,
    campaign_id: int,
    *,
    out: Path | None = None,
    text_template: Path | None = None,
    html_template: Path | None = None,
    now: Now = utcnow,
) -> Announcement:
    """Write the public announcement for the people the campaign could not reach one by
    one (unreachable rows and people no channel reached) and record its SHA-256s."""
    from handover.governance import current_actor
    from handover.notices.report import report_data

    camp = load_campaign(ws, campaign_id)
    if camp.drill:
        # A drill publishes nothing a customer could read as a real announcement.
        raise BadInput.msg("notices.drill_no_announcement", id=campaign_id)
    data = report_data(ws, camp)
    # the unreachable source rows, and the people not reached (those no channel of the
    # campaign reaches among them: listed as unreachable too, counted once)
    unreached = len(data["unreachable"]) - data["no_channel"] + data["not_reached"]
    folder = out or ws.path / "notices" / f"campaign-{campaign_id}"
    ann = write_announcement(
        camp,
        folder,
        unreachable=unreached,
        published=china_date(now()),
        text_template=text_template,
        html_template=html_template,
    )
    record(
        ws,
        current_actor(ws),
        "notices.announcement",
        f"campaign {campaign_id}",
        purpose_of(camp.kind),
        {"unreachable": unreached, "sha256": ann.sha256, "files": [ann.html.name, ann.pdf.name]},
    )
    return ann


def campaign_report(
    ws: Workspace,
    campaign_id: int,
    *,
    lang: str | None = None,
    out: Path | None = None,
    now: Now = utcnow,
) -> list[Path]:
    """Write the campaign report (XLSX + HTML) and record the files' SHA-256s."""
    from handover.crypto.digest import sha256_hex
    from handover.governance import current_actor
    from handover.notices.report import write_report

    camp = load_campaign(ws, campaign_id)
    folder = out or ws.path / "reports" / "notices"
    files = write_report(ws, camp, folder, lang or ws.settings.lang, generated=now())
    record(
        ws,
        current_actor(ws),
        "notices.report",
        f"campaign {campaign_id}",
        purpose_of(camp.kind),
        {f.name: sha256_hex(f.read_bytes()) for f in files},
    )
    return files


def campaign_status(ws: Workspace, campaign_id: int, *, now: Now = utcnow) -> dict[str, Any]:
    """The campaign, its outbox counts per channel and state, the replies, its reach
    (per channel: addressable, notices, sent, delivered, failed, pending; people told and
    not reached, unreachable rows counted) and its grant's approvals — counts only, no
    personal data."""
    from handover.governance.grants import list_grants
    from handover.notices.report import report_data

    camp = load_campaign(ws, campaign_id)
    data = report_data(ws, camp)
    grant = next((g for g in list_grants(ws, now=now()) if g.id == camp.grant_id), None)
    return {
        **camp.to_json(),
        "outbox": counts(ws, campaign_id),
        "replies": data["replies"],
        "reach": data["channels"],
        "people": data["people"],
        "not_reached": data["not_reached"],
        "unreachable": len(data["unreachable"]),
        "grant": grant.to_json() if grant is not None else None,
    }


def preview(ws: Workspace, campaign_id: int, channel: str, *, html: bool = False) -> str:
    """The campaign's notice on ``channel`` (e-mail as text, or its HTML with ``html``)
    rendered for a sample person whose name is masked; no customer value is read."""
    from handover.notices.templates import preview as render_preview

    camp = load_campaign(ws, campaign_id)
    if channel not in camp.channels:
        raise BadInput.msg(
            "notices.bad_channel", channel=channel, channels=", ".join(camp.channels)
        )
    kinds = camp.templates_of(channel)
    kind, fmt = kinds[1] if html and channel == "email" else kinds[0]
    return render_preview(camp.renderer(kind, fmt), camp.lang)


@dataclass
class DemoNotices:
    """What the demo's notice campaign did (counts and file names only)."""

    campaign: int
    emails: int
    sms: int
    delivered: int
    letters: int
    pdfs: int
    replies: int
    unreachable: int
    files: list[Path] = field(default_factory=list)


#: the demo cast's approvers of the campaign grant (governance/demo.py)
DEMO_APPROVERS = ("zhoujie", "liqiang")
DEMO_REPLIES = ("TD", "我反对", "请删除我的信息")


def demo_campaign(
    ws: Workspace, source: Path, *, lang: str, tables: Sequence[str] = ("cust_info",)
) -> DemoNotices:
    """The demo's campaign: a local SMTP server and the SMS stand-in are started, the
    campaign is created, approved by two approvers, sent by e-mail, SMS and letter,
    receipts and a few replies are applied, the announcement and report written; the
    servers are stopped whatever happens."""
    import secrets

    from handover.notices.standin import NOTICE_TEMPLATES, SmsStandin, SmtpSink

    transfer = ws.settings.transfer
    seller = transfer.seller.name if transfer is not None else "handover"
    secret = secrets.token_hex(16)
    sms = SmsStandin(
        keys={"LTAIdemo": secret},
        templates={"SMS_DEMO": NOTICE_TEMPLATES[lang]},
        sign_names={seller},
        per_second=1_000_000,
        fail_every=12,
    )
    sink = SmtpSink()
    sms.start()
    try:
        port = sink.start()
        camp = create_campaign(
            ws,
            source,
            name="演示告知 / demo notices",
            channels=["email", "sms", "letter"],
            lang=lang,
            tables=tables,
            link="https://buyer.example.cn/notice",
        )
        for approver in DEMO_APPROVERS:
            approve_campaign(ws, camp.id, actor=approver)
        mail = SmtpConfig("127.0.0.1", port, f"dpo@{_domain(ws)}", security="none")
        text = AliyunSmsConfig(sms.url, "LTAIdemo", secret, seller, "SMS_DEMO")
        send_campaign(ws, camp.id, source, smtp=mail, sms=text, batch=500, smtp_connections=4)
        receipts = record_receipts(ws, camp.id, list(sms.reports))
        # undelivered SMS fall back to letters: the resumed run writes them
        report = send_campaign(ws, camp.id, source, smtp=mail, sms=text, resume=True, batch=500)
        for phone, said in zip((a["phone"] for a in sms.accepted), DEMO_REPLIES, strict=False):
            sms.replies.append({"phone_number": phone, "content": said, "sequence_id": phone})
        answered = import_replies(ws, camp.id, list(sms.replies))
        ann = announce_campaign(ws, camp.id)
        files = [ann.html, ann.pdf, *campaign_report(ws, camp.id, lang=lang)]
    finally:
        sink.stop()
        sms.stop()
    out = report.outbox
    return DemoNotices(
        campaign=camp.id,
        emails=sink.received,
        sms=len(sms.accepted),
        delivered=receipts["delivered"],
        letters=out.get("letter", {}).get("sent", 0),
        pdfs=len(list(letters_folder(ws, camp.id).glob("*.pdf"))),
        replies=answered["recorded"],
        unreachable=ann.unreachable,
        files=files,
    )


def _domain(ws: Workspace) -> str:
    transfer = ws.settings.transfer
    email = (transfer.seller.email if transfer is not None else "") or "dpo@seller.example.cn"
    return email.rpartition("@")[2] or "seller.example.cn"
