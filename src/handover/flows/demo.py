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
from handover.flows.dossier import demo_step as dossier_step
from handover.flows.incidents import demo_drill
from handover.flows.pia import demo_check, demo_step
from handover.flows.workspace import init_workspace
from handover.governance import current_actor
from handover.governance.demo import step_governance
from handover.i18n import t
from handover.ledger import checkpoint_if_new, record
from handover.settings import TOML_NAME
from handover.workspace import Workspace, open_workspace


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
    from handover.flows.synth import record_synth

    record_synth(ctx.ws, current_actor(ctx.ws), res)
    return t(
        "synth.done",
        ctx.lang,
        customers=res.customers,
        target=res.target,
        rows=res.total_rows,
        seconds=res.seconds,
    )


def _step_scan(ctx: DemoContext) -> str:
    from handover.flows.scan import run_scan

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


def _step_verify(ctx: DemoContext) -> str:
    from handover.errors import CheckFailed
    from handover.flows.verify import verify

    res = verify(str(ctx.seller_db), str(ctx.buyer_db), ws=ctx.ws)
    ctx.results["verify"] = res
    rows = sum(tb.source_rows for tb in res.tables)
    if not res.equal:
        bad = [tb.name for tb in res.tables if not tb.equal]
        raise CheckFailed.msg("demo.verify.differs", tables=", ".join(bad))
    return t(
        "demo.verify.equal",
        ctx.lang,
        tables=len(res.tables),
        rows=rows,
        fetched=res.rows_fetched,
        seconds=res.seconds,
    )


def _step_seal(ctx: DemoContext) -> str:
    """Seal the demo seller database into ``packages/transfer`` and check it fully."""
    from handover.flows.seal import seal
    from handover.package import verify_package

    out = ctx.ws.settings.packages_dir / "transfer"
    out.parent.mkdir(parents=True, exist_ok=True)
    res = seal(ctx.ws, str(ctx.seller_db), out)
    verify_package(ctx.ws, out)
    ctx.results["seal"] = res
    return t(
        "package.sealed",
        ctx.lang,
        tables=len(res.tables),
        rows=res.rows,
        path=res.package,
        mb=res.bytes / 1e6,
        seconds=res.seconds,
    )


def _step_dd(ctx: DemoContext) -> str:
    """Write the due-diligence extract of the demo seller database into ``reports/dd-extract``."""
    from handover.flows.extract import dd_extract

    res = dd_extract(
        ctx.ws, str(ctx.seller_db), ctx.ws.settings.reports_dir / "dd-extract", lang=ctx.lang
    )
    ctx.results["dd"] = res
    refused = [x["name"] for x in res.refused]
    return t(
        "deid.done",
        ctx.lang,
        path=res.out,
        tables=len(res.tables),
        rows=res.rows,
        key_id=res.token_key,
        k=5,
        below=", ".join(refused) or "-",
    )


def _step_migrate(ctx: DemoContext) -> str:
    """Migrate ``ctx.seller_db`` into ``ctx.buyer_db`` (a fresh file), taking the sealed
    backup first; returns the summary line."""
    from handover.flows.migrate import migrate
    from handover.i18n import t
    from handover.migrate import MigrateOptions

    if ctx.buyer_db.exists():
        ctx.buyer_db.unlink()
    res = migrate(ctx.ws, str(ctx.seller_db), str(ctx.buyer_db), MigrateOptions())
    ctx.results["migrate"] = res
    package = (res.backup or {}).get("package", "")
    return t(
        "demo.migrate.done_backup",
        ctx.lang,
        tables=len(res.tables),
        rows=res.rows,
        target=ctx.buyer_db.name,
        seconds=res.seconds,
        package=package,
    )


