"""Customer notices: audience from the data, templates with every legal element."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from handover.crypto.tokenize import tokenize_with
from handover.errors import BadInput
from handover.notices.audience import derive_audience, people_tables
from handover.notices.templates import (
    ELEMENTS,
    Renderer,
    builtin_path,
    category_labels,
    default_content,
    load_renderer,
    preview,
)
from handover.settings import Transfer
from handover.sources import open_source
from handover.workspace import DEMO_TRANSFER

KEY = b"k" * 32


def _tok(values):  # type: ignore[no-untyped-def]
    return tokenize_with(KEY, values)


def _book(path: Path) -> Path:
    """Two people tables with the cases the audience must tell apart."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE cust (id INTEGER PRIMARY KEY, xm TEXT, sfz TEXT, sj TEXT, yx TEXT, dz TEXT);
        CREATE TABLE guar (gid INTEGER PRIMARY KEY, xm TEXT, sfz TEXT, sj TEXT, dz TEXT);
        """
    )
    db.executemany(
        "INSERT INTO cust VALUES (?,?,?,?,?,?)",
        [
            (
                1,
                "张三",
                "11010519491231002X",
                "13812345678",
                "zs@qq.com",
                "北京市朝阳区建国路1号院",
            ),
            (2, "李四", "110105194912310037", "+86 139-1234-5678", None, None),
            (3, "王五", None, "12345678901", "not-an-email", None),  # present but invalid
            (4, "赵六", None, None, None, None),  # nothing at all
            (5, "钱七", None, None, None, "上海市浦东新区世纪大道200号"),  # letter only
            (6, "孙八", "11010519491231002x", "13700000000", None, None),  # 张三 again (lower x)
        ],
    )
    db.executemany(
        "INSERT INTO guar VALUES (?,?,?,?,?)",
        [
            (10, "张三", "11010519491231002X", None, None),  # same ID as cust 1
            (11, "李四", None, "13912345678", None),  # no ID, mobile of cust 2
            (12, "周九", None, "15012345678", "广州市天河区体育西路1号"),
        ],
    )
    db.commit()
    db.close()
    return path


INV = {
    ("cust", "id"): {"primary": None},
    ("cust", "xm"): {"primary": "person_name"},
    ("cust", "sfz"): {"primary": "cn_resident_id"},
    ("cust", "sj"): {"primary": "cn_mobile"},
    ("cust", "yx"): {"primary": "email"},
    ("cust", "dz"): {"primary": "address"},
    ("guar", "gid"): {"primary": None},
    ("guar", "xm"): {"primary": "person_name"},
    ("guar", "sfz"): {"primary": "cn_resident_id"},
    ("guar", "sj"): {"primary": "cn_mobile"},
    ("guar", "dz"): {"primary": "address"},
    ("place", "dz"): {"primary": "address"},  # an address alone is no person
}
KEYS = {"cust": ["id"], "guar": ["gid"]}


def test_audience_dedupes_and_reconciles(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.db")
    people = people_tables(INV, KEYS)
    assert [p.table for p in people] == ["cust", "guar"]
    assert people[0].contact_items() == ["cust.xm", "cust.sfz", "cust.sj", "cust.yx", "cust.dz"]
    with open_source(book) as src:
        aud = derive_audience(src, people, _tok)
    assert aud.rows == 9 and aud.reconciles()
    r = {row["name"]: row for row in aud.recipients.to_pylist()}
    # 张三: cust 1 + cust 6 (same ID, lower-case x) + guar 10 -> one person, three rows
    assert r["张三"]["rows"] == 3 and r["张三"]["tables"] == "cust;guar"
    assert r["张三"]["email"] == "zs@qq.com" and r["张三"]["mobile"] == "13812345678"
    # 李四: +86 and dashes removed; guar 11 (mobile only) joins the ID row by mobile
    assert r["李四"]["mobile"] == "13912345678" and r["李四"]["rows"] == 2
    assert r["钱七"]["address"].startswith("上海市") and r["钱七"]["mobile"] is None
    assert r["周九"]["address"].startswith("广州市")
    assert set(r) == {"张三", "李四", "钱七", "周九"}
    lost = {row["row_key"]: row for row in aud.unreachable.to_pylist()}
    assert lost == {
        "3": {"table": "cust", "row_key": "3", "name_masked": "王*", "reason": "invalid_contact"},
        "4": {"table": "cust", "row_key": "4", "name_masked": "赵*", "reason": "no_contact"},
    }
    counts = {c.table: c.to_json() for c in aud.counts}
    assert counts["cust"] == {"table": "cust", "rows": 6, "reached": 4, "unreachable": 2}
    assert counts["guar"] == {"table": "guar", "rows": 3, "reached": 3, "unreachable": 0}
    assert aud.reach() == {"email": 1, "sms": 3, "letter": 1}
    # tokens, not clear values, identify people; same key -> same tokens and fingerprint
    assert all(len(k) == 32 for k in aud.recipients.column("recipient").to_pylist())
    with open_source(book) as src:
        again = derive_audience(src, people, _tok)
    assert again.fingerprint == aud.fingerprint
    # a changed address changes the fingerprint (a resume must notice)
    db = sqlite3.connect(book)
    db.execute("UPDATE cust SET sj = '13812345679' WHERE id = 1")
    db.commit()
    db.close()
    with open_source(book) as src:
        assert derive_audience(src, people, _tok).fingerprint != aud.fingerprint


#: the fingerprint of ``_book``'s audience under ``KEY`` as the audience was derived before
#: it was read in batches and grouped on row positions (Arrow's hash group-by): a campaign
#: queued then resumes now
BOOK_FINGERPRINT = "3300450fe7715aeb0040534ff13f19c7008410ba96416345e94c5d8205526c68"


@pytest.mark.parametrize("batch", [1, 2, 4, 65_536])
def test_audience_read_in_batches_is_the_same(tmp_path: Path, batch: int) -> None:
    """Batch boundaries anywhere (a person's rows in different batches, a linking mobile
    read before or after its resident-ID row) give the same recipients, unreachable rows,
    counts and fingerprint."""
    book = _book(tmp_path / "book.db")
    people = people_tables(INV, KEYS)
    with open_source(book) as src:
        whole = derive_audience(src, people, _tok, batch_size=65_536)
        cut = derive_audience(src, people, _tok, batch_size=batch)
    assert whole.fingerprint == cut.fingerprint == BOOK_FINGERPRINT
    assert cut.recipients.to_pydict() == whole.recipients.to_pydict()
    assert cut.recipients.schema == whole.recipients.schema
    assert cut.unreachable.to_pydict() == whole.unreachable.to_pydict()
    assert [c.to_json() for c in cut.counts] == [c.to_json() for c in whole.counts]
    assert cut.summary() == whole.summary() and cut.reconciles()


def test_audience_tokens_come_from_the_batches_and_any_other_is_computed() -> None:
    """The tokens of the keys left after linking are looked up among those computed per
    batch (duplicates across batches, another order); a key no batch computed is
    tokenised then: every token is the key's own."""
    import pyarrow as pa

    from handover.notices.audience import _BatchTokens

    keys = pa.array(["E:4", "R:9", "R:1", "R:3"])
    for tail in (0, 2):
        computed = _BatchTokens(_tok)
        for batch in (["R:1", "M:2", "R:3"], [], ["R:3", "E:4"], ["A:x"], ["M:5"]):
            computed.add(pa.array(batch, pa.string()))
        assert len(computed.pending) <= 2  # finished batches are collected as they come
        assert computed.of(keys.slice(tail)).equals(_tok(keys.slice(tail)))
    assert _BatchTokens(_tok).of(keys).equals(_tok(keys))  # no batch read


