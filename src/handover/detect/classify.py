"""The column classifier: value evidence + column-name evidence + neighbouring columns.

Rules (docs/scan.md explains them with examples):

- A *value type* (resident ID, mobile, card, e-mail …) fires when the share of valid
  values among non-null, non-placeholder values reaches 0.8, or 0.5 when the column
  name supports the type; a name that says "order/contract/serial/code" raises the bar
  to 0.95. Look-alikes therefore do not fire: 18-digit contract numbers fail GB 11643,
  11-digit order numbers starting 10/11/12 have no mobile prefix.
- A *context type* (PIN, CVN, amounts, loan terms …) fires only when the name supports
  it and at least 60% of the values fit its pattern.
- Neighbours: amounts in a table of repayment flows are ``transaction``, elsewhere
  ``credit_info``; a "status" column is ``credit_info`` in a table with loan terms; a
  2-4 character Han column is a person's name more readily beside an ID or phone.
- A column whose values are sentences is *free text*: it lists every type found in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handover.detect.names import is_negative, type_weights
from handover.detect.profile import ColumnProfile
from handover.detect.recognizers import BY_KEY, VALUE_TYPES, for_type
from handover.taxonomy import get, level_of, strongest_tier

IDENTITY_DOCS = ("cn_resident_id", "passport", "hk_macau_permit", "taiwan_permit")
FREE_TEXT_MIN_LENGTH = 16


@dataclass
class PiiShare:
    """One PII type in a column and the share of rows holding it."""

    type: str
    share: float


@dataclass
class ColumnResult:
    """The classifier's verdict on one column, with its reasons."""

    name: str
    db_type: str
    primary: str | None = None
    tier: str | None = None
    level: int = 1
    sensitive: bool = False
    free_text: bool = False
    confidence: float = 0.0
    pii: list[PiiShare] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mangled: int = 0

    def to_json(self) -> dict[str, object]:
        """The ``--json`` form of the column (see docs/scan.md)."""
        return {
            "name": self.name,
            "db_type": self.db_type,
            "primary": self.primary,
            "tier": self.tier,
            "level": self.level,
            "sensitive": self.sensitive,
            "free_text": self.free_text,
            "confidence": round(self.confidence, 3),
            "pii": [{"type": p.type, "share": round(p.share, 4)} for p in self.pii],
            "evidence": self.evidence + self.notes,
        }


@dataclass
class _Candidate:
    type: str
    share: float
    confidence: float
    why: list[str]


def context_types(name: str) -> frozenset[str]:
    """Types whose context-only recognizers may run on column ``name``."""
    w = type_weights(name)
    out = set(w)
    if "amount" in w:
        out |= {"transaction", "credit_info"}
    if "status" in w:
        out.add("credit_info")
    return frozenset(out)


def is_free_text(name: str, p: ColumnProfile) -> bool:
    """Sentences, not values: long Han text with punctuation or spaces, or a notes name."""
    if not p.considered or not p.han:
        return False
    w = type_weights(name)
    sentences = p.sentence_like / p.considered
    han = p.han / p.considered
    if "free_text" in w and p.mean_length >= 8:
        return True
    return p.mean_length >= FREE_TEXT_MIN_LENGTH and sentences >= 0.3 and han >= 0.5


