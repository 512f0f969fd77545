"""Where the ledger's Ed25519 signing key lives: one PEM file, mode 0600, in the keys dir.

A later crypto issue moves the key behind a key backend (keyring, HSM); these two
functions are the only places that touch the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from handover.errors import BadInput

if TYPE_CHECKING:
    from handover.workspace import Workspace

KEY_FILE = "ledger-ed25519.pem"


def key_path(ws: Workspace) -> Path:
    """Path of the ledger signing key of ``ws``."""
    return ws.settings.keys_dir / KEY_FILE


def save_signing_key(ws: Workspace, key: Ed25519PrivateKey) -> Path:
    """Write ``key`` as an unencrypted PKCS#8 PEM, created 0600; never overwrites a key."""
    path = key_path(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadInput(f"{path}: a ledger signing key already exists; not replaced") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def load_signing_key(ws: Workspace) -> Ed25519PrivateKey | None:
    """The ledger signing key of ``ws``, or None when the file does not exist."""
    path = key_path(ws)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the ledger signing key ({exc.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise BadInput(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"{path}: not an Ed25519 key")
    return key
