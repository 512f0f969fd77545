#!/usr/bin/env python3
"""Offline verifier of a handover ledger evidence bundle or regulator's dossier
(离线核验 handover 账本证据包或监管报送材料包).

Needs only the Python standard library and the ``cryptography`` package. Run it inside
the bundle or dossier folder (or give the folder):

    python verify.py [FOLDER] [--key VERIFIER_KEY ...] [--allow-unsigned] [--json]

A ledger bundle (``manifest.json`` of format ``handover-ledger-bundle/1``): it recomputes
every entry's RFC 6962 leaf hash and the Merkle tree, checks that no entry is stamped
earlier than the one before it, every checkpoint's Ed25519 signed-note signature (C2SP
signed-note / tlog-checkpoint), the consistency proofs between checkpoints and every
inclusion proof. The bundle carries only each entry's body, its sequence number and leaf
hash (both checked against the body): no copied column to trust. The manifest's tree size,
root, number of checkpoints and of inclusion proofs must be what the files recompute, so
a bundle cut short (entries, checkpoints or proofs deleted) fails; a missing file fails,
a malformed one is unreadable. The manifest is signed by the ledger key (``manifest.sig``,
Ed25519 over its exact bytes, by a pinned key or one of the bundle's), so a bundle cut
short with its manifest rewritten to match fails too. A bundle exported before manifests
were signed has no ``manifest.sig``: it fails, unless ``--allow-unsigned`` accepts it with
the note "manifest not signed" (its size and root are then proven only against a
checkpoint obtained independently). Deleting ``manifest.sig`` must not turn a signed
bundle into an accepted one, hence a failure by default rather than a warning.

A dossier (format ``handover-dossier/1``): every file's SHA-256 against the manifest (a
changed, added or deleted file is named, and so is a symbolic link or any other entry
that is not a regular file), the ledger bundle inside it as above, the
manifest's Ed25519 signature by a key of that ledger, and every document's binding: the
ledger entries that hold its SHA-256 (the ``dossier.build`` entry for all of them, the
entry that first recorded it for some), each proven included in the final signed
checkpoint by its Merkle inclusion proof.

Pass the ledger's verifier key obtained independently (``--key``, once per key version
after a rotation) to pin it; otherwise the keys in the bundle are used and the output
says so.

Exit status: 0 every check passed; 1 a check failed (the first bad file or sequence
number is named); 2 the folder is unreadable or the arguments are wrong.

This file is deliberately self-contained (it does not import handover), so an auditor
can read it whole; handover's own verifiers are ``handover audit verify`` and
``handover dossier verify``. It is therefore the one module of handover outside
``handover.crypto`` that uses ``hashlib`` and ``cryptography`` directly: it is copied into
evidence bundles and dossiers and must run on a machine that has only Python and
``cryptography``, without handover installed.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import itertools
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

FORMAT = "handover-ledger-bundle/1"
DOSSIER_FORMAT = "handover-dossier/1"
#: the files of a dossier the manifest cannot list: itself and its signature
UNLISTED = ("manifest.json", "manifest.sig")
EMPTY_ROOT = hashlib.sha256(b"").digest()
# The one timestamp form of bodies (UTC, microseconds): text order is time order.
TS_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


class Failed(Exception):
    """A check failed; ``seq`` names the first bad entry and ``path`` the first bad file
    when there is one; ``problems`` lists every bad file of a dossier as (path, what)."""

    def __init__(
        self,
        message: str,
        seq: int | None = None,
        path: str | None = None,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.seq = seq
        self.path = path
        self.problems = problems or []


class Unreadable(Exception):
    """The bundle cannot be read (exit 2)."""


# --- RFC 6962 / RFC 9162 ----------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def build_levels(level0: bytes) -> list[bytes]:
    """Levels of perfect aligned subtrees: levels[l] holds n >> l concatenated hashes."""
    levels = [level0]
    while len(levels[-1]) >= 64:
        cur = levels[-1]
        end = (len(cur) // 64) * 64
        levels.append(
            b"".join(node_hash(cur[i : i + 32], cur[i + 32 : i + 64]) for i in range(0, end, 64))
        )
    return levels


def subtree(levels: list[bytes], start: int, end: int) -> bytes:
    """MTH of leaves [start, end): fold of the aligned perfect subtrees tiling it."""
    pieces: list[bytes] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        i = start >> level
        pieces.append(levels[level][32 * i : 32 * i + 32])
        start += 1 << level
    if not pieces:
        return EMPTY_ROOT
    acc = pieces[-1]
    for left in reversed(pieces[:-1]):
        acc = node_hash(left, acc)
    return acc


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size or any(len(p) != 32 for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, proof: list[bytes], old: bytes, new: bytes) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 <= m <= n or any(len(p) != 32 for p in proof):
        return False
    if m == n:
        return not proof and old == new
    if m == 0:
        return not proof
    if not proof:
        return False
    path = ([old] if m & (m - 1) == 0 else []) + list(proof)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old and sr == new


# --- C2SP signed notes ------------------------------------------------------------------


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    try:
        name, hash_hex, b64 = vkey.strip().split("+", 2)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise Unreadable("malformed verifier key") from None
    if len(raw) != 33 or raw[0] != 1:
        raise Unreadable("verifier key is not an Ed25519 key")
    if key_hash(name, raw[1:]).hex() != hash_hex:
        raise Unreadable("verifier key hash does not match its name and key")
    return name, raw[1:]


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public_key).digest()[:4]


def open_checkpoint(note: str, name: str, public_keys: list[bytes]) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint note signed by ``name`` and one of the keys."""
    # Directly, not through handover.crypto: this file runs where handover is not installed.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Failed("malformed note (no signature block)")
    text, sigs = note[: split + 1], note[split + 2 :]
    by_hash = {key_hash(name, k): k for k in public_keys}
    verified = False
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            raise Failed("malformed signature line")
        if parts[1] != name:
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise Failed("signature is not base64") from None
        key = by_hash.get(raw[:4]) if len(raw) == 68 else None
        if key is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key).verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise Failed(f"invalid signature for key {name}") from None
        verified = True
    if not verified:
        raise Failed(f"no signature by key {name}")
    lines = text.split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        raise Failed("malformed checkpoint body")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        raise Failed("checkpoint root is not base64") from None
    if len(root) != 32:
        raise Failed("checkpoint root is not 32 bytes")
    return lines[0], int(lines[1]), root


