"""The package manifest: what a package holds, and its Ed25519 signature.

``manifest.json`` is canonical JSON (UTF-8, sorted keys, no insignificant spaces) so the
signature in ``manifest.sig`` covers exactly the bytes on disk. The signature names the
workspace signing key (id, version, raw public key); a reader accepts it only when that
public key is one of its workspace's signing keys (docs/package.md, "Trust").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover.errors import BadInput, CheckFailed

if TYPE_CHECKING:
    from handover.events import EventSink
    from handover.workspace import Workspace

FORMAT = "handover-package"
#: version 1: one file per table; version 2 (written only when a table is sharded) adds
#: ``shards`` to a table entry. Both are read.
VERSION = 1
SHARDED_VERSION = 2
VERSIONS = (VERSION, SHARDED_VERSION)
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
TABLES_DIR = "tables"


def canonical_json(data: Any) -> bytes:
    """The one byte form of manifest data that gets signed."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


@dataclass
class TableEntry:
    """One table of the package: where its file is, its schema, its counts and digests."""

    name: str
    file: str
    rows: int
    schema: dict[str, Any]
    columns: list[dict[str, Any]]
    order_key: list[str]
    row_root: str
    #: order-free digest of the rows (packages up to handover-row-v2; v3 computes it on unseal)
    row_set: str | None
    sha256: str
    bytes: int
    sm3: str | None = None
    #: a sharded table (written by a cluster): one file per shard, in key order, each
    #: ``{"file", "rows", "row_root", "sha256", "bytes"[, "sm3"]}``; the table's
    #: ``row_root`` is the root over every shard's chunk digests in shard order, its
    #: ``file`` the first shard's, its ``sha256`` SHA-256 over the shards' hex digests
    shards: list[dict[str, Any]] | None = None

    def files(self) -> list[tuple[str, str, int]]:
        """``(file, sha256, bytes)`` of every file of the table, in row order."""
        if self.shards is None:
            return [(self.file, self.sha256, self.bytes)]
        return [(str(x["file"]), str(x["sha256"]), int(x["bytes"])) for x in self.shards]

    def to_json(self) -> dict[str, Any]:
        """Manifest form."""
        out: dict[str, Any] = {
            "name": self.name,
            "file": self.file,
            "rows": self.rows,
            "schema": self.schema,
            "columns": self.columns,
            "order_key": self.order_key,
            "row_root": self.row_root,
            "sha256": self.sha256,
            "bytes": self.bytes,
        }
        if self.row_set is not None:
            out["row_set"] = self.row_set
        if self.sm3 is not None:
            out["sm3"] = self.sm3
        if self.shards is not None:
            out["shards"] = self.shards
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableEntry:
        """Inverse of :meth:`to_json`."""
        return cls(
            name=str(data["name"]),
            file=str(data["file"]),
            rows=int(data["rows"]),
            schema=dict(data["schema"]),
            columns=list(data["columns"]),
            order_key=list(data.get("order_key", [])),
            row_root=str(data["row_root"]),
            row_set=None if data.get("row_set") is None else str(data["row_set"]),
            sha256=str(data["sha256"]),
            bytes=int(data["bytes"]),
            sm3=data.get("sm3"),
            shards=None if data.get("shards") is None else [dict(x) for x in data["shards"]],
        )


@dataclass
class Manifest:
    """Everything a reader needs to check and open a package (no secret, no clear value)."""

    package_id: str
    created_at: str
    purpose: str
    source: dict[str, Any]
    crypto: dict[str, Any]
    tables: list[TableEntry] = field(default_factory=list)
    inventory: dict[str, Any] = field(default_factory=dict)
    row_digest: dict[str, Any] = field(default_factory=dict)

    @property
    def key_ids(self) -> list[str]:
        """Every handover key id the package's files are encrypted under."""
        keys = dict(self.crypto.get("column_keys", {}))
        ids = {str(v) for v in keys.values()}
        ids.add(str(self.crypto["footer_key"]))
        return sorted(ids)

    @property
    def rows(self) -> int:
        return sum(x.rows for x in self.tables)

    def table(self, name: str) -> TableEntry:
        """The entry of table ``name`` (KeyError if none)."""
        for x in self.tables:
            if x.name == name:
                return x
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """The manifest.json document."""
        sharded = any(x.shards is not None for x in self.tables)
        return {
            "format": FORMAT,
            "version": SHARDED_VERSION if sharded else VERSION,
            "package_id": self.package_id,
            "created_at": self.created_at,
            "purpose": self.purpose,
            "source": self.source,
            "crypto": self.crypto,
            "row_digest": self.row_digest,
            "inventory": self.inventory,
            "tables": [x.to_json() for x in self.tables],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """Parse a manifest document; KeyError/TypeError/ValueError on a malformed one."""
        if data.get("format") != FORMAT or data.get("version") not in VERSIONS:
            raise ValueError("not a handover package manifest of a known version")
        return cls(
            package_id=str(data["package_id"]),
            created_at=str(data["created_at"]),
            purpose=str(data["purpose"]),
            source=dict(data["source"]),
            crypto=dict(data["crypto"]),
            tables=[TableEntry.from_json(x) for x in data["tables"]],
            inventory=dict(data.get("inventory") or {}),
            row_digest=dict(data.get("row_digest") or {}),
        )


def write_signed(
    ws: Workspace, folder: Path, manifest: Manifest, *, events: EventSink | None = None
) -> dict[str, Any]:
    """Write manifest.json and manifest.sig (Ed25519 by the workspace key) into ``folder``;
    a signing key made on first use is reported to ``events``."""
    from handover.crypto import signature

    body = canonical_json(manifest.to_json())
    sig = {**signature(ws, body, events=events).to_json(), "signed": MANIFEST}
    (folder / MANIFEST).write_bytes(body)
    (folder / SIGNATURE).write_bytes(canonical_json(sig) + b"\n")
    return sig


def read_verified(ws: Workspace, folder: Path) -> tuple[Manifest, dict[str, Any]]:
    """The package's manifest after checking its signature against the workspace's keys.

    Raises :class:`CheckFailed` (one line) for a missing, altered or untrusted manifest.
    """
    from handover.crypto import Signature, public_keys, verify

    shown = str(folder)
    if not folder.exists():
        raise BadInput.msg("package.no_such", package=shown)
    if not folder.is_dir():
        raise BadInput.msg("package.not_folder", package=shown)
    mpath, spath = folder / MANIFEST, folder / SIGNATURE
    for p in (mpath, spath):
        if not p.is_file():
            raise CheckFailed.msg("package.missing_file", package=shown, file=p.name)
    body = mpath.read_bytes()
    try:
        sig = json.loads(spath.read_bytes().decode("utf-8"))
        signed = Signature.from_json(sig)
    except (ValueError, UnicodeDecodeError):
        raise CheckFailed.msg("package.bad_signature", package=shown) from None
    if signed.public_key not in {k.raw for k in public_keys(ws)}:
        raise CheckFailed.msg("package.untrusted_signer", package=shown, key_id=sig.get("key_id"))
    if not verify(signed.public_key, body, signed.value):
        raise CheckFailed.msg("package.bad_signature", package=shown)
    try:
        data = json.loads(body.decode("utf-8"))
        manifest = Manifest.from_json(data)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        # Signed but unreadable: written by another version of handover.
        raise CheckFailed.msg("package.bad_manifest", package=shown) from None
    if canonical_json(data) != body:
        raise CheckFailed.msg("package.bad_manifest", package=shown)
    return manifest, sig
