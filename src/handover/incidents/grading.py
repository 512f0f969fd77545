"""Grading an incident per the CAC reporting measures (docs/incidents.md): the grade the
counts give, qualitative criteria a person judged met, and a decided grade that may only
be higher, with a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput
from handover.incidents.rules import GRADES, Rules

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class GradeDecision:
    """The grade the rules give, the grade decided, and why: the quantitative criteria
    met (``criteria``) and the qualitative ones a person judged met (``judged``)."""

    computed: str
    grade: str
    criteria: list[dict[str, Any]]
    reason: str | None
    judged: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Machine form (stored as the incident's grade basis)."""
        return {
            "computed": self.computed,
            "grade": self.grade,
            "criteria": self.criteria,
            "reason": self.reason,
            "judged": self.judged,
        }


def judge(
    rules: Rules,
    criteria: Sequence[str],
    *,
    reason: str | None,
    by: str,
    at: dt.datetime,
) -> list[dict[str, Any]]:
    """The qualitative criteria ``criteria`` (ids of the rules file) as judged met by
    ``by`` at ``at`` for ``reason`` (needed): each with its text and legal source."""
    ids = list(dict.fromkeys(c.strip() for c in criteria if c.strip()))
    if not ids:
        return []
    why = (reason or "").strip()
    if not why:
        raise BadInput.msg("incidents.criterion_reason", criteria=", ".join(ids))
    return [
        {**rules.criterion(c).to_json(), "by": by, "at": at.isoformat(), "reason": why[:2000]}
        for c in ids
    ]


def decide_grade(
    rules: Rules,
    people: int | None,
    direct_loss_cny: int | None,
    grade: str | None = None,
    reason: str | None = None,
    judged: Sequence[dict[str, Any]] = (),
) -> GradeDecision:
    """The rules' grade: the highest of the quantitative criteria the counts meet and the
    qualitative criteria a person judged met (:func:`judge`); a person may decide a
    higher grade still with a reason, never a lower one."""
    quantitative, met = rules.grade_for(
        {"people_affected": people, "direct_loss_cny": direct_loss_cny}
    )
    computed = max([quantitative, *(j["grade"] for j in judged)], key=GRADES.index)
    criteria = [
        {
            "grade": g.grade,
            "metric": g.metric,
            "min": g.min,
            "source": g.source,
            "verified": g.verified,
        }
        for g in met
    ]
    judged = list(judged)
    if grade is None:
        return GradeDecision(computed, computed, criteria, None, judged)
    if grade not in GRADES:
        raise BadInput.msg("incidents.bad_grade", grade=grade, grades=", ".join(GRADES))
    if GRADES.index(grade) < GRADES.index(computed):
        raise BadInput.msg("incidents.grade_lower", grade=grade, computed=computed)
    if grade != computed and not (reason or "").strip():
        raise BadInput.msg("incidents.grade_reason", grade=grade, computed=computed)
    return GradeDecision(computed, grade, criteria, (reason or "").strip() or None, judged)
