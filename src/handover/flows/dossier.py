"""``handover dossier``: the regulator's dossier (监管报送材料包). Authorise, evaluate the
checklist afresh, gather every record and report of the transfer into one folder, bind
each document to the ledger, export the ledger bundle into it, seal it with a signed
manifest, and record it (docs/dossier.md).

Order of one build: ``compliance.check`` → documents staged in a hidden sibling folder →
``dossier.build`` (every document's SHA-256) → the ledger bundle (``audit.export`` and a
signed checkpoint covering ``dossier.build``) → inclusion proofs, ``manifest.json`` and
``manifest.sig`` → the folder renamed into place → ``dossier.export`` (the manifest's
SHA-256). A failure leaves no folder behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.claims import claiming, uses
from handover.crypto.files import place_folder
from handover.dossier import (
    Document,
    Sealed,
    add_file,
    add_json,
    bind_origin,
    check_out,
    describe,
    seal,
)
from handover.dossier.dossier import build_details
from handover.errors import BadInput
from handover.governance import require
from handover.governance.policy import COMPLIANCE, now_utc
from handover.i18n import Msg
from handover.ledger import LedgerEntry, entries, record
from handover.progress import NoProgress
from handover.workspace import Workspace

if TYPE_CHECKING:
    from handover.governance import Decision
    from handover.progress import Progress

PURPOSE = "监管报送材料包 / regulator's dossier (PIPL Arts. 54-56)"
TITLE = ("个人信息保护监管报送材料包", "personal information protection dossier")
JSON_TITLE = ("监管报送材料包(机器可读)", "dossier (machine readable)")


def _ledger_folder(folder: Path) -> str:
    """The dossier's evidence bundle folder as its manifest names it ("" if unreadable:
    the verifier then names what it cannot read)."""
    try:
        return str(json.loads((folder / "manifest.json").read_bytes())["ledger"]["folder"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


@dataclass(frozen=True)
class DossierResult:
    """A written dossier: where, what was sealed, the ledger entries, the score."""

    folder: Path
    sealed: Sealed
    build_seq: int
    export_seq: int
    score: float
    warnings: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "folder": str(self.folder),
            **asdict(self.sealed),
            "build_seq": self.build_seq,
            "export_seq": self.export_seq,
            "score": self.score,
            "warnings": self.warnings,
        }


def _latest_by_subject(found: list[LedgerEntry]) -> list[LedgerEntry]:
    latest: dict[str, LedgerEntry] = {}
    for e in found:
        latest[e.subject] = e
    return sorted(latest.values(), key=lambda e: e.seq)


class _Stage:
    """Documents copied or written into the staging folder, and what could not be."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.docs: list[Document] = []
        self.warnings: list[dict[str, Any]] = []

    def copy(
        self,
        rel: str,
        src: Path,
        kind: str,
        title: tuple[str, str],
        origin: LedgerEntry,
        *field: str,
    ) -> None:
        if not src.is_file():
            self.warnings.append({"kind": "missing", "path": str(src), "seq": origin.seq})
            return
        doc = add_file(self.folder, rel, src, kind=kind, title=title)
        if field and not bind_origin(doc, origin, *field):
            self.warnings.append({"kind": "changed", "path": rel, "seq": origin.seq})
        self.add(doc)

    def add(self, doc: Document) -> None:
        """Keep ``doc``; a document written again at the same path replaces the earlier."""
        self.docs = [d for d in self.docs if d.path != doc.path] + [doc]

    def json(self, rel: str, data: Any, kind: str, title: tuple[str, str]) -> None:
        self.add(add_json(self.folder, rel, data, kind=kind, title=title))


def _copy_recorded(
    st: _Stage,
    found: list[LedgerEntry],
    kind: str,
    title: tuple[str, str],
    where: Callable[[LedgerEntry], str],
    files: str,
    bound: Callable[[str], tuple[str, ...]],
) -> None:
    """Copy every file an entry recorded (``details.folder`` + the names in
    ``details[files]``) to ``documents/<where(entry)>/``, bound to the entry at
    ``details[bound(name)]`` (nothing when ``bound`` gives nothing)."""
    for e in found:
        folder = Path(str(e.details.get("folder")))
        for file in sorted(e.details.get(files) or {}):
            st.copy(f"documents/{where(e)}/{file}", folder / file, kind, title, e, *bound(file))


