"""`handover people reactivate NAME`: a deactivated person comes back in the same account
(their history whole), on a real store with an injected clock.

What a compliance officer can rely on: only a manager (not the person) reactivates; the
old password is dead — the manager gives a new one, one-time outside a demo, so the person
does nothing before setting their own; sessions from before stay ended (one racing the
deactivation too); grants keep their dates (one that expired meanwhile stays expired, one
still open is named). Refusals are one line, change nothing, and the password is never in
the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from handover.cli.main import app
from handover.errors import BadInput, HandoverError, Refused
from handover.flows.workspace import init_workspace
from handover.governance import authorize
from handover.governance.demo import _oracle
from handover.governance.grants import approve_grant, request_grant
from handover.governance.models import PersonRow, SessionRow
from handover.governance.ndas import add_nda
from handover.governance.people import (
    add_person,
    deactivate,
    get_person,
    reactivate,
    set_password,
)
from handover.governance.session import current_session, login
from handover.governance.training import take_course
from handover.ledger import entries, ledger_size
from handover.workspace import DEMO_TRANSFER, Workspace

runner = CliRunner()
SELLER = DEMO_TRANSFER["seller"]["name"]
BUYER = DEMO_TRANSFER["buyer"]["name"]
#: 12:00 in Beijing on 6 Dec 2026
T0 = dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC)
OWN = {
    "wangmin": "Wangmin-own-2026",
    "appr1": "appr1-own-choice-7",
    "appr2": "appr2-own-choice-7",
    "eng": "eng-own-choice-7",
}
#: the password the DPO gives eng when reactivating the account
BACK = "eng-back-by-dpo-8"
#: the one eng then chooses
AGAIN = "eng-own-again-9"


def key(exc: pytest.ExceptionInfo[HandoverError]) -> str:
    assert exc.value.message is not None
    return exc.value.message.key


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace outside a demo: the DPO, two approvers and a data engineer, each with a
    password of their own; eng holds an NDA, the required course, a clear grant on
    everything for 300 days and a short one (10 days) to use the engineering copy."""
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER, demo=False)
    try:
        add_person(ws, "wangmin", "王敏", SELLER, ["dpo", "compliance_officer"], OWN["wangmin"])
        for name, roles in (
            ("appr1", ["approver"]),
            ("appr2", ["approver"]),
            ("eng", ["data_engineer"]),
        ):
            add_person(ws, name, name, SELLER, roles, f"{name}-set-by-dpo-1", actor="wangmin")
            set_password(ws, name, OWN[name], current=f"{name}-set-by-dpo-1", now=T0)
        doc = ws.path / "nda.txt"
        doc.write_text("保密协议 / NDA", encoding="utf-8")
        add_nda(
            ws,
            title="NDA",
            parties=[SELLER, BUYER],
            scope="*",
            signed_on=dt.date(2026, 11, 1),
            effective_on=dt.date(2026, 11, 1),
            expires_on=dt.date(2028, 12, 31),
            document=doc,
            actor="wangmin",
            now=T0,
        )
        take_course(ws, "pipl-jrt0171", _oracle(ws), person="eng", seed=1, now=T0)
        for days, purpose in ((300, "交接 / handover"), (10, "工程副本 / engineering copy")):
            g = request_grant(
                ws,
                "eng",
                scope="*",
                mode="clear",
                purpose=purpose,
                valid_until=T0 + dt.timedelta(days=days),
                actor="wangmin",
                now=T0,
            )
            for a in ("appr1", "appr2"):
                approve_grant(ws, g.id, actor=a, now=T0)
        yield ws
    finally:
        ws.close()


def cli(ws_path: Path, *args: str, password: str | None = None) -> Any:
    env = {"HANDOVER_WORKSPACE": str(ws_path)}
    if password is not None:
        env["HANDOVER_PASSWORD"] = password
    return runner.invoke(app, ["--lang", "en", *args], env=env)


def one_line(res: Any, code: int, *names: str) -> str:
    assert res.exit_code == code, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    for n in names:
        assert n in lines[0], (n, res.output)
    return lines[0]


def stored(ws: Workspace, name: str) -> tuple[Any, ...]:
    """What the store holds of ``name``'s account (to prove a refusal changed nothing)."""
    with ws.store.session() as s:
        row = s.scalars(select(PersonRow).where(PersonRow.name == name)).one()
        return (
            row.active,
            row.password_hash,
            row.password_set_by,
            row.password_set_at,
            row.password_one_time,
        )


def no_secret_in_ledger(ws: Workspace, *secrets: str) -> None:
    for e in entries(ws):
        body = e.body.decode("utf-8", errors="replace")
        for secret in secrets:
            assert secret not in body, (e.action, secret)


# --- the happy path ----------------------------------------------------------------------


