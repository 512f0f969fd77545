"""Enforcement in the library, proven through the real CLI on a real demo workspace.

Every data command (scan, seal, backup, unseal, restore, dd-extract, verify, migrate,
keys create/rotate/destroy, shred) is run by the cast member whose job it is (exit 0)
and by people who lack a role, an NDA in force, training or approvals (exit 3, the
one-line reason names what is missing, nothing written). Every decision is read back
from the ledger as ``access.allow`` / ``access.refuse`` with actor, action, resource and
reason, exactly one per command: the scan inside a seal, the backup inside a migration
and the migration inside an unseal are steps of the outer decision.

Besides the demo cast the template workspace holds three people built through the
governance library: ``sunli`` (data engineer whose ``*``/clear grant has one of two
approvals), ``zhouyu`` (data engineer whose only NDA expired yesterday) and ``wufan``
(data engineer who never passed the course). One seller database (200 customers) and
one template workspace per module; every test works on its own copy.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from handover.cli.main import app
from handover.flows.workspace import init_workspace
from handover.governance.demo import DEMO_CAST
from handover.governance.models import GrantRow, PersonRow
from handover.i18n import t
from handover.ledger import entries
from handover.workspace import Workspace, open_workspace

PASSWORD = "enforce-password-2026"
PASSWORDS = {m.name: m.password for m in DEMO_CAST} | {
    n: PASSWORD for n in ("sunli", "zhouyu", "wufan")
}
SELLER_ORG = "示例市诚信小额贷款有限公司"
LAPSED_ORG = "示例过期顾问事务所"
ALL_TIERS = "C1,C2,C3/clear"
runner = CliRunner()


# --- fixtures ----------------------------------------------------------------------------


def _oracle(ws: Workspace) -> Any:
    from handover.governance.training import LETTERS, get_course

    course = get_course(ws, "pipl-jrt0171")
    lang = ws.settings.lang
    right = {q.prompt[lang]: q.options[q.answer][lang] for q in course.questions}
    return lambda q: LETTERS[q.options.index(right[q.prompt])]


def _extra_people(ws: Workspace) -> None:
    """sunli (grant awaiting its second approval), zhouyu (expired NDA), wufan (untrained)."""
    from handover.governance.grants import approve_grant, request_grant
    from handover.governance.ndas import add_nda
    from handover.governance.people import add_org, add_person
    from handover.governance.training import take_course

    now = dt.datetime.now(dt.UTC)
    today = now.date()
    add_org(ws, LAPSED_ORG, "advisor", actor="wangmin")
    for name, org in (("sunli", SELLER_ORG), ("zhouyu", LAPSED_ORG), ("wufan", SELLER_ORG)):
        add_person(ws, name, name, org, ("data_engineer",), PASSWORD, actor="wangmin")
    doc = ws.path / "governance" / "lapsed-nda.txt"
    doc.write_text("保密协议(已到期)/ NDA (expired)\n", encoding="utf-8")
    add_nda(
        ws,
        title="已到期的顾问保密协议 / Lapsed advisor NDA",
        parties=[LAPSED_ORG, SELLER_ORG],
        signatories=["zhouyu"],
        scope="*",
        signed_on=today - dt.timedelta(days=400),
        effective_on=today - dt.timedelta(days=400),
        expires_on=today - dt.timedelta(days=1),
        document=doc,
        actor="wangmin",
    )
    ask = _oracle(ws)
    for n, name in enumerate(("sunli", "zhouyu")):
        take_course(ws, "pipl-jrt0171", ask, person=name, seed=7 + n)
    until = now + dt.timedelta(days=30)
    for name, approvers in (
        ("sunli", ("zhoujie",)),  # clear on * needs two: stays pending
        ("zhouyu", ("zhoujie", "liqiang")),
        ("wufan", ("zhoujie", "liqiang")),
    ):
        g = request_grant(
            ws,
            name,
            scope="*",
            mode="clear",
            purpose="交接 / handover",
            valid_until=until,
            actor="wangmin",
        )
        for approver in approvers:
            approve_grant(ws, g.id, actor=approver)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One synthesized seller database and one template demo workspace (cast + extra
    people, the seller scanned and sealed into ``packages/transfer``) per module."""
    from handover.flows.seal import seal
    from handover.synth import synthesize

    root = tmp_path_factory.mktemp("enforcement")
    seller = root / "seller.db"
    synthesize(str(seller), customers=200, seed=1)
    template = root / "template"
    ws = init_workspace(template, demo=True)
    try:
        _extra_people(ws)
        # Nobody logged in, demo workspace: the cast's data engineer seals.
        seal(ws, str(seller), ws.settings.packages_dir / "transfer")
    finally:
        ws.close()
    return {"root": root, "seller": seller, "template": template}