# --- the bundle -------------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Unreadable(f"{path.name}: {type(exc).__name__}") from None


def _read(folder: Path, rel: str) -> str:
    """The text of a file the bundle must hold: missing is a failure (deleted), unreadable
    is :class:`Unreadable`."""
    try:
        return (folder / rel).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Failed(f"{rel}: missing (deleted)", path=rel) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"{rel}: unreadable ({type(exc).__name__})") from None


def _json(folder: Path, rel: str) -> Any:
    try:
        return json.loads(_read(folder, rel))
    except ValueError:
        raise Unreadable(f"{rel}: unreadable (not JSON)") from None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _hash_list(value: Any) -> list[bytes] | None:
    """32-byte hashes from a list of hex strings; None when ``value`` is not one."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    try:
        out = [bytes.fromhex(v) for v in value]
    except ValueError:
        return None
    return out if all(len(h) == 32 for h in out) else None


def _hexes(values: Any, where: str) -> list[bytes]:
    try:
        return [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise Failed(f"{where}: proof is not a list of hex hashes") from None


class _Manifest:
    """The figures a bundle's manifest states, each compared with what is recomputed."""

    def __init__(self, doc: Any) -> None:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise Unreadable(f"manifest.json: not a {FORMAT} bundle")
        for key in ("tree_size", "checkpoints", "inclusion_proofs"):
            if not _int(doc.get(key)):
                raise Unreadable(f"manifest.json: unreadable ({key} is missing or not a count)")
        root = _hash_list([doc.get("root")]) if isinstance(doc.get("root"), str) else None
        keys = doc.get("verifier_keys")
        if (
            root is None
            or not isinstance(doc.get("origin"), str)
            or not isinstance(keys, list)
            or not all(isinstance(k, str) for k in keys)
        ):
            raise Unreadable("manifest.json: unreadable (origin, root or verifier_keys malformed)")
        self.tree_size: int = doc["tree_size"]
        self.checkpoints: int = doc["checkpoints"]
        self.inclusion_proofs: int = doc["inclusion_proofs"]
        self.root: bytes = root[0]
        self.origin: str = doc["origin"]
        self.verifier_keys: list[str] = keys


