"""The ledger's fast paths give exactly what the general ones give (issue 21).

An append lays its body out directly (:func:`body_text`) and encodes plain details with one
prebuilt JSON encoder; the guard skips texts its one-regex pre-scan clears. Each is proved
here against the general, slower definition it replaces, over a corpus of bodies (non-ASCII,
control characters, floats, nested values, integers up to 2^53, keys outside the BMP) and
over generated values: the hash format and the guard's refusals must not move.
"""

from __future__ import annotations

import datetime as dt
import string
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.errors import BadInput
from handover.ledger import Event
from handover.ledger.canonical import _encode, canonical_json_of, canonical_text, to_jsonable
from handover.ledger.guard import MAYBE, guard, needs_scan, substitute
from handover.ledger.ledger import BODY_VERSION, Prepared, _guarded, _prepare, body_text

TS = "2026-12-04T10:11:12.123456Z"

CORPUS: list[dict[str, Any]] = [
    {},
    {"i": 1, "rows": 7},
    {"tables": 12, "columns": 140, "ok": True, "none": None, "neg": -(2**53 - 1)},
    {"max": 2**53 - 1, "zero": 0, "false": False},
    {"text": "示例小贷公司 / Demo — “quotes” ‘x’ …", "emoji": "😀 ﬁ"},
    {"ctl": "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f\u2028\u2029", "q": '"\\/'},
    {"\ufb01": 1, "\U0001f600": 2, "\ue000": 3, "a": 4},  # UTF-16 order differs from code points
    {"f": 0.1, "big": 1e21, "small": 1e-7, "neg": -0.000001, "two": 2.0, "e20": 1e20},
    {"f": [123.456, 5e-324, 1.7976931348623157e308, -0.0, 0.5, 100.0]},
    {"nested": {"b": [1, {"c": "d", "a": [None, True]}], "a": {}}, "list": [[], [[]]]},
    {"deep": {"x": {"y": {"z": [1, "二", 2.5]}}}},
    {"dec": Decimal("1.10"), "day": dt.date(2026, 1, 2)},
    {"when": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC), "set": {"b", "a"}},
    {"tuple": (1, "x"), "空": "值", "mixed key é": "ok"},
    {"sha256": "ab13812345678cd" + "e" * 49, "phone": "13812345678"},
    {"db_password": "hunter2", "apiKey": "abc", "pin": 0, "token": ""},
    {"card": "4111 1111 1111 1111", "id": "11010519491231002X", "n": 13812345678},
    {"pem": "-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----"},
    {"13812345678": 1, "138****5678": 2, "by phone": {"13900001111": "sent"}},  # keys too
]


def _events() -> list[Event]:
    out = []
    for i, details in enumerate(CORPUS):
        out.append(
            Event(
                "bench.event" if i % 2 else "seal.done",
                ["seller.db", "卖方 数据库", "tab\there", "x" * 500][i % 4],
                ["benchmark", "盘点个人信息 / inventory", "line\nbreak \u2028"][i % 3],
                details,
                actor=["os:root", "张三", "bench:1 138 1234 5678"][i % 3],
            )
        )
    return out


def _fields(p: Prepared) -> dict[str, Any]:
    actor, action, subject, purpose, details, _text, _masked = p
    return {
        "actor": actor,
        "action": action,
        "subject": subject,
        "purpose": purpose,
        "details": details,
    }


def reference_body(seq: int, ts: str, fields: dict[str, Any]) -> bytes:
    """The body as the general encoder writes it (RFC 8785 laid out key by key)."""
    out: list[str] = []
    _encode({"v": BODY_VERSION, "seq": seq, "ts": ts, **fields}, out)
    return "".join(out).encode("utf-8")


@pytest.mark.parametrize("event", _events(), ids=lambda e: str(sorted(e.details or {}))[:40])
def test_body_text_is_the_canonical_body(event: Event) -> None:
    p = _prepare(event)
    for seq in (0, 1, 999_999, 2**53 - 1):
        got = body_text(seq, TS, p).encode("utf-8")
        assert got == reference_body(seq, TS, _fields(p))
        assert got == canonical_json_of({"v": BODY_VERSION, "seq": seq, "ts": TS, **_fields(p)})


