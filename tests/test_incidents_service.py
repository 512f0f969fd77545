"""The incident clock as a service account (issue 17): a cron job runs ``incidents tick``
and ``incidents warn`` with a token and no session, ledgered under the account's name,
and the account can do nothing else. A real (non-demo) workspace, nobody logged in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.errors import BadInput, Refused
from handover.flows import incidents as flow
from handover.flows.workspace import init_workspace
from handover.governance import authorize
from handover.governance.people import add_person, set_password, set_roles
from handover.governance.policy import ACTIONS, INCIDENT_TICK
from handover.governance.service import issue_service_token, revoke_service_tokens
from handover.ledger import entries, ledger_size
from handover.workspace import DEMO_TRANSFER, Workspace, open_workspace
from incidents_data import Clock

PASS = "keyring-pass-2026"
SELLER = DEMO_TRANSFER["seller"]["name"]


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real workspace (no demo cast, no demo actors) with one DPO and no session."""
    monkeypatch.setenv("HANDOVER_KEYRING_PASSPHRASE", PASS)
    monkeypatch.delenv("HANDOVER_SERVICE_TOKEN", raising=False)
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER, demo=False)
    try:
        add_person(ws, "wangmin", "王敏", SELLER, ["dpo"], "dpo-password-2026")
        add_person(
            ws, "zhaolei", "赵磊", SELLER, ["data_engineer"], "eng-password-2026", actor="wangmin"
        )
    finally:
        ws.close()
    return tmp_path / "ws"


def _open(path: Path, monkeypatch: pytest.MonkeyPatch, token: str | None) -> Workspace:
    if token is None:
        monkeypatch.delenv("HANDOVER_SERVICE_TOKEN", raising=False)
    else:
        monkeypatch.setenv("HANDOVER_SERVICE_TOKEN", token)
    return open_workspace(path)


