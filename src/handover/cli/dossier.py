"""``handover dossier`` (the regulator's dossier: build, verify) and ``handover
transparency`` (the public transparency report). Each command parses, calls one function
of :mod:`handover.flows.dossier` or :mod:`handover.flows.transparency`, renders."""

from __future__ import annotations

from pathlib import Path

import typer

from handover.cli.common import handled, json_option, lang_of, print_json, workspace_of

dossier_app = typer.Typer(
    help="监管报送材料包 / the regulator's dossier: every document of the transfer, "
    "bound to the ledger, signed, verifiable offline.",
    no_args_is_help=True,
)
JSON_OPT = json_option()


@dossier_app.command("build")
def build(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, help="Folder to write (default reports/dossier/dossier-<UTC time>)."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Evaluate the checklist, gather every record and report, bind them to the ledger, sign."""
    from handover.flows.dossier import build_dossier
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        res = build_dossier(ws, out)
    if json_out:
        print_json(res.to_json())
        return
    typer.echo(
        t(
            "dossier.built",
            lang,
            folder=res.folder,
            documents=res.sealed.documents,
            files=res.sealed.files,
            score=res.score * 100,
            seq=res.build_seq,
            size=res.sealed.tree_size,
            sha=res.sealed.manifest_sha256,
        )
    )
    for w in res.warnings:
        typer.echo(t(f"dossier.r.warning.{w['kind']}", lang, path=w["path"], seq=w["seq"]))


@dossier_app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="The dossier folder."),
    key: list[str] = typer.Option(
        [],
        "--key",
        help="The ledger's Ed25519 public key, obtained independently, as text (its verifier "
        "key name+hash+base64, 64 hex digits, base64, or an SPKI PEM block) or a file holding "
        "it (repeatable).",
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Check a dossier offline (as its verify.py does): files, ledger, signature, bindings."""
    from handover.flows.dossier import verify_folder
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled():
        res = verify_folder(folder, key or None)
    if json_out:
        print_json(res)
        return
    typer.echo(
        t(
            "dossier.verified",
            lang,
            files=res["files"],
            documents=res["documents"],
            entries=res["ledger"]["entries"],
            root=res["ledger"]["root"],
        )
    )
    if not res["key_pinned"]:
        typer.echo(t("dossier.unpinned", lang))


def transparency(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, help="Folder to write (default reports/transparency/transparency-<UTC time>)."
    ),
    json_out: bool = JSON_OPT,
) -> None:
    """Write the public transparency report (aggregates only, no personal data), HTML/PDF zh-CN/en."""
    from handover.flows.transparency import transparency_report
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        res = transparency_report(ws, out)
    if json_out:
        print_json(res.to_json())
        return
    typer.echo(t("transparency.written", lang, folder=res.folder, seq=res.seq))


def register(app: typer.Typer) -> None:
    """Add ``dossier`` and ``transparency`` to the root ``handover`` app."""
    app.add_typer(dossier_app, name="dossier")
    app.command("transparency")(transparency)
