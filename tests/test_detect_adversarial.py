"""Adversarial cases: look-alikes, mess, empty and tiny tables, pinyin-only names,
mixed encodings, Excel-mangled numbers, spans inside Chinese sentences."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from handover.detect.checksums import ID_CHECK_CHARS, id_check_index, luhn_check_digit
from handover.detect.freetext import scan_text
from handover.detect.scan import Inventory, scan_source


def _ids(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    body = np.zeros((n, 17), dtype=np.int64)
    body[:, :6] = [3, 3, 0, 1, 0, 6]
    year = rng.integers(1960, 2000, n)
    for i, d in enumerate((1000, 100, 10, 1)):
        body[:, 6 + i] = year // d % 10
    body[:, 10:12] = [0, 5]
    body[:, 12:14] = [1, 7]
    body[:, 14:] = rng.integers(0, 10, (n, 3))
    checks = id_check_index(body)
    return ["".join(map(str, row)) + ID_CHECK_CHARS[c] for row, c in zip(body, checks, strict=True)]


def _db(path: Path, table: str, columns: dict[str, list[object]]) -> Path:
    con = sqlite3.connect(path)
    names = list(columns)
    con.execute(f"CREATE TABLE {table} ({', '.join(f'{n} TEXT' for n in names)})")
    rows = list(zip(*columns.values(), strict=True))
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(names))})", rows)
    con.commit()
    con.close()
    return path


def _col(inv: Inventory, table: str, column: str) -> tuple[set[str], bool]:
    t = next(t for t in inv.tables if t.name == table)
    c = next(c for c in t.columns if c.name == column)
    return {p.type for p in c.pii}, c.free_text


def test_lookalikes_do_not_fire(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    ids = _ids(300)
    contract = [i[:17] + str((int(i[17]) + 1) % 10 if i[17] != "X" else 1) for i in ids]
    orders = [str(x) for x in rng.integers(10_000_000_000, 13_000_000_000, 300)]
    random_orders = [str(x) for x in rng.integers(10_000_000_000, 19_999_999_999, 300)]
    seq = [str(13_800_000_000 + i) for i in range(300)]
    body = rng.integers(0, 10, (300, 15))
    bad_cards = [
        "62" + "".join(map(str, b)) + str((int(c) + 1) % 10)
        for b, c in zip(
            body, luhn_check_digit(np.hstack([np.full((300, 2), [6, 2]), body])), strict=True
        )
    ]
    db = _db(
        tmp_path / "a.db",
        "t",
        {
            "contract_no": contract,
            "order_no": orders,
            "ref": random_orders,
            "serial": seq,
            "htbh": bad_cards,
            "sfzh": ids,
        },
    )
    inv = scan_source(str(db))
    assert _col(inv, "t", "contract_no")[0] == set()
    assert _col(inv, "t", "order_no")[0] == set()
    assert _col(inv, "t", "ref")[0] == set()
    assert _col(inv, "t", "htbh")[0] == set()
    assert _col(inv, "t", "sfzh")[0] == {"cn_resident_id"}
    t = inv.tables[0]
    c = next(c for c in t.columns if c.name == "contract_no")
    assert "below the threshold" in str(c.evidence[0])


def test_pinyin_only_names_and_messy_values(tmp_path: Path) -> None:
    ids = _ids(200)
    messy = [
        ("１" + i[1:]) if k % 7 == 0 else (i.lower() if k % 5 == 0 else i)
        for k, i in enumerate(ids)
    ]
    messy[3] = "无"
    messy[4] = "N/A"
    phones = [f"+86 138 1234 {k:04d}" if k % 3 == 0 else f"139-{k:04d}-5678" for k in range(200)]
    names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞"] * 20
    names = [n + ("" if k < 10 else "明华丽"[k % 3]) for k, n in enumerate(names)]
    db = _db(
        tmp_path / "p.db",
        "khxx",
        {
            "khxm": names,
            "zjhm": messy,
            "lxdh": phones,
            "jtdz": [f"浙江省杭州市西湖区文三路{k}号" for k in range(200)],
            "xb": ["男", "女"] * 100,
        },
    )
    inv = scan_source(str(db))
    assert _col(inv, "khxx", "khxm")[0] == {"person_name"}
    assert "cn_resident_id" in _col(inv, "khxx", "zjhm")[0]
    assert _col(inv, "khxx", "lxdh")[0] == {"cn_mobile"}
    assert _col(inv, "khxx", "jtdz")[0] == {"address"}
    assert _col(inv, "khxx", "xb")[0] == {"gender"}


def test_empty_all_null_and_one_row_tables(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    _db(db, "empty", {"sfzh": [], "mobile": []})
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE nulls (id INTEGER, sjhm TEXT, note TEXT)")
    con.executemany("INSERT INTO nulls VALUES (?, NULL, NULL)", [(i,) for i in range(50)])
    con.execute("CREATE TABLE one (name TEXT, sfzh TEXT, mobile TEXT)")
    con.execute("INSERT INTO one VALUES ('张伟', ?, '13812345678')", (_ids(1)[0],))
    con.commit()
    con.close()
    inv = scan_source(str(db))
    empty = next(t for t in inv.tables if t.name == "empty")
    assert empty.rows == 0 and "empty table" in " ".join(map(str, empty.notes))
    assert _col(inv, "nulls", "sjhm")[0] == {"cn_mobile"}  # from the name only
    nulls = next(t for t in inv.tables if t.name == "nulls")
    c = next(c for c in nulls.columns if c.name == "sjhm")
    assert c.confidence < 0.6 and "name only" in " ".join(map(str, c.evidence))
    assert _col(inv, "one", "sfzh")[0] == {"cn_resident_id"}
    assert _col(inv, "one", "mobile")[0] == {"cn_mobile"}
    assert _col(inv, "one", "name")[0] == {"person_name"}


def test_excel_mangled_ids_are_reported(tmp_path: Path) -> None:
    vals = ["1.10105E+17"] * 40 + _ids(10)
    inv = scan_source(str(_db(tmp_path / "m.db", "imp", {"col_a": vals})))
    t = inv.tables[0]
    c = t.columns[0]
    assert {p.type for p in c.pii} == {"cn_resident_id"}
    assert c.mangled == 40
    assert any(str(e).startswith("mangled:") for e in c.notes)


def test_free_text_spans_inside_chinese_sentences() -> None:
    import pyarrow as pa

    idn = _ids(1)[0]
    text = pa.array(
        [
            f"核实身份证号{idn}无误,客户张三称下周还款",
            "电话联系借款人李四(+86 139 1234 5678),已告知后果。",
            "客户来电(0571-88880000)申请展期",
            "卡号6228480402564890018余额不足",
            "订单号12345678901已处理,合同号110101199003071234",
            "邮箱zhang.san@163.com。",
        ]
    )
    hits = scan_text(text)
    rows = {t: np.flatnonzero(m).tolist() for t, m in hits.rows.items()}
    assert rows["cn_resident_id"] == [0]
    assert rows["cn_mobile"] == [1]
    assert rows["cn_landline"] == [2]
    assert rows["bank_card"] == [3]
    assert rows["email"] == [5]
    assert 0 in rows["person_name"] and 1 in rows["person_name"]


def test_mixed_encodings_in_one_folder(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    header = "客户姓名,身份证号,手机号码\n"
    rows = "".join(
        f"{n},{i},1381234{k:04d}\n"
        for k, (n, i) in enumerate(zip(["张伟", "王芳", "李娜"] * 10, _ids(30), strict=True))
    )
    (folder / "a_utf8.csv").write_bytes((header + rows).encode("utf-8"))
    (folder / "b_gbk.csv").write_bytes((header + rows).encode("gbk"))
    (folder / "c_bom.csv").write_bytes((header + rows).encode("utf-8-sig"))
    (folder / "d_semicolon.csv").write_bytes((header + rows).replace(",", ";").encode("gb18030"))
    inv = scan_source(str(folder))
    assert len(inv.tables) == 4
    for t in inv.tables:
        assert [c.name for c in t.columns] == ["客户姓名", "身份证号", "手机号码"], t.name
        assert [{p.type for p in c.pii} for c in t.columns] == [
            {"person_name"},
            {"cn_resident_id"},
            {"cn_mobile"},
        ], t.name
    enc = {
        t.name: next(str(n) for n in t.notes if str(n).startswith("encoding")) for t in inv.tables
    }
    assert enc == {
        "a_utf8": "encoding UTF-8",
        "b_gbk": "encoding GBK",
        "c_bom": "encoding UTF-8-SIG",
        "d_semicolon": "encoding GBK",
    }


def test_nested_parquet_column_is_scanned_not_dropped(tmp_path: Path) -> None:
    """A list column has no string cast; its IDs must still be found, not read as nulls."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = _ids(200)
    table = pa.table({"id": list(range(200)), "zjhm_list": [[i] for i in ids]})
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    inv = scan_source(str(path))
    types, _ = _col(inv, inv.tables[0].name, "zjhm_list")
    assert "cn_resident_id" in types