def test_reactivate_from_the_cli_with_a_one_time_password(real: Workspace) -> None:
    ws, path = real, real.path
    assert cli(path, "login", "wangmin", password=OWN["wangmin"]).exit_code == 0
    assert cli(path, "people", "deactivate", "eng").exit_code == 0
    assert not get_person(ws, "eng").active
    before = ledger_size(ws)
    res = cli(path, "people", "reactivate", "eng", password=BACK)
    assert res.exit_code == 0, res.output
    assert "eng's account reactivated with a one-time password" in res.output
    assert "the old password no longer works" in res.output
    # the grants still open are named (both are active: no time has passed)
    assert "eng's grants still open" in res.output and "#1 (active), #2 (active)" in res.output
    eng = get_person(ws, "eng")
    assert eng.active and eng.one_time_password and eng.password_set_by == "wangmin"
    new = [e for e in entries(ws)[before:] if e.action.startswith("governance.person")]
    assert [(e.action, e.actor, e.subject) for e in new] == [
        ("governance.person.reactivate", "wangmin", "person eng")
    ]
    assert new[0].details == {
        "set_by": "wangmin",
        "one_time_password": True,
        "open_grants": [{"id": 1, "state": "active"}, {"id": 2, "state": "active"}],
    }
    listed = cli(path, "people", "list")
    eng_line = next(x for x in listed.output.splitlines() if x.startswith("eng "))
    assert "inactive" not in eng_line
    # in Chinese too, and as JSON
    assert cli(path, "people", "deactivate", "eng").exit_code == 0
    zh = runner.invoke(
        app,
        ["--lang", "zh-CN", "people", "reactivate", "eng", "--json"],
        env={"HANDOVER_WORKSPACE": str(path), "HANDOVER_PASSWORD": BACK + "x"},
    )
    assert zh.exit_code == 0, zh.output
    assert '"one_time_password": true' in zh.output and '"grants"' in zh.output
    assert cli(path, "people", "deactivate", "eng").exit_code == 0
    zh = runner.invoke(
        app,
        ["--lang", "zh-CN", "people", "reactivate", "eng"],
        env={"HANDOVER_WORKSPACE": str(path), "HANDOVER_PASSWORD": BACK + "y"},
    )
    assert "eng 的账号已恢复,并设置了一次性密码" in zh.output, zh.output
    no_secret_in_ledger(ws, BACK, BACK + "x", BACK + "y")


def test_the_old_password_is_dead_and_the_new_one_only_sets_their_own(real: Workspace) -> None:
    from handover.web.sessions import start_session

    ws, path = real, real.path
    at = T0 + dt.timedelta(days=1)
    account = get_person(ws, "eng").id
    deactivate(ws, "eng", actor="wangmin", now=at)
    assert reactivate(ws, "eng", BACK, actor="wangmin", now=at).person.id == account
    # the password eng had before the deactivation no longer logs in
    one_line(cli(path, "login", "eng", password=OWN["eng"]), 2, "bad credentials")
    # the one the DPO gave is one-time: no login, no decision, no API session
    one_line(cli(path, "login", "eng", password=BACK), 2, "set by wangmin")
    with pytest.raises(Refused) as exc:
        start_session(ws, "eng", BACK, "10.0.0.9", clock=lambda: at)
    assert key(exc) == "web.login_one_time"
    d = authorize(ws, "eng", "seal", "*", now=at)
    assert not d.allowed and d.reason_key == "gov.refuse.password_one_time"
    # eng sets their own with it; then eng acts again, under the grant still in force
    res = runner.invoke(
        app,
        ["--lang", "en", "people", "password", "eng"],
        env={"HANDOVER_WORKSPACE": str(path), "HANDOVER_PASSWORD": AGAIN},
        input=BACK + "\n",
    )
    assert res.exit_code == 0, res.output
    assert cli(path, "login", "eng", password=AGAIN).exit_code == 0
    d = authorize(ws, "eng", "seal", "*", now=at)
    assert d.allowed and d.grant_id == 1  # the grant of the same account, from before
    no_secret_in_ledger(ws, BACK, AGAIN, OWN["eng"])


def test_expired_grants_stay_expired_open_ones_are_named(real: Workspace) -> None:
    ws = real
    deactivate(ws, "eng", actor="wangmin", now=T0)
    later = T0 + dt.timedelta(days=20)  # grant 2 (10 days) expired meanwhile
    done = reactivate(ws, "eng", BACK, actor="wangmin", now=later)
    assert done.grants == ((1, "active"),)
    assert entries(ws, action="governance.person.reactivate")[-1].details["open_grants"] == [
        {"id": 1, "state": "active"}
    ]
    set_password(ws, "eng", AGAIN, current=BACK, now=later)
    # the short grant's purpose is no longer covered by any grant in force
    d = authorize(ws, "eng", "seal", "*", now=later)
    assert d.allowed and d.grant_id == 1
    with ws.store.session() as s:
        from handover.governance.grants import grants_of

        states = {g.id: g.state for g in grants_of(s, get_person(ws, "eng"), later)}
    assert states == {1: "active", 2: "expired"}