def test_audience_tables_and_firsts_follow_read_order(tmp_path: Path) -> None:
    """A person's tables are joined in the order the tables are read, and each contact is
    the first valid one of their rows in that order (a later row fills what an earlier
    one lacks)."""
    book = _book(tmp_path / "book.db")
    people = people_tables(INV, KEYS)
    with open_source(book) as src:
        aud = derive_audience(src, list(reversed(people)), _tok, batch_size=2)
    r = {row["name"]: row for row in aud.recipients.to_pylist()}
    assert r["张三"]["tables"] == "guar;cust" and r["张三"]["rows"] == 3
    # guar 10 has no mobile: 张三's comes from cust 1, the first cust row read
    assert r["张三"]["mobile"] == "13812345678" and r["张三"]["email"] == "zs@qq.com"
    assert r["李四"]["tables"] == "guar;cust" and r["李四"]["mobile"] == "13912345678"
    assert [c.table for c in aud.counts] == ["guar", "cust"] and aud.reconciles()


def test_people_tables_refuse_unknown_names() -> None:
    with pytest.raises(BadInput, match="place is not a people table"):
        people_tables(INV, KEYS, only=["place"])
    assert [p.table for p in people_tables(INV, KEYS, exclude=["guar"])] == ["cust"]
    with pytest.raises(BadInput, match="no people table"):
        people_tables({("t", "a"): {"primary": "address"}}, {})