def _value_candidates(
    name: str, p: ColumnProfile, weights: dict[str, tuple[float, str]], neighbours: set[str]
) -> list[_Candidate]:
    negative = is_negative(name)
    out = []
    for t, n_valid in p.valid.items():
        if t not in VALUE_TYPES:
            continue
        share = n_valid / p.considered
        w, why_name = weights.get(t, (0.0, ""))
        if t == "cn_mobile" and "phone" in (weights.get("cn_landline", (0, ""))[1]):
            w = max(w, weights["cn_landline"][0])
        threshold = 0.5 if w >= 0.7 else (0.95 if negative else 0.8)
        if t == "person_name" and w < 0.7:
            # Names need many distinct values (labels repeat) or an ID/phone beside them.
            if p.distinct < min(30, max(3, p.considered // 4)):
                continue
            if {"cn_resident_id", "cn_mobile"} & neighbours:
                threshold = 0.6
        if t in ("gender",) and w < 0.7:
            threshold = 0.9
        if t == "address" and w < 0.7:
            threshold = 0.6
        if share < threshold:
            continue
        rec_keys = [k for k in p.by_key if BY_KEY[k].type == t]
        checks = "; ".join(BY_KEY[k].check for k in rec_keys)
        ex = ", ".join(p.examples.get(t, []))
        why = [
            f"{t}: {share:.1%} of {p.considered} values pass {checks}"
            + (f" (e.g. {ex})" if ex else "")
        ]
        if why_name:
            why.append(why_name)
        if t == "person_name" and w < 0.7 and {"cn_resident_id", "cn_mobile"} & neighbours:
            why.append("neighbours: the table holds IDs/phones of the same people")
        base = max(BY_KEY[k].score for k in rec_keys) if rec_keys else 0.7
        conf = min(0.99, 0.45 + 0.35 * share + 0.15 * w + 0.05 * base)
        out.append(_Candidate(t, share, conf, why))
    return out


def _resolve_pseudo(
    weights: dict[str, tuple[float, str]], table_hints: dict[str, int]
) -> dict[str, tuple[float, str]]:
    w = dict(weights)
    if "amount" in w:
        amt = w.pop("amount")
        target = "transaction" if table_hints.get("transaction", 0) else "credit_info"
        if target not in w:
            w[target] = (amt[0] * 0.9, amt[1] + f"; an amount in a table of {target} columns")
    if "status" in w:
        st = w.pop("status")
        if table_hints.get("credit_info", 0) >= 2 and "credit_info" not in w:
            w["credit_info"] = (st[0] * 0.9, st[1] + "; a status beside loan terms (neighbours)")
    return w


def classify_column(
    name: str, db_type: str, p: ColumnProfile, table_hints: dict[str, int], neighbours: set[str]
) -> ColumnResult:
    """Decide the PII types of one column from its profile, name and neighbours."""
    res = ColumnResult(name=name, db_type=db_type)
    weights = _resolve_pseudo(type_weights(name), table_hints)
    if p.truncated:
        res.notes.append(
            f"note: {p.truncated} cells longer than 1 MiB: only their first 1 MiB was scanned"
        )
    if p.placeholders:
        res.notes.append(f"note: {p.placeholders} placeholder values (无, N/A, 0 …) left out")
    if p.binary:
        res.notes.append(
            f"binary: {p.binary} values are bytes, not text: not scanned (classified by name)"
        )
    if is_free_text(name, p):
        res.free_text = True
        return _free_text_result(res, p)
    cands = _value_candidates(name, p, weights, neighbours)
    fired = {c.type for c in cands}
    # Mixed identity-document columns (证件号码): list every document type present.
    if "id_document" in {h for h in _hints(name)} or {"cn_resident_id"} & fired:
        doc_share = sum(p.share(t) for t in IDENTITY_DOCS if t != "cn_resident_id")
        if "id_document" in _hints(name) and p.share("cn_resident_id") + doc_share >= 0.5:
            for t in IDENTITY_DOCS:
                if t not in fired and p.valid.get(t, 0) >= 2 and p.share(t) >= 0.0005:
                    ex = ", ".join(p.examples.get(t, []))
                    cands.append(
                        _Candidate(
                            t,
                            p.share(t),
                            0.7,
                            [
                                f"{t}: {p.share(t):.2%} of values in an identity-document column (e.g. {ex})"
                            ],
                        )
                    )
            fired = {c.type for c in cands}
    _add_mangled(res, name, p, weights, cands, fired)
    fired = {c.type for c in cands}
    if not cands:
        cands = _context_candidates(p, weights)
    if not cands and not p.considered:
        cands = _name_only(p, weights)
    if not cands:
        res.confidence = round(1.0 - max((p.share(t) for t in p.valid), default=0.0) * 0.5, 3)
        res.evidence.append(_no_pii_reason(name, p))
        return res
    cands.sort(key=lambda c: (-c.confidence, -c.share))
    res.primary = cands[0].type
    res.confidence = cands[0].confidence
    res.pii = [PiiShare(c.type, c.share) for c in cands]
    for c in cands:
        res.evidence.extend(c.why)
    return _with_tier(res)


def _hints(name: str) -> set[str]:
    from handover.detect.names import name_evidence

    return {h.hint for h in name_evidence(name)}


def _add_mangled(
    res: ColumnResult,
    name: str,
    p: ColumnProfile,
    weights: dict[str, tuple[float, str]],
    cands: list[_Candidate],
    fired: set[str],
) -> None:
    if not p.mangled:
        return
    res.mangled = p.mangled
    ex = p.mangled_example or ""
    shown = ex[:3] + "…" + ex[ex.find("E") :] if "E" in ex.upper() else "…"
    res.notes.append(
        f"mangled: {p.mangled} values are Excel scientific notation (e.g. {shown}): "
        "the digits beyond the 15th are already lost"
    )
    if fired:
        return
    if p.mangled / p.considered < 0.5:
        return
    exp = max(p.mangled_exp, key=lambda e: p.mangled_exp[e]) if p.mangled_exp else 0
    by_exp: dict[int, str] = {17: "cn_resident_id", 14: "cn_resident_id", 10: "cn_mobile"}
    t: str | None = next(
        (h for h in ("cn_resident_id", "bank_card", "cn_mobile") if h in weights), None
    )
    t = t or by_exp.get(exp) or ("bank_card" if 15 <= exp <= 18 else None)
    if t:
        cands.append(
            _Candidate(
                t,
                p.mangled / p.considered,
                0.6,
                [f"{t}: {p.mangled} mangled numbers of {exp + 1} digits"],
            )
        )


def _context_candidates(
    p: ColumnProfile, weights: dict[str, tuple[float, str]]
) -> list[_Candidate]:
    out = []
    for t, (w, why_name) in weights.items():
        if t in ("free_text", "id_document", "phone", "amount", "status"):
            continue
        recs = for_type(t)
        if not recs or not p.considered:
            continue
        share = p.share(t)
        if share < 0.6:
            continue
        checks = "; ".join(sorted({r.check for r in recs if r.key in p.by_key}))
        ex = ", ".join(p.examples.get(t, []))
        why = [
            why_name,
            f"{t}: {share:.1%} of {p.considered} values fit ({checks})"
            + (f", e.g. {ex}" if ex else ""),
        ]
        out.append(_Candidate(t, share, min(0.95, 0.4 + 0.35 * w + 0.2 * share), why))
    return out


def _name_only(p: ColumnProfile, weights: dict[str, tuple[float, str]]) -> list[_Candidate]:
    out = []
    for t, (w, why_name) in weights.items():
        if t in ("free_text", "id_document", "phone", "amount", "status") or not for_type(t):
            continue
        if w >= 0.8:
            out.append(
                _Candidate(
                    t,
                    0.0,
                    round(0.3 + 0.2 * w, 3),
                    [
                        why_name,
                        "no text values to check (binary data): type from the name only"
                        if p.binary
                        else "no values to check (all null/placeholder): type from the name only",
                    ],
                )
            )
    return out[:1]


def _no_pii_reason(name: str, p: ColumnProfile) -> str:
    if not p.considered and p.binary:
        return "binary data (bytes, not text) and no PII name"
    if not p.considered:
        return "no values to check (empty, null or placeholders) and no PII name"
    best = max(p.valid.items(), key=lambda kv: kv[1], default=None)
    if best is None:
        return f"no PII: none of {p.considered} values matches a recognizer"
    t, n = best
    neg = " (name says key/code/serial)" if is_negative(name) else ""
    return (
        f"no PII: only {n / p.considered:.1%} of values look like {t}{neg}; "
        "below the threshold, so look-alike values are not reported"
    )


def _free_text_result(res: ColumnResult, p: ColumnProfile) -> ColumnResult:
    rows = p.text_rows or p.considered
    found = [(t, n) for t, n in p.text_hits.items() if n >= 1 and (n >= 2 or rows < 50)]
    found.sort(key=lambda x: -x[1])
    res.pii = [PiiShare(t, n / rows) for t, n in found]
    res.evidence.append(
        f"free text: {p.considered} values, mean length {p.mean_length:.0f}, "
        f"{p.sentence_like / max(p.considered, 1):.0%} sentence-like"
    )
    for t, n in found:
        ex = ", ".join(p.text_examples.get(t, []))
        res.evidence.append(f"{t}: in {n} of {rows} cells" + (f" (e.g. {ex})" if ex else ""))
    if res.pii:
        res.primary = max(res.pii, key=lambda s: (_tier_rank(s.type), s.share)).type
        res.confidence = 0.9
    else:
        res.confidence = 0.8
    return _with_tier(res)


def _tier_rank(t: str) -> int:
    return {"C3": 3, "C2": 2, "C1": 1}.get(get(t).tier, 0)


def _with_tier(res: ColumnResult) -> ColumnResult:
    types = [s.type for s in res.pii]
    res.tier = strongest_tier(types)
    res.level = level_of(res.tier)
    res.sensitive = any(get(t).sensitive for t in types)
    return res


def table_hints(columns: list[str]) -> dict[str, int]:
    """How many columns of a table carry each name hint (for neighbour evidence)."""
    counts: dict[str, int] = {}
    for c in columns:
        for t in type_weights(c):
            counts[t] = counts.get(t, 0) + 1
    return counts


def finish_table(results: list[ColumnResult]) -> None:
    """Columns without PII in a table of personal records are C1 (internal, level 2)."""
    personal = any(r.pii for r in results)
    for r in results:
        if not r.pii and personal:
            r.tier = "C1"
            r.level = level_of("C1")
            r.evidence.append("C1: internal data kept with personal records (JR/T 0171)")