# Look-alike identifiers (issue 14, part 4): digit strings shaped like mobiles, IDs and
# cards that are order, contract, serial and loan account numbers. Each column maps to
# the PII types it may be given (loan account numbers are account numbers, C2).
def _digits(rng: np.random.Generator, n: int, width: int, lead: str = "") -> list[str]:
    body = rng.integers(0, 10, (n, width - len(lead)))
    return [lead + "".join(map(str, row)) for row in body]


def lookalike_columns(n: int = 400, seed: int = 14) -> dict[str, tuple[list[str], set[str]]]:
    """Look-alike columns (name → values, PII types allowed), seeded."""
    rng = np.random.default_rng(seed)
    ids = _ids(n, seed)
    region = ["330106", "110105", "440305", "510104"]
    dates = [
        f"20{y:02d}{m:02d}{d:02d}" for y, m, d in rng.integers([18, 1, 1], [26, 13, 29], (n, 3))
    ]
    structured = [
        region[k % 4] + dates[k] + f"{k % 1000:03d}" + "0123456789X"[rng.integers(0, 11)]
        for k in range(n)
    ]
    acct = {"account_number"}
    return {
        # 11 digits starting with 1: the order number of the issue, under names that
        # (also) read as 电话 and under none.
        "ddh": (_digits(rng, n, 11, "1"), set()),
        "dh": (_digits(rng, n, 11, "1"), set()),
        "订单号": (_digits(rng, n, 11, "1"), set()),
        "order_no": (_digits(rng, n, 11, "1"), set()),
        "ref": ([f"1{rng.integers(3, 10)}" + s for s in _digits(rng, n, 9)], set()),
        "serial": ([str(13_800_000_000 + k) for k in range(n)], set()),
        "xh": ([str(15_900_000_000 + 3 * k) for k in range(n)], set()),
        "dkzh": (_digits(rng, n, 11, "1"), acct),
        # 15 digits: legacy-ID length.
        "loan_acct_no": (_digits(rng, n, 15, str(rng.integers(1, 10))), acct),
        "jjh": (_digits(rng, n, 15, "3"), set()),
        # 16 and 19 digits: card lengths, Luhn passes one in ten by chance.
        "hykh": (_digits(rng, n, 16, "6"), set()),
        "dkzh_16": (_digits(rng, n, 16, "6"), acct),
        "loan_no": (_digits(rng, n, 16, "2024"), set()),
        "loan_account": (_digits(rng, n, 19, "62"), acct),
        "流水号": (_digits(rng, n, 19, "6"), set()),
        # 18 digits: ID length; the check character passes one in eleven by chance.
        "contract_no": (
            [i[:17] + ("1" if i[17] == "X" else str((int(i[17]) + 1) % 10)) for i in ids],
            set(),
        ),
        "htbh": (structured, set()),
        "ref18": (_digits(rng, n, 18, "4"), set()),
    }


