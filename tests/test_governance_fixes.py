"""Review findings on governance, each proved on a real store with an injected clock:
one-time passwords set by a manager, local (China) dates, sessions ended by a new
password, throttled CLI logins and the password rule, NDAs signed in the future, bad
input as one-line errors, the last manager, and refused changes of one's own roles."""

from __future__ import annotations

import datetime as dt
import json
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
from handover.governance.grants import approve_grant, list_grants, request_grant
from handover.governance.models import PersonRow, SessionRow
from handover.governance.ndas import add_nda, nda_status
from handover.governance.people import (
    add_person,
    deactivate,
    get_person,
    set_password,
    set_roles,
)
from handover.governance.session import (
    authenticate,
    current_session,
    login,
    session_path,
)
from handover.governance.training import take_course
from handover.governance.vendors import assess_vendor, register_vendor
from handover.ledger import entries, ledger_size
from handover.workspace import DEMO_TRANSFER, Workspace, open_workspace

runner = CliRunner()
SELLER = DEMO_TRANSFER["seller"]["name"]
BUYER = DEMO_TRANSFER["buyer"]["name"]
CN = dt.timezone(dt.timedelta(hours=8))
#: 12:00 in Beijing on 6 Dec 2026
T0 = dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC)
OWN = {
    "wangmin": "Wangmin-own-2026",
    "appr1": "appr1-own-choice-7",
    "appr2": "appr2-own-choice-7",
    "eng": "eng-own-choice-7",
    "vs": "vs-own-choice-7",
}
VENDOR = "测试数据迁移服务有限公司"
GOOD_ANSWERS = {
    "encryption": "both",
    "access_control": "mfa",
    "incident_response": "plan",
    "certifications": ["iso27001"],
    "sub_processors": "disclosed_bound",
    "data_location": "mainland",
}


def one_time(name: str) -> str:
    """The password the DPO chose for ``name`` when adding them."""
    return f"{name}-set-by-dpo-1"


def key(exc: pytest.ExceptionInfo[HandoverError]) -> str:
    assert exc.value.message is not None
    return exc.value.message.key


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace outside a demo: the DPO (who chose their own password) added two
    approvers, an engineer and a vendor's staff member, each with a one-time password."""
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER, demo=False)
    try:
        add_person(ws, "wangmin", "王敏", SELLER, ["dpo", "compliance_officer"], OWN["wangmin"])
        for name, roles in (
            ("appr1", ["approver"]),
            ("appr2", ["approver"]),
            ("eng", ["data_engineer"]),
        ):
            add_person(ws, name, name, SELLER, roles, one_time(name), actor="wangmin", now=T0)
        yield ws
    finally:
        ws.close()


def own(ws: Workspace, *names: str, now: dt.datetime = T0) -> None:
    """Each of ``names`` sets their own password with the one-time one."""
    for name in names:
        set_password(ws, name, OWN[name], current=one_time(name), now=now)


def bind_and_train(ws: Workspace, name: str, *, expires: dt.date) -> None:
    """An NDA of seller and buyer (signed 1 Nov 2026, expiring ``expires``) and a pass of
    the required course at T0."""
    doc = ws.path / f"nda-{name}.txt"
    doc.write_text("保密协议 / NDA", encoding="utf-8")
    add_nda(
        ws,
        title=f"NDA {name}",
        parties=[SELLER, BUYER],
        scope="*",
        signed_on=dt.date(2026, 11, 1),
        effective_on=dt.date(2026, 11, 1),
        expires_on=expires,
        document=doc,
        actor="wangmin",
        now=T0,
    )
    take_course(ws, "pipl-jrt0171", _oracle(ws), person=name, seed=1, now=T0)


def clear_grant(ws: Workspace, grantee: str, *approvers: str) -> int:
    g = request_grant(
        ws,
        grantee,
        scope="*",
        mode="clear",
        purpose="交接 / handover",
        valid_until=T0 + dt.timedelta(days=300),
        actor="wangmin",
        now=T0,
    )
    for a in approvers:
        approve_grant(ws, g.id, actor=a, now=T0)
    return g.id


def cli(ws_path: Path, *args: str, password: str | None = None, input: str | None = None) -> Any:
    env = {"HANDOVER_WORKSPACE": str(ws_path)}
    if password is not None:
        env["HANDOVER_PASSWORD"] = password
    return runner.invoke(app, ["--lang", "en", *args], env=env, input=input)


