"""Defects found by review in the checklist and the transparency report, each shown on a
real workspace (scanned 150-customer seller database, real seal, migrate, unseal,
verify and PIA flows; clock injected where a flow takes one):

- the transparency report says whether the impact assessment was approved before or
  after data first moved, as the checklist's ``pia_before_transfer`` does;
- ``migration_verified`` counts only a verify of the migration's own source and target;
- a person's attestation counts for ``cross_border`` once a PIA says data goes abroad.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from handover.flows import pia
from handover.flows.workspace import init_workspace
from handover.i18n import t
from handover.ledger import LedgerEntry, entries
from handover.pia.checklist import Result
from handover.reports.dossier import when
from handover.workspace import Workspace

T0 = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
MANAGER, SIGNER = "wangmin", "liqiang"  # demo cast: DPO of the seller, DPO of the buyer


def _item(results: list[Result], item: str) -> Result:
    return next(r for r in results if r.item.id == item)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo workspace with a scanned 150-customer seller database, built once."""
    from handover.flows.scan import run_scan
    from handover.synth import synthesize

    root = tmp_path_factory.mktemp("reports-fixes")
    ws = init_workspace(root / "ws", demo=True)
    try:
        synthesize(str(root / "seller.db"), customers=150, seed=5)
        run_scan(ws, root / "seller.db", out_dir=root / "scan")
    finally:
        ws.close()
    return root


