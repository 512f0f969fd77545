"""``handover audit``: read, prove, verify and export the tamper-evident ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from handover.cli.common import handled, json_option, lang_of, print_json, workspace_of
from handover.errors import MAX_ID
from handover.i18n import t

audit_app = typer.Typer(
    help="审计账本:查看、签名检查点、证明、核验、导出 / the tamper-evident ledger: "
    "log, checkpoint, prove, verify, export.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    from handover.errors import BadInput

    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput.msg("cli.bad_since", value=value) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@audit_app.command("log")
def log_cmd(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, "--since", help="Only events at or after this ISO time."
    ),
    actor: str | None = typer.Option(None, "--actor", help="Only events of this actor."),
    action: str | None = typer.Option(
        None, "--action", help="Only this action (or its sub-actions)."
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, max=MAX_ID, help="At most this many events."
    ),
    json_out: bool = json_option(),
) -> None:
    """List ledger events in sequence order."""
    from handover.ledger import entries

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        found = entries(ws, since=_since(since), actor=actor, action=action, limit=limit)
    if json_out:
        print_json([e.to_json() for e in found])
        return
    if not found:
        typer.echo(t("audit.empty", lang))
    for e in found:
        typer.echo(f"{e.seq:>7}  {e.ts}  {e.actor:<16} {e.action:<24} {e.subject}")


@audit_app.command("checkpoint")
def checkpoint_cmd(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", help="Also write the signed checkpoint here."),
    json_out: bool = json_option(),
) -> None:
    """Sign the current tree head (C2SP checkpoint) and print it; keep a copy outside."""
    from handover.ledger import latest_checkpoint
    from handover.ledger.ledger import write_checkpoint

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        cp = latest_checkpoint(ws)
        if out is not None:
            write_checkpoint(cp, out)
    if json_out:
        print_json(cp.to_json())
        return
    typer.echo(cp.note, nl=False)
    if out is not None:
        typer.echo(t("audit.checkpoint_saved", lang, size=cp.size, path=out))


@audit_app.command("prove")
def prove_cmd(
    ctx: typer.Context,
    seq: int = typer.Argument(..., min=0, max=MAX_ID, help="Sequence number of the entry."),
    json_out: bool = json_option(),
) -> None:
    """Inclusion proof of one entry against the newest signed checkpoint."""
    from handover.ledger import prove

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        proof = prove(ws, seq)
    if json_out:
        print_json(proof.to_json())
        return
    typer.echo(t("audit.proof", lang, seq=proof.seq, size=proof.size, root=proof.root.hex()))
    typer.echo(proof.body.decode("utf-8"))
    for i, h in enumerate(proof.proof):
        typer.echo(f"  [{i}] {h.hex()}")
    typer.echo(proof.checkpoint, nl=False)


@audit_app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        help="A checkpoint saved earlier outside the store: prove the log extends it.",
    ),
    json_out: bool = json_option(),
) -> None:
    """Recompute every entry and the tree; check every checkpoint (exit 1 if tampered)."""
    from handover.ledger import verify_ledger

    lang = lang_of(ctx)
    with handled():
        with workspace_of(ctx) as ws:
            report = verify_ledger(ws, checkpoint)
        if json_out:
            print_json(report.to_json())
        else:
            for p in report.problems:
                typer.echo(t("audit.problem", lang, where=p.place, message=p.text))
            if report.ok:
                typer.echo(
                    t(
                        "audit.verified",
                        lang,
                        size=report.size,
                        checkpoints=report.checkpoints,
                        root=report.root.hex(),
                        seconds=report.seconds,
                    )
                )
                if report.external is not None:
                    typer.echo(
                        t(
                            "audit.extends",
                            lang,
                            file=report.external["file"],
                            size=report.external["size"],
                        )
                    )
                if report.uncovered:
                    typer.echo(t("audit.uncovered", lang, n=report.uncovered))
        report.raise_if_failed()


@audit_app.command("export")
def export_cmd(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="New (or empty) folder for the evidence bundle."),
    json_out: bool = json_option(),
) -> None:
    """Write a self-contained evidence bundle with an offline verify.py."""
    from handover.flows.audit import export

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        res = export(ws, folder)
    if json_out:
        print_json(res.to_json())
    else:
        typer.echo(
            t(
                "audit.exported",
                lang,
                path=res.path,
                entries=res.entries,
                checkpoints=res.checkpoints,
            )
        )


@audit_app.command("verify-bundle")
def verify_bundle_cmd(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="The evidence bundle folder (from audit export)."),
    key: list[str] = typer.Option(
        [],
        "--key",
        help="The ledger's Ed25519 public key, obtained independently, as text (its verifier "
        "key name+hash+base64, 64 hex digits, base64, or an SPKI PEM block) or a file holding "
        "it (repeatable: one per key version).",
    ),
    allow_unsigned: bool = typer.Option(
        False,
        "--allow-unsigned",
        help="Accept a bundle whose manifest is not signed (exported before manifests were "
        "signed); its tree size and root then need a checkpoint obtained independently.",
    ),
    json_out: bool = json_option(),
) -> None:
    """Check an evidence bundle with handover's own verifier (exit 1 if tampered)."""
    from handover.ledger.export import verify_exported

    lang = lang_of(ctx)
    with handled():
        check = verify_exported(folder, key or None, allow_unsigned=allow_unsigned)
    if json_out:
        print_json(check.to_json())
        return
    res = check.result
    typer.echo(
        t(
            "audit.bundle_verified",
            lang,
            path=folder,
            entries=res["entries"],
            checkpoints=res["checkpoints"],
            root=res["root"],
        )
    )
    if not check.manifest_signed:
        typer.echo(t("audit.bundle_unsigned", lang))
    if not check.key_pinned:
        typer.echo(t("audit.bundle_unpinned", lang))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root ``handover`` app."""
    app.add_typer(audit_app, name="audit")