def one_line(res: Any, code: int, *names: str) -> None:
    assert res.exit_code == code, res.output
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1, res.output
    assert "Traceback" not in res.output
    for n in names:
        assert n in lines[0], (n, res.output)


# --- 1. a password someone else set is a one-time password ------------------------------


def test_one_time_passwords_stop_a_manager_acting_as_both_approvers(real: Workspace) -> None:
    ws = real
    appr1 = get_person(ws, "appr1")
    assert appr1.one_time_password and appr1.password_set_by == "wangmin"
    assert not get_person(ws, "wangmin").one_time_password  # the first person chose theirs
    gid = clear_grant(ws, "eng")
    # The DPO knows both approvers' passwords: as them, nothing counts.
    for a in ("appr1", "appr2"):
        with pytest.raises(Refused) as exc:
            approve_grant(ws, gid, actor=a, now=T0)
        assert key(exc) == "gov.approve_one_time" and "set by wangmin" in str(exc.value)
    refused = entries(ws, action="governance.grant.approve.refused")
    assert [(e.actor, e.details["reason_key"]) for e in refused] == [
        ("appr1", "gov.approve_one_time"),
        ("appr2", "gov.approve_one_time"),
    ]
    d = authorize(ws, "appr1", "pia.approve", "*", now=T0)
    assert not d.allowed and d.reason_key == "gov.refuse.password_one_time"
    assert entries(ws, action="access.refuse")[-1].details["reason_key"] == d.reason_key
    with pytest.raises(BadInput, match="handover people password appr1"):
        login(ws, "appr1", one_time("appr1"), now=T0)
    assert not session_path(ws).exists()
    assert entries(ws, action="governance.login.refused")[-1].details["set_by"] == "wangmin"

    # Each sets their own with the one-time one; then approvals count.
    own(ws, "appr1", "appr2", "eng")
    appr1 = get_person(ws, "appr1")
    assert not appr1.one_time_password and appr1.password_set_by == "appr1"
    for a in ("appr1", "appr2"):
        approve_grant(ws, gid, actor=a, now=T0)
    bind_and_train(ws, "eng", expires=dt.date(2027, 12, 31))
    assert authorize(ws, "eng", "seal", "*/clear", now=T0).allowed

    # A manager's reset makes appr2's password one-time again: their approval stops counting.
    set_password(ws, "appr2", "appr2-reset-by-dpo", actor="wangmin", now=T0)
    d = authorize(ws, "eng", "seal", "*/clear", now=T0)
    assert d.reason_key == "gov.refuse.grant_approvals" and d.params["have"] == 1
    reset = entries(ws, action="governance.person.password")[-1]
    assert reset.actor == "wangmin" and reset.details["one_time_password"] is True
    assert reset.details["set_by"] == "wangmin"
    bodies = b"".join(e.body for e in entries(ws))
    for secret in ("appr2-reset-by-dpo", OWN["appr1"], one_time("appr1")):
        assert secret.encode() not in bodies


def test_own_password_needs_the_current_one_and_differs(real: Workspace) -> None:
    ws = real
    before = ledger_size(ws)
    with pytest.raises(BadInput) as exc:  # not the one-time password: bad credentials
        set_password(ws, "eng", OWN["eng"], current="not-the-one-9", now=T0)
    assert key(exc) == "gov.bad_credentials"
    with pytest.raises(BadInput) as exc:
        set_password(ws, "eng", one_time("eng"), current=one_time("eng"), now=T0)
    assert key(exc) == "gov.password_same"
    with pytest.raises(BadInput) as exc:  # one's own, without the current password
        set_password(ws, "wangmin", "Another-own-2026", actor="wangmin", now=T0)
    assert key(exc) == "gov.password_own_current"
    assert [e.action for e in entries(ws)[before:]] == ["governance.login.refused"]
    assert get_person(ws, "eng").one_time_password


