"""``make bench``: run every ``bench/bench_*.py`` and print their markdown tables.

Each module exposes ``run(quick: bool) -> str`` returning a markdown section (a heading,
the command, a table with handover, the peer, and the ratio). ``--quick`` shrinks the
data so the whole run finishes in a few minutes; the figures in docs/benchmarks.md come
from the full run. Output is also written to bench-out/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small data, minutes not hours")
    parser.add_argument("--only", action="append", default=[], help="run only these (e.g. synth)")
    args = parser.parse_args(argv)
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only]
    sections = []
    for name in names:
        t0 = time.perf_counter()
        print(f"== {name} …", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        section = module.run(quick=args.quick)
        print(section, flush=True)
        print(f"== {name} took {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        sections.append(section)
    out = Path("bench-out")
    out.mkdir(exist_ok=True)
    (out / "benchmarks.md").write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