@pytest.fixture
def ws_path(base: dict[str, Path], tmp_path: Path) -> Iterator[Path]:
    """This test's own copy of the template workspace."""
    path = tmp_path / "ws"
    shutil.copytree(base["template"], path)
    yield path


# --- helpers -----------------------------------------------------------------------------


#: shred's validator (the demo cast's auditor) authenticates with this password
VALIDATOR_ENV = {"HANDOVER_VALIDATOR_PASSWORD": "liuyang-demo-2026"}


def cli(ws: Path, *args: str) -> Any:
    env = {"HANDOVER_WORKSPACE": str(ws), **VALIDATOR_ENV}
    return runner.invoke(app, ["--lang", "en", *args], env=env)


_SESSIONS: dict[Path, str] = {}


def login(ws: Path, name: str) -> None:
    """``handover login NAME`` with HANDOVER_PASSWORD (skipped when already NAME's session)."""
    if _SESSIONS.get(ws) == name and (ws / ".session").exists():
        return
    res = runner.invoke(
        app,
        ["login", name],
        env={"HANDOVER_WORKSPACE": str(ws), "HANDOVER_PASSWORD": PASSWORDS[name]},
    )
    assert res.exit_code == 0, res.output
    _SESSIONS[ws] = name


def last_seq(ws: Path) -> int:
    w = open_workspace(ws)
    try:
        return max(e.seq for e in entries(w))
    finally:
        w.close()


def events(ws: Path, action: str, after: int = -1) -> list[Any]:
    w = open_workspace(ws)
    try:
        return [e for e in entries(w, action=action) if e.seq > after]
    finally:
        w.close()


def decisions(ws: Path, after: int) -> list[tuple[str, str, str, str]]:
    """(allow|refuse, actor, action, resource) of the access events after ``after``;
    every one carries its reason in the workspace language and in English."""
    out = []
    for e in events(ws, "access", after):
        d = e.details
        assert d["actor"] == e.actor and d["reason"] and d["reason_en"] and d["reason_key"]
        assert e.subject == f"{d['action']} {d['resource']}"
        assert d["allowed"] is (e.action == "access.allow")
        out.append((e.action.split(".")[1], e.actor, d["action"], d["resource"]))
    return out


def run_as(ws: Path, name: str, *args: str) -> tuple[Any, list[tuple[str, str, str, str]], Any]:
    """Log in as ``name``, run the command; its result, its access decisions, the last one."""
    login(ws, name)
    before = last_seq(ws)
    res = cli(ws, *args)
    found = decisions(ws, before)
    last = events(ws, "access", before)
    return res, found, (last[-1].details if last else None)


def refused(
    ws: Path, name: str, action: str, resource: str, needle: str, *args: str
) -> dict[str, Any]:
    """``name`` runs the command: exit 3, one line naming ``needle``, one access.refuse."""
    res, found, detail = run_as(ws, name, *args)
    assert res.exit_code == 3, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], res.output
    assert found == [("refuse", name, action, resource)], found
    # The line is the catalogue's rendering (in the user's language, English under
    # ``cli``'s --lang en) of the key and values the ledger keeps.
    assert detail is not None
    english = t(detail["reason_key"], "en", **detail["params"])
    assert detail["reason_en"] == english and detail["reason"] == english
    assert lines[0] == f"error: {english}", (lines[0], english)
    return detail


