"""``handover shred``: plan, dual control and authorisation, the verify gate, then the
destruction (:func:`handover.erase.shred.execute`), the signed certificate and its
rendering. See docs/erase.md.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handover.claims import EVERYTHING, claiming
from handover.crypto.files import OverwriteHook
from handover.erase.certificate import (
    CertificateCheck,
    ledger_section,
    seal_renderings,
    sign_certificate,
)
from handover.erase.control import VALIDATOR_ROLES, Actor, Gate, check_gate, check_known
from handover.erase.database import Database, open_database
from handover.erase.models import EraseItemRow, EraseRunRow
from handover.erase.plan import Plan, Scope, make_plan
from handover.erase.samples import SAMPLES
from handover.erase.shred import (
    Clock,
    ShredResult,
    ShredRun,
    certificate_doc,
    execute,
    utcnow,
)
from handover.errors import BadInput, CheckFailed, HandoverError, Refused
from handover.governance import Decision, require
from handover.governance.people import get_person, list_people
from handover.governance.policy import DEMO_ACTORS
from handover.governance.session import authenticate, current_person
from handover.i18n import Msg
from handover.ledger import Recorder
from handover.progress import NoProgress, Progress
from handover.reports.certificate import write_renderings
from handover.workspace import Workspace


def plan_shred(
    ws: Workspace,
    scope: Scope,
    *,
    force: bool = False,
    reason: str | None = None,
) -> tuple[Plan, Gate]:
    """The plan and the verify gate's state, without changing anything.

    Refused (exit 3) for a source/target unknown to the transfer (see :func:`check_known`).
    """
    check_known(ws, scope.source, scope.target, scope.paths, force=force, reason=reason)
    plan = make_plan(ws, scope)
    gate = Gate(needed=bool(plan.source_items()))
    if scope.source and gate.needed:
        try:
            gate = check_gate(
                ws,
                scope.source,
                [i.table or "" for i in plan.source_items()],
                target=scope.target,
            )
        except HandoverError as exc:  # Refused: shown in the plan, not raised
            gate.problem = exc.message or Msg("ledger.problem.text", text=str(exc))
    return plan, gate


def check_shred(
    ws: Workspace,
    scope: Scope,
    *,
    executed_by: str,
    validated_by: str | None = None,
    validator_password: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> tuple[Plan, Gate, Actor]:
    """What :func:`shred` checks before it destroys anything, without destroying: the
    source/target known to the transfer, two different people with their roles (dual
    control: the validator authenticated now, a ledger event, so that a wrong password is
    refused before anything starts), and the verify gate (or ``force`` with a ``reason``).
    Raises as :func:`shred` would (Refused / BadInput); returns the plan, the gate and the
    validator, to hand to :func:`shred` as ``validated``."""
    check_known(ws, scope.source, scope.target, scope.paths, force=force, reason=reason)
    _, validator = dual_control(
        ws, executed_by, validated_by, validator_password=validator_password
    )
    plan = make_plan(ws, scope)
    gate = Gate(needed=False)
    if scope.source and plan.source_items():
        gate = check_gate(
            ws,
            scope.source,
            [i.table or "" for i in plan.source_items()],
            target=scope.target,
            force=force,
            reason=reason,
        )
    return plan, gate, validator


@claiming("shred", lambda **_: EVERYTHING)
def shred(
    ws: Workspace,
    scope: Scope,
    *,
    executed_by: str | None = None,
    validated_by: str | None = None,
    force: bool = False,
    reason: str | None = None,
    samples: int = SAMPLES,
    seed: int | None = None,
    passes: int = 1,
    lang: str | None = None,
    clock: Clock = utcnow,
    hook: OverwriteHook | None = None,
    out_dir: Path | None = None,
    validator_password: str | None = None,
    progress: Progress | None = None,
    authorized: Decision | None = None,
    validated: Actor | None = None,
) -> ShredResult:
    """Destroy what the plan lists, verify, and write the signed certificate.

    Dual control: the executor is the logged-in person (a demo stand-in in a demo
    workspace with nobody logged in), or the person of ``authorized``, the executor's
    ``shred`` decision taken already (the console decides in the request, then runs this
    in the background); the validator authenticates in person with ``validator_password``
    (:func:`handover.governance.session.authenticate`, a ledger event whose proof is on the
    certificate), or was authenticated already: ``validated``, the validator
    :func:`check_shred` returned (the console checks in the request, then runs this in the
    background). ``progress`` hears the phases and one task per item destroyed.

    Refused (exit 3), with nothing destroyed, for a source/target unknown to the transfer
    or a path that does not exist, without a passing verify of the source (unless ``force``
    with a ``reason``), or when executor and validator are the same person; CheckFailed
    (exit 1) after the certificate is written if any sampled identifier is still found.
    ``samples`` identifiers are drawn in total (all candidates when fewer exist).
    """
    language = lang or ws.settings.lang
    prog: Progress = progress or NoProgress()
    if passes < 1:
        raise BadInput.msg("erase.passes")
    if samples < 0:
        raise BadInput.msg("erase.samples")
    if authorized is not None and executed_by is None:
        executed_by = authorized.actor
    check_known(ws, scope.source, scope.target, scope.paths, force=force, reason=reason)
    source, media = scope.source, scope.media
    db: Database | None = (
        open_database(source) if source and (media is None or "source" in media) else None
    )
    try:
        plan = make_plan(ws, scope, db=db)
        if not plan.destroy:
            raise BadInput.msg("erase.nothing", last=_last_certificate(ws) or "-")
        executor, validator = dual_control(
            ws,
            executed_by,
            validated_by,
            validator_password=validator_password,
            authenticate_now=validated is None,
        )
        if validated is not None:
            if validated.name != validator.name or validated.authenticated_seq is None:
                raise ValueError("validated: not the validator check_shred authenticated")
            validator = validated
        authz = authorize_executor(ws, executor, authorized=authorized)
        prog.phase(Msg("erase.phase.plan"))  # after the refusals of who may act
        src_items = plan.source_items()
        gate = Gate(needed=False)
        if source and src_items:
            gate = check_gate(
                ws,
                source,
                [i.table or "" for i in src_items],
                target=scope.target,
                force=force,
                reason=reason,
            )
        started = clock()
        run_id = f"shred-{started.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        run = ShredRun(run_id, Recorder(ws, executor.name, clock))
        with ws.store.session() as s:
            s.add(
                EraseRunRow(
                    id=run_id,
                    started_at=started,
                    status="running",
                    source=plan.source,
                    executed_by=executor.name,
                    validated_by=validator.name,
                    forced=gate.forced,
                    force_reason=gate.reason,
                    plan=plan.to_json(),
                    summary={},
                )
            )
            s.flush()
            for n, it in enumerate(plan.items):
                s.add(
                    EraseItemRow(
                        run_id=run_id,
                        idx=n,
                        medium=it.medium,
                        subject=it.subject[:2000],
                        action=it.action,
                        method=it.method,
                        status="planned" if it.action == "destroy" else "retained",
                        rows=it.rows,
                        bytes=it.bytes,
                        details=it.to_json(),
                    )
                )
        result = ShredResult(run_id, plan, gate, executor, validator)
        result.database_version = db.version if db is not None else None
        try:
            prog.phase(Msg("erase.phase.destroy"))
            execute(
                ws,
                run,
                plan,
                db,
                result,
                gate,
                authz,
                samples=samples,
                seed=seed if seed is not None else secrets.randbits(32),
                passes=passes,
                hook=hook,
                progress=prog,
            )
            if db is not None:
                db.close()
                db = None
            finished = clock()
            prog.phase(Msg("erase.phase.certificate"))
            extra = [x for x in (gate.seq, validator.authenticated_seq) if x is not None]
            result.ledger_seqs = sorted(set(run.seqs + extra))
            folder = out_dir or (ws.settings.reports_dir / "certificates" / run_id)
            doc = certificate_doc(ws, result, started, finished, language)
            doc["ledger"] = ledger_section(ws, result.ledger_seqs)
            _body, sig = sign_certificate(ws, doc, folder, events=run.events)
            result.certificate_dir = folder
            result.certificate = doc
            renderings = write_renderings(doc, sig, folder)
            # the renderings' hashes, signed: an edited HTML/PDF is found by verify
            sealed = seal_renderings(ws, folder, renderings, events=run.events)
            result.outputs = [
                folder / "certificate.json",
                folder / "certificate.sig",
                *renderings,
                sealed,
            ]
            run.record(
                "erase.certificate",
                run_id,
                {
                    "sha256": sig["sha256"],
                    "folder": str(folder),
                    "files": [p.name for p in result.outputs],
                },
            )
            with ws.store.session() as s:
                row = s.get(EraseRunRow, run_id)
                assert row is not None
                row.status = "done" if result.passed else "verify_failed"
                row.finished_at = finished
                row.summary = {**result.counts(), "samples": result.samples, "found": result.found}
                row.certificate = str(folder)
                row.certificate_sha256 = sig["sha256"]
                for item in s.query(EraseItemRow).filter(EraseItemRow.run_id == run_id):
                    if item.action == "destroy":
                        item.status = "done"
        except BaseException as exc:
            try:
                run.record("erase.failed", run_id, {"error": type(exc).__name__})
            finally:
                with ws.store.session() as s:
                    row = s.get(EraseRunRow, run_id)
                    if row is not None:
                        row.status = "failed"
                        row.finished_at = clock()
            raise
    finally:
        if db is not None:
            db.close()
    if not result.passed:
        raise CheckFailed.msg("erase.found", found=result.found, cert=result.certificate_dir)
    return result


def _last_certificate(ws: Workspace) -> str | None:
    """The folder of the newest certificate a finished shred run issued."""
    from sqlalchemy import select

    with ws.store.session() as s:
        return s.scalar(
            select(EraseRunRow.certificate)
            .where(EraseRunRow.certificate.is_not(None))
            .order_by(EraseRunRow.finished_at.desc())
            .limit(1)
        )


def _has_people(ws: Workspace) -> bool:
    return bool(list_people(ws))


def dual_control(
    ws: Workspace,
    executed_by: str | None,
    validated_by: str | None,
    *,
    validator_password: str | None = None,
    authenticate_now: bool = True,
) -> tuple[Actor, Actor]:
    """The executor and the validator, two registered people: the executor the logged-in
    person (or the one named), the validator authenticated now with their password.

    Refused when the workspace has nobody registered (two authenticated people are
    needed), when both are the same person, when one is inactive or the validator holds
    no oversight role; bad credentials (exit 2) for a wrong or missing password. In a
    demo workspace the validator defaults to the first oversight person of the cast,
    who still has to authenticate — nobody is named who did not act.
    """
    if not _has_people(ws):
        raise Refused.msg("erase.dual.no_people")
    if executed_by is None:
        me = current_person(ws)
        if me is not None:
            executed_by = me.name
        elif ws.settings.demo:
            executed_by = DEMO_ACTORS["shred"]
        else:
            raise BadInput.msg("erase.dual.executor")
    executor = get_person(ws, executed_by)
    if validated_by is None:
        if not ws.settings.demo:
            raise BadInput.msg("erase.dual.validator")
        people = [p for p in list_people(ws) if p.active and p.name != executor.name]
        ranked = sorted(
            (p for p in people if set(p.roles) & set(VALIDATOR_ROLES)),
            key=lambda p: min(VALIDATOR_ROLES.index(r) for r in p.roles if r in VALIDATOR_ROLES),
        )
        if not ranked:
            raise BadInput.msg("erase.dual.validator")
        validated_by = ranked[0].name
    validator = get_person(ws, validated_by)
    if executor.name == validator.name:
        raise Refused.msg("erase.dual.same", name=executor.name)
    for p in (executor, validator):
        if not p.active:
            raise Refused.msg("erase.dual.inactive", name=p.name)
    if not set(validator.roles) & set(VALIDATOR_ROLES):
        raise Refused.msg("erase.dual.role", name=validator.name, roles=",".join(VALIDATOR_ROLES))
    if not validator_password:
        raise BadInput.msg("erase.dual.validator_password", name=validator.name)
    seq = None
    if authenticate_now:  # else authenticated already (check_shred, in the request)
        _, seq = authenticate(ws, validator.name, validator_password, purpose="shred validation")
    return (
        Actor(executor.name, executor.display_name, executor.org, executor.roles, "governance"),
        Actor(
            validator.name,
            validator.display_name,
            validator.org,
            validator.roles,
            "governance, authenticated in person",
            authenticated_seq=seq,
        ),
    )


def authorize_shred(
    ws: Workspace, *, actor: str | None = None, now: dt.datetime | None = None
) -> Decision:
    """The executor's decision: ``shred`` on everything in clear (Refused otherwise)."""
    return require(ws, "shred", "*/clear", actor=actor, now=now)