def test_sessions_from_before_stay_ended(real: Workspace) -> None:
    from handover.crypto.passwords import new_session_token, token_digest
    from handover.web.sessions import resume_session, start_session

    ws = real
    clock = lambda: T0  # noqa: E731
    login(ws, "eng", OWN["eng"], now=T0)  # the workspace's CLI session file is eng's
    web = start_session(ws, "eng", OWN["eng"], "10.0.0.9", clock=clock)
    deactivate(ws, "eng", actor="wangmin", now=T0)
    assert current_session(ws, now=T0) is None
    # a CLI login racing the deactivation: its row was written after the sessions ended
    raced = new_session_token()
    with ws.store.session() as s:
        s.add(
            SessionRow(
                person_id=get_person(ws, "eng").id,
                token_hash=token_digest(raced),
                created_at=T0,
                expires_at=T0 + dt.timedelta(hours=8),
            )
        )
    reactivate(ws, "eng", BACK, actor="wangmin", now=T0)
    with ws.store.session() as s:
        rows = s.scalars(
            select(SessionRow).where(SessionRow.person_id == get_person(ws, "eng").id)
        ).all()
        assert rows and all(r.ended_at is not None for r in rows)
    set_password(ws, "eng", AGAIN, current=BACK, now=T0)  # even once eng is whole again
    assert current_session(ws, now=T0) is None
    assert resume_session(ws, web.token, clock=clock) is None


# --- refusals: one line, nothing changed -------------------------------------------------


def test_refusals_are_one_line_and_change_nothing(real: Workspace) -> None:
    ws, path = real, real.path
    assert cli(path, "login", "wangmin", password=OWN["wangmin"]).exit_code == 0
    assert cli(path, "people", "deactivate", "appr2").exit_code == 0
    active, inactive = stored(ws, "eng"), stored(ws, "appr2")

    def unchanged() -> None:
        assert stored(ws, "eng") == active and stored(ws, "appr2") == inactive
        assert [e for e in entries(ws) if e.action == "governance.person.reactivate"] == []

    one_line(cli(path, "people", "reactivate", "nobody", password=BACK), 2, "'nobody'")
    unchanged()
    one_line(cli(path, "people", "reactivate", "eng", password=BACK), 2, "eng is active")
    unchanged()
    # the new password follows the password rule
    one_line(cli(path, "people", "reactivate", "appr2", password="short"), 2, "too short")
    unchanged()
    one_line(cli(path, "people", "reactivate", "appr2", password="appr2"), 2, "at least 10")
    unchanged()
    # nobody reactivates themselves: refused before any decision, and ledgered
    before = ledger_size(ws)
    with pytest.raises(Refused) as exc:
        reactivate(ws, "wangmin", BACK, actor="wangmin")
    assert key(exc) == "gov.own_reactivate"
    assert [(e.action, e.actor) for e in entries(ws)[before:]] == [
        ("governance.person.reactivate.refused", "wangmin")
    ]
    unchanged()
    # only a manager: the data engineer logged in is refused (exit 3)
    assert cli(path, "logout").exit_code == 0
    assert cli(path, "login", "eng", password=OWN["eng"]).exit_code == 0
    one_line(cli(path, "people", "reactivate", "appr2", password=BACK), 3, "refused")
    unchanged()
    assert entries(ws, action="access.refuse")[-1].actor == "eng"
    no_secret_in_ledger(ws, BACK, "short")


def test_a_service_account_is_not_reactivated(real: Workspace) -> None:
    from handover.governance.service import issue_service_token, service_actor

    ws = real
    issued = issue_service_token(ws, "incident-clock", org=SELLER, actor="wangmin", now=T0)
    deactivate(ws, "incident-clock", actor="wangmin", now=T0)
    before = stored(ws, "incident-clock")
    with pytest.raises(BadInput) as exc:
        reactivate(ws, "incident-clock", BACK, actor="wangmin", now=T0)
    assert key(exc) == "gov.service_reactivate"
    assert stored(ws, "incident-clock") == before
    with pytest.raises(Refused):  # its old token stays dead
        service_actor(ws, issued.token, now=T0)


def test_in_a_demo_workspace_the_password_is_not_one_time(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "demo", demo=True)
    try:
        deactivate(ws, "zhaolei", actor="wangmin")
        done = reactivate(ws, "zhaolei", "short1", actor="wangmin")
        assert done.person.active and not done.person.one_time_password
        assert login(ws, "zhaolei", "short1").person.name == "zhaolei"
        ev = entries(ws, action="governance.person.reactivate")[-1]
        assert ev.details["one_time_password"] is False
    finally:
        ws.close()