def allowed(ws: Path, name: str, action: str, resource: str, *args: str) -> Any:
    """``name`` runs the command: exit 0 and exactly one access.allow for it."""
    res, found, detail = run_as(ws, name, *args)
    assert res.exit_code == 0, res.output
    assert found == [("allow", name, action, resource)], found
    assert detail is not None and detail["grant_id"] is not None and detail["nda_id"] is not None
    return res


def registry(ws: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ws / "keys" / "registry.json").read_text("utf-8"))
    return doc["keys"]


def rows(db: Path, table: str = "cust_info") -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


# --- per command -------------------------------------------------------------------------


def test_scan(ws_path: Path, base: dict[str, Path]) -> None:
    seller = str(base["seller"])
    res = ("scan.evidence", "C1,C2,C3/masked")
    reports = sorted(p.name for p in (ws_path / "reports").iterdir())
    scans = len(events(ws_path, "scan.run"))
    d = refused(ws_path, "zhouyu", *res, "NDA #3", "scan", seller)
    assert d["reason_key"] == "gov.refuse.nda_expired" and "expired" in d["reason_en"]
    d = refused(ws_path, "wufan", *res, "pipl-jrt0171", "scan", seller)
    assert d["reason_key"] == "gov.refuse.training_never"
    refused(ws_path, "huangtao", *res, "vendor_staff", "scan", seller)
    # Nothing was read into the store, no report written.
    assert len(events(ws_path, "scan.run")) == scans
    assert sorted(p.name for p in (ws_path / "reports").iterdir()) == reports
    allowed(ws_path, "zhaolei", *res, "scan", seller)
    assert len(events(ws_path, "scan.run")) == scans + 1


def test_refusal_is_shown_in_the_users_language(ws_path: Path, base: dict[str, Path]) -> None:
    """Under zh-CN the refused person reads the reason in Chinese; the ledger keeps the
    key, the values and the English text of the same reason."""
    login(ws_path, "zhouyu")
    before = last_seq(ws_path)
    res = runner.invoke(
        app,
        ["--lang", "zh-CN", "scan", str(base["seller"])],
        env={"HANDOVER_WORKSPACE": str(ws_path)},
    )
    assert res.exit_code == 3, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    [event] = events(ws_path, "access.refuse", before)
    d = event.details
    assert d["reason_key"] == "gov.refuse.nda_expired"
    shown = t(d["reason_key"], "zh-CN", **d["params"])
    assert lines == [f"错误: {shown}"], res.output
    assert "保密协议 #3" in shown and "已于" in shown and "到期" in shown
    assert d["reason_en"] == t(d["reason_key"], "en", **d["params"])
    assert d["reason_en"].startswith("refused: zhouyu's NDA #3") and "expired on" in d["reason_en"]


