"""The compliance checklist (``checklist.toml``) evaluated from the ledger.

Every item is computed from recorded events and the facts in :class:`Evidence`, never
ticked by hand, except items whose check is ``attestation``: they count only when a
person attested them (a ``compliance.attest`` ledger event). Each result is ``met``,
``not_met`` (with counter-examples and their ledger sequence numbers), ``attested`` or
``not_applicable`` (with the reason).
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput
from handover.i18n import Msg, normalize_lang
from handover.pia.evidence import Evidence, parse_at

if TYPE_CHECKING:
    from handover.ledger import LedgerEntry

CHECKLIST_FILE = Path(__file__).with_name("checklist.toml")
STATUSES = ("met", "not_met", "attested", "not_applicable")
MAX_EXAMPLES = 50
DATA_ROLES = frozenset({"data_engineer", "dd_analyst", "vendor_staff", "auditor"})
#: data events and the decisions that may authorise them (a step reuses its command's
#: decision: seal's scan, migrate's backup, unseal's migration).
AUTHORISED_BY: dict[str, frozenset[str]] = {
    "scan.run": frozenset({"scan.evidence", "seal", "dd.extract"}),
    "package.seal": frozenset({"seal", "migrate"}),
    "package.unseal": frozenset({"unseal"}),
    "package.restore": frozenset({"unseal"}),
    "migrate.start": frozenset({"migrate", "unseal"}),
    "verify.run": frozenset({"verify"}),
    "dd.extract": frozenset({"dd.extract"}),
    "erase.start": frozenset({"shred"}),
}
ROLE_ACTIONS = frozenset({"governance.manage", "pia.edit", "pia.approve", "compliance.check"})
#: the events by which personal data leaves the seller: a sealed package, a migration
TRANSFER_ACTIONS = ("package.seal", "migrate.start")
MIN_K = 5


@dataclass(frozen=True)
class Item:
    """One checklist item as written in the rules file."""

    id: str
    check: str
    title: tuple[str, str]
    source: tuple[str, str]
    note: tuple[str, str] | None = None


@dataclass(frozen=True)
class Checklist:
    """The versioned rules file: items and changelog."""

    version: int
    items: tuple[Item, ...]
    changelog: tuple[dict[str, Any], ...]


@dataclass
class Result:
    """The evaluation of one item."""

    item: Item
    status: str
    reason: Msg | None = None
    evidence: list[int] = field(default_factory=list)
    counter: list[dict[str, Any]] = field(default_factory=list)
    attested_by: str | None = None

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """Machine form, texts in ``lang``."""
        i = 0 if normalize_lang(lang) == "zh-CN" else 1
        return {
            "id": self.item.id,
            "title": self.item.title[i],
            "source": self.item.source[i],
            "status": self.status,
            "reason": self.reason.render(lang) if self.reason else None,
            "reason_key": self.reason.key if self.reason else None,
            "evidence": self.evidence[:MAX_EXAMPLES],
            "counter_examples": [
                {**c, "what": c["what"].render(lang) if isinstance(c["what"], Msg) else c["what"]}
                for c in self.counter[:MAX_EXAMPLES]
            ],
            "counter_count": len(self.counter),
            "attested_by": self.attested_by,
        }

    def to_bilingual(self) -> dict[str, Any]:
        """Machine form with every text in zh-CN and en (the dossier keeps both)."""
        zh, en = self.to_json("zh-CN"), self.to_json("en")
        both = {k: {"zh-CN": zh[k], "en": en[k]} for k in ("title", "source", "reason")}
        return {
            **en,
            **both,
            "counter_examples": [
                {**c, "what": {"zh-CN": z["what"], "en": c["what"]}}
                for z, c in zip(zh["counter_examples"], en["counter_examples"], strict=True)
            ],
        }


@functools.lru_cache(maxsize=4)
def load_checklist(path: Path = CHECKLIST_FILE) -> Checklist:
    """The rules file; BadInput naming it and the item when malformed or naming an
    unknown check."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        items = []
        for n, it in enumerate(raw["item"], start=1):
            note = it.get("note")
            item = Item(
                str(it["id"]),
                str(it["check"]),
                (str(it["title"][0]), str(it["title"][1])),
                (str(it["source"][0]), str(it["source"][1])),
                (str(note[0]), str(note[1])) if note else None,
            )
            if item.check not in CHECKS:
                raise ValueError(f"item {n} ({item.id}): unknown check {item.check!r}")
            items.append(item)
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            raise ValueError("an item id is used twice")
        return Checklist(int(raw["version"]), tuple(items), tuple(raw.get("changelog", [])))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise BadInput.msg(
            "pia.bad_checklist", path=path, detail=str(exc).splitlines()[0]
        ) from None