def _recorded_reports(st: _Stage, log: list[LedgerEntry]) -> None:
    """The signed PIA exports (the newest per assessment), the certificates, the incident
    reports and the newest transparency report, as the ledger recorded them."""
    of = {a: [x for x in log if x.action == a] for a in (
        "pia.export", "erase.certificate", "incident.report.file", "transparency.report"
    )}  # fmt: skip
    _copy_recorded(
        st,
        _latest_by_subject(of["pia.export"]),
        "pia",
        ("个人信息保护影响评估报告(签名导出)", "impact assessment (signed export)"),
        lambda e: f"pia/{e.subject.split()[-1]}-v{e.details.get('version')}",
        "files",
        lambda f: ("files", f),
    )
    _copy_recorded(
        st,
        of["erase.certificate"],
        "certificate",
        ("数据销毁证明", "certificate of sanitization"),
        lambda e: f"certificates/{e.details.get('run_id') or e.subject}",
        "files",
        lambda f: ("sha256",) if f == "certificate.json" else (),
    )
    _copy_recorded(
        st,
        of["incident.report.file"],
        "incident",
        ("安全事件报告", "incident report"),
        lambda e: (
            f"incidents/incident-{e.details.get('incident')}/"
            f"{e.details.get('kind')}-{e.details.get('number')}"
        ),
        "sha256",
        lambda f: ("sha256", f),
    )
    _copy_recorded(
        st,
        of["transparency.report"][-1:],
        "transparency",
        ("透明度报告(公开)", "transparency report (public)"),
        lambda e: "transparency",
        "files",
        lambda f: ("files", f),
    )


def _notices(st: _Stage, ws: Workspace, log: list[LedgerEntry], at: dt.datetime) -> list[Any]:
    from handover.notices.campaign import list_campaigns
    from handover.notices.replies import KINDS
    from handover.notices.report import report_data, write_report

    out = []
    for camp in list_campaigns(ws, newest_first=False):
        rel = f"documents/notices/campaign-{camp.id}"
        # read once: the reports in both languages and the dossier's figures
        data = report_data(ws, camp)
        for lang in ("zh-CN", "en"):
            folder = st.folder / rel / lang
            for path in write_report(ws, camp, folder, lang, generated=at, data=data):
                st.add(
                    add_file(
                        st.folder,
                        f"{rel}/{lang}/{path.name}",
                        path,
                        kind="notices",
                        title=("告知活动报告", "notice campaign report"),
                    )
                )
        # the newest announcement of the campaign (a later one covers receipts after it)
        for e in [x for x in log if x.action == "notices.announcement"
                  and x.subject == f"campaign {camp.id}"][-1:]:  # fmt: skip
            for file in e.details.get("files") or []:
                ext = Path(file).suffix.lstrip(".")
                st.copy(
                    f"{rel}/{file}",
                    ws.path / "notices" / f"campaign-{camp.id}" / file,
                    "notices",
                    ("告知公告", "public announcement"),
                    e,
                    "sha256",
                    ext,
                )
        shown = {k: v for k, v in data.items() if k != "unreachable"}
        out.append(
            {
                **shown,
                "unreachable_rows": len(data["unreachable"]),
                # the replies by kind, apart from the people counts beside them
                "reply_kinds": {k: int(data["replies"].get(k) or 0) for k in KINDS},
            }
        )
    return out


