"""What ``notices send`` checks before it changes anything: the campaign's own grant
(a refusal names it, not another campaign's grant on the same columns), its options
(one line naming the option, exit 2), and its channels (an unreachable server leaves the
campaign unqueued, so a plain retry is no "already started")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.errors import Refused
from handover.flows.notices import approve_campaign, create_campaign, send_campaign
from handover.ledger import entries
from handover.synth import synthesize
from notices_data import base, ws

pytest.importorskip("aiosmtpd")
__all__ = ["base", "ws"]  # fixtures used by name

runner = CliRunner()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sendchecks") / "book.db"
    synthesize(str(path), customers=40, seed=22)
    return path


def _campaign(ws: Any, book: Path, channels: tuple[str, ...] = ("letter",)) -> Any:
    return create_campaign(
        ws, book, name="t", channels=channels, tables=["cust_info"], link="https://b.example/n"
    )


def test_a_refused_send_names_the_campaigns_own_grant(ws: Any, book: Path) -> None:
    """Two campaigns on the same contact columns: sending the first, unapproved, names its
    own grant (before: the grant ``require`` found for the scope, the other campaign's)."""
    first, second = _campaign(ws, book), _campaign(ws, book)
    assert first.grant_id != second.grant_id
    approve_campaign(ws, second.id, actor="zhoujie")
    with pytest.raises(Refused) as refused:
        send_campaign(ws, first.id, book)
    text = str(refused.value)
    assert f"campaign {first.id} is not approved" in text
    assert f"#{first.grant_id} awaits approval (0 of 2" in text
    assert f"#{second.grant_id}" not in text
    last = [e for e in entries(ws) if e.action == "notices.send.refused"][-1]
    assert last.subject == f"campaign {first.id}"
    assert last.details["grant_id"] == first.grant_id
    # the other campaign's refusal names its grant and its one approval
    with pytest.raises(Refused, match=rf"#{second.grant_id} awaits approval \(1 of 2"):
        send_campaign(ws, second.id, book)
    res = runner.invoke(app, ["-w", str(ws.path), "notices", "send", str(first.id), str(book)])
    assert res.exit_code == 3, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and f"授权 #{first.grant_id} 待审批" in lines[0], res.output


def _send(ws: Any, *args: str) -> Any:
    return runner.invoke(app, ["-w", str(ws.path), "--lang", "en", "notices", "send", *args])


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--batch", "-5", "greater than or equal to 1"),
        ("--batch", "0", "greater than or equal to 1"),
        ("--rate", "-1", "greater than 0"),
        ("--rate", "0", "greater than 0"),
        ("--smtp-port", "0", "greater than or equal to 1"),
        ("--smtp-connections", "0", "greater than or equal to 1"),
        ("--sender", "not an address", "not an e-mail address"),
        ("--sender", "dpo@", "not an e-mail address"),
    ],
)
def test_send_options_out_of_range_are_one_line_naming_them(
    ws: Any, book: Path, option: str, value: str, words: str
) -> None:
    """Before, ``--batch -5`` became 1, ``--rate -1`` and any ``--sender`` were taken (102
    e-mails sent From ``not an address``): now one line naming the option, exit 2, the
    campaign untouched and nothing ledgered."""
    from handover.ledger import ledger_size

    camp = _campaign(ws, book, ("email",))
    approve_campaign(ws, camp.id, actor="zhoujie")
    approve_campaign(ws, camp.id, actor="liqiang")
    size = ledger_size(ws)
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-security", "none", "--sender", "d@s.cn"]
    res = _send(ws, str(camp.id), str(book), *smtp, option, value)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0], res.output
    assert ledger_size(ws) == size
    from handover.notices.campaign import load_campaign

    assert load_campaign(ws, camp.id).status == "created"


def test_an_sms_limit_over_the_providers_is_refused(ws: Any, book: Path) -> None:
    """``--sms-max-chars`` above the provider's 500 (or below 1) is one line, exit 2."""
    from handover.notices.campaign import list_campaigns

    args = ["-w", str(ws.path), "--lang", "en", "notices", "create", str(book), "-c", "sms"]
    args += ["-t", "cust_info", "--link", "https://b.example/n", "--sms-max-chars"]
    for value in ("99999999999999999999", "501", "0"):
        res = runner.invoke(app, [*args, value])
        assert res.exit_code == 2, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and "--sms-max-chars" in lines[0], res.output
    assert list_campaigns(ws) == []


def test_an_unreachable_server_leaves_the_campaign_unqueued(ws: Any, book: Path) -> None:
    """A first send whose SMTP server cannot be reached exits 2 with the campaign not
    queued, so the same command, without --resume, sends it once the server is up
    (before: queued, then "already started")."""
    from handover.notices.campaign import load_campaign
    from handover.notices.outbox import counts
    from notices_data import Mailbox, free_port

    camp = _campaign(ws, book, ("email", "letter"))
    approve_campaign(ws, camp.id, actor="zhoujie")
    approve_campaign(ws, camp.id, actor="liqiang")
    port = free_port()
    args = [str(camp.id), str(book), "--smtp-host", "127.0.0.1", "--smtp-port", str(port)]
    args += ["--smtp-security", "none", "--sender", "dpo@seller.example.cn"]
    res = _send(ws, *args)
    assert res.exit_code == 2 and "cannot reach the SMTP server" in res.output, res.output
    assert counts(ws, camp.id) == {} and load_campaign(ws, camp.id).status == "created"
    from aiosmtpd.controller import Controller

    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        res = _send(ws, *args)
    finally:
        ctl.stop()
    assert res.exit_code == 0, res.output
    assert len(box.distinct()) == counts(ws, camp.id)["email"]["sent"] > 0


def test_the_categories_told_are_the_people_tables_and_no_credentials(ws: Any, book: Path) -> None:
    """The notice's ``categories`` lists the PI types of the campaign's people tables only
    (before: every table's, staff accounts included) and never authentication data
    (passwords, PINs, CVNs, tokens)."""
    from handover.flows.scan import inventory_for
    from handover.notices.templates import category_labels
    from handover.taxonomy import TAXONOMY

    cols, _ = inventory_for(ws, book)
    credentials = [p.name for p in TAXONOMY if p.tier == "C3"]
    everywhere = {v["primary"] for v in cols.values() if v.get("primary")}
    of_customers = {v["primary"] for (t, _), v in cols.items() if t == "cust_info"}
    assert everywhere - of_customers, "the book has types outside cust_info"
    camp = _campaign(ws, book)
    told = camp.content["categories"].split("、")
    for label in category_labels(sorted(everywhere - of_customers) + credentials, camp.lang):
        assert label not in told, (label, told)
    wanted = sorted(t for t in of_customers - set(credentials) if t)
    assert told == category_labels(wanted, camp.lang)
