"""Sealed transfer packages: encrypted Parquet per table plus a signed manifest.

``seal(ws, source, out)`` builds a package, ``verify_package`` checks one, ``unseal``
restores one into SQLite, PostgreSQL or MariaDB; ``backup``/``restore`` are the same
mechanism used before a migration. See docs/package.md.
"""

from handover.package.seal import SealResult, backup, seal
from handover.package.source import PackageCheck, PackageSource, is_package, verify_package
from handover.package.unseal import UnsealResult, restore, unseal

__all__ = [
    "PackageCheck",
    "PackageSource",
    "SealResult",
    "UnsealResult",
    "backup",
    "is_package",
    "restore",
    "seal",
    "unseal",
    "verify_package",
]
