"""Keyed HMAC tokens for de-identification (GB/T 37964 pseudonymisation).

The same value gives the same token under one key, so joins survive; without the key
the token reveals nothing. Keys are transfer-scoped keys of purpose ``tokenize``;
destroying the key makes the tokens unlinkable for good.

No Arrow kernel computes an HMAC, so the tokens are computed for *distinct* values only
(``dictionary_encode``) and spread back with ``take``. The HMACs of a whole array are one
call of the C module ``_hmac_many`` (:meth:`suites.Hmac.hex_many`: OpenSSL's digests,
about 0.2 µs a value). Where that module was not built (no C compiler or OpenSSL headers
at install) a Python loop computes them, with the HMAC pads pre-hashed
(:class:`suites.Hmac`, about 1 µs a value, holding the interpreter lock) and a memo of
the values that recur by design. Either way :func:`tokenizer_process` computes them in a
worker process of its own, so that a run's other threads (reading, Arrow kernels, Parquet
writes) keep the first core while the tokens take the second.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handover.crypto import suites
from handover.crypto.digest import hex_each
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
#: distinct values from which a call goes to the worker process (fewer: the pipe's round
#: trip, about a millisecond, would cost more than the HMACs)
PROCESS_MIN = 4_096
Tokens = Callable[["pa.Array | pa.ChunkedArray"], "pa.Array | pa.ChunkedArray"]
#: tokens being computed: the call gives them once they are
Later = Callable[[], "pa.Array"]


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
    #: held while a call fills the memo (calls come from several threads; its room holds)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


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
    return _tokenize(secret, values, algorithm, hex_chars, memo, None)


def _tokenize(
    secret: bytes,
    values: pa.Array | pa.ChunkedArray,
    algorithm: suites.DigestName,
    hex_chars: int,
    memo: TokenMemo | None,
    worker: Executor | None,
) -> pa.Array | pa.ChunkedArray:
    """:func:`tokenize_with`; ``worker``: the process of a :class:`TokenProcess` started
    with this ``secret`` and ``algorithm``, which computes the tokens of
    :data:`PROCESS_MIN` distinct values or more (the same tokens)."""
    import pyarrow as pa

    _check_length(hex_chars, algorithm)
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [_tokenize(secret, c, algorithm, hex_chars, memo, worker) for c in values.chunks],
            type=pa.string(),
        )
    return _tokenize_later(secret, _as_text(values), algorithm, hex_chars, memo, worker)()


def _check_length(hex_chars: int, algorithm: suites.DigestName) -> None:
    if not 8 <= hex_chars <= 2 * len(suites.digest(b"", algorithm)):
        raise BadInput.msg("crypto.token_length", hex_chars=hex_chars)


def _as_text(values: pa.Array) -> pa.Array:
    """``values`` as strings or binaries (others by their Arrow string cast)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (
        pa.types.is_string(values.type)
        or pa.types.is_large_string(values.type)
        or pa.types.is_binary(values.type)
        or pa.types.is_large_binary(values.type)
    ):
        values = pc.cast(values, pa.string())
    return values


def _tokenize_later(
    secret: bytes,
    values: pa.Array,
    algorithm: suites.DigestName,
    hex_chars: int,
    memo: TokenMemo | None,
    worker: Executor | None,
    *,
    distinct: bool = False,
) -> Later:
    """:func:`_tokenize` of one array of strings or binaries, started now: in ``worker``
    when it computes them (the call returned waits for them there), else when the
    returned call is made. ``distinct``: ``values`` holds each value once (no encoding
    needed). The call gives the tokens once and lets go of what it held."""
    import pyarrow as pa

    encoded = None if distinct else values.dictionary_encode()
    uniques = (values if encoded is None else encoded.dictionary).cast(pa.large_binary())
    future = None
    if worker is not None and len(uniques) >= PROCESS_MIN:
        with suppress(BrokenProcessPool, RuntimeError):  # a dead or ending worker
            future = worker.submit(_worker_tokens, uniques, hex_chars)
    held: list[Any] = [encoded, uniques, future]

    def result() -> pa.Array:
        encoded, uniques, future = held
        held[:] = [None, None, None]
        if uniques is None:
            raise RuntimeError("tokens already given")
        out = None
        if future is not None:
            try:
                out = future.result()
            except (BrokenProcessPool, CancelledError, RuntimeError):
                # the worker died (killed, out of memory) or is being ended: computed here
                out = None
        if out is None:
            out = _tokens(suites.Hmac(secret, algorithm), uniques, hex_chars, memo)
        return out if encoded is None else out.take(encoded.indices)

    return result


