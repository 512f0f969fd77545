"""Keyed HMAC tokens for de-identification (GB/T 37964 pseudonymisation).

The same value gives the same token under one key, so joins survive; without the key
the token reveals nothing. Keys are transfer-scoped keys of purpose ``tokenize``;
destroying the key makes the tokens unlinkable for good.

No Arrow kernel computes an HMAC, so the loop runs over *distinct* values only
(``dictionary_encode``), with the HMAC pads pre-hashed (:class:`suites.Hmac`), and the
result is spread back with ``take``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handover.crypto import suites
from handover.crypto.keys import TOKENIZE, Keys
from handover.errors import BadInput

if TYPE_CHECKING:
    import pyarrow as pa

    from handover.workspace import Workspace

DEFAULT_HEX_CHARS = 32
#: distinct values turned into Python objects at a time
CHUNK = 65_536


def tokenize_with(
    secret: bytes,
    values: pa.Array | pa.ChunkedArray,
    *,
    algorithm: suites.DigestName = "sha256",
    hex_chars: int = DEFAULT_HEX_CHARS,
) -> pa.Array | pa.ChunkedArray:
    """Hex HMAC tokens (first ``hex_chars`` characters) of each value; nulls stay null.

    Non-string values are tokenised by their Arrow string cast (``123`` → ``"123"``).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not 8 <= hex_chars <= 2 * len(suites.digest(b"", algorithm)):
        raise BadInput.msg("crypto.token_length", hex_chars=hex_chars)
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [
                tokenize_with(secret, c, algorithm=algorithm, hex_chars=hex_chars)
                for c in values.chunks
            ],
            type=pa.string(),
        )
    if not (
        pa.types.is_string(values.type)
        or pa.types.is_large_string(values.type)
        or pa.types.is_binary(values.type)
        or pa.types.is_large_binary(values.type)
    ):
        values = pc.cast(values, pa.string())
    encoded = values.dictionary_encode()
    mac = suites.Hmac(secret, algorithm)
    nbytes = (hex_chars + 1) // 2
    uniques = encoded.dictionary.cast(pa.large_binary())
    # the distinct values go through Python a slice at a time (never a million objects)
    parts = [
        pa.array(
            [
                mac.digest(v)[:nbytes].hex()[:hex_chars]
                for v in uniques.slice(at, CHUNK).to_pylist()
            ],
            pa.string(),
        )
        for at in range(0, len(uniques), CHUNK)
    ]
    tokens = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
    return tokens.take(encoded.indices)


def tokenize(
    ws: Workspace,
    key_id: str,
    values: pa.Array | pa.ChunkedArray,
    *,
    hex_chars: int = DEFAULT_HEX_CHARS,
) -> pa.Array | pa.ChunkedArray:
    """Tokens of ``values`` under the current version of tokenize key ``key_id``.

    The HMAC digest follows the key's suite: SHA-256 (aes) or SM3 (sm).
    """
    with Keys(ws) as keys:
        info = keys.active(key_id)
        if info.purpose != TOKENIZE:
            raise BadInput.msg(
                "crypto.wrong_purpose", key_id=key_id, purpose=info.purpose, expected=TOKENIZE
            )
        _, secret = keys.secret(key_id)
    algorithm = suites.suite(info.suite).digest
    return tokenize_with(secret, values, algorithm=algorithm, hex_chars=hex_chars)
