"""The authorisation matrix: role × data-touching action × (NDA active/expired, training
current/lapsed, grant approved/pending/self-approved/expired) gives the expected allow or
refuse, with the expected reason.

The CLI cells go through ``handover grants check ACTION RESOURCE``, which calls the same
``authorize`` as the data commands do, as the logged-in person (real login with
HANDOVER_PASSWORD); tests/test_enforcement.py runs the data commands themselves.
Expiry comes from an injected clock (records made "400 days ago"), never from sleeping.

- ``test_matrix_full_factorial``: all 7 roles × 8 actions × 16 conditions (896 cells)
  through the library ``authorize`` on one store, each decision checked in the ledger.
- ``test_matrix_through_cli``: every role × every action with everything in order, and
  every single fault for each role on an action it may do, through the real CLI.
- ``test_matrix_through_cli_postgresql``: a smaller CLI run on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.testing
from sqlalchemy import select

from handover.cli.main import app
from handover.errors import Refused
from handover.flows.workspace import init_workspace
from handover.governance import authorize
from handover.governance.grants import approve_grant, request_grant
from handover.governance.models import GrantApprovalRow, GrantRow, PersonRow
from handover.governance.ndas import add_nda
from handover.governance.people import add_org, add_person, set_roles
from handover.governance.policy import ACTION_ROLES, DATA_ACTIONS, ROLES
from handover.governance.training import LETTERS, get_course, take_course
from handover.governance.vendors import assess_vendor, register_vendor
from handover.ledger import entries
from handover.workspace import Workspace

PASSWORD = "matrix-password-2026"
NDAS = ("active", "expired")
TRAINING = ("current", "lapsed")
GRANTS = ("approved", "pending", "self", "expired")
CONDITIONS = list(itertools.product(NDAS, TRAINING, GRANTS))
BASELINE = ("active", "current", "approved")
SINGLE_FAULTS = [
    ("expired", "current", "approved"),
    ("active", "lapsed", "approved"),
    ("active", "current", "pending"),
    ("active", "current", "self"),
    ("active", "current", "expired"),
]
MANAGER = "wangmin"
SELLER, BUYER = "示例市诚信小额贷款有限公司", "示例普惠金融控股有限公司"
MATRIX_ORG, MATRIX_VENDOR = "矩阵测试顾问", "矩阵测试供应商"


def expected(role: str, action: str, cond: tuple[str, str, str]) -> str:
    """The reason key the policy must give: the first failing check, in order."""
    nda, training, grant = cond
    if role not in ACTION_ROLES[action]:
        return "gov.refuse.role"
    if nda == "expired":
        return "gov.refuse.nda_expired"
    if training == "lapsed":
        return "gov.refuse.training_lapsed"
    return {
        "approved": "gov.allow",
        "pending": "gov.refuse.grant_pending",
        "self": "gov.refuse.grant_approvals",
        "expired": "gov.refuse.grant_expired",
    }[grant]


@dataclass
class Cast:
    """Matrix people: one per condition for the rotating roles, one per condition for
    vendor staff; ``name(role, cond)`` finds who plays a cell."""

    staff: dict[tuple[str, str, str], str]
    vendor: dict[tuple[str, str, str], str]
    current_role: str = "dpo"

    def name(self, role: str, cond: tuple[str, str, str]) -> str:
        return (self.vendor if role == "vendor_staff" else self.staff)[cond]


def _slug(cond: tuple[str, str, str]) -> str:
    return "-".join(c[:3] for c in cond)


def _oracle(ws: Workspace):  # type: ignore[no-untyped-def]
    course = get_course(ws, "pipl-jrt0171")
    right = {
        q.prompt[ws.settings.lang]: q.options[q.answer][ws.settings.lang] for q in course.questions
    }
    return lambda q: LETTERS[q.options.index(right[q.prompt])]


def build_cast(ws: Workspace, conditions: list[tuple[str, str, str]], now: dt.datetime) -> Cast:
    """Create the matrix people and their NDAs, training and grants, through the library
    with an injected clock: lapsed training was taken 400 days ago, the expired NDA ended
    yesterday, the expired grant ended yesterday."""
    from handover.crypto.passwords import hash_password

    phc = hash_password(PASSWORD)
    past = now - dt.timedelta(days=400)
    add_org(ws, MATRIX_ORG, "advisor", actor=MANAGER, now=now)
    register_vendor(ws, MATRIX_VENDOR, services="矩阵测试", actor=MANAGER, now=now)
    assess_vendor(
        ws,
        MATRIX_VENDOR,
        {
            "encryption": "both",
            "access_control": "mfa_least_privilege",
            "incident_response": "plan_tested",
            "certifications": ["iso27001"],
            "sub_processors": "none",
            "data_location": "mainland",
        },
        actor=MANAGER,
        now=now,
    )
    for a in ("mx-appr1", "mx-appr2"):
        add_person(
            ws, a, a, MATRIX_ORG, ["approver"], PASSWORD, actor=MANAGER, now=now, password_hash=phc
        )
    cast = Cast({}, {})
    for cond in conditions:
        for kind, org, role, table in (
            ("mx", MATRIX_ORG, "dpo", cast.staff),
            ("mv", MATRIX_VENDOR, "vendor_staff", cast.vendor),
        ):
            name = f"{kind}-{_slug(cond)}"
            add_person(
                ws, name, name, org, [role], PASSWORD, actor=MANAGER, now=now, password_hash=phc
            )
            table[cond] = name
    doc = ws.path / "matrix-nda.pdf"
    doc.write_bytes(b"%PDF matrix NDA")
    people = {c: [cast.staff[c], cast.vendor[c]] for c in conditions}
    for state in NDAS:
        signers = [n for c in conditions if c[0] == state for n in people[c]]
        if not signers:
            continue
        start = now - dt.timedelta(days=30) if state == "active" else past
        end = now + dt.timedelta(days=365) if state == "active" else now - dt.timedelta(days=1)
        add_nda(
            ws,
            title=f"矩阵 NDA {state}",
            parties=[SELLER, BUYER],
            signatories=signers,
            scope="*",
            purposes=["*"],
            signed_on=start.date(),
            effective_on=start.date(),
            expires_on=end.date(),
            document=doc,
            actor=MANAGER,
            now=now,
        )
    ask = _oracle(ws)
    for i, cond in enumerate(conditions):
        for name in people[cond]:
            when = now if cond[1] == "current" else past
            take_course(ws, "pipl-jrt0171", ask, person=name, seed=i, now=when)
            _grant(ws, name, cond[2], now)
    return cast


def _grant(ws: Workspace, name: str, state: str, now: dt.datetime) -> None:
    if state == "expired":
        start = now - dt.timedelta(days=60)
        g = request_grant(
            ws,
            name,
            scope="*",
            mode="clear",
            purpose="矩阵测试",
            valid_from=start,
            valid_until=now - dt.timedelta(days=1),
            actor=MANAGER,
            now=start,
        )
        for a in ("mx-appr1", "mx-appr2"):
            approve_grant(ws, g.id, actor=a, now=start)
        return
    maker = name if state == "self" else MANAGER
    g = request_grant(
        ws,
        name,
        scope="*",
        mode="clear",
        purpose="矩阵测试",
        valid_until=now + dt.timedelta(days=30),
        actor=maker,
        now=now,
    )
    if state == "self":
        with pytest.raises(Refused):
            approve_grant(ws, g.id, actor=name, now=now)
        # The library refuses self-approval; forge it in the store to prove that
        # authorize does not trust the stored status either.
        with ws.store.session() as s:
            ids = {r.name: r.id for r in s.execute(select(PersonRow.name, PersonRow.id))}
            for approver in (name, "mx-appr1"):
                s.add(
                    GrantApprovalRow(
                        grant_id=g.id, approver_id=ids[approver], decision="approve", decided_at=now
                    )
                )
            row = s.get(GrantRow, g.id)
            assert row is not None
            row.status = "approved"
        return
    approvers = ("mx-appr1", "mx-appr2") if state == "approved" else ("mx-appr1",)
    for a in approvers:
        approve_grant(ws, g.id, actor=a, now=now)


def play(ws: Workspace, cast: Cast, role: str) -> None:
    """Give every rotating matrix person ``role`` (vendor staff keep theirs)."""
    if role == "vendor_staff" or role == cast.current_role:
        return
    for name in cast.staff.values():
        set_roles(ws, name, add=[role], remove=[cast.current_role], actor=MANAGER)
    cast.current_role = role


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def cached_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.testing.CliRunner]:
    # Building the click command tree costs ~0.1 s per invoke; build it once.
    monkeypatch.setattr(typer.testing, "_get_command", functools.cache(typer.testing._get_command))
    yield typer.testing.CliRunner()


@pytest.mark.slow
def test_matrix_full_factorial(tmp_path: Path, now: dt.datetime) -> None:
    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        cast = build_cast(ws, CONDITIONS, now)
        cells = 0
        wrong = []
        for role in ROLES:
            play(ws, cast, role)
            for action, cond in itertools.product(DATA_ACTIONS, CONDITIONS):
                name = cast.name(role, cond)
                d = authorize(ws, name, action, "*", now=now)
                want = expected(role, action, cond)
                cells += 1
                if d.reason_key != want or d.allowed != (want == "gov.allow"):
                    wrong.append((role, action, cond, d.reason_key, want))
        assert cells == 7 * 9 * 16  # roles x data actions (incl. notices.send) x conditions
        assert wrong == []
        # Every decision is in the ledger with actor, action, resource and reason.
        decided = [e for e in entries(ws, action="access") if e.actor.startswith(("mx-", "mv-"))]
        assert len(decided) == cells
        for e in decided:
            assert e.action == ("access.allow" if e.details["allowed"] else "access.refuse")
            assert e.details["resource"] == "*/clear" and e.details["action"] in DATA_ACTIONS
            assert e.details["reason_key"] and e.details["reason_en"]
    finally:
        ws.close()


def _cli_cells(
    runner: typer.testing.CliRunner,
    path: Path,
    ws: Workspace,
    cast: Cast,
    cells: list[tuple[str, str, tuple[str, str, str]]],
) -> list[tuple[str, str, tuple[str, str, str], int, str, str]]:
    wrong = []
    env = {"HANDOVER_WORKSPACE": str(path), "HANDOVER_PASSWORD": PASSWORD}
    logged_in = None
    for role, action, cond in cells:
        play(ws, cast, role)
        name = cast.name(role, cond)
        if logged_in != name:
            res = runner.invoke(app, ["login", name], env=env)
            assert res.exit_code == 0, res.output
            logged_in = name
        res = runner.invoke(app, ["grants", "check", action, "*", "--json"], env=env)
        got = json.loads(res.stdout)["reason_key"]
        want = expected(role, action, cond)
        if got != want or res.exit_code != (0 if want == "gov.allow" else 3):
            wrong.append((role, action, cond, res.exit_code, got, want))
    return wrong


def _cli_plan(roles: tuple[str, ...]) -> list[tuple[str, str, tuple[str, str, str]]]:
    cells = []
    for role in roles:
        cells += [(role, action, BASELINE) for action in DATA_ACTIONS]
        allowed = [a for a in DATA_ACTIONS if role in ACTION_ROLES[a]] or [DATA_ACTIONS[0]]
        cells += [(role, allowed[0], cond) for cond in SINGLE_FAULTS]
    return cells


@pytest.mark.slow
def test_matrix_through_cli(
    tmp_path: Path, now: dt.datetime, cached_cli: typer.testing.CliRunner
) -> None:
    path = tmp_path / "ws"
    ws = init_workspace(path, demo=True)
    try:
        cast = build_cast(ws, [BASELINE, *SINGLE_FAULTS], now)
        plan = _cli_plan(ROLES)
        assert len(plan) == 7 * (9 + 5)  # roles x (data actions incl. notices.send + 5)
        assert _cli_cells(cached_cli, path, ws, cast, plan) == []
        # Nobody logged in: outside a demo this is refused; here the cast stands in,
        # and after logout a matrix person's session is gone.
        res = cached_cli.invoke(app, ["whoami", "--json"], env={"HANDOVER_WORKSPACE": str(path)})
        assert json.loads(res.stdout)["person"]["name"].startswith(("mx-", "mv-"))
    finally:
        ws.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_matrix_through_cli_postgresql(
    tmp_path: Path, now: dt.datetime, pg_url: str, cached_cli: typer.testing.CliRunner
) -> None:
    path = tmp_path / "pg"
    ws = init_workspace(path, demo=True, database_url=pg_url)
    try:
        cast = build_cast(ws, [BASELINE, *SINGLE_FAULTS], now)
        plan = _cli_plan(("data_engineer", "dd_analyst", "approver", "vendor_staff"))
        assert _cli_cells(cached_cli, path, ws, cast, plan) == []
        refused = entries(ws, action="access.refuse")
        assert {e.details["reason_key"] for e in refused} >= {
            "gov.refuse.role",
            "gov.refuse.nda_expired",
            "gov.refuse.training_lapsed",
            "gov.refuse.grant_pending",
            "gov.refuse.grant_approvals",
            "gov.refuse.grant_expired",
        }
    finally:
        ws.close()
