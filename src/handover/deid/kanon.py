"""k-anonymity of a table over its quasi-identifiers (GB/T 37964-2019 §5, Annex A).

Records sharing the same generalised quasi-identifier values form an equivalence class;
the table is k-anonymous when every class holds at least k records. The report gives the
smallest class (min k), the number of classes, and how many records sit in classes
smaller than the target k — computed with one Arrow ``group_by``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class KReport:
    """k-anonymity of one table."""

    table: str
    quasi_identifiers: list[str]
    rows: int
    k: int
    min_k: int = 0
    classes: int = 0
    rows_below_k: int = 0
    classes_below_k: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def share_below_k(self) -> float:
        return self.rows_below_k / self.rows if self.rows else 0.0

    @property
    def satisfied(self) -> bool:
        return self.rows == 0 or self.min_k >= self.k

    def to_json(self) -> dict[str, Any]:
        """Machine form (counts only, no value)."""
        return {
            "table": self.table,
            "quasi_identifiers": self.quasi_identifiers,
            "rows": self.rows,
            "k": self.k,
            "min_k": self.min_k,
            "classes": self.classes,
            "classes_below_k": self.classes_below_k,
            "rows_below_k": self.rows_below_k,
            "share_below_k": round(self.share_below_k, 6),
            "satisfied": self.satisfied,
        }


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


def markdown(reports: list[KReport], lang: str) -> str:
    """The report as a Markdown table in zh-CN or English."""
    zh = not lang.lower().startswith("en")
    if zh:
        head = [
            "# k-匿名评估报告(GB/T 37964-2019)",
            "",
            "| 表 | 准标识符 | 记录数 | 目标 k | 最小等价类 (min k) | 等价类数 | 低于 k 的记录占比 | 结论 |",
        ]
    else:
        head = [
            "# k-anonymity report (GB/T 37964-2019)",
            "",
            "| table | quasi-identifiers | records | target k | smallest class (min k) | classes | "
            "records in classes below k | verdict |",
        ]
    lines = [*head, "|---|---|---|---|---|---|---|---|"]
    for r in reports:
        verdict = (
            ("满足" if r.satisfied else "不满足") if zh else ("met" if r.satisfied else "not met")
        )
        lines.append(
            f"| {r.table} | {', '.join(r.quasi_identifiers)} | {r.rows} | {r.k} | {r.min_k} | "
            f"{r.classes} | {r.share_below_k:.2%} ({r.rows_below_k}) | {verdict} |"
        )
    return "\n".join(lines) + "\n"
