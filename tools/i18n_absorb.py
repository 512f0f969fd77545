#!/usr/bin/env python3
"""Move message registrations written as ``add({...})`` calls into the catalogues.

handover keeps one message catalogue per language (``src/handover/locales/<lang>.toml``),
loaded eagerly by ``handover.i18n``. Code that still registers texts the old way — an
``add({key: {"zh-CN": …, "en": …}})`` call, e.g. on a branch written before the change — is
absorbed by this tool: the dict literals are read statically (never imported), merged into
the catalogues (a key whose text differs is an error), and the calls are deleted. Run
``make format`` afterwards to drop the imports left unused, then the tests.

Usage: python3 tools/i18n_absorb.py [--check]   (--check: exit 1 if anything is left)
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "handover"
LOCALES = SRC / "locales"
LANGS = ("zh-CN", "en")


def _is_add(call: ast.Call) -> bool:
    f = call.func
    return (isinstance(f, ast.Name) and f.id == "add") or (
        isinstance(f, ast.Attribute) and f.attr == "add" and getattr(f.value, "id", "") == "i18n"
    )


class _Pairs(ast.NodeTransformer):
    """``helper("中文", "English")`` inside a registration → ``{"zh-CN": …, "en": …}``."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        texts = node.args
        if len(texts) == 2 and all(
            isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts
        ):
            keys: list[ast.expr | None] = [ast.Constant(lang) for lang in LANGS]
            return ast.Dict(keys=keys, values=list(texts))
        return self.generic_visit(node)


def _calls(path: Path) -> list[tuple[int, int, dict[str, dict[str, str]]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and _is_add(node.value)
            and node.value.args
            and isinstance(node.value.args[0], ast.Dict)
        ):
            try:
                arg = _Pairs().visit(node.value.args[0])
                messages = ast.literal_eval(arg)
            except ValueError:
                sys.exit(f"{path}:{node.lineno}: add() of a dict that is not a literal")
            assert node.end_lineno is not None
            out.append((node.lineno, node.end_lineno, messages))
    return out


def main() -> int:
    check = "--check" in sys.argv
    catalogues = {
        lang: tomllib.loads((LOCALES / f"{lang}.toml").read_text(encoding="utf-8"))
        if (LOCALES / f"{lang}.toml").exists()
        else {}
        for lang in LANGS
    }
    found = 0
    for path in sorted(SRC.rglob("*.py")):
        calls = _calls(path)
        if not calls:
            continue
        found += len(calls)
        if check:
            print(f"{path.relative_to(ROOT)}: {len(calls)} add() call(s) left")
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for start, end, messages in sorted(calls, reverse=True):
            for key, texts in messages.items():
                for lang in LANGS:
                    if lang not in texts:
                        sys.exit(f"{path}: message {key!r} lacks {lang}")
                    old = catalogues[lang].get(key)
                    if old is not None and old != texts[lang]:
                        sys.exit(f"{path}: message {key!r} ({lang}) differs from the catalogue")
                    catalogues[lang][key] = texts[lang]
            del lines[start - 1 : end]
        path.write_text("".join(lines), encoding="utf-8")
    if check:
        return 1 if found else 0
    LOCALES.mkdir(exist_ok=True)
    for lang in LANGS:
        doc = dict(sorted(catalogues[lang].items()))
        (LOCALES / f"{lang}.toml").write_text(tomli_w.dumps(doc), encoding="utf-8")
    print(f"absorbed {found} add() call(s); {len(catalogues['en'])} messages per language")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
