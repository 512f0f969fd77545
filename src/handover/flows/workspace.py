"""Create a workspace with everything a step needs, and open one for a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from handover.crypto.signing import init_keys
from handover.errors import CheckFailed
from handover.governance import current_actor, seed_demo_cast
from handover.governance.people import add_org
from handover.ledger import Recorder, checkpoint_if_new, init_ledger, ledger_size
from handover.workspace import Workspace, create_workspace, open_workspace


def init_workspace(
    path: Path,
    transfer: dict[str, Any] | None = None,
    *,
    demo: bool = False,
    database_url: str | None = None,
    lang: str = "zh-CN",
) -> Workspace:
    """Create the workspace at ``path`` with its signing key, the ledger's first entry,
    the transfer's parties registered as organisations (seller, buyer, advisor: the
    first person is then added with ``people add … --org``) and, for a demo, the demo
    cast; on any failure leave nothing behind."""

    def setup(ws: Workspace) -> None:
        actor = current_actor(ws)
        # Keys first: the ledger's first checkpoint is signed by the workspace signing key.
        init_keys(ws, Recorder(ws, actor))
        init_ledger(ws, actor)
        if demo:
            seed_demo_cast(ws)
        else:
            for kind in ("seller", "buyer", "advisor"):
                party = (transfer or {}).get(kind) or {}
                if str(party.get("name") or "").strip():
                    add_org(ws, str(party["name"]), kind, actor=actor)

    return create_workspace(
        path, transfer, demo=demo, database_url=database_url, lang=lang, setup=setup
    )


@contextmanager
def opened(
    path: Path | str | None = None, *, data: bool = False, **overrides: Any
) -> Iterator[Workspace]:
    """The workspace at ``path`` for one command; whatever the command recorded is covered
    by a signed checkpoint when it ends, also when it fails.

    ``data``: the command reads or changes customer data (scan, seal, migrate, verify,
    extract, shred, notices …): it runs only on a ledger that verifies
    (:func:`require_intact_ledger`).
    """
    ws = open_workspace(path, **overrides)
    start: int | None = None
    try:
        if data:
            require_intact_ledger(ws)
        start = ledger_size(ws)
        yield ws
        checkpoint_if_new(ws, since=start, actor=current_actor(ws))
    except BaseException:
        if start is not None:
            with suppress(Exception):  # the command's own error is the one to report
                checkpoint_if_new(ws, since=start, actor=current_actor(ws))
        raise
    finally:
        ws.close()


def require_intact_ledger(ws: Workspace) -> None:
    """CheckFailed (exit 1) naming the first problem when the ledger does not verify:
    no customer data is touched on top of an evidence trail that has been tampered with
    (the full verification of ``handover audit verify``: about 300,000 entries a second on a
    SQLite store with the C modules built, 50,000-100,000 read row by row)."""
    from handover.ledger import verify_ledger

    report = verify_ledger(ws)
    if not report.ok:
        first = report.problems[0]
        raise CheckFailed.msg(
            "workspace.ledger_broken",
            workspace=ws.path,
            n=len(report.problems),
            where=first.place,
            problem=first.text,
        )
