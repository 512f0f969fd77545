"""Look-alike evidence (issue 14, part 4): the chance a random value of a recognizer's
look-alike shape passes, ambiguous name hints, the counts a profile keeps and merges,
and how the classifier weighs them. Whole-scan cases are in test_detect_adversarial.py."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from handover.detect.classify import against, classify_column
from handover.detect.names import AMBIGUOUS, ambiguous_hints
from handover.detect.profile import ColumnProfile, Plan, profile_column
from handover.detect.recognizers import BY_KEY, MOBILE_CHANCE, RECOGNIZERS

N = 200_000


def _rows(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return rng.integers(0, 10, (n, width)).astype("U1")


def _join(*parts: np.ndarray) -> list[str]:
    out = parts[0] if parts[0].ndim == 1 else np.array(["".join(r) for r in parts[0]])
    for p in parts[1:]:
        out = np.char.add(out, p if p.ndim == 1 else np.array(["".join(r) for r in p]))
    return list(out)


def _random_lookalikes(key: str, rng: np.random.Generator) -> list[str]:
    """Uniformly random values of recognizer ``key``'s look-alike shape."""
    ones = np.full(N, "1")
    if key == "cn_mobile":
        return _join(ones, _rows(rng, N, 10))
    if key == "cn_mobile_masked":
        return _join(ones, _rows(rng, N, 2), np.full(N, "****"), _rows(rng, N, 4))
    if key == "cn_resident_id_18":
        last = np.array(list("0123456789X"))[rng.integers(0, 11, N)]
        return _join(rng.integers(1, 10, N).astype(str), _rows(rng, N, 16), last)
    if key == "cn_resident_id_15":
        return _join(rng.integers(1, 10, N).astype(str), _rows(rng, N, 14))
    if key == "bank_card":
        lengths = rng.integers(16, 20, N)
        return [v[:n] for v, n in zip(_join(_rows(rng, N, 19)), lengths, strict=True)]
    raise AssertionError(f"no generator for {key}: add one")


@pytest.mark.parametrize("key", [r.key for r in RECOGNIZERS if r.chance is not None])
def test_declared_chance_is_what_random_digits_pass(key: str) -> None:
    rec = BY_KEY[key]
    assert rec.chance is not None
    values = pa.array(_random_lookalikes(key, np.random.default_rng(7)))
    shaped, ok = rec.judge(values)
    assert shaped.all()  # the generator makes the look-alike shape, nothing else
    rate = ok.mean()
    sigma = (rec.chance * (1 - rec.chance) / N) ** 0.5
    if key == "cn_resident_id_18":
        assert rate <= rec.chance + 4 * sigma  # an upper bound (dates up to today)
    else:
        assert abs(rate - rec.chance) <= 4 * sigma + 0.001, (rate, rec.chance)


def test_pattern_lies_inside_the_lookalike_shape() -> None:
    """``judge`` runs the pattern on look-alikes only: a value the pattern takes must
    have the look-alike shape, or it would be lost."""
    values = pa.array(["13812345678", "138****5678", "138XXXX5678", "19912345678"])
    for rec in RECOGNIZERS:
        if rec.lookalike is None:
            continue
        hit = rec.match(values)
        assert (rec.shape(values) >= hit).all(), rec.key
        assert hit.any(), rec.key


def test_mobile_chance_follows_the_prefix_table() -> None:
    from handover.detect.lexicon import MOBILE_PREFIXES

    assert len(set(MOBILE_PREFIXES)) / 100 == MOBILE_CHANCE


def test_ambiguous_hints() -> None:
    assert {t: h.alias for t, h in ambiguous_hints("ddh").items()} == {
        "cn_mobile": "dh",
        "cn_landline": "dh",
    }
    assert set(ambiguous_hints("dh")) == {"cn_mobile", "cn_landline"}
    assert set(ambiguous_hints("hykh")) == {"bank_card"}  # 会员卡号: only a word ending
    for sure in ("lxdh", "mobile", "sjhm", "手机号码", "联系电话", "mobile_dh", "card_no"):
        assert "cn_mobile" not in ambiguous_hints(sure), sure
        assert "bank_card" not in ambiguous_hints(sure), sure
    for alias in AMBIGUOUS:
        assert ambiguous_hints(alias), alias  # every listed abbreviation is a name hint


def _profile(values: list[str]) -> ColumnProfile:
    return profile_column(pa.array(values), Plan(None))


