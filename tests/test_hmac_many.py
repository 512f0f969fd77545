"""The C module that computes HMAC tokens of many values in one call (``_hmac_many``):
known answers (RFC 4231), the same tokens as the Python path for every digest, slice and
length, and refusals of malformed buffers."""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from tests.conftest import require_built

from handover.crypto import suites

try:
    from handover.crypto import _hmac_many
except ImportError:
    _hmac_many = None  # type: ignore[assignment]

tokenize = importlib.import_module("handover.crypto.tokenize")
CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "vectors" / "crypto_misc.json").read_text(encoding="utf-8")
)["hmac_sha256_rfc4231"]["cases"]


@pytest.fixture(autouse=True)
def _built() -> None:
    require_built(
        _hmac_many is not None, "handover.crypto._hmac_many", "C compiler or OpenSSL headers"
    )


def _many(mac: suites.Hmac, values: pa.Array, hex_chars: int) -> list[str]:
    out = tokenize._tokens_at_once(mac, values.cast(pa.large_binary()), hex_chars)
    assert out is not None
    tokens: list[str] = out.to_pylist()
    return tokens


@pytest.mark.parametrize("case", CASES, ids=[f"case-{c['case']}" for c in CASES])
def test_rfc_4231_known_answers(case: dict[str, str]) -> None:
    mac = suites.Hmac(bytes.fromhex(case["key"]), "sha256")
    values = pa.array([bytes.fromhex(case["data"])], pa.binary())
    assert _many(mac, values, 64) == [case["mac"]]
    assert _many(mac, values, 9) == [case["mac"][:9]]


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
@pytest.mark.parametrize("key_length", [1, 32, 64, 65, 200])
def test_the_same_tokens_as_openssls_own_hmac(
    algorithm: suites.DigestName, key_length: int
) -> None:
    """Against ``cryptography``'s HMAC (OpenSSL's HMAC, not the pads of suites.Hmac), on
    empty, ASCII, Chinese and binary values, read from a slice of the array."""
    rng = random.Random(key_length)
    key = rng.randbytes(key_length)
    values = [
        b"",
        "张三".encode(),
        b"13800138000",
        *(rng.randbytes(rng.randint(0, 300)) for _ in range(400)),
    ]
    arr = pa.array(values, pa.large_binary()).slice(1, 350)
    digest = hashes.SHA256() if algorithm == "sha256" else hashes.SM3()

    def reference(v: bytes) -> str:
        h = HMAC(key, digest)
        h.update(v)
        return h.finalize().hex()

    mac = suites.Hmac(key, algorithm)
    for hex_chars in (8, 31, 32, 64):
        want = [reference(v)[:hex_chars] for v in values[1:351]]
        assert _many(mac, arr, hex_chars) == want
        # and the Python path gives them too
        assert [mac.digest(v).hex()[:hex_chars] for v in values[1:351]] == want


def test_tokenize_gives_the_same_tokens_with_and_without_the_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    values = pa.chunked_array([["a", None, "b", "a"], ["张三", "", None]])
    fast = tokenize.tokenize_with(b"k" * 32, values, hex_chars=20).to_pylist()
    monkeypatch.setattr(suites, "_hmac_many", None)
    slow = tokenize.tokenize_with(b"k" * 32, values, hex_chars=20).to_pylist()
    assert fast == slow
    assert fast[1] is None and fast[0] == fast[3] and len(fast[4]) == 20


def test_malformed_buffers_are_refused_not_read() -> None:
    module = _hmac_many
    block = b"\0" * 64
    offsets = pa.array([0, 3, 99], pa.int64()).buffers()[1]
    with pytest.raises(ValueError, match="outside the data"):
        module.hex_many("sha256", block, memoryview(offsets), memoryview(b"abcdef"), 2, 32)
    with pytest.raises(ValueError, match="too few offsets"):
        module.hex_many("sha256", block, memoryview(offsets), memoryview(b"abcdef"), 5, 32)
    good = pa.array([0, 3], pa.int64()).buffers()[1]
    with pytest.raises(ValueError, match="one block"):
        module.hex_many("sha256", b"short", memoryview(good), memoryview(b"abc"), 1, 32)
    with pytest.raises(ValueError, match="token length"):
        module.hex_many("sha256", block, memoryview(good), memoryview(b"abc"), 1, 65)
    # a digest this OpenSSL does not have (SM3 under a FIPS provider): None, the caller
    # computes the tokens another way
    assert (
        module.hex_many("no-such-digest", block, memoryview(good), memoryview(b"abc"), 1, 32)
        is None
    )
    assert module.hex_digests("no-such-digest", memoryview(good), memoryview(b"abc"), 1, 32) is None
    # a count whose offsets' size overflows is refused, not read past the buffer
    with pytest.raises(ValueError, match="too few offsets"):
        module.hex_many("sha256", block, memoryview(good), memoryview(b"abc"), 2**61 + 1, 8)
    text = module.hex_many("sha256", block, memoryview(good), memoryview(b"abc"), 1, 32)
    assert text is not None and len(text) == 32


def test_plain_digests_known_answers_and_the_python_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """``digest.hex_each`` without a key: FIPS 180-2 B.1 (SHA-256) and GB/T 32905 A.1
    (SM3) of "abc", then the same digests with and without the C module."""
    hex_each = importlib.import_module("handover.crypto.digest").hex_each
    misc = json.loads((Path(__file__).parent / "vectors" / "crypto_misc.json").read_text())
    sm = json.loads((Path(__file__).parent / "vectors" / "crypto_sm.json").read_text())
    abc = pa.array(["x", "abc"]).slice(1)
    assert hex_each(abc, 64).to_pylist() == [misc["sha256"]["digest"]]
    assert hex_each(abc, 64, algorithm="sm3").to_pylist() == [sm["sm3"]["cases"][0]["digest"]]
    rng = random.Random(7)
    values = pa.array([rng.randbytes(rng.randint(0, 150)) for _ in range(500)], pa.binary())
    fast = [hex_each(values, 21, algorithm=a).to_pylist() for a in ("sha256", "sm3")]
    monkeypatch.setattr(suites, "_hmac_many", None)
    assert fast == [hex_each(values, 21, algorithm=a).to_pylist() for a in ("sha256", "sm3")]
    with pytest.raises(ValueError, match="no nulls"):
        hex_each(pa.array(["a", None]), 32)


def test_the_notices_keys_are_those_of_one_notice_at_a_time() -> None:
    from handover.notices.outbox import idem_key, idem_keys

    people = pa.array([f"客户{i}|4401" for i in range(2_000)]).slice(3)
    got = idem_keys(12, people, "email").to_pylist()
    assert got == [idem_key(12, p, "email") for p in people.to_pylist()]
    assert len(set(got)) == len(people)


def test_a_digest_the_module_lacks_is_computed_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens under a digest the system's OpenSSL does not offer to the C module come
    from the Python path, the same tokens (stood in for by a name the module cannot
    fetch, then the real SM3 computed by ``suites``)."""
    real = _hmac_many.hex_many

    def without_sm3(name: str, *args: object) -> bytes | None:
        return real("no-such-digest" if name == "sm3" else name, *args)  # type: ignore[arg-type]

    values = pa.array(["张三", "13800138000", "", "张三"])
    want = tokenize.tokenize_with(b"k" * 32, values, algorithm="sm3").to_pylist()
    monkeypatch.setattr(_hmac_many, "hex_many", without_sm3)
    assert tokenize.tokenize_with(b"k" * 32, values, algorithm="sm3").to_pylist() == want
