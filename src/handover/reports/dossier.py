"""Renderings of the regulator's dossier (监管报送材料包): one document of numbered
sections — summary, checklist with evidence and counter-examples, impact assessments,
risk register, inventory, notices, incidents and drills, destruction, people and NDAs and
training and vendors, the documents with their ledger bindings, how to verify — as HTML
and PDF (table of contents, bookmarks, the Chinese font embedded), zh-CN and en.

Texts are catalogue keys ``dossier.r.*``; the data is ``dossier.json`` as the flow wrote
it (:mod:`handover.flows.dossier`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handover.i18n import normalize_lang, t
from handover.reports import sections
from handover.reports.sections import Bars, Doc, Para, Section, Sub, Table


def pick(value: Any, lang: str) -> str:
    """The text of ``value`` in ``lang``: a {lang: text} mapping, a [zh, en] pair, or as is."""
    if isinstance(value, dict) and lang in value:
        return str(value[lang])
    if isinstance(value, list) and len(value) == 2 and all(isinstance(x, str) for x in value):
        return str(value[0] if lang == "zh-CN" else value[1])
    return "" if value is None else str(value)


def when(value: Any) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM UTC`` (``-`` when missing; text kept when odd)."""
    import datetime as dt

    if not value:
        return "-"
    try:
        at = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC)
    return at.strftime("%Y-%m-%d %H:%M") + (" UTC" if at.tzinfo is not None else "")


def label(key: str, code: Any, lang: str) -> str:
    """The catalogue text of ``code`` under ``key`` (``incidents.grade`` and
    ``significant``: ``incidents.grade.significant``) in ``lang``; the code as it is when
    the catalogue has none (a value newer than this release), ``-`` when missing."""
    if code is None or code == "":
        return "-"
    try:
        return t(f"{key}.{code}", lang)
    except KeyError:
        return str(code)


#: the files :func:`write_renderings` writes; the dossier counts them among its documents
RENDERINGS = tuple(f"dossier.{lang}.{ext}" for lang in ("zh-CN", "en") for ext in ("html", "pdf"))


def _seqs(values: list[Any], limit: int = 12) -> str:
    shown = ", ".join(f"#{v}" for v in values[:limit] if v is not None)
    return shown + (f" … (+{len(values) - limit})" if len(values) > limit else "")


def _party(p: dict[str, Any] | None) -> str:
    if not p:
        return "-"
    contact = ", ".join(str(p[k]) for k in ("contact", "phone", "email") if p.get(k))
    return f"{p.get('name', '')} ({contact})" if contact else str(p.get("name", ""))