def test_profile_counts_failing_lookalikes_and_merges_them() -> None:
    rng = np.random.default_rng(3)
    values = ["1" + "".join(map(str, r)) for r in rng.integers(0, 10, (1000, 10))]
    whole = profile_column(pa.array(values), Plan(None))
    a = profile_column(pa.array(values[:400]), Plan(None))
    b = profile_column(pa.array(values[400:]), Plan(None))
    merged = a.merge(b)
    prefixes = np.array([int(v[:3]) for v in values])
    from handover.detect.lexicon import MOBILE_PREFIXES

    failing = int((~np.isin(prefixes, MOBILE_PREFIXES)).sum())
    assert whole.contra == {"cn_mobile": failing} == merged.contra
    nums = [int(v) for v in values]
    # Far too sparse to be a numbering: the count stands in for the distinct count.
    assert whole.spread["cn_mobile"] == (min(nums), max(nums), len(nums))
    assert merged.spread["cn_mobile"][:2] == (min(nums), max(nums))
    # A run is counted exactly, duplicates once; the parts' figure survives a merge.
    run = [str(13_900_000_000 + k // 2) for k in range(1000)]
    whole = profile_column(pa.array(run), Plan(None))
    merged = profile_column(pa.array(run[:600]), Plan(None)).merge(
        profile_column(pa.array(run[600:]), Plan(None))
    )
    assert whole.spread["cn_mobile"] == (13_900_000_000, 13_900_000_499, 500)
    assert merged.spread["cn_mobile"] == (13_900_000_000, 13_900_000_499, 300)


def test_against_estimates_the_genuine_share() -> None:
    rng = np.random.default_rng(4)
    random = ["1" + "".join(map(str, r)) for r in rng.integers(0, 10, (2000, 10))]
    ev = against(_profile(random), "cn_mobile")
    assert ev is not None and ev.contradicts and ev.numbering is None
    assert ev.genuine < 0.05
    assert ev.random == pytest.approx(1 - MOBILE_CHANCE)
    # Half real mobiles, half random digits: about half is genuine.
    real = [
        f"1{p}{x:08d}"
        for p, x in zip(
            rng.choice([38, 39, 58, 86], 2000), rng.integers(0, 10**8, 2000), strict=True
        )
    ]
    mixed = real[:1000] + random[:1000]
    ev = against(_profile(mixed), "cn_mobile")
    assert ev is not None and ev.contradicts
    assert 0.43 < ev.genuine < 0.57
    # Real mobiles with a few test numbers: no contradiction, nothing noted.
    ev = against(_profile(real[:390] + ["12345678901"] * 10), "cn_mobile")
    assert ev is not None and not ev.contradicts and 0.93 < ev.genuine < 0.975
    # A run of consecutive numbers is a numbering.
    ev = against(_profile([str(13_900_000_000 + k) for k in range(500)]), "cn_mobile")
    assert ev is not None and ev.numbering == 1.0 and ev.genuine == 0.0


def test_ambiguous_name_is_set_aside_only_when_values_contradict() -> None:
    rng = np.random.default_rng(5)
    random = ["1" + "".join(map(str, r)) for r in rng.integers(0, 10, (600, 10))]
    real = [
        f"1{p}{x:08d}"
        for p, x in zip(rng.choice([38, 39, 58, 86], 600), rng.integers(0, 10**8, 600), strict=True)
    ]
    for name in ("ddh", "dh"):
        r = classify_column(name, "TEXT", _profile(random), {}, set())
        assert r.pii == [], name
        keys = [n.key for n in r.notes if not isinstance(n, str)]
        assert keys == ["detect.note.contradicted", "detect.note.hint_set_aside"], name
        r = classify_column(name, "TEXT", _profile(real), {}, set())
        assert r.primary == "cn_mobile" and not r.notes, name
    # A clear name carries the column, says why, and is less sure than with real values.
    r = classify_column("mobile", "TEXT", _profile(random), {}, set())
    sure = classify_column("mobile", "TEXT", _profile(real), {}, set())
    assert r.primary == "cn_mobile"
    assert [n.key for n in r.notes if not isinstance(n, str)] == [
        "detect.note.contradicted",
        "detect.note.name_carries",
    ]
    assert r.confidence < sure.confidence - 0.15


def test_notes_render_in_both_languages() -> None:
    rng = np.random.default_rng(6)
    random = ["1" + "".join(map(str, r)) for r in rng.integers(0, 10, (300, 10))]
    r = classify_column("ddh", "TEXT", _profile(random), {}, set())
    zh = [n.render("zh-CN") for n in r.notes if not isinstance(n, str)]
    en = [n.render("en") for n in r.notes if not isinstance(n, str)]
    assert "反证" in zh[0] and "ddh" in zh[1] and "词尾" in zh[1]
    assert "evidence against cn_mobile" in en[0] and "'ddh'" in en[1]


def test_bad_check_digits_do_not_contradict_real_ids() -> None:
    """Random digits almost never pass GB 11643: IDs that do are real even when many of
    their neighbours have a wrong check digit, so a word-ending name still counts."""
    from test_detect_adversarial import _ids

    ids = _ids(400)
    bad = [i[:17] + ("1" if i[17] == "X" else str((int(i[17]) + 1) % 10)) for i in ids]
    values = ids[:260] + bad[260:]  # 35 % wrong check digits
    ev = against(_profile(values), "cn_resident_id")
    assert ev is not None and ev.failed == 140 and not ev.contradicts
    r = classify_column("jkrsfzh", "TEXT", _profile(values), {}, set())
    assert "cn_resident_id" in ambiguous_hints("jkrsfzh")  # 借款人身份证号: a word ending
    assert r.primary == "cn_resident_id" and not r.notes