@pytest.fixture
def lib(template: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh copy of the template workspace and its seller database for one test."""
    from handover.workspace import open_workspace

    shutil.copytree(template / "ws", tmp_path / "ws")
    shutil.copyfile(template / "seller.db", tmp_path / "seller.db")
    ws = open_workspace(tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()


def _approve(ws: Workspace, tmp_path: Path, edits: str = "") -> LedgerEntry:
    """An assessment drafted, given its opinion and submitted by the seller's DPO and
    approved by the buyer's; returns the ``pia.approve`` entry."""
    a = pia.new_assessment(ws, actor=MANAGER, now=T0)
    path = tmp_path / "edits.toml"
    path.write_text(f'signatory = "{SIGNER}"\n{edits}', encoding="utf-8")
    pia.edit(ws, a.id, path, actor=MANAGER, now=T0)
    pia.opinion(ws, a.id, "同意 / agreed", actor=MANAGER, now=T0)
    pia.submit(ws, a.id, actor=MANAGER, now=T0)
    pia.approve(ws, a.id, actor=SIGNER, now=T0)
    return entries(ws, action="pia.approve")[-1]


# --- 1. the transparency report tells the PIA's order from the ledger ----------------------


def _pia_sentences(folder: Path) -> dict[str, str]:
    return {
        lang: (folder / f"transparency.{lang}.html").read_text(encoding="utf-8")
        for lang in ("zh-CN", "en")
    }


def test_transparency_says_the_pia_came_after_data_moved_when_it_did(
    lib: Workspace, tmp_path: Path
) -> None:
    from handover.flows.seal import seal
    from handover.flows.transparency import transparency_report

    seal(lib, tmp_path / "seller.db", tmp_path / "pkg")
    moved = entries(lib, action="package.seal")[0]
    approved = _approve(lib, tmp_path)
    assert moved.seq < approved.seq
    checked = _item(pia.check(lib, actor=MANAGER, now=T0).results, "pia_before_transfer")
    assert checked.status == "not_met"
    res = transparency_report(lib, tmp_path / "tr", actor=MANAGER, now=T0)
    m = json.loads((res.folder / "transparency.json").read_text(encoding="utf-8"))["measures"]
    assert (m["pia_before_transfer"], m["data_first_moved"]) == (False, moved.ts)
    for lang, html in _pia_sentences(res.folder).items():
        values = {"at": when(m["pia_approved"]), "until": m["pia_retained_until"]}
        after = t("transparency.r.m.pia_text_after", lang, moved=when(moved.ts), **values)
        assert after in html
        assert t("transparency.r.m.pia_text", lang, **values) not in html
    assert "after data first moved" in _pia_sentences(res.folder)["en"]


def test_transparency_says_before_when_the_pia_came_first(lib: Workspace, tmp_path: Path) -> None:
    from handover.flows.seal import seal
    from handover.flows.transparency import transparency_report

    _approve(lib, tmp_path)
    seal(lib, tmp_path / "seller.db", tmp_path / "pkg")
    checked = _item(pia.check(lib, actor=MANAGER, now=T0).results, "pia_before_transfer")
    assert checked.status == "met"
    res = transparency_report(lib, tmp_path / "tr", actor=MANAGER, now=T0)
    m = json.loads((res.folder / "transparency.json").read_text(encoding="utf-8"))["measures"]
    assert m["pia_before_transfer"] is True
    for lang, html in _pia_sentences(res.folder).items():
        values = {"at": when(m["pia_approved"]), "until": m["pia_retained_until"]}
        assert t("transparency.r.m.pia_text", lang, **values) in html


# --- 2. migration_verified: a verify of that migration's source and target ------------------


def test_migration_verified_needs_a_verify_of_its_own_source_and_target(
    lib: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handover.flows.migrate import migrate
    from handover.flows.verify import verify
    from handover.migrate.results import MigrateOptions

    seller, buyer = tmp_path / "seller.db", tmp_path / "buyer.db"
    migrate(lib, str(seller), str(buyer), MigrateOptions(no_backup=True, reason="test"))
    done = entries(lib, action="migrate.done")[-1]
    # two other databases, equal to each other: their verify passes but is not this one's
    for name in ("c.db", "d.db"):
        shutil.copyfile(seller, tmp_path / name)
    assert verify(str(tmp_path / "c.db"), str(tmp_path / "d.db"), ws=lib).equal
    res = _item(pia.check(lib, actor=MANAGER, now=T0).results, "migration_verified")
    assert res.status == "not_met"
    assert [(c["seq"], c["what"].key) for c in res.counter] == [
        (done.seq, "pia.check.ex.unverified_pair")
    ]
    assert res.counter[0]["what"].values == {"source": str(seller), "target": str(buyer)}
    # the migration's own pair, spelled otherwise (a relative path, a URL) from its folder
    monkeypatch.chdir(tmp_path)
    assert verify("seller.db", "sqlite:///buyer.db", ws=lib).equal
    mine = entries(lib, action="verify.run")[-1]
    res = _item(pia.check(lib, actor=MANAGER, now=T0).results, "migration_verified")
    assert (res.status, res.evidence) == ("met", [done.seq, mine.seq])


def test_a_migration_from_a_package_counts_a_verify_of_the_database_it_sealed(
    lib: Workspace, tmp_path: Path
) -> None:
    from handover.flows.seal import seal
    from handover.flows.unseal import unseal
    from handover.flows.verify import verify

    seller, buyer = tmp_path / "seller.db", tmp_path / "buyer.db"
    sealed = seal(lib, seller, tmp_path / "pkg")
    unseal(lib, sealed.package, str(buyer))
    done = entries(lib, action="migrate.done")[-1]
    start = entries(lib, action="migrate.start")[-1]
    assert start.details["located"]["source"] == str(Path(sealed.package).resolve())
    res = _item(pia.check(lib, actor=MANAGER, now=T0).results, "migration_verified")
    assert res.status == "not_met" and [c["seq"] for c in res.counter] == [done.seq]
    assert verify(str(seller), str(buyer), ws=lib).equal
    res = _item(pia.check(lib, actor=MANAGER, now=T0).results, "migration_verified")
    assert res.status == "met" and entries(lib, action="verify.run")[-1].seq in res.evidence


# --- 3. cross_border: the attestation it asks for counts -----------------------------------


def test_an_attestation_counts_for_cross_border_once_a_pia_says_data_goes_abroad(
    lib: Workspace, tmp_path: Path
) -> None:
    first = _item(pia.check(lib, actor=MANAGER, now=T0).results, "cross_border")
    assert first.status == "not_applicable"
    approved = _approve(lib, tmp_path, "[necessity]\ncross_border = true\n")
    assert approved.details["cross_border"] is True
    asked = _item(pia.check(lib, actor=MANAGER, now=T0).results, "cross_border")
    assert asked.status == "not_met" and asked.reason is not None
    assert asked.reason.key == "pia.check.needs_attestation"
    seq = pia.attest(
        lib,
        "cross_border",
        "网信办安全评估已通过(PIPL 第三十八条第一款第(一)项) / CAC security assessment passed",
        actor=SIGNER,
        now=T0,
    )
    report = pia.check(lib, actor=MANAGER, now=T0)
    res = _item(report.results, "cross_border")
    assert (res.status, res.attested_by, res.evidence) == ("attested", SIGNER, [approved.seq, seq])
    assert res.reason is not None and res.reason.render("en") == f"attested by {SIGNER}"
    assert report.score["attested"] == 1
    # a person may also state it does not apply (no data went abroad after all)
    pia.attest(
        lib, "cross_border", "数据未出境 / nothing left", applies=False, actor=SIGNER, now=T0
    )
    res = _item(pia.check(lib, actor=MANAGER, now=T0).results, "cross_border")
    assert (res.status, res.attested_by) == ("not_applicable", SIGNER)
