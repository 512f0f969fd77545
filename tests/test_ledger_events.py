"""The appends' C path (``handover.ledger._events``) makes exactly what the Python path
makes, and leaves it every event it cannot decide (issue 21).

``prepare`` takes an event only when the guard would return it as it is; anything else
(a secret's key, a text the guard's pre-scan flags, a float, nested details, a key
outside the BMP, a lone surrogate, a subclass) is answered None and takes the Python
path. Each is checked here against :func:`_prepare` and :func:`body_text`, on a corpus and
on generated events, and a workspace's stored bodies are the same with the C path and
without it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import require_built

from handover import ledger
from handover.errors import BadInput
from handover.flows.workspace import init_workspace
from handover.ledger import Event
from handover.ledger import ledger as core
from handover.ledger.canonical import canonical_json_of
from handover.ledger.guard import MAYBE
from handover.workspace import Workspace

try:
    from handover.ledger import _events
except ImportError:  # pragma: no cover - built by make install
    _events = None  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def _built() -> None:
    require_built(_events is not None, "handover.ledger._events", "C compiler")


TS = "2026-12-04T10:11:12.123456Z"
ALL_ACTIONS = {"x.y", "bench.event", "seal.done"}


def _reference(seq: int, p: core.Prepared) -> bytes:
    actor, action, subject, purpose, details, _text, _masked = p
    return canonical_json_of(
        {
            "v": core.BODY_VERSION,
            "seq": seq,
            "ts": TS,
            "actor": actor,
            "action": action,
            "subject": subject,
            "purpose": purpose,
            "details": details,
        }
    )


def _both(ev: Event) -> tuple[Any, core.Prepared | None]:
    """What the C path answers for ``ev`` (actions and keys as far as the Python
    path has checked them), and the Python path's prepared event (None where it refuses
    the event)."""
    try:
        want: core.Prepared | None = core._prepare(ev)  # checks and learns the keys
    except BadInput:
        want = None
    got = _events.prepare([ev], ALL_ACTIONS | core._CHECKED_ACTIONS, core._PLAIN_KEYS)[0]
    return got, want


def _agrees(ev: Event) -> bool:
    """The C answer for ``ev`` is None or the Python path's, byte for byte; True when C took
    the event."""
    got, want = _both(ev)
    if got is None:
        return False
    assert want is not None, ev  # C never takes what the Python path refuses
    assert got[:5] == want[:5] and got[6] == want[6] == 0
    assert type(got[4]) is dict and got[4] is not ev.details  # a copy, as to_jsonable makes
    assert got[5] == str(want[5]).encode()
    texts, bodies = _events.bodies([got, want], 7, TS, core.BODY_VERSION)
    assert bodies[0] == _reference(7, want) and bodies[1] == _reference(8, want)
    assert texts[0] == core.body_text(7, TS, want) and texts[0].encode() == bodies[0]
    return True


PLAIN = [
    Event("bench.event", "subject 1", "benchmark", {"i": 1, "rows": 7}, actor="bench:1"),
    Event("seal.done", "卖方 数据库", "盘点个人信息 / inventory", None, actor="张三"),
    Event("x.y", "tab\there", "line\nbreak \u2028", {}, actor="os:root"),
    Event(
        "x.y",
        "x" * 500,
        "p" * 2000,
        {"ctl": "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f", "q": '"\\/', "空": "值", "é": "😀"},
        actor="a" * 200,
    ),
    Event(
        "x.y",
        "s",
        "p",
        {"z": None, "a": True, "m": False, "n": -9_999_999_999, "o": 9_999_999_999},
        actor="a",
    ),
    Event("x.y", "1234567890", "12 34-56 7x8", {"d": "123456789 x0"}, actor="a"),  # no 11 in a row
    Event("x.y", "-----BEGI", "----- BEGIN", {"k": "BEGIN-----"}, actor="a"),
]

PYTHON_PATH = [
    Event("x.y", "13812345678", "p", {}, actor="a"),  # a mobile number: masked
    Event("x.y", "s", "+86 138-1234-5678", {}, actor="a"),
    Event("x.y", "s", "p", {"card": "4111 1111 1111 1111"}, actor="a"),
    Event("x.y", "s", "p", {"pem": "-----BEGIN PRIVATE KEY-----"}, actor="a"),
    Event("x.y", "s", "p", {"id": "１１０１０５１９４９１２３１００２X"}, actor="a"),  # fullwidth
    Event("x.y", "٠١٢٣٤٥٦٧٨٩٠", "p", {}, actor="a"),  # Arabic-Indic digits: \d in re
    Event("x.y", "s", "p", {"password": "hunter2"}, actor="a"),
    Event("x.y", "s", "p", {"f": 0.5}, actor="a"),
    Event("x.y", "s", "p", {"n": 10_000_000_000}, actor="a"),
    Event("x.y", "s", "p", {"n": -10_000_000_000}, actor="a"),
    Event("x.y", "s", "p", {"nested": {"a": 1}}, actor="a"),
    Event("x.y", "s", "p", {"list": [1]}, actor="a"),
    Event("x.y", "s", "p", {"\U0001f600": 1}, actor="a"),  # outside the BMP: UTF-16 order
    Event("x.y", "s", "p", {"\ue000": 1}, actor="a"),  # above the surrogates
    Event("x.y", "s\ud800", "p", {}, actor="a"),  # a lone surrogate
    Event("x.y", "s", "p", {"v": "\udfff"}, actor="a"),
    Event("x.y", "s", "p", {"when": dt.date(2026, 1, 2)}, actor="a"),
    Event("x.y", "x" * 501, "p", {}, actor="a"),  # too long: refused there
    Event("x.y", "s", "p", {}, actor="a" * 201),
    Event("Bad Action", "s", "p", {}, actor="a"),
    Event("x.y", "s", "p", {1: "int key"}, actor="a"),  # type: ignore[dict-item]
    Event("x.y", "s", "p", [], actor="a"),  # type: ignore[arg-type]
    Event("x.y", 5, "p", {}, actor="a"),  # type: ignore[arg-type]
    Event("x.y", "s", "p", {"i": type("I", (int,), {})(5)}, actor="a"),  # subclasses
    Event("x.y", "s", "p", {"s": type("S", (str,), {})("v")}, actor="a"),
]
RECORDABLE = [*PYTHON_PATH[:14], PYTHON_PATH[16]]


@pytest.mark.parametrize("ev", PLAIN, ids=range(len(PLAIN)))
def test_plain_events_take_the_c_path_and_agree(ev: Event) -> None:
    assert _agrees(ev)


@pytest.mark.parametrize("ev", PYTHON_PATH, ids=range(len(PYTHON_PATH)))
def test_the_rest_is_left_to_the_python_path(ev: Event) -> None:
    assert _both(ev)[0] is None


def test_unchecked_actions_and_keys_are_left_to_the_python_path() -> None:
    ev = Event("never.seen_before", "s", "p", {"fresh_key_1": 1}, actor="a")
    assert _events.prepare([ev], {"x.y"}, {"fresh_key_1"}) == [None]
    assert _events.prepare([ev], {"never.seen_before"}, set()) == [None]
    assert _events.prepare([ev], {"never.seen_before"}, {"fresh_key_1"})[0] is not None


def test_the_python_path_teaches_only_what_it_checked() -> None:
    core._prepare(
        Event("taught.once", "s", "p", {"plain_k": 1, "api_key": "", "\U0001f600": 2}, actor="a")
    )
    assert "taught.once" in core._CHECKED_ACTIONS
    assert "plain_k" in core._PLAIN_KEYS
    assert "api_key" not in core._PLAIN_KEYS and "\U0001f600" not in core._PLAIN_KEYS


guard_texts = st.lists(
    st.sampled_from(["0", "1", "9", "١", "９", "²", " ", "-", "–", "a", "-----BEGIN", "\n"]),
    max_size=30,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(guard_texts, st.text(max_size=40)))
def test_prescan_is_the_guards_regex(text: str) -> None:
    """Python's re reads \\d as any Unicode decimal digit; the C scan must too."""
    assert _events.maybe_sensitive(text) == (MAYBE.search(text) is not None)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**10) - 2, max_value=10**10 + 2)
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | guard_texts
)


