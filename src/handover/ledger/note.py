"""C2SP signed notes with Ed25519 signatures, and C2SP tlog-checkpoint bodies.

A signed note is the text (ending in a newline), a blank line, then one line per
signature: ``— <key name> <base64(key hash (4 bytes) || Ed25519 signature (64))>``.
The key hash is the first four bytes of SHA-256(name || 0x0A || 0x01 || public key).
A checkpoint's text is ``<origin>\\n<tree size>\\n<base64 root hash>\\n``.

Signing and verifying go through :mod:`handover.crypto`; :func:`sign_note` takes the
signer as a callable so the same code serves the workspace key and fixed test keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from handover.crypto.digest import sha256
from handover.crypto.signing import verify
from handover.i18n import Msg

ALG_ED25519 = 0x01
DASH = "\u2014"  # the em dash that opens every signature line

Signer = Callable[[bytes], tuple[bytes, bytes]]
"""Signs a message: returns ``(raw 32-byte Ed25519 public key, 64-byte signature)``."""


class NoteError(ValueError):
    """A note or checkpoint that is malformed or whose signature does not verify.

    ``str()`` is English; ``text`` is the catalogue message (``ledger.note.<reason>``).
    """

    def __init__(self, reason: str, /, **values: object) -> None:
        self.text = Msg(f"ledger.note.{reason}", **values)
        super().__init__(str(self.text))


def key_hash(name: str, public_key: bytes) -> bytes:
    """The 4-byte C2SP key hash of an Ed25519 public key named ``name``."""
    return sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key)[:4]


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise NoteError("bad_name", name=name)


def verifier_key(name: str, public_key: bytes) -> str:
    """The ``name+hash+base64(0x01||key)`` verifier key string (Go ``note`` compatible)."""
    _check_name(name)
    return f"{name}+{key_hash(name, public_key).hex()}+" + base64.b64encode(
        bytes([ALG_ED25519]) + public_key
    ).decode("ascii")


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    """``(name, raw public key)`` from a verifier key string; :class:`NoteError` if malformed."""
    try:
        name, hash_hex, b64 = vkey.strip().split("+", 2)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("malformed_vkey") from None
    _check_name(name)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError("vkey_not_ed25519")
    if key_hash(name, raw[1:]).hex() != hash_hex:
        raise NoteError("vkey_hash")
    return name, raw[1:]


def shown_key(spec: str) -> str | Msg:
    """How an error names a ``--key`` value: as given when it names a file or cannot be
    key material (a path, a word); otherwise only by its length, never its characters (a
    private key pasted by mistake would be printed back, into terminals, CI logs and
    tickets). Key material: several lines, a PEM block, or text that reads as 32 bytes or
    more in hex or (URL-safe) base64."""
    text = spec.strip()
    try:
        named = Path(os.path.expanduser(text)).exists() if len(text) <= 4096 else False
    except (OSError, ValueError):
        named = False
    if named or (text and "\n" not in text and not _keyish(text)):
        return text
    return Msg("ledger.key_given", n=len(text))


def _keyish(text: str) -> bool:
    """``text`` could hold a key, or most of one: a PEM block, a run of 40 or more
    characters of one base64 alphabet (32 bytes are 43) or of 60 or more hex digits,
    once blanks, commas, colons, semicolons (and ``0x`` before hex) are taken out (a seed
    cut short is still a secret) — inside quotes or JSON too."""
    if "-----BEGIN" in text:
        return True
    packed = re.sub(r"[\s,:;]", "", text)  # a key broken up by separators is one key
    if re.search(r"[A-Za-z0-9+/]{40,}|[A-Za-z0-9_-]{40,}", packed):
        return True
    digits = re.sub(r"0[xX]", "", packed)
    return re.search(r"[0-9a-fA-F]{60,}", digits) is not None


def sign_note(text: str, name: str, signer: Signer) -> str:
    """``text`` signed by ``signer`` under ``name`` as a C2SP signed note."""
    _check_name(name)
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("bad_text")
    pub, sig = signer(text.encode("utf-8"))
    line = base64.b64encode(key_hash(name, pub) + sig).decode("ascii")
    return f"{text}\n{DASH} {name} {line}\n"


def open_note(note: str, name: str, *public_keys: bytes) -> str:
    """The text of ``note`` once a signature by ``name`` and one of ``public_keys`` (raw
    Ed25519; several when the key was rotated) verifies; else :class:`NoteError`."""
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("no_sig_block")
    text, sigs = note[: split + 1], note[split + 2 :]
    by_hash = {key_hash(name, k): k for k in public_keys}
    found = False
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError("bad_sig_line")
        if parts[1] != name:
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError("sig_not_b64") from None
        key = by_hash.get(raw[:4]) if len(raw) == 68 else None
        if key is None:
            continue
        if not verify(key, text.encode("utf-8"), raw[4:]):
            raise NoteError("invalid_sig", name=name)
        found = True
    if not found:
        if not by_hash:
            raise NoteError("no_sig_no_key", name=name)
        raise NoteError("no_sig", keys=", ".join(f"{name}+{h.hex()}" for h in by_hash))
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root hash (the signed text of a checkpoint note)."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The C2SP tlog-checkpoint body (three lines, no extensions)."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """A :class:`Checkpoint` from a checkpoint body (extension lines are ignored)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("cp_lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if (
        not origin
        or not size_s.isascii()
        or not size_s.isdigit()
        or (len(size_s) > 1 and size_s[0] == "0")
    ):
        raise NoteError("cp_size")
    try:
        root = base64.b64decode(root_s, validate=True)
    except binascii.Error:
        raise NoteError("cp_root_b64") from None
    if len(root) != 32:
        raise NoteError("cp_root_len")
    return Checkpoint(origin, int(size_s), root)
