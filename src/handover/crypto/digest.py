"""The one hasher of handover: SHA-256 and SM3 over bytes and files."""

from __future__ import annotations

from pathlib import Path

from handover.crypto.suites import DigestName, digest, new_hash

CHUNK = 1 << 20


def file_digest(path: Path | str, algorithm: DigestName = "sha256") -> str:
    """Hex digest of the file at ``path``, read in 1 MiB chunks."""
    h = new_hash(algorithm)
    with Path(path).open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of a file."""
    return file_digest(path, "sha256")


def sm3_file(path: Path | str) -> str:
    """Hex SM3 (GB/T 32905) of a file."""
    return file_digest(path, "sm3")


def digest_hex(data: bytes, algorithm: DigestName = "sha256") -> str:
    """Hex digest of ``data`` with SHA-256 or SM3."""
    return digest(data, algorithm).hex()


__all__ = ["digest", "digest_hex", "file_digest", "new_hash", "sha256_file", "sm3_file"]
