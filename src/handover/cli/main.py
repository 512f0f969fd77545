"""The ``handover`` command. Heavy libraries are imported inside commands only."""

from __future__ import annotations

from pathlib import Path

import typer

from handover import __version__
from handover.cli.audit import app as audit_app
from handover.cli.common import globals_of, handled, lang_of, print_json, workspace_of
from handover.cli.governance import register as register_governance
from handover.cli.keys import app as keys_app
from handover.cli.migrate import migrate as migrate_cmd
from handover.cli.package import register as register_package
from handover.cli.scan import scan as scan_cmd
from handover.cli.serve import serve as serve_cmd
from handover.cli.shred import register as register_shred
from handover.cli.verify import verify as verify_cmd

app = typer.Typer(
    name="handover",
    help="handover(交接):小贷公司客户信息从卖方到买方的合规交接 / "
    "carry a small-loan company's customer information from seller to buyer, with proof.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
app.add_typer(audit_app, name="audit")
register_governance(app)
app.add_typer(keys_app, name="keys")
app.command("migrate")(migrate_cmd)
register_package(app)
app.command("scan")(scan_cmd)
app.command("serve")(serve_cmd)
register_shred(app)
app.command("verify")(verify_cmd)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"handover {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        envvar="HANDOVER_WORKSPACE",
        help="Workspace directory (default ./handover-data).",
    ),
    lang: str | None = typer.Option(None, "--lang", help="zh-CN (default) or en."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal error."),
) -> None:
    """Global options."""
    g = globals_of(ctx)
    g.workspace = workspace
    g.lang = lang


@app.command()
def init(
    ctx: typer.Context,
    seller: str | None = typer.Option(None, help="Seller's legal name."),
    seller_contact: str = typer.Option("", help="Seller's contact person."),
    seller_phone: str = typer.Option("", help="Seller's contact phone."),
    seller_email: str = typer.Option("", help="Seller's contact e-mail."),
    buyer: str | None = typer.Option(None, help="Buyer's legal name."),
    buyer_contact: str = typer.Option("", help="Buyer's contact person."),
    buyer_phone: str = typer.Option("", help="Buyer's contact phone."),
    buyer_email: str = typer.Option("", help="Buyer's contact e-mail."),
    advisor: str | None = typer.Option(None, help="Transfer advisor's legal name."),
    purpose: str = typer.Option(
        "继续提供原贷款服务", help="Purpose of processing after the transfer (PIPL Art. 22)."
    ),
    name: str | None = typer.Option(None, help="Short name of the deal."),
    database_url: str | None = typer.Option(
        None,
        envvar="HANDOVER_DATABASE_URL",
        help="Platform store URL (default SQLite in the workspace).",
    ),
    demo: bool = typer.Option(
        False, help="Fill in a demo transfer and mark the workspace as a demo."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Create a workspace: handover.toml, platform store, keys/packages/reports folders."""
    from handover.flows.workspace import init_workspace
    from handover.i18n import t
    from handover.settings import resolve_workspace

    g = globals_of(ctx)
    lang = g.lang or "zh-CN"
    path = resolve_workspace(g.workspace)
    transfer = None
    if seller or buyer:
        transfer = {
            "name": name or f"{seller} → {buyer}",
            "purpose": purpose,
            "seller": {
                "name": seller or "",
                "contact": seller_contact,
                "phone": seller_phone,
                "email": seller_email,
            },
            "buyer": {
                "name": buyer or "",
                "contact": buyer_contact,
                "phone": buyer_phone,
                "email": buyer_email,
            },
        }
        if not seller or not buyer:
            from handover.errors import BadInput

            with handled():
                raise BadInput.msg("cli.init_parties")
        if advisor:
            transfer["advisor"] = {"name": advisor}
    with handled():
        ws = init_workspace(path, transfer, demo=demo, database_url=database_url, lang=lang)
        ws.close()
    if json_out:
        print_json({"workspace": str(path.resolve()), "store": ws.settings.store_url})
    else:
        typer.echo(t("workspace.created", lang, path=path))


@app.command()
def synth(
    ctx: typer.Context,
    out: str = typer.Option(
        ..., "--out", help="Target: a .db/.sqlite file, a database URL, or a folder for CSV/XLSX."
    ),
    customers: int = typer.Option(20_000, help="Number of customers (1 to 10,000,000)."),
    seed: int = typer.Option(2026, help="Random seed; the same seed gives the same data."),
    fmt: str | None = typer.Option(
        None, "--format", help="Folder exports: csv (UTF-8 + GBK) or xlsx."
    ),
    truth: str | None = typer.Option(
        None,
        "--truth",
        help="Where truth.json goes (default beside the data; ./truth.json for a URL).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Write a synthetic Chinese small-loan company's loan book, with truth.json beside it."""
    from handover.flows.synth import record_synth_in
    from handover.i18n import t
    from handover.synth import synthesize

    lang = lang_of(ctx)
    with handled():
        result = synthesize(out, customers=customers, seed=seed, fmt=fmt, truth_path=truth)
        record_synth_in(globals_of(ctx).workspace, result)  # only when a workspace exists
    if json_out:
        print_json(result.to_json())
    else:
        typer.echo(
            t(
                "synth.done",
                lang,
                customers=result.customers,
                target=result.target,
                rows=result.total_rows,
                seconds=result.seconds,
            )
        )


@app.command()
def demo(
    ctx: typer.Context,
    customers: int = typer.Option(20_000, help="Customers in the demo seller database."),
    seed: int = typer.Option(2026, help="Random seed."),
) -> None:
    """Run the whole handover on synthetic data in a demo workspace (SQLite only); an earlier demo there is replaced."""
    from handover.flows.demo import run_demo
    from handover.settings import resolve_workspace

    g = globals_of(ctx)
    lang = g.lang or "zh-CN"
    with handled():
        run_demo(
            resolve_workspace(g.workspace),
            customers=customers,
            seed=seed,
            lang=lang,
            echo=typer.echo,
        )


def main() -> None:
    """Console-script entry point: a bug prints one line (``--debug`` for the traceback)."""
    import sys

    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # a bug, not bad input: library errors are handled per command
        if "--debug" in sys.argv:
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__} (a bug in handover; rerun with --debug)\n"
        )
        raise SystemExit(70) from None


__all__ = ["app", "main", "workspace_of"]
