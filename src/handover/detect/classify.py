"""The column classifier: value evidence + column-name evidence + neighbouring columns.

Rules (docs/scan.md explains them with examples):

- A *value type* (resident ID, mobile, card, e-mail …) fires when the share of valid
  values among non-null, non-placeholder values reaches 0.8, or 0.5 when the column
  name supports the type; a name that says "order/contract/serial/code" raises the bar
  to 0.95. Look-alikes therefore do not fire: 18-digit contract numbers fail GB 11643,
  11-digit order numbers starting 10/11/12 have no mobile prefix.
- Look-alikes count *against* a type: values shaped like it that fail its check mean
  about ``chance / (1 - chance)`` as many passing ones are chance too, so the share
  counted is the genuine estimate; a dense run of numbers is a numbering. An ambiguous
  name hint (``dh``, a word ending such as ``ddh``) no longer lowers the bar when the
  values contradict the type; an unambiguous one still carries the column, less surely.
  The column's notes say so. Masked values (138****5678) count beside clear ones only.
- A *context type* (PIN, CVN, amounts, loan terms …) fires only when the name supports
  it and at least 60% of the values fit its pattern.
- Neighbours: amounts in a table of repayment flows are ``transaction``, elsewhere
  ``credit_info``; a "status" column is ``credit_info`` in a table with loan terms; a
  2-4 character Han column is a person's name more readily beside an ID or phone.
- A column whose values are sentences is *free text*: it lists every type found in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handover.detect.messages import Note, joined, keys_json
from handover.detect.names import AMBIGUOUS, NameHit, ambiguous_hints, is_negative, type_weights
from handover.detect.profile import NUMBERING_DENSITY, ColumnProfile, mangled_shown
from handover.detect.recognizers import BY_KEY, RECOGNIZERS, VALUE_TYPES, for_type
from handover.i18n import Msg
from handover.taxonomy import get, level_of, strongest_tier

IDENTITY_DOCS = ("cn_resident_id", "passport", "hk_macau_permit", "taiwan_permit")
FREE_TEXT_MIN_LENGTH = 16
# Look-alikes contradict a type when chance explains at least this share of the values
# that pass (and at least CONTRA_MIN fail): ``1`` + ten random digits, all of them; real
# mobiles with 2 % test numbers, 3 %; IDs with 30 % bad check digits, none (random
# digits almost never pass GB 11643, so the 70 % that do are real).
CONTRA_SHARE = 0.15
CONTRA_MIN = 3
NUMBERING_MIN = 20  # distinct look-alike numbers a numbering needs (and NUMBERING_DENSITY)


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
    evidence: list[Note] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    mangled: int = 0

    def to_json(self) -> dict[str, object]:
        """The ``--json`` form of the column (see docs/scan.md): ``evidence`` in English,
        ``evidence_keys`` the same items as catalogue keys and values."""
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
            "evidence": [str(e) for e in self.evidence + self.notes],
            "evidence_keys": [keys_json(e) for e in self.evidence + self.notes],
        }


@dataclass
class _Candidate:
    type: str
    share: float
    confidence: float
    why: list[Msg]


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


def _eg(p: ColumnProfile, pii_type: str, key: str = "detect.eg") -> Msg | str:
    """Masked examples of ``pii_type`` as a clause, or nothing."""
    ex = ", ".join(p.examples.get(pii_type, []))
    return Msg(key, ex=ex) if ex else ""


def _checks(keys: list[str]) -> Msg | str:
    return joined([Msg(f"detect.check.{k}") for k in keys])


def _value_candidates(
    name: str,
    p: ColumnProfile,
    weights: dict[str, tuple[float, Msg]],
    neighbours: set[str],
    notes: list[Note],
) -> list[_Candidate]:
    negative = is_negative(name)
    ambiguous = ambiguous_hints(name)
    out = []
    for t, n_valid in p.valid.items():
        if t not in VALUE_TYPES:
            continue
        rec_keys = [k for k in p.by_key if BY_KEY[k].type == t]
        if all(BY_KEY[k].masked for k in rec_keys):
            # Masked values alone (an extract's 138****5678) are a de-identified display
            # form: they count beside clear values, they do not make the column.
            if n_valid >= 0.5 * p.considered:
                notes.append(Msg("detect.note.masked_only", type=t, n=n_valid, eg=_eg(p, t)))
            continue
        share = n_valid / p.considered
        w, why_name = weights.get(t, (0.0, None))
        landline = weights.get("cn_landline")
        said = landline[1].values if landline else {}
        if t == "cn_mobile" and any("phone" in str(said.get(k, "")) for k in said):
            w = max(w, weights["cn_landline"][0])
        ev = against(p, t)
        hint = ambiguous.get(t) if w >= 0.7 else None
        contradicted = ev is not None and ev.contradicts
        if ev is not None and contradicted and (w >= 0.7 or share >= _bar(negative)):
            # Said whenever it decides the verdict: a name hint, or a share that passes.
            notes.append(ev.note(t, _checks(rec_keys)))
        if hint is not None and contradicted:
            # An ambiguous name does not carry values that contradict it (issue 14.4).
            notes.append(_set_aside(name, hint, t))
            w, why_name = 0.0, None
        # The values count as the share that is not chance, unless an unambiguous name
        # says what the column is: then it carries the column (at a lower confidence).
        counted = share if w >= 0.7 and hint is None else (ev.genuine if ev else share)
        threshold = 0.5 if w >= 0.7 else _bar(negative)
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
        if counted < threshold:
            continue
        if ev is not None and contradicted and w >= 0.7:
            notes.append(Msg("detect.note.name_carries", type=t))
        why = [
            Msg(
                "detect.ev.values_pass",
                type=t,
                share=share,
                considered=p.considered,
                checks=_checks(rec_keys),
                eg=_eg(p, t),
            )
        ]
        if why_name:
            why.append(why_name)
        if t == "person_name" and w < 0.7 and {"cn_resident_id", "cn_mobile"} & neighbours:
            why.append(Msg("detect.ev.neighbours"))
        base = max(BY_KEY[k].score for k in rec_keys) if rec_keys else 0.7
        evidence = ev.genuine if ev else share
        conf = min(0.99, 0.45 + 0.35 * evidence + 0.15 * w + 0.05 * base)
        out.append(_Candidate(t, share, conf, why))
    return out


def _bar(negative: bool) -> float:
    """The share a value type needs without name support (more under a key/code name)."""
    return 0.95 if negative else 0.8


def _set_aside(name: str, hint: NameHit, pii_type: str) -> Msg:
    readings = (
        Msg("detect.ambiguous.suffix", alias=hint.alias)
        if hint.how == "suffix"
        else Msg("detect.ambiguous.reads", words=AMBIGUOUS[hint.alias])
    )
    return Msg(
        "detect.note.hint_set_aside", name=name, alias=hint.alias, why=readings, type=pii_type
    )


@dataclass(frozen=True)
class Against:
    """What a column's look-alike values say against one value type."""

    shaped: int  # values with one of the type's look-alike shapes
    failed: int  # of them, values that no recognizer of the type accepts
    random: float  # share of random digits of those shapes that fails (1 - chance)
    chance: float  # passing values that random digits would give beside ``failed``
    genuine: float  # estimated share of values that are the type (``valid - chance``)
    numbering: float | None  # density of the run of numbers the values form, if one

    @property
    def contradicts(self) -> bool:
        """Chance explains a good part of the values that pass, or they count up."""
        if self.numbering is not None:
            return True
        valid = self.shaped - self.failed
        return self.failed >= CONTRA_MIN and self.chance >= CONTRA_SHARE * valid

    def note(self, pii_type: str, checks: Msg | str) -> Msg:
        """The column note that says why the values count against ``pii_type``."""
        if self.numbering is not None:
            return Msg(
                "detect.note.numbering", type=pii_type, n=self.shaped, density=self.numbering
            )
        return Msg(
            "detect.note.contradicted",
            type=pii_type,
            shaped=self.shaped,
            failed=self.failed,
            share=self.failed / self.shaped,
            random=self.random,
            checks=checks,
            chance=round(self.chance),
            genuine=self.genuine,
        )


