"""What a report says, from the incident record and its ledger timeline; and the PIPL
Art. 57 notice content with its audience, handed to the notices engine.

The documents here are data (``{"zh-CN": ..., "en": ...}`` for every text a reader sees);
:mod:`handover.reports.incident` renders them as HTML and PDF.

The items of a report follow Art. 7 of the CAC reporting measures as far as it could be
read (docs/incidents.md): the unit and its systems, then time, place, type, impact and
measures taken — the two items that may go first when the facts are unclear (Art. 7
¶2) — then trend, cause, leads, next steps and support asked for, scene protection.
The summary report (Art. 8) covers cause, measures, harm, accountability, remediation
and lessons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from handover.errors import BadInput
from handover.i18n import LANGS, catalog, t
from handover.incidents.records import Incident, Obligation, utc

PENDING = "incidents.report.pending"


class EntryLike(Protocol):
    """A ledger entry as :func:`timeline` reads it (:class:`handover.ledger.LedgerEntry`)."""

    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def details(self) -> dict[str, Any]: ...


def both(key: str, **values: Any) -> dict[str, str]:
    """Catalogue message ``key`` in every language."""
    return {lang: t(key, lang, **values) for lang in LANGS}


def timeline(entries: Sequence[EntryLike], inc: Incident) -> list[dict[str, Any]]:
    """The incident's steps from the ledger, in sequence order: who, when (recorded and,
    where the step names it, when it happened), what."""
    out: list[dict[str, Any]] = []
    event_subject = f"event {inc.event_id}"
    for e in entries:
        d = e.details or {}
        if d.get("incident") != inc.id and e.subject != event_subject:
            continue
        out.append(
            {
                "seq": e.seq,
                "recorded": e.ts,
                "at": d.get("at") or e.ts,
                "actor": e.actor,
                "action": e.action,
                "what": both(f"incidents.step.{e.action}")
                if f"incidents.step.{e.action}" in catalog()
                else {"zh-CN": e.action, "en": e.action},
            }
        )
    return out


def _local(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """``2026-03-02 08:30 (UTC+08:00)``: local time with its offset, never an ambiguous
    zone abbreviation."""
    if value is None:
        return ""
    local = utc(value).astimezone(tz)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def _due(o: Obligation, tz: ZoneInfo) -> str:
    """A duty's deadline: ``2026-04-01 24:00 (UTC+08:00)`` for a clock in days (the end of
    its last day, or when the recipient's business hours end on it, 民法典 第二百零三条第二款),
    else the local minute with its offset."""
    if o.period is None:
        return _local(o.due_at, tz)
    offset = o.due_at.astimezone(tz).strftime("%z")
    return f"{o.period.last_day.isoformat()} {o.period.ends} (UTC{offset[:3]}:{offset[3:]})"


def _clock(o: Obligation) -> dict[str, str] | list[dict[str, str]]:
    """What a duty's clock is: a legal deadline in hours or days (with the holiday that
    moved a last day), or the internal target standing for 立即."""
    if o.period is None:
        return both(
            "incidents.report.legal_clock" if o.legal_clock else "incidents.report.target_clock",
            hours=f"{o.hours:g}",
        )
    key, values = o.period.clock()
    days = both(key, **values)
    notes: list[dict[str, str]] = [
        {lang: n.render(lang) for lang in LANGS}
        for n in (o.extended(), o.business_hours())
        if n is not None
    ]
    return [days, *notes] if notes else days


def _fact(inc: Incident, *keys: str) -> dict[str, str] | str:
    texts = [inc.facts[k] for k in keys if inc.facts.get(k)]
    return "\n".join(texts) if texts else both(PENDING)


def _category_line(inc: Incident) -> dict[str, str] | None:
    names = _categories(inc)
    if not names:
        return None
    return {"zh-CN": "、".join(n["zh-CN"] for n in names), "en": ", ".join(n["en"] for n in names)}


def _categories(inc: Incident) -> list[dict[str, str]]:
    from handover.taxonomy.table import get

    out = []
    for name in inc.affected.get("types") or []:
        try:
            p = get(name)
            out.append({"zh-CN": p.zh, "en": p.en})
        except KeyError:
            out.append({"zh-CN": name, "en": name})
    return out


def _people(inc: Incident) -> dict[str, str]:
    a = inc.affected
    if inc.people_affected is None:
        return both("incidents.report.people_unknown")
    override = a.get("override")
    if override:
        return both(
            "incidents.report.people_override", n=inc.people_affected, reason=override["reason"]
        )
    return both(
        "incidents.report.people_counted",
        n=inc.people_affected,
        low=a.get("people_min") or 0,
        tables=", ".join(f"{x['table']} ({x['rows']})" for x in a.get("tables") or []),
        scan=a.get("scan_id") or "-",
    )


def report_document(
    inc: Incident,
    kind: str,
    *,
    number: int,
    operator: dict[str, str],
    systems: list[str],
    data: list[str],
    steps: list[dict[str, Any]],
    now: dt.datetime,
    prepared_by: str = "",
    timezone: str = "Asia/Shanghai",
) -> dict[str, Any]:
    """The report ``kind`` (initial, supplement, summary) number ``number`` of ``inc`` as
    data: header, items, duties, timeline; a drill says so on every page."""
    tz = ZoneInfo(timezone)
    impact_lines = [_people(inc)]
    if inc.affected.get("unknown"):
        impact_lines.append(
            both("incidents.report.unknown_items", items=", ".join(inc.affected["unknown"]))
        )
    items: list[dict[str, Any]] = [
        {
            "key": "unit",
            "title": both("incidents.item.unit"),
            "rows": [
                (both("incidents.field.operator"), operator.get("name") or both(PENDING)),
                (both("incidents.field.contact"), operator.get("contact") or both(PENDING)),
                (both("incidents.field.systems"), ", ".join(systems) or both(PENDING)),
                (both("incidents.field.data"), ", ".join(data) or both(PENDING)),
            ],
        },
        {
            "key": "event",
            "title": both("incidents.item.event"),
            "rows": [
                (both("incidents.field.aware_at"), _local(inc.aware_at, tz)),
                (both("incidents.field.location"), _fact(inc, "location")),
                (both("incidents.field.category"), both(f"incidents.category.{inc.category}")),
                (both("incidents.field.grade"), both(f"incidents.grade.{inc.grade}")),
                (both("incidents.field.people"), impact_lines),
                (both("incidents.field.categories"), _category_line(inc) or both(PENDING)),
                (both("incidents.field.impact"), _fact(inc, "impact")),
                (both("incidents.field.measures"), _fact(inc, "measures")),
            ],
        },
    ]
    if kind == "summary":
        items += [
            {
                "key": "summary",
                "title": both("incidents.item.summary"),
                "rows": [
                    (both("incidents.field.handled_at"), _local(inc.handled_at, tz)),
                    (both("incidents.field.cause"), _fact(inc, "cause")),
                    (both("incidents.field.harm"), _fact(inc, "harm", "impact")),
                    (both("incidents.field.accountability"), _fact(inc, "accountability")),
                    (
                        both("incidents.field.remediation"),
                        [
                            f"#{a.id} {a.what} — {a.owner}, {a.due_on.isoformat()}"
                            + (" ✓" if a.done_at else "")
                            for a in inc.actions
                        ]
                        or both(PENDING),
                    ),
                    (both("incidents.field.lessons"), _fact(inc, "lessons")),
                ],
            }
        ]
    else:
        items += [
            {
                "key": key,
                "title": both(f"incidents.item.{key}"),
                "rows": [(both(f"incidents.field.{f}"), _fact(inc, f)) for f in fields],
            }
            for key, fields in (
                ("trend", ("trend", "harm")),
                ("cause", ("cause",)),
                ("leads", ("leads",)),
                ("next", ("next_steps", "support")),
                ("scene", ("scene",)),
                ("other", ("other",)),
            )
        ]
    duties = [
        {
            "id": o.id,
            "regime": both(f"incidents.regime.{o.regime}"),
            "recipient": {lang: o.recipient_in(lang) for lang in LANGS},
            "kind": both(f"incidents.kind.{o.kind}"),
            "due": _due(o, tz),
            "clock": _clock(o),
            "status": both(f"incidents.status.{o.status}"),
            "source": o.source,
            "verified": o.verified,
        }
        for o in inc.obligations
    ]
    return {
        "kind": kind,
        "number": number,
        "title": both(f"incidents.report.title.{kind}", n=number),
        "drill": inc.drill,
        "incident": {
            "id": inc.id,
            "title": inc.title,
            "grade": both(f"incidents.grade.{inc.grade}"),
            "basis": {
                "computed": both(f"incidents.grade.{inc.grade_basis.get('computed', inc.grade)}"),
                "grade": both(f"incidents.grade.{inc.grade}"),
                "reason": inc.grade_basis.get("reason"),
                "criteria": [
                    {**c, "grade": both(f"incidents.grade.{c['grade']}")}
                    for c in inc.grade_basis.get("criteria", [])
                ],
                "judged": [
                    {**j, "grade": both(f"incidents.grade.{j['grade']}")}
                    for j in inc.grade_basis.get("judged", [])
                ],
            },
            "lead": inc.lead,
            "aware_at": _local(inc.aware_at, tz),
            "status": both(f"incidents.status.{inc.status}"),
        },
        "generated_at": _local(now, tz),
        "items": items,
        "first_items_note": both("incidents.report.first_items") if kind == "initial" else None,
        "duties": duties,
        "timeline": [
            {**s, "at": _local(dt.datetime.fromisoformat(s["at"].replace("Z", "+00:00")), tz)}
            for s in steps
        ],
        "sources": both("incidents.report.sources"),
        "prepared_by": prepared_by,
    }


# --- PIPL Art. 57 notice to individuals (sent by the notices engine) -----------------------

AUDIENCES: tuple[str, ...] = ("customers", "participants")


def breach_notice(
    inc: Incident,
    *,
    audience: str,
    participants: Sequence[str] = (),
    contact: str = "",
) -> dict[str, Any]:
    """The content of the PIPL Art. 57 notice to individuals and who should get it: the
    categories of information, cause, possible harm, remedies taken, what the person can
    do, the contact — for the notices engine to send and track (nothing is sent here).

    ``audience`` ``customers`` is the people in the leaked tables (the person key columns
    of each); a drill may only address its ``participants`` (BadInput otherwise), so a
    drill never reaches a real customer.
    """
    if audience not in AUDIENCES:
        raise BadInput.msg(
            "incidents.bad_audience", audience=audience, audiences=", ".join(AUDIENCES)
        )
    if inc.drill and audience != "participants":
        raise BadInput.msg("incidents.drill_real_recipients", id=inc.id)
    if not inc.drill and audience == "participants":
        raise BadInput.msg("incidents.participants_not_drill", id=inc.id)
    missing = [k for k in ("cause", "harm", "measures", "advice") if not inc.facts.get(k)]
    if missing:
        raise BadInput.msg("incidents.notice_missing", id=inc.id, facts=", ".join(missing))
    content = {
        "categories": [c["zh-CN"] for c in _categories(inc)]
        or list(inc.affected.get("types") or []),
        "categories_en": [c["en"] for c in _categories(inc)],
        "cause": inc.facts["cause"],
        "harm": inc.facts["harm"],
        "remedies": inc.facts["measures"],
        "advice": inc.facts["advice"],
        "contact": inc.facts.get("contact") or contact,
    }
    if not content["contact"]:
        raise BadInput.msg("incidents.notice_missing", id=inc.id, facts="contact")
    if audience == "participants":
        people: dict[str, Any] = {"kind": "participants", "names": list(participants)}
    else:
        people = {
            "kind": "customers",
            "tables": [
                {"table": x["table"], "columns": x["columns"], "rows": x["rows"]}
                for x in inc.affected.get("tables") or []
            ],
            "people_estimate": inc.people_affected,
            "scan_id": inc.affected.get("scan_id"),
        }
    return {
        "incident": inc.id,
        "drill": inc.drill,
        "law": "个人信息保护法 第五十七条第一款第(一)至(三)项",
        "elements": {
            "categories": "第五十七条第一款第(一)项 信息种类",
            "cause": "第五十七条第一款第(一)项 原因",
            "harm": "第五十七条第一款第(一)项 可能造成的危害",
            "remedies": "第五十七条第一款第(二)项 补救措施",
            "advice": "第五十七条第一款第(二)项 个人可以采取的减轻危害的措施",
            "contact": "第五十七条第一款第(三)项 联系方式",
        },
        "content": content,
        "audience": people,
    }