@settings(max_examples=1500, deadline=None)
@given(
    st.dictionaries(st.text(max_size=8), scalars, max_size=6),
    st.text(max_size=30) | guard_texts,
    st.text(max_size=30),
)
def test_generated_events_agree(details: dict[str, Any], subject: str, actor: str) -> None:
    _agrees(Event("x.y", subject, "purpose", details, actor=actor))


def test_bodies_refuse_a_text_without_utf8_and_a_seq_past_2_53() -> None:
    p = ("a\ud800", "x.y", "s", "p", {}, "{}", 0)
    with pytest.raises(UnicodeEncodeError):
        _events.bodies([p], 0, TS, 1)
    with pytest.raises(OverflowError):
        _events.bodies([("a", "x.y", "s", "p", {}, "{}", 0)] * 2, 2**53 - 1, TS, 1)
    assert len(_events.bodies([("a", "x.y", "s", "p", {}, "{}", 0)] * 2, 2**53 - 2, TS, 1)[1]) == 2


def _clock() -> Any:
    t = [dt.datetime(2030, 1, 1, tzinfo=dt.UTC)]

    def tick() -> dt.datetime:
        t[0] += dt.timedelta(seconds=1)
        return t[0]

    return tick


def _batch() -> list[Event]:
    return [*PLAIN, *RECORDABLE] * 3


