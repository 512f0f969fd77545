"""Due-diligence extract: masking kernels, free-text tags, k-anonymity, and the whole extract
checked by the scan library (no clear direct identifier left) and by join counts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from handover.cli.main import app
from handover.deid import mask
from handover.deid.kanon import k_anonymity
from handover.deid.tags import tag_text

runner = CliRunner()
DIRECT = {
    "cn_resident_id",
    "cn_mobile",
    "cn_landline",
    "bank_card",
    "passport",
    "hk_macau_permit",
    "taiwan_permit",
    "email",
    "person_name",
    "account_number",
    "ip_address",
    "licence_plate",
    "password_hash",
    "pin",
    "cvn",
    "auth_token",
}


# --- kernels -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pii_type", "values"),
    [
        ("cn_resident_id", ["110101199003077777", "44030419851231001X", "123"]),
        ("cn_mobile", ["13812345678", "1", "15900001111"]),
        ("bank_card", ["6222021234567890123", "4111111111111111"]),
        ("person_name", ["张三", "欧阳娜娜", "王", "司马光"]),
        ("email", ["zhang.san@example.com", "noatsign"]),
        ("cn_landline", ["010-12345678"]),
        ("licence_plate", ["粤B12345"]),
    ],
)
def test_vectorised_masks_agree_with_taxonomy_rules(pii_type: str, values: list[str]) -> None:
    from handover.taxonomy import get

    rule = get(pii_type).mask
    got = mask.apply_rule(rule, pa.array([*values, None])).to_pylist()
    assert got == [rule.apply(v) for v in values] + [None]


def test_display_masks_named_in_the_issue() -> None:
    assert mask.keep(pa.array(["110101199003077777"]), 6, 4).to_pylist() == ["110101********7777"]
    assert mask.keep(pa.array(["13812345678"]), 3, 4).to_pylist() == ["138****5678"]
    assert mask.keep(pa.array(["6222021234567890123"]), 6, 4).to_pylist() == ["622202*********0123"]
    assert mask.surname(pa.array(["张三丰", "欧阳娜娜"])).to_pylist() == ["张**", "欧阳**"]


def test_generalisation() -> None:
    addrs = pa.array(["广东省深圳市南山区科技路12号", "北京市朝阳区建国路1号", "某地", None])
    assert mask.region(addrs).to_pylist() == ["广东省深圳市", "北京市", "*", None]
    import datetime as dt

    dates = pa.array([dt.date(1988, 5, 1), None], pa.date32())
    assert mask.year(dates).to_pylist() == [1988, None]
    assert mask.year(pa.array(["1990-01-02", "x"])).to_pylist() == [1990, None]


def test_free_text_spans_become_tags() -> None:
    text = pa.array(
        [
            "客户张三来电,手机13812345678,身份证110101199003077777。",
            "还款卡6222021234567890123余额不足,邮箱 a.b@qq.com",
            "无个人信息的备注",
            None,
        ]
    )
    out = tag_text(text).to_pylist()
    assert out[0] == "客户[姓名]电,手机[手机号],身份证[身份证号]。"
    assert out[1] == "还款卡[银行卡号]余额不足,邮箱 [邮箱]"
    assert out[2] == "无个人信息的备注" and out[3] is None
    assert tag_text(pa.array(["手机13812345678"]), "en").to_pylist() == ["手机[MOBILE]"]


def test_k_anonymity_counts() -> None:
    qi = pa.table(
        {"g": ["男", "男", "女", "女", "女", "男"], "y": [1990, 1990, 1990, 1990, 1985, 1990]}
    )
    rep = k_anonymity("t", qi, 3)
    assert (rep.min_k, rep.classes, rep.classes_below_k, rep.rows_below_k) == (1, 3, 2, 3)
    assert rep.share_below_k == 0.5 and not rep.satisfied


# --- the whole extract ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, Path, dict[str, object]]:
    from handover.synth import synthesize

    base = tmp_path_factory.mktemp("dd")
    src = base / "seller.db"
    synthesize(str(src), customers=150, seed=11)
    ws = base / "ws"
    assert runner.invoke(app, ["-w", str(ws), "init", "--demo"]).exit_code == 0
    out = base / "extract"
    res = runner.invoke(
        app,
        ["-w", str(ws), "dd-extract", str(src), "--out", str(out), "--xlsx-limit", "200", "--json"],
    )
    assert res.exit_code == 0, res.output
    return str(ws), str(src), out, json.loads(res.stdout)


def test_extract_holds_no_clear_direct_identifier(
    extract: tuple[str, str, Path, dict[str, object]],
) -> None:
    from handover.detect.scan import scan_source

    _, _, out, _ = extract
    for folder in (out / "parquet", out / "xlsx"):
        inv = scan_source(folder, full=True)
        assert inv.tables
        flagged = [
            (t.name, c.name, sorted({p.type for p in c.pii} & DIRECT))
            for t in inv.tables
            for c in t.columns
            if {p.type for p in c.pii} & DIRECT
        ]
        assert flagged == [], flagged


def test_extract_drops_c3_and_tokenises_keys(
    extract: tuple[str, str, Path, dict[str, object]],
) -> None:
    _, _, out, doc = extract
    users = pq.read_table(out / "parquet" / "sys_user.parquet")
    assert "password_hash" not in users.column_names and "trade_pin" not in users.column_names
    cards = pq.read_table(out / "parquet" / "yhk_info.parquet")
    assert "cvn2" not in cards.column_names
    cust = pq.read_table(out / "parquet" / "cust_info.parquet")
    assert all(len(x) == 35 and x.startswith("tk_") for x in cust.column("khbh").to_pylist())
    assert cust.column("zjhm_masked").to_pylist()[0][6:14] == "********"
    assert (out / "report" / "k-anonymity.zh-CN.md").read_text("utf-8").startswith("# k-匿名")
    assert (out / "report" / "k-anonymity.en.md").is_file()
    kan = {r["table"]: r for r in doc["k_anonymity"]}  # type: ignore[attr-defined]
    assert kan["cust_info"]["rows"] == 150 and kan["cust_info"]["min_k"] >= 1
    assert (out / "xlsx" / "org_branch.xlsx").is_file()
    assert not (out / "xlsx" / "hkls.xlsx").exists()  # above the row limit: Parquet only


def test_joins_survive(extract: tuple[str, str, Path, dict[str, object]]) -> None:
    _, src, out, _ = extract
    con = sqlite3.connect(src)
    loans_by_customer = con.execute(
        "SELECT count(*) FROM loan_iou l JOIN cust_info c ON l.cust_id = c.khbh"
    ).fetchone()[0]
    applicants_by_id_number = con.execute(
        "SELECT count(*) FROM zxsq z JOIN cust_info c ON z.sqr_zjhm = c.zjhm"
    ).fetchone()[0]
    con.close()
    cust = pq.read_table(out / "parquet" / "cust_info.parquet")
    loans = pq.read_table(out / "parquet" / "loan_iou.parquet")
    auth = pq.read_table(out / "parquet" / "zxsq.parquet")
    joined = loans.join(cust.select(["khbh"]), keys="cust_id", right_keys="khbh", join_type="inner")
    assert loans_by_customer > 0 and joined.num_rows == loans_by_customer
    # Identity-document tokens share one domain: the same ID number joins across tables.
    z = auth.select(["sqr_zjhm"]).join(
        cust.select(["zjhm"]), keys="sqr_zjhm", right_keys="zjhm", join_type="inner"
    )
    assert applicants_by_id_number > 0 and z.num_rows == applicants_by_id_number


def test_extract_is_a_ledger_event_and_tokens_are_stable(
    extract: tuple[str, str, Path, dict[str, object]], tmp_path: Path
) -> None:
    ws_path, src, out, doc = extract
    from handover.ledger import entries
    from handover.workspace import open_workspace

    ws = open_workspace(Path(ws_path))
    try:
        ev = [e for e in entries(ws) if e.action == "dd.extract"][-1]
    finally:
        ws.close()
    assert ev.details["hmac_key_id"] == doc["token_key"]
    assert ev.details["rows"] == doc["rows"]
    again = tmp_path / "again"
    res = runner.invoke(
        app, ["-w", ws_path, "dd-extract", src, "--out", str(again), "--tables", "cust_info"]
    )
    assert res.exit_code == 0, res.output
    a = pq.read_table(out / "parquet" / "cust_info.parquet").column("zjhm")
    b = pq.read_table(again / "parquet" / "cust_info.parquet").column("zjhm")
    assert a.equals(b)
    res = runner.invoke(app, ["-w", ws_path, "dd-extract", src, "--out", str(again)])
    assert res.exit_code == 2
