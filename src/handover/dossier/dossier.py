"""Staging and sealing a dossier folder.

A document is a file inside the folder with its SHA-256 and the ledger entries that hold
that SHA-256 (its *bindings*): the entry that recorded it when it was made (a signed PIA
export, a destruction certificate, an incident report) when there is one, and always the
``dossier.build`` entry the flow records over every document. :func:`seal` adds the
inclusion proof of every binding entry in the tree of the ledger bundle inside the folder,
the offline verifier, and ``manifest.json`` listing every file with its SHA-256, signed
by the workspace signing key (``manifest.sig``). The verifier
(:mod:`handover.ledger.bundle_verify`, copied as ``verify.py``) checks all of it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.crypto import sha256_file, sha256_hex, signature
from handover.errors import BadInput, CheckFailed
from handover.ledger import prove_at
from handover.ledger.bundle_verify import UNLISTED
from handover.ledger.export import VERIFIER

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.ledger import LedgerEntry
    from handover.ledger.export import ExportResult
    from handover.workspace import Workspace

FORMAT = "handover-dossier/1"
LEDGER_FOLDER = "ledger"

README = """handover 监管报送材料包 / handover regulator's dossier
====================================================

目录 / contents: dossier.zh-CN.pdf, dossier.en.pdf (目录、各部分与文件清单 / table of
contents, every section and the list of documents), dossier.json (机器可读 / machine
readable), documents/ (原始文件 / the documents themselves), ledger/ (账本证据包 / the
ledger evidence bundle), manifest.json + manifest.sig (签名的文件清单 / the signed list
of every file with its SHA-256), verify.py (离线核验程序 / the offline verifier).

核验(只需 Python 3.11+ 和 cryptography 包):
To verify (needs only Python 3.11+ and the cryptography package):

    python verify.py {key_args}

它检查:每个文件的 SHA-256 与清单一致(任何改动、增删的文件都会被指名);账本证据包
(逐条重算、签名检查点、一致性与包含证明);清单由账本的签名密钥签名;每份文件的 SHA-256
记录在账本条目中,且这些条目以 Merkle 包含证明证明在最后一个签名检查点之内。
It checks: every file's SHA-256 against the manifest (a changed, added or deleted file is
named); the ledger bundle (every entry recomputed, signed checkpoints, consistency and
inclusion proofs); the manifest's signature by the ledger's signing key; that every
document's SHA-256 is held by ledger entries proven included in the last signed
checkpoint. Exit status 0 = verified, 1 = a check failed, 2 = unreadable.

请从独立渠道(如交易文件、监管报送)取得上面的公钥字符串后再用 --key 指定。
Obtain the verifier key above through an independent channel and pass it with --key.
"""


@dataclass(frozen=True)
class Binding:
    """A ledger entry whose details hold a document's SHA-256 at ``field``."""

    seq: int
    field: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {"seq": self.seq, "field": list(self.field)}


@dataclass
class Document:
    """A file of the dossier (``path`` relative to its folder, POSIX form)."""

    path: str
    kind: str
    title: tuple[str, str]
    sha256: str
    size: int
    bindings: list[Binding] = field(default_factory=list)
    #: the entry that recorded an earlier SHA-256 of this file (it changed since)
    origin_mismatch: int | None = None

    @property
    def origin_seq(self) -> int | None:
        """The entry that recorded the file when it was made, if any."""
        return self.bindings[0].seq if self.bindings else None

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "path": self.path,
            "kind": self.kind,
            "title": list(self.title),
            "sha256": self.sha256,
            "bytes": self.size,
            "bindings": [b.to_json() for b in self.bindings],
            "origin_mismatch": self.origin_mismatch,
        }


def check_out(out: Path) -> None:
    """BadInput naming ``out`` unless a report folder can be written there: ``out`` is
    missing or an empty folder, and the nearest folder that exists on its way (``out``
    itself, else a parent) is a folder this process may write into. Creates nothing, so
    a caller checks before it authorises or records anything."""
    try:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise BadInput.msg("dossier.exists", path=out)
        near = out.absolute()
        while not near.exists() and near.parent != near:
            near = near.parent
    except OSError as exc:  # a folder on the way that may not be searched
        raise BadInput.msg("reports.out_folder", path=out, reason=type(exc).__name__) from None
    if not near.is_dir():  # the path runs through a file
        raise BadInput.msg("reports.out_folder", path=out, reason="NotADirectoryError")
    # written into: ``out`` itself, and its parent (a dossier is renamed into place)
    writes = [near] if near != out.absolute() else [near, near.parent]
    if not all(os.access(p, os.W_OK | os.X_OK) for p in writes):
        raise BadInput.msg("reports.out_folder", path=out, reason="PermissionError")