def test_seal_and_backup(ws_path: Path, base: dict[str, Path], tmp_path: Path) -> None:
    # A source without an inventory: sealing it scans it first, under seal's decision.
    seller = tmp_path / "seller-copy.db"
    shutil.copy(base["seller"], seller)
    out = tmp_path / "pkg"
    keys = registry(ws_path)
    seals = len(events(ws_path, "package.seal"))
    args = ("seal", str(seller), "--out", str(out))
    refused(ws_path, "chenjing", "seal", ALL_TIERS, "dd_analyst", *args)
    refused(ws_path, "huangtao", "seal", ALL_TIERS, "vendor_staff", *args)
    d = refused(ws_path, "sunli", "seal", ALL_TIERS, "1 of 2 approvals", *args)
    assert d["reason_key"] == "gov.refuse.grant_pending"
    refused(ws_path, "zhouyu", "seal", ALL_TIERS, "expired", *args)
    # Nothing written: no package (nor a partial one), no key, no scan, no seal event.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seller-copy.db", "ws"]
    assert registry(ws_path) == keys
    assert len(events(ws_path, "package.seal")) == seals
    before = last_seq(ws_path)
    allowed(ws_path, "zhaolei", "seal", ALL_TIERS, *args)
    assert (out / "manifest.json").is_file()
    # One decision for the user action: the inner scan and key creation asked for none.
    assert [e.details["action"] for e in events(ws_path, "access", before)] == ["seal"]
    assert len(events(ws_path, "scan.run", before)) == 1
    assert len(events(ws_path, "key.create", before)) >= 2
    # --table names the tables touched.
    allowed(
        ws_path,
        "zhaolei",
        "seal",
        "cust_info/clear",
        *("seal", str(seller), "--out", str(tmp_path / "one"), "--tables", "cust_info"),
    )
    # backup: the same action on the whole source.
    packages = sorted(p.name for p in (ws_path / "packages").iterdir())
    refused(ws_path, "huangtao", "seal", ALL_TIERS, "vendor_staff", "backup", str(seller))
    assert sorted(p.name for p in (ws_path / "packages").iterdir()) == packages
    allowed(ws_path, "zhaolei", "seal", ALL_TIERS, "backup", str(seller), "--name", "b1")
    assert (ws_path / "packages" / "b1" / "manifest.json").is_file()


def test_unseal_and_restore(ws_path: Path, tmp_path: Path) -> None:
    pkg = str(ws_path / "packages" / "transfer")
    t1, t2 = tmp_path / "t1.db", tmp_path / "t2.db"
    refused(ws_path, "chenjing", "unseal", ALL_TIERS, "dd_analyst", "unseal", pkg, "--to", str(t1))
    refused(ws_path, "wufan", "unseal", ALL_TIERS, "pipl-jrt0171", "restore", pkg, "--to", str(t1))
    refused(ws_path, "liuyang", "unseal", ALL_TIERS, "auditor", "restore", pkg, "--to", str(t1))
    assert not t1.exists()
    assert not events(ws_path, "migrate")
    # The vendor's grant names unseal; the migration inside is a step of that decision.
    allowed(ws_path, "huangtao", "unseal", ALL_TIERS, "unseal", pkg, "--to", str(t1))
    assert rows(t1) == 200
    allowed(ws_path, "zhaolei", "unseal", ALL_TIERS, "restore", pkg, "--to", str(t2))
    assert rows(t2) == 200
    assert [e.action for e in events(ws_path, "package")][-2:] == [
        "package.unseal",
        "package.restore",
    ]


