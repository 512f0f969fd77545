"""Evidence bundle: the whole ledger, its checkpoints, proofs, public key and ``verify.py``,
listed by a manifest signed with the ledger key.

The bundle is written to a temporary sibling folder and renamed into place, so a failed
export leaves nothing behind. ``verify.py`` (``bundle_verify.py`` copied verbatim) needs
only Python and ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select

from handover.errors import BadInput, CheckFailed
from handover.ledger import merkle
from handover.ledger.ledger import Clock, format_ts, latest_checkpoint, record, system_clock
from handover.ledger.models import LedgerCheckpointRow, LedgerEntryRow
from handover.ledger.note import verifier_key

if TYPE_CHECKING:
    from handover.workspace import Workspace

T = TypeVar("T")
FORMAT = "handover-ledger-bundle/1"
#: the standalone offline verifier copied into every bundle and dossier as ``verify.py``
VERIFIER = Path(__file__).with_name("bundle_verify.py")
INCLUSION_LIMIT = 200_000  # above this, per-entry proofs would dwarf the entries

README = """handover 账本证据包 / handover ledger evidence bundle
================================================

核验(只需 Python 3.11+ 和 cryptography 包):
To verify (needs only Python 3.11+ and the cryptography package):

    python verify.py {key_args}

请从独立渠道(如交易文件、监管报送)取得上面的公钥字符串后再用 --key 指定
(签名密钥轮换过时,每个版本一个 --key)。
Obtain the verifier key above through an independent channel (deal documents, a filing)
and pass it with --key (one --key per key version when the signing key was rotated).
Exit status 0 = verified, 1 = a check failed (names the first bad entry), 2 = unreadable
bundle.

