"""Renderings of the public transparency report (个人信息转移透明度报告): what was
transferred (in aggregate), how it was protected, how the individuals were told, what
went wrong and what was destroyed — with bar charts, as HTML and PDF (the Chinese font
embedded), zh-CN and en. Texts are catalogue keys ``transparency.r.*``; the figures are
``transparency.json`` (:func:`handover.flows.transparency.figures`); nothing personal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from handover.i18n import normalize_lang, t
from handover.reports import sections
from handover.reports.dossier import when
from handover.reports.sections import Bars, Doc, Para, Section, Table


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _pia_text(m: dict[str, Any], L: Callable[..., str]) -> str:
    """When the assessment was approved: before any data moved (PIPL Art. 55 asks for it
    beforehand), or after the first seal or migration, saying when that was."""
    until = m["pia_retained_until"] or "-"
    if m.get("pia_before_transfer") is False:
        moved = when(m.get("data_first_moved"))
        return L("m.pia_text_after", at=when(m["pia_approved"]), moved=moved, until=until)
    return L("m.pia_text", at=when(m["pia_approved"]), until=until)


def document(data: dict[str, Any], lang: str) -> Doc:
    """The report in ``lang`` as sections (one description for HTML and PDF)."""
    lang = normalize_lang(lang)

    def L(key: str, **values: Any) -> str:
        return t(f"transparency.r.{key}", lang, **values)

    tr = data["transfer"]
    inv, m, inc = data["inventory"], data["measures"], data["incidents"]
    de, comp = data["destruction"], data["compliance"]
    yes, no = L("yes"), L("no")
    parts = [
        Section(
            "what",
            L("s.what"),
            [
                Para(
                    L(
                        "what_text",
                        seller=(tr["seller"] or {}).get("name", "-"),
                        buyer=(tr["buyer"] or {}).get("name", "-"),
                        purpose=tr["purpose"] or "-",
                    )
                ),
                Table(
                    None,
                    [
                        [L("announced"), tr["announced"] or "-"],
                        [L("closing"), tr["closing"] or "-"],
                    ],
                    [50, 130],
                ),
            ],
        ),
        Section(
            "data",
            L("s.data"),
            [
                Para(
                    L(
                        "data_text",
                        tables=inv["tables"],
                        pii=inv["pii_columns"],
                        sensitive=inv["sensitive_columns"],
                    )
                ),
                Bars(
                    L("by_tier"), [(k, float(v)) for k, v in inv["by_tier"].items()], L("columns")
                ),
                Bars(
                    L("by_level"),
                    [(L("level", n=k), float(v)) for k, v in inv["by_level"].items()],
                    L("columns"),
                ),
                Para(L("tiers_note"), small=True),
            ],
        ),
        Section(
            "measures",
            L("s.measures"),
            [
                Table(
                    [L("measure"), L("result")],
                    [
                        [
                            L("m.pia"),
                            _pia_text(m, L) if m["pia_approved"] else no,
                        ],
                        [
                            L("m.encryption"),
                            L(
                                "m.encryption_text",
                                suites=", ".join(m["suites"]) or "-",
                                n=m["packages"],
                                separate=yes if m["separate_tier_keys"] else no,
                            ),
                        ],
                        [
                            L("m.deid"),
                            L("m.deid_text", k=m["extract_k"])
                            if m["extract_k"] is not None
                            else "-",
                        ],
                        [
                            L("m.verify"),
                            L("m.verify_text", n=m["verifications"], rows=m["verified_rows"]),
                        ],
                        [
                            L("m.training"),
                            L(
                                "m.training_text",
                                trained=m["staff_trained"],
                                staff=m["staff"],
                                share=_share(m["staff_trained"], m["staff"]),
                            ),
                        ],
                        [
                            L("m.access"),
                            L(
                                "m.access_text",
                                allowed=m["access_decisions"]["allowed"],
                                refused=m["access_decisions"]["refused"],
                            ),
                        ],
                    ],
                    [50, 130],
                )
            ],
        ),
    ]
    reach = Section("notices", L("s.notices"))
    if not data["notices"]:
        reach.blocks.append(Para(L("no_campaign")))
    for n, c in enumerate(data["notices"], start=1):
        told = c["people"] - c["not_reached"]
        reach.blocks.append(
            Para(
                L(
                    "notices_text",
                    n=n,
                    people=c["people"],
                    told=told,
                    share=_share(told, c["people"]),
                    announced=yes if c["announced"] else no,
                )
            )
        )
        reach.blocks.append(
            Bars(
                L("by_channel"),
                [(L(f"channel.{ch}"), float(v["sent"])) for ch, v in c["channels"].items()],
                L("notices_unit"),
            )
        )
        replies = {
            k: v
            for k, v in c["replies"].items()
            if k in ("objection", "opt_out", "deletion", "other")
        }
        reach.blocks.append(
            Table(
                [L("reply"), L("count")],
                [[t(f"notices.reply.{k}", lang), v] for k, v in replies.items()],
                [90, 40],
            )
        )
    parts.append(reach)
    grades = inc["by_grade"]
    parts.append(
        Section(
            "incidents",
            L("s.incidents"),
            [
                Para(
                    L(
                        "incidents_text",
                        n=sum(grades.values()),
                        drills=inc["drills"],
                        filed=inc["duties_filed"],
                        late=inc["duties_late"],
                    )
                ),
                *(
                    [
                        Bars(
                            L("by_grade"),
                            [
                                (t(f"incidents.grade.{g}", lang), float(v))
                                for g, v in grades.items()
                            ],
                            L("incidents_unit"),
                        )
                    ]
                    if grades
                    else []
                ),
            ],
        )
    )
    parts.append(
        Section(
            "destruction",
            L("s.destruction"),
            [
                Para(
                    L(
                        "destruction_text",
                        runs=de["runs"],
                        rows=de["rows"],
                        files=de["files"],
                        keys=de["keys"],
                        samples=de["samples"],
                        found=de["found"],
                        certificates=de["certificates"],
                    )
                )
            ],
        )
    )
    score = comp["score"]
    parts.append(
        Section(
            "compliance",
            L("s.compliance"),
            [
                Para(
                    L(
                        "compliance_text",
                        score=score * 100,
                        met=comp["met"],
                        attested=comp["attested"],
                        applicable=comp["applicable"],
                        version=comp["checklist_version"],
                    )
                    if score is not None
                    else L("no_check")
                ),
                Para(L("about", size=data["ledger_size"]), small=True),
            ],
        )
    )
    seller = tr["seller"] or {}
    return Doc(
        lang=lang,
        title=L("title"),
        subtitle=L("subtitle"),
        cover=[
            [L("transfer"), tr["name"] or "-"],
            [L("seller"), seller.get("name", "-")],
            [L("buyer"), (tr["buyer"] or {}).get("name", "-")],
            [
                L("contact"),
                ", ".join(str(seller[k]) for k in ("contact", "phone", "email") if seller.get(k))
                or "-",
            ],
            [L("generated"), when(data["generated_at"])],
        ],
        sections=parts,
        toc_label=L("toc"),
        footer=f"{L('title')} | {tr['name'] or ''}",
        page_per_section=False,
    )


def write_renderings(data: dict[str, Any], folder: Path) -> list[Path]:
    """``transparency.<lang>.html`` and ``transparency.<lang>.pdf`` in zh-CN and en; returns them."""
    return sections.write_renderings(document, data, folder, "transparency")
