"""Generalisation hierarchies and the least-loss k-anonymity search (handover.deid.hierarchy,
handover.deid.anonymize), checked against independent counts in plain Python: a Counter
over the output's quasi-identifier tuples, and a brute force over the whole lattice."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from handover.deid import hierarchy as h
from handover.deid.anonymize import Policy, QuasiIdentifier, anonymise

# --- hierarchies ---------------------------------------------------------------------------


def chain(hier: h.Hierarchy, values: pa.Array, start: int = 0) -> list[list[object]]:
    return [hier.generalise(values, start, lv).to_pylist() for lv in range(start, hier.height + 1)]


def test_date_hierarchy() -> None:
    d = h.date_hierarchy()
    assert d.levels == ("day", "month", "year", "5y", "10y", "*")
    got = chain(d, pa.array([dt.date(1988, 5, 1), dt.date(1990, 1, 2), None], pa.date32()))
    assert got == [
        [dt.date(1988, 5, 1), dt.date(1990, 1, 2), None],
        ["1988-05", "1990-01", None],
        [1988, 1990, None],
        ["1985-1989", "1990-1994", None],
        ["1980-1989", "1990-1999", None],
        ["*", "*", "*"],
    ]
    # Text dates, and the extract's own starting point (a year as int16).
    assert d.generalise(pa.array(["1979-12-31", "x"]), 0, 2).to_pylist() == [1979, None]
    assert d.generalise(pa.array([1984, 2000], pa.int16()), 2, 3).to_pylist() == [
        "1980-1984",
        "2000-2004",
    ]


def test_address_hierarchy() -> None:
    a = h.address_hierarchy()
    values = pa.array(
        [
            "北京市朝阳区建国路1号",
            "广东省深圳市南山区科技路12号",
            "广东省东莞市宜都街160号海门小区21栋",  # no district: a street is not one
            "新疆维吾尔自治区乌鲁木齐市天山区光明路5号",
            "某地",
            None,
        ]
    )
    assert chain(a, values)[1:] == [
        [
            "北京市朝阳区",
            "广东省深圳市南山区",
            "广东省东莞市",
            "新疆维吾尔自治区乌鲁木齐市天山区",
            "*",
            None,
        ],
        ["北京市", "广东省深圳市", "广东省东莞市", "新疆维吾尔自治区乌鲁木齐市", "*", None],
        ["北京市", "广东省", "广东省", "新疆维吾尔自治区", "*", None],
        ["*"] * 6,
    ]


def test_number_hierarchy_bands_nest() -> None:
    values = pa.array(
        [Decimal("4300.50"), Decimal("700"), Decimal("-12"), None], pa.decimal128(12, 2)
    )
    nh = h.for_column("income", values)  # taxonomy's display band for income: 5000
    assert nh.levels == ("value", "band:1000", "band:5000", "band:25000", "*")
    assert chain(nh, values)[1:] == [
        ["[4000, 5000)", "[0, 1000)", "[-1000, 0)", None],
        ["[0, 5000)", "[0, 5000)", "[-5000, 0)", None],
        ["[0, 25000)", "[0, 25000)", "[-25000, 0)", None],
        ["*"] * 4,
    ]
    rates = pa.array([0.24, 0.1, 0.35])
    rh = h.for_column(None, rates)  # largest 0.35: widths 0.002, 0.01, 0.05
    assert rh.generalise(rates, 0, 3).to_pylist() == [
        "[0.20, 0.25)",
        "[0.10, 0.15)",
        "[0.35, 0.40)",
    ]
    # A band's lower bound already on the grid stays in its band (0.24 / 0.01 = 23.999…).
    assert rh.generalise(rates, 0, 2).to_pylist()[0] == "[0.24, 0.25)"
    with pytest.raises(ValueError, match="do not nest"):
        h.number_hierarchy((10.0, 25.0))


def test_category_and_dispatch() -> None:
    c = h.for_column("gender", pa.array(["男", "女", None]))
    assert c.levels == ("value", "*")
    assert c.generalise(pa.array(["男", None]), 0, 1).to_pylist() == ["*", "*"]
    assert h.for_column("birth_date", pa.array([1990], pa.int16())).kind == "date"
    assert h.for_column("address", pa.array(["x"])).kind == "address"
    assert h.for_column("credit_info", pa.array([dt.date(2020, 1, 1)])).kind == "date"
    assert h.for_column("credit_info", pa.array([3, 4])).kind == "number"
    with pytest.raises(ValueError):
        c.generalise(pa.array(["男"]), 1, 0)


@pytest.mark.parametrize("kind", ["date", "address", "number", "category"])
def test_every_level_is_a_function_of_the_one_below(kind: str) -> None:
    rng = np.random.default_rng(7)
    if kind == "date":
        days = rng.integers(0, 30_000, 500)
        values = pa.array([dt.date(1940, 1, 1) + dt.timedelta(days=int(x)) for x in days])
        hier = h.date_hierarchy()
    elif kind == "address":
        cities = [
            "北京市朝阳区",
            "北京市海淀区",
            "广东省深圳市南山区",
            "广东省广州市天河区",
            "四川省成都市武侯区",
        ]
        values = pa.array(
            [
                cities[int(i)] + f"{int(n)}号"
                for i, n in zip(rng.integers(0, 5, 500), rng.integers(1, 99, 500), strict=True)
            ]
        )
        hier = h.address_hierarchy()
    elif kind == "number":
        values = pa.array(rng.integers(0, 80_000, 500))
        hier = h.for_column(None, values)
    else:
        values = pa.array([str(x) for x in rng.integers(0, 6, 500)])
        hier = h.category_hierarchy()
    levels = chain(hier, values)
    for fine, coarse in itertools.pairwise(levels):
        parent: dict[object, set[object]] = defaultdict(set)
        for f, c in zip(fine, coarse, strict=True):
            parent[f].add(c)
        assert all(len(s) == 1 for s in parent.values())
        assert len(set(coarse)) <= len(set(fine))
    assert set(levels[-1]) == {"*"}


# --- the search, against an independent brute force ---------------------------------------


def book(n: int, seed: int) -> list[QuasiIdentifier]:
    """A small customer table: gender, birth year, city, income."""
    rng = np.random.default_rng(seed)
    cities = ["北京市", "上海市", "广东省深圳市", "广东省广州市", "四川省成都市", "湖北省武汉市"]
    gender = pa.array(rng.choice(["男", "女"], n).tolist())
    year = pa.array(rng.integers(1960, 2000, n).tolist(), pa.int16())
    city = pa.array([cities[int(i)] for i in rng.zipf(1.6, n) % 6])
    income = pa.array(rng.integers(1_000, 40_000, n).tolist())
    dh, ah = h.date_hierarchy(), h.address_hierarchy()
    return [
        QuasiIdentifier("xb", gender, h.category_hierarchy()),
        QuasiIdentifier("csrq", year, dh, dh.level("year")),
        QuasiIdentifier("jtdz", city, ah, ah.level("city")),
        QuasiIdentifier("ysr", income, h.for_column("income", income)),
    ]


def naive(qis: list[QuasiIdentifier], node: tuple[int, ...], k: int) -> tuple[int, float]:
    """(suppressed, total Loss Metric) of one node, record by record in plain Python."""
    n, m = len(qis[0].values), len(qis)
    cols = []
    lm = []
    for q, x in zip(qis, node, strict=True):
        base = q.values.to_pylist()
        gen = q.hierarchy.generalise(q.values, q.start, q.start + x).to_pylist()
        cover: dict[object, set[object]] = defaultdict(set)
        for b, g in zip(base, gen, strict=True):
            cover[g].add(b)
        domain = len(set(base))
        cols.append(gen)
        lm.append([(len(cover[g]) - 1) / (domain - 1) if domain > 1 else 0.0 for g in gen])
    rows = list(zip(*cols, strict=True))
    sizes = Counter(rows)
    small = [sizes[r] < k for r in rows]
    suppressed = sum(small)
    lost = sum(m if s else sum(lm[j][i] for j in range(m)) for i, s in enumerate(small))
    return suppressed, lost / (n * m)


@pytest.mark.parametrize(("seed", "k", "cap"), [(1, 5, 0.05), (2, 3, 0.0), (3, 10, 0.2)])
def test_search_finds_the_least_loss_node_and_meets_k(seed: int, k: int, cap: float) -> None:
    qis = book(400, seed)
    policy = Policy(k, cap)
    an = anonymise(qis, policy)
    assert an.feasible and an.exhaustive
    # Independent count on the output: every class of shipped records holds >= k.
    out = list(zip(*(an.generalised(j).to_pylist() for j in range(len(qis))), strict=True))
    shipped = [r for r, keep in zip(out, an.keep, strict=True) if keep]
    assert len(shipped) == an.shipped and len(out) - len(shipped) == an.suppressed
    assert an.suppressed <= int(cap * 400)
    classes = Counter(shipped)
    assert min(classes.values()) == an.min_k >= k and len(classes) == an.classes
    # Brute force over the whole lattice: no node meeting the policy loses less.
    heights = [q.hierarchy.height - q.start for q in qis]
    best = min(
        loss
        for node in itertools.product(*(range(x + 1) for x in heights))
        for sup, loss in [naive(qis, node, k)]
        if sup <= policy.cap(400)
    )
    assert an.total_loss == pytest.approx(best, abs=1e-9)
    chosen = tuple(q.hierarchy.level(lv) - q.start for q, lv in zip(qis, an.levels, strict=True))
    assert naive(qis, chosen, k) == (an.suppressed, pytest.approx(an.total_loss, abs=1e-9))
    assert an.nodes < an.lattice  # the bound pruned part of the lattice


def test_l_diversity_holds_on_every_class() -> None:
    qis = book(400, 4)
    rng = np.random.default_rng(4)
    risk = pa.array(
        rng.choice(
            ["正常", "关注", "次级", "可疑", "损失"], 400, p=[0.8, 0.1, 0.05, 0.03, 0.02]
        ).tolist()
    )
    an = anonymise(qis, Policy(5, 0.05, distinct_l=3), sensitive=risk)
    assert an.feasible
    out = zip(*(an.generalised(j).to_pylist() for j in range(len(qis))), strict=True)
    seen: dict[tuple[object, ...], set[str]] = defaultdict(set)
    for row, keep, s in zip(out, an.keep, risk.to_pylist(), strict=True):
        if keep:
            seen[row].add(s)
    assert min(len(v) for v in seen.values()) == an.min_l >= 3
    plain = anonymise(qis, Policy(5, 0.05))
    assert an.total_loss >= plain.total_loss  # diversity costs detail, never gains it
    with pytest.raises(ValueError):
        anonymise(qis, Policy(5, 0.05, distinct_l=3))


def test_too_few_records_is_infeasible_and_nulls_join_at_the_top() -> None:
    few = [QuasiIdentifier("g", pa.array(["男", "女", "男"]), h.category_hierarchy())]
    an = anonymise(few, Policy(5, 0.5))
    assert not an.feasible and an.suppressed == 3
    # Four missing values among 24: only the top level (where * hides them too) meets k=5
    # without suppressing more than 1 record.
    ah = h.address_hierarchy()
    values = pa.array(["北京市"] * 10 + ["上海市"] * 10 + [None] * 4)
    an = anonymise([QuasiIdentifier("a", values, ah, ah.level("city"))], Policy(5, 1 / 24))
    assert an.feasible and an.levels == ["*"] and an.suppressed == 0 and an.min_k == 24
    an = anonymise([QuasiIdentifier("a", values, ah, ah.level("city"))], Policy(5, 4 / 24))
    assert an.levels == ["city"] and an.suppressed == 4 and an.min_k == 10


def test_empty_table_and_budget() -> None:
    empty = [QuasiIdentifier("g", pa.array([], pa.string()), h.category_hierarchy())]
    an = anonymise(empty, Policy(5))
    assert an.feasible and an.rows == 0 and an.suppressed == 0
    qis = book(300, 5)
    capped = anonymise(qis, Policy(5, 0.05), max_nodes=3)
    assert capped.feasible and not capped.exhaustive and capped.nodes <= 3
    out = zip(*(capped.generalised(j).to_pylist() for j in range(len(qis))), strict=True)
    kept = Counter(r for r, keep in zip(out, capped.keep, strict=True) if keep)
    assert min(kept.values()) >= 5


def test_wide_keys_are_hashed_and_redensified_without_overflow() -> None:
    # Six columns of ~1,500 distinct values: the mixed-radix key (1500^6 > 2^62) must be
    # re-densified, and node keys too sparse to count directly are hashed first.
    rng = np.random.default_rng(9)
    n = 3000
    qis = [
        QuasiIdentifier(
            f"c{j}", pa.array([str(x) for x in rng.integers(0, 2000, n)]), h.category_hierarchy()
        )
        for j in range(6)
    ]
    qis.append(
        QuasiIdentifier("g", pa.array(rng.choice(["a", "b"], n).tolist()), h.category_hierarchy())
    )
    policy = Policy(2, 0.05)
    an = anonymise(qis, policy)
    best = min(
        loss
        for node in itertools.product(*([range(2)] * 7))
        for sup, loss in [naive(qis, node, 2)]
        if sup <= policy.cap(n)
    )
    assert an.total_loss == pytest.approx(best, abs=1e-9)
    out = zip(*(an.generalised(j).to_pylist() for j in range(7)), strict=True)
    kept = Counter(r for r, keep in zip(out, an.keep, strict=True) if keep)
    assert min(kept.values()) >= 2 and sum(kept.values()) == an.shipped
