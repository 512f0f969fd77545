"""HMAC tokenisation over Arrow arrays, and the one hasher for files."""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import time
from pathlib import Path

import pyarrow as pa
import pytest

from handover.crypto import KeyDestroyed, Keys, sha256_file, sm3_file, tokenize, tokenize_with
from handover.errors import BadInput
from handover.ledger import Recorder
from handover.workspace import Workspace

SECRET = bytes(range(32))


def test_tokens_equal_hmac_per_value_and_keep_nulls() -> None:
    values = pa.array(["110101199003074477", None, "张三", "110101199003074477", ""])
    out = tokenize_with(SECRET, values)
    assert out.type == pa.string()
    expected = [
        None if v is None else hmac.digest(SECRET, v.encode(), "sha256").hex()[:32]
        for v in values.to_pylist()
    ]
    assert out.to_pylist() == expected


def test_non_string_and_chunked_inputs() -> None:
    ints = pa.array([1, 2, 1, None], pa.int64())
    out = tokenize_with(SECRET, ints, hex_chars=16)
    assert out.to_pylist()[0] == hmac.digest(SECRET, b"1", "sha256").hex()[:16]
    assert out[0] == out[2] and out[3].as_py() is None
    chunked = pa.chunked_array([["a", "b"], ["a"]])
    got = tokenize_with(SECRET, chunked)
    assert isinstance(got, pa.ChunkedArray) and got.num_chunks == 2
    assert got.to_pylist()[0] == got.to_pylist()[2]
    large = tokenize_with(SECRET, pa.array(["a"], pa.large_string()))
    assert large.to_pylist() == got.to_pylist()[:1]


def test_sm3_tokens_and_length_bounds() -> None:
    out = tokenize_with(SECRET, pa.array(["abc"]), algorithm="sm3", hex_chars=64)
    assert len(out[0].as_py()) == 64
    assert out[0].as_py() != tokenize_with(SECRET, pa.array(["abc"]), hex_chars=64)[0].as_py()
    with pytest.raises(BadInput):
        tokenize_with(SECRET, pa.array(["abc"]), hex_chars=4)


def test_workspace_tokenize_key(workspace: Workspace) -> None:
    with Keys(workspace, events=Recorder(workspace, "os:test")) as keys:
        k1 = keys.create("tokenize").key_id
        k2 = keys.create("tokenize").key_id
        other = keys.create("transfer").key_id
    ids = pa.array(["110101199003074477", "440524188001010014", "110101199003074477"])
    a = tokenize(workspace, k1, ids)
    assert a[0] == a[2] and a[0] != a[1]
    assert tokenize(workspace, k1, ids).equals(a)  # stable across calls: joins survive
    assert tokenize(workspace, k2, ids)[0] != a[0]  # another transfer, unlinkable tokens
    with pytest.raises(BadInput, match="purpose"):
        tokenize(workspace, other, ids)
    # the tokens function a run keeps gives the same tokens and never shows its secret
    from handover.crypto.tokenize import tokenizer

    tokens = tokenizer(workspace, k1)
    assert tokens(ids).equals(a)
    with Keys(workspace) as keys:
        _, secret = keys.secret(k1)
    shown = f"{tokens!r} {tokens!s}"
    assert secret.hex() not in shown and repr(secret) not in shown
    with Keys(workspace, events=Recorder(workspace, "os:test")) as keys:
        keys.destroy(k1, "due diligence closed")
    with pytest.raises(KeyDestroyed):
        tokenize(workspace, k1, ids)