@pytest.fixture
def token(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    ws = _open(path, monkeypatch, None)
    try:
        issued = issue_service_token(ws, "incident-clock", org=SELLER, actor="wangmin")
    finally:
        ws.close()
    assert list(issued.person.roles) == ["incident_clock"]
    yield issued.token


def _overdue_incident(ws: Workspace, clock: Clock) -> int:
    """An incident noticed 5 hours ago (its 4-hour CAC duty missed), decided by the DPO
    by name through the library (nobody is logged in); returns its event."""
    from handover.incidents import incidents as kernel
    from handover.incidents.rules import load_rules
    from handover.ledger import Recorder

    sink = Recorder(ws, "wangmin")
    ev = kernel.record_event(
        ws,
        "泄露",
        noticed_at=clock() - dt.timedelta(hours=5),
        noticed_by="zhaolei",
        reported_by="wangmin",
        data=["cust_info"],
        events=sink,
        clock=clock,
    )
    kernel.promote(
        ws,
        ev.id,
        decided_by="wangmin",
        reason="确认",
        rules=load_rules(),
        conf=ws.settings.incidents,
        inventory=None,
        events=sink,
        clock=clock,
        people=2_000_000,
        people_reason="核对",
    )
    return ev.id


def test_tick_and_warn_run_as_the_service_account_without_a_session(
    path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    ws = _open(path, monkeypatch, None)
    try:
        event = _overdue_incident(ws, clock)
        # no token, nobody logged in: refused
        with pytest.raises(Refused, match="nobody is logged in"):
            flow.tick(ws, clock=clock)
    finally:
        ws.close()
    ws = _open(path, monkeypatch, token)
    try:
        result = flow.tick(ws, clock=clock)
        assert len(result.escalated) == 1
        esc = entries(ws, action="incident.obligation.escalate")
        assert [e.actor for e in esc] == ["incident-clock"]
        allow = entries(ws, action="access.allow")[-1]
        assert allow.actor == "incident-clock" and allow.details["action"] == "incident.tick"
        flow.run_warnings(ws, clock=clock)
        assert entries(ws, action="access.allow")[-1].actor == "incident-clock"
        # the service account can do nothing else
        for action in ACTIONS:
            decision = authorize(ws, "incident-clock", action, "*")
            assert decision.allowed is (action == INCIDENT_TICK), action
        with pytest.raises(Refused):
            flow.promote(ws, event, reason="x", clock=clock)
    finally:
        ws.close()


def test_a_bad_revoked_or_rotated_token_is_refused(
    path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(dt.datetime.now(dt.UTC))
    ws = _open(path, monkeypatch, "not-the-token")
    try:
        size = ledger_size(ws)
        with pytest.raises(Refused, match="HANDOVER_SERVICE_TOKEN"):
            flow.tick(ws, clock=clock)
        refused = entries(ws, action="governance.service.refused")
        assert len(refused) == 1 and ledger_size(ws) == size + 1
        assert "not-the-token" not in str(refused[0].details)
        # a new token revokes the old one
        again = issue_service_token(ws, "incident-clock", org=SELLER, actor="wangmin")
        assert again.token != token
    finally:
        ws.close()
    ws = _open(path, monkeypatch, token)
    try:
        with pytest.raises(Refused):
            flow.tick(ws, clock=clock)
    finally:
        ws.close()
    ws = _open(path, monkeypatch, again.token)
    try:
        assert flow.tick(ws, clock=clock).escalated == []
        assert revoke_service_tokens(ws, "incident-clock", actor="wangmin") == 1
        with pytest.raises(Refused):
            flow.tick(ws, clock=clock)
    finally:
        ws.close()


def test_service_accounts_stay_service_accounts(
    path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _open(path, monkeypatch, None)
    try:
        with pytest.raises(BadInput, match="service account"):
            set_roles(ws, "incident-clock", add=["dpo"], actor="wangmin")
        with pytest.raises(BadInput, match="service account"):
            set_password(ws, "incident-clock", "a-new-password-1", actor="wangmin")
        with pytest.raises(BadInput, match="incident_clock"):
            add_person(ws, "cron2", "x", SELLER, ["incident_clock"], "pw-0123456789")
        with pytest.raises(BadInput, match="is a person"):
            issue_service_token(ws, "zhaolei", org=SELLER, actor="wangmin")
        with pytest.raises(Refused):  # only governance.manage issues tokens
            issue_service_token(ws, "cron3", org=SELLER, actor="zhaolei")
        expired = issue_service_token(
            ws,
            "incident-clock",
            org=SELLER,
            actor="wangmin",
            days=1,
            now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
        )
    finally:
        ws.close()
    ws = _open(path, monkeypatch, expired.token)
    try:
        with pytest.raises(Refused, match="expired"):
            flow.tick(ws)
    finally:
        ws.close()


def test_cron_runs_tick_through_the_cli_with_only_the_token(
    path: Path, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HANDOVER_SERVICE_TOKEN", raising=False)
    runner = CliRunner()
    where = ["-w", str(path), "--lang", "en"]
    res = runner.invoke(app, [*where, "incidents", "tick"])
    assert res.exit_code == 3
    res = runner.invoke(
        app, [*where, "incidents", "tick", "--json"], env={"HANDOVER_SERVICE_TOKEN": token}
    )
    assert res.exit_code == 0, res.output
    assert not (path / ".session").exists()
    res = runner.invoke(
        app,
        [*where, "incidents", "event", "x", "--noticed-at", dt.datetime.now(dt.UTC).isoformat()],
        env={"HANDOVER_SERVICE_TOKEN": token},
    )
    assert res.exit_code == 3  # the token is no login: reporting an event needs a person
    res = runner.invoke(
        app,
        [*where, "people", "service", "cron-x", "--org", SELLER],
        env={"HANDOVER_SERVICE_TOKEN": token},
    )
    assert res.exit_code == 3