def _tokens(
    mac: suites.Hmac, uniques: pa.Array, hex_chars: int, memo: TokenMemo | None
) -> pa.Array:
    """The tokens of the distinct values ``uniques`` (large binary), in their order."""
    import pyarrow as pa

    fast = _tokens_at_once(mac, uniques, hex_chars)
    if fast is not None:
        return fast
    nbytes = (hex_chars + 1) // 2
    # the distinct values go through Python a slice at a time (never a million objects)
    parts = []
    for at in range(0, len(uniques), CHUNK):
        chunk = uniques.slice(at, CHUNK).to_pylist()
        if memo is None:
            tokens = [mac.digest(v)[:nbytes].hex()[:hex_chars] for v in chunk]
        else:
            tokens = _memoised(mac, chunk, nbytes, hex_chars, memo)
        parts.append(pa.array(tokens, pa.string()))
    return pa.concat_arrays(parts) if parts else pa.array([], pa.string())


def _tokens_at_once(mac: suites.Hmac, uniques: pa.Array, hex_chars: int) -> pa.Array | None:
    """:func:`_tokens` in one C call a million values (:func:`digest.hex_each`, no Python
    object a value: a memo would cost more than the HMACs it saves); None when that
    module was not built."""
    if not suites.hmac_many_built():
        return None
    return hex_each(uniques, hex_chars, mac=mac)


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
    with memo.lock:
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


def _secret(ws: Workspace, key_id: str) -> tuple[bytes, suites.DigestName]:
    """The secret of the current version of tokenize key ``key_id`` and its suite's HMAC
    digest (SHA-256 for aes, SM3 for sm), read from the key backend once."""
    with Keys(ws) as keys:
        info = keys.active(key_id)
        if info.purpose != TOKENIZE:
            raise BadInput.msg(
                "crypto.wrong_purpose", key_id=key_id, purpose=info.purpose, expected=TOKENIZE
            )
        _, secret = keys.secret(key_id)
    return secret, suites.suite(info.suite).digest