def _keys(vkeys: list[str], where: str) -> tuple[str, list[bytes]]:
    """The one key name and the raw keys of verifier key strings (one per key version);
    :class:`Unreadable` naming ``where`` (the option or the file) when they are not."""
    try:
        parsed = [parse_verifier_key(v) for v in vkeys]
    except Unreadable as exc:
        raise Unreadable(f"{where}: {exc}") from None
    names = {name for name, _ in parsed}
    if len(names) != 1:
        raise Unreadable(f"{where}: need one or more verifier keys, all of the same name")
    return names.pop(), [key for _, key in parsed]


class _Ledger:
    """What checking a ledger bundle established: its signed tree and key, its leaves,
    and the bodies of the entries asked for."""

    def __init__(
        self,
        result: dict[str, Any],
        leaves: list[bytes],
        bodies: dict[int, Any],
        public_keys: list[bytes],
    ) -> None:
        self.result = result
        self.leaves = leaves
        self.bodies = bodies
        self.public_keys = public_keys
        self.size = int(result["entries"])
        self.root = bytes.fromhex(result["root"])


def verify_bundle(
    folder: Path, pinned_keys: list[str] | None = None, *, allow_unsigned: bool = False
) -> dict[str, Any]:
    """Check the bundle in ``folder``; raises :class:`Failed` or :class:`Unreadable`.

    A manifest without ``manifest.sig`` (a bundle exported before manifests were signed)
    fails unless ``allow_unsigned``; the result then says ``manifest_signed: false``."""
    return _check_ledger(folder, pinned_keys, set(), allow_unsigned=allow_unsigned).result


