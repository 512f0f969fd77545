"""The fenced primitives: AEAD ciphers, digests, HMAC, KDFs and Ed25519.

This is the only module of handover that imports ``cryptography.hazmat``. Everything
above it (recipes, keys, signatures, tokenisation, Parquet glue) calls these small
functions, so a suite is chosen in one place and known-answer tests cover exactly the
code that runs.

Suites:

* ``aes`` — AES-256-GCM for data, SHA-256 for digests and HMAC (GB/T and NIST alike).
* ``sm`` — SM4-GCM (RFC 8998) for data, SM3 for digests and HMAC (GB/T 32907, 32905).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal, Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

try:
    from handover.crypto import _hmac_many
except ImportError:  # not built: no C compiler or OpenSSL headers at install
    _hmac_many = None  # type: ignore[assignment]

SuiteName = Literal["aes", "sm"]
DigestName = Literal["sha256", "sm3"]
NONCE_BYTES = 12
TAG_BYTES = 16


class AuthenticationError(Exception):
    """An AEAD tag did not verify (internal; recipes turn it into DecryptionFailed)."""


@dataclass(frozen=True)
class Suite:
    """A cipher suite: its AEAD for data and the digest used for hashes and HMAC."""

    name: SuiteName
    code: int
    aead: str
    key_bytes: int
    digest: DigestName

    def bind(self, key: bytes) -> Aead:
        """This suite's AEAD bound to ``key``; reuse it to skip per-call key set-up."""
        return Aead(self, key)

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """AEAD-encrypt: ciphertext followed by the 16-byte tag."""
        return Aead(self, key).encrypt(nonce, plaintext, aad)

    def decrypt(self, key: bytes, nonce: bytes, data: bytes | memoryview, aad: bytes) -> bytes:
        """AEAD-decrypt ``ciphertext || tag``; raise AuthenticationError if it does not verify."""
        return Aead(self, key).decrypt(nonce, data, aad)


class Aead:
    """An AEAD of one suite bound to one key.

    For AES the ``AESGCM`` object (OpenSSL context, key schedule) is built once: that
    set-up costs more than sealing a 64-byte message (bench_crypto).
    """

    def __init__(self, suite: Suite, key: bytes) -> None:
        _check_key(suite, key)
        self.suite = suite
        self._key = key
        self._aes = AESGCM(key) if suite.name == "aes" else None

    def encrypt(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """``ciphertext || tag``."""
        if self._aes is not None:
            return self._aes.encrypt(nonce, plaintext, aad)
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext)
        enc.finalize()  # GCM is a stream mode: nothing is left to flush
        return b"".join((body, enc.tag))

    def encrypt_into(self, nonce: bytes, plaintext: bytes, aad: bytes, out: memoryview) -> None:
        """Encrypt into ``out`` (exactly ``len(plaintext) + 16`` bytes: ciphertext, tag).

        One preallocated buffer avoids a second large allocation and copy, which costs
        more than the cipher itself for MiB-sized messages (bench_crypto).
        """
        if len(out) != len(plaintext) + TAG_BYTES:
            raise ValueError("output buffer must be plaintext length + 16 bytes")
        if self._aes is not None:
            self._aes.encrypt_into(nonce, plaintext, aad, out)
            return
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        # update_into wants len(data) + 15 bytes of room; the tag's 16 bytes provide it.
        written = enc.update_into(plaintext, out)
        enc.finalize()
        out[written : written + TAG_BYTES] = enc.tag

    def decrypt(self, nonce: bytes, data: bytes | memoryview, aad: bytes) -> bytes:
        """Verify and decrypt ``ciphertext || tag``; AuthenticationError if it does not verify."""
        if len(data) < TAG_BYTES or len(nonce) != NONCE_BYTES:
            raise AuthenticationError("truncated")
        try:
            if self._aes is not None:
                return self._aes.decrypt(nonce, data, aad)
            body, tag = data[:-TAG_BYTES], bytes(data[-TAG_BYTES:])
            dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
            dec.authenticate_additional_data(aad)
            clear = dec.update(body)
            dec.finalize()
            return clear
        except InvalidTag:
            raise AuthenticationError("tag") from None


AES = Suite(name="aes", code=1, aead="AES-256-GCM", key_bytes=32, digest="sha256")
SM = Suite(name="sm", code=2, aead="SM4-GCM", key_bytes=16, digest="sm3")
SUITES: dict[str, Suite] = {"aes": AES, "sm": SM}
SUITES_BY_CODE: dict[int, Suite] = {s.code: s for s in SUITES.values()}


def suite(name: str) -> Suite:
    """The suite called ``name`` (``aes`` or ``sm``)."""
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown crypto suite {name!r}; use aes or sm") from None


def _check_key(s: Suite, key: bytes) -> None:
    if len(key) != s.key_bytes:
        # Never echo the key; its length is not secret.
        raise ValueError(f"{s.aead} needs a {s.key_bytes}-byte key, got {len(key)} bytes")


class RandomStream:
    """Random bytes for overwriting media: the AES-256-CTR keystream under a key and an
    initial counter block drawn from the OS (``os.urandom``) for this stream alone and
    never stored — a CSPRNG twenty times cheaper per byte than reading ``os.urandom``
    for every byte (about 0.25 s against 5 s of CPU per GiB)."""

    #: bytes one stream gives at most (well below the 2**128 counter blocks of CTR)
    LIMIT = 1 << 50

    def __init__(self, _seed: tuple[bytes, bytes] | None = None) -> None:
        import os

        #: the key and initial counter block, in memory only (for :meth:`again`)
        self._seed = _seed or (os.urandom(32), os.urandom(16))
        key, counter = self._seed
        self._enc = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
        self._zeros = b""
        self._given = 0

    def again(self) -> RandomStream:
        """The same stream from its first byte (a read-back compares with it: generating
        the bytes again costs less than hashing them twice)."""
        return RandomStream(self._seed)

    def read(self, n: int) -> bytes:
        """The next ``n`` bytes of the stream."""
        self._given += n
        if self._given > self.LIMIT:
            raise ValueError("random stream exhausted")
        if len(self._zeros) < n:
            self._zeros = bytes(n)
        return self._enc.update(memoryview(self._zeros)[:n])


