"""``handover incidents`` / ``handover drills``: authorise (``incident.report`` to report an
event, ``incident.tick`` to run the checks — also as the ``incident_clock`` service
account from cron — ``incident.manage`` for every decision), run the incidents
kernel with the ledger as its event sink under the deciding person's name, render and
hash reports. See docs/incidents.md.

Every function takes ``clock`` (default the system clock): the time a step happens is
injected, so drills and tests run against any "now".
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from handover.errors import BadInput
from handover.governance import Decision, require
from handover.governance.policy import INCIDENT_MANAGE, INCIDENT_REPORT, INCIDENT_TICK
from handover.i18n import t
from handover.incidents import duties, records
from handover.incidents import incidents as kernel
from handover.incidents.alerts import MailPlan
from handover.incidents.drills import (
    Drill,
    finish_drill,
    list_drills,
    next_drill,
    schedule_drill,
    start_drill,
)
from handover.incidents.duties import OpenDuty, Tick
from handover.incidents.records import Clock, FollowUp, Incident, Obligation
from handover.incidents.report import breach_notice, report_document, timeline
from handover.incidents.rules import Rules, workspace_rules
from handover.ledger import Recorder, entries, system_clock
from handover.notices.channels import Channel
from handover.settings import IncidentSettings
from handover.sources import PLAIN, FileReading
from handover.workspace import Workspace


def _conf(ws: Workspace) -> IncidentSettings:
    return ws.settings.incidents


def rules_of(ws: Workspace) -> Rules:
    """The workspace's deadline rules: its ``[incidents] rules`` file (relative to the
    workspace) or the built-in ``rules.toml``; checked completely."""
    return workspace_rules(ws)


def _manage(ws: Workspace, clock: Clock, actor: str | None = None) -> Decision:
    return require(ws, INCIDENT_MANAGE, "*", actor=actor, now=clock())


def _sink(ws: Workspace, decision: Decision) -> Recorder:
    return Recorder(ws, decision.actor)


def _clock_check(ws: Workspace, clock: Clock) -> Decision:
    """Who runs ``tick`` / ``warn``: the service account whose token is in
    ``HANDOVER_SERVICE_TOKEN`` (a cron job, no session needed), else whoever is logged in."""
    from handover.governance.service import service_actor

    token = ws.settings.service_token
    actor = service_actor(ws, token.get_secret_value(), now=clock()) if token else None
    return require(ws, INCIDENT_TICK, "*", actor=actor, now=clock())


def local_time(ws: Workspace, value: str | None, field: str) -> dt.datetime | None:
    """An ISO 8601 time from the command line; without an offset it is read in the
    workspace's time zone (``[incidents] timezone``)."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput.msg("incidents.bad_time", field=field, value=value) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(_conf(ws).timezone))
    try:  # a time UTC cannot hold (0001-01-01 at UTC+8) names its field, as any bad time
        parsed.astimezone(dt.UTC)
    except OverflowError:
        raise BadInput.msg("incidents.bad_time", field=field, value=value) from None
    return parsed


# --- events and incidents ----------------------------------------------------------------------


def report_event(
    ws: Workspace,
    title: str,
    *,
    noticed_at: dt.datetime,
    noticed_by: str | None = None,
    description: str = "",
    systems: Sequence[str] = (),
    data: Sequence[str] = (),
    clock: Clock = system_clock,
    actor: str | None = None,
) -> records.SecurityEvent:
    """Record a security event (anyone registered may): ``incident.event.record``.
    ``actor``: who reports (default: the person logged in), as in every step here."""
    records.not_future(noticed_at, "noticed_at", clock, _conf(ws).timezone)
    decision = require(ws, INCIDENT_REPORT, "*", actor=actor, now=clock())
    return kernel.record_event(
        ws,
        title,
        noticed_at=noticed_at,
        noticed_by=noticed_by or decision.actor,
        reported_by=decision.actor,
        description=description,
        systems=systems,
        data=data,
        events=_sink(ws, decision),
        clock=clock,
    )