def against(p: ColumnProfile, pii_type: str) -> Against | None:
    """The look-alike evidence against ``pii_type`` in profile ``p`` (None: none ran).

    Values shaped like the type that fail its check are counted, not ignored: random
    digits pass at the recognizer's ``chance``, so ``failed`` of them come with about
    ``failed * chance / (1 - chance)`` passing ones; what is left is the genuine share.
    """
    keys = [r.key for r in RECOGNIZERS if r.type == pii_type and r.chance is not None]
    failed = sum(p.contra.get(k, 0) for k in keys)
    span = p.spread.get(pii_type)
    if not failed and span is None:
        return None
    valid = p.valid.get(pii_type, 0)
    chance = sum(p.contra.get(k, 0) * _odds(BY_KEY[k].chance) for k in keys)
    random = (
        sum(p.contra.get(k, 0) * (1 - (BY_KEY[k].chance or 0.0)) for k in keys) / failed
        if failed
        else 0.0
    )
    numbering = None
    if span is not None and span[2] >= NUMBERING_MIN:
        density = span[2] / (span[1] - span[0] + 1)
        numbering = density if density >= NUMBERING_DENSITY else None
    genuine = 0.0 if numbering is not None else max(0.0, valid - chance) / p.considered
    return Against(valid + failed, failed, random, chance, genuine, numbering)


def _odds(chance: float | None) -> float:
    c = chance or 0.0
    return c / (1 - c)


def _resolve_pseudo(
    weights: dict[str, tuple[float, Msg]], table_hints: dict[str, int]
) -> dict[str, tuple[float, Msg]]:
    w = dict(weights)
    if "amount" in w:
        amt = w.pop("amount")
        target = "transaction" if table_hints.get("transaction", 0) else "credit_info"
        if target not in w:
            why = Msg("detect.ev.amount_in_table", why=amt[1], target=target)
            w[target] = (amt[0] * 0.9, why)
    if "status" in w:
        st = w.pop("status")
        if table_hints.get("credit_info", 0) >= 2 and "credit_info" not in w:
            w["credit_info"] = (st[0] * 0.9, Msg("detect.ev.status_beside_terms", why=st[1]))
    return w