def gather(ws: Workspace, report: Any, at: dt.datetime) -> dict[str, Any]:
    """Every section of the dossier as plain data (no document files)."""
    from handover.crypto import public_keys
    from handover.detect.store import latest_inventory
    from handover.flows.pia import risk_detail
    from handover.governance.ndas import list_ndas
    from handover.governance.people import list_people
    from handover.governance.training import list_records
    from handover.governance.vendors import list_vendors
    from handover.incidents.drills import list_drills
    from handover.incidents.records import list_incidents
    from handover.ledger import ledger_size, public_identity
    from handover.ledger.note import verifier_key
    from handover.pia import data_map, load_checklist
    from handover.pia import store as pia_store

    log = entries(ws)
    tr = ws.settings.transfer
    assessments = []
    for a in pia_store.list_assessments(ws):
        chosen = pia_store.get(ws, a.id, a.approved_version or a.version)
        doc = chosen.document
        assessments.append(
            {
                "id": a.id,
                "title": a.title,
                "status": a.status,
                "version": a.version,
                "approved_version": a.approved_version,
                "retain_until": a.retain_until.isoformat() if a.retain_until else None,
                "signatory": doc.get("signatory"),
                "sha256": chosen.sha256,
                "decisions": [d.to_json() for d in a.decisions],
                "risks": [
                    {"id": r["id"], "title": r["title"], "level": r["level"]}
                    for r in doc.get("risks", [])
                ],
                "exports": [
                    {
                        "seq": e.seq,
                        "version": e.details.get("version"),
                        "sha256": e.details.get("sha256"),
                    }
                    for e in log
                    if e.action == "pia.export" and e.subject == f"pia {a.id}"
                ],
            }
        )
    done = {str(e.details.get("run_id")): e for e in log if e.action == "erase.done"}
    certificates = [
        {
            "run_id": str(e.details.get("run_id")),
            "seq": e.seq,
            "sha256": e.details.get("sha256"),
            "at": e.ts,
            "done": done[str(e.details.get("run_id"))].details
            if str(e.details.get("run_id")) in done
            else None,
        }
        for e in log
        if e.action == "erase.certificate"
    ]
    origin, _ = public_identity(ws)
    rules = load_checklist()
    return {
        "schema": "handover.dossier/1",
        "generated_at": at.isoformat(),
        "transfer": tr.model_dump(mode="json") if tr is not None else None,
        "ledger": {
            "origin": origin,
            "verifier_keys": [verifier_key(origin, k.raw) for k in public_keys(ws)],
            "size_at_writing": ledger_size(ws),
        },
        "checklist": {
            "version": report.version,
            "score": report.score,
            "ledger_seq": report.seq,
            "items": [r.to_bilingual() for r in report.results],
            "changelog": list(rules.changelog),
        },
        "pia": assessments,
        "risks": [
            risk_detail(ws, r.code, now=at).to_json() for r in pia_store.list_risks(ws, now=at)
        ],
        "inventory": data_map(latest_inventory(ws)),
        "incidents": [i.to_json(at) for i in list_incidents(ws)],
        "drills": [d.to_json() for d in list_drills(ws)],
        "certificates": certificates,
        "governance": {
            "people": [p.to_json() for p in list_people(ws)],
            "ndas": [n.to_json() for n in list_ndas(ws, now=at)],
            "training": [r.to_json() for r in list_records(ws)],
            "vendors": [v.to_json() for v in list_vendors(ws)],
        },
    }