def evaluate(ev: Evidence, *, now: dt.datetime, checklist: Checklist | None = None) -> list[Result]:
    """Every item of the checklist evaluated over ``ev`` at ``now``."""
    rules = checklist or load_checklist()
    attestations = _attestations(ev)
    out = []
    for item in rules.items:
        if item.check == "attestation":
            out.append(_attested(item, attestations))
            continue
        res = CHECKS[item.check](item, ev, now)
        # A person may attest an item handover cannot decide (not applicable by rule) or
        # one whose check asks for a statement (cross_border once a PIA says data goes
        # abroad); a computed "not met" is never overridden by a statement.
        if item.id in attestations:
            if res.status == "not_applicable":
                res = _attested(item, attestations)
            elif res.status == "not_met" and res.reason == NEEDS_ATTESTATION:
                # Only a statement made after the last event that asks for it counts: a
                # "no data abroad" attested before a PIA approved with data going abroad
                # says nothing of that PIA (PIPL Art. 38).
                asked, latest = res.evidence, attestations[item.id]
                if latest.seq > max(asked, default=-1):
                    res = _attested(item, attestations)
                    res.evidence = sorted(set(asked) | set(res.evidence))
                else:
                    res.reason = Msg(
                        "pia.check.attestation_stale",
                        name=latest.actor,
                        seq=latest.seq,
                        asked=max(asked),
                    )
                    res.evidence = sorted({*asked, latest.seq})
        out.append(res)
    return out


def score(results: list[Result]) -> dict[str, Any]:
    """Counts per status and the share of applicable items that are met or attested."""
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    applicable = len(results) - counts["not_applicable"]
    good = counts["met"] + counts["attested"]
    return {
        **counts,
        "applicable": applicable,
        "score": round(good / applicable, 4) if applicable else 1.0,
    }


# --- helpers ----------------------------------------------------------------------------


def _attestations(ev: Evidence) -> dict[str, LedgerEntry]:
    out: dict[str, LedgerEntry] = {}
    for e in ev.of("compliance.attest"):
        item = e.details.get("item")
        if isinstance(item, str):
            out[item] = e
    return out


#: the reason of an item that counts once a person attests it
NEEDS_ATTESTATION = Msg("pia.check.needs_attestation")


def _attested(item: Item, att: dict[str, LedgerEntry]) -> Result:
    e = att.get(item.id)
    if e is None:
        return Result(item, "not_met", NEEDS_ATTESTATION)
    if e.details.get("applies") is False:
        return Result(
            item,
            "not_applicable",
            Msg("pia.check.attested_na", name=e.actor, reason=str(e.details.get("note") or "-")),
            [e.seq],
            attested_by=e.actor,
        )
    return Result(
        item, "attested", Msg("pia.check.attested", name=e.actor), [e.seq], attested_by=e.actor
    )


def _ex(e: LedgerEntry, key: str, **values: Any) -> dict[str, Any]:
    return {"seq": e.seq, "actor": e.actor, "action": e.action, "what": Msg(key, **values)}


def _result(
    item: Item, evidence: list[int], counter: list[dict[str, Any]], na: Msg | None = None
) -> Result:
    if na is not None:
        return Result(item, "not_applicable", na, evidence)
    return Result(item, "not_met" if counter else "met", None, evidence, counter)


# --- computed items -----------------------------------------------------------------------