def test_cli_own_password_and_console_login_with_a_one_time_password(real: Workspace) -> None:
    from handover.web.sessions import start_session

    ws = real
    clock = lambda: T0  # noqa: E731
    with pytest.raises(Refused) as exc:  # the API's login: it points to the console's page
        start_session(ws, "eng", one_time("eng"), "10.0.0.9", clock=clock)
    assert key(exc) == "web.login_one_time" and "handover people password eng" in str(exc.value)
    assert "/account/password" in str(exc.value)
    assert entries(ws, action="web.login.refused")[-1].details["set_by"] == "wangmin"
    path = ws.path
    res = cli(path, "login", "eng", password=one_time("eng"))
    one_line(res, 2, "set by wangmin", "handover people password eng")
    # Nobody logged in here: `people password eng` asks eng's current (one-time) password.
    res = cli(path, "people", "password", "eng", password=OWN["eng"], input=one_time("eng") + "\n")
    assert res.exit_code == 0, res.output
    assert "eng's password changed" in res.output
    assert cli(path, "login", "eng", password=OWN["eng"]).exit_code == 0
    assert start_session(ws, "eng", OWN["eng"], "10.0.0.9", clock=clock).person.name == "eng"
    # The DPO logged in resets somebody else's: a one-time password, said so.
    assert cli(path, "logout").exit_code == 0
    assert cli(path, "login", "wangmin", password=OWN["wangmin"]).exit_code == 0
    res = cli(path, "people", "password", "eng", password="eng-reset-by-dpo-2")
    assert res.exit_code == 0 and "one-time password" in res.output, res.output
    assert get_person(ws, "eng").one_time_password


def test_demo_workspaces_keep_their_public_passwords(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "demo", demo=True)
    try:
        assert not any(get_person(ws, n).one_time_password for n in ("zhoujie", "zhaolei"))
        assert get_person(ws, "zhoujie").password_set_by == "wangmin"
        set_password(ws, "zhaolei", "short1", actor="wangmin")
        assert not get_person(ws, "zhaolei").one_time_password
        assert login(ws, "zhaolei", "short1").person.name == "zhaolei"
    finally:
        ws.close()


# --- 2. dates are China dates ------------------------------------------------------------


def test_nda_expiry_and_vendor_reassessment_use_the_local_date(real: Workspace) -> None:
    ws = real
    own(ws, "appr1", "appr2", "eng")
    bind_and_train(ws, "eng", expires=dt.date(2026, 12, 31))
    clear_grant(ws, "eng", "appr1", "appr2")
    for local, allowed in (
        (dt.datetime(2026, 12, 31, 23, 0, tzinfo=CN), True),
        (dt.datetime(2027, 1, 1, 0, 0, tzinfo=CN), False),
        (dt.datetime(2027, 1, 1, 7, 59, tzinfo=CN), False),  # still 31 Dec in UTC
    ):
        d = authorize(ws, "eng", "seal", "*/clear", now=local)
        assert d.allowed is allowed, (local, d.reason_en)
        if not allowed:
            assert d.reason_key == "gov.refuse.nda_expired"

    # Assessed at 22:30 on 6 Dec in Beijing (14:30 UTC): reassess 180 days later, 4 Jun.
    register_vendor(ws, VENDOR, services="迁移", actor="wangmin", now=T0)
    add_person(ws, "vs", "vs", VENDOR, ["vendor_staff"], one_time("vs"), actor="wangmin", now=T0)
    own(ws, "vs")
    vendor, _ = assess_vendor(
        ws,
        VENDOR,
        GOOD_ANSWERS,
        actor="wangmin",
        now=dt.datetime(2026, 12, 6, 14, 30, tzinfo=dt.UTC),
    )
    assert vendor.latest is not None and vendor.latest.reassess_on == dt.date(2027, 6, 4)
    doc = ws.path / "dpa.txt"
    doc.write_text("DPA", encoding="utf-8")
    add_nda(
        ws,
        title="DPA",
        parties=[SELLER, VENDOR],
        scope="*",
        signed_on=dt.date(2026, 11, 1),
        effective_on=dt.date(2026, 11, 1),
        expires_on=dt.date(2027, 12, 31),
        document=doc,
        actor="wangmin",
        now=T0,
    )
    take_course(ws, "pipl-jrt0171", _oracle(ws), person="vs", seed=2, now=T0)
    clear_grant(ws, "vs", "appr1", "appr2")
    ok = authorize(ws, "vs", "migrate", "*/clear", now=dt.datetime(2027, 6, 4, 23, 0, tzinfo=CN))
    assert ok.allowed, ok.reason_en
    late = authorize(ws, "vs", "migrate", "*/clear", now=dt.datetime(2027, 6, 5, 7, 0, tzinfo=CN))
    assert late.reason_key == "gov.refuse.vendor_assessment"