def _claim(folder: Path) -> Path:
    """``folder``, or ``folder-2``, ``-3`` ... when a dossier of the same second exists,
    created empty here and now so that no other build takes the name."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    n, found = 1, folder
    while True:
        try:
            found.mkdir()
        except FileExistsError:
            n += 1
            found = folder.with_name(f"{folder.name}-{n}")
            continue
        return found


def authorize_dossier(
    ws: Workspace,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    authorized: Decision | None = None,
) -> Decision:
    """The decision a dossier build needs: ``compliance.check`` (DPO, compliance officer,
    auditor); Refused otherwise, ledgered either way."""
    return require(ws, COMPLIANCE, "*", actor=actor, now=now, authorized=authorized)


#: the documents a dossier gathers, in order: (key, kind, title in zh-CN and en)
DOCUMENTS: tuple[tuple[str, str, tuple[str, str]], ...] = (
    (
        "checklist",
        "checklist",
        ("合规检查结果(含证据与反例)", "checklist results with evidence and counter-examples"),
    ),
    ("risks", "risks", ("风险登记册", "risk register")),
    ("pia", "pia", ("影响评估概况", "impact assessments")),
    (
        "inventory",
        "inventory",
        ("个人信息清单(数据映射)", "personal information inventory (data map)"),
    ),
    ("notices", "notices", ("告知活动统计", "notice campaigns")),
    ("incidents", "incidents", ("安全事件与应急演练", "incidents and drills")),
    ("certificates", "certificate", ("销毁证明清单", "destruction certificates")),
    (
        "governance",
        "governance",
        ("人员、保密协议、培训与第三方", "people, NDAs, training and vendors"),
    ),
)
#: the progress task of the documents written (a name, not a person's data)
DOCUMENTS_TASK = "documents"


#: what building the dossier holds while it runs: the dossier alone
DOSSIER_CLAIMS = uses(alone=("dossier",))


@claiming("dossier", lambda **_: DOSSIER_CLAIMS)
def build_dossier(
    ws: Workspace,
    out: Path | None = None,
    *,
    actor: str | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    authorized: Decision | None = None,
) -> DossierResult:
    """Write the dossier into ``out`` (default ``reports/dossier/dossier-<UTC time>``, with
    ``-2``, ``-3`` ... for another of the same second; an existing non-empty ``out`` is
    refused). Authorised as ``compliance.check`` (DPO, compliance officer, auditor), or
    with ``authorized``, the decision taken when a console job was started. ``progress``
    hears the phases (checklist, gathering, sealing) and each document written."""
    from handover.crypto import public_keys
    from handover.flows.pia import check
    from handover.ledger import Recorder, public_identity
    from handover.ledger.export import export_bundle
    from handover.ledger.note import verifier_key
    from handover.reports.dossier import RENDERINGS, write_renderings

    at = now_utc(now)
    if out is not None:
        check_out(out)  # a bad --out is refused before anything is decided or recorded
    decision = authorize_dossier(ws, actor=actor, now=at, authorized=authorized)
    shown = progress or NoProgress()
    claimed = out is None
    folder = out or _claim(ws.settings.reports_dir / "dossier" / f"dossier-{at:%Y%m%dT%H%M%SZ}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        # each build its own temporary folder: two builds at once never write into one
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.partial-"))
        shown.phase(Msg("dossier.phase.check"))
        report = check(ws, actor=decision.actor, now=at)
        shown.phase(Msg("dossier.phase.gather"))
        data = gather(ws, report, at)
        data["generated_by"] = decision.actor
        log = entries(ws)
        st = _Stage(tmp)
        _recorded_reports(st, log)
        data["notices"] = _notices(st, ws, log, at)
        shown.task(DOCUMENTS_TASK, len(DOCUMENTS))
        for key, kind, title in DOCUMENTS:
            value = (
                {"incidents": data["incidents"], "drills": data["drills"]}
                if key == "incidents"
                else data[key]
            )
            st.json(f"documents/{key}.json", value, kind, title)
            shown.advance(DOCUMENTS_TASK, 1)
        data["warnings"] = st.warnings
        data["documents"] = [d.to_json() for d in st.docs]
        # dossier.json and the renderings are documents too, which cannot hold their own
        # SHA-256: listed by name (the manifest holds it), counted with the others
        data["documents_self"] = [
            {"path": "dossier.json", "title": list(JSON_TITLE)},
            *({"path": name, "title": list(TITLE)} for name in RENDERINGS),
        ]
        st.json("dossier.json", data, "dossier", JSON_TITLE)
        shown.phase(Msg("dossier.phase.seal"))
        for path in write_renderings(data, tmp):
            st.add(describe(tmp, path.name, kind="dossier", title=TITLE))
        build = record(
            ws, decision.actor, "dossier.build", folder.name, PURPOSE, build_details(st.docs)
        )
        bundle = export_bundle(ws, tmp / "ledger", actor=decision.actor, now=at)
        origin, _ = public_identity(ws)
        sealed = seal(
            ws,
            tmp,
            st.docs,
            build_seq=build.seq,
            bundle=bundle,
            header={
                "created_at": at.isoformat(),
                "created_by": decision.actor,
                "transfer": (data["transfer"] or {}).get("name"),
                "checklist_score": report.score["score"],
            },
            verifier_keys=[verifier_key(origin, k.raw) for k in public_keys(ws)],
            events=Recorder(ws, decision.actor),
        )
        place_folder(tmp, folder, "dossier.exists")  # over the empty folder claimed
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if claimed:
            with contextlib.suppress(OSError):
                folder.rmdir()  # the name claimed, still empty
        raise
    done = record(
        ws,
        decision.actor,
        "dossier.export",
        folder.name,
        PURPOSE,
        {
            "folder": str(folder),
            "manifest_sha256": sealed.manifest_sha256,
            "files": sealed.files,
            "documents": sealed.documents,
            "tree_size": sealed.tree_size,
            "root": sealed.root,
            "build_seq": build.seq,
            "warnings": len(st.warnings),
        },
    )
    return DossierResult(
        folder, sealed, build.seq, done.seq, float(report.score["score"]), st.warnings
    )


def verify_folder(folder: Path, keys: list[str] | None = None) -> dict[str, Any]:
    """Check a dossier offline, exactly as its ``verify.py`` does (no workspace needed):
    CheckFailed naming the first bad file or ledger entry, BadInput when unreadable."""
    from handover.ledger.bundle_verify import verify_dossier
    from handover.ledger.export import offline_check
    from handover.ledger.pinned import pinned_verifier_keys

    keys = pinned_verifier_keys(keys, folder / _ledger_folder(folder))
    return offline_check(
        lambda: verify_dossier(folder, keys), folder, "dossier.unreadable", "dossier.failed"
    )


@dataclass(frozen=True)
class BuiltDossier:
    """A dossier this workspace built (its ``dossier.export`` ledger entry), and whether
    its folder is still there."""

    name: str
    folder: Path
    seq: int
    at: str
    by: str
    manifest_sha256: str
    files: int
    documents: int
    warnings: int
    present: bool

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {**asdict(self), "folder": str(self.folder)}


def dossiers(ws: Workspace) -> list[BuiltDossier]:
    """Every dossier built, newest first, from the ledger (reading needs no decision)."""
    out = []
    for e in reversed(entries(ws, action="dossier.export")):
        if e.action != "dossier.export":
            continue
        d = e.details
        folder = Path(str(d.get("folder", "")))
        out.append(
            BuiltDossier(
                e.subject,
                folder,
                e.seq,
                e.ts,
                e.actor,
                str(d.get("manifest_sha256", "")),
                int(d.get("files", 0)),
                int(d.get("documents", 0)),
                int(d.get("warnings", 0)),
                (folder / "manifest.json").is_file(),
            )
        )
    return out


def find_dossier(ws: Workspace, name: str) -> BuiltDossier:
    """The built dossier named ``name`` (BadInput naming it when there is none)."""
    found = next((d for d in dossiers(ws) if d.name == name), None)
    if found is None:
        raise BadInput.msg("dossier.unknown", name=name)
    return found


def check_dossier(ws: Workspace, name: str) -> dict[str, Any]:
    """Dossier ``name`` checked offline as its ``verify.py`` does, the ledger's keys pinned
    to this workspace's (CheckFailed naming the first bad file or entry)."""
    from handover.crypto import public_keys
    from handover.ledger import public_identity
    from handover.ledger.note import verifier_key

    d = find_dossier(ws, name)
    origin, _ = public_identity(ws)
    return verify_folder(d.folder, [verifier_key(origin, k.raw) for k in public_keys(ws)])


def archive(ws: Workspace, name: str) -> bytes:
    """Dossier ``name`` as one zip (its folder's files under ``<name>/``, in a stable
    order), to hand over or download as it is on disk."""
    import io
    import zipfile

    d = find_dossier(ws, name)
    if not d.present:
        raise BadInput.msg("dossier.unreadable", path=d.folder, detail="manifest.json")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in d.folder.rglob("*") if p.is_file()):
            z.write(path, f"{d.folder.name}/{path.relative_to(d.folder).as_posix()}")
    return buf.getvalue()


def demo_step(ctx: Any) -> str:
    """Demo step: the public transparency report, then the dossier (which carries it),
    verified offline at once."""
    from handover.flows.transparency import transparency_report
    from handover.i18n import t

    tr = transparency_report(ctx.ws, actor="wangmin")
    res = build_dossier(ctx.ws, actor="liuyang")
    checked = verify_folder(res.folder)
    return t(
        "dossier.demo_step",
        ctx.lang,
        transparency=tr.folder,
        folder=res.folder,
        documents=checked["documents"],
        files=checked["files"],
        score=res.score * 100,
    )