def sm4_ecb_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with raw SM4 (for the GB/T 32907 known-answer test only)."""
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


class HashObject(Protocol):
    """What handover needs of a hash object (hashlib's interface)."""

    @property
    def block_size(self) -> int: ...

    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...

    def hexdigest(self) -> str: ...

    def copy(self) -> HashObject: ...


class _Sm3:
    """SM3 through ``cryptography`` for an OpenSSL whose hashlib lacks it."""

    block_size = 64

    def __init__(self, ctx: hashes.Hash | None = None) -> None:
        self._ctx = ctx if ctx is not None else hashes.Hash(hashes.SM3())

    def update(self, data: bytes | bytearray | memoryview, /) -> None:
        self._ctx.update(bytes(data))

    def digest(self) -> bytes:
        return self._ctx.copy().finalize()

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> _Sm3:
        return _Sm3(self._ctx.copy())


def new_hash(name: DigestName, data: bytes = b"") -> HashObject:
    """A streaming hash object for ``sha256`` or ``sm3``."""
    try:
        return hashlib.new(name, data)
    except ValueError:
        if name != "sm3":
            raise
        h = _Sm3()
        h.update(data)
        return h


def digest(data: bytes, name: DigestName = "sha256") -> bytes:
    """One-shot digest of ``data`` with SHA-256 or SM3."""
    return new_hash(name, data).digest()


class Hmac:
    """HMAC with the inner and outer pads hashed once, for many short messages.

    Per message it costs two ``copy()`` + ``update`` of OpenSSL hash states: about
    three times faster than ``hmac.digest`` on 20-byte values (bench_crypto).
    """

    def __init__(self, key: bytes, name: DigestName = "sha256") -> None:
        block = new_hash(name).block_size
        if len(key) > block:
            key = digest(key, name)
        key = key.ljust(block, b"\0")
        self._name, self._block_key = name, key
        self._inner = new_hash(name, bytes(b ^ 0x36 for b in key))
        self._outer = new_hash(name, bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        """HMAC(key, message)."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hex_many(
        self, offsets: memoryview, data: memoryview, count: int, hex_chars: int
    ) -> bytes | None:
        """The first ``hex_chars`` hex characters of the HMAC of each of ``count``
        messages laid out as an Arrow large binary array (``offsets``: ``count + 1``
        int64 from its first value on; ``data``: its data buffer), all in one call of
        the C module ``_hmac_many`` (OpenSSL's digests, the same construction; about
        0.2 µs a message against 1 µs here). None when that module was not built
        (no C compiler or OpenSSL headers at install) or the system's OpenSSL has no
        such digest (SM3 under a FIPS provider: ``new_hash`` takes it from
        ``cryptography``'s): the caller computes them message by message."""
        if _hmac_many is None:
            return None
        return _hmac_many.hex_many(self._name, self._block_key, offsets, data, count, hex_chars)


def hmac_many_built() -> bool:
    """Whether the C module ``_hmac_many`` was built (:meth:`Hmac.hex_many`)."""
    return _hmac_many is not None


def hex_digests(
    offsets: memoryview, data: memoryview, count: int, hex_chars: int, name: DigestName
) -> bytes | None:
    """:meth:`Hmac.hex_many` for the plain digests of the messages (no key); None when
    the C module was not built or has no such digest."""
    if _hmac_many is None:
        return None
    return _hmac_many.hex_digests(name, offsets, data, count, hex_chars)


def hmac_digest(key: bytes, message: bytes, name: DigestName = "sha256") -> bytes:
    """One-shot HMAC of ``message`` under ``key`` with SHA-256 or SM3."""
    return Hmac(key, name).digest(message)


def scrypt(password: bytes, salt: bytes, *, n: int, r: int, p: int, length: int) -> bytes:
    """scrypt (RFC 7914)."""
    return Scrypt(salt=salt, length=length, n=n, r=r, p=p).derive(password)


def has_argon2id() -> bool:
    """Whether the installed ``cryptography`` offers Argon2id (45+)."""
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: F401
    except ImportError:
        return False
    return True


def argon2id(
    password: bytes,
    salt: bytes,
    *,
    iterations: int,
    memory_kib: int,
    lanes: int,
    length: int,
    secret: bytes | None = None,
    ad: bytes | None = None,
) -> bytes:
    """Argon2id (RFC 9106)."""
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    kdf = Argon2id(
        salt=salt,
        length=length,
        iterations=iterations,
        lanes=lanes,
        memory_cost=memory_kib,
        ad=ad,
        secret=secret,
    )
    return kdf.derive(password)


def ed25519_public(seed: bytes) -> bytes:
    """The raw 32-byte public key of the Ed25519 private key ``seed``."""
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def ed25519_sign(seed: bytes, data: bytes) -> bytes:
    """Ed25519 signature (RFC 8032) of ``data`` with the private key ``seed``."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(data)


def ed25519_verify(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def ed25519_public_pem(public_key: bytes) -> str:
    """The SubjectPublicKeyInfo PEM form of a raw Ed25519 public key."""
    pem = Ed25519PublicKey.from_public_bytes(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def ed25519_public_from_pem(pem: str | bytes) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given in PEM form."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
