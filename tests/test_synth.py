"""The synthetic loan book: determinism, valid identifiers, referential integrity, the
designed mess, truth coverage, CSV encodings, every target, bad input, the CLI."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from handover.detect import checksums as ck
from handover.errors import BadInput
from handover.progress import NoProgress
from handover.synth import synthesize
from handover.synth.generate import MESS
from handover.synth.pools import PLACEHOLDERS
from handover.synth.schema import PII_TYPES, TABLES

N = 2000
FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
MOBILE_PREFIXES = {"13", "14", "15", "16", "17", "18", "19"}


def _dump_hash(path: Path) -> str:
    con = sqlite3.connect(path)
    h = hashlib.sha256()
    for line in con.iterdump():
        h.update(line.encode("utf-8"))
    con.close()
    return h.hexdigest()


def _column(con: sqlite3.Connection, table: str, col: str, where: str = "") -> list[object]:
    return [r[0] for r in con.execute(f'SELECT "{col}" FROM "{table}" {where}')]


def _digits(values: list[str]) -> np.ndarray:
    """Equal-length ASCII digit strings as an integer matrix."""
    return (
        np.frombuffer("".join(values).encode("ascii"), dtype=np.uint8)
        .reshape(len(values), -1)
        .astype(np.int64)
        - 48
    )


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("synth") / "book.db"
    synthesize(str(path), customers=N, seed=11)
    yield path


@pytest.fixture
def con(book: Path) -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(book)
    yield c
    c.close()


# -- determinism -----------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"
    ra = synthesize(str(a), customers=600, seed=5)
    synthesize(str(b), customers=600, seed=5)
    synthesize(str(c), customers=600, seed=6)
    assert _dump_hash(a) == _dump_hash(b)
    assert _dump_hash(a) != _dump_hash(c)
    assert ra.total_rows == sum(ra.tables.values()) > 600 * 5
    assert Path(ra.truth_path) == tmp_path / "a.truth.json"


def test_csv_bytes_are_deterministic(tmp_path: Path) -> None:
    def digest(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}

    synthesize(str(tmp_path / "x"), customers=400, seed=3)
    synthesize(str(tmp_path / "y"), customers=400, seed=3)
    synthesize(str(tmp_path / "z"), customers=400, seed=4)
    assert digest(tmp_path / "x") == digest(tmp_path / "y")
    dx, dz = digest(tmp_path / "x"), digest(tmp_path / "z")
    assert all(dx[k] != dz[k] for k in dx if k != "truth.json")


# -- valid identifiers -----------------------------------------------------------------------


def test_resident_ids_valid_and_match_birth_date_and_gender(con: sqlite3.Connection) -> None:
    rows = con.execute("SELECT zjlx, zjhm, csrq, xb FROM cust_info").fetchall()
    ids18, births18, male18, ids15, births15, male15 = [], [], [], [], [], []
    for kind, raw, birth, sex in rows:
        v = str(raw).translate(FULLWIDTH).upper()
        if kind != "居民身份证" or str(raw) in PLACEHOLDERS:
            continue  # permits, passports, placeholders
        if len(v) == 18:
            ids18.append(v)
            births18.append(birth.replace("-", ""))
            male18.append(sex == "男")
        else:
            assert len(v) == 15, raw
            ids15.append(v)
            births15.append(birth.replace("-", "")[2:])
            male15.append(sex == "男")
    assert len(ids18) > 0.9 * N
    d = _digits([v[:17] for v in ids18])
    checks = np.array([ck.ID_CHECK_CHARS[i] for i in ck.id_check_index(d)])
    assert (checks == np.array([v[17] for v in ids18])).all()
    assert [v[6:14] for v in ids18] == births18
    assert ((d[:, 16] % 2 == 1) == np.array(male18)).all()
    assert {v[:2] for v in ids18} <= {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "61",
        "62",
        "64",
        "65",
    }
    # ~3 % legacy 15-digit numbers: two-digit year birth date, gender in the last digit.
    assert 0.015 * N < len(ids15) < 0.05 * N
    assert [v[6:12] for v in ids15] == births15
    assert [int(v[14]) % 2 == 1 for v in ids15] == male15


def test_residence_permits_and_passports(con: sqlite3.Connection) -> None:
    permits = _column(con, "cust_info", "zjhm", "WHERE zjlx LIKE '%居住证'")
    permits = [str(v).translate(FULLWIDTH).upper() for v in permits]
    permits = [v for v in permits if len(v) == 18]
    assert 0.003 * N < len(permits) < 0.03 * N
    assert all(v[:6] in ("810000", "820000", "830000") for v in permits)
    assert all(ck.is_valid_resident_id(v) for v in permits)
    passports = _column(con, "cust_info", "zjhm", "WHERE zjlx = '护照'")
    assert passports and all(
        re.fullmatch(r"[EG][0-9A-Z]\d{7}", str(v)) for v in passports if len(str(v)) == 9
    )


def test_every_bank_card_passes_luhn(con: sqlite3.Connection) -> None:
    cards = (
        _column(con, "yhk_info", "yhkh")
        + _column(con, "loan_iou", "disburse_card")
        + [v for v in _column(con, "hkls", "还款卡号") if v is not None]
    )
    by_len: dict[int, list[str]] = {}
    for c in cards:
        assert isinstance(c, str) and c.startswith("62") and 16 <= len(c) <= 19, c
        by_len.setdefault(len(c), []).append(c)
    assert set(by_len) == {16, 17, 18, 19}
    for group in by_len.values():
        assert ck.luhn_valid(_digits(group)).all()


def test_every_uscc_is_valid(con: sqlite3.Connection) -> None:
    codes = [str(v) for v in _column(con, "qy_info", "tyshxydm")]
    assert len(codes) >= 50
    vals = np.array([[ck.USCC_CHARS.index(ch) for ch in c[:17]] for c in codes])
    assert (
        np.array([ck.USCC_CHARS[i] for i in ck.uscc_check(vals)])
        == np.array([c[17] for c in codes])
    ).all()
    assert all(ck.is_valid_uscc(c) for c in codes)  # incl. the embedded GB 11714 check


def test_look_alikes_are_not_personal_data(con: sqlite3.Connection) -> None:
    contracts = [str(v) for v in _column(con, "loan_iou", "contract_no")]
    assert all(len(c) == 18 and c.isdigit() for c in contracts)
    d = _digits([c[:17] for c in contracts])
    checks = np.array([ck.ID_CHECK_CHARS[i] for i in ck.id_check_index(d)])
    assert not (checks == np.array([c[17] for c in contracts])).any()
    orders = [str(v) for v in _column(con, "hkls", "订单号") if v is not None]
    assert orders and all(len(o) == 11 and o[0] == "1" for o in orders)
    assert not {o[:2] for o in orders} & MOBILE_PREFIXES


# -- integrity and consistency ---------------------------------------------------------------


def test_foreign_keys_resolve_and_every_table_has_rows(con: sqlite3.Connection) -> None:
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    fks = sum(len(con.execute(f'PRAGMA foreign_key_list("{t.name}")').fetchall()) for t in TABLES)
    assert fks == sum(len(t.fks) for t in TABLES) > 10
    for t in TABLES:
        assert con.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0] > 0, t.name


def test_schedule_sums_to_loan_amount(con: sqlite3.Connection) -> None:
    bad = con.execute(
        "SELECT COUNT(*) FROM loan_iou l JOIN (SELECT jjid, SUM(ROUND(yhbj * 100)) s "
        "FROM hkjh GROUP BY jjid) p ON p.jjid = l.iou_id "
        "WHERE p.s != ROUND(l.loan_amount * 100)"
    ).fetchone()[0]
    assert bad == 0
    missing = con.execute(
        "SELECT COUNT(*) FROM loan_iou WHERE iou_id NOT IN (SELECT jjid FROM hkjh)"
    ).fetchone()[0]
    assert missing == 0


def test_mess_shares_roughly_as_designed(con: sqlite3.Connection) -> None:
    phones = [str(v) for v in _column(con, "cust_info", "sjhm")]
    plain = sum(bool(re.fullmatch(r"1[3-9]\d{9}", p)) for p in phones)
    full = sum(any("０" <= ch <= "９" for ch in p) for p in phones)
    expected_plain = (
        1 - MESS["mobile_formatted"] - MESS["mobile_fullwidth"] - MESS["mobile_placeholder"]
    )
    assert abs(plain / N - expected_plain) < 0.02
    assert 0.002 < full / N < 0.025
    ids = [str(v) for v in _column(con, "cust_info", "zjhm")]
    x_end = [v for v in ids if len(v) == 18 and v[-1] in "Xx"]
    assert (
        abs(sum(v.endswith("x") for v in x_end) / len(x_end) - MESS["id_lowercase_x_of_x"]) < 0.12
    )
    imported = [str(v) for v in _column(con, "dr_khmd_2019", "身份证号")]
    mangled = sum(bool(re.fullmatch(r"\d\.\d{1,5}E\+1[47]", v)) for v in imported)
    assert abs(mangled / len(imported) - MESS["import_excel_mangled"]) < 0.2
    notes = " ".join(str(v) for v in _column(con, "csjl", "csnr"))
    assert re.search(r"1[3-9]\d{9}", notes) and re.search(r"\d{17}[\dXx]", notes)


def test_five_class_and_days_past_due_consistent(con: sqlite3.Connection) -> None:
    ranges = {
        "正常": (0, 0),
        "关注": (1, 90),
        "次级": (91, 180),
        "可疑": (181, 360),
        "损失": (361, 10_000),
    }
    rows = con.execute("SELECT five_class, dpd, status FROM loan_iou").fetchall()
    for cls, dpd, status in rows:
        lo, hi = ranges[cls]
        # Month-end clipping can move a boundary by a few days.
        assert lo - 3 <= dpd <= hi + 3, (cls, dpd)
        assert (status in ("正常", "结清")) == (cls == "正常")
    share = sum(r[0] == "正常" for r in rows) / len(rows)
    assert 0.86 < share < 0.94


# -- truth -----------------------------------------------------------------------------------


def test_truth_covers_every_column_with_known_types(book: Path, con: sqlite3.Connection) -> None:
    truth = json.loads(book.with_name("book.truth.json").read_text(encoding="utf-8"))
    tables = [
        r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
    ]
    assert sorted(truth) == tables
    used: set[str] = set()
    for t in tables:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')]
        assert list(truth[t]) == cols
        for spec in truth[t].values():
            if isinstance(spec, str):
                used.add(spec)
            elif isinstance(spec, dict):
                ((key, types),) = spec.items()
                assert key in ("mixed", "free_text") and types
                used.update(types)
            else:
                assert spec is None
    assert used <= set(PII_TYPES)
    assert {
        "cn_resident_id",
        "bank_card",
        "uscc",
        "password_hash",
        "pin",
        "cvn",
        "auth_token",
        "ip_address",
        "licence_plate",
        "email",
        "cn_landline",
        "passport",
    } <= used
    assert truth["org_branch"]["branch_code"] is None
    assert truth["loan_iou"]["contract_no"] is None


# -- CSV / XLSX ----------------------------------------------------------------------------


def test_csv_encodings_are_what_is_claimed(tmp_path: Path) -> None:
    out = tmp_path / "exp"
    res = synthesize(str(out), customers=300, seed=2)
    assert res.kind == "csv" and (out / "truth.json").exists()
    for t in TABLES:
        raw = (out / f"{t.name}.csv").read_bytes()
        text = raw.decode(t.csv_encoding)
        assert text.splitlines()[0].split(",") == t.column_names
        if t.csv_encoding in ("gbk", "gb18030"):
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")  # really a Chinese code page, not UTF-8
            assert not raw.startswith(b"\xef\xbb\xbf")
        elif t.csv_encoding == "utf-8-sig":
            assert raw.startswith(b"\xef\xbb\xbf")
        else:
            assert not raw.startswith(b"\xef\xbb\xbf")
        assert text.count("\r\n") >= res.tables[t.name]
    assert {t.csv_encoding for t in TABLES} == {"utf-8", "utf-8-sig", "gbk", "gb18030"}


def test_xlsx_workbooks(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    res = synthesize(str(tmp_path / "x"), customers=150, seed=2, fmt="xlsx")
    wb = load_workbook(tmp_path / "x" / "cust_info.xlsx", read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert list(rows[0]) == TABLES[4].column_names
    assert len(rows) - 1 == res.tables["cust_info"] == 150
    # the mess a spreadsheet would read a formula from ("+86 138…", "-") is text cells
    # holding it exactly, quote-prefixed, in every workbook
    risky = 0
    for path in sorted((tmp_path / "x").glob("*.xlsx")):
        for row in load_workbook(path).active.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s" and cell.quotePrefix, (path.name, cell.value)
                    risky += 1
    assert risky > 0


# -- servers -----------------------------------------------------------------------------------


def _server_counts(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, inspect, text

    from handover.synth.writers import quote

    eng = create_engine(url)
    try:
        with eng.connect() as c:
            d = "mysql" if eng.dialect.name in ("mysql", "mariadb") else "postgresql"
            names = inspect(c).get_table_names()
            return {
                n: c.execute(text(f"SELECT COUNT(*) FROM {quote(n, d)}")).scalar_one()
                for n in names
            }
    finally:
        eng.dispose()


def _server_roundtrip(url: str, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, inspect

    res = synthesize(url, customers=300, seed=9, truth_path=str(tmp_path / "t.json"))
    assert _server_counts(url) == res.tables
    assert json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))["cust_info"]["khxm"] == (
        "person_name"
    )
    eng = create_engine(url)
    try:
        fks = sum(len(inspect(eng).get_foreign_keys(t.name)) for t in TABLES)
        assert fks == sum(len(t.fks) for t in TABLES)
    finally:
        eng.dispose()
    with pytest.raises(BadInput, match="not empty"):
        synthesize(url, customers=10, seed=1, truth_path=str(tmp_path / "u.json"))


def _server_abort(url: str, tmp_path: Path) -> None:
    class Boom(NoProgress):
        def advance(self, name: str, rows: int, rejects: int = 0) -> None:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        synthesize(url, customers=50, seed=1, truth_path=str(tmp_path / "t.json"), progress=Boom())
    assert _server_counts(url) == {}
    assert not (tmp_path / "t.json").exists()


@pytest.mark.postgres
def test_postgresql_target(pg_url: str, tmp_path: Path) -> None:
    _server_roundtrip(pg_url, tmp_path)


@pytest.mark.postgres
def test_postgresql_failed_load_drops_tables(pg_url: str, tmp_path: Path) -> None:
    _server_abort(pg_url, tmp_path)


@pytest.mark.mariadb
def test_mariadb_target(mariadb_url: str, tmp_path: Path) -> None:
    _server_roundtrip(mariadb_url, tmp_path)


@pytest.mark.mariadb
def test_mariadb_failed_load_drops_tables(mariadb_url: str, tmp_path: Path) -> None:
    _server_abort(mariadb_url, tmp_path)


def test_unreachable_server_names_masked_url(tmp_path: Path) -> None:
    url = "postgresql://bob:s3cret@127.0.0.1:1/nope"
    with pytest.raises(BadInput) as e:
        synthesize(url, customers=10, seed=1, truth_path=str(tmp_path / "t.json"))
    assert "127.0.0.1:1" in str(e.value) and "s3cret" not in str(e.value)
    assert list(tmp_path.iterdir()) == []


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customers", "seed", "match"),
    [(0, 1, "customers"), (10_000_001, 1, "customers"), (-5, 1, "customers"), (10, -1, "seed")],
)
def test_bad_counts_and_seeds(tmp_path: Path, customers: int, seed: int, match: str) -> None:
    with pytest.raises(BadInput, match=match):
        synthesize(str(tmp_path / "a.db"), customers=customers, seed=seed)
    assert list(tmp_path.iterdir()) == []


def test_bad_targets_leave_nothing(tmp_path: Path) -> None:
    existing = tmp_path / "old.db"
    existing.write_bytes(b"x")
    with pytest.raises(BadInput, match=r"old\.db"):
        synthesize(str(existing), customers=10, seed=1)
    assert existing.read_bytes() == b"x"
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("k")
    with pytest.raises(BadInput, match="not empty"):
        synthesize(str(full), customers=10, seed=1)
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    with pytest.raises(BadInput, match="does not exist"):
        synthesize(str(tmp_path / "no" / "such" / "a.db"), customers=10, seed=1)
    with pytest.raises(BadInput, match="unsupported"):
        synthesize("oracle://u:pw@h/db", customers=10, seed=1)
    with pytest.raises(BadInput, match="format"):
        synthesize(str(tmp_path / "b.db"), customers=10, seed=1, fmt="csv")
    with pytest.raises(BadInput, match="format"):
        synthesize(str(tmp_path / "f"), customers=10, seed=1, fmt="parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "old.db"]


def test_unwritable_folder(tmp_path: Path) -> None:
    import os

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):
            with pytest.raises(BadInput, match="not writable"):
                synthesize(str(ro / "a.db"), customers=10, seed=1)
        # root may write anywhere, but not into /proc: the write itself fails.
        with pytest.raises(BadInput, match=r"synth-never\.db"):
            synthesize("/proc/synth-never.db", customers=10, seed=1)
        assert not Path("/proc/synth-never.db").exists()
    finally:
        ro.chmod(0o700)


def test_failed_sqlite_load_removes_partial_file(tmp_path: Path) -> None:
    class Boom(NoProgress):
        def advance(self, name: str, rows: int, rejects: int = 0) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        synthesize(str(tmp_path / "a.db"), customers=30, seed=1, progress=Boom())
    with pytest.raises(KeyboardInterrupt):
        synthesize(str(tmp_path / "exp"), customers=30, seed=1, progress=Boom())
    assert list(tmp_path.iterdir()) == []


# -- bigger book, CLI -----------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_sized_book(tmp_path: Path) -> None:
    res = synthesize(str(tmp_path / "seller.db"), customers=20_000, seed=2026)
    assert res.tables["cust_info"] == 20_000
    assert res.seconds < 30
    con = sqlite3.connect(tmp_path / "seller.db")
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    assert con.execute("SELECT COUNT(DISTINCT khbh) FROM cust_info").fetchone()[0] == 20_000
    con.close()


def test_cli_synth(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handover.cli.main import app

    runner = CliRunner()
    target = tmp_path / "c.db"
    r = runner.invoke(
        app, ["synth", "--out", str(target), "--customers", "120", "--seed", "4", "--json"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["customers"] == 120 and data["tables"]["cust_info"] == 120
    assert Path(data["truth_path"]).exists()
    r = runner.invoke(
        app, ["--lang", "en", "synth", "--out", str(tmp_path / "d.db"), "--customers", "50"]
    )
    assert r.exit_code == 0 and "Synthetic loan book of 50 customers" in r.stdout
    r = runner.invoke(app, ["synth", "--out", str(target), "--customers", "10"])
    assert r.exit_code == 2
    assert "c.db" in r.output and len(r.output.strip().splitlines()) == 1
