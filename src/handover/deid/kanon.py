"""k-anonymity of a table over its quasi-identifiers (GB/T 37964-2019 §5, Annex A), and the
report of how the extract reached it.

Records sharing the same generalised quasi-identifier values form an equivalence class;
the table is k-anonymous when every class holds at least k records. :func:`k_anonymity`
measures that with one Arrow ``group_by``; the extract measures its written output with
it (never trusting the search's bookkeeping alone). :class:`KReport` adds what the search
(:mod:`handover.deid.anonymize`) chose: levels, loss, suppressed records, or the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from handover.i18n import Msg, t


@dataclass
class KReport:
    """k-anonymity of one table: measured on the output, plus the generalisation chosen."""

    table: str
    quasi_identifiers: list[str]
    rows: int  # records in the source table
    k: int
    min_k: int = 0
    classes: int = 0
    rows_below_k: int = 0
    classes_below_k: int = 0
    notes: list[str] = field(default_factory=list)
    pii_types: list[str | None] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)  # chosen level per quasi-identifier
    start_levels: list[str] = field(default_factory=list)  # the fixed rule's level
    loss: list[float] = field(default_factory=list)  # Loss Metric per quasi-identifier
    total_loss: float = 0.0
    suppressed: int = 0
    max_suppressed: int = 0
    shipped: bool = True
    reason: Msg | None = None  # why the table is refused
    l_column: str | None = None
    distinct_l: int = 0
    min_l: int | None = None
    nodes: int = 0
    lattice: int = 0
    exhaustive: bool = True

    @property
    def share_below_k(self) -> float:
        """Share of the measured records that sit in classes smaller than k."""
        measured = self.shipped_rows
        return self.rows_below_k / measured if measured else 0.0

    @property
    def shipped_rows(self) -> int:
        """Records written to the extract (0 when refused)."""
        return self.rows - self.suppressed if self.shipped else 0

    @property
    def satisfied(self) -> bool:
        """Shipped, and every class of the output holds at least k records."""
        return self.shipped and (self.shipped_rows == 0 or self.min_k >= self.k)

    def to_json(self) -> dict[str, Any]:
        """Machine form (counts, level names and losses; never a value)."""
        out: dict[str, Any] = {
            "table": self.table,
            "quasi_identifiers": self.quasi_identifiers,
            "rows": self.rows,
            "k": self.k,
            "shipped": self.shipped,
            "shipped_rows": self.shipped_rows,
            "suppressed": self.suppressed,
            "max_suppressed": self.max_suppressed,
            "min_k": self.min_k,
            "classes": self.classes,
            "classes_below_k": self.classes_below_k,
            "rows_below_k": self.rows_below_k,
            "share_below_k": round(self.share_below_k, 6),
            "satisfied": self.satisfied,
            "columns": [
                {
                    "column": c,
                    "pii_type": p,
                    "level": lv,
                    "start_level": s,
                    "loss": round(x, 6),
                }
                for c, p, lv, s, x in zip(
                    self.quasi_identifiers,
                    self.pii_types,
                    self.levels,
                    self.start_levels,
                    self.loss,
                    strict=True,
                )
            ],
            "total_loss": round(self.total_loss, 6),
            "search": {"nodes": self.nodes, "lattice": self.lattice, "optimal": self.exhaustive},
        }
        if self.distinct_l:
            out["l_diversity"] = {
                "column": self.l_column,
                "l": self.distinct_l,
                "min_l": self.min_l,
            }
        if self.reason is not None:
            out["reason"] = {
                "key": self.reason.key,
                "params": self.reason.params(),
                "en": self.reason.render("en"),
            }
        return out


def k_anonymity(table: str, qi: pa.Table, k: int) -> KReport:
    """The k-anonymity report of ``qi`` (one column per quasi-identifier, already generalised)."""
    rep = KReport(table, list(qi.column_names), qi.num_rows, k)
    if qi.num_rows == 0 or qi.num_columns == 0:
        return rep
    counts = qi.group_by(qi.column_names, use_threads=False).aggregate([([], "count_all")])
    sizes = counts.column("count_all")
    small = pc.less(sizes, k)
    rep.classes = counts.num_rows
    rep.min_k = int(pc.min(sizes).as_py())
    rep.classes_below_k = int(pc.sum(small).as_py() or 0)
    rep.rows_below_k = int(pc.sum(pc.if_else(small, sizes, 0)).as_py() or 0)
    return rep


def level_label(name: str, lang: str) -> str:
    """A hierarchy level's name for the report (``5y`` → ``5 年段`` / ``5-year band``)."""
    if name.startswith("band:"):
        return t("deid.level.band", lang, width=name.split(":", 1)[1])
    return t("deid.level." + ("star" if name == "*" else name), lang)


