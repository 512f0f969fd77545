"""seal/open: round trips in both suites, tampering, wrong keys, the one opaque error."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.crypto import DecryptionFailed, seal
from handover.crypto import open as open_token
from handover.crypto.errors import DecryptionFailed as Df
from handover.crypto.recipes import DataKey, token_suite
from handover.errors import CheckFailed

KEYS = {"aes": os.urandom(32), "sm": os.urandom(16)}


def test_opaque_error_is_a_check_failure() -> None:
    assert issubclass(DecryptionFailed, CheckFailed) and DecryptionFailed is Df
    assert DecryptionFailed("x").exit_code == 1


@pytest.mark.parametrize("suite", ["aes", "sm"])
def test_round_trip_and_suite_in_header(suite: str) -> None:
    token = seal(b"\xe5\xbc\xa0\xe4\xb8\x89 loan book", b"table=loans", KEYS[suite])
    assert token_suite(token) == suite
    assert open_token(token, b"table=loans", KEYS[suite]) == "张三 loan book".encode()


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=2000), aad=st.binary(max_size=64), sm=st.booleans())
def test_round_trip_property(data: bytes, aad: bytes, sm: bool) -> None:
    key = KEYS["sm" if sm else "aes"]
    assert open_token(seal(data, aad, key), aad, key) == data


def test_injected_randomness_gives_exact_tokens() -> None:
    fixed = seal(b"x", b"", KEYS["aes"], rng=lambda n: b"\x01" * n)
    assert fixed == seal(b"x", b"", KEYS["aes"], rng=lambda n: b"\x01" * n)
    assert fixed[4:16] == b"\x01" * 12
    assert seal(b"x", b"", KEYS["aes"]) != seal(b"x", b"", KEYS["aes"])


@pytest.mark.parametrize("suite", ["aes", "sm"])
def test_every_single_byte_flip_fails_opaquely(suite: str) -> None:
    key = KEYS[suite]
    token = seal(b"repayment schedule", b"row 17", key)
    messages = set()
    for i in range(len(token)):
        bad = bytearray(token)
        bad[i] ^= 0x01
        with pytest.raises(DecryptionFailed) as err:
            open_token(bytes(bad), b"row 17", key, what="loans.parquet")
        messages.add(str(err.value))
    # one message whatever part (header, nonce, ciphertext, tag) was altered
    assert len(messages) == 1
    (message,) = messages
    assert "loans.parquet" in message and key.hex() not in message


@pytest.mark.parametrize("suite", ["aes", "sm"])
def test_wrong_aad_wrong_key_truncation(suite: str) -> None:
    key = KEYS[suite]
    token = seal(b"secret", b"a", key)
    other = os.urandom(len(key))
    for bad_token, aad, k in [
        (token, b"b", key),
        (token, b"a", other),
        (token[:-1], b"a", key),
        (token[:10], b"a", key),
        (b"", b"a", key),
        (token, b"a", KEYS["sm" if suite == "aes" else "aes"]),
    ]:
        with pytest.raises(DecryptionFailed):
            open_token(bad_token, aad, k)


def test_data_key_never_prints_material() -> None:
    dk = DataKey("k-1", 1, "aes", b"\xaa" * 32, b"wrapped")
    assert "aa" * 4 not in repr(dk) and "aaaa" not in str(dk)
    token = seal(b"x", b"", dk)
    assert open_token(token, b"", dk) == b"x"
    wrong_suite = DataKey("k-1", 1, "sm", b"\xaa" * 16, b"w")
    with pytest.raises(DecryptionFailed):
        open_token(token, b"", wrong_suite)


def test_bad_key_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="24-byte key fits no suite"):
        seal(b"x", b"", b"k" * 24)
