"""Sealed transfer packages: encrypted Parquet per table plus a signed manifest.

The kernel: :func:`handover.package.seal.seal_reader` builds a package, ``verify_package``
checks one, ``PackageSource`` reads one, ``read_back`` checks a restored target. The
steps (seal, backup, unseal, restore) are flows: :mod:`handover.flows.seal`,
:mod:`handover.flows.unseal`. See docs/package.md.
"""

from handover.package.seal import SealResult, seal_reader
from handover.package.source import PackageCheck, PackageSource, is_package, verify_package

__all__ = [
    "PackageCheck",
    "PackageSource",
    "SealResult",
    "is_package",
    "seal_reader",
    "verify_package",
]