def _place(folder: Path, rel: str) -> Path:
    target = folder / rel
    # names come from ledger details: never let one lead outside the dossier
    if Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise BadInput.msg("dossier.bad_path", path=rel)
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def describe(folder: Path, rel: str, *, kind: str, title: tuple[str, str]) -> Document:
    """Describe the file already written at ``folder/rel``."""
    target = folder / rel
    return Document(rel, kind, title, sha256_file(target), target.stat().st_size)


def add_file(folder: Path, rel: str, src: Path, *, kind: str, title: tuple[str, str]) -> Document:
    """Copy ``src`` to ``folder/rel`` (unless it is already there) and describe it."""
    target = _place(folder, rel)
    if src.resolve() != target.resolve():
        shutil.copyfile(src, target)
    return describe(folder, rel, kind=kind, title=title)


def add_json(folder: Path, rel: str, data: Any, *, kind: str, title: tuple[str, str]) -> Document:
    """Write ``data`` as indented UTF-8 JSON at ``folder/rel`` and describe it."""
    _place(folder, rel).write_text(
        json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
    )
    return describe(folder, rel, kind=kind, title=title)


def bind_origin(doc: Document, entry: LedgerEntry, *path: str) -> bool:
    """Bind ``doc`` to ``entry`` when ``entry``'s details hold its SHA-256 at ``path``;
    otherwise note that the file changed since that entry recorded it."""
    value: Any = entry.details
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if value == doc.sha256:
        doc.bindings.insert(0, Binding(entry.seq, ("details", *path)))
        return True
    doc.origin_mismatch = entry.seq
    return False


def build_details(documents: list[Document]) -> dict[str, Any]:
    """The ``dossier.build`` entry's details: every document's SHA-256 by path."""
    return {
        "documents": {d.path: d.sha256 for d in documents},
        "count": len(documents),
        "bytes": sum(d.size for d in documents),
    }


@dataclass(frozen=True)
class Sealed:
    """What :func:`seal` wrote: the manifest's SHA-256 and its counts."""

    manifest_sha256: str
    files: int
    documents: int
    bindings: int
    tree_size: int
    root: str


def seal(
    ws: Workspace,
    folder: Path,
    documents: list[Document],
    *,
    build_seq: int,
    bundle: ExportResult,
    header: dict[str, Any],
    verifier_keys: list[str],
    events: EventSink | None = None,
) -> Sealed:
    """Bind every document to ``build_seq`` too, prove each binding entry in the tree of
    ``bundle`` (exported into ``folder/ledger``), add ``verify.py`` and ``README.txt``,
    and write ``manifest.json`` (every file with its SHA-256) and its signature."""
    for d in documents:
        d.bindings.append(Binding(build_seq, ("details", "documents", d.path)))
    proofs: dict[str, list[str]] = {}
    for seq in sorted({b.seq for d in documents for b in d.bindings}):
        proof = prove_at(ws, seq, bundle.entries)
        if proof.root != bundle.root:
            raise CheckFailed.msg("dossier.ledger_moved", seq=seq, size=bundle.entries)
        proofs[str(seq)] = [h.hex() for h in proof.proof]
    shutil.copyfile(VERIFIER, folder / "verify.py")
    key_args = " ".join(f'--key "{v}"' for v in verifier_keys)
    (folder / "README.txt").write_text(README.format(key_args=key_args), encoding="utf-8")
    files = {
        p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() not in UNLISTED
    }
    manifest = {
        "format": FORMAT,
        **header,
        "ledger": {
            "folder": LEDGER_FOLDER,
            "tree_size": bundle.entries,
            "root": bundle.root.hex(),
            "build_seq": build_seq,
            "verifier_keys": verifier_keys,
        },
        "documents": [d.to_json() for d in documents],
        "proofs": proofs,
        "files": files,
    }
    body = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    (folder / "manifest.json").write_bytes(body)
    sig = {**signature(ws, body, events=events).to_json(), "sha256": sha256_hex(body)}
    (folder / "manifest.sig").write_text(json.dumps(sig, indent=1) + "\n", encoding="utf-8")
    return Sealed(
        sha256_hex(body),
        len(files),
        len(documents),
        sum(len(d.bindings) for d in documents),
        bundle.entries,
        bundle.root.hex(),
    )
