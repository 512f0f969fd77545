"""The layout rules of STYLE.md, checked by code.

- Only ``handover.crypto`` imports cryptographic primitives (the offline evidence-bundle
  verifier is the one documented exception: it must run without handover installed).
- The library never imports the adapters (``handover.cli``, ``handover.web``).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "handover"
PRIMITIVES = ("hashlib", "hmac", "cryptography", "pkcs11", "pyarrow.parquet.encryption")
PRIMITIVE_EXCEPTIONS = {"ledger/bundle_verify.py"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(SRC).as_posix(), p) for p in sorted(SRC.rglob("*.py"))]


def test_only_crypto_imports_primitives() -> None:
    offenders = [
        f"{rel}: {mod}"
        for rel, path in _modules()
        if not rel.startswith("crypto/") and rel not in PRIMITIVE_EXCEPTIONS
        for mod in _imports(path)
        if any(mod == p or mod.startswith(p + ".") for p in PRIMITIVES)
    ]
    assert offenders == []


def test_library_never_imports_adapters() -> None:
    offenders = [
        f"{rel}: {mod}"
        for rel, path in _modules()
        if not rel.startswith(("cli/", "web/"))
        for mod in _imports(path)
        if mod.startswith(("handover.cli", "handover.web"))
    ]
    assert offenders == []