def tokenizer(
    ws: Workspace,
    key_id: str,
    *,
    hex_chars: int = DEFAULT_HEX_CHARS,
    memo: TokenMemo | None = None,
) -> Tokens:
    """The tokens function (:func:`tokenize_with`) of the current version of tokenize key
    ``key_id``, its secret read from the key backend once: a run calls it batch after
    batch, on any thread, without going back to the workspace.

    The HMAC digest follows the key's suite: SHA-256 (aes) or SM3 (sm).
    """
    secret, algorithm = _secret(ws, key_id)

    # a closure, not a functools.partial: a partial's repr would spell the secret out
    def tokens(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        return tokenize_with(secret, values, algorithm=algorithm, hex_chars=hex_chars, memo=memo)

    return tokens


class TokenProcess:
    """:func:`tokenizer`'s function whose calls of :data:`PROCESS_MIN` distinct values or
    more are computed in one worker process (started at the first such call; with a memo
    of its own built like ``memo``). The secret reaches the worker through its pipe, never
    its command line or environment, and is not in this object's repr. Inside a daemonic
    process (a Dask worker), which may not start one, or once the worker died, the tokens
    are computed here; they are the same either way."""

    def __init__(
        self,
        secret: bytes,
        algorithm: suites.DigestName,
        *,
        hex_chars: int = DEFAULT_HEX_CHARS,
        memo: TokenMemo | None = None,
    ) -> None:
        self._secret, self._algorithm, self._hex_chars, self._memo = (
            secret, algorithm, hex_chars, memo,
        )  # fmt: skip
        self._pool: ProcessPoolExecutor | None = None
        if not multiprocessing.current_process().daemon:
            ctx = multiprocessing.get_context("forkserver")
            # the server imports this module ahead (each worker still runs the caller's
            # __main__ as multiprocessing does, guarded as the console script is)
            ctx.set_forkserver_preload([__name__])
            spec = (memo.prefixes, memo.limit) if memo is not None else None
            self._pool = ProcessPoolExecutor(
                1, mp_context=ctx, initializer=_start_worker, initargs=(secret, algorithm, spec)
            )

    def __call__(self, values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        return _tokenize(
            self._secret, values, self._algorithm, self._hex_chars, self._memo, self._pool
        )

    def later(self, values: pa.Array | pa.ChunkedArray, *, distinct: bool = False) -> Later:
        """The tokens of ``values`` (one array; ``distinct``: each value in it once),
        started in the worker now when they go there, so that the caller works on
        meanwhile; the call returned gives them, once."""
        import pyarrow as pa

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        _check_length(self._hex_chars, self._algorithm)
        return _tokenize_later(
            self._secret, _as_text(values), self._algorithm, self._hex_chars, self._memo,
            self._pool, distinct=distinct,
        )  # fmt: skip

    def pids(self) -> list[int]:
        """The worker's process id, once it runs."""
        procs = getattr(self._pool, "_processes", None) or {}
        return sorted(p.pid for p in procs.values() if p.pid is not None)

    def close(self, *, kill: bool = False) -> None:
        """End the worker: after its current call, or at once with ``kill`` (it ignores
        Ctrl-C, which is the caller's to handle)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def tokenizer_process(
    ws: Workspace,
    key_id: str,
    *,
    hex_chars: int = DEFAULT_HEX_CHARS,
    memo: TokenMemo | None = None,
) -> Iterator[TokenProcess]:
    """A :class:`TokenProcess` of the current version of tokenize key ``key_id`` (see
    :func:`tokenizer`), its worker ended on the way out: at once on an error or Ctrl-C."""
    secret, algorithm = _secret(ws, key_id)
    tokens = TokenProcess(secret, algorithm, hex_chars=hex_chars, memo=memo)
    ended = False
    try:
        yield tokens
        ended = True
    finally:
        tokens.close(kill=not ended)


#: in a worker process of :func:`tokenizer_process`: its HMAC and memo
_WORKER: tuple[suites.Hmac, TokenMemo | None] | None = None


def _start_worker(
    secret: bytes, algorithm: suites.DigestName, memo: tuple[tuple[bytes, ...], int] | None
) -> None:
    """In the worker: Ctrl-C is the caller's to handle; the key's HMAC and the memo."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = (suites.Hmac(secret, algorithm), TokenMemo(*memo) if memo is not None else None)


def _worker_tokens(uniques: pa.Array, hex_chars: int) -> pa.Array:
    """In the worker: :func:`_tokens` of ``uniques`` under its key and memo."""
    assert _WORKER is not None
    mac, memo = _WORKER
    return _tokens(mac, uniques, hex_chars, memo)


def tokens_later(
    tokens: Tokens, values: pa.Array | pa.ChunkedArray, *, distinct: bool = False
) -> Later:
    """``tokens(values)`` (one array; ``distinct``: each value in it once) started now
    where ``tokens`` can work beside the caller (a :class:`TokenProcess`), else computed
    now; the call returned gives them."""
    import pyarrow as pa

    if isinstance(tokens, TokenProcess):
        return tokens.later(values, distinct=distinct)
    done = tokens(values)
    out = done.combine_chunks() if isinstance(done, pa.ChunkedArray) else done
    return lambda: out


def tokenize(
    ws: Workspace,
    key_id: str,
    values: pa.Array | pa.ChunkedArray,
    *,
    hex_chars: int = DEFAULT_HEX_CHARS,
) -> pa.Array | pa.ChunkedArray:
    """Tokens of ``values`` under the current version of tokenize key ``key_id``."""
    return tokenizer(ws, key_id, hex_chars=hex_chars)(values)