def test_grant_start_is_local_midnight_and_times_show_their_offset(real: Workspace) -> None:
    from handover.governance.grants import grant_window

    ws = real
    begin, end = grant_window(ws, 30, dt.date(2027, 1, 1))
    assert begin == dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2027, 1, 30, 16, 0, tzinfo=dt.UTC)
    own(ws, "eng")
    path = ws.path
    res = cli(path, "login", "wangmin", password=OWN["wangmin"])
    assert res.exit_code == 0 and "+08:00" in res.output, res.output
    assert "+08:00" in cli(path, "whoami").output
    res = cli(
        path,
        "grants",
        "request",
        "--for",
        "eng",
        "--scope",
        "C1",
        "--mode",
        "masked",
        "--purpose",
        "交接",
        "--start",
        "2027-01-01",
        "--json",
    )
    assert res.exit_code == 0, res.output
    g = json.loads(res.stdout)
    assert g["valid_from"] == "2026-12-31T16:00:00+00:00"
    res = cli(path, "grants", "list")
    assert "→ 2027-01-31 00:00+08:00" in res.output, res.output


# --- 3. a new password ends every session ---------------------------------------------------


def test_a_new_password_ends_cli_and_console_sessions(real: Workspace) -> None:
    from handover.web.models import WebSessionRow
    from handover.web.sessions import resume_session, start_session

    ws = real
    own(ws, "eng")
    clock = lambda: T0 + dt.timedelta(minutes=5)  # noqa: E731
    login(ws, "eng", OWN["eng"], now=T0 + dt.timedelta(minutes=5))
    web = start_session(ws, "eng", OWN["eng"], "10.0.0.1", clock=clock)
    set_password(ws, "eng", "eng-reset-by-dpo-1", actor="wangmin", now=T0 + dt.timedelta(minutes=6))
    assert current_session(ws, now=T0 + dt.timedelta(minutes=7)) is None
    assert resume_session(ws, web.token, clock=clock) is None
    with ws.store.session() as s:
        assert all(r.ended_at is not None for r in s.scalars(select(SessionRow)))
        assert [r.ended_why for r in s.scalars(select(WebSessionRow))] == ["password"]
    assert entries(ws, action="governance.person.password")[-1].details["cli_sessions_ended"] == 1


# --- 4. CLI logins are throttled; the password rule ----------------------------------------


def test_cli_logins_and_validators_are_throttled_like_the_console(real: Workspace) -> None:
    from handover.web.sessions import start_session

    ws = real
    own(ws, "eng", "appr1")
    for i in range(5):
        with pytest.raises(BadInput):
            login(ws, "eng", f"guess-{i}-x", now=T0 + dt.timedelta(minutes=1))
    with pytest.raises(Refused) as exc:  # right password, but not checked now
        login(ws, "eng", OWN["eng"], now=T0 + dt.timedelta(minutes=2))
    assert key(exc) == "gov.login_throttled"
    assert not session_path(ws).exists()
    throttled = entries(ws, action="governance.login.throttled")
    assert len(throttled) == 1 and throttled[0].details["by_name"] == 5
    with pytest.raises(Refused):  # the validator's password (shred) too
        authenticate(ws, "eng", OWN["eng"], purpose="shred", now=T0 + dt.timedelta(minutes=2))
    with pytest.raises(Refused) as exc:  # and the console: one count per account
        start_session(ws, "eng", OWN["eng"], "10.0.0.2", clock=lambda: T0 + dt.timedelta(minutes=2))
    assert key(exc) == "web.throttled"
    with pytest.raises(Refused):  # and a password change, which checks the current one
        set_password(ws, "eng", "eng-next-choice-8", current=OWN["eng"], now=T0)
    # Fifteen minutes after the failures the account may try again.
    assert login(ws, "eng", OWN["eng"], now=T0 + dt.timedelta(minutes=17)).person.name == "eng"
    # Guesses sent to the console from elsewhere throttle the console's logins of that
    # name, not the person's own CLI or validator password typed at this machine: else
    # five anonymous requests every quarter hour would keep anyone out of every path.
    later = T0 + dt.timedelta(minutes=20)
    for i in range(5):
        with pytest.raises(Refused):
            start_session(ws, "appr1", f"no-{i}-xyz", f"10.0.0.{i + 3}", clock=lambda: later)
    with pytest.raises(Refused) as exc:
        start_session(ws, "appr1", OWN["appr1"], "10.0.0.99", clock=lambda: later)
    assert key(exc) == "web.throttled"
    assert authenticate(ws, "appr1", OWN["appr1"], purpose="shred", now=later)[0].name == "appr1"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("newbie-person", "gov.password_is_name"),
        ("NEWBIE-PERSON", "gov.password_is_name"),
        ("xxxxxxxxxxxx", "gov.password_repeated"),
        ("abcdefghijkl", "gov.password_sequence"),
        ("zyxwvutsrqp", "gov.password_sequence"),
        ("ABCDefghijk", "gov.password_sequence"),
        ("onlylowercaseletters", "gov.password_kinds"),
        ("20261206202612", "gov.password_kinds"),
        ("short-1", "gov.password_short"),
    ],
)
def test_password_rule_outside_a_demo(real: Workspace, password: str, why: str) -> None:
    before = ledger_size(real)
    with pytest.raises(BadInput) as exc:
        add_person(real, "newbie-person", "x", SELLER, ["auditor"], password, actor="wangmin")
    assert key(exc) == why and password not in str(exc.value)
    assert ledger_size(real) == before
    with real.store.session() as s:
        assert s.scalars(select(PersonRow).where(PersonRow.name == "newbie-person")).first() is None