def document(data: dict[str, Any], lang: str) -> Doc:
    """The dossier in ``lang`` as sections (one description for HTML and PDF)."""
    from handover.pia.method import load_method

    lang = normalize_lang(lang)
    method = load_method()

    def L(key: str, **values: Any) -> str:
        return t(f"dossier.r.{key}", lang, **values)

    tr = data.get("transfer") or {}
    cl = data["checklist"]
    score = cl["score"]
    status = {s: L(f"status.{s}") for s in ("met", "not_met", "attested", "not_applicable")}
    parts: list[Section] = []

    # 1. summary
    risks = data["risks"]
    real = [i for i in data["incidents"] if not i["drill"]]
    notices = data["notices"]
    inv = data["inventory"]["totals"]
    summary = Section("summary", L("s.summary"))
    summary.blocks.append(
        Table(
            None,
            [
                [
                    L("score"),
                    L(
                        "score_text",
                        score=score["score"] * 100,
                        met=score["met"],
                        attested=score["attested"],
                        not_met=score["not_met"],
                        na=score["not_applicable"],
                    ),
                ],
                [
                    L("assessments"),
                    L(
                        "assessments_text",
                        n=len(data["pia"]),
                        approved=sum(1 for a in data["pia"] if a["approved_version"]),
                    ),
                ],
                [
                    L("risks"),
                    L(
                        "risks_text",
                        n=len(risks),
                        overdue=sum(1 for r in risks if r["overdue_days"] > 0),
                        linked=sum(1 for r in risks if r["incident_ids"]),
                    ),
                ],
                [
                    L("inventory"),
                    L(
                        "inventory_text",
                        tables=inv["tables"],
                        pii=inv["pii_columns"],
                        sensitive=inv["sensitive_columns"],
                        people=inv["people_records"],
                    ),
                ],
                [
                    L("notices"),
                    L(
                        "notices_text",
                        campaigns=len(notices),
                        people=sum(n["people"] for n in notices),
                        not_reached=sum(n["not_reached"] for n in notices),
                    ),
                ],
                [L("incidents"), L("incidents_text", real=len(real), drills=len(data["drills"]))],
                [L("certificates"), str(len(data["certificates"]))],
                [
                    L("documents"),
                    str(len(data["documents"]) + len(data.get("documents_self", []))),
                ],
                [
                    L("ledger"),
                    L(
                        "ledger_text",
                        size=data["ledger"]["size_at_writing"],
                        origin=data["ledger"]["origin"],
                    ),
                ],
            ],
            [50, 130],
        )
    )
    summary.blocks.append(Para(L("summary_note"), small=True))
    parts.append(summary)

    # 2. checklist
    sec = Section("checklist", L("s.checklist", version=cl["version"]))
    sec.blocks.append(
        Table(
            [L("status"), L("item"), L("source"), L("evidence")],
            [
                [
                    status[i["status"]],
                    f"{i['id']}\n{pick(i['title'], lang)}",
                    pick(i["source"], lang),
                    _seqs(i["evidence"]),
                ]
                for i in cl["items"]
            ],
            [18, 72, 58, 32],
        )
    )
    for i in cl["items"]:
        if not (i["counter_examples"] or i["status"] != "met"):
            continue
        sec.blocks.append(Sub(f"{i['id']}: {status[i['status']]}"))
        if pick(i["reason"], lang):
            sec.blocks.append(Para(pick(i["reason"], lang)))
        if i["counter_examples"]:
            sec.blocks.append(
                Table(
                    [L("seq"), L("actor"), L("action"), L("counter_example")],
                    [
                        [
                            c.get("seq") if c.get("seq") is not None else "-",
                            c.get("actor") or "-",
                            c.get("action") or "-",
                            pick(c["what"], lang),
                        ]
                        for c in i["counter_examples"]
                    ],
                    [18, 30, 32, 100],
                )
            )
            if i["counter_count"] > len(i["counter_examples"]):
                sec.blocks.append(
                    Para(L("more", n=i["counter_count"] - len(i["counter_examples"])), small=True)
                )
    sec.blocks.append(Para(L("checklist_note", seq=cl["ledger_seq"]), small=True))
    parts.append(sec)

    # 3. impact assessments
    sec = Section("pia", L("s.pia"))
    if not data["pia"]:
        sec.blocks.append(Para(L("none")))
    for a in data["pia"]:
        sec.blocks.append(Sub(f"#{a['id']} v{a['approved_version'] or a['version']} {a['title']}"))
        approvals = [d for d in a["decisions"] if d["decision"] == "approve"]
        sec.blocks.append(
            Table(
                None,
                [
                    [L("status"), L(f"pia_status.{a['status']}")],
                    [L("signatory"), a["signatory"] or "-"],
                    [
                        L("approved"),
                        "; ".join(
                            f"v{d['version']} {d['actor']} {when(d['at'])}" for d in approvals
                        )
                        or "-",
                    ],
                    [L("retain_until"), a["retain_until"] or "-"],
                    [L("doc_sha256"), a["sha256"]],
                    [
                        L("exports"),
                        "; ".join(f"v{x['version']} #{x['seq']}" for x in a["exports"]) or "-",
                    ],
                ],
                [50, 130],
            )
        )
        sec.blocks.append(
            Table(
                [L("id"), L("risk"), L("level")],
                [
                    [r["id"], pick(r["title"], lang), method.label("level", r["level"], lang)]
                    for r in a["risks"]
                ],
                [16, 134, 30],
            )
        )
    parts.append(sec)

    # 4. risk register
    sec = Section("risks", L("s.risks"))
    sec.blocks.append(
        Table(
            [
                L("code"),
                L("risk"),
                L("level"),
                L("status"),
                L("owner"),
                L("review"),
                L("finding"),
                L("linked_incidents"),
                L("overdue"),
            ],
            [
                [
                    r["code"],
                    r["title"],
                    method.label("level", r["level"], lang),
                    L(f"risk_status.{r['status']}"),
                    r["owner"],
                    r["review_on"],
                    f"#{r['pia']['id']} v{r['pia']['version']} {r['finding']}"
                    if r.get("pia")
                    else "-",
                    ", ".join(
                        f"#{i['id']} {label('incidents.grade', i['grade'], lang)}"
                        f"{' (' + L('drill') + ')' if i['drill'] else ''}"
                        for i in r["incidents"]
                    )
                    or "-",
                    L("days", n=r["overdue_days"]) if r["overdue_days"] > 0 else "-",
                ]
                for r in risks
            ],
            [22, 72, 16, 18, 22, 22, 34, 40, 21],
            wide=True,
        )
    )
    parts.append(sec)

    # 5. inventory
    sec = Section("inventory", L("s.inventory"))
    dm = data["inventory"]
    sec.blocks.append(
        Para(
            L(
                "inventory_totals",
                scan=dm.get("scan_id") or "-",
                records=inv["records"],
                people=inv["people_records"],
                tiers=", ".join(f"{k}: {v}" for k, v in inv["by_tier"].items()) or "-",
                levels=", ".join(f"{k}: {v}" for k, v in inv["by_level"].items()) or "-",
            )
        )
    )
    sec.blocks.append(
        Bars(
            L("pii_by_tier"), [(k, float(v)) for k, v in inv["by_tier"].items()], L("columns_unit")
        )
    )
    sec.blocks.append(
        Table(
            [
                L("table"),
                L("records"),
                L("pii_columns"),
                L("sensitive"),
                L("tiers"),
                L("max_level"),
                L("types"),
            ],
            [
                [
                    tb["name"],
                    tb["rows"],
                    tb["pii_columns"],
                    tb["sensitive_columns"],
                    ", ".join(f"{k}: {v}" for k, v in tb["tiers"].items()),
                    tb["max_level"] if tb["max_level"] is not None else "-",
                    ", ".join(tb["types"]),
                ]
                for tb in dm["tables"]
            ],
            [40, 22, 20, 18, 40, 22, 105],
            wide=True,
        )
    )
    parts.append(sec)

    # 6. notices
    sec = Section("notices", L("s.notices"))
    if not notices:
        sec.blocks.append(Para(L("none")))
    for n in notices:
        c = n["campaign"]
        sec.blocks.append(Sub(f"#{c['id']} {c['name']}"))
        replies = n.get("reply_kinds", {})
        sec.blocks.append(
            Table(
                None,
                [
                    [L("kind"), label("notices.report.kind", c.get("kind", "notice"), lang)],
                    [L("status"), label("dossier.r.campaign_status", c["status"], lang)],
                    [L("tables"), ", ".join(c["tables"])],
                    [L("people"), n["people"]],
                    [L("not_reached"), n["not_reached"]],
                    [L("unreachable_rows"), n["unreachable_rows"]],
                    [L("reconciles"), n["reconciles"]],
                    [
                        L("replies"),
                        ", ".join(
                            f"{label('notices.reply', k, lang)}: {v}"
                            for k, v in replies.items()
                            if v
                        )
                        or L("none"),
                    ],
                ],
                [50, 130],
            )
        )
        sec.blocks.append(
            Table(
                [
                    L("channel"),
                    L("addressable"),
                    L("sent"),
                    L("delivered"),
                    L("undelivered"),
                    L("failed"),
                    L("pending"),
                ],
                [
                    [
                        label("transparency.r.channel", ch["channel"], lang),
                        ch["addressable"],
                        ch["sent"],
                        ch["delivered"],
                        ch["undelivered"],
                        ch["failed"],
                        ch["pending"],
                    ]
                    for ch in n["channels"]
                ],
                [30, 25, 25, 25, 25, 25, 25],
            )
        )
    parts.append(sec)

    # 7. incidents and drills
    sec = Section("incidents", L("s.incidents"))
    sec.blocks.append(
        Table(
            [
                L("id"),
                L("incident"),
                L("grade"),
                L("status"),
                L("aware_at"),
                L("people"),
                L("reports"),
            ],
            [
                [
                    i["id"],
                    f"{i['title']}{' [' + L('drill') + ']' if i['drill'] else ''}",
                    label("incidents.grade", i["grade"], lang),
                    label("incidents.status", i["status"], lang),
                    when(i["aware_at"]),
                    i["people_affected"] if i["people_affected"] is not None else "-",
                    ", ".join(
                        f"{label('incidents.kind', r['kind'], lang)} {r['number']}"
                        for r in i["reports"]
                    )
                    or "-",
                ]
                for i in data["incidents"]
            ],
            [10, 60, 20, 16, 34, 16, 24],
        )
    )
    duties = [
        [
            o["incident"],
            duty_name(o, lang),
            (o.get("recipient_shown") or {}).get(normalize_lang(lang)) or o["recipient_name"],
            duty_due(o, lang),
            label("incidents.status", o["status"], lang),
            when(o["met_at"]),
        ]
        for i in data["incidents"]
        for o in i["obligations"]
    ]
    if duties:
        sec.blocks.append(Sub(L("duties")))
        sec.blocks.append(
            Table(
                [L("incident"), L("rule"), L("recipient"), L("due"), L("status"), L("met_at")],
                duties,
                [14, 50, 34, 38, 16, 28],
            )
        )
    sec.blocks.append(Sub(L("drills")))
    sec.blocks.append(
        Table(
            [L("id"), L("scenario"), L("status"), L("finished"), L("in_time"), L("lessons")],
            [
                [
                    d["id"],
                    _named(d.get("scenario_title"), d["scenario"], lang),
                    label("dossier.r.drill_status", d["status"], lang),
                    when(d["finished_at"]),
                    _in_time(d),
                    (d["result"] or {}).get("lessons", "-"),
                ]
                for d in data["drills"]
            ],
            [10, 44, 18, 32, 20, 56],
        )
    )
    parts.append(sec)

    # 8. destruction
    sec = Section("certificates", L("s.certificates"))
    sec.blocks.append(
        Table(
            [L("run"), L("at"), L("destroyed"), L("check"), L("seq"), L("cert_sha256")],
            [
                [
                    c["run_id"],
                    when(c["at"]),
                    L("destroyed_text", **_destroyed(c["done"])),
                    L("check_text", **_destroyed(c["done"])),
                    f"#{c['seq']}",
                    c["sha256"],
                ]
                for c in data["certificates"]
            ],
            [32, 26, 32, 30, 12, 48],
        )
    )
    parts.append(sec)

    # 9. governance
    g = data["governance"]
    sec = Section("governance", L("s.governance"))
    sec.blocks.append(Sub(L("people_records")))
    sec.blocks.append(
        Table(
            [L("login"), L("name"), L("org"), L("roles"), L("active")],
            [
                [p["name"], p["display_name"], p["org"], ", ".join(p["roles"]), p["active"]]
                for p in g["people"]
            ],
            [25, 20, 60, 60, 15],
        )
    )
    sec.blocks.append(Sub(L("ndas")))
    sec.blocks.append(
        Table(
            [L("id"), L("name_col"), L("status"), L("parties"), L("period"), L("breaches")],
            [
                [
                    n["id"],
                    n["title"],
                    label("dossier.r.nda_status", n["status"], lang),
                    ", ".join(n["parties"]) + "\n" + ", ".join(n["signatories"]),
                    f"{n['signed_on'] or '-'} / {n['effective_on']} – {n['expires_on']}",
                    "; ".join(f"{b['person']} {b['occurred_on']}" for b in n["breaches"]) or "-",
                ]
                for n in g["ndas"]
            ],
            [10, 36, 16, 58, 36, 24],
        )
    )
    sec.blocks.append(Sub(L("training")))
    sec.blocks.append(
        Table(
            [L("login"), L("course"), L("score_col"), L("passed"), L("taken"), L("expires")],
            [
                [
                    r["person"],
                    f"{r['course']} v{r['version']}",
                    f"{r['score']:.0%}",
                    r["passed"],
                    when(r["taken_at"]),
                    when(r["expires_at"]),
                ]
                for r in g["training"]
            ],
            [24, 34, 16, 14, 46, 46],
        )
    )
    sec.blocks.append(Sub(L("vendors")))
    sec.blocks.append(
        Table(
            [
                L("vendor"),
                L("services"),
                L("decision"),
                L("risk_col"),
                L("score_col"),
                L("reassess"),
            ],
            [
                [
                    v["name"],
                    v["services"],
                    label(
                        "dossier.r.vendor_decision",
                        (v["latest_assessment"] or {}).get("decision"),
                        lang,
                    ),
                    label(
                        "dossier.r.vendor_risk", (v["latest_assessment"] or {}).get("risk"), lang
                    ),
                    (v["latest_assessment"] or {}).get("score", "-"),
                    (v["latest_assessment"] or {}).get("reassess_on", "-"),
                ]
                for v in g["vendors"]
            ],
            [44, 50, 22, 20, 18, 26],
        )
    )
    parts.append(sec)

    # 10. documents and their binding to the ledger
    sec = Section("documents", L("s.documents"))
    sec.blocks.append(Para(L("documents_note")))
    sec.blocks.append(
        Table(
            [L("path"), L("name_col"), "SHA-256", L("bytes"), L("origin_seq")],
            [
                [
                    d["path"],
                    pick(d["title"], lang),
                    d["sha256"],
                    d["bytes"],
                    f"#{d['bindings'][0]['seq']}" if d["bindings"] else "-",
                ]
                for d in data["documents"]
            ]
            + [
                [d["path"], pick(d["title"], lang), L("self_sha256"), "-", "-"]
                for d in data.get("documents_self", [])
            ],
            [88, 48, 90, 18, 23],
            wide=True,
        )
    )
    for w in data.get("warnings", []):
        sec.blocks.append(Para(L(f"warning.{w['kind']}", path=w["path"], seq=w["seq"])))
    parts.append(sec)

    # 11. verification
    sec = Section("verify", L("s.verify"))
    sec.blocks.append(Para(L("verify_text")))
    sec.blocks.append(
        Table(
            None,
            [[L("origin"), data["ledger"]["origin"]]]
            + [[L("verifier_key"), k] for k in data["ledger"]["verifier_keys"]],
            [40, 140],
        )
    )
    sec.blocks.append(
        Para(
            "python verify.py " + " ".join(f'--key "{k}"' for k in data["ledger"]["verifier_keys"]),
            small=True,
        )
    )
    parts.append(sec)

    return Doc(
        lang=lang,
        title=L("title"),
        subtitle=L("subtitle"),
        cover=[
            [L("transfer"), tr.get("name") or "-"],
            [L("seller"), _party(tr.get("seller"))],
            [L("buyer"), _party(tr.get("buyer"))],
            [L("purpose"), tr.get("purpose") or "-"],
            [L("dates"), f"{tr.get('announced') or '-'} / {tr.get('closing') or '-'}"],
            [L("generated"), f"{when(data['generated_at'])} ({data.get('generated_by', '-')})"],
            [L("score"), f"{score['score'] * 100:.0f}%"],
            [L("origin"), data["ledger"]["origin"]],
        ],
        sections=parts,
        toc_label=L("toc"),
        footer=f"{L('title')} | {tr.get('name') or ''}",
    )