@dataclass
class ReportContext:
    """What the whole extract was asked for and what it did beyond single tables."""

    k: int
    max_suppression: float
    quasi_identifier_types: list[str]
    l_column: str | None = None
    distinct_l: int = 0
    #: references into a table that lost records: {table, column, ref_table, rows}
    joins: list[dict[str, Any]] = field(default_factory=list)
    #: shipped tables without any quasi-identifier column
    plain: list[str] = field(default_factory=list)


def markdown(reports: list[KReport], lang: str, ctx: ReportContext | None = None) -> str:
    """The report as Markdown in zh-CN or English: summary, per-table levels and loss, joins."""
    if ctx is None:
        ctx = ReportContext(reports[0].k if reports else 5, 0.0, [])

    def tr(key: str, **values: object) -> str:
        return t("deid.report." + key, lang, **values)

    ldiv = tr("l_set", column=ctx.l_column, l=ctx.distinct_l) if ctx.distinct_l else tr("l_none")
    lines = [
        tr("title"),
        "",
        tr(
            "intro",
            k=ctx.k,
            cap=f"{ctx.max_suppression:.2%}",
            qi=", ".join(ctx.quasi_identifier_types) or "-",
            l=ldiv,
        ),
        "",
        tr("summary_head"),
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        if r.shipped:
            verdict = tr("shipped") if r.satisfied else tr("not_met")
            share = f"{r.suppressed / r.rows:.2%}" if r.rows else "0.00%"
            lines.append(
                f"| {r.table} | {r.rows} | {r.suppressed} ({share}) | {r.shipped_rows} | "
                f"{r.min_k} | {r.classes} | {r.total_loss:.3f} | {verdict} |"
            )
        else:
            why = r.reason.render(lang) if r.reason is not None else ""
            lines.append(
                f"| {r.table} | {r.rows} | - | 0 | - | - | - | {tr('refused', reason=why)} |"
            )
    for r in reports:
        lines += ["", f"## {r.table}", "", tr("columns_head"), "|---|---|---|---|---|"]
        for c, p, lv, s, x in zip(
            r.quasi_identifiers, r.pii_types, r.levels, r.start_levels, r.loss, strict=True
        ):
            chosen = level_label(lv, lang) if r.shipped else "-"
            shown = f"{x:.3f}" if r.shipped else "-"
            lines.append(f"| {c} | {p or '-'} | {level_label(s, lang)} | {chosen} | {shown} |")
        lines.append("")
        search = tr(
            "search_optimal" if r.exhaustive else "search_budget", nodes=r.nodes, lattice=r.lattice
        )
        if r.shipped:
            lines.append(
                tr("table_done", suppressed=r.suppressed, cap=r.max_suppressed, min_k=r.min_k)
                + " "
                + search
            )
            if r.distinct_l:
                lines.append("")
                lines.append(tr("l_done", column=r.l_column, l=r.distinct_l, min_l=r.min_l))
        else:
            why = r.reason.render(lang) if r.reason is not None else ""
            lines.append(tr("table_refused", reason=why))
    lines += ["", tr("joins_title"), "", tr("joins_intro")]
    if ctx.joins:
        lines += ["", tr("joins_head"), "|---|---|---|"]
        for j in ctx.joins:
            lines.append(f"| {j['table']}.{j['column']} | {j['ref_table']} | {j['rows']} |")
    else:
        lines += ["", tr("joins_none")]
    if ctx.plain:
        lines += ["", tr("plain", tables=", ".join(ctx.plain))]
    return "\n".join(lines) + "\n"
