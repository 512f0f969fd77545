"""Known-answer tests for the identifier check characters (vectors in tests/vectors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from handover.detect import checksums as cs

V = json.loads((Path(__file__).parent / "vectors" / "checksums.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("value", V["resident_id_valid"])
def test_resident_id_valid(value: str) -> None:
    assert cs.is_valid_resident_id(value)


@pytest.mark.parametrize("value", V["resident_id_invalid"])
def test_resident_id_invalid(value: str) -> None:
    assert not cs.is_valid_resident_id(value)


@pytest.mark.parametrize("value", V["luhn_valid"])
def test_luhn_valid(value: str) -> None:
    assert cs.is_valid_luhn(value)


@pytest.mark.parametrize("value", V["luhn_invalid"])
def test_luhn_invalid(value: str) -> None:
    assert not cs.is_valid_luhn(value)


@pytest.mark.parametrize("value", V["uscc_valid"])
def test_uscc_valid(value: str) -> None:
    assert cs.is_valid_uscc(value)


@pytest.mark.parametrize("value", V["uscc_invalid"])
def test_uscc_invalid(value: str) -> None:
    assert not cs.is_valid_uscc(value)


def test_weights_are_the_standard_ones() -> None:
    assert cs.ID_WEIGHTS.tolist() == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    assert cs.USCC_WEIGHTS.tolist() == [
        1,
        3,
        9,
        27,
        19,
        26,
        16,
        17,
        20,
        29,
        25,
        13,
        8,
        24,
        10,
        30,
        28,
    ]
    assert len(cs.USCC_CHARS) == 31 and not set("IOSVZ") & set(cs.USCC_CHARS)


def test_vectorised_luhn_generates_what_scalar_accepts() -> None:
    rng = np.random.default_rng(7)
    for length in (16, 19):
        body = rng.integers(0, 10, size=(500, length - 1))
        full = np.concatenate([body, cs.luhn_check_digit(body)[:, None]], axis=1)
        assert cs.luhn_valid(full).all()
        strings = ["".join(map(str, row)) for row in full[:50]]
        assert all(cs.is_valid_luhn(s) for s in strings)
        full[:, -1] = (full[:, -1] + 1) % 10
        assert not cs.luhn_valid(full).any()