def _check_ledger(
    folder: Path, pinned_keys: list[str] | None, wanted: set[int], *, allow_unsigned: bool
) -> _Ledger:
    # The manifest states the tree (size, root), how many checkpoints and inclusion proofs
    # were exported: each is compared with what the files recompute, so a bundle cut short
    # (entries, checkpoints or proofs deleted) fails instead of verifying as a smaller log;
    # its signature by the ledger key (last, so that a changed figure is named first) stops
    # a bundle cut short with its manifest rewritten to match.
    try:
        manifest_body = (folder / "manifest.json").read_bytes()
        manifest = _Manifest(json.loads(manifest_body.decode("utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise Unreadable(f"manifest.json: {type(exc).__name__}") from None
    vkeys = _read(folder, "verifier_key.txt").split()
    bundled_name, bundled = _keys(vkeys, "verifier_key.txt")
    if manifest.origin != bundled_name or manifest.verifier_keys != vkeys:
        raise Failed(
            "manifest.json: origin or verifier keys differ from verifier_key.txt",
            path="manifest.json",
        )
    name, public_keys = _keys(pinned_keys, "--key") if pinned_keys else (bundled_name, bundled)
    if pinned_keys and (name != bundled_name or not set(public_keys) <= set(bundled)):
        raise Failed("the bundle's keys are not the pinned verifier keys")

    # 1. every entry: order, its own sequence number, its leaf hash, a stamp that never
    # goes back (the ledger stamps monotonically).
    leaves: list[bytes] = []
    bodies: dict[int, Any] = {}
    prev_ts = ""
    lines = _read(folder, "entries.jsonl").splitlines()
    for i, line in enumerate(lines):
        try:
            rec = json.loads(line)
            body = str(rec["body"]).encode("utf-8")
            listed = bytes.fromhex(rec["leaf_hash"])
            seq = int(rec["seq"])
            doc = json.loads(body)
            body_seq, ts = doc["seq"], doc["ts"]
        except (ValueError, KeyError, TypeError):
            raise Failed(f"entries.jsonl line {i + 1}: malformed entry", i) from None
        if seq != i:
            raise Failed(f"entry at line {i + 1} has seq {seq} (deleted, inserted or moved)", i)
        if body_seq != seq:
            raise Failed(f"entry {seq}: body belongs to seq {body_seq} (moved or swapped)", seq)
        h = leaf_hash(body)
        if h != listed:
            raise Failed(f"entry {seq}: body does not match its leaf hash (modified)", seq)
        if not isinstance(ts, str) or not TS_FORM.fullmatch(ts):
            raise Failed(f"entry {seq}: body has no timestamp in the ledger's form", seq)
        if ts < prev_ts:
            raise Failed(
                f"entry {seq}: stamped {ts}, earlier than the entry before it ({prev_ts}); "
                "stamps never go back",
                seq,
            )
        prev_ts = ts
        leaves.append(h)
        if seq in wanted:
            bodies[seq] = doc
    n = len(leaves)
    if n != manifest.tree_size:
        raise Failed(
            f"entries.jsonl holds {n} entries, manifest.json says tree_size "
            f"{manifest.tree_size} (entries deleted or added)",
            min(n, manifest.tree_size),
            "entries.jsonl",
        )
    levels = build_levels(b"".join(leaves))

    # 2. every checkpoint: signature, origin, root of the entries it covers.
    index = _json(folder, "checkpoints.json")
    if not isinstance(index, list) or not all(
        isinstance(item, dict)
        and _int(item.get("id"))
        and _int(item.get("size"))
        and isinstance(item.get("file"), str)
        and re.fullmatch(r"checkpoints/[^/\\]+\.txt", item["file"])
        for item in index
    ):
        raise Unreadable("checkpoints.json: unreadable (not a list of {id, size, file})")
    if len(index) != manifest.checkpoints:
        raise Failed(
            f"checkpoints.json lists {len(index)} checkpoints, manifest.json says "
            f"{manifest.checkpoints} (checkpoints deleted or added)",
            path="checkpoints.json",
        )
    files = [str(item["file"]) for item in index]
    if len(set(files)) != len(files):
        raise Failed("checkpoints.json: a checkpoint file is listed twice", path="checkpoints.json")
    present = (
        {f"checkpoints/{p.name}" for p in (folder / "checkpoints").iterdir()}
        if (folder / "checkpoints").is_dir()
        else set()
    )
    added = sorted(present - set(files))
    if added:
        raise Failed(f"{added[0]}: not in checkpoints.json (added)", path=added[0])
    heads: list[tuple[int, bytes]] = []
    for item in index:
        where = f"checkpoint {item['file']}"
        note = _read(folder, item["file"])
        try:
            origin, size, root = open_checkpoint(note, name, public_keys)
        except Failed as exc:
            raise Failed(f"{where}: {exc}", path=item["file"]) from None
        if origin != name:
            raise Failed(f"{where}: origin {origin} is not {name}", path=item["file"])
        if size != item["size"]:
            raise Failed(
                f"{where}: signs {size} entries, checkpoints.json says {item['size']}",
                path=item["file"],
            )
        if heads and size < heads[-1][0]:
            raise Failed(f"{where}: size goes back from {heads[-1][0]} to {size}")
        if size > n:
            raise Failed(f"{where}: signs {size} entries, the bundle has {n} (truncated)", n)
        if subtree(levels, 0, size) != root:
            raise Failed(f"{where}: entries 0..{size - 1} do not hash to the signed root")
        heads.append((size, root))
    if not heads or heads[-1][0] != n:
        raise Failed(f"no checkpoint signs all {n} entries")
    final_size, final_root = heads[-1]
    if final_root != manifest.root:
        raise Failed(
            "manifest.json: root differs from the one the last checkpoint signs",
            path="manifest.json",
        )

    # 3. consistency proofs between successive checkpoints: one for every step.
    roots = dict(heads)
    rel = "proofs/consistency.json"
    items = _json(folder, rel)
    malformed = Unreadable(f"{rel}: unreadable (not a list of {{old_size, new_size, proof}})")
    if not isinstance(items, list):
        raise malformed
    proofs: dict[tuple[int, int], list[bytes]] = {}
    for item in items:
        proof = _hash_list(item.get("proof")) if isinstance(item, dict) else None
        if proof is None or not (_int(item.get("old_size")) and _int(item.get("new_size"))):
            raise malformed
        proofs[(item["old_size"], item["new_size"])] = proof
    for (m, k), proof in proofs.items():
        if (
            m not in roots
            or k not in roots
            or not verify_consistency(m, k, proof, roots[m], roots[k])
        ):
            raise Failed(f"consistency proof {m} -> {k} does not verify", path=rel)
    for m, k in itertools.pairwise(sorted(roots)):
        if (m, k) not in proofs:
            raise Failed(f"{rel}: no consistency proof {m} -> {k} (deleted)", path=rel)

    # 4. inclusion proofs of entries in the final tree: every entry's, when exported.
    rel = "proofs/inclusion.jsonl"
    seen: set[int] = set()
    text = _read(folder, rel) if manifest.inclusion_proofs or (folder / rel).exists() else ""
    for number, line in enumerate(text.splitlines(), 1):
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        proof = _hash_list(rec.get("proof")) if isinstance(rec, dict) else None
        if proof is None or not (_int(rec.get("seq")) and _int(rec.get("tree_size"))):
            raise Unreadable(f"{rel} line {number}: unreadable (not {{seq, tree_size, proof}})")
        seq = rec["seq"]
        if (
            seq >= n
            or seq in seen
            or rec["tree_size"] != final_size
            or not verify_inclusion(leaves[seq], seq, final_size, proof, final_root)
        ):
            raise Failed(f"inclusion proof of entry {seq} does not verify", seq, rel)
        seen.add(seq)
    if len(seen) != manifest.inclusion_proofs or (seen and len(seen) != n):
        raise Failed(
            f"{rel}: {len(seen)} inclusion proofs of {n} entries, manifest.json says "
            f"{manifest.inclusion_proofs} (proofs deleted or added)",
            min(set(range(n)) - seen, default=None),
            rel,
        )

    # 5. the manifest's signature by the ledger key (pinned, or the bundle's own).
    signed = os.path.lexists(folder / "manifest.sig")
    if signed:
        _check_signature(folder, manifest_body, public_keys)
    elif not allow_unsigned:
        raise Failed(
            "manifest.json: not signed (no manifest.sig), so nothing proves it was not "
            "rewritten to match a bundle cut short; a bundle exported before manifests were "
            "signed verifies with --allow-unsigned",
            path="manifest.json",
        )
    result = {
        "ok": True,
        "entries": n,
        "root": final_root.hex(),
        "checkpoints": len(heads),
        "inclusion_proofs": len(seen),
        "key": name,
        "key_pinned": bool(pinned_keys),
        "manifest_signed": signed,
    }
    return _Ledger(result, leaves, bodies, public_keys)


# --- the dossier -------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of the file at ``path``, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _field(doc: Any, path: list[Any]) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _walk(folder: Path) -> tuple[set[str], dict[str, str]]:
    """The regular files under ``folder`` and every other entry (symbolic link, device,
    pipe, socket) with what it is. Symbolic links are never followed: a linked folder
    would otherwise bring in files the manifest cannot vouch for (or hide them)."""
    regular: set[str] = set()
    other: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            path = base / name
            rel = path.relative_to(folder).as_posix()
            try:
                mode = path.lstat().st_mode
            except OSError:
                other[rel] = "unreadable"
                continue
            if stat.S_ISREG(mode):
                regular.add(rel)
            elif stat.S_ISLNK(mode):
                other[rel] = "a symbolic link"
            elif not stat.S_ISDIR(mode):
                other[rel] = "a device, pipe or socket"
    return regular, other


def _check_files(folder: Path, listed: dict[str, Any]) -> list[tuple[str, str]]:
    """Every entry under ``folder`` against the manifest: (path, what) per bad one."""
    present, other = _walk(folder)
    present -= set(UNLISTED)
    problems: list[tuple[str, str]] = []
    for rel in sorted(present | set(listed) | set(other)):
        want = listed.get(rel)
        if rel in other:
            added = "" if want is not None else ", not in the manifest (added)"
            problems.append((rel, f"not a regular file ({other[rel]}){added}"))
        elif want is None:
            problems.append((rel, "not in the manifest (added)"))
        elif rel not in present:
            problems.append((rel, "listed in the manifest but missing (deleted)"))
        elif not isinstance(want, dict) or file_sha256(folder / rel) != want.get("sha256"):
            problems.append((rel, "SHA-256 differs from the manifest (modified)"))
    return problems


def _check_signature(folder: Path, body: bytes, public_keys: list[bytes]) -> None:
    # Directly, not through handover.crypto: this file runs where handover is not installed.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig = _load_json(folder / "manifest.sig")
    try:
        key = bytes.fromhex(sig["public_key"])
        value = base64.b64decode(sig["signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise Failed("manifest.sig: malformed signature record", path="manifest.sig") from None
    if key not in public_keys:
        raise Failed(
            "manifest.sig: signed by a key that is not one of the ledger's", path="manifest.sig"
        )
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(value, body)
    except (InvalidSignature, ValueError):
        raise Failed(
            "manifest.json: its signature does not verify (the manifest was changed)",
            path="manifest.json",
        ) from None


def verify_dossier(folder: Path, pinned_keys: list[str] | None = None) -> dict[str, Any]:
    """Check the dossier in ``folder``; raises :class:`Failed` or :class:`Unreadable`."""
    try:
        body = (folder / "manifest.json").read_bytes()
        manifest = json.loads(body)
    except (OSError, ValueError) as exc:
        raise Unreadable(f"manifest.json: {type(exc).__name__}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != DOSSIER_FORMAT:
        raise Unreadable(f"manifest.json: not a {DOSSIER_FORMAT} dossier")
    try:
        listed = dict(manifest["files"])
        docs = list(manifest["documents"])
        led = manifest["ledger"]
        build_seq = int(led["build_seq"])
        led_folder, led_size, led_root = str(led["folder"]), int(led["tree_size"]), led["root"]
        proofs = dict(manifest["proofs"])
        wanted = {build_seq} | {int(b["seq"]) for d in docs for b in d["bindings"]}
        if not all(
            isinstance(d["path"], str)
            and isinstance(d["sha256"], str)
            and all(isinstance(b["field"], list) for b in d["bindings"])
            for d in docs
        ):
            raise TypeError
    except (KeyError, TypeError, ValueError):
        raise Unreadable("manifest.json: missing or malformed fields") from None

    # 1. every file is the one the manifest lists: nothing changed, added or deleted.
    problems = _check_files(folder, listed)
    if problems:
        first, what = problems[0]
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise Failed(f"{first}: {what}{more}", path=first, problems=problems)

    # 2. the ledger bundle inside, then the manifest's signature by one of its keys. The
    # dossier's signed manifest lists the bundle's manifest.json with its SHA-256, so the
    # bundle of an older dossier, whose manifest is not signed on its own, is covered.
    ledger = _check_ledger(folder / led_folder, pinned_keys, wanted, allow_unsigned=True)
    _check_signature(folder, body, ledger.public_keys)
    if led_size != ledger.size or led_root != ledger.root.hex():
        raise Failed("manifest.json: names a ledger tree other than the bundle's last checkpoint")

    # 3. every document bound to the signed tree: the entries holding its SHA-256, each
    # with its inclusion proof; the build entry binds exactly the listed documents.
    build = ledger.bodies.get(build_seq)
    if build is None or build.get("action") != "dossier.build":
        raise Failed(f"entry {build_seq} is not the dossier.build entry", build_seq)
    bound = _field(build, ["details", "documents"]) or {}
    paths = [str(d["path"]) for d in docs]
    if sorted(bound) != sorted(paths):
        odd = sorted(set(bound) ^ set(paths))[0]
        raise Failed(
            f"{odd}: bound by entry {build_seq} or listed as a document, not both",
            build_seq,
            odd,
        )
    checked = 0
    proven: set[int] = set()
    for d in docs:
        path, digest = str(d["path"]), str(d["sha256"])
        if (listed.get(path) or {}).get("sha256") != digest:
            raise Failed(f"{path}: the document's SHA-256 is not the file's", path=path)
        for b in d["bindings"]:
            seq = int(b["seq"])
            if _field(ledger.bodies.get(seq), list(b["field"])) != digest:
                raise Failed(f"{path}: ledger entry {seq} does not hold its SHA-256", seq, path)
            if seq not in proven:
                proof = _hexes(proofs.get(str(seq)), f"inclusion {seq}")
                if not 0 <= seq < ledger.size or not verify_inclusion(
                    ledger.leaves[seq], seq, ledger.size, proof, ledger.root
                ):
                    raise Failed(f"inclusion proof of entry {seq} does not verify", seq, path)
                proven.add(seq)
            checked += 1
    return {
        "ok": True,
        "kind": "dossier",
        "files": len(listed),
        "documents": len(docs),
        "bindings": checked,
        "bound_entries": sorted(proven),
        "ledger": ledger.result,
        "key": ledger.result["key"],
        "key_pinned": bool(pinned_keys),
    }


def _is_dossier(folder: Path) -> bool:
    try:
        doc = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(doc, dict) and doc.get("format") == DOSSIER_FORMAT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify a handover ledger evidence bundle or regulator's dossier."
    )
    parser.add_argument("bundle", nargs="?", default=str(Path(__file__).resolve().parent))
    parser.add_argument(
        "--key",
        action="append",
        help="the ledger's verifier key, obtained independently (repeat for each key version)",
    )
    parser.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="accept a ledger bundle whose manifest is not signed (exported before manifests "
        "were signed); compare its tree size and root with a checkpoint obtained independently",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable result")
    args = parser.parse_args(argv)
    folder = Path(args.bundle)
    dossier = _is_dossier(folder)
    try:
        if dossier:
            result = verify_dossier(folder, args.key)
        else:
            result = verify_bundle(folder, args.key, allow_unsigned=args.allow_unsigned)
    except Unreadable as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        if args.json:
            print(
                json.dumps(
                    {
                        "ok": False,
                        "first_bad_seq": exc.seq,
                        "first_bad_file": exc.path,
                        "problems": [{"file": f, "what": w} for f, w in exc.problems],
                        "message": str(exc),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            seq = f"(首个问题条目 / first bad entry: seq {exc.seq}) " if exc.seq is not None else ""
            print(f"核验失败 / VERIFICATION FAILED {seq}: {exc}")
            for f, w in exc.problems[1:20]:
                print(f"  {f}: {w}")
        return 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        pin = (
            ""
            if result["key_pinned"]
            else (
                "\n注意:使用了包内公钥;请用 --key 指定独立获得的公钥 / "
                "note: the key in the bundle was used; pin an independently obtained one with --key"
            )
        )
        if not result.get("manifest_signed", True):
            pin += (
                "\n注意:清单未签名(旧版导出),其树大小与根只能与独立取得的检查点核对 / "
                "note: manifest not signed (an older export): compare its tree size and root "
                "with a checkpoint obtained independently"
            )
        ledger = result["ledger"] if dossier else result
        head = (
            f"{result['files']} files; {result['documents']} documents bound to the ledger "
            f"({result['bindings']} bindings to {len(result['bound_entries'])} entries, "
            "each proven included in the signed tree); "
            if dossier
            else ""
        )
        print(
            f"核验通过 / VERIFIED: {head}{ledger['entries']} entries, "
            f"{ledger['checkpoints']} checkpoints, root {ledger['root']}{pin}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
