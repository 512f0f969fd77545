"""Known-answer tests for every primitive handover.crypto uses (vectors in tests/vectors/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handover.crypto import suites
from handover.crypto.digest import file_digest

VECTORS = Path(__file__).parent / "vectors"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


AES_CASES = load("crypto_aes_gcm.json")["cases"]
SM = load("crypto_sm.json")
MISC = load("crypto_misc.json")


@pytest.mark.parametrize("case", AES_CASES, ids=[c["name"] for c in AES_CASES])
def test_aes_256_gcm_gcm_spec(case: dict[str, str]) -> None:
    key, iv = bytes.fromhex(case["key"]), bytes.fromhex(case["iv"])
    pt, aad = bytes.fromhex(case["plaintext"]), bytes.fromhex(case["aad"])
    expected = bytes.fromhex(case["ciphertext"] + case["tag"])
    assert suites.AES.encrypt(key, iv, pt, aad) == expected
    assert suites.AES.decrypt(key, iv, expected, aad) == pt


def test_sm4_block_gbt_32907() -> None:
    v = SM["sm4_block"]
    assert (
        suites.sm4_ecb_block(bytes.fromhex(v["key"]), bytes.fromhex(v["plaintext"])).hex()
        == (v["ciphertext"])
    )


def test_sm4_gcm_rfc_8998() -> None:
    v = SM["sm4_gcm"]
    key, iv, aad = bytes.fromhex(v["key"]), bytes.fromhex(v["iv"]), bytes.fromhex(v["aad"])
    pt = bytes.fromhex(v["plaintext"])
    out = suites.SM.encrypt(key, iv, pt, aad)
    assert out.hex() == v["ciphertext"] + v["tag"]
    assert suites.SM.decrypt(key, iv, out, aad) == pt
    bad = out[:-1] + bytes([out[-1] ^ 1])
    with pytest.raises(suites.AuthenticationError):
        suites.SM.decrypt(key, iv, bad, aad)


@pytest.mark.parametrize("case", SM["sm3"]["cases"], ids=["abc", "abcd*16"])
def test_sm3_gbt_32905(case: dict[str, str], tmp_path: Path) -> None:
    message = case["message_ascii"].encode("ascii")
    assert suites.digest(message, "sm3").hex() == case["digest"]
    path = tmp_path / "m.txt"
    path.write_bytes(message)
    assert file_digest(path, "sm3") == case["digest"]


def test_sha256_fips_180() -> None:
    v = MISC["sha256"]
    assert suites.digest(v["message_ascii"].encode("ascii")).hex() == v["digest"]


def test_hmac_sha256_rfc_4231_case_2() -> None:
    v = MISC["hmac_sha256"]
    mac = suites.hmac_digest(v["key_ascii"].encode(), v["data_ascii"].encode(), "sha256")
    assert mac.hex() == v["mac"]


def test_hmac_long_key_is_hashed_first() -> None:
    import hmac

    key = bytes(range(200))
    assert suites.hmac_digest(key, b"msg") == hmac.digest(key, b"msg", "sha256")


def test_ed25519_rfc_8032_test_1() -> None:
    v = MISC["ed25519"]
    seed = bytes.fromhex(v["secret_key"])
    assert suites.ed25519_public(seed).hex() == v["public_key"]
    sig = suites.ed25519_sign(seed, bytes.fromhex(v["message"]))
    assert sig.hex() == v["signature"]
    pub = bytes.fromhex(v["public_key"])
    assert suites.ed25519_verify(pub, b"", sig)
    assert not suites.ed25519_verify(pub, b"x", sig)
    assert suites.ed25519_public_from_pem(suites.ed25519_public_pem(pub)) == pub


@pytest.mark.parametrize("case", MISC["scrypt"]["cases"], ids=["empty", "password-NaCl"])
def test_scrypt_rfc_7914(case: dict[str, Any]) -> None:
    out = suites.scrypt(
        case["password_ascii"].encode(),
        case["salt_ascii"].encode(),
        n=case["n"],
        r=case["r"],
        p=case["p"],
        length=64,
    )
    assert out.hex() == case["derived"]


@pytest.mark.skipif(not suites.has_argon2id(), reason="cryptography without Argon2id")
def test_argon2id_rfc_9106() -> None:
    v = MISC["argon2id"]
    out = suites.argon2id(
        bytes.fromhex(v["password"]),
        bytes.fromhex(v["salt"]),
        iterations=v["iterations"],
        memory_kib=v["memory_kib"],
        lanes=v["lanes"],
        length=32,
        secret=bytes.fromhex(v["secret"]),
        ad=bytes.fromhex(v["ad"]),
    )
    assert out.hex() == v["tag"]


#: RFC 1321, appendix A.5 (the MD5 test suite)
MD5_RFC_1321 = [
    (b"", "d41d8cd98f00b204e9800998ecf8427e"),
    (b"a", "0cc175b9c0f1b6a831c399e269772661"),
    (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
    (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    (b"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "d174ab98d277d9f5a5611c2c9f419d9f",
    ),
    (b"1234567890" * 8, "57edf4a22be3c955ac49da2e2107b67a"),
]


def test_md5_fingerprints_rfc_1321() -> None:
    """verify's row fingerprints, one at a time and in bulk (CPython's own MD5 where
    there is one), against the RFC's test suite."""
    from handover.crypto.digest import md5_fingerprint, md5_fingerprints

    bulk = md5_fingerprints(m for m, _h in MD5_RFC_1321)
    assert [bulk[i : i + 16].hex() for i in range(0, len(bulk), 16)] == [
        h for _m, h in MD5_RFC_1321
    ]
    assert [md5_fingerprint(m).hex() for m, _h in MD5_RFC_1321] == [h for _m, h in MD5_RFC_1321]