def dismiss_event(
    ws: Workspace,
    event_id: int,
    *,
    reason: str,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> records.SecurityEvent:
    """Decide an event is no incident, with the reason."""
    decision = _manage(ws, clock, actor)
    return kernel.dismiss_event(
        ws,
        event_id,
        reason=reason,
        decided_by=decision.actor,
        events=_sink(ws, decision),
        clock=clock,
    )


def promote(
    ws: Workspace,
    event_id: int,
    *,
    reason: str,
    clock: Clock = system_clock,
    actor: str | None = None,
    **options: Any,
) -> kernel.Promotion:
    """Promote an event to an incident by the deciding person's recorded decision; the
    affected people are counted from the newest stored scan inventory (see
    :func:`handover.incidents.incidents.promote` for ``options``)."""
    from handover.detect.store import latest_inventory

    aware = records.not_future(options.get("aware_at"), "aware_at", clock, _conf(ws).timezone)
    if aware is not None:  # checked again under the event's lock (kernel.promote)
        noticed = records.get_event(ws, event_id).noticed_at
        records.not_before_noticed(aware, event_id, noticed, _conf(ws).timezone)
    kernel.check_counts(
        options.get("people"), options.get("people_reason"), options.get("direct_loss_cny")
    )
    decision = _manage(ws, clock, actor)
    return kernel.promote(
        ws,
        event_id,
        decided_by=decision.actor,
        reason=reason,
        rules=rules_of(ws),
        conf=_conf(ws),
        inventory=latest_inventory(ws),
        events=_sink(ws, decision),
        clock=clock,
        **options,
    )


def regrade(
    ws: Workspace,
    incident_id: int,
    *,
    clock: Clock = system_clock,
    actor: str | None = None,
    **options: Any,
) -> Incident:
    """Raise an incident's grade (new count, loss or a decided grade with its reason); a
    negative count or loss is refused before anything is authorised or recorded."""
    kernel.check_counts(
        options.get("people"),
        options.get("reason"),
        options.get("direct_loss_cny"),
        people_key=kernel.REGRADE_PEOPLE,
    )
    rules = rules_of(ws)
    decision = _manage(ws, clock, actor)
    return kernel.regrade(
        ws,
        incident_id,
        decided_by=decision.actor,
        rules=rules,
        conf=_conf(ws),
        events=_sink(ws, decision),
        clock=clock,
        **options,
    )


def set_facts(
    ws: Workspace,
    incident_id: int,
    updates: dict[str, str],
    *,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Incident:
    """Add report facts to an incident."""
    decision = _manage(ws, clock, actor)
    return kernel.set_facts(ws, incident_id, updates, events=_sink(ws, decision), clock=clock)


def decide_individuals(
    ws: Workspace,
    incident_id: int,
    *,
    notify: bool,
    reason: str,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Obligation:
    """PIPL Art. 57 ¶2: record whether the individuals are told, and why."""
    decision = _manage(ws, clock, actor)
    return duties.decide_individuals(
        ws,
        incident_id,
        notify=notify,
        reason=reason,
        decided_by=decision.actor,
        events=_sink(ws, decision),
        clock=clock,
    )


def obligation_met(
    ws: Workspace,
    obligation_id: int,
    *,
    note: str,
    at: dt.datetime | None = None,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Obligation:
    """Record a duty met outside handover (a call, a letter), with a note; ``at`` is
    neither in the future nor before the duty's clock started."""
    records.not_future(at, "at", clock, _conf(ws).timezone)
    decision = _manage(ws, clock, actor)
    return duties.mark_met(
        ws,
        obligation_id,
        note=note,
        met_by=decision.actor,
        at=at,
        events=_sink(ws, decision),
        clock=clock,
    )


def mark_handled(
    ws: Workspace,
    incident_id: int,
    *,
    at: dt.datetime | None = None,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Incident:
    """Handling ended: the summary-report clocks start."""
    records.not_future(at, "at", clock, _conf(ws).timezone)
    decision = _manage(ws, clock, actor)
    return kernel.mark_handled(
        ws,
        incident_id,
        rules=rules_of(ws),
        conf=_conf(ws),
        at=at,
        events=_sink(ws, decision),
        clock=clock,
    )


def add_action(
    ws: Workspace,
    incident_id: int,
    what: str,
    *,
    owner: str,
    due_on: dt.date,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> FollowUp:
    """A follow-up action with its owner (a registered person) and due date."""
    from handover.governance.people import get_person

    decision = _manage(ws, clock, actor)
    get_person(ws, owner)  # the owner must be someone who can be held to it
    return kernel.add_action(
        ws, incident_id, what, owner=owner, due_on=due_on, events=_sink(ws, decision), clock=clock
    )


def finish_action(
    ws: Workspace, action_id: int, *, clock: Clock = system_clock, actor: str | None = None
) -> FollowUp:
    """Mark a follow-up action done."""
    decision = _manage(ws, clock, actor)
    return kernel.finish_action(ws, action_id, events=_sink(ws, decision), clock=clock)


def close(
    ws: Workspace,
    incident_id: int,
    *,
    root_cause: str,
    lessons: str,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Incident:
    """Close a handled incident with its review."""
    decision = _manage(ws, clock, actor)
    return kernel.close(
        ws,
        incident_id,
        root_cause=root_cause,
        lessons=lessons,
        closed_by=decision.actor,
        events=_sink(ws, decision),
        clock=clock,
    )


def mail_plan(ws: Workspace) -> MailPlan | None:
    """Who gets the reminder and escalation e-mails (``[incidents.mail]``), or None."""
    m = _conf(ws).mail
    if m is None:
        return None
    return MailPlan(tuple(m.to), tuple(m.escalate_to), dict(m.people))


def mail_channel(ws: Workspace) -> Channel | None:
    """The SMTP channel of ``[incidents.mail]`` (the notices room's), or None."""
    from handover.notices.channels import SmtpChannel, SmtpConfig

    m = _conf(ws).mail
    if m is None:
        return None
    password = ws.settings.smtp_password
    return SmtpChannel(
        SmtpConfig(
            host=m.host,
            port=m.port,
            sender=m.sender,
            security=m.security,
            username=m.username,
            password=password.get_secret_value() if password is not None else None,
            cafile=str(m.cafile) if m.cafile is not None else None,
        )
    )


def tick(ws: Workspace, *, clock: Clock = system_clock, channel: Channel | None = None) -> Tick:
    """Reminders at 80 % of each open duty's time, escalations once missed (ledger
    events), each e-mailed to the DPO and the people responsible when ``[incidents.mail]``
    is set; then every due mail is sent (``channel`` replaces the configured SMTP one).
    The clocks are recorded even when the mail server cannot be reached: those mails stay
    queued for the next tick (``Tick.sent.stopped`` says why)."""
    from handover.incidents import alerts

    decision = _clock_check(ws, clock)
    sink = _sink(ws, decision)
    plan = mail_plan(ws)
    result = duties.tick(ws, events=sink, clock=clock, mail=plan)
    chan = channel or mail_channel(ws)
    if chan is not None:
        result.sent = alerts.send(ws, chan, events=sink, clock=clock, timezone=_conf(ws).timezone)
    return result


def incident_timeline(ws: Workspace, incident_id: int) -> list[dict[str, Any]]:
    """The incident's steps, derived from the ledger."""
    inc = records.get_incident(ws, incident_id)
    return timeline(entries(ws, action="incident"), inc)


@dataclass
class Status:
    """Open duties with time left (soonest first), when the next drill is due, and the
    reminder e-mails not sent yet."""

    at: dt.datetime
    duties: list[OpenDuty]
    next_drill: dict[str, Any]
    mails_pending: int = 0

    @property
    def overdue(self) -> list[OpenDuty]:
        """The open duties whose deadline has passed."""
        return [d for d in self.duties if d.obligation.due_at <= self.at]

    def to_json(self) -> dict[str, Any]:
        """Machine form (``--json``)."""
        return {
            "at": self.at.isoformat(),
            "obligations": [d.to_json(self.at) for d in self.duties],
            "open": len(self.duties),
            "overdue": len(self.overdue),
            "next_drill": self.next_drill,
            "alert_mails_pending": self.mails_pending,
        }


def status(ws: Workspace, *, clock: Clock = system_clock) -> Status:
    """Every open duty with the time left at now, when the next drill is due, and the
    reminder e-mails still waiting (shown by ``incidents status`` and ``handover status``)."""
    from handover.incidents.alerts import pending_count

    now = records.utc(clock())
    return Status(now, duties.open_duties(ws), next_drill(ws, _conf(ws), now), pending_count(ws))


# --- reports and notices -----------------------------------------------------------------------


def _operator(ws: Workspace) -> dict[str, str]:
    t = ws.settings.transfer
    if t is None:
        return {}
    s = t.seller
    return {"name": s.name, "contact": " ".join(x for x in (s.contact, s.phone, s.email) if x)}


def file_report(
    ws: Workspace,
    incident_id: int,
    kind: str,
    *,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> records.Report:
    """Write report ``kind`` of the incident (HTML, PDF and DOCX, zh-CN and en, and its JSON)
    into the workspace's reports folder, hash every file into the ledger and mark the
    duties it meets. Refused for a closed incident; on failure nothing is left behind."""
    from handover.crypto.digest import sha256_file
    from handover.reports.incident import write_renderings

    inc = records.get_incident(ws, incident_id)
    number = kernel.check_report(inc, kind)  # before authorising: refused input records nothing
    decision = _manage(ws, clock, actor)
    event = records.get_event(ws, inc.event_id)
    folder = ws.settings.reports_dir / "incidents" / f"incident-{inc.id}" / f"{kind}-{number}"
    if folder.exists():
        raise BadInput.msg("incidents.report_exists", path=folder)
    doc = report_document(
        inc,
        kind,
        number=number,
        operator=_operator(ws),
        systems=event.systems,
        data=event.data,
        steps=timeline(entries(ws, action="incident"), inc),
        now=clock(),
        prepared_by=decision.actor,
        timezone=_conf(ws).timezone,
    )
    try:
        paths = write_renderings(doc, folder)
        files = {p.name: sha256_file(p) for p in paths}
        return kernel.register_report(
            ws,
            incident_id,
            kind,
            folder=str(folder),
            files=files,
            filed_by=decision.actor,
            events=_sink(ws, decision),
            clock=clock,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def prepare_notice(
    ws: Workspace, incident_id: int, *, audience: str = "customers", clock: Clock = system_clock
) -> dict[str, Any]:
    """The PIPL Art. 57 notice content and its audience, for the notices engine to send
    and track; recorded as ``incident.notice.prepare``. Nothing is sent here."""
    from handover.crypto.digest import sha256_hex
    from handover.ledger.canonical import canonical_json_of

    inc = records.get_incident(ws, incident_id)
    if inc.status == "closed":
        raise BadInput.msg("incidents.closed", id=incident_id)
    decision = _manage(ws, clock)
    participants: list[str] = []
    if inc.drill_id is not None:
        participants = next(d.participants for d in list_drills(ws) if d.id == inc.drill_id)
    contact = _operator(ws).get("contact", "")
    notice = breach_notice(inc, audience=audience, participants=participants, contact=contact)
    _sink(ws, decision)(
        "incident.notice.prepare",
        f"incident {incident_id}",
        records.PURPOSE,
        {
            "incident": incident_id,
            "at": records.utc(clock()).isoformat(),
            "audience": notice["audience"]["kind"],
            "people_estimate": notice["audience"].get("people_estimate"),
            "content_sha256": sha256_hex(canonical_json_of(notice["content"])),
            "sent": False,
        },
    )
    return notice


def notify_individuals(
    ws: Workspace,
    incident_id: int,
    source: str | Any,
    *,
    channels: Sequence[str] = ("email", "sms", "letter"),
    link: str | None = None,
    lang: str | None = None,
    templates: dict[str, Any] | None = None,
    sms_max_chars: int | None = None,
    clock: Clock = system_clock,
    reading: FileReading = PLAIN,
) -> Any:
    """Create the PIPL Art. 57 campaign of the incident in the notices engine: its element
    texts from the incident (categories, cause, possible harm, remedies, what the person
    can do, contact), its audience limited to the people of the leaked tables and columns
    (:func:`handover.notices.audience.restriction_for`), maker-checker as for every
    campaign (``notices approve``, then ``notices send``). When the campaign has settled
    every notice the individuals duty is met. Refused when the individuals are not to be
    told (waiver), for a closed incident, or when no leaked table is known. A drill's
    campaign sends through the drill channel only: nobody real is reached. ``reading``:
    how the source's files are read (``--no-header``, ``--allow-bad-rows``)."""
    from handover.flows.notices import create_campaign
    from handover.i18n import normalize_lang
    from handover.notices.campaign import campaigns_of_incident
    from handover.notices.templates import SMS_MAX_CHARS

    inc = records.get_incident(ws, incident_id)
    if inc.status == "closed":
        raise BadInput.msg("incidents.closed", id=incident_id)
    duty = next((o for o in inc.obligations if o.recipient == "individuals"), None)
    if duty is None:
        raise BadInput.msg("incidents.no_individuals", id=incident_id)
    if duty.status == "waived" and duty.waiver:
        raise BadInput.msg(
            "incidents.notify_waived",
            id=incident_id,
            by=duty.waiver.get("by", "-"),
            at=str(duty.waiver.get("at", ""))[:16],
        )
    leaked = [(t["table"], list(t["columns"])) for t in inc.affected.get("tables") or []]
    if not leaked:
        raise BadInput.msg("incidents.notify_no_tables", id=incident_id)
    earlier = campaigns_of_incident(ws, incident_id)
    if earlier:
        # A second campaign would tell the same people again under new keys: the outbox's
        # exactly-once holds within one campaign, so there is one per incident.
        raise BadInput.msg(
            "incidents.notify_exists",
            id=incident_id,
            campaign=earlier[0].id,
            status=earlier[0].status,
        )
    participants: list[str] = []
    if inc.drill_id is not None:
        participants = next(d.participants for d in list_drills(ws) if d.id == inc.drill_id)
    language = normalize_lang(lang or ws.settings.lang)
    notice = breach_notice(
        inc,
        audience="participants" if inc.drill else "customers",
        participants=participants,
        contact=_operator(ws).get("contact", ""),
    )
    decision = _manage(ws, clock)
    c = notice["content"]
    en = language == "en"
    categories = (c["categories_en"] if en else c["categories"]) or c["categories"]
    transfer = ws.settings.transfer
    content = {
        "categories": (", " if en else "、").join(categories),
        "cause": c["cause"],
        "harm": c["harm"],
        "remedies": c["remedies"],
        "advice": c["advice"],
        "contact": c["contact"],
        "seller_phone": transfer.seller.phone if transfer is not None else "",
    }
    camp = create_campaign(
        ws,
        source,
        name=f"PIPL Art. 57 incident {incident_id}" + (" [DRILL]" if inc.drill else ""),
        channels=channels,
        lang=language,
        templates=templates,
        link=link,
        sms_max_chars=sms_max_chars or SMS_MAX_CHARS,
        kind="breach",
        actor=decision.actor,
        now=lambda: records.utc(clock()),
        content=content,
        leaked=leaked,
        incident_id=incident_id,
        drill=inc.drill,
        reading=reading,
    )
    _sink(ws, decision)(
        "incident.notice.campaign",
        f"incident {incident_id}",
        records.PURPOSE,
        {
            "incident": incident_id,
            "campaign": camp.id,
            "at": records.utc(clock()).isoformat(),
            "channels": list(camp.channels),
            "restriction": camp.restriction,
            "grant": camp.grant_id,
            "drill": inc.drill,
        },
    )
    return camp


# --- early warning ---------------------------------------------------------------------------------


def warning_facts(ws: Workspace) -> Any:
    """Grant windows and vendor staff's assessment state, for the early-warning rules."""
    from handover.governance.grants import list_grants
    from handover.governance.people import list_people
    from handover.governance.vendors import list_vendors
    from handover.incidents.warning import Facts

    vendors = {v.name: v for v in list_vendors(ws)}
    staff: dict[str, tuple[str, dt.date | None]] = {}
    for p in list_people(ws):
        if "vendor_staff" in p.roles:
            v = vendors.get(p.org)
            a = v.latest if v is not None else None
            passing = a is not None and a.decision in ("approved", "conditional")
            staff[p.name] = (p.org, a.reassess_on if a is not None and passing else None)
    return Facts(
        timezone=_conf(ws).timezone,
        grants={g.id: (g.valid_from, g.valid_until) for g in list_grants(ws)},
        vendor_staff=staff,
    )


def run_warnings(ws: Workspace, *, clock: Clock = system_clock) -> dict[str, Any]:
    """Evaluate the early-warning rules over the whole ledger; each new finding opens a
    security event (once: reruns open nothing new)."""
    import json

    from handover.incidents.warning import evaluate, load_warning_rules

    decision = _clock_check(ws, clock)
    findings = evaluate(load_warning_rules(), entries(ws), warning_facts(ws))
    known = {e.id for e in records.list_events(ws)}
    opened: list[records.SecurityEvent] = []
    now = records.utc(clock())
    for f in findings:
        ev = kernel.record_event(
            ws,
            f"[预警] {f.title['zh-CN']} / {f.title['en']}",
            noticed_at=min(f.at, now),
            noticed_by="early-warning",
            reported_by=decision.actor,
            description=json.dumps(f.to_json(), ensure_ascii=False),
            source=f"warning:{f.rule}",
            warning_key=f.key,
            events=_sink(ws, decision),
            clock=clock,
        )
        if ev.id not in known:
            opened.append(ev)
    return {"findings": [f.to_json() for f in findings], "opened": [e.to_json() for e in opened]}


# --- drills --------------------------------------------------------------------------------------------


def schedule(
    ws: Workspace,
    scenario: str,
    *,
    at: dt.datetime,
    participants: Sequence[str],
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Drill:
    """Schedule a drill of ``scenario`` with registered ``participants``."""
    from handover.governance.people import list_people

    decision = _manage(ws, clock, actor)
    known = {p.name for p in list_people(ws)}
    unknown = next((p for p in participants if p.strip() and p.strip() not in known), None)
    if unknown is not None:
        raise BadInput.msg("incidents.unknown_participant", name=unknown)
    return schedule_drill(
        ws,
        scenario,
        scheduled_for=at,
        participants=participants,
        events=_sink(ws, decision),
        clock=clock,
    )


def start(
    ws: Workspace, drill_id: int, *, clock: Clock = system_clock, actor: str | None = None
) -> Incident:
    """Start a scheduled drill: its scenario runs through the incident workflow as a drill."""
    from handover.detect.store import latest_inventory

    decision = _manage(ws, clock, actor)
    return start_drill(
        ws,
        drill_id,
        started_by=decision.actor,
        rules=rules_of(ws),
        conf=_conf(ws),
        inventory=latest_inventory(ws),
        events=_sink(ws, decision),
        clock=clock,
    )


def finish(
    ws: Workspace,
    drill_id: int,
    *,
    lessons: str,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> Drill:
    """Finish a running drill with its lessons; timings per duty are computed."""
    decision = _manage(ws, clock, actor)
    return finish_drill(
        ws,
        drill_id,
        lessons=lessons,
        finished_by=decision.actor,
        events=_sink(ws, decision),
        clock=clock,
    )


# --- demo ------------------------------------------------------------------------------------------

DEMO_DRILL = "dd_extract_leak"
DEMO_FACTS = {
    "location": "买方尽调团队共享网盘 / the buyer's due-diligence share",
    "cause": "分享链接设为公开 / a share link left public",
    "harm": "可能被用于诈骗 / may be used for fraud",
    "measures": "撤销链接、轮换令牌密钥 / link revoked, token key rotated",
    "advice": "警惕冒充来电 / beware of impostor calls",
}


def demo_drill(ctx: Any) -> str:
    """Demo step: a tabletop drill (the due-diligence extract leaks): scheduled, started
    as a drill incident, its initial report filed (marked 演练 / DRILL, sent to nobody),
    finished with its lessons and the hours used per duty."""
    ws = ctx.ws
    now = records.utc(system_clock())
    drill = schedule(ws, DEMO_DRILL, at=now, participants=["wangmin", "zhaolei"])
    inc = start(ws, drill.id)
    set_facts(ws, inc.id, DEMO_FACTS)
    rep = file_report(ws, inc.id, "initial")
    done = finish(ws, drill.id, lessons="尽调数据包分享链接须设有效期 / share links need an expiry")
    timings = (done.result or {}).get("timings", [])
    return t(
        "incidents.demo_drill",
        ctx.lang,
        drill=drill.id,
        incident=inc.id,
        duties=len(timings),
        in_time=sum(1 for x in timings if x.get("result") == "in_time"),
        folder=rep.folder,
    )