def real_mobile_columns(n: int = 400, seed: int = 15) -> dict[str, list[str]]:
    """Real mobile columns as they are typed (spaced, +86, full-width, partly masked, junk)
    under strong, ambiguous and no names; every one is ``cn_mobile``."""
    from handover.synth.pools import MOBILE_PREFIXES
    from handover.synth.values import mobiles

    rng = np.random.default_rng(seed)
    pref = np.array([p for p, _ in MOBILE_PREFIXES], dtype=np.int64)
    w = np.array([x for _, x in MOBILE_PREFIXES])
    real = [str(x) for x in mobiles(rng, pref, w / w.sum(), n)]
    junk = ["无", "0571-88880000", "1381234567", "12345678901", "", "N/A", "13800138000 "]
    variants = {
        "plain": real,
        "spaced": [f"{v[:3]} {v[3:7]} {v[7:]}" for v in real],
        "plus86": [("+86 ", "0086", "86-", "+86")[k % 4] + v for k, v in enumerate(real)],
        "fullwidth": ["".join(chr(ord(c) + 0xFEE0) for c in v) for v in real],
        # A third shown masked (legacy exports mix them): they count beside the clear ones.
        "masked": [
            v[:3] + ("****" if k % 2 else "xxxx") + v[7:] if k % 3 == 0 else v
            for k, v in enumerate(real)
        ],
        "junk": [junk[k // 12 % len(junk)] if k % 12 == 0 else v for k, v in enumerate(real)],
    }
    names = ("mobile", "sjhm", "手机号码", "lxdh", "ddh", "dh", "col")
    return {f"{nm}_{var}": vals for nm in names for var, vals in variants.items()}


@pytest.mark.parametrize("full", [False, True])
def test_lookalike_identifiers_get_no_pii_type(tmp_path: Path, full: bool) -> None:
    """Sampled, and with a small sample then every row (profiles merged over batches)."""
    cols = lookalike_columns()
    db = _db(tmp_path / "l.db", "t", {k: v for k, (v, _) in cols.items()})
    inv = scan_source(str(db), full=full, sample=150 if full else 10_000)
    wrong = {
        name: sorted(got)
        for name, (_, allowed) in cols.items()
        if not (got := _col(inv, "t", name)[0]) <= allowed
    }
    assert not wrong, wrong
    assert _col(inv, "t", "dkzh_16")[0] == {"account_number"}


def test_issue_ddh_order_numbers_are_not_mobiles(tmp_path: Path) -> None:
    """Issue 14.4: ``ddh`` (订单号, also read 电话) holding 1 + ten random digits."""
    rng = np.random.default_rng(2024)
    vals = _digits(rng, 500, 11, "1")
    inv = scan_source(str(_db(tmp_path / "o.db", "orders", {"ddh": vals})))
    c = inv.tables[0].columns[0]
    assert c.pii == [] and c.primary is None
    keys = [e.key for e in c.notes if not isinstance(e, str)]
    assert "detect.note.contradicted" in keys and "detect.note.hint_set_aside" in keys
    text = " ".join(str(e) for e in c.notes)
    assert "ddh" in text and "cn_mobile" in text


@pytest.mark.parametrize("full", [False, True])
def test_real_mobiles_keep_their_label(tmp_path: Path, full: bool) -> None:
    cols = real_mobile_columns()
    inv = scan_source(
        str(_db(tmp_path / "r.db", "t", cols)), full=full, sample=150 if full else 10_000
    )
    wrong = {n: sorted(got) for n in cols if (got := _col(inv, "t", n)[0]) != {"cn_mobile"}}
    assert not wrong, wrong
    # Tiny tables too: five real mobiles under the ambiguous name.
    small = real_mobile_columns(n=5, seed=3)
    inv = scan_source(str(_db(tmp_path / "s.db", "s", {"ddh": small["ddh_plain"]})))
    assert _col(inv, "s", "ddh")[0] == {"cn_mobile"}


def test_unambiguous_name_carries_contradicting_values_with_a_note(tmp_path: Path) -> None:
    """``mobile`` says what the column is: random digits there are still labelled (a
    missed phone column costs more than a masked order number), at a lower confidence
    and with the contradiction in the notes."""
    rng = np.random.default_rng(7)
    rand = _digits(rng, 400, 11, "1")
    real = real_mobile_columns()["mobile_plain"]
    inv = scan_source(str(_db(tmp_path / "m.db", "t", {"mobile": rand, "sjhm": real})))
    t = inv.tables[0]
    rnd, ok = t.columns
    assert rnd.primary == "cn_mobile" and ok.primary == "cn_mobile"
    assert rnd.confidence < ok.confidence - 0.1
    assert "detect.note.contradicted" in [e.key for e in rnd.notes if not isinstance(e, str)]
    assert not [
        e for e in ok.notes if not isinstance(e, str) and e.key == "detect.note.contradicted"
    ]


def test_masked_mobiles_alone_are_not_a_clear_mobile_column(tmp_path: Path) -> None:
    """A column of masked mobiles only (a due-diligence extract's) is de-identified
    display: noted, not labelled; one clear mobile among them makes it a mobile column."""
    real = real_mobile_columns()["mobile_plain"]
    masked = [v[:3] + "****" + v[7:] for v in real]
    leaked = [real[0], *masked[1:]]
    inv = scan_source(str(_db(tmp_path / "x.db", "t", {"mobile": masked, "sjhm": leaked})))
    only, one = inv.tables[0].columns
    assert only.pii == []
    assert [e.key for e in only.notes if not isinstance(e, str)] == ["detect.note.masked_only"]
    assert "138****" not in str(only.notes[0]) or "****" in str(only.notes[0])
    assert one.primary == "cn_mobile"
