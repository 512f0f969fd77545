"""``handover shred`` and ``handover certificate verify``: parse, call the library, render."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from handover.cli.common import (
    ask_password,
    console,
    err_console,
    globals_of,
    handled,
    json_option,
    lang_of,
    print_json,
    progress_of,
    progress_option,
    split_list,
    tables_option,
    workspace_of,
)

if TYPE_CHECKING:
    from handover.erase import Gate, Plan, ShredResult

certificate_app = typer.Typer(
    help="销毁证明 / certificates of sanitization.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def shred(
    ctx: typer.Context,
    source: str | None = typer.Argument(
        None,
        help="Seller/intermediary database: a SQLite file or a URL (omit to shred only "
        "packages, extracts, exports, paths or keys).",
    ),
    target: str | None = typer.Option(
        None, "--target", help="The migration target the passing verify must name (default any)."
    ),
    tables: list[str] = tables_option("Only these source tables"),
    media: list[str] = typer.Option(
        [],
        "--media",
        help="What to destroy: source,packages,copies,letters,extracts,exports,temp,paths,keys "
        "(default all).",
    ),
    paths: list[Path] = typer.Option(
        [], "--path", help="Extra file or folder to overwrite and delete (repeatable)."
    ),
    retention: Path | None = typer.Option(
        None,
        "--retention",
        help="TOML file of retention rules ([[retain]]), besides handover.toml.",
    ),
    plan_only: bool = typer.Option(
        False, "--plan", help="Only list what would be destroyed and kept."
    ),
    executed_by: str | None = typer.Option(None, "--executed-by", help="Executor's name."),
    validated_by: str | None = typer.Option(
        None, "--validated-by", help="Validator's name (a different person)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Destroy source tables without a passing verify (needs --reason)."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why --force is used (recorded)."),
    samples: int = typer.Option(
        1000,
        "--samples",
        help="Identifiers (resident ID, mobile, bank card) sampled in total and searched for "
        "after destruction; all of them when fewer exist.",
    ),
    passes: int = typer.Option(1, "--passes", help="Overwrite passes per file."),
    yes: bool = typer.Option(
        False,
        "--yes",
        "-y",
        help="Destroy without showing the plan for confirmation (needed when not run in a "
        "terminal).",
    ),
    json_out: bool = json_option(),
    progress: str | None = progress_option(),
) -> None:
    """Destroy the transfer's data (tables, packages, extracts, exports, temp files, keys), verify, and certify."""
    from handover.erase import Scope
    from handover.flows.shred import plan_shred
    from handover.flows.shred import shred as run_shred
    from handover.i18n import t

    lang = lang_of(ctx)
    scope = Scope(
        source=source,
        tables=split_list(tables),
        target=target,
        media=split_list(media),
        paths=paths,
        retention=retention,
    )
    with handled(), workspace_of(ctx, data=True) as ws:
        if plan_only:
            plan, gate = plan_shred(ws, scope, force=force, reason=reason)
        else:
            if not yes:
                _confirm(*plan_shred(ws, scope, force=force, reason=reason), lang)
            password = ask_password(
                ws.settings.validator_password,
                t("erase.validator_prompt", lang),
                missing="erase.needs_validator_password",
            )
            with progress_of(progress, json_out, lang) as prog:
                result = run_shred(
                    ws,
                    scope,
                    executed_by=executed_by,
                    validated_by=validated_by,
                    force=force,
                    reason=reason,
                    samples=samples,
                    passes=passes,
                    lang=lang,
                    validator_password=password,
                    progress=prog,
                )
    if plan_only:
        if json_out:
            print_json({**plan.to_json(), "gate": gate.to_json()})
        else:
            _render_plan(plan, gate, lang)
        return
    if json_out:
        print_json(result.to_json())
    else:
        _render_result(result, lang)


def _confirm(plan: Plan, gate: Gate, lang: str) -> None:
    """Show the plan on stderr and ask; BadInput when nobody can answer (no terminal):
    ``--yes`` is then needed. A "no" ends the command (exit 1), nothing destroyed."""
    import click

    from handover.errors import BadInput
    from handover.i18n import t

    _render_plan(plan, gate, lang, out=err_console)
    try:
        ok = typer.confirm(t("erase.confirm", lang), default=False, err=True)
    except (click.exceptions.Abort, typer.Abort):
        raise BadInput.msg("erase.needs_yes") from None
    if not ok:
        err_console.print(t("erase.declined", lang), highlight=False)
        raise typer.Exit(1)