def _content(lang: str) -> dict[str, str]:
    tr = Transfer.model_validate(DEMO_TRANSFER)
    c = default_content(tr, category_labels(["person_name", "cn_mobile"], lang), lang)
    c["link"] = "https://buyer.example.cn/n"
    return c


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_builtin_templates_carry_every_element(lang: str) -> None:
    content = _content(lang)
    for fmt in ("txt", "html"):
        text = preview(load_renderer("notice", lang, content, fmt=fmt), lang)
        for e in ELEMENTS:
            assert content[e.var].split("、")[0].split(",")[0][:8] in text or fmt == "html", e.var
        assert ("张**" if lang == "zh-CN" else "Z** S**") in text
    sms = preview(load_renderer("sms", lang, content), lang)
    assert "https://buyer.example.cn/n" in sms and len(sms) <= 500


def test_template_refusals(tmp_path: Path) -> None:
    content = _content("zh-CN")
    full = builtin_path("notice", "zh-CN").read_text("utf-8")
    missing = full.replace("{{ retention }}", "")
    with pytest.raises(BadInput, match=r"misses the required element retention \(PIPL Art. 17"):
        Renderer.build("notice", content, source=missing, name="t.txt")
    with pytest.raises(BadInput, match="unknown variable salary"):
        Renderer.build("notice", content, source=full + "{{ salary }}", name="t.txt")
    with pytest.raises(BadInput, match="syntax error on line 1"):
        Renderer.build("notice", content, source="{% if %}", name="t.txt")
    with pytest.raises(BadInput, match="element pio_contact has no text"):
        Renderer.build("notice", {**content, "pio_contact": " "}, source=full, name="t.txt")
    with pytest.raises(BadInput, match="more than the provider's limit of 40"):
        preview(load_renderer("sms", "zh-CN", content, max_chars=40), "zh-CN")
    with pytest.raises(BadInput, match="cannot read the template"):
        load_renderer("notice", "zh-CN", content, path=tmp_path / "none.txt")


def test_html_is_autoescaped() -> None:
    content = {**_content("en"), "buyer_name": "<script>x</script>"}
    html = load_renderer("notice", "en", content, fmt="html").render("<b>", "R1")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html
    text = load_renderer("notice", "en", content).render("A&B", "R1")
    assert "A&B" in text  # plain text is not HTML-escaped