def test_password_rule_accepts_two_kinds(real: Workspace) -> None:
    for n, pw in enumerate(
        ("long-enough-pw", "Tigerlilies", "密码很长很长很长很长1", "gk48vm2qzt")
    ):
        add_person(real, f"ok{n}", "x", SELLER, ["auditor"], pw, actor="wangmin")


# --- 5. an NDA signed in the future is pending ------------------------------------------


def test_nda_signed_in_the_future_is_pending_and_signed_after_expiry_is_refused(
    real: Workspace,
) -> None:
    ws = real
    today = dt.date(2026, 12, 6)
    assert (
        nda_status(today + dt.timedelta(days=5), today, today + dt.timedelta(days=90), 0, today)
        == "pending"
    )
    assert nda_status(today, today, today + dt.timedelta(days=90), 0, today) == "active"
    doc = ws.path / "late.txt"
    doc.write_text("NDA", encoding="utf-8")
    before = ledger_size(ws)
    with pytest.raises(BadInput) as exc:
        add_nda(
            ws,
            title="signed after it ended",
            parties=[SELLER, BUYER],
            scope="*",
            signed_on=dt.date(2027, 6, 1),
            effective_on=dt.date(2026, 11, 1),
            expires_on=dt.date(2027, 3, 1),
            document=doc,
            actor="wangmin",
            now=T0,
        )
    assert key(exc) == "gov.nda_signed_after" and ledger_size(ws) == before
    own(ws, "appr1", "appr2", "eng")
    add_nda(
        ws,
        title="signed next week",
        parties=[SELLER, BUYER],
        scope="*",
        signed_on=dt.date(2026, 12, 13),
        effective_on=dt.date(2026, 11, 1),
        expires_on=dt.date(2027, 12, 31),
        document=doc,
        actor="wangmin",
        now=T0,
    )
    take_course(ws, "pipl-jrt0171", _oracle(ws), person="eng", seed=1, now=T0)
    clear_grant(ws, "eng", "appr1", "appr2")
    d = authorize(ws, "eng", "seal", "*/clear", now=T0)
    assert d.reason_key == "gov.refuse.nda_pending" and d.params["date"] == "2026-12-13"
    assert authorize(ws, "eng", "seal", "*/clear", now=T0 + dt.timedelta(days=7)).allowed


# --- 6. bad input is one line naming the field --------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    init_workspace(tmp_path / "demo", demo=True).close()
    return tmp_path / "demo"