def authorize_executor(
    ws: Workspace, executor: Actor, *, authorized: Decision | None = None
) -> dict[str, Any] | None:
    """``governance.require(ws, "shred", "*/clear")`` for the executor, when governance runs.

    The executor is the logged-in person (or the person of ``authorized``, a decision
    taken already): naming somebody else with ``--executed-by`` borrows nobody's grant.
    Only in a demo workspace with nobody logged in may a cast member be named (the demo
    stand-in rule of ``authorize``).
    """
    if executor.source != "governance":
        return None
    if authorized is not None:
        if authorized.actor != executor.name:
            raise Refused.msg("erase.dual.not_you", name=executor.name, me=authorized.actor)
        decision = require(ws, "shred", "*/clear", authorized=authorized)
    else:
        me = current_person(ws)
        if me is not None and me.name != executor.name:
            raise Refused.msg("erase.dual.not_you", name=executor.name, me=me.name)
        actor = executor.name if me is None and ws.settings.demo else None
        decision = authorize_shred(ws, actor=actor)
    return {"grant_id": decision.grant_id, "nda_id": decision.nda_id, "reason": decision.reason_en}


# --- certificates issued -------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate a shred run issued: the run, what it destroyed, kept and could not
    reach, the files of its folder, and the check of its signature and ledger proofs
    (``problem``: why it could not be checked at all, e.g. its folder is gone)."""

    run_id: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    executed_by: str
    validated_by: str
    forced: bool
    folder: Path
    sha256: str | None
    files: list[str]
    destroyed: list[dict[str, Any]]
    retained: list[dict[str, Any]]
    not_destroyed: list[dict[str, Any]]
    summary: dict[str, Any]
    check: CertificateCheck | None
    problem: Msg | None = None

    def to_json(self) -> dict[str, Any]:
        """Machine form (``GET /api/certificates``)."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "executed_by": self.executed_by,
            "validated_by": self.validated_by,
            "forced": self.forced,
            "folder": str(self.folder),
            "sha256": self.sha256,
            "files": self.files,
            "destroyed": self.destroyed,
            "retained": self.retained,
            "not_destroyed": self.not_destroyed,
            "summary": self.summary,
            "verification": self.check.to_json() if self.check is not None else None,
            "problem": str(self.problem) if self.problem is not None else None,
        }