def test_body_refuses_what_the_general_path_refuses() -> None:
    with pytest.raises(BadInput):
        _prepare(Event("a.b", "s", "p", {"x": 2**53}, actor="a"))
    with pytest.raises(BadInput):
        _prepare(Event("a.b", "s", "p", {"x": float("inf")}, actor="a"))
    with pytest.raises(BadInput):
        body_text(2**53, TS, ("", "a", "", "", {}, "{}", 0))


def test_fast_guard_path_equals_the_walk() -> None:
    for event in _events():
        details = to_jsonable(event.details or {}, "details")
        fields = {
            "actor": event.actor,
            "subject": event.subject,
            "purpose": event.purpose,
            "details": details,
        }
        want = guard(fields)
        got, masked, _plain = _guarded(dict(fields))
        assert (got, masked) == (want.value, want.masked)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_canonical_text_equals_the_general_encoder(details: dict[str, Any]) -> None:
    out: list[str] = []
    _encode(details, out)
    want = "".join(out)
    assert canonical_text(details) == want


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(
        st.text(),
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
        | st.text()
        | json_values,
        max_size=6,
    ),
    st.text(max_size=30),
)
def test_prepared_bodies_equal_the_general_encoder(details: dict[str, Any], text: str) -> None:
    """Flat details take the prebuilt encoder, the rest the general path: both as RFC 8785."""
    p = _prepare(Event("x.y", text, text, details, actor=text))
    got = body_text(7, TS, p).encode("utf-8")
    assert got == reference_body(7, TS, _fields(p))


# Texts made of what the guard's patterns are built from: digits, separators, X, +86, PEM.
guard_texts = st.lists(
    st.sampled_from([*string.digits, " ", "-", "+86", "X", "x", "a", "1", "13", "-----BEGIN "]),
    max_size=40,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(guard_texts)
def test_prescan_misses_nothing_the_guard_masks(text: str) -> None:
    if MAYBE.search(text) is None:
        assert substitute(text) == (text, 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(guard_texts, max_size=6))
def test_needs_scan_over_joined_texts(texts: list[str]) -> None:
    assert needs_scan(texts) == any(MAYBE.search(t) for t in texts)


def test_prescan_flags_each_pattern() -> None:
    for text in (
        "13812345678",
        "+86 138-1234-5678",
        "4111 1111 1111 1111",
        "4111111111111111",
        "11010519491231002X",
        "-----BEGIN PRIVATE KEY-----",
    ):
        assert MAYBE.search(text) is not None
        assert substitute(text)[1] == 1


def test_worker_process_only_while_a_core_is_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    """verify_ledger's default: a worker process for large logs, and only while a core is
    idle (on a saturated machine it would only compete for the same cores)."""
    from handover.ledger import verify

    monkeypatch.setattr(verify.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(verify.os, "getloadavg", lambda: (0.4, 3.0, 3.0))
    assert verify.idle_core()
    assert verify._worker(verify.PARALLEL_FROM - 1, None) is None  # too small to repay it
    monkeypatch.setattr(verify.os, "getloadavg", lambda: (1.5, 0.1, 0.1))
    assert not verify.idle_core()
    assert verify._worker(verify.PARALLEL_FROM, None) is None
    assert verify._worker(10**9, False) is None
    monkeypatch.setattr(verify.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(verify.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert not verify.idle_core()


class _NoProcess(Executor):
    """An executor that cannot start its process (as where spawning is not allowed)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise OSError("cannot start a process here")


class _DiesAtOnce(Executor):
    """An executor whose process dies before answering."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("the worker died"))
        return future


@pytest.mark.parametrize("pool", [_NoProcess(), _DiesAtOnce()], ids=["no_process", "dies"])
def test_tree_heads_fall_back_to_this_process(pool: Executor) -> None:
    """When the worker cannot start or dies, the heads are hashed here, from the frontier
    the worker was sent: the same bytes, chunk after chunk."""
    from handover.ledger import merkle
    from handover.ledger.verify import _Heads

    leaves = merkle.leaf_hashes([str(i).encode() for i in range(300)])
    want = merkle.prefix_roots([], leaves, 0)
    heads = _Heads(pool)
    got = b""
    for start in range(0, 300, 64):
        got += heads.start(start, leaves[32 * start : 32 * min(start + 64, 300)])()
    assert got == want