def test_bad_input_is_one_line_naming_the_field(demo: Path, tmp_path: Path) -> None:
    huge = "99999999999999999999"
    doc = tmp_path / "doc.txt"
    doc.write_text("x", encoding="utf-8")
    answers = tmp_path / "answers.json"
    request = ["grants", "request", "--for", "zhaolei", "--scope", "*", "--mode", "clear"]
    request += ["--purpose", "x"]
    cases: list[tuple[list[str], tuple[str, ...]]] = [
        ([*request, "--days", "100000000"], ("--days", "100000000")),
        ([*request, "--days", "0"], ("--days",)),
        ([*request, "--start", "9999-12-31"], ("--start", "9999-12-31")),
        (["status", "--days", "100000000"], ("--days",)),
        (["status", "--days", "-3"], ("--days", "-3")),
        (["grants", "approve", huge], (huge,)),
        (["grants", "revoke", huge], (huge,)),
        (["nda", "sign", huge, "--document", str(doc), "--signed", "2026-12-01"], (huge,)),
        (
            [
                "nda",
                "breach",
                huge,
                "--person",
                "zhaolei",
                "--description",
                "d",
                "--follow-up",
                "f",
            ],
            (huge,),
        ),
        (["vendors", "add", "新供应商", "--services", "s", "--agreement", huge], (huge,)),
        (["grants", "list", "--state", "actve"], ("--state", "actve", "active")),
        (
            ["vendors", "assess", "示例数据迁移服务有限公司", "--answers", str(answers)],
            ("encryption", answers.name),  # the file too (was "answers")
        ),
    ]
    for bad in ({"encryption": 5}, {"encryption": {"a": 1}}, {"encryption": ["both"]}):
        answers.write_text(json.dumps({**GOOD_ANSWERS, **bad}), encoding="utf-8")
        res = cli(demo, *cases[-1][0])
        one_line(res, 2, *cases[-1][1])
    w = open_workspace(demo)
    try:
        before = ledger_size(w)
    finally:
        w.close()
    for args, names in cases[:-1]:
        one_line(cli(demo, *args), 2, *names)
    w = open_workspace(demo)
    try:
        assert ledger_size(w) == before  # nothing decided, nothing recorded
        assert list_grants(w, state="pending") == []
    finally:
        w.close()


# --- 7. and 8. the last manager; one's own roles -------------------------------------------


def test_nobody_deactivates_themselves_and_the_refusal_is_ledgered(real: Workspace) -> None:
    ws = real
    before = ledger_size(ws)
    with pytest.raises(Refused) as exc:
        deactivate(ws, "wangmin", actor="wangmin")
    assert key(exc) == "gov.own_deactivate"
    assert get_person(ws, "wangmin").active
    new = entries(ws)[before:]  # the refusal, and no "allowed" before it
    assert [(e.action, e.actor) for e in new] == [
        ("governance.person.deactivate.refused", "wangmin")
    ]
    assert new[0].details["reason_key"] == "gov.own_deactivate"


def test_the_last_active_manager_stays(real: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import handover.governance.people as people

    ws = real
    add_person(ws, "chen", "陈", SELLER, ["compliance_officer"], one_time("chen"), actor="wangmin")
    set_password(ws, "chen", "chen-own-choice-7", current=one_time("chen"))
    decide = people._manager
    raced: list[str] = []

    def meanwhile(ws_: Workspace, actor: str | None, now: dt.datetime | None) -> str:
        who = decide(ws_, actor, now)
        if not raced:  # while wangmin is allowed, chen deactivates wangmin
            raced.append(who)
            deactivate(ws_, "wangmin", actor="chen")
        return who

    monkeypatch.setattr(people, "_manager", meanwhile)
    with pytest.raises(Refused) as exc:
        deactivate(ws, "chen", actor="wangmin")
    assert key(exc) == "gov.last_manager"
    assert get_person(ws, "chen").active and not get_person(ws, "wangmin").active
    ev = entries(ws, action="governance.person.deactivate.refused")
    assert [e.details["reason_key"] for e in ev] == ["gov.last_manager"]


def test_changing_ones_own_roles_is_a_ledgered_refusal(real: Workspace) -> None:
    ws = real
    before = ledger_size(ws)
    with pytest.raises(Refused) as exc:
        set_roles(ws, "wangmin", add=["approver"], actor="wangmin")
    assert key(exc) == "gov.own_roles"
    new = entries(ws)[before:]
    assert [(e.action, e.actor) for e in new] == [("governance.person.roles.refused", "wangmin")]
    assert new[0].details["reason_key"] == "gov.own_roles"
    assert "approver" not in get_person(ws, "wangmin").roles
