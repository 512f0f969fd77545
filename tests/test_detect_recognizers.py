"""Known-answer tests of every recognizer (vectors in tests/vectors/detect_values.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handover.detect import validate
from handover.detect.recognizers import RECOGNIZERS

VECTORS = json.loads((Path(__file__).parent / "vectors" / "detect_values.json").read_text("utf-8"))
CASES = [
    (key, value, expected)
    for key, sets in VECTORS.items()
    if not key.startswith("_")
    for expected, values in (("valid", sets["valid"]), ("invalid", sets["invalid"]))
    for value in values
]


@pytest.mark.parametrize(("key", "value", "expected"), CASES)
def test_known_answers(key: str, value: str, expected: str) -> None:
    assert bool(validate(key, [value])[0]) == (expected == "valid"), (key, value)


def test_vectorised_over_many_values_and_nulls() -> None:
    values = [
        "11010519491231002X",
        None,
        "110101199003071234",
        "",
        "１１０１０５１９４９１２３１００２Ｘ",
    ]
    assert validate("cn_resident_id", values).tolist() == [True, False, False, False, True]


def test_id_with_newer_county_code_is_not_rejected() -> None:
    # 330782 (义乌市) became a county-level code in 1988: someone born in 1970 may hold it.
    import numpy as np

    from handover.detect.checksums import ID_CHECK_CHARS, id_check_index

    body = "33078219700101123"
    check = ID_CHECK_CHARS[int(id_check_index(np.array([[int(c) for c in body]]))[0])]
    assert validate("cn_resident_id", [body + check]).tolist() == [True]


def test_every_recognizer_is_declarative_and_explained() -> None:
    keys = [r.key for r in RECOGNIZERS]
    assert len(keys) == len(set(keys))
    from handover.taxonomy import get

    for r in RECOGNIZERS:
        assert r.check, r.key
        assert 0 < r.score <= 1
        get(r.type)  # every recognizer maps to a taxonomy type
