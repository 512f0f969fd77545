"""The two preconditions of destroying source data: a passing verify, and dual control.

- **Verify gate**: source tables may be destroyed only after the newest ``verify.run``
  recorded in the ledger for that source (and target, when named) passed and covered
  every table to destroy. Otherwise :class:`Refused` (exit 3), unless ``force`` with a
  reason, which is recorded in the ledger and on the certificate.
- **Dual control**: the executor and the validator are two different named people.
  When the workspace has people (``handover.governance``) both must be active people
  there, the executor authorised for ``shred`` and the validator holding an oversight
  role; otherwise both names are given on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput, Refused
from handover.i18n import Msg

if TYPE_CHECKING:
    from handover.workspace import Workspace

#: roles that may validate a destruction (an oversight role, never the executor)
VALIDATOR_ROLES = ("auditor", "compliance_officer", "dpo", "approver")


@dataclass
class Gate:
    """The verify gate's outcome: which verify allowed it, or why it was forced."""

    needed: bool
    passed: bool = False
    seq: int | None = None
    target: str | None = None
    ts: str | None = None
    tables: list[str] = field(default_factory=list)
    forced: bool = False
    reason: str | None = None
    #: why the gate is closed (rendered by whoever shows it, in its reader's language)
    problem: Msg | None = None

    def refuse(self, key: str, **values: Any) -> None:
        """Note why the gate is closed."""
        self.problem = Msg(key, **values)

    def to_json(self) -> dict[str, Any]:
        """Certificate form."""
        return {
            "needed": self.needed,
            "passed": self.passed,
            "verify_ledger_seq": self.seq,
            "verified_target": self.target,
            "verified_at": self.ts,
            "forced": self.forced,
            "force_reason": self.reason,
            "problem": str(self.problem) if self.problem is not None else None,
            "problem_key": self.problem.key if self.problem is not None else None,
            "problem_params": self.problem.params() if self.problem is not None else None,
        }


def norm_spec(spec: str) -> str:
    """A comparable form of a source/target spec: where it is (:func:`handover.db.url.place`:
    a file's absolute path, a server database's family, host, port and name)."""
    from handover.db.url import place

    return place(spec)


def recorded_place(details: dict[str, Any], role: str, spelled: Any = None) -> str | None:
    """Where a ledger event's ``role`` (``source``, ``target``) was: the place it recorded
    (``located``, :func:`handover.db.url.located`), else — an event recorded before places
    were — its spelling (``spelled``, else the detail ``role``) in :func:`norm_spec` form,
    a relative path then resolved against the folder this command runs in."""
    where = details.get("located")
    if isinstance(where, dict) and isinstance(where.get(role), str):
        return str(where[role])
    name = details.get(role) if spelled is None else spelled
    return norm_spec(name) if isinstance(name, str) and name else None


def check_gate(
    ws: Workspace,
    source: str,
    tables: list[str],
    *,
    target: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> Gate:
    """Find the newest verify of ``source`` (→ ``target``) in the ledger and judge it."""
    from handover.ledger import entries

    gate = Gate(needed=bool(tables))
    if not tables:
        return gate
    want_src = norm_spec(source)
    want_dst = norm_spec(target) if target else None
    last = None
    for e in entries(ws, action="verify.run"):
        if recorded_place(e.details, "source") != want_src:
            continue
        if want_dst is not None and recorded_place(e.details, "target") != want_dst:
            continue
        last = e
    shown = norm_spec(source)
    if last is None:
        gate.refuse("erase.gate.none", source=shown)
    else:
        d = last.details
        gate.seq, gate.ts = last.seq, last.ts
        gate.target = str(d.get("target"))
        verified = {
            str(x.get("name", "")).lower(): bool(x.get("equal")) for x in d.get("tables", [])
        }
        gate.tables = sorted(verified)
        missing = [tb for tb in tables if tb.lower() not in verified]
        if not d.get("equal"):
            gate.refuse("erase.gate.failed", source=shown, seq=last.seq)
        elif missing:
            gate.refuse("erase.gate.uncovered", table=missing[0], seq=last.seq)
        else:
            gate.passed = True
            return gate
    if force:
        if not (reason and reason.strip()):
            raise Refused.msg("erase.gate.reason")
        gate.forced, gate.reason = True, reason.strip()
        return gate
    assert gate.problem is not None
    raise Refused.of(gate.problem)


#: ledger actions whose ``source``/``target`` (and a scan's subject) name data of the transfer
KNOWN_ACTIONS = (
    "scan.run",
    "package.seal",
    "migrate.start",
    "verify.run",
    "dd.extract",
    "erase.start",
)


def known_specs(ws: Workspace) -> set[str]:
    """Every source/target this workspace's ledger names: scanned, sealed, migrated,
    verified, extracted from or shredded (in :func:`norm_spec` form)."""
    from handover.ledger import entries

    out: set[str] = set()
    for action in KNOWN_ACTIONS:
        for e in entries(ws, action=action):
            spelled = e.subject if e.action == "scan.run" else None
            places = [
                recorded_place(e.details, "source", spelled),
                recorded_place(e.details, "target"),
            ]
            out |= {p for p in places if p}
    return out


def check_known(
    ws: Workspace,
    source: str | None,
    target: str | None,
    paths: list[Path] | None,
    *,
    force: bool = False,
    reason: str | None = None,
) -> None:
    """Refused (exit 3) before anything is opened when a target is unknown to the transfer.

    A SOURCE/``--target`` must be named by this workspace's ledger (see
    :data:`KNOWN_ACTIONS`) unless ``force`` with a reason. A path that does not exist
    (source file or ``--path``) and a malformed URL are bad input (exit 2), even then.
    """
    from handover.db.url import parse, sqlite_path

    known: set[str] | None = None
    for flag, spec in (("SOURCE", source), ("--target", target)):
        if not spec:
            continue
        path = sqlite_path(spec)
        if path is None:
            try:
                parse(spec)  # a malformed URL is bad input, not a refusal
            except BadInput:  # e.g. a non-numeric port; the URL may hold a password
                raise BadInput.msg("erase.bad_url", flag=flag) from None
        else:
            if not path.exists():
                raise BadInput.msg("erase.unknown.missing", what=flag, spec=norm_spec(spec))
        if known is None:
            known = known_specs(ws)
        if norm_spec(spec) in known:
            continue
        if not force:
            raise Refused.msg("erase.unknown.spec", what=flag, spec=norm_spec(spec))
        if not (reason and reason.strip()):
            raise Refused.msg("erase.gate.reason")
    for p in paths or []:
        if not p.exists() and not p.is_symlink():
            raise BadInput.msg("erase.unknown.missing", what="--path", spec=str(p))


@dataclass(frozen=True)
class Actor:
    """A named person taking part in the run."""

    name: str
    display_name: str = ""
    org: str = ""
    roles: tuple[str, ...] = ()
    source: str = "command line"
    #: the ledger seq of the person's authentication for this run (the validator's)
    authenticated_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Certificate form."""
        out: dict[str, Any] = {
            "name": self.name,
            "display_name": self.display_name,
            "org": self.org,
            "roles": list(self.roles),
            "identified_by": self.source,
        }
        if self.authenticated_seq is not None:
            out["authenticated_seq"] = self.authenticated_seq
        return out
