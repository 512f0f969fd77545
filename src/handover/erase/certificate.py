"""The certificate of sanitization (数据销毁证明): canonical JSON, Ed25519 signature, check.

``certificate.json`` is the RFC 8785 canonical JSON of the certificate; ``certificate.sig``
holds the detached Ed25519 signature over exactly those bytes by the workspace signing
key (``handover.crypto.sign``) and names the key. The certificate carries the ledger
entries of the run with RFC 6962 inclusion proofs against a signed ledger checkpoint,
so :func:`verify_certificate` checks it without the workspace: the signer must be the
ledger key that signed the checkpoint, every destroyed item must be the one its proven
ledger entry recorded, and the retained items exactly those the run's proven
``erase.freeze`` entry recorded as kept. Whether that key is the seller's is only known with the workspace or
a pinned key; without either the certificate is not accepted.

The renderings (HTML, PDF) embed the signature of ``certificate.json``, so their SHA-256
cannot be inside it: :func:`seal_renderings` records them afterwards in
``certificate.renderings.json``, signed by the same key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput
from handover.i18n import Msg
from handover.ledger.pinned import read_pinned_key

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.workspace import Workspace

FORMAT = "handover-sanitization-certificate"
VERSION = 1
CERT_NAME = "certificate.json"
SIG_NAME = "certificate.sig"
RENDERINGS_NAME = "certificate.renderings.json"
RENDERINGS_FORMAT = "handover-certificate-renderings"
#: the ledger action that records each medium's destruction (files of every kind: erase.file)
ITEM_ACTIONS = {"table": "erase.table", "rows": "erase.rows", "key": "key.destroy"}
RUN_ACTIONS = ("erase.table", "erase.rows", "erase.file")


def canonical(doc: dict[str, Any]) -> bytes:
    """The signed byte form: RFC 8785 canonical JSON (the ledger's encoder)."""
    from handover.ledger.canonical import canonical_json

    return canonical_json(doc)


def ledger_section(ws: Workspace, seqs: list[int]) -> dict[str, Any]:
    """Inclusion proofs of ``seqs`` against one signed checkpoint, with the ledger's key."""
    from handover.ledger import prove, public_identity

    origin, pub = public_identity(ws)
    proofs = [prove(ws, s) for s in sorted(set(seqs))]
    if not proofs:
        return {"origin": origin, "public_key": pub.hex(), "entries": []}
    checkpoint = proofs[-1].checkpoint
    return {
        "origin": origin,
        "public_key": pub.hex(),
        "checkpoint": checkpoint,
        "tree_size": proofs[-1].size,
        "root": proofs[-1].root.hex(),
        "entries": [
            {
                "seq": p.seq,
                "action": json.loads(p.body).get("action"),
                "leaf_hash": p.leaf_hash.hex(),
                "body": p.body.decode("utf-8"),
                "proof": [h.hex() for h in p.proof],
                "tree_size": p.size,
            }
            for p in proofs
        ],
    }


def sign_certificate(
    ws: Workspace, doc: dict[str, Any], folder: Path, *, events: EventSink | None = None
) -> tuple[bytes, dict[str, Any]]:
    """Write ``certificate.json`` and ``certificate.sig`` into ``folder``; returns both (a
    signing key made on first use is reported to ``events``)."""
    from handover.crypto import public_key, sha256_hex, signature

    pub = public_key(ws, events=events)
    doc = {
        **doc,
        "signer": {
            "algorithm": "Ed25519",
            "key_id": pub.key_id,
            "key_version": pub.version,
            "public_key": pub.raw.hex(),
        },
    }
    body = canonical(doc)
    sig = {
        **signature(ws, body, events=events).to_json(),
        "signed": CERT_NAME,
        "sha256": sha256_hex(body),
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CERT_NAME).write_bytes(body)
    (folder / SIG_NAME).write_bytes(canonical(sig) + b"\n")
    return body, sig


def seal_renderings(
    ws: Workspace, folder: Path, paths: list[Path], *, events: EventSink | None = None
) -> Path:
    """Record the SHA-256 of each rendering of the certificate in ``folder`` (``paths``:
    its HTML and PDF files) in ``certificate.renderings.json``, signed by the workspace
    signing key, so :func:`verify_certificate` finds an edited, deleted or added one."""
    from handover.crypto import sha256_file, signature

    record = {
        "format": RENDERINGS_FORMAT,
        "version": 1,
        "certificate": {"file": CERT_NAME, "sha256": sha256_file(folder / CERT_NAME)},
        "files": {
            p.name: sha256_file(folder / p.name)
            for p in paths
            if p.name not in (CERT_NAME, SIG_NAME, RENDERINGS_NAME)
        },
    }
    sig = signature(ws, canonical(record), events=events).to_json()
    out = folder / RENDERINGS_NAME
    out.write_bytes(canonical({**record, "signature": sig}) + b"\n")
    return out


@dataclass
class CertificateCheck:
    """The outcome of checking a certificate: signature, signer trust, ledger proofs, the
    destroyed items against their ledger entries, the renderings."""

    path: Path
    certificate_id: str = ""
    signature_ok: bool = False
    signer: str = ""
    #: None: no workspace or pinned key to judge by (the certificate is then not accepted)
    trusted: bool | None = None
    proofs: int = 0
    proofs_ok: int = 0
    #: destroyed items whose ledger entry is proven and records the same
    items_ok: int = 0
    #: retained items the run's proven ``erase.freeze`` entry records the same
    retained_ok: int = 0
    #: renderings whose SHA-256 is the recorded one; None when none is recorded
    renderings: int | None = None
    #: what is wrong, as catalogue messages (``erase.cert.problem.*``) shown in the
    #: user's language
    findings: list[Msg] = field(default_factory=list)
    #: what is true but limits the check (``erase.cert.note.*``), not a failure
    notes: list[Msg] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """The findings in English."""
        return [str(m) for m in self.findings]

    @property
    def ok(self) -> bool:
        """Valid: signed by a trusted key, proven, and nothing found wrong."""
        return self.signature_ok and self.trusted is True and not self.findings

    @property
    def consistent(self) -> bool:
        """Everything checks out except that nothing says whose key signed it."""
        return self.trusted is None and [m.key for m in self.findings] == [
            "erase.cert.problem.unpinned"
        ]

    def to_json(self) -> dict[str, Any]:
        """``--json`` form."""
        return {
            "certificate": str(self.path),
            "certificate_id": self.certificate_id,
            "valid": self.ok,
            "signature_ok": self.signature_ok,
            "signer": self.signer,
            "signer_trusted": self.trusted,
            "proofs": self.proofs,
            "proofs_ok": self.proofs_ok,
            "items_ok": self.items_ok,
            "retained_ok": self.retained_ok,
            "renderings_covered": self.renderings is not None,
            "renderings_ok": self.renderings,
            "problems": self.problems,
            "problem_details": [{"key": m.key, "params": m.params()} for m in self.findings],
            "notes": [str(m) for m in self.notes],
        }


def _paths(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        return path / CERT_NAME, path / SIG_NAME
    if path.suffix == ".sig":
        return path.with_suffix(".json"), path
    return path, path.with_suffix(".sig")


def verify_certificate(
    path: Path, *, ws: Workspace | None = None, pinned_key: str | None = None
) -> CertificateCheck:
    """Check the signature, the signer, every ledger inclusion proof, every destroyed item
    against its proven ledger entry, every retained item against the run's proven
    ``erase.freeze`` entry and the recorded renderings of a certificate.

    The signer is trusted when it is one of ``ws``'s signing keys or ``pinned_key``;
    without either the check says so (finding ``unpinned``) and is not ok."""
    from handover.crypto import Signature, sha256_hex, verify

    pinned = read_pinned_key(pinned_key) if pinned_key is not None else None
    cert_path, sig_path = _paths(path)
    for p in (cert_path, sig_path):
        if not p.is_file():
            raise BadInput.msg("erase.no_file", path=p)
    out = CertificateCheck(cert_path)
    names = {"file": cert_path.name, "sig": sig_path.name}

    def problem(key: str, **values: object) -> None:
        out.findings.append(Msg(f"erase.cert.problem.{key}", **values))

    body = cert_path.read_bytes()
    try:
        sig = Signature.from_json(json.loads(sig_path.read_bytes().decode("utf-8")))
    except (ValueError, UnicodeDecodeError):
        problem("sig_malformed", sig=sig_path.name)
        return out
    pub = sig.public_key
    out.signer = f"{sig.key_id} v{sig.version} ({pub.hex()[:16]}…)"
    out.signature_ok = len(pub) == 32 and verify(pub, body, sig.value)
    if not out.signature_ok:
        problem("sig_mismatch", file=cert_path.name)
    if pinned is not None:
        out.trusted = pub == pinned
    elif ws is not None:
        from handover.crypto import public_keys

        out.trusted = pub in {k.raw for k in public_keys(ws)}
    if out.trusted is False:
        problem("untrusted", sig=sig_path.name)
    try:
        doc = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        problem("not_json", file=cert_path.name)
        return out
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        problem("not_cert", file=cert_path.name)
        return out
    out.certificate_id = str(doc.get("certificate_id", ""))
    named = doc.get("signer")
    signer: dict[str, Any] = named if isinstance(named, dict) else {}
    if (
        signer.get("public_key") != pub.hex()
        or signer.get("key_id") != sig.key_id
        or signer.get("key_version") != sig.version
    ):
        problem("signer_differs", **names)
    # The .sig must be byte for byte the record sign_certificate writes: an edit to a field
    # the signature does not cover (sha256, names, hex case, base64 padding bits) fails too.
    expected = {**sig.to_json(), "signed": CERT_NAME, "sha256": sha256_hex(body)}
    if sig_path.read_bytes() != canonical(expected) + b"\n":
        problem("sig_record", **names)
    _check_renderings(cert_path.parent, body, pub, out, problem)
    proven = _check_ledger(doc, pub, ws, out, problem, names)
    if proven is not None:
        _check_items(doc, proven, out, problem)
        _check_retained(doc, proven, out, problem)
    if out.trusted is None:  # last: everything else is said first
        problem("unpinned")
    return out


def _check_ledger(
    doc: dict[str, Any],
    pub: bytes,
    ws: Workspace | None,
    out: CertificateCheck,
    problem: Callable[..., None],
    names: dict[str, str],
) -> dict[int, dict[str, Any]] | None:
    """Every ledger entry's inclusion proof against the checkpoint the ledger key signed,
    which must be the key that signed the certificate; the proven bodies by seq (None when
    the ledger section cannot be read)."""
    from handover.ledger import merkle
    from handover.ledger.note import NoteError, open_note, parse_checkpoint

    ledger = doc.get("ledger")
    entries = ledger.get("entries") if isinstance(ledger, dict) else None
    if not isinstance(ledger, dict) or not isinstance(entries, list) or not entries:
        problem("no_ledger")
        return None
    out.proofs = len(entries)
    try:
        origin = str(ledger["origin"])
        lpub = bytes.fromhex(ledger["public_key"])
        cp = parse_checkpoint(open_note(str(ledger["checkpoint"]), origin, lpub))
    except NoteError as exc:
        problem("checkpoint", reason=exc.text)
        return None
    except (KeyError, ValueError, TypeError) as exc:
        problem("ledger_malformed", detail=str(exc))
        return None
    # Anyone can sign a certificate and a checkpoint with a fresh key: the certificate's
    # signer must be the very key whose checkpoint proves the entries (and that key is
    # trusted only through the workspace or --key).
    if lpub != pub:
        problem("signer_not_ledger", sig=names["sig"], signer=pub.hex(), ledger=lpub.hex())
    if ws is not None:
        from handover.ledger import public_identity
        from handover.ledger.ledger import trusted_keys

        # Any version of the signing key: the certificate may predate a key rotation.
        if public_identity(ws)[0] != origin or lpub not in trusted_keys(ws):
            problem("foreign_ledger")
    if cp.origin != origin:
        problem("origin_differs")
    proven: dict[int, dict[str, Any]] = {}
    for e in entries:
        try:
            seq, size = int(e["seq"]), int(e["tree_size"])
            leaf_body = str(e["body"]).encode("utf-8")
            proof = [bytes.fromhex(h) for h in e["proof"]]
            inner = json.loads(leaf_body)
            if not isinstance(inner, dict):
                raise TypeError
        except (KeyError, ValueError, TypeError, AttributeError):
            problem("entry_malformed", seq=e.get("seq") if isinstance(e, dict) else "?")
            continue
        ok = (
            size == cp.size
            and inner.get("seq") == seq
            and inner.get("action") == e.get("action")
            and merkle.leaf_hash(leaf_body).hex() == e.get("leaf_hash")
            and merkle.verify_inclusion(leaf_body, seq, size, proof, cp.root)
        )
        if ok:
            out.proofs_ok += 1
            proven[seq] = inner
        else:
            problem("entry_unproven", seq=seq)
    return proven


def _check_items(
    doc: dict[str, Any],
    proven: dict[int, dict[str, Any]],
    out: CertificateCheck,
    problem: Callable[..., None],
) -> None:
    """Each destroyed item is what its proven ledger entry recorded (subject, rows or bytes,
    the run), no proven destruction of the run is left out, and the verification is the
    one ``erase.verify`` recorded. Values are compared as the ledger stores them: masked
    by its guard (a long byte count may look like a card number)."""
    from handover.ledger.guard import guard

    cid = doc.get("certificate_id")
    destroyed = doc.get("destroyed")
    if not isinstance(destroyed, list):
        problem("items_malformed")
        return
    claimed: set[int] = set()
    for item in destroyed:
        if not isinstance(item, dict):
            problem("items_malformed")
            continue
        subject, seq = str(item.get("subject")), item.get("ledger_seq")
        if type(seq) is not int or seq not in proven or seq in claimed:
            problem("item_unproven", subject=subject, seq=seq)
            continue
        claimed.add(seq)
        body = proven[seq]
        medium = item.get("medium")
        raw = body.get("details")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
        pairs: list[tuple[str, Any, Any]] = [
            ("action", ITEM_ACTIONS.get(str(medium), "erase.file"), body.get("action")),
            ("subject", subject, body.get("subject")),
        ]
        if medium == "key":
            pairs.append(("key_id", item.get("key_id"), details.get("key_id")))
            # key.destroy names its run in its reason ("handover shred <run>")
            if str(cid) not in str(details.get("reason", "")):
                pairs.append(("run_id", cid, details.get("reason")))
        else:
            pairs.append(("run_id", cid, details.get("run_id")))
            fields = ("rows",) if medium in ("table", "rows") else ("bytes", "files", "passes")
            pairs += [(f, item.get(f), details.get(f)) for f in (*fields, "readback_ok")]
        # guarded under its own name, exactly as the ledger guarded it on append
        bad = [(f, v, r) for f, v, r in pairs if guard({f: v}).value[f] != r]
        for name, value, recorded in bad:
            problem(
                "item_differs",
                subject=subject,
                field=name,
                value=value,
                seq=seq,
                recorded=recorded,
            )
        if not bad:
            out.items_ok += 1
    for seq, body in sorted(proven.items()):
        raw = body.get("details")
        details = raw if isinstance(raw, dict) else {}
        action = body.get("action")
        ours = details.get("run_id") == cid
        if str(action).startswith("erase.") and not ours:
            problem("entry_other_run", seq=seq, run=details.get("run_id"))
        elif seq not in claimed and (
            (action in RUN_ACTIONS and ours)
            or (action == "key.destroy" and str(cid) in str(details.get("reason", "")))
        ):
            problem("entry_unclaimed", seq=seq, action=action, subject=body.get("subject"))
    recorded = [
        {k: v for k, v in b["details"].items() if k != "run_id"}
        for b in proven.values()
        if b.get("action") == "erase.verify"
        and isinstance(b.get("details"), dict)
        and b["details"].get("run_id") == cid
    ]
    if recorded != [guard(doc.get("verification")).value]:
        problem("verification_differs")


def _check_retained(
    doc: dict[str, Any],
    proven: dict[int, dict[str, Any]],
    out: CertificateCheck,
    problem: Callable[..., None],
) -> None:
    """The retained items are exactly those the run's proven ``erase.freeze`` entry records
    as kept (medium and subject; rule id and end date), none added and none left out. The
    run's proven ``erase.start`` says how many items it kept, so a certificate that leaves
    the freeze entry out together with what it kept is caught too. Values are compared as
    the ledger stores them (masked by its guard)."""
    from handover.ledger.guard import guard

    cid = doc.get("certificate_id")
    retained = doc.get("retained")
    if not isinstance(retained, list) or not all(isinstance(i, dict) for i in retained):
        problem("retained_malformed")
        return

    def ours(action: str) -> list[tuple[int, dict[str, Any]]]:
        return [
            (seq, b["details"])
            for seq, b in sorted(proven.items())
            if b.get("action") == action
            and isinstance(b.get("details"), dict)
            and b["details"].get("run_id") == cid
        ]

    starts, freezes = ours("erase.start"), ours("erase.freeze")
    if not starts:
        problem("start_unproven")
    elif not freezes and starts[0][1].get("retain"):
        problem("freeze_unproven", seq=starts[0][0], count=starts[0][1].get("retain"))
    recorded: list[tuple[int, dict[str, Any]]] = []
    for seq, details in freezes:
        items = details.get("items")
        recorded += [
            (seq, i) for i in (items if isinstance(items, list) else []) if isinstance(i, dict)
        ]
    used: set[int] = set()
    for item in retained:
        raw = item.get("rule")
        rule: dict[str, Any] = raw if isinstance(raw, dict) else {}
        claim = {
            "medium": item.get("medium"),
            "subject": item.get("subject"),
            "rule": rule.get("id"),
            "until": rule.get("until"),
        }
        # guarded as the freeze entry's items were on append (under the key "items")
        masked = guard({"items": [claim]}).value["items"][0]
        at = next(
            (
                n
                for n, (_seq, rec) in enumerate(recorded)
                if n not in used
                and rec.get("medium") == masked["medium"]
                and rec.get("subject") == masked["subject"]
            ),
            None,
        )
        subject = str(item.get("subject"))
        if at is None:
            problem("retained_unproven", subject=subject, medium=item.get("medium"))
            continue
        used.add(at)
        seq, rec = recorded[at]
        bad = [f for f in ("rule", "until") if masked[f] != rec.get(f)]
        for name in bad:
            problem(
                "retained_differs",
                subject=subject,
                field=name,
                value=claim[name],
                seq=seq,
                recorded=rec.get(name),
            )
        if not bad:
            out.retained_ok += 1
    for n, (seq, rec) in enumerate(recorded):
        if n not in used:
            problem("retained_missing", seq=seq, subject=rec.get("subject"))


def _check_renderings(
    folder: Path,
    body: bytes,
    pub: bytes,
    out: CertificateCheck,
    problem: Callable[..., None],
) -> None:
    """Each rendering against the SHA-256 :func:`seal_renderings` recorded; a certificate
    without that record gets a note that its renderings are not covered."""
    from handover.crypto import Signature, sha256_file, sha256_hex, verify

    path = folder / RENDERINGS_NAME
    if not path.is_file():
        out.notes.append(Msg("erase.cert.note.renderings_uncovered", file=RENDERINGS_NAME))
        return
    raw = path.read_bytes()
    try:
        record = json.loads(raw.decode("utf-8"))
        sig = Signature.from_json(record.pop("signature"))
        files = dict(record["files"])
        cert = dict(record["certificate"])
    except (ValueError, UnicodeDecodeError, AttributeError, KeyError, TypeError):
        problem("renderings_unsigned", file=RENDERINGS_NAME)
        return
    if (
        record.get("format") != RENDERINGS_FORMAT
        or sig.public_key != pub
        or raw != canonical({**record, "signature": sig.to_json()}) + b"\n"
        or not verify(pub, canonical(record), sig.value)
        or cert != {"file": CERT_NAME, "sha256": sha256_hex(body)}
    ):
        problem("renderings_unsigned", file=RENDERINGS_NAME)
        return
    good = 0
    for name, digest in sorted(files.items()):
        p = folder / str(name)
        if "/" in name or "\\" in name or not p.is_file():
            problem("rendering_missing", file=name)
        elif sha256_file(p) != digest:
            problem("rendering_modified", file=name)
        else:
            good += 1
    for p in sorted(folder.iterdir()):
        if p.name.startswith("certificate.") and p.name not in {
            *files,
            CERT_NAME,
            SIG_NAME,
            RENDERINGS_NAME,
        }:
            problem("rendering_added", file=p.name)
    out.renderings = good