Files: manifest.json and manifest.sig (清单及账本密钥对它的签名 / the manifest and its
Ed25519 signature by the ledger key), entries.jsonl (canonical JSON bodies + leaf hashes),
checkpoints/*.txt (C2SP signed checkpoints), checkpoints.json, proofs/consistency.json,
proofs/inclusion.jsonl, public_key.pem, verifier_key.txt, verify.py.
"""


@dataclass
class ExportResult:
    """What an export wrote."""

    path: Path
    entries: int
    checkpoints: int
    inclusion_proofs: int
    root: bytes

    def to_json(self) -> dict[str, Any]:
        """Machine form."""
        return {
            "path": str(self.path),
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "inclusion_proofs": self.inclusion_proofs,
            "root": self.root.hex(),
        }


def export_bundle(
    ws: Workspace,
    out: Path,
    *,
    actor: str,
    inclusion_limit: int = INCLUSION_LIMIT,
    clock: Clock | None = None,
    now: dt.datetime | None = None,
) -> ExportResult:
    """Write a self-contained, offline-verifiable evidence bundle of the ledger to ``out``,
    then record ``audit.export`` by ``actor`` (only once the bundle is in place).

    ``now`` stamps the manifest's ``exported_at`` (default: ``clock``, else the system
    clock). Refuses (CheckFailed) to export a ledger that does not verify; ``out`` must not
    exist or be an empty folder, in a place a folder can be made (BadInput otherwise).
    """
    from handover.crypto import public_keys
    from handover.ledger.verify import verify_ledger

    stamp = clock or (_fixed(now) if now is not None else system_clock)
    tmp = _claim(out)
    try:
        final = latest_checkpoint(ws, clock=stamp, actor=actor)
        report = verify_ledger(ws)
        report.raise_if_failed()
        origin = final.note.split("\n", 1)[0]
        # Every version of the signing key: checkpoints made before a rotation used older ones.
        keys = public_keys(ws)
        (tmp / "checkpoints").mkdir()
        (tmp / "proofs").mkdir()
        leaves: list[bytes] = []
        with (
            ws.store.engine.connect() as conn,
            (tmp / "entries.jsonl").open("w", encoding="utf-8", newline="\n") as fh,
        ):
            result = conn.execution_options(yield_per=50_000).execute(
                select(LedgerEntryRow.seq, LedgerEntryRow.body, LedgerEntryRow.leaf_hash)
                .where(LedgerEntryRow.seq < final.size)
                .order_by(LedgerEntryRow.seq)
            )
            for rows in result.partitions(50_000):
                for seq, body, leaf in rows:
                    leaves.append(bytes(leaf))
                    fh.write(
                        json.dumps(
                            {"seq": seq, "body": body, "leaf_hash": bytes(leaf).hex()},
                            ensure_ascii=False,
                            separators=(",", ":"),
                        )
                        + "\n"
                    )
            cps = conn.execute(
                select(LedgerCheckpointRow.id, LedgerCheckpointRow.size, LedgerCheckpointRow.note)
                .where(LedgerCheckpointRow.id <= final.id)
                .order_by(LedgerCheckpointRow.id)
            ).all()
        if len(leaves) != final.size:
            raise CheckFailed.msg("ledger.export_count", count=len(leaves), size=final.size)
        levels = merkle.build_levels(b"".join(leaves))
        node = merkle.levels_node(levels)
        if merkle.range_hash(node, 0, final.size) != final.root:
            raise CheckFailed.msg("ledger.export_changed")
        index: list[dict[str, Any]] = []
        for cid, size, note in cps:
            name = f"checkpoints/{cid:08d}.txt"
            (tmp / name).write_text(note, encoding="utf-8", newline="\n")
            index.append({"id": cid, "size": int(size), "file": name})
        _write_json(tmp / "checkpoints.json", index)
        sizes = sorted({int(size) for _cid, size, _note in cps})
        _write_json(
            tmp / "proofs" / "consistency.json",
            [
                {
                    "old_size": a,
                    "new_size": b,
                    "proof": [
                        merkle.range_hash(node, x, y).hex()
                        for x, y in merkle.consistency_ranges(a, b)
                    ],
                }
                for a, b in itertools.pairwise(sizes)
            ],
        )
        n_inc = 0
        if final.size <= inclusion_limit:
            with (tmp / "proofs" / "inclusion.jsonl").open("w", encoding="utf-8") as fh:
                for seq in range(final.size):
                    proof = [
                        merkle.range_hash(node, a, b).hex()
                        for a, b in merkle.inclusion_ranges(seq, final.size)
                    ]
                    fh.write(
                        json.dumps(
                            {"seq": seq, "tree_size": final.size, "proof": proof},
                            separators=(",", ":"),
                        )
                        + "\n"
                    )
                    n_inc += 1
        vkeys = [verifier_key(origin, k.raw) for k in keys]
        vkey = vkeys[-1]
        (tmp / "verifier_key.txt").write_text("".join(v + "\n" for v in vkeys), encoding="utf-8")
        (tmp / "public_key.pem").write_text("".join(k.pem for k in keys), encoding="ascii")
        shutil.copyfile(VERIFIER, tmp / "verify.py")
        key_args = " ".join(f'--key "{v}"' for v in vkeys)
        (tmp / "README.txt").write_text(README.format(key_args=key_args), encoding="utf-8")
        _write_json(
            tmp / "manifest.json",
            {
                "format": FORMAT,
                "origin": origin,
                "verifier_key": vkey,
                "verifier_keys": vkeys,
                "tree_size": final.size,
                "root": final.root.hex(),
                "exported_at": format_ts(now if now is not None else stamp()),
                "checkpoints": len(index),
                "inclusion_proofs": n_inc,
            },
        )
        sign_manifest(ws, tmp)
        try:
            if out.exists():
                out.rmdir()
            tmp.rename(out)
        except OSError as exc:
            raise BadInput.msg("ledger.export_out", path=out, reason=exc.strerror) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # Recorded once the bundle is in place: a failed export leaves no entry claiming it.
    record(
        ws,
        actor,
        "audit.export",
        out.name,
        "导出账本证据包 / export the ledger evidence bundle",
        {"folder": out.name, "tree_size": final.size, "root": final.root.hex()},
        clock=stamp,
    )
    return ExportResult(out, final.size, len(index), n_inc, final.root)


def sign_manifest(ws: Workspace, folder: Path) -> Path:
    """Sign ``folder/manifest.json`` (its exact bytes) with the ledger's signing key into
    ``manifest.sig``, the detached-signature record with the manifest's SHA-256: a bundle
    cut short with its manifest rewritten to match no longer verifies."""
    from handover.crypto import sha256_hex, signature

    body = (folder / "manifest.json").read_bytes()
    sig = {**signature(ws, body).to_json(), "signed": "manifest.json", "sha256": sha256_hex(body)}
    out = folder / "manifest.sig"
    _write_json(out, sig)
    return out


@dataclass
class BundleCheck:
    """What checking an evidence bundle established (``bundle_verify``'s result)."""

    path: Path
    result: dict[str, Any]

    @property
    def key_pinned(self) -> bool:
        """Whether the keys were pinned (``--key``) rather than taken from the bundle."""
        return bool(self.result.get("key_pinned"))

    @property
    def manifest_signed(self) -> bool:
        """Whether the manifest's signature was checked (False: an unsigned, older bundle
        accepted with ``allow_unsigned``)."""
        return bool(self.result.get("manifest_signed"))

    def to_json(self) -> dict[str, Any]:
        """Machine form: the offline verifier's own result and the folder."""
        return {"bundle": str(self.path), **self.result}


def verify_exported(
    folder: Path, keys: list[str] | None = None, *, allow_unsigned: bool = False
) -> BundleCheck:
    """Check an evidence bundle offline exactly as its ``verify.py`` does, with the copy
    installed with handover (not the one in the bundle): CheckFailed naming the first bad
    file or entry, BadInput when it cannot be read or a key is malformed."""
    from handover.ledger.bundle_verify import verify_bundle
    from handover.ledger.pinned import pinned_verifier_keys

    keys = pinned_verifier_keys(keys, folder)  # a bad --key is named as such, first
    return BundleCheck(
        folder,
        offline_check(
            lambda: verify_bundle(folder, keys, allow_unsigned=allow_unsigned),
            folder,
            "ledger.bundle_unreadable",
            "ledger.bundle_failed",
        ),
    )


def offline_check(check: Callable[[], T], folder: Path, unreadable: str, failed: str) -> T:
    """``check()``, one of the standalone verifier's checks (``bundle_verify``), with its
    two outcomes as handover's errors: BadInput ``unreadable`` (the folder cannot be read)
    or CheckFailed ``failed`` naming the first bad file or ledger entry."""
    from handover.ledger.bundle_verify import Failed, Unreadable

    try:
        return check()
    except Unreadable as exc:
        raise BadInput.msg(unreadable, path=folder, detail=str(exc)) from None
    except Failed as exc:
        raise CheckFailed.msg(
            failed,
            path=folder,
            detail=str(exc),
            file=exc.path or "-",
            seq=exc.seq if exc.seq is not None else "-",
        ) from None


def _fixed(at: dt.datetime) -> Clock:
    return lambda: at


def _claim(out: Path) -> Path:
    """The empty temporary sibling folder the bundle is written into, made before anything
    else: ``out`` taken, or a place where no folder can be made, is BadInput naming it."""
    tmp = out.with_name(f".{out.name}.partial")
    try:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise BadInput.msg("ledger.export_exists", path=out)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    except OSError as exc:
        raise BadInput.msg("ledger.export_out", path=out, reason=exc.strerror) from None
    return tmp


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
