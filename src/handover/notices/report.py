"""The campaign report (``handover notices report``): reach per channel, delivery
statistics, replies and consent, the reconciliation per table and the unreachable list
(names masked), as XLSX and HTML in zh-CN or English. Counts and masked values only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select

from handover.i18n import normalize_lang, t
from handover.notices.models import NoticeOutboxRow, NoticeUnreachableRow
from handover.notices.outbox import PENDING, counts

if TYPE_CHECKING:
    from handover.notices.campaign import Campaign
    from handover.workspace import Workspace

TEMPLATES = Path(__file__).parent / "templates"
REACHED = ("sent", "delivered")

#: the report's labels (catalogue keys notices.report.<name>)
_KEYS: tuple[str, ...] = (
    "title",
    "campaign",
    "kind",
    "kind.notice",
    "kind.consent",
    "kind.breach",
    "source",
    "status",
    "maker",
    "grant",
    "created",
    "queued",
    "finished",
    "generated",
    "people",
    "not_reached",
    "no_channel",
    "reach",
    "channel",
    "addressable",
    "notices",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "cancelled",
    "pending",
    "rate",
    "tables",
    "table",
    "rows",
    "reached_rows",
    "unreachable_rows",
    "reconciles",
    "yes",
    "no",
    "replies",
    "reply_kind",
    "count",
    "consent_yes",
    "consent_no",
    "consent_none",
    "unreachable",
    "row_key",
    "name",
    "reason",
    "sheet_summary",
    "sheet_unreachable",
    "footer",
)


def _L(lang: str) -> dict[str, str]:
    return {k: t(f"notices.report.{k}", lang) for k in _KEYS}


def report_data(ws: Workspace, camp: Campaign) -> dict[str, Any]:
    """Everything the report shows, as plain counts and masked values. ``people`` are
    every recipient of the audience: those with notices and those none of the campaign's
    channels reaches (``no_channel``, listed as unreachable), who are ``not_reached``
    too; it reconciles when the audience's rows do and those people add up to the
    audience's recipients."""
    from handover.notices import replies

    by_state = counts(ws, camp.id)
    with ws.store.session() as s:
        if len(by_state) <= 1:
            # one channel: one notice a person (the key is unique per campaign, person
            # and channel), so the counts per state are the people's
            states = next(iter(by_state.values()), {})
            with_notices = sum(states.values())
            reached = sum(n for st, n in states.items() if st in (*REACHED, *PENDING))
        else:
            # one pass over the outbox: per person whether any notice of theirs was
            # sent, delivered or is still pending (told); people = persons, not
            # reached = the rest
            told = case((NoticeOutboxRow.state.in_((*REACHED, *PENDING)), 1), else_=0)
            per = (
                select(func.max(told).label("told"))
                .where(NoticeOutboxRow.campaign_id == camp.id)
                .group_by(NoticeOutboxRow.recipient)
                .subquery()
            )
            found = s.execute(select(func.count(), func.sum(per.c.told)).select_from(per)).one()
            with_notices = int(found[0] or 0)
            reached = int(found[1] or 0)
        lost = [
            {"table": u.table_name, "row_key": u.row_key, "name": u.name_masked, "reason": u.reason}
            for u in s.scalars(
                select(NoticeUnreachableRow)
                .where(NoticeUnreachableRow.campaign_id == camp.id)
                .order_by(NoticeUnreachableRow.idx)
            )
        ]
    no_channel = sum(1 for u in lost if u["reason"] == "no_channel")
    people = with_notices + no_channel
    not_reached = people - reached
    recipients = camp.summary.get("recipients")
    # a campaign queued before the people no channel reaches were listed (no "no_channel"
    # in its summary) cannot add up to its recipients: its rows' reconciliation stands
    counted = "no_channel" in camp.summary
    reconciles = bool(camp.summary.get("reconciles")) and (not counted or people == recipients)
    reach = dict(camp.summary.get("addressable") or camp.summary.get("reach") or {})
    channels = []
    for ch in camp.channels:
        st = by_state.get(ch, {})
        total = sum(st.values())
        sent = sum(st.get(k, 0) for k in ("sent", "delivered", "undelivered"))
        channels.append(
            {
                "channel": ch,
                "addressable": reach.get(ch, 0),
                "notices": total,
                "sent": sent,
                "delivered": st.get("delivered", 0),
                "undelivered": st.get("undelivered", 0),
                "failed": st.get("failed", 0),
                "cancelled": st.get("cancelled", 0),
                "pending": sum(st.get(k, 0) for k in PENDING),
                "rate": f"{sent / total:.1%}" if total else "-",
            }
        )
    return {
        "campaign": camp.to_json(),
        "people": people,
        "not_reached": not_reached,
        "no_channel": no_channel,
        "channels": channels,
        "tables": list(camp.summary.get("tables") or []),
        "reconciles": reconciles,
        # the consent picture is of the people asked: those with a notice
        "replies": replies.tally(ws, camp.id, people=with_notices),
        "unreachable": lost,
    }