def _step_shred(ctx: DemoContext) -> str:
    """Shred ``ctx.seller_db`` and every package/key of the demo; returns the summary line.

    Uses the verify an earlier demo step recorded; if none, verifies seller against buyer
    now; if there is no buyer database either, forces with the reason recorded.
    """
    from handover.erase import Scope
    from handover.erase.control import norm_spec, recorded_place
    from handover.flows.shred import shred
    from handover.governance.demo import DEMO_CAST
    from handover.i18n import t
    from handover.ledger import entries

    ws, seller = ctx.ws, str(ctx.seller_db)
    verified = any(
        recorded_place(e.details, "source") == norm_spec(seller)
        for e in entries(ws, action="verify.run")
    )
    force, reason = False, None
    if not verified and ctx.buyer_db.exists():
        from handover.flows.verify import verify

        verify(seller, str(ctx.buyer_db), ws=ws)
    elif not verified:
        force = True
        reason = "演示:本次演示没有迁移与校验步骤 / demo run without a migrate/verify step"
    # Dual control: the second person (the advisor's auditor) authenticates with the
    # cast's public demo password, a governance event the certificate proves.
    validator = next(m for m in DEMO_CAST if m.name == "liuyang")
    result = shred(
        ws,
        Scope(source=seller),
        force=force,
        reason=reason,
        seed=ctx.seed,
        lang=ctx.lang,
        validated_by=validator.name,
        validator_password=validator.password,
    )
    ctx.results["shred"] = result
    return t(
        "erase.done",
        ctx.lang,
        samples=result.samples,
        found=result.found,
        cert=result.certificate_dir,
        **result.counts(),
    )


def _step_notices(ctx: DemoContext) -> str:
    """A notice campaign to the synthetic customers through a local SMTP server and the
    SMS stand-in (both started and stopped here), letters, replies, announcement, report."""
    from handover.flows.notices import demo_campaign

    res = demo_campaign(ctx.ws, ctx.seller_db, lang=ctx.lang)
    ctx.results["notices"] = res
    return t(
        "demo.notices.done",
        ctx.lang,
        emails=res.emails,
        sms=res.sms,
        delivered=res.delivered,
        letters=res.letters,
        pdfs=res.pdfs,
        replies=res.replies,
        unreachable=res.unreachable,
        path=res.files[-1].parent,
    )


Step = tuple[str, Callable[[DemoContext], str]]

STEPS: list[Step] = [
    ("demo.step.synth", _step_synth),
    ("demo.step.governance", step_governance),
    ("demo.step.scan", _step_scan),
    ("demo.step.pia", demo_step),  # before seal: PIPL Art. 55 wants the PIA first
    ("demo.step.seal", _step_seal),
    ("demo.step.dd", _step_dd),
    ("demo.step.migrate", _step_migrate),
    ("demo.step.verify", _step_verify),
    ("demo.step.notices", _step_notices),  # before shred: it reads the seller's contacts
    ("demo.step.drill", demo_drill),
    ("demo.step.shred", _step_shred),  # shredding needs the passing verify above
    ("demo.step.compliance", demo_check),  # it reads the whole run's ledger
    ("demo.step.dossier", dossier_step),  # last: it carries every report of the run
]


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
            raise BadInput.msg("demo.not_demo", path=path)
        shutil.rmtree(path)
    ws = init_workspace(path, demo=True, lang=lang)
    ctx = DemoContext(path=path, customers=customers, seed=seed, lang=lang, ws=ws)
    try:
        echo(t("demo.title", lang))
        for n, (key, step) in enumerate(STEPS, start=1):
            echo(t("demo.step", lang, n=n, name=t(key, lang)))
            line = step(ctx)
            echo("  " + line)
            record(
                ws,
                current_actor(ws),
                "demo.step",
                key,
                "演示流程 / demo run",
                {"n": n, "summary": line[:500]},
            )
        checkpoint_if_new(ws, actor=current_actor(ws))
        echo(t("demo.done", lang, path=path.resolve()))
    finally:
        ws.close()
    return ctx
