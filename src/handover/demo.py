"""``handover demo``: the whole handover on synthetic data inside one workspace.

Every stage that exists runs here, in order, on SQLite only; everything it writes stays
inside the workspace (seller.db, buyer.db, packages, reports). Each stage is one
function in ``STEPS`` taking the demo context and returning a line to print.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handover.errors import BadInput
from handover.i18n import add, t
from handover.settings import TOML_NAME
from handover.workspace import Workspace, init_workspace, open_workspace


@dataclass
class DemoContext:
    """What the demo steps share."""

    path: Path
    customers: int
    seed: int
    lang: str
    ws: Workspace
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def seller_db(self) -> Path:
        return self.path / "seller.db"

    @property
    def buyer_db(self) -> Path:
        return self.path / "buyer.db"


def _step_synth(ctx: DemoContext) -> str:
    from handover.synth import synthesize

    res = synthesize(str(ctx.seller_db), customers=ctx.customers, seed=ctx.seed)
    ctx.results["synth"] = res
    return t(
        "synth.done",
        ctx.lang,
        customers=res.customers,
        target=res.target,
        rows=res.total_rows,
        seconds=res.seconds,
    )


Step = tuple[str, Callable[[DemoContext], str]]

STEPS: list[Step] = [
    ("demo.step.synth", _step_synth),
]

add(
    {
        "demo.step.synth": {
            "zh-CN": "生成卖方合成贷款账簿",
            "en": "Synthesise the seller's loan book",
        },
        "demo.not_demo": {
            "zh-CN": "{path} 是一个非演示工作区;演示不会修改它",
            "en": "{path} is not a demo workspace; the demo will not touch it",
        },
    }
)


def run_demo(
    path: Path,
    *,
    customers: int = 20_000,
    seed: int = 2026,
    lang: str = "zh-CN",
    echo: Callable[[str], Any] = print,
) -> DemoContext:
    """Create a demo workspace at ``path`` (recreating an earlier demo) and run every step.

    A workspace that is not marked ``demo`` is never touched.
    """
    if (path / TOML_NAME).exists():
        old = open_workspace(path)
        is_demo = old.settings.demo
        old.close()
        if not is_demo:
            raise BadInput(t("demo.not_demo", lang, path=path))
        shutil.rmtree(path)
    ws = init_workspace(path, demo=True, lang=lang)
    ctx = DemoContext(path=path, customers=customers, seed=seed, lang=lang, ws=ws)
    try:
        echo(t("demo.title", lang))
        for n, (key, step) in enumerate(STEPS, start=1):
            echo(t("demo.step", lang, n=n, name=t(key, lang)))
            echo("  " + step(ctx))
        echo(t("demo.done", lang, path=path.resolve()))
    finally:
        ws.close()
    return ctx