def _pia_before_transfer(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    first = ev.first(*TRANSFER_ACTIONS)
    approved = ev.first("pia.approve")
    if first is None:
        if approved is not None:
            return _result(item, [approved.seq], [])
        return _result(item, [], [], Msg("pia.check.na.no_transfer"))
    if approved is not None and approved.seq < first.seq:
        return _result(item, [approved.seq, first.seq], [])
    return _result(item, [first.seq], [_ex(first, "pia.check.ex.before_pia")])


def _pia_retained(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    approvals = ev.of("pia.approve")
    if not approvals:
        return _result(item, [], [], Msg("pia.check.na.no_pia"))
    # One assessment's report is kept once, until the latest date any of its approvals set
    # (the store keeps the latest): it must reach 3 years after each approval's calendar
    # day where the workspace is (PIPL Art. 56). A later approval's longer keeping thus
    # covers an earlier one recorded a day short (one made 00:00-08:00 Beijing counted on
    # UTC's day before 2026-12-08): approving a new version mends it.
    by_report: dict[str, list[Any]] = {}
    for e in approvals:
        by_report.setdefault(e.subject, []).append(e)
    counter = []
    for events in by_report.values():
        kept = [u for e in events if isinstance(u := e.details.get("retain_until"), str)]
        until = max(kept, default=None)
        for e in events:
            at = parse_at(e.details.get("at"))
            need = _years_after(ev.day(at), 3) if at else None
            if need is None or until is None or until < need.isoformat():
                counter.append(_ex(e, "pia.check.ex.retention", until=str(until), need=str(need)))
    return _result(item, [e.seq for e in approvals], counter)


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _reaches_c2_c3(items: list[str], ev: Evidence) -> bool:
    tiers_of: dict[str, set[str]] = {}
    for tb in (ev.inventory or {}).get("tables", []):
        for c in tb.get("columns", []):
            tiers_of.setdefault(tb["name"], set()).add(str(c.get("tier")))
            tiers_of[f"{tb['name']}.{c['name']}"] = {str(c.get("tier"))}
    for it in items:
        if it in ("*", "C2", "C3"):
            return True
        if it == "C1":
            continue
        # An item the inventory does not know may hold anything.
        if tiers_of.get(it, {"C2"}) & {"C2", "C3"}:
            return True
    return False


def _clear_reads(ev: Evidence) -> list[tuple[LedgerEntry, dt.datetime, list[str]]]:
    out = []
    for e in ev.of("access.allow"):
        d = e.details
        if d.get("action") in ROLE_ACTIONS:
            continue
        body, _, mode = str(d.get("resource", "")).rpartition("/")
        if mode != "clear":
            continue
        items = [x for x in body.split(",") if x]
        at = parse_at(d.get("at"))
        if at is None or not _reaches_c2_c3(items, ev):
            continue
        out.append((e, at, items))
    return out


def _clear_reads_covered(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    reads = _clear_reads(ev)
    if not reads:
        return _result(item, [], [], Msg("pia.check.na.no_reads"))
    counter = []
    for e, at, items in reads:
        person = ev.person(e.actor)
        if person is None:
            counter.append(_ex(e, "pia.check.ex.unknown_person", name=e.actor))
            continue
        ndas = [
            n
            for n in ev.ndas
            # NDAs are dated in the workspace's calendar, as governance decides them
            if n.binds(person) and n.in_force_on(ev.day(at)) and ev.covers(n.items, items)
        ]
        if not ndas:
            counter.append(_ex(e, "pia.check.ex.no_nda", name=e.actor, at=ev.local(at)))
            continue
        for course in ev.required_courses:
            mine = [t for t in ev.training if t.person == person.name and t.course == course]
            if not any(t.current_at(at) for t in mine):
                counter.append(
                    _ex(
                        e,
                        "pia.check.ex.no_training",
                        name=e.actor,
                        course=course,
                        at=ev.local(at),
                    )
                )
                break
    return _result(item, [e.seq for e, _, _ in reads], counter)


def _data_steps_authorised(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    # (actor, action) -> the latest decision so far: a later refusal withdraws an allow.
    decided: dict[tuple[str, str], str] = {}
    steps, counter = [], []
    for e in ev.entries:
        if e.action in ("access.allow", "access.refuse"):
            decided[(e.actor, str(e.details.get("action")))] = e.action
            continue
        allowed_by = AUTHORISED_BY.get(e.action)
        if allowed_by is None:
            continue
        steps.append(e.seq)
        ok = any(decided.get((e.actor, a)) == "access.allow" for a in allowed_by)
        if not ok:
            counter.append(_ex(e, "pia.check.ex.unauthorised", name=e.actor, step=e.action))
    if not steps:
        return _result(item, [], [], Msg("pia.check.na.no_steps"))
    return _result(item, steps, counter)


def _classified_before_seal(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    seals = ev.of("package.seal")
    if not seals:
        return _result(item, [], [], Msg("pia.check.na.no_seal"))
    scans = ev.of("scan.run")
    counter = []
    for e in seals:
        if not any(s.seq < e.seq for s in scans) or e.details.get("scan_id") is None:
            counter.append(_ex(e, "pia.check.ex.no_scan"))
    for tb in (ev.inventory or {}).get("tables", []):
        for c in tb.get("columns", []):
            if c.get("primary") and (not c.get("tier") or c.get("level") is None):
                counter.append(
                    {
                        "seq": None,
                        "actor": "",
                        "action": "scan",
                        "what": Msg(
                            "pia.check.ex.unclassified", column=f"{tb['name']}.{c['name']}"
                        ),
                    }
                )
    return _result(item, [s.seq for s in scans][-1:] + [e.seq for e in seals], counter)


def _packages_encrypted(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    seals = ev.of("package.seal")
    if not seals:
        return _result(item, [], [], Msg("pia.check.na.no_seal"))
    counter = []
    for e in seals:
        keys = e.details.get("column_keys") or {}
        c2, c3, suite = keys.get("C2"), keys.get("C3"), e.details.get("suite")
        if (
            not suite
            or not e.details.get("footer_key")
            or (c2 and c3 and c2 == c3)
            or (isinstance(keys, dict) and any(v is None for v in keys.values()))
        ):
            counter.append(_ex(e, "pia.check.ex.keys"))
    return _result(item, [e.seq for e in seals], counter)


def _dd_deidentified(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    extracts = ev.of("dd.extract")
    if not extracts:
        return _result(item, [], [], Msg("pia.check.na.no_extract"))
    counter = [
        _ex(e, "pia.check.ex.k", k=str(e.details.get("k")), need=MIN_K)
        for e in extracts
        if not isinstance(e.details.get("k"), int) or e.details["k"] < MIN_K
    ]
    return _result(item, [e.seq for e in extracts], counter)


def _migration_verified(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    # A verify counts for a migration only when it compared that migration's source and
    # target (by place: however either was spelled, from whichever folder). A migration
    # read from a sealed package may be verified against the database the package sealed.
    from handover.erase.control import norm_spec, recorded_place

    done = ev.of("migrate.done")
    if not done:
        return _result(item, [], [], Msg("pia.check.na.no_migration"))
    sealed = {  # where a package is -> where the data it sealed was
        norm_spec(e.details["package"]): recorded_place(e.details, "source")
        for e in ev.of("package.seal")
        if isinstance(e.details.get("package"), str) and e.details["package"]
    }
    starts = ev.of("migrate.start")
    verified = [
        (v, recorded_place(v.details, "source"), recorded_place(v.details, "target"))
        for v in ev.of("verify.run")
        if v.details.get("equal") is True
    ]
    evidence, counter = [], []
    for e in done:
        start = next(
            (s for s in reversed(starts) if s.subject == e.subject and s.seq < e.seq), None
        )
        src = recorded_place(start.details, "source") if start else None
        dst = recorded_place(start.details, "target") if start else None
        sources = {src, sealed.get(src or "")} - {None}
        match = next(
            (v for v, vs, vt in verified if v.seq > e.seq and vs in sources and vt == dst), None
        )
        evidence.append(e.seq)
        if match is None or dst is None:
            counter.append(
                _ex(e, "pia.check.ex.unverified_pair", source=src or "-", target=dst or "-")
            )
        else:
            evidence.append(match.seq)
    return _result(item, evidence, counter)


def _copies_destroyed(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    copies: list[tuple[LedgerEntry, str]] = []
    for e in ev.of("package.seal"):
        if isinstance(e.details.get("package"), str):
            copies.append((e, e.details["package"]))
    for e in ev.of("dd.extract"):
        out = e.details.get("out") or e.subject
        if isinstance(out, str):
            copies.append((e, out))
    if not copies:
        return _result(item, [], [], Msg("pia.check.na.no_copies"))
    erased = {str(x.subject): x.seq for x in ev.of("erase.file")}
    counter = [
        _ex(e, "pia.check.ex.not_destroyed", path=path)
        for e, path in copies
        if erased.get(path, -1) < e.seq
    ]
    return _result(item, [e.seq for e, _ in copies] + sorted(erased.values()), counter)


def _destruction_certified(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    runs = ev.of("erase.done")
    if not runs:
        return _result(item, [], [], Msg("pia.check.na.no_shred"))
    certs = {str(e.details.get("run_id")): e.seq for e in ev.of("erase.certificate")}
    counter = [
        _ex(e, "pia.check.ex.no_certificate", run=str(e.details.get("run_id")))
        for e in runs
        if str(e.details.get("run_id")) not in certs
    ]
    return _result(item, [e.seq for e in runs] + sorted(certs.values()), counter)


def _ledger_intact(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    if ev.ledger_ok is None:
        return _result(item, [], [], Msg("pia.check.na.ledger_unchecked"))
    counter = [
        {
            "seq": None,
            "actor": "",
            "action": "audit.verify",
            "what": Msg("pia.check.ex.ledger", problem=p),
        }
        for p in ev.ledger_problems
    ]
    if not ev.ledger_ok and not counter:
        counter.append(
            {
                "seq": None,
                "actor": "",
                "action": "audit.verify",
                "what": Msg("pia.check.ex.ledger", problem="-"),
            }
        )
    return _result(item, [len(ev.entries) - 1] if ev.entries else [], counter)


def _dpo_designated(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    dpos = [p for p in ev.people if "dpo" in p.roles and p.active]
    adds = [
        e.seq for e in ev.of("governance.person.add") if "dpo" in (e.details.get("roles") or [])
    ]
    counter: list[dict[str, Any]] = []
    if not dpos:
        counter.append(
            {"seq": None, "actor": "", "action": "governance", "what": Msg("pia.check.ex.no_dpo")}
        )
    tr = ev.transfer or {}
    for side in ("seller", "buyer"):
        party = tr.get(side) or {}
        if not party.get("contact") or not (party.get("phone") or party.get("email")):
            counter.append(
                {
                    "seq": None,
                    "actor": "",
                    "action": "settings",
                    "what": Msg("pia.check.ex.no_contact", side=side),
                }
            )
    return _result(item, adds, counter)


def _training_current(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    staff = [p for p in ev.people if p.active and DATA_ROLES & set(p.roles)]
    if not staff:
        return _result(item, [], [], Msg("pia.check.na.no_staff"))
    counter = []
    for p in staff:
        for course in ev.required_courses:
            if not any(
                t.current_at(now) for t in ev.training if t.person == p.name and t.course == course
            ):
                counter.append(
                    {
                        "seq": None,
                        "actor": p.name,
                        "action": "training",
                        "what": Msg("pia.check.ex.training_now", name=p.name, course=course),
                    }
                )
    seqs = [e.seq for e in ev.of("governance.training.take") if e.details.get("passed")]
    return _result(item, seqs, counter)


def _vendors_assessed(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    if not ev.vendors:
        return _result(item, [], [], Msg("pia.check.na.no_vendor"))
    counter = [
        {
            "seq": None,
            "actor": "",
            "action": "vendor",
            "what": Msg("pia.check.ex.vendor", vendor=v.name, decision=v.decision or "-"),
        }
        for v in ev.vendors
        if v.decision not in ("approved", "conditional")
        or v.reassess_on is None
        or v.reassess_on < ev.day(now)
    ]
    return _result(item, [e.seq for e in ev.of("governance.vendor.assess")], counter)


EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _notice_campaigns(ev: Evidence) -> list[LedgerEntry]:
    """``notices.campaign.create`` of PIPL Art. 22 notice campaigns (not consent requests)."""
    return [
        e for e in ev.of("notices.campaign.create") if e.details.get("kind", "notice") == "notice"
    ]


def _notice_content(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    # PIPL Art. 22: the individuals are told the recipient's name and contact. The
    # campaign event holds the SHA-256 of every legal element; an empty one is missing.
    camps = _notice_campaigns(ev)
    if not camps:
        return _result(item, [], [], Msg("pia.check.na.no_campaign"))
    counter = []
    for e in camps:
        content = e.details.get("content_sha256") or {}
        missing = [
            k for k in ("buyer_name", "buyer_contact") if content.get(k) in (None, EMPTY_SHA256)
        ]
        if content.get("buyer_contact") in (None, EMPTY_SHA256) and content.get(
            "buyer_phone"
        ) not in (None, EMPTY_SHA256):
            missing.remove("buyer_contact")
        if missing:
            counter.append(_ex(e, "pia.check.ex.notice_elements", missing=", ".join(missing)))
    return _result(item, [e.seq for e in camps], counter)


def _last(entries: list[LedgerEntry], subject: str) -> LedgerEntry | None:
    return next((e for e in reversed(entries) if e.subject == subject), None)


def _individuals_notified(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    # Every person of a notice campaign was sent a notice, and whoever could not be
    # reached one by one (no contact, failed, undelivered, cancelled) is covered by a
    # public announcement made after the last send and receipts of that campaign.
    camps = _notice_campaigns(ev)
    transfer = ev.first(*TRANSFER_ACTIONS)
    if not camps:
        if transfer is None:
            return _result(item, [], [], Msg("pia.check.na.no_campaign"))
        return _result(item, [transfer.seq], [_ex(transfer, "pia.check.ex.no_campaign")])
    queues, sends = ev.of("notices.campaign.queue"), ev.of("notices.campaign.send")
    receipts, announced = ev.of("notices.receipts"), ev.of("notices.announcement")
    evidence, counter = [], []
    for c in camps:
        queue, send = _last(queues, c.subject), _last(sends, c.subject)
        evidence.append(c.seq)
        if queue is None or send is None:
            counter.append(_ex(c, "pia.check.ex.not_sent", campaign=c.subject))
            continue
        evidence += [queue.seq, send.seq]
        pending = int(send.details.get("pending") or 0)
        if pending:
            counter.append(_ex(send, "pia.check.ex.pending", campaign=c.subject, n=pending))
        if queue.details.get("reconciles") is False:
            counter.append(_ex(queue, "pia.check.ex.not_reconciled", campaign=c.subject))
        outbox = send.details.get("outbox") or {}
        missed = sum(
            int(states.get(k) or 0)
            for states in outbox.values()
            if isinstance(states, dict)
            for k in ("failed", "undelivered", "cancelled")
        )
        unreachable = int(queue.details.get("unreachable") or 0)
        if missed + unreachable == 0:
            continue
        last_news = max(
            [send.seq] + [r.seq for r in receipts if r.subject == c.subject and r.seq > send.seq]
        )
        ann = next((a for a in announced if a.subject == c.subject and a.seq > last_news), None)
        if ann is None:
            counter.append(
                _ex(
                    send,
                    "pia.check.ex.no_announcement",
                    campaign=c.subject,
                    missed=missed,
                    unreachable=unreachable,
                    seq=last_news,
                )
            )
        else:
            evidence.append(ann.seq)
    return _result(item, evidence, counter)


def _incident_plan(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    # PIPL Art. 51(5): an incident response plan, organised and drilled: the rules file
    # is the plan; a drill must have finished within the workspace's drill interval.
    drills = ev.of("incident.drill.finish")
    if not drills:
        return _result(
            item,
            [],
            [{"seq": None, "actor": "", "action": "drill", "what": Msg("pia.check.ex.no_drill")}],
        )
    last = drills[-1]
    at = parse_at(last.details.get("at")) or now
    age = (now - at).days
    counter = []
    if age > ev.drill_every_days:
        counter.append(
            _ex(last, "pia.check.ex.drill_old", at=ev.day(at).isoformat(), days=ev.drill_every_days)
        )
    return _result(item, [e.seq for e in drills], counter)


def _incident_duties_met(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    # PIPL Art. 57 and the CAC reporting measures: every duty of a real (not drill)
    # incident met by its due time; open duties past due and duties met late count.
    real = {
        e.details.get("incident"): e
        for e in ev.of("incident.promote")
        if not e.details.get("drill")
    }
    if not real:
        return _result(item, [], [], Msg("pia.check.na.no_incident"))
    duties: dict[Any, tuple[dt.datetime, LedgerEntry, str]] = {}
    met: dict[Any, tuple[dt.datetime, LedgerEntry, bool]] = {}
    waived: set[Any] = set()
    for e in ev.under("incident"):
        d = e.details
        if d.get("incident") not in real:
            continue
        for ob in d.get("obligations") or []:
            if not isinstance(ob, dict):
                continue
            due = parse_at(ob.get("due_at"))
            if due is not None:
                duties[ob.get("obligation")] = (due, e, str(ob.get("rule")))
            elif e.action == "incident.report.file":
                at = parse_at(d.get("at")) or now
                met[ob.get("obligation")] = (at, e, bool(ob.get("late")))
        if e.action == "incident.obligation.met":
            at = parse_at(d.get("at")) or now
            met[d.get("obligation")] = (at, e, bool(d.get("late")))
        if e.action == "incident.individuals":
            (waived.discard if d.get("notify") else waived.add)(d.get("obligation"))
    counter = []
    for oid, (due, e, rule) in sorted(duties.items(), key=lambda x: x[1][0]):
        if oid in waived:
            continue
        done = met.get(oid)
        if done is not None and (done[2] or done[0] > due):
            counter.append(
                _ex(
                    done[1],
                    "pia.check.ex.duty_late",
                    rule=rule,
                    due=due.isoformat(),
                    at=done[0].isoformat(),
                )
            )
        elif done is None and now > due:
            counter.append(_ex(e, "pia.check.ex.duty_overdue", rule=rule, due=due.isoformat()))
    evidence = sorted({e.seq for e in real.values()} | {m[1].seq for m in met.values()})
    return _result(item, evidence, counter)


def _cross_border(item: Item, ev: Evidence, now: dt.datetime) -> Result:
    # Only a PIA can say data goes abroad; a person must attest the conditions then
    # (PIPL Art. 38: a CAC security assessment, a certification or the standard
    # contract), which :func:`evaluate` counts.
    flagged = [e for e in ev.of("pia.approve") if e.details.get("cross_border")]
    if not flagged:
        return _result(item, [], [], Msg("pia.check.na.no_cross_border"))
    return Result(item, "not_met", NEEDS_ATTESTATION, [e.seq for e in flagged])


Check = Callable[[Item, Evidence, dt.datetime], Result]
CHECKS: dict[str, Check] = {
    "attestation": lambda item, ev, now: Result(item, "not_met"),
    "pia_before_transfer": _pia_before_transfer,
    "pia_retained": _pia_retained,
    "clear_reads_covered": _clear_reads_covered,
    "data_steps_authorised": _data_steps_authorised,
    "classified_before_seal": _classified_before_seal,
    "packages_encrypted": _packages_encrypted,
    "dd_deidentified": _dd_deidentified,
    "migration_verified": _migration_verified,
    "copies_destroyed": _copies_destroyed,
    "destruction_certified": _destruction_certified,
    "ledger_intact": _ledger_intact,
    "dpo_designated": _dpo_designated,
    "training_current": _training_current,
    "vendors_assessed": _vendors_assessed,
    "cross_border": _cross_border,
    "notice_content": _notice_content,
    "individuals_notified": _individuals_notified,
    "incident_plan": _incident_plan,
    "incident_duties_met": _incident_duties_met,
}
