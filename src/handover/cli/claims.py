"""``handover claims``: what running commands hold on this workspace; ``release`` for the
claims of a holder known to be gone."""

from __future__ import annotations

from typing import Any

import typer

from handover.cli.common import handled, json_option, lang_of, print_json, workspace_of

claims_app = typer.Typer(
    help="运行中的操作占用的数据与位置 / what running commands hold on this workspace.",
    invoke_without_command=True,
    rich_markup_mode=None,
)


def _lines(rows: list[dict[str, Any]], lang: str) -> None:
    from handover.i18n import t

    for r in rows:
        state = r["state"]
        typer.echo(
            t(
                "claims.line",
                lang,
                id=r["id"],
                kind=r["kind"],
                who=r["who"],
                since=r["since"],
                mode=t(f"claims.mode.{'alone' if r['exclusive'] else 'shared'}", lang),
                resource=r["resource"],
                state=t(f"claims.state.{state}", lang),
            )
        )


@claims_app.callback()
def list_claims(ctx: typer.Context, json_out: bool = json_option()) -> None:
    """List the claims running commands hold (console jobs and CLI commands)."""
    if ctx.invoked_subcommand is not None:
        return
    from handover.flows.claims import held_claims
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        rows = held_claims(ws)
    if json_out:
        print_json(rows)
    elif not rows:
        typer.echo(t("claims.none", lang_of(ctx)))
    else:
        _lines(rows, lang_of(ctx))


@claims_app.command()
def release(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., help="Claim ids (handover claims lists them)."),
    reason: str = typer.Option(
        ..., "--reason", help="Why the holder is known to be gone (kept in the ledger)."
    ),
    json_out: bool = json_option(),
) -> None:
    """Release claims whose holder is gone but cannot be checked from here (another
    host); a holder alive on this host is refused."""
    from handover.flows.claims import release_claims
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        gone = release_claims(ws, ids, reason)
    if json_out:
        print_json(gone)
    else:
        typer.echo(t("claims.released", lang_of(ctx), n=len(gone)))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root ``handover`` app."""
    app.add_typer(claims_app, name="claims")