def classify_column(
    name: str, db_type: str, p: ColumnProfile, table_hints: dict[str, int], neighbours: set[str]
) -> ColumnResult:
    """Decide the PII types of one column from its profile, name and neighbours."""
    res = ColumnResult(name=name, db_type=db_type)
    weights = _resolve_pseudo(type_weights(name), table_hints)
    if p.truncated:
        res.notes.append(Msg("detect.note.truncated", n=p.truncated))
    if p.placeholders:
        res.notes.append(Msg("detect.note.placeholders", n=p.placeholders))
    if p.binary:
        res.notes.append(Msg("detect.note.binary", n=p.binary))
    if is_free_text(name, p):
        res.free_text = True
        return _free_text_result(res, p)
    cands = _value_candidates(name, p, weights, neighbours, res.notes)
    fired = {c.type for c in cands}
    # Mixed identity-document columns (证件号码): list every document type present.
    if "id_document" in {h for h in _hints(name)} or {"cn_resident_id"} & fired:
        doc_share = sum(p.share(t) for t in IDENTITY_DOCS if t != "cn_resident_id")
        if "id_document" in _hints(name) and p.share("cn_resident_id") + doc_share >= 0.5:
            for t in IDENTITY_DOCS:
                if t not in fired and p.valid.get(t, 0) >= 2 and p.share(t) >= 0.0005:
                    why = Msg("detect.ev.id_document", type=t, share=p.share(t), eg=_eg(p, t))
                    cands.append(_Candidate(t, p.share(t), 0.7, [why]))
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
    weights: dict[str, tuple[float, Msg]],
    cands: list[_Candidate],
    fired: set[str],
) -> None:
    if not p.mangled:
        return
    res.mangled = p.mangled
    shown = mangled_shown(p.mangled_example or "")
    res.notes.append(Msg("detect.note.mangled", n=p.mangled, example=shown))
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
                [Msg("detect.ev.mangled", type=t, n=p.mangled, digits=exp + 1)],
            )
        )


def _context_candidates(
    p: ColumnProfile, weights: dict[str, tuple[float, Msg]]
) -> list[_Candidate]:
    out = []
    for t, (w, why_name) in weights.items():
        if t in ("free_text", "id_document", "phone", "amount", "status") or t in VALUE_TYPES:
            # Value types were judged on their values (with the name's support) already:
            # a masked-only or contradicted column must not come back in through here.
            continue
        recs = for_type(t)
        if not recs or not p.considered:
            continue
        share = p.share(t)
        if share < 0.6:
            continue
        checks = _checks(sorted({r.key for r in recs if r.key in p.by_key}))
        why = [
            why_name,
            Msg(
                "detect.ev.values_fit",
                type=t,
                share=share,
                considered=p.considered,
                checks=checks,
                eg=_eg(p, t, "detect.eg_inline"),
            ),
        ]
        out.append(_Candidate(t, share, min(0.95, 0.4 + 0.35 * w + 0.2 * share), why))
    return out


def _name_only(p: ColumnProfile, weights: dict[str, tuple[float, Msg]]) -> list[_Candidate]:
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
                        Msg(
                            "detect.ev.name_only_binary"
                            if p.binary
                            else "detect.ev.name_only_empty"
                        ),
                    ],
                )
            )
    return out[:1]


def _no_pii_reason(name: str, p: ColumnProfile) -> Msg:
    if not p.considered and p.binary:
        return Msg("detect.ev.no_pii_binary")
    if not p.considered:
        return Msg("detect.ev.no_pii_empty")
    best = max(p.valid.items(), key=lambda kv: kv[1], default=None)
    if best is None:
        return Msg("detect.ev.no_pii_none", considered=p.considered)
    t, n = best
    neg = Msg("detect.ev.negative_name") if is_negative(name) else ""
    return Msg("detect.ev.no_pii_below", share=n / p.considered, type=t, negative=neg)


def _free_text_result(res: ColumnResult, p: ColumnProfile) -> ColumnResult:
    rows = p.text_rows or p.considered
    found = [(t, n) for t, n in p.text_hits.items() if n >= 1 and (n >= 2 or rows < 50)]
    found.sort(key=lambda x: -x[1])
    res.pii = [PiiShare(t, n / rows) for t, n in found]
    res.evidence.append(
        Msg(
            "detect.ev.free_text",
            considered=p.considered,
            mean=p.mean_length,
            sentences=p.sentence_like / max(p.considered, 1),
        )
    )
    for t, n in found:
        ex = ", ".join(p.text_examples.get(t, []))
        eg = Msg("detect.eg", ex=ex) if ex else ""
        res.evidence.append(Msg("detect.ev.in_cells", type=t, n=n, rows=rows, eg=eg))
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
            r.evidence.append(Msg("detect.ev.c1_internal"))