def test_file_digests(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 9000  # > 1 MiB chunk
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sm3_file(path) == hashlib.new("sm3", data).hexdigest()


def test_memo_gives_the_same_tokens_and_keeps_only_recurring_domains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run's memo changes no token: values of the remembered domain are kept (up to the
    limit) and found again in later calls, the others computed every time. (The memo is
    the Python loop's: the C module computes every value at once.)"""
    from handover.crypto import suites
    from handover.crypto.tokenize import TokenMemo

    monkeypatch.setattr(suites, "_hmac_many", None)

    memo = TokenMemo((b"cust_info:",), limit=3)
    first = pa.array(["cust_info:C1", "identity:X", "cust_info:C2", None, "cust_info:C1"])
    again = pa.chunked_array([["cust_info:C2", "cust_info:C3"], ["cust_info:C4", "identity:X"]])
    for values in (first, again, first):
        got = tokenize_with(SECRET, values, memo=memo)
        assert got.to_pylist() == tokenize_with(SECRET, values).to_pylist()
    assert set(memo.tokens) == {b"cust_info:C1", b"cust_info:C2", b"cust_info:C3"}
    assert memo.tokens[b"cust_info:C1"] == hmac.digest(SECRET, b"cust_info:C1", "sha256").hex()[:32]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_token_process_gives_the_same_tokens_and_outlives_its_worker(
    workspace: Workspace,
) -> None:
    """Calls of many distinct values are computed by the worker process, small ones here:
    the tokens are those of the in-process tokenizer, with and without a memo; a killed
    worker leaves the next calls to this process, with the same tokens."""
    from handover.crypto.tokenize import PROCESS_MIN, TokenMemo, tokenizer_process, tokens_later

    with Keys(workspace, events=Recorder(workspace, "os:test")) as keys:
        kid = keys.create("tokenize").key_id
        _, secret = keys.secret(kid)
    many = pa.array([f"cust_info:4401{i:014d}" for i in range(PROCESS_MIN + 7)] + [None])
    few = pa.array(["cust_info:C1", None, "identity:X"])
    want_many, want_few = tokenize(workspace, kid, many), tokenize(workspace, kid, few)
    for memo in (None, TokenMemo((b"cust_info:",), limit=100)):
        with tokenizer_process(workspace, kid, memo=memo) as tokens:
            assert secret.hex() not in repr(tokens) and repr(secret) not in repr(tokens)
            assert tokens(few).equals(want_few) and tokens.pids() == []  # computed here
            assert tokens(many).equals(want_many)
            (pid,) = tokens.pids()
            # started now, in the worker, and given when asked: the same tokens
            later = [tokens.later(many), tokens_later(tokens, pa.chunked_array([few, many]))]
            assert later[0]().equals(want_many)
            assert later[1]().to_pylist() == want_few.to_pylist() + want_many.to_pylist()
            assert tokens_later(lambda v: tokenize(workspace, kid, v), few)().equals(want_few)
            assert pid != os.getpid()
            assert tokens(pa.chunked_array([many.slice(0, 10), many])).to_pylist() == (
                want_many.to_pylist()[:10] + want_many.to_pylist()
            )
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not _gone(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert tokens(many).equals(want_many)  # the pool is broken: computed here
            assert tokens.later(many)().equals(want_many)
        assert memo is None or len(memo.tokens) <= memo.limit


def test_a_token_process_ends_its_worker_on_the_way_out(workspace: Workspace) -> None:
    """The worker ends with the block, whether it ends normally or by an error (then it
    is terminated: it ignores Ctrl-C, which is the caller's to handle)."""
    from handover.crypto.tokenize import PROCESS_MIN, tokenizer_process

    with Keys(workspace, events=Recorder(workspace, "os:test")) as keys:
        kid = keys.create("tokenize").key_id
    many = pa.array([str(i) for i in range(PROCESS_MIN)])
    with tokenizer_process(workspace, kid) as tokens:
        tokens(many)
        (calm,) = tokens.pids()
    assert _gone(calm)
    with pytest.raises(RuntimeError), tokenizer_process(workspace, kid) as tokens:
        tokens(many)
        (failed,) = tokens.pids()
        raise RuntimeError("stop here")
    assert _gone(failed) and tokens.pids() == []


def test_inside_a_daemonic_process_the_tokens_are_computed_here(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Dask worker (a daemonic process) may not start a process: no worker, the same
    tokens."""
    import multiprocessing
    from types import SimpleNamespace

    from handover.crypto.tokenize import PROCESS_MIN, tokenizer_process

    with Keys(workspace, events=Recorder(workspace, "os:test")) as keys:
        kid = keys.create("tokenize").key_id
    many = pa.array([str(i) for i in range(PROCESS_MIN)])
    want = tokenize(workspace, kid, many)
    monkeypatch.setattr(multiprocessing, "current_process", lambda: SimpleNamespace(daemon=True))
    with tokenizer_process(workspace, kid) as tokens:
        assert tokens(many).equals(want) and tokens.pids() == []
