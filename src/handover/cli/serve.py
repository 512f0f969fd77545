"""``handover serve``: the web console over this workspace (FastAPI imported only here)."""

from __future__ import annotations

import typer

from handover.cli.common import globals_of, handled


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    secure_cookies: bool = typer.Option(
        False,
        "--secure-cookies",
        help="Mark cookies Secure: set it when a TLS proxy serves the console over https.",
    ),
) -> None:
    """Serve the web console (dashboard, inventory, grants, ledger, background jobs, notices, incidents, assessment, NDAs, training, vendors, JSON API) until Ctrl-C."""
    import uvicorn

    from handover.settings import resolve_workspace
    from handover.web.app import create_app

    g = globals_of(ctx)
    with handled():
        app = create_app(resolve_workspace(g.workspace), secure_cookies=secure_cookies)
    typer.echo(f"handover console: http://{host}:{port}/  (Ctrl-C to stop)")
    # proxy_headers off: behind a proxy, the client address used for login throttling
    # would otherwise come from a header anyone can set. No access log: a query string
    # (a search typed into a filter) must not land in a log; the ledger is the record.
    uvicorn.run(
        app, host=host, port=port, proxy_headers=False, server_header=False, access_log=False
    )


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the root ``handover`` app."""
    app.command("serve")(serve)
