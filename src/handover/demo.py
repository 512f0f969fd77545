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

import handover.migrate.messages  # noqa: F401  (the migrate step's title)
from handover.errors import BadInput
from handover.governance.demo import step_governance
from handover.i18n import add, t
from handover.ledger import checkpoint_if_new
from handover.ledger.events import record_demo_step
from handover.package import messages as _package_titles  # noqa: F401  (seal, dd steps)
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
    from handover.ledger.events import record_synth

    record_synth(ctx.ws, res)
    return t(
        "synth.done",
        ctx.lang,
        customers=res.customers,
        target=res.target,
        rows=res.total_rows,
        seconds=res.seconds,
    )


def _step_scan(ctx: DemoContext) -> str:
    from handover.detect.scan import run_scan

    inv = run_scan(ctx.ws, ctx.seller_db, lang=ctx.lang)
    ctx.results["scan"] = inv
    c = inv.counts()
    return t(
        "scan.done",
        ctx.lang,
        tables=c["tables"],
        columns=c["columns"],
        pii=c["pii_columns"],
        sensitive=c["sensitive_columns"],
        seconds=inv.seconds,
    )


def _step_seal(ctx: DemoContext) -> str:
    from handover.package.demo import step_seal

    return step_seal(ctx)


def _step_dd(ctx: DemoContext) -> str:
    from handover.package.demo import step_dd

    return step_dd(ctx)


def _step_migrate(ctx: DemoContext) -> str:
    from handover.migrate.demo import step_migrate

    return step_migrate(ctx)


def _step_verify(ctx: DemoContext) -> str:
    from handover.errors import CheckFailed
    from handover.verify import verify

    res = verify(str(ctx.seller_db), str(ctx.buyer_db), ws=ctx.ws)
    ctx.results["verify"] = res
    rows = sum(tb.source_rows for tb in res.tables)
    if not res.equal:
        bad = [tb.name for tb in res.tables if not tb.equal]
        raise CheckFailed(t("demo.verify.differs", ctx.lang, tables=", ".join(bad)))
    return t(
        "demo.verify.equal",
        ctx.lang,
        tables=len(res.tables),
        rows=rows,
        fetched=res.rows_fetched,
        seconds=res.seconds,
    )


def _step_shred(ctx: DemoContext) -> str:
    from handover.erase.demo import step_shred

    return step_shred(ctx)


Step = tuple[str, Callable[[DemoContext], str]]

STEPS: list[Step] = [
    ("demo.step.synth", _step_synth),
    ("demo.step.governance", step_governance),
    ("demo.step.scan", _step_scan),
    ("demo.step.seal", _step_seal),
    ("demo.step.dd", _step_dd),
    ("demo.step.migrate", _step_migrate),
    ("demo.step.verify", _step_verify),
    ("demo.step.shred", _step_shred),  # last: shredding needs the passing verify above
]

add(
    {
        "demo.step.scan": {
            "zh-CN": "扫描并分类分级个人信息",
            "en": "Scan and classify personal information",
        },
        "demo.step.synth": {
            "zh-CN": "生成卖方合成贷款账簿",
            "en": "Synthesise the seller's loan book",
        },
        "demo.step.verify": {
            "zh-CN": "逐行核验买方数据库与卖方一致",
            "en": "Verify the buyer's database against the seller's, row by row",
        },
        "demo.verify.equal": {
            "zh-CN": "核验通过:{tables} 张表、{rows} 行逐行一致(仅下载 {fetched} 行,{seconds:.1f} 秒)",
            "en": "Verified: {tables} tables, {rows} rows identical ({fetched} rows downloaded, {seconds:.1f} s)",
        },
        "demo.verify.differs": {
            "zh-CN": "演示核验失败:买方数据库与卖方不一致的表:{tables}",
            "en": "demo verification failed: tables differing between buyer and seller: {tables}",
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
            line = step(ctx)
            echo("  " + line)
            record_demo_step(ws, n, key, line)
        checkpoint_if_new(ws)
        echo(t("demo.done", lang, path=path.resolve()))
    finally:
        ws.close()
    return ctx


add(
    {
        "demo.step.shred": {
            "zh-CN": "销毁卖方数据并出具销毁证明",
            "en": "Shred the seller's data and issue the sanitization certificate",
        }
    }
)