def test_dd_extract(ws_path: Path, base: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "dd"
    keys = registry(ws_path)
    args = ("dd-extract", str(base["seller"]), "--out", str(out))
    res = ("dd.extract", "C1,C2,C3/tokenised")
    refused(ws_path, "huangtao", *res, "vendor_staff", *args)
    refused(ws_path, "zhouyu", *res, "expired", *args)
    refused(ws_path, "liuyang", *res, "auditor", *args)
    assert not out.exists() and registry(ws_path) == keys  # no extract, no token key
    allowed(ws_path, "chenjing", *res, *args)
    assert (out / "report" / "rules.json").is_file()


def test_verify(ws_path: Path, base: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    shutil.copy(base["seller"], target)
    args = ("verify", str(base["seller"]), str(target))
    refused(ws_path, "chenjing", "verify", ALL_TIERS, "dd_analyst", *args)
    refused(ws_path, "wufan", "verify", ALL_TIERS, "pipl-jrt0171", *args)
    refused(ws_path, "zhouyu", "verify", ALL_TIERS, "expired", *args)
    assert not events(ws_path, "verify.run")
    allowed(ws_path, "liuyang", "verify", ALL_TIERS, *args)
    allowed(
        ws_path, "liuyang", "verify", "cust_info,hkls/clear", *args, "--tables", "cust_info,hkls"
    )
    assert len(events(ws_path, "verify.run")) == 2


def test_migrate(ws_path: Path, base: dict[str, Path], tmp_path: Path) -> None:
    seller = str(base["seller"])
    target = tmp_path / "buyer.db"
    packages = sorted(p.name for p in (ws_path / "packages").iterdir())
    refused(ws_path, "chenjing", "migrate", ALL_TIERS, "dd_analyst", "migrate", seller, str(target))
    refused(ws_path, "sunli", "migrate", ALL_TIERS, "1 of 2", "migrate", seller, str(target))
    assert not target.exists() and not events(ws_path, "migrate")
    assert sorted(p.name for p in (ws_path / "packages").iterdir()) == packages
    # The vendor may not seal, yet migrates with its backup: the backup is a step of
    # the migration's decision, not a second one.
    before = last_seq(ws_path)
    allowed(ws_path, "huangtao", "migrate", ALL_TIERS, "migrate", seller, str(target))
    assert rows(target) == 200
    backups = events(ws_path, "package.seal", before)
    assert [e.purpose for e in backups] == ["backup"] and backups[0].actor == "huangtao"
    # Without a backup only the named tables are touched.
    allowed(
        ws_path,
        "zhaolei",
        "migrate",
        "org_branch,qy_info/clear",
        *("migrate", seller, str(tmp_path / "two.db"), "--tables", "org_branch,qy_info"),
        *("--no-backup", "--reason", "test"),
    )


def test_keys(ws_path: Path) -> None:
    keys = registry(ws_path)
    create = ("keys", "create", "--purpose", "transfer", "--tier", "C2", "--json")
    refused(ws_path, "liuyang", "key.manage", "C2/clear", "auditor", *create)
    refused(ws_path, "zhouyu", "key.manage", "C2/clear", "expired", *create)
    assert registry(ws_path) == keys
    res = allowed(ws_path, "zhaolei", "key.manage", "C2/clear", *create)
    key_id = json.loads(res.stdout)["key_id"]
    assert events(ws_path, "key.create")[-1].actor == "zhaolei"
    keys = registry(ws_path)
    refused(ws_path, "chenjing", "key.manage", "C2/clear", "dd_analyst", "keys", "rotate", key_id)
    assert registry(ws_path) == keys
    allowed(ws_path, "zhaolei", "key.manage", "C2/clear", "keys", "rotate", key_id)
    assert len(registry(ws_path)[key_id]["versions"]) == 2
    destroy = ("keys", "destroy", key_id, "--reason", "test", "--yes")
    refused(ws_path, "wufan", "key.manage", "C2/clear", "pipl-jrt0171", *destroy)
    assert registry(ws_path)[key_id]["state"] == "active"
    allowed(ws_path, "zhaolei", "key.manage", "C2/clear", *destroy)
    assert registry(ws_path)[key_id]["state"] == "destroyed"
    # A key without a tier may protect any tier.
    allowed(ws_path, "zhaolei", "key.manage", ALL_TIERS, "keys", "create", "--purpose", "misc")


def test_shred(ws_path: Path, base: dict[str, Path], tmp_path: Path) -> None:
    seller = tmp_path / "seller-copy.db"
    shutil.copy(base["seller"], seller)
    args = ("shred", "--yes", str(seller), "--media", "source", "--force", "--reason", "test")
    refused(ws_path, "chenjing", "shred", "*/clear", "dd_analyst", *args)
    refused(ws_path, "zhouyu", "shred", "*/clear", "expired", *args)
    # Naming somebody else as the executor borrows nobody's grant.
    login(ws_path, "chenjing")
    before = last_seq(ws_path)
    res = cli(ws_path, *args, "--executed-by", "zhaolei")
    assert res.exit_code == 3 and "logged-in person (chenjing)" in res.output
    assert not events(ws_path, "access.allow", before)
    assert rows(seller) == 200 and not events(ws_path, "erase")
    allowed(ws_path, "zhaolei", "shred", "*/clear", *args)
    assert events(ws_path, "erase.certificate")[0].actor == "zhaolei"
    con = sqlite3.connect(seller)
    try:
        assert not con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        con.close()


# --- clear access needs two approvals, whatever the command ------------------------------


def test_clear_access_without_two_approvals_is_impossible_by_any_command(
    ws_path: Path, base: dict[str, Path], tmp_path: Path
) -> None:
    seller, pkg = str(base["seller"]), str(ws_path / "packages" / "transfer")
    key_id = next(iter(registry(ws_path)))
    copy = tmp_path / "copy.db"
    shutil.copy(base["seller"], copy)
    out, target = tmp_path / "out", tmp_path / "t.db"
    commands: list[tuple[str, str, tuple[str, ...]]] = [
        ("scan.evidence", "C1,C2,C3/masked", ("scan", seller)),
        ("seal", ALL_TIERS, ("seal", seller, "--out", str(out))),
        ("seal", "cust_info/clear", ("seal", seller, "--out", str(out), "--tables", "cust_info")),
        ("seal", ALL_TIERS, ("backup", seller)),
        ("unseal", ALL_TIERS, ("unseal", pkg, "--to", str(target))),
        ("unseal", ALL_TIERS, ("restore", pkg, "--to", str(target))),
        ("migrate", ALL_TIERS, ("migrate", seller, str(target))),
        ("verify", ALL_TIERS, ("verify", seller, str(copy))),
        ("dd.extract", "C1,C2,C3/tokenised", ("dd-extract", seller, "--out", str(out))),
        ("key.manage", "C3/clear", ("keys", "create", "--purpose", "x", "--tier", "C3")),
        ("key.manage", ALL_TIERS, ("keys", "rotate", key_id)),
        ("key.manage", ALL_TIERS, ("keys", "destroy", key_id, "--reason", "x", "--yes")),
        (
            "shred",
            "*/clear",
            ("shred", "--yes", str(copy), "--media", "source", "--force", "--reason", "x"),
        ),
    ]
    keys, packages = registry(ws_path), sorted((ws_path / "packages").iterdir())
    for action, resource, args in commands:
        d = refused(ws_path, "sunli", action, resource, "1 of 2 approvals", *args)
        assert d["reason_key"] == "gov.refuse.grant_pending" and d["grant_id"] is not None
    # A status edited in the store opens nothing: approvals are recounted every time.
    # Nor does a valid one-approver clear grant restricted to C1/C2.
    from handover.governance.grants import approve_grant, request_grant

    w = open_workspace(ws_path)
    try:
        with w.store.session() as s:
            sunli = s.scalars(select(PersonRow).where(PersonRow.name == "sunli")).one()
            grant = s.scalars(select(GrantRow).where(GrantRow.grantee_id == sunli.id)).one()
            grant.status, grant.approvals_needed = "approved", 1
        tiers = request_grant(
            w,
            "sunli",
            scope="C1,C2",
            mode="clear",
            purpose="交接 / handover",
            valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            actor="wangmin",
        )
        assert approve_grant(w, tiers.id, actor="zhoujie").state == "active"
    finally:
        w.close()
    for action, resource, args in [*commands[1:8], commands[-1]]:
        d = refused(ws_path, "sunli", action, resource, "needs 2 distinct approvers", *args)
        assert d["reason_key"] == "gov.refuse.grant_approvals"
    assert not out.exists() and not target.exists() and rows(copy) == 200
    assert registry(ws_path) == keys
    assert sorted((ws_path / "packages").iterdir()) == packages
    assert not events(ws_path, "migrate") and not events(ws_path, "erase")
