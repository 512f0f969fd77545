"""The certificate of sanitization (数据销毁证明): canonical JSON, Ed25519 signature, check.

``certificate.json`` is the RFC 8785 canonical JSON of the certificate; ``certificate.sig``
holds the detached Ed25519 signature over exactly those bytes by the workspace signing
key (``handover.crypto.sign``) and names the key. The certificate carries the ledger
entries of the run with RFC 6962 inclusion proofs against a signed ledger checkpoint,
so :func:`verify_certificate` checks it without the workspace; with the workspace (or a
pinned key) it also checks that the signer is the workspace's key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput
from handover.i18n import Msg

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.workspace import Workspace

FORMAT = "handover-sanitization-certificate"
VERSION = 1
CERT_NAME = "certificate.json"
SIG_NAME = "certificate.sig"


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


@dataclass
class CertificateCheck:
    """The outcome of checking a certificate: signature, signer trust, ledger proofs."""

    path: Path
    certificate_id: str = ""
    signature_ok: bool = False
    signer: str = ""
    trusted: bool | None = None  # None: no workspace or pinned key to judge by
    proofs: int = 0
    proofs_ok: int = 0
    #: what is wrong, as catalogue messages (``erase.cert.problem.*``) shown in the
    #: user's language
    findings: list[Msg] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """The findings in English."""
        return [str(m) for m in self.findings]

    @property
    def ok(self) -> bool:
        return self.signature_ok and self.trusted is not False and not self.findings

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
            "problems": self.problems,
            "problem_details": [{"key": m.key, "params": m.params()} for m in self.findings],
        }


def _paths(path: Path) -> tuple[Path, Path]:
    if path.is_dir():
        return path / CERT_NAME, path / SIG_NAME
    if path.suffix == ".sig":
        return path.with_suffix(".json"), path
    return path, path.with_suffix(".sig")


def _pinned(key: str) -> bytes:
    """A raw Ed25519 public key from hex, or from a PEM/hex file."""
    p = Path(key)
    text = p.read_text(encoding="utf-8").strip() if p.is_file() else key.strip()
    if "BEGIN PUBLIC KEY" in text:
        from handover.crypto.signing import public_key_from_pem

        try:
            return public_key_from_pem(text)
        except ValueError:
            raise BadInput.msg("erase.key_pem", spec=key) from None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise BadInput.msg("erase.key_hex", spec=key) from None
    if len(raw) != 32:
        raise BadInput.msg("erase.key_len", spec=key)
    return raw


def verify_certificate(
    path: Path, *, ws: Workspace | None = None, pinned_key: str | None = None
) -> CertificateCheck:
    """Check the signature, the signer and every ledger inclusion proof of a certificate."""
    from handover.crypto import Signature, sha256_hex, verify
    from handover.ledger import merkle
    from handover.ledger.note import NoteError, open_note, parse_checkpoint

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
    if pinned_key is not None:
        out.trusted = pub == _pinned(pinned_key)
    elif ws is not None:
        from handover.crypto import public_keys

        out.trusted = pub in {k.raw for k in public_keys(ws)}
    if out.trusted is False:
        problem("untrusted", sig=sig_path.name)
    ledger = doc.get("ledger") or {}
    entries = ledger.get("entries") or []
    out.proofs = len(entries)
    if not entries:
        return out
    try:
        origin = str(ledger["origin"])
        lpub = bytes.fromhex(ledger["public_key"])
        cp = parse_checkpoint(open_note(str(ledger["checkpoint"]), origin, lpub))
    except NoteError as exc:
        problem("checkpoint", reason=exc.text)
        return out
    except (KeyError, ValueError, TypeError) as exc:
        problem("ledger_malformed", detail=str(exc))
        return out
    if ws is not None:
        from handover.ledger import public_identity
        from handover.ledger.ledger import trusted_keys

        # Any version of the signing key: the certificate may predate a key rotation.
        if public_identity(ws)[0] != origin or lpub not in trusted_keys(ws):
            problem("foreign_ledger")
    if cp.origin != origin:
        problem("origin_differs")
    for e in entries:
        try:
            seq, size = int(e["seq"]), int(e["tree_size"])
            leaf_body = str(e["body"]).encode("utf-8")
            proof = [bytes.fromhex(h) for h in e["proof"]]
            inner = json.loads(leaf_body)
        except (KeyError, ValueError, TypeError):
            problem("entry_malformed", seq=e.get("seq"))
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
        else:
            problem("entry_unproven", seq=seq)
    return out
