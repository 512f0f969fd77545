"""Keyed HMAC tokens for de-identification (GB/T 37964 pseudonymisation).

The same value gives the same token under one key, so joins survive; without the key
the token reveals nothing. Keys are transfer-scoped keys of purpose ``tokenize``;
destroying the key makes the tokens unlinkable for good.

No Arrow kernel computes an HMAC, so the loop runs over *distinct* values only
(``dictionary_encode``), with the HMAC pads pre-hashed (:class:`suites.Hmac`), and the
result is spread back with ``take``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
#: tokens a memo holds at most (about 150 bytes each)
MEMO_LIMIT = 1_500_000


@dataclass
class TokenMemo:
    """The tokens one run already computed for the values that recur by design (a join
    key's domain: a customer's key in every table that references it), looked up instead
    of computed again. Only messages starting with one of ``prefixes`` are kept, at most
    ``limit`` of them; the others are computed as without a memo. The tokens are the
    same with or without it; the memo lives in memory for one run and is never written."""

    prefixes: tuple[bytes, ...]
    limit: int = MEMO_LIMIT
    tokens: dict[bytes, str] = field(default_factory=dict, repr=False)


def tokenize_with(
    secret: bytes,
    values: pa.Array | pa.ChunkedArray,
    *,
    algorithm: suites.DigestName = "sha256",
    hex_chars: int = DEFAULT_HEX_CHARS,
    memo: TokenMemo | None = None,
) -> pa.Array | pa.ChunkedArray:
    """Hex HMAC tokens (first ``hex_chars`` characters) of each value; nulls stay null.

    Non-string values are tokenised by their Arrow string cast (``123`` → ``"123"``).
    ``memo``: tokens of recurring values kept across calls of one run (same key, same
    ``hex_chars``), so each is computed once.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not 8 <= hex_chars <= 2 * len(suites.digest(b"", algorithm)):
        raise BadInput.msg("crypto.token_length", hex_chars=hex_chars)
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [
                tokenize_with(secret, c, algorithm=algorithm, hex_chars=hex_chars, memo=memo)
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
    parts = []
    for at in range(0, len(uniques), CHUNK):
        chunk = uniques.slice(at, CHUNK).to_pylist()
        if memo is None:
            tokens = [mac.digest(v)[:nbytes].hex()[:hex_chars] for v in chunk]
        else:
            tokens = _memoised(mac, chunk, nbytes, hex_chars, memo)
        parts.append(pa.array(tokens, pa.string()))
    out = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
    return out.take(encoded.indices)


def _memoised(
    mac: suites.Hmac, uniques: list[bytes], nbytes: int, hex_chars: int, memo: TokenMemo
) -> list[str]:
    """The tokens of distinct ``uniques``: from ``memo`` when it holds them, else computed
    (and kept when their prefix recurs and the memo has room). Values whose first one has
    no remembered prefix are computed as without a memo (the extract tokenises one
    column, one domain, per call)."""
    known, prefixes = memo.tokens, memo.prefixes
    if not uniques or not uniques[0].startswith(prefixes):
        return [mac.digest(v)[:nbytes].hex()[:hex_chars] for v in uniques]
    room = memo.limit - len(known)
    out: list[str] = []
    for v in uniques:
        token = known.get(v)
        if token is None:
            token = mac.digest(v)[:nbytes].hex()[:hex_chars]
            if room > 0 and v.startswith(prefixes):
                known[v] = token
                room -= 1
        out.append(token)
    return out


def tokenizer(
    ws: Workspace,
    key_id: str,
    *,
    hex_chars: int = DEFAULT_HEX_CHARS,
    memo: TokenMemo | None = None,
) -> Callable[[pa.Array | pa.ChunkedArray], pa.Array | pa.ChunkedArray]:
    """The tokens function (:func:`tokenize_with`) of the current version of tokenize key
    ``key_id``, its secret read from the key backend once: a run calls it batch after
    batch, on any thread, without going back to the workspace.

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

    # a closure, not a functools.partial: a partial's repr would spell the secret out
    def tokens(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        return tokenize_with(secret, values, algorithm=algorithm, hex_chars=hex_chars, memo=memo)

    return tokens


def tokenize(
    ws: Workspace,
    key_id: str,
    values: pa.Array | pa.ChunkedArray,
    *,
    hex_chars: int = DEFAULT_HEX_CHARS,
) -> pa.Array | pa.ChunkedArray:
    """Tokens of ``values`` under the current version of tokenize key ``key_id``."""
    return tokenizer(ws, key_id, hex_chars=hex_chars)(values)