def _context(data: dict[str, Any], lang: str, generated: dt.datetime) -> dict[str, Any]:
    L = _L(lang)
    c = data["campaign"]
    reasons = {
        r: t(f"notices.reason.{r}", lang) for r in ("no_contact", "invalid_contact", "no_channel")
    }
    meta = [
        (L["campaign"], f"{c['id']} · {c['name']}"),
        (L["kind"], L[f"kind.{c.get('kind', 'notice')}"]),
        (L["source"], c["source"]),
        (L["status"], c["status"]),
        (L["maker"], c["maker"]),
        (L["grant"], c["grant_id"]),
        (L["created"], c["created_at"]),
        (L["generated"], generated.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        (L["people"], data["people"]),
        (L["not_reached"], data["not_reached"]),
        (L["no_channel"], data.get("no_channel", 0)),
    ]
    r = data["replies"]
    replies = [
        (t(f"notices.reply.{k}", lang), r.get(k, 0))
        for k in ("objection", "opt_out", "deletion", "consent_yes", "consent_no", "other")
    ]
    if c.get("kind") == "consent":
        replies += [
            (L["consent_yes"], r["yes"]),
            (L["consent_no"], r["no"]),
            (L["consent_none"], r["no_answer"]),
        ]
    return {
        "L": L,
        "lang": lang,
        "meta": meta,
        "channels": data["channels"],
        "tables": data["tables"],
        "reconciles": L["yes"] if data["reconciles"] else L["no"],
        "replies": replies,
        "unreachable": [
            {**u, "reason": reasons.get(u["reason"], u["reason"])} for u in data["unreachable"]
        ],
    }


CHANNEL_COLS = (
    "addressable",
    "notices",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "cancelled",
    "pending",
    "rate",
)


def write_report(
    ws: Workspace,
    camp: Campaign,
    folder: Path,
    lang: str,
    *,
    generated: dt.datetime,
    data: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``campaign-N-report[.en].xlsx`` and ``.html`` into ``folder``; returns both.
    ``data``: the campaign's :func:`report_data` read already (one read for several
    languages)."""
    from handover.reports.tables import Sheet, html_env, out_folder, write_workbook

    lang = normalize_lang(lang)
    out_folder(folder)  # a bad folder is refused before anything is read or written
    ctx = _context(report_data(ws, camp) if data is None else data, lang, generated)
    L = ctx["L"]
    base = folder / f"campaign-{camp.id}-report{'' if lang == 'zh-CN' else '.en'}"
    summary = Sheet(
        L["sheet_summary"],
        [L["channel"], *[L[k] for k in CHANNEL_COLS]],
        [[ch["channel"], *[ch[k] for k in CHANNEL_COLS]] for ch in ctx["channels"]],
        lines=ctx["meta"],
        widths=(28, 16, 12, 10, 10, 10, 10, 10, 10, 10),
    )
    tables = Sheet(
        L["table"],
        [L["table"], L["rows"], L["reached_rows"], L["unreachable_rows"]],
        [[x["table"], x["rows"], x["reached"], x["unreachable"]] for x in ctx["tables"]],
        lines=[(L["reconciles"], ctx["reconciles"])],
        widths=(28, 12, 14, 14),
    )
    replies = Sheet(
        L["replies"],
        [L["reply_kind"], L["count"]],
        [list(x) for x in ctx["replies"]],
        widths=(36, 10),
    )
    lost = Sheet(
        L["sheet_unreachable"],
        [L["table"], L["row_key"], L["name"], L["reason"]],
        [[u["table"], u["row_key"], u["name"], u["reason"]] for u in ctx["unreachable"]],
        widths=(24, 24, 14, 50),
    )
    xlsx = write_workbook(
        Path(f"{base}.xlsx"), [summary, tables, replies, lost], heading=L["title"]
    )
    html = Path(f"{base}.html")
    html.write_text(
        html_env(TEMPLATES).get_template("report.html").render(**ctx, cols=CHANNEL_COLS), "utf-8"
    )
    return [xlsx, html]
