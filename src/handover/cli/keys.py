"""``handover keys``: list, create, rotate, destroy and show the workspace's keys."""

from __future__ import annotations

from typing import Any

import typer

from handover.cli.common import console, handled, json_option, lang_of, print_json, workspace_of

keys_app = typer.Typer(
    help="密钥管理:创建、轮换、销毁(密码擦除) / key lifecycle: create, rotate, destroy (crypto-erase).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _row(info: dict[str, Any], lang: str) -> list[str]:
    from handover.i18n import t

    state = info["state"]
    return [
        info["key_id"],
        info["purpose"],
        info["tier"] or "",
        info["algorithm"],
        str(info["current_version"]),
        t(f"cli.keys.state.{state}", lang) if state in ("active", "destroyed") else state,
        (info["destroyed_at"] or info["created_at"])[:10],
    ]


def _table(infos: list[dict[str, Any]], lang: str) -> None:
    from rich import box
    from rich.table import Table

    from handover.i18n import t

    heads = t("crypto.columns", lang).split("|")
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    # Key ids are what users copy into the next command: never wrap or truncate them.
    width = max((len(i["key_id"]) for i in infos), default=3)
    table.add_column(heads[0], no_wrap=True, min_width=width)
    for head in heads[1:]:
        table.add_column(head, no_wrap=True)
    for info in infos:
        table.add_row(*_row(info, lang))
    console.print(table)


@keys_app.command("list")
def list_keys(
    ctx: typer.Context,
    json_out: bool = json_option(),
) -> None:
    """List every key, destroyed ones (tombstones) included."""
    from handover.crypto import Keys
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws, Keys(ws) as keys:
        infos = [k.to_json() for k in keys.list()]
    if json_out:
        print_json(infos)
    elif not infos:
        typer.echo(t("crypto.no_keys", lang_of(ctx)))
    else:
        _table(infos, lang_of(ctx))


@keys_app.command()
def create(
    ctx: typer.Context,
    purpose: str = typer.Option(
        ..., "--purpose", help="What the key protects, e.g. transfer, tokenize."
    ),
    tier: str | None = typer.Option(
        None, "--tier", help="JR/T 0171 tier of the data: C1, C2 or C3."
    ),
    json_out: bool = json_option(),
) -> None:
    """Create a key in the configured backend (keyring or PKCS#11 HSM)."""
    from handover.flows.keys import create_key
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        info = create_key(ws, purpose, tier)
    if json_out:
        print_json(info.to_json())
    else:
        typer.echo(
            t(
                "crypto.key_created",
                lang_of(ctx),
                key_id=info.key_id,
                purpose=info.purpose,
                algorithm=info.algorithm,
                backend=info.backend,
            )
        )


@keys_app.command()
def rotate(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Key id."),
    json_out: bool = json_option(),
) -> None:
    """Add a new key version; new data uses it, old data still opens."""
    from handover.flows.keys import rotate_key
    from handover.i18n import t

    with handled(), workspace_of(ctx) as ws:
        info = rotate_key(ws, key)
    if json_out:
        print_json(info.to_json())
    else:
        typer.echo(t("crypto.key_rotated", lang_of(ctx), key_id=key, version=info.current.version))


@keys_app.command()
def destroy(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Key id."),
    reason: str = typer.Option(
        ..., "--reason", help="Why the key is destroyed (kept in the ledger)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    json_out: bool = json_option(),
) -> None:
    """Destroy a key (cryptographic erase): data under it can never be decrypted again."""
    from handover.crypto import Keys
    from handover.flows.keys import destroy_key
    from handover.i18n import t

    lang = lang_of(ctx)
    with handled(), workspace_of(ctx) as ws:
        with Keys(ws) as keys:
            keys.active(key)
        if not yes and not typer.confirm(t("crypto.confirm_destroy", lang, key_id=key)):
            typer.echo(t("crypto.aborted", lang), err=True)
            raise typer.Exit(3)
        info = destroy_key(ws, key, reason)
    if json_out:
        print_json(info.to_json())
    else:
        typer.echo(t("crypto.key_destroyed_ok", lang, key_id=key, versions=len(info.versions)))


@keys_app.command()
def show(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Key id."),
    json_out: bool = json_option(),
) -> None:
    """Show a key: versions, state, and what the backend holds (never material)."""
    from handover.crypto import Keys

    with handled(), workspace_of(ctx) as ws, Keys(ws) as keys:
        info = keys.describe(key)
    if json_out:
        print_json(info)
        return
    from handover.i18n import t

    lang = lang_of(ctx)
    _table([info], lang)
    for v in info["versions"]:
        when = {"version": v["version"], "created": v["created_at"][:19]}
        if "public_key" in v:
            typer.echo(t("cli.keys.version_public", lang, public_key=v["public_key"], **when))
        else:
            typer.echo(t("cli.keys.version", lang, **when))
    for obj in info.get("backend_objects", []):
        typer.echo("  " + ", ".join(f"{k}={v}" for k, v in obj.items()))
    if info["state"] == "destroyed":
        typer.echo(
            t("cli.keys.destroyed", lang, when=info["destroyed_at"], reason=info["destroy_reason"])
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root ``handover`` app."""
    app.add_typer(keys_app, name="keys")