def _named(title: Any, code: Any, lang: str) -> str:
    """A record's name in ``lang`` with its code in parentheses (the name the commands and
    rules files use), or the code alone when there is no name."""
    name = pick(title, lang)
    if not name:
        return "-" if code in (None, "") else str(code)
    return t("dossier.r.named", lang, name=name, code=code)


def duty_name(o: dict[str, Any], lang: str) -> str:
    """A duty as the reader knows it: what is filed under which law (``总结报告 ·
    国家网络安全事件报告管理办法``), with its rule id in parentheses."""
    name = t(
        "dossier.r.duty_name",
        lang,
        kind=label("incidents.kind", o.get("kind"), lang),
        regime=label("incidents.regime", o.get("regime"), lang),
    )
    return _named({lang: name}, o.get("rule"), lang)


def duty_due(o: dict[str, Any], lang: str) -> str:
    """A duty's deadline: a clock in days as its last day, ending at 24:00 local or when
    the recipient's business hours end (and the holiday that moved it there); an hours
    clock as a UTC minute."""
    period = o.get("period")
    if not period:
        return when(o.get("due_at"))
    ends = period.get("ends") or "24:00"
    due = t("dossier.r.due_day", lang, day=period["last_day"], ends=ends, tz=period["timezone"])
    moved = period.get("extended")
    if moved:
        first, last = moved["holiday"]
        due += t("dossier.r.due_extended", lang, first=first, last=last)
    return due


def _in_time(d: dict[str, Any]) -> str:
    timings = (d.get("result") or {}).get("timings") or []
    if not timings:
        return "-"
    return f"{sum(1 for x in timings if x.get('result') == 'in_time')}/{len(timings)}"


def _destroyed(done: dict[str, Any] | None) -> dict[str, Any]:
    d = done or {}
    return {
        "rows": d.get("rows", 0),
        "tables": d.get("tables", 0),
        "files": d.get("files", 0),
        "keys": d.get("keys", 0),
        "found": d.get("found", "-"),
        "samples": d.get("samples", "-"),
    }


def write_renderings(data: dict[str, Any], folder: Path) -> list[Path]:
    """``dossier.<lang>.html`` and ``dossier.<lang>.pdf`` in zh-CN and en; returns them."""
    return sections.write_renderings(document, data, folder, "dossier")