def test_unreachable_row_key_masked_when_it_is_a_contact(tmp_path: Path) -> None:
    """A table keyed by its mobile column lists an unreachable row by the masked key."""
    db = sqlite3.connect(tmp_path / "p.db")
    db.execute("CREATE TABLE phonebook (sj TEXT PRIMARY KEY, xm TEXT)")
    db.executemany(
        "INSERT INTO phonebook VALUES (?, ?)", [("12345678901", "王五"), ("13812345678", "李四")]
    )
    db.commit()
    db.close()
    inv = {
        ("phonebook", "sj"): {"primary": "cn_mobile"},
        ("phonebook", "xm"): {"primary": "person_name"},
    }
    people = people_tables(inv, {"phonebook": ["sj"]})
    with open_source(tmp_path / "p.db") as src:
        aud = derive_audience(src, people, _tok)
    [lost] = aud.unreachable.to_pylist()
    assert lost["reason"] == "invalid_contact" and lost["row_key"] != "12345678901"
    assert lost["row_key"].startswith("123") and "*" in lost["row_key"]


def test_a_restriction_keeps_exactly_the_people_the_leak_names(tmp_path: Path) -> None:
    """PIPL Art. 57: the people of a leaked people table, and those a leaked mobile of a
    table that is no people table names (by value); their every row stays, so the counts
    reconcile; everyone else is left out."""
    from handover.notices.audience import Restriction, restriction_for

    book = _book(tmp_path / "book.db")
    db = sqlite3.connect(book)
    db.executescript(
        """
        INSERT INTO cust VALUES (7, '吴十', NULL, '13611112222', NULL, NULL);
        INSERT INTO guar VALUES (13, '郑十一', NULL, NULL, NULL);
        CREATE TABLE cards (kid INTEGER PRIMARY KEY, ylsj TEXT, kh TEXT);
        INSERT INTO cards VALUES (1, '136 1111 2222', '6222020200112233445'),
                                 (2, '15900000000', '6222020200112233446'),
                                 (3, '-', NULL);
        """
    )
    db.commit()
    db.close()
    inv = {
        **INV,
        ("cards", "kid"): {"primary": None},
        ("cards", "ylsj"): {"primary": "cn_mobile"},
        ("cards", "kh"): {"primary": "bank_card"},
    }
    people = people_tables(inv, KEYS)
    restriction = restriction_for(
        inv, people, [("guar", ["xm", "sfz"]), ("cards", ["ylsj", "kh"]), ("place", ["dz"])]
    )
    assert restriction == Restriction(("guar",), (("cards", "ylsj", "mobile"),), ("place",))
    assert Restriction.from_json(restriction.to_json()) == restriction
    with open_source(book) as src:
        aud = derive_audience(src, people, _tok, restriction)
    names = {r["name"]: r["rows"] for r in aud.recipients.to_pylist()}
    # 张三 (cust 1 and 6, guar 10), 李四 (cust 2, guar 11 by mobile), 周九 (guar 12),
    # 吴十 (cust 7, named by the card's mobile); 钱七 and the others are not concerned
    assert names == {"张三": 3, "李四": 2, "周九": 1, "吴十": 1}
    assert aud.unreachable.to_pylist() == [
        {"table": "guar", "row_key": "13", "name_masked": "郑**", "reason": "no_contact"}
    ]
    counts = {c.table: (c.rows, c.reached, c.unreachable) for c in aud.counts}
    assert counts == {"cust": (4, 4, 0), "guar": (4, 3, 1)} and aud.reconciles()
    assert aud.linked == [
        {"table": "cards", "column": "ylsj", "role": "mobile", "values": 2, "matched": 1}
    ]
    summary = aud.summary()
    assert summary["restriction"]["unlinked"] == ["place"] and summary["reconciles"]
    with open_source(book) as src:
        everyone = derive_audience(src, people, _tok)
    assert len(everyone) == 5 and aud.fingerprint != everyone.fingerprint
    with pytest.raises(BadInput, match=r"names anyone a notice can find \(place\)"):
        restriction_for(inv, people, [("place", ["dz"])])
