"""The Ed25519 public key an auditor pins with ``--key`` (certificates, evidence bundles,
dossiers), read from any form it is handed over in: hex, base64, the ledger's verifier key,
an SPKI PEM block, or a file holding one of them."""

from __future__ import annotations

import base64
import binascii
import os
import re
from pathlib import Path

from handover.errors import BadInput

#: ``--key`` a file is read from: a key file is small; anything larger is not one
KEY_FILE_LIMIT = 64 * 1024
#: the length of an Ed25519 SubjectPublicKeyInfo in DER (RFC 8410: 12-byte header + key)
SPKI_LEN = 44
_VKEY = re.compile(r"[^\s+]+\+[0-9a-fA-F]+\+\S+")
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def read_pinned_key(spec: str) -> bytes:
    """The raw Ed25519 public key an auditor was given as text, or a file holding that text:
    64 hex digits (``:`` and blanks allowed), base64 of the 32 bytes, the ledger's verifier
    key (``name+hash+base64``, as in an evidence bundle), or a SubjectPublicKeyInfo PEM block
    (or its base64 body, e.g. pasted from an e-mail). BadInput naming ``--key`` otherwise."""
    from handover.crypto.signing import public_key_from_pem
    from handover.ledger.note import NoteError, parse_verifier_key, shown_key

    shown = shown_key(spec)
    text = spec.strip()
    path = Path(os.path.expanduser(text))
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # a PEM block is no file name: too long, or a NUL in it
        is_file = False
    if is_file:
        try:
            with path.open("rb") as fh:
                data = fh.read(KEY_FILE_LIMIT + 1)
            text = data.decode("utf-8").strip() if len(data) <= KEY_FILE_LIMIT else ""
        except (OSError, UnicodeDecodeError):
            text = ""
        if not text:
            raise BadInput.msg("erase.key_file", spec=shown)
    pem = _PEM.search(text)
    if pem is None and "-----BEGIN" in text:
        raise BadInput.msg("erase.key_pem", spec=shown)
    if pem is not None:
        if pem.group(1) != "PUBLIC KEY":
            raise BadInput.msg("erase.key_pem", spec=shown)
        # Re-armoured line by line: an e-mail indents, re-wraps or adds blanks to the block.
        body = "".join(pem.group(2).split())
        try:
            return public_key_from_pem(
                f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"
            )
        except ValueError:
            raise BadInput.msg("erase.key_pem", spec=shown) from None
    compact = "".join(text.split())
    hexed = compact.replace(":", "")
    if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", hexed):
        if len(hexed) != 64:
            raise BadInput.msg("erase.key_len", spec=shown)
        return bytes.fromhex(hexed)
    decoded = _base64(compact)
    if decoded is not None and len(decoded) == 32:
        return decoded
    if decoded is not None and len(decoded) == SPKI_LEN:  # a PEM block's body, unarmoured
        try:
            return public_key_from_pem(
                f"-----BEGIN PUBLIC KEY-----\n{compact}\n-----END PUBLIC KEY-----\n"
            )
        except ValueError:
            raise BadInput.msg("erase.key_pem", spec=shown) from None
    # After base64: a base64 key may hold two "+" with hex digits between them.
    if _VKEY.fullmatch(compact):
        try:
            return parse_verifier_key(compact)[1]
        except NoteError as exc:
            raise BadInput.msg("erase.key_vkey", spec=shown, reason=exc.text) from None
    missing = not is_file and ("/" in text or os.sep in text or "." in text)
    raise BadInput.msg("erase.key_no_file" if missing else "erase.key_text", spec=shown)


def _base64(text: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not; None when ``text`` is neither."""
    padded = text + "=" * (-len(text) % 4)
    for alt in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=alt, validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


def pinned_verifier_keys(specs: list[str] | None, bundle: Path) -> list[str] | None:
    """``--key`` values for an evidence bundle's verifier (``bundle_verify``), which pins
    verifier keys (``name+hash+base64``): a verifier key is kept as given (its name must
    then be the bundle's); any other form :func:`read_pinned_key` takes becomes the
    verifier key of that public key under the name in the bundle's ``verifier_key.txt``
    (a name is no secret: the signatures must still verify under the pinned key). A
    bundle whose name cannot be read keeps the value as given, for the verifier to name
    what it cannot read. None when ``specs`` is empty."""
    from handover.ledger.note import NoteError, parse_verifier_key, verifier_key

    if not specs:
        return None
    keys = [read_pinned_key(spec) for spec in specs]  # BadInput naming --key: no key at all
    name = _bundle_name(bundle)
    out = []
    for spec, key in zip(specs, keys, strict=True):
        compact = "".join(spec.split())
        try:
            parse_verifier_key(compact)
        except NoteError:
            out.append(spec if name is None else verifier_key(name, key))
        else:
            out.append(compact)
    return out


def _bundle_name(bundle: Path) -> str | None:
    """The key name in ``bundle``'s ``verifier_key.txt``; None when it cannot be read."""
    from handover.ledger.note import NoteError, parse_verifier_key

    try:
        first = (bundle / "verifier_key.txt").read_text("utf-8").split()[0]
        return parse_verifier_key(first)[0]
    except (OSError, UnicodeDecodeError, IndexError, NoteError):
        return None