def _render_plan(plan: Plan, gate: Gate, lang: str, out: Any = None) -> None:
    from rich.table import Table

    from handover.erase import METHODS
    from handover.i18n import t

    screen = out or console

    table = Table(title=t("erase.plan.title", lang))
    for key in ("medium", "subject", "size", "method", "nist"):
        table.add_column(t(f"erase.col.{key}", lang), overflow="fold")
    for i in plan.destroy:
        size = i.rows if i.rows is not None else i.bytes
        m = METHODS.get(i.method)
        table.add_row(
            i.medium,
            i.subject,
            f"{size:,}" if size is not None else "",
            i.method,
            m.nist if m else "",
        )
    screen.print(table)
    kept = Table(title=t("erase.plan.retained", lang))
    for key in ("medium", "subject", "size", "basis", "until"):
        kept.add_column(t(f"erase.col.{key}", lang), overflow="fold")
    for i in plan.retain:
        basis = ""
        if i.rule is not None:
            basis = i.rule.basis.zh if lang.startswith("zh") else i.rule.basis.en
        kept.add_row(
            i.medium,
            i.subject,
            f"{i.rows:,}" if i.rows is not None else "",
            basis or (i.note_text.render(lang) if i.note_text else i.note) or i.method,
            i.rule.until.isoformat() if i.rule and i.rule.until else "",
        )
    screen.print(kept)
    if plan.unreached:
        gone = Table(title=t("erase.plan.unreached", lang))
        for key in ("medium", "subject", "basis"):
            gone.add_column(t(f"erase.col.{key}", lang), overflow="fold")
        for i in plan.unreached:
            why = i.note_text.render(lang) if i.note_text else i.note
            gone.add_row(i.medium, i.subject, why)
        screen.print(gone)
    _render_gate(gate, lang, screen)


def _render_gate(gate: Gate, lang: str, screen: Any = None) -> None:
    from handover.i18n import t

    console_ = screen or console
    if not gate.needed:
        return
    if gate.forced:
        console_.print(t("erase.gate.forced", lang, reason=gate.reason), highlight=False)
    elif gate.passed:
        console_.print(t("erase.gate.ok", lang, seq=gate.seq), highlight=False)
    else:
        console_.print(
            t(
                "erase.gate.blocked",
                lang,
                problem=gate.problem.render(lang) if gate.problem else "",
            ),
            highlight=False,
        )


def _render_result(result: ShredResult, lang: str) -> None:
    from handover.i18n import t

    _render_gate(result.gate, lang)
    console.print(
        t(
            "erase.done",
            lang,
            samples=result.samples,
            found=result.found,
            cert=result.certificate_dir,
            **result.counts(),
        ),
        highlight=False,
    )


@certificate_app.command("verify")
def certificate_verify(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="certificate.json (its .sig beside it) or its folder."),
    key: str | None = typer.Option(
        None,
        "--key",
        help="Pin the signer: the ledger's Ed25519 public key as text (64 hex digits, base64, "
        "its verifier key name+hash+base64, or an SPKI PEM block), or a file holding it.",
    ),
    json_out: bool = json_option(),
) -> None:
    """Check a certificate: signature, ledger proofs, destroyed and kept items (exit 1 if not)."""
    from handover.erase import verify_certificate
    from handover.i18n import t
    from handover.settings import resolve_workspace

    lang = lang_of(ctx)
    g = globals_of(ctx)
    with handled():
        ws = None
        if (resolve_workspace(g.workspace) / "handover.toml").is_file():
            from handover.workspace import open_workspace

            ws = open_workspace(g.workspace)
        try:
            check = verify_certificate(file, ws=ws, pinned_key=key)
        finally:
            if ws is not None:
                ws.close()
    if json_out:
        print_json(check.to_json())
    elif check.ok:
        console.print(
            t("erase.cert.ok", lang, proofs=check.proofs_ok, signer=check.signer), highlight=False
        )
    elif check.consistent:
        console.print(
            t("erase.cert.unpinned", lang, proofs=check.proofs_ok, signer=check.signer),
            highlight=False,
            markup=False,
        )
    else:
        from handover.i18n import Msg

        for problem in check.findings or [Msg("erase.cert.problem.invalid")]:
            console.print(t("erase.cert.bad", lang, problem=problem), highlight=False, markup=False)
    if not json_out:
        for note in check.notes:
            console.print(note.render(lang), highlight=False, markup=False)
    if not check.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``shred`` and the ``certificate`` sub-app to the root command."""
    app.command("shred")(shred)
    app.add_typer(certificate_app, name="certificate")
