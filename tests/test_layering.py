"""The layout rules of STYLE.md, checked by code.

- Only ``handover.crypto`` imports cryptographic primitives (the documented exceptions:
  the offline verifier of evidence bundles and dossiers, which must run without handover
  installed, and store revision 0002c, which the store's place below handover.crypto
  keeps from importing it).
- The library never imports the adapters (``handover.cli``, ``handover.web``).
- ``handover.db`` is a base room (it imports only the core modules) and the only place a
  database URL is parsed or tested for, an engine created, or a catalogue reflected.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "handover"
PRIMITIVES = ("hashlib", "hmac", "cryptography", "pkcs11", "pyarrow.parquet.encryption")
PRIMITIVE_EXCEPTIONS = {
    "ledger/bundle_verify.py",
    # a store revision may not import handover.crypto (the store is below it): its
    # downgrade hashes the ledger's lower subtree nodes back with hashlib's SHA-256
    "store/migrations/versions/0002_02_ledger_nodes_floor.py",
}


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


#: rooms that do one job on data they are given (STYLE.md, docs/architecture.md)
KERNELS = (
    "crypto",
    "deid",
    "detect",
    "dossier",
    "erase",
    "incidents",
    "ledger",
    "migrate",
    "notices",
    "package",
    "pia",
    "reports",
    "sources",
    "synth",
    "taxonomy",
    "verify",
)
#: what a kernel never imports: the steps, access control and the adapters
ABOVE_KERNELS = ("flows", "governance", "cli", "web")


def _room_imports() -> dict[str, dict[str, list[str]]]:
    """room -> room it imports -> where, counting imports inside functions and
    ``importlib.import_module("handover.x")`` too."""
    import re

    edges: dict[str, dict[str, list[str]]] = {}
    for rel, path in _modules():
        here = rel.split("/")[0].removesuffix(".py")
        text = path.read_text(encoding="utf-8")
        targets = _imports(path) + re.findall(r"import_module\(\s*['\"](handover\.[\w.]+)", text)
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "handover":
                targets += [f"handover.{a.name}" for a in node.names]
        for mod in targets:
            parts = mod.split(".")
            if parts[0] != "handover" or len(parts) < 2:
                continue
            there = parts[1]
            is_room = (SRC / there).is_dir() or (SRC / f"{there}.py").is_file()
            if there != here and is_room:
                edges.setdefault(here, {}).setdefault(there, []).append(f"{rel}: {mod}")
    return edges


def test_no_import_cycle_between_rooms() -> None:
    edges = _room_imports()
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str], seen: set[str]) -> None:
        for nxt in edges.get(node, {}):
            if nxt == path[0]:
                cycles.append([*path, nxt])
            elif nxt not in seen and nxt > path[0]:
                seen.add(nxt)
                walk(nxt, [*path, nxt], seen)

    for start in sorted(edges):
        walk(start, [start], {start})
    assert cycles == [], [" -> ".join(c) + f"  ({edges[c[-2]][c[-1]][0]})" for c in cycles[:10]]


def test_kernels_never_import_flows_governance_or_adapters() -> None:
    edges = _room_imports()
    offenders = [
        where
        for room in KERNELS
        for there, places in edges.get(room, {}).items()
        if there in ABOVE_KERNELS
        for where in places
    ]
    assert offenders == []


def test_the_engine_runs_kernels_and_never_imports_flows_governance_or_adapters() -> None:
    """``handover.engine`` sits between the kernels and the flows (DESIGN.md)."""
    edges = _room_imports()
    offenders = [
        where
        for there, places in edges.get("engine", {}).items()
        if there in ABOVE_KERNELS
        for where in places
    ]
    kernels_above = [
        where
        for room in KERNELS
        for there, places in edges.get(room, {}).items()
        if there == "engine"
        for where in places
    ]
    assert offenders == [] and kernels_above == []


def test_the_ledger_is_written_by_flows_governance_and_the_ledger_only() -> None:
    """Kernels report state changes through an event sink; they never call ``record``."""
    offenders = [
        f"{rel}: {mod}"
        for rel, path in _modules()
        if rel.split("/")[0] in KERNELS and not rel.startswith("ledger/")
        for mod in _imported_names(path)
        if mod in ("handover.ledger.record", "handover.ledger.record_many")
    ]
    assert offenders == []


def _imported_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.module}.{a.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for a in node.names
    ]


#: the core modules a base room may import
CORE = ("errors", "i18n", "settings", "results", "progress")


def test_db_is_a_base_room() -> None:
    """``handover.db`` imports only the core modules (and itself), never a kernel."""
    offenders = [
        where
        for there, places in _room_imports().get("db", {}).items()
        if there not in CORE
        for where in places
    ]
    assert offenders == []


def _db_layer_uses(path: Path) -> list[str]:
    """Where ``path`` creates an engine, parses a URL, tests a string for ``://`` or
    reflects a catalogue itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [
                f"{node.lineno}: imports {a.name}"
                for a in node.names
                if a.name in ("create_engine", "make_url", "inspect")
            ]
        elif isinstance(node, ast.Call):
            f = node.func
            name = (
                f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            )
            if name in ("create_engine", "make_url") or (
                name == "inspect" and isinstance(f, ast.Attribute)
            ):
                found.append(f"{node.lineno}: calls {name}")
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) for op in node.ops
        ):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value == "://" for o in operands):
                found.append(f"{node.lineno}: tests for '://'")
    return found


def test_only_db_parses_connects_and_reflects() -> None:
    """A URL is parsed, masked and connected in ``handover.db`` only (``db.url``,
    ``db.connect``) and catalogues are reflected in ``db.reflect`` only."""
    offenders = [
        f"{rel}:{use}"
        for rel, path in _modules()
        if not rel.startswith("db/")
        for use in _db_layer_uses(path)
    ]
    assert offenders == []
    inside = {rel: _db_layer_uses(path) for rel, path in _modules() if rel.startswith("db/")}
    assert {rel for rel, uses in inside.items() if uses} <= {
        "db/url.py",
        "db/connect.py",
        "db/reflect.py",
    }, inside