def test_a_mixed_batch_stores_what_the_python_path_stores(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same events recorded with the C path and without it: the same bodies, masks
    and counts, and the log verifies."""
    ws = workspace
    with_c = ledger.record_many(ws, _batch(), clock=_clock())
    assert ledger.verify_ledger(ws).ok
    monkeypatch.setattr(core, "_events", None)
    other = init_workspace(tmp_path / "other", demo=True)
    try:
        without = ledger.record_many(other, _batch(), clock=_clock())
        assert ledger.verify_ledger(other).ok
    finally:
        other.close()
    assert len(with_c) == len(without) == len(_batch())
    assert with_c == without
    assert {e.subject: e.masked for e in with_c}["138****5678"] == 1
    assert sum(e.masked for e in with_c) == 3 * 5  # mobile twice, card, PEM, password
    stored = {e.seq: e for e in ledger.entries(ws)}
    assert all(stored[e.seq] == e._replace(masked=0) for e in with_c)


def test_a_lone_surrogate_is_told_and_nothing_is_stored(workspace: Workspace) -> None:
    ws = workspace
    size = ledger.ledger_size(ws)
    with pytest.raises(BadInput):
        ledger.record_many(ws, [PLAIN[0], Event("x.y", "s\ud800", "p", actor="a")])
    assert ledger.ledger_size(ws) == size


def test_bodies_at_the_largest_seqs_are_the_python_bodies() -> None:
    p = ("a", "x.y", "s", "p", {}, "{}", 0)
    for seq in (10**13 - 1, 10**13, 10**15, 2**53 - 1):
        texts, bodies = _events.bodies([p], seq, TS, core.BODY_VERSION)
        assert texts == [core.body_text(seq, TS, p)] and bodies == [texts[0].encode()]


def test_events_that_change_the_list_while_read_do_not_crash_it() -> None:
    """Reading an event's attributes may run code; the items read stay the call's own."""
    events: list[Any] = []

    class Changing:
        actor, subject, purpose, details = "a", "s", "p", None

        @property
        def action(self) -> str:
            events.clear()
            return "x.y"

    events.extend(Changing() for _ in range(50))
    got = _events.prepare(events, ALL_ACTIONS, set())
    assert len(got) == 50 and all(g is not None and g[1] == "x.y" for g in got)


def test_what_the_python_path_refuses_or_keeps_out(workspace: Workspace) -> None:
    size = ledger.ledger_size(workspace)
    for ev in (
        Event("x.y\n", "s", "p", actor="a"),  # an action with a line break after it
        Event("x.y", "s", "p", {"\ud800": 1.5}, actor="a"),  # a key with no UTF-8 form
    ):
        with pytest.raises(BadInput):
            ledger.record_many(workspace, [ev])
    assert ledger.ledger_size(workspace) == size
    core._prepare(Event("x.y", "s", "p", {"13812345678": "x", "k13": 1}, actor="a"))
    assert "13812345678" not in core._PLAIN_KEYS and "k13" in core._PLAIN_KEYS


def test_a_bad_stored_leaf_hash_is_told_by_proofs_and_verify(workspace: Workspace) -> None:
    """Proofs hash their pieces below the lowest stored level from the stored leaf hashes:
    one that is not 32 bytes leaves its piece missing (CheckFailed), never a wrong hash."""
    from sqlalchemy import text

    from handover.errors import CheckFailed

    ledger.record_many(workspace, [Event("x.y", f"s{i}", "p", actor="a") for i in range(90)])
    n = ledger.ledger_size(workspace)
    last = n - 1 if n % 2 == 0 else n - 2  # a leaf whose piece has two leaves or more
    with workspace.store.engine.begin() as c:
        c.execute(text(f"UPDATE ledger_entries SET leaf_hash = x'{'07' * 31}' WHERE seq = {last}"))
    with pytest.raises(CheckFailed):
        ledger.prove_at(workspace, last - 1, n)
    report = ledger.verify_ledger(workspace)
    assert not report.ok and report.first_bad_seq == last


@pytest.mark.parametrize("level", [0, -1, 2])
def test_a_node_row_below_the_floor_is_reported(workspace: Workspace, level: int) -> None:
    from sqlalchemy import text

    ledger.record_many(workspace, [Event("x.y", f"s{i}", "p", actor="a") for i in range(40)])
    assert ledger.verify_ledger(workspace).ok
    with workspace.store.engine.begin() as c:
        c.execute(
            text(f"INSERT INTO ledger_nodes (level, idx, hash) VALUES ({level}, 0, x'{'00' * 32}')")
        )
    report = ledger.verify_ledger(workspace)
    assert [p.place.params() for p in report.problems] == [{"level": level, "idx": 0}]


def _stored(ws: Workspace) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    with ws.store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT seq, body, leaf_hash, root FROM ledger_entries ORDER BY seq")
            )
        ]


def test_a_long_batch_hashes_its_heads_beside_its_inserts(workspace: Workspace) -> None:
    """From OVERLAP_FROM events the tree heads are hashed in a worker thread, piece by
    piece, while the pieces already hashed are written: each stored head is the root of
    the tree up to its entry, at the pieces' edges too."""
    from handover.ledger import merkle

    start = ledger.ledger_size(workspace)
    events = [Event("x.y", f"s{i}", "p", {"i": i}, actor="a") for i in range(700)]
    assert len(events) >= core.OVERLAP_FROM
    ledger.record_many(workspace, events, clock=_clock())
    stored = _stored(workspace)
    assert [r[0] for r in stored] == list(range(start + 700))
    bodies = [r[1].encode() for r in stored]
    edges = {start + k + d for k in (0, 32, 288, 544, 699) for d in (-1, 0, 1)}
    for seq in sorted(edges | set(range(start, start + 700, 41))):
        if start <= seq < start + 700:
            assert stored[seq][3] == merkle.root_hash(bodies[: seq + 1]), seq
    assert ledger.verify_ledger(workspace).ok


def test_keys_that_hold_personal_values_are_masked_and_keep_their_values(
    workspace: Workspace,
) -> None:
    details = {"13812345678": 1, "13800005678": 2, "138****5678": 3, "plain": "x"}
    entry = ledger.record_many(workspace, [Event("x.y", "s", "p", details, actor="a")])[0]
    assert entry.details == {"138****5678*1": 1, "138****5678*2": 2, "138****5678": 3, "plain": "x"}
    assert entry.masked == 2 and b"13812345678" not in entry.body
    assert ledger.verify_ledger(workspace).ok


def test_the_collector_is_back_on_when_the_last_batch_ends(workspace: Workspace) -> None:
    """Two threads' batches overlap: the first to end leaves the collector off for the
    other; the last turns it back on; one the caller turned off stays off."""
    import gc
    import threading

    inside, release = threading.Event(), threading.Event()

    class Waiting:
        subject, purpose, details, actor = "s", "p", None, "a"

        @property
        def action(self) -> str:
            inside.set()
            release.wait(30)
            return "x.y"

    assert gc.isenabled()
    other = threading.Thread(target=ledger.record_many, args=(workspace, [Waiting()]))
    other.start()
    try:
        assert inside.wait(30)
        assert not gc.isenabled()
        ledger.record_many(workspace, [Event("x.y", "s", "p", actor="a")])
        assert not gc.isenabled()  # the other batch still runs
    finally:
        release.set()
        other.join(30)
    assert gc.isenabled()
    gc.disable()
    try:
        ledger.record_many(workspace, [Event("x.y", "s", "p", actor="a")])
        assert not gc.isenabled()
    finally:
        gc.enable()
    core._pause.batches, core._pause.turned_off = 1, True  # as a forked child finds it
    gc.disable()
    core._after_fork()
    assert gc.isenabled() and core._pause.batches == 0


def test_many_keys_masked_alike_stay_short(workspace: Workspace) -> None:
    """Each collision adds ``*`` and a number, not one more star a key: 3,000 mobile
    numbers that mask alike make keys of 16 characters at most, every value kept."""
    details = {f"138{i:04d}5678": i for i in range(3000)}
    entry = ledger.record_many(workspace, [Event("x.y", "s", "p", details, actor="a")])[0]
    assert sorted(entry.details.values()) == list(range(3000)) and entry.masked == 3000
    assert max(len(k) for k in entry.details) == len("138****5678*2999")


def test_a_batch_records_when_the_worker_takes_no_more_jobs(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At interpreter shutdown the heads' worker refuses jobs: the batch hashes its heads
    itself."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    stopped = ThreadPoolExecutor(1)
    stopped.shutdown()
    monkeypatch.setattr(core, "_heads", (os.getpid(), stopped))
    events = [Event("x.y", f"s{i}", "p", actor="a") for i in range(core.OVERLAP_FROM + 40)]
    assert len(ledger.record_many(workspace, events)) == len(events)
    assert ledger.verify_ledger(workspace).ok


def test_a_batch_recorded_while_its_thread_holds_the_pause_lock(workspace: Workspace) -> None:
    """A signal handler may record while its own thread is inside the pause's lock: the
    lock is re-entrant (a plain one would wait for ever)."""
    with core._pause_lock:
        ledger.record_many(workspace, [Event("x.y", "s", "p", actor="a")])
    assert ledger.verify_ledger(workspace).ok


def test_a_masked_key_that_reads_as_a_secret_name_has_its_value_redacted() -> None:
    """Guarding a guarded value again changes nothing, even where masking made a key read
    as a secret's name."""
    from handover.ledger.guard import guard

    details = {"pin4111111111111111": "1234", "n13812345678": 5, "plain": "x"}
    once = guard(details)
    assert once.value == {"pin************1111": "[redacted]", "n138****5678": 5, "plain": "x"}
    assert once.masked == 3
    assert guard(once.value).value == once.value