def certificates(ws: Workspace) -> list[IssuedCertificate]:
    """Every certificate a shred run issued, newest first, each checked as ``handover
    certificate verify`` checks it against the workspace's keys (reading needs no
    decision: a certificate holds table names and counts, never a value)."""
    import json

    from sqlalchemy import select

    from handover.erase.certificate import CERT_NAME, verify_certificate

    with ws.store.session() as s:
        runs = list(
            s.scalars(
                select(EraseRunRow)
                .where(EraseRunRow.certificate.is_not(None))
                .order_by(EraseRunRow.started_at.desc())
            )
        )
        rows = [
            (
                r.id,
                r.status,
                r.started_at,
                r.finished_at,
                r.executed_by,
                r.validated_by,
                r.forced,
                Path(r.certificate or ""),
                r.certificate_sha256,
                dict(r.summary or {}),
            )
            for r in runs
        ]
    out = []
    for run_id, status, started, finished, executor, validator, forced, folder, sha, summ in rows:
        doc: dict[str, Any] = {}
        check = problem = None
        try:
            check = verify_certificate(folder, ws=ws)
            doc = json.loads((folder / CERT_NAME).read_bytes())
        except BadInput as exc:
            problem = exc.message
        except ValueError:
            problem = Msg("erase.cert.problem.not_json", file=CERT_NAME)
        files = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
        out.append(
            IssuedCertificate(
                run_id,
                status,
                started,
                finished,
                executor,
                validator,
                forced,
                folder,
                sha,
                files,
                list(doc.get("destroyed") or []),
                list(doc.get("retained") or []),
                list(doc.get("not_destroyed") or []),
                summ,
                check,
                problem,
            )
        )
    return out
