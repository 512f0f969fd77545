"""Tampering with a real store (SQLite and PostgreSQL) is detected at the right entry;
concurrent appends from several processes never fork the tree or skip a number."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, DateTime, bindparam, text
from tests.conftest import require_built

from handover import ledger
from handover.crypto.signing import raw_public_key, sign_raw, signature
from handover.errors import CheckFailed
from handover.flows.workspace import init_workspace
from handover.ledger import merkle
from handover.ledger.canonical import canonical_json
from handover.ledger.models import LOWEST_STORED_LEVEL
from handover.ledger.note import Checkpoint, sign_note
from handover.workspace import DEMO_TRANSFER, Workspace, open_workspace

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _file_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """These non-demo workspaces choose a 0600-file keyring explicitly, so they can sign."""
    monkeypatch.setenv("HANDOVER_KEY_PROTECTION", "file")


def _newest_ts(ws: Workspace) -> dt.datetime:
    return dt.datetime.fromisoformat(ledger.entries(ws)[-1].ts)


def _clock(ws: Workspace) -> Callable[[], dt.datetime]:
    """Ticks a second per call from a day after the newest entry (the fixture stamps its own
    with the real clock), so nothing here depends on today's date."""
    state = [_newest_ts(ws) + dt.timedelta(days=1)]

    def tick() -> dt.datetime:
        state[0] += dt.timedelta(seconds=1)
        return state[0]

    return tick


@pytest.fixture(params=BACKENDS)
def store_ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER, database_url=url)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def logged(store_ws: Workspace) -> Workspace:
    clock = _clock(store_ws)
    for i in range(12):
        ledger.record(
            store_ws, "user:wang", "test.event", f"s{i}", "tamper suite", {"i": i}, clock=clock
        )
    ledger.checkpoint_if_new(store_ws, clock=clock)
    ledger.record_many(
        store_ws,
        [
            ledger.Event("test.batch", f"b{i}", "tamper suite", {"i": i}, actor="os:test")
            for i in range(40)  # a log of more than 48 entries: three stored nodes of 16
        ],
        clock=clock,
    )
    ledger.checkpoint_if_new(store_ws, clock=clock)
    assert ledger.verify_ledger(store_ws).ok
    return store_ws


def _row(conn: Connection, seq: int) -> dict[str, object]:
    r = conn.execute(
        text(
            "SELECT seq, ts, actor, action, subject, body, leaf_hash, root "
            "FROM ledger_entries WHERE seq = :s"
        ),
        {"s": seq},
    ).one()
    return dict(r._mapping)


def _insert(conn: Connection, row: dict[str, object]) -> None:
    conn.execute(
        text(
            "INSERT INTO ledger_entries (seq, ts, actor, action, subject, body, "
            "leaf_hash, root) VALUES (:seq, :ts, :actor, :action, :subject, :body, "
            ":leaf_hash, :root)"
        ),
        row,
    )


def _forged_body(seq: int, ts: str) -> str:
    return canonical_json(
        {
            "v": 1,
            "seq": seq,
            "ts": ts,
            "actor": "user:forger",
            "action": "test.event",
            "subject": "forged",
            "purpose": "tamper suite",
            "details": {},
        }
    ).decode()


def update_body(ws: Workspace, n: int) -> int:
    k = n - 20
    with ws.store.engine.begin() as c:
        body = str(_row(c, k)["body"]).replace('"tamper suite"', '"rewritten"')
        c.execute(text("UPDATE ledger_entries SET body = :b WHERE seq = :s"), {"b": body, "s": k})
    return k


def update_body_and_hash(ws: Workspace, n: int) -> int:
    k = n - 17
    with ws.store.engine.begin() as c:
        body = str(_row(c, k)["body"]).replace('"tamper suite"', '"rewritten"')
        c.execute(
            text("UPDATE ledger_entries SET body = :b, leaf_hash = :h WHERE seq = :s"),
            {"b": body, "h": merkle.leaf_hash(body.encode()), "s": k},
        )
    return k


def delete_row(ws: Workspace, n: int) -> int:
    k = n - 9
    with ws.store.engine.begin() as c:
        c.execute(text("DELETE FROM ledger_entries WHERE seq = :s"), {"s": k})
    return k


def insert_forged_end(ws: Workspace, n: int) -> int:
    with ws.store.engine.begin() as c:
        row = _row(c, n - 1)
        body = _forged_body(n, json.loads(str(row["body"]))["ts"])
        _insert(c, {**row, "seq": n, "body": body, "leaf_hash": merkle.leaf_hash(body.encode())})
    return n


def insert_forged_middle(ws: Workspace, n: int) -> int:
    k = n - 6
    with ws.store.engine.begin() as c:
        for s in range(n - 1, k - 1, -1):  # make room, highest first (primary key)
            c.execute(
                text("UPDATE ledger_entries SET seq = :t WHERE seq = :s"), {"t": s + 1, "s": s}
            )
        row = _row(c, k - 1)
        body = _forged_body(k, json.loads(str(row["body"]))["ts"])
        _insert(c, {**row, "seq": k, "body": body, "leaf_hash": merkle.leaf_hash(body.encode())})
    return k


def swap_rows(ws: Workspace, n: int) -> int:
    i, j = n - 15, n - 4
    with ws.store.engine.begin() as c:
        a, b = _row(c, i), _row(c, j)
        for src, dst in ((a, j), (b, i)):
            c.execute(
                text(
                    "UPDATE ledger_entries SET body = :body, leaf_hash = :leaf_hash, "
                    "root = :root, ts = :ts WHERE seq = :dst"
                ),
                {**src, "dst": dst},
            )
    return i


def truncate_tail(ws: Workspace, n: int) -> int:
    with ws.store.engine.begin() as c:
        c.execute(text("DELETE FROM ledger_entries WHERE seq >= :s"), {"s": n - 5})
    return n - 5


def truncate_tail_and_head(ws: Workspace, n: int) -> int:
    m = n - 5
    bodies = [e.body for e in ledger.entries(ws)][:m]
    node = merkle.levels_node(merkle.build_levels(merkle.leaf_hashes(bodies)))
    frontier = b"".join(node(lv, i) for lv, i in merkle.aligned_pieces(0, m))
    with ws.store.engine.begin() as c:
        c.execute(text("DELETE FROM ledger_entries WHERE seq >= :s"), {"s": m})
        c.execute(
            text("DELETE FROM ledger_nodes WHERE (idx + 1) * power(2, level) > :m"), {"m": m}
        ) if c.dialect.name == "postgresql" else c.execute(
            text("DELETE FROM ledger_nodes WHERE (idx + 1) * (1 << level) > :m"), {"m": m}
        )
        c.execute(text("UPDATE ledger_head SET size = :m, frontier = :f"), {"m": m, "f": frontier})
    return m


TAMPERS = [
    update_body,
    update_body_and_hash,
    delete_row,
    insert_forged_end,
    insert_forged_middle,
    swap_rows,
    truncate_tail,
    truncate_tail_and_head,
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda f: f.__name__)
def test_tamper_is_detected_at_the_right_entry(
    logged: Workspace, tamper: Callable[[Workspace, int], int]
) -> None:
    n = ledger.ledger_size(logged)
    expected = tamper(logged, n)
    report = ledger.verify_ledger(logged, chunk=8)
    assert not report.ok
    assert report.first_bad_seq == expected, report.problems
    with pytest.raises(CheckFailed, match=rf"first bad entry seq {expected}\b"):
        report.raise_if_failed()


def _last_checkpoint(ws: Workspace) -> tuple[int, int, str]:
    with ws.store.engine.connect() as c:
        r = c.execute(
            text("SELECT id, size, note FROM ledger_checkpoints ORDER BY id DESC")
        ).first()
    assert r is not None
    return int(r[0]), int(r[1]), str(r[2])


@pytest.mark.parametrize("how", ["other_key", "edited_root", "garbage"])
def test_replaced_checkpoint_is_detected(logged: Workspace, how: str) -> None:
    cid, size, note = _last_checkpoint(logged)
    origin, _ = ledger.public_identity(logged)
    if how == "other_key":
        fake = merkle.leaf_hash(b"fake")
        other = b"\x07" * 32
        signer = lambda d: (raw_public_key(other), sign_raw(other, d))  # noqa: E731
        new = sign_note(Checkpoint(origin, size, fake).text(), origin, signer)
    elif how == "edited_root":
        lines = note.split("\n")
        lines[2] = "A" + lines[2][1:] if lines[2][0] != "A" else "B" + lines[2][1:]
        new = "\n".join(lines)
    else:
        new = "not a note at all"
    with logged.store.engine.begin() as c:
        c.execute(
            text("UPDATE ledger_checkpoints SET note = :n WHERE id = :i"), {"n": new, "i": cid}
        )
    report = ledger.verify_ledger(logged)
    assert not report.ok and report.first_bad_seq is None
    assert report.problems[0].where == f"ledger checkpoint id {cid} (size {size})"
    with pytest.raises(CheckFailed, match=rf"ledger checkpoint id {cid}"):
        report.raise_if_failed()
    with pytest.raises(CheckFailed):  # and nothing new gets signed on top of it
        ledger.record(logged, "os:test", "x.y", "s", "p")
        ledger.checkpoint_if_new(logged)


def test_resigned_checkpoint_with_other_root_is_detected(logged: Workspace) -> None:
    """Whoever holds the key and re-signs a different root is still caught by the entries."""
    cid, size, _ = _last_checkpoint(logged)
    origin, _ = ledger.public_identity(logged)

    def key(data: bytes) -> tuple[bytes, bytes]:
        sig = signature(logged, data)
        return sig.public_key, sig.value

    fake = merkle.leaf_hash(b"fake")
    with logged.store.engine.begin() as c:
        c.execute(
            text("UPDATE ledger_checkpoints SET note = :n, root = :r WHERE id = :i"),
            {
                "n": sign_note(Checkpoint(origin, size, fake).text(), origin, key),
                "r": fake,
                "i": cid,
            },
        )
    report = ledger.verify_ledger(logged)
    assert [p.message for p in report.problems] == ["entries do not hash to the signed root"]


def _rewrite(ws: Workspace, bodies: list[bytes], k: int) -> None:
    """Rewrite history from entry ``k`` as a forger holding the workspace key would: bodies
    and every column, nodes, head and a freshly signed checkpoint, all self-consistent."""
    n = len(bodies)
    levels = merkle.build_levels(merkle.leaf_hashes(bodies))
    node = merkle.levels_node(levels)
    update = text(
        "UPDATE ledger_entries SET body = :b, leaf_hash = :h, root = :r, ts = :t WHERE seq = :s"
    ).bindparams(bindparam("t", type_=DateTime(timezone=True)))
    with ws.store.engine.begin() as c:
        c.execute(text("DELETE FROM ledger_checkpoints"))
        c.execute(text("DELETE FROM ledger_nodes"))
        for lv in range(LOWEST_STORED_LEVEL, len(levels)):
            for i in range(len(levels[lv]) // 32):
                c.execute(
                    text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                    {"l": lv, "i": i, "h": node(lv, i)},
                )
        for s in range(k, n):
            c.execute(
                update,
                {
                    "b": bodies[s].decode(),
                    "h": node(0, s),
                    "r": merkle.range_hash(node, 0, s + 1),
                    "t": dt.datetime.fromisoformat(json.loads(bodies[s])["ts"]),
                    "s": s,
                },
            )
        frontier = b"".join(node(lv, i) for lv, i in merkle.aligned_pieces(0, n))
        c.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": frontier})
    ledger.issue_checkpoint(ws)  # the forger holds the workspace key


def test_external_checkpoint_catches_rewritten_history(logged: Workspace, tmp_path: Path) -> None:
    """A forger who rewrites entries, nodes, head and re-signs is caught by a saved checkpoint."""
    saved = tmp_path / "cp.txt"
    ledger.ledger.write_checkpoint(ledger.latest_checkpoint(logged), saved)
    k = ledger.ledger_size(logged) - 3
    bodies = [e.body for e in ledger.entries(logged)]
    bodies[k] = bodies[k].replace(b'"tamper suite"', b'"rewritten"')
    _rewrite(logged, bodies, k)
    assert ledger.verify_ledger(logged).ok  # self-consistent inside the store …
    report = ledger.verify_ledger(logged, saved)  # … but not with the copy kept outside
    assert not report.ok
    assert report.external is not None and report.external["extended"] is False


# --- concurrency ------------------------------------------------------------------------


def _append_worker(path: str, worker: int, count: int, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    ws = open_workspace(Path(path))
    try:
        for i in range(count):
            ledger.record(ws, f"worker:{worker}", "test.concurrent", f"w{worker}-{i}", "race")
    finally:
        ws.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_appends(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER, database_url=url)
    base = ledger.ledger_size(ws)
    ws.close()
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_append_worker, args=(str(tmp_path / "ws"), w, 50, start))
        for w in range(4)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    ws = open_workspace(tmp_path / "ws")
    try:
        got = ledger.entries(ws)
        assert [e.seq for e in got] == list(range(base + 200))
        for w in range(4):  # each worker's own appends stay in its order
            mine = [e.subject for e in got if e.actor == f"worker:{w}"]
            assert mine == [f"w{w}-{i}" for i in range(50)]
        assert ledger.checkpoint_if_new(ws) is not None
        report = ledger.verify_ledger(ws)
        assert report.ok and report.size == base + 200, report.problems
    finally:
        ws.close()


# --- forged columns beside the body (issue 14, part 2) -----------------------------------


def _forge(ws: Workspace, seq: int, column: str, value: object) -> None:
    """Set one stored column of entry ``seq``, written as the ORM would write that type."""
    stmt = text(f"UPDATE ledger_entries SET {column} = :v WHERE seq = :s")
    if column == "ts":
        stmt = stmt.bindparams(bindparam("v", type_=DateTime(timezone=True)))
    with ws.store.engine.begin() as c:
        c.execute(stmt, {"v": value, "s": seq})


def _forged_value(ws: Workspace, seq: int, column: str) -> object:
    entry = ledger.entries(ws)[seq]
    return {
        "seq": 10_000 + seq,
        "ts": dt.datetime.fromisoformat(entry.ts) - dt.timedelta(hours=1),
        "actor": "user:forger",
        "action": "test.forged",
        "subject": "forged",
        "leaf_hash": merkle.leaf_hash(b"forged"),
        "root": merkle.leaf_hash(b"forged"),
    }[column]


# What verify says about a forged column: finding key and a phrase naming the column.
FORGED = {
    "seq": ("ledger.problem.missing_one", "seq column"),
    "ts": ("ledger.problem.column", "column ts"),
    "actor": ("ledger.problem.column", "column actor"),
    "action": ("ledger.problem.column", "column action"),
    "subject": ("ledger.problem.column", "column subject"),
    "leaf_hash": ("ledger.problem.modified", "leaf hash"),
    "root": ("ledger.problem.head_differs", "column root"),
}


@pytest.mark.parametrize("column", list(FORGED))
def test_forged_column_is_detected_and_named(logged: Workspace, column: str) -> None:
    """Changing any one stored column of one entry, body untouched, fails verify at that
    entry and names the column."""
    k = ledger.ledger_size(logged) - 7
    _forge(logged, k, column, _forged_value(logged, k, column))
    report = ledger.verify_ledger(logged, chunk=8)
    assert report.first_bad_seq == k, [p.to_json() for p in report.problems]
    key, phrase = FORGED[column]
    named = [p for p in report.problems if p.seq == k and p.text.key == key]
    assert len(named) == 1 and phrase in named[0].message, [p.to_json() for p in report.problems]
    assert named[0].where == f"ledger entry seq {k}"
    if key == "ledger.problem.column":
        assert named[0].text.params() == {"column": column}
        assert [p.to_json() for p in report.problems] == [named[0].to_json()]  # nothing else
    with pytest.raises(CheckFailed, match=rf"first bad entry seq {k}\b.*{phrase}"):
        report.raise_if_failed()


def test_every_forged_entry_is_named(logged: Workspace) -> None:
    n = ledger.ledger_size(logged)
    forged = {n - 20: "actor", n - 9: "ts", n - 8: "actor", n - 2: "subject", n - 1: "root"}
    values = {seq: _forged_value(logged, seq, column) for seq, column in forged.items()}
    for seq, column in forged.items():
        _forge(logged, seq, column, values[seq])
    report = ledger.verify_ledger(logged, chunk=8)
    named = {p.seq: p.message for p in report.problems}
    assert set(named) == set(forged), named
    assert all(f"column {column}" in named[seq] for seq, column in forged.items())


def test_forged_filter_columns_are_refused_by_audit_log(logged: Workspace) -> None:
    """``entries`` filters on the columns; a row whose column disagrees with its body is
    refused (CheckFailed naming entry and column), never returned as if proven."""
    k = ledger.ledger_size(logged) - 5
    newest = _newest_ts(logged)
    _forge(logged, k, "actor", "user:forger")
    with pytest.raises(CheckFailed, match=rf"ledger entry seq {k}: column actor differs"):
        ledger.entries(logged, actor="user:forger")
    assert ledger.entries(logged, actor="user:nobody") == []
    # ``since`` is a binary search over seq (stamps never go back): a stamp it does not
    # read cannot change the answer, and every stamp it reads is checked against its body
    n = ledger.ledger_size(logged)
    _forge(logged, 2, "ts", newest + dt.timedelta(days=30))
    assert ledger.entries(logged, since=newest + dt.timedelta(days=1)) == []
    _forge(logged, n // 2, "ts", newest + dt.timedelta(days=30))  # the search's first probe
    with pytest.raises(CheckFailed, match=rf"ledger entry seq {n // 2}: column ts differs"):
        ledger.entries(logged, since=newest + dt.timedelta(days=1))
    with pytest.raises(CheckFailed, match=rf"ledger entry seq {n // 2}: column ts differs"):
        ledger.entries(logged, since=newest - dt.timedelta(days=3650))


def test_sqlite_ts_text_must_be_the_stored_form(tmp_path: Path) -> None:
    """SQLite compares ``ts`` as text in ``--since`` filters: the same instant written in
    another text form (ISO ``T``, an offset) is a forged column too."""
    ws = init_workspace(tmp_path / "ws", DEMO_TRANSFER)
    try:
        ev = ledger.record(ws, "os:test", "test.event", "s", "p", clock=_clock(ws)).seq
        with ws.store.engine.begin() as c:
            c.execute(text("UPDATE ledger_entries SET ts = replace(ts, ' ', 'T') WHERE seq = 0"))
            c.execute(text("UPDATE ledger_entries SET ts = ts || '+00:00' WHERE seq = 1"))
            c.execute(text(f"UPDATE ledger_entries SET ts = 'not a time' WHERE seq = {ev}"))
        report = ledger.verify_ledger(ws)
        assert [(p.seq, p.message) for p in report.problems] == [
            (s, "column ts differs from the hashed body (column changed)") for s in (0, 1, ev)
        ]
        # audit log neither trusts nor crashes on them
        with pytest.raises(CheckFailed, match=r"seq 0: column ts differs"):
            ledger.entries(ws)
        with pytest.raises(CheckFailed, match=rf"seq {ev}: column ts differs"):
            ledger.entries(ws, action="test")
    finally:
        ws.close()


def test_wide_and_escaped_columns_verify(store_ws: Workspace) -> None:
    """Actor and subject at their column widths (200/500), and text JSON must escape,
    store and verify exactly."""
    clock = _clock(store_ws)
    ledger.record(store_ws, "u" * 200, "test.wide", "主" * 500, "p", clock=clock)
    odd = 'user:"王"\t\\ \u2028'
    ledger.record(store_ws, odd, "test.odd", 'a "b"\n\x01c', "p", clock=clock)
    assert ledger.verify_ledger(store_ws).ok
    assert [e.subject for e in ledger.entries(store_ws, actor="u" * 200)] == ["主" * 500]
    assert [e.subject for e in ledger.entries(store_ws, actor=odd)] == ['a "b"\n\x01c']


def test_rewritten_body_without_fields_is_named(logged: Workspace) -> None:
    """A body rewritten (tree and checkpoint too) without the fields its columns copy."""
    bodies = [e.body for e in ledger.entries(logged)]
    k = len(bodies) - 6
    doc = json.loads(bodies[k])
    del doc["actor"]
    bodies[k] = canonical_json(doc)
    _rewrite(logged, bodies, k)
    report = ledger.verify_ledger(logged, chunk=8)
    assert [(p.seq, p.text.key) for p in report.problems] == [(k, "ledger.problem.body_fields")]


def test_many_forged_columns_are_counted_beyond_the_list(
    logged: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handover.ledger.verify as verify_mod

    with logged.store.engine.begin() as c:
        c.execute(text("UPDATE ledger_entries SET actor = 'user:forger'"))
    n = ledger.ledger_size(logged)
    report = ledger.verify_ledger(logged, chunk=8)
    assert n <= verify_mod.MAX_ENTRY_FINDINGS  # every entry listed here …
    assert [p.seq for p in report.problems] == list(range(n))
    monkeypatch.setattr(verify_mod, "MAX_ENTRY_FINDINGS", 5)  # … beyond the limit, counted
    report = ledger.verify_ledger(logged, chunk=8)
    assert [p.seq for p in report.problems] == [0, 1, 2, 3, 4, None]
    assert report.problems[-1].message == f"{n - 5} more entry findings not listed"


# --- stamps never go back (issue 14, part 1) ----------------------------------------------


def test_rewritten_stamp_going_back_is_named(logged: Workspace) -> None:
    """A forger holding the key rewrites entry k stamped before entry k-1: the tree, nodes,
    columns and checkpoint are consistent, but the order of time is not."""
    bodies = [e.body for e in ledger.entries(logged)]
    k = len(bodies) - 4
    doc = json.loads(bodies[k])
    before = json.loads(bodies[k - 1])["ts"]
    doc["ts"] = ledger.ledger.format_ts(dt.datetime.fromisoformat(before) - dt.timedelta(hours=2))
    bodies[k] = canonical_json(doc)
    _rewrite(logged, bodies, k)
    report = ledger.verify_ledger(logged, chunk=8)
    assert [(p.seq, p.text.key) for p in report.problems] == [(k, "ledger.problem.ts_back")]
    assert f"earlier than the entry before it ({before})" in report.problems[0].message


# --- the worker process that recomputes tree heads (issue 21) ----------------------------


def _findings(ws: Workspace, *, parallel: bool) -> tuple[bool, str, list[dict[str, object]]]:
    report = ledger.verify_ledger(ws, chunk=8, parallel=parallel)
    return report.ok, report.root.hex(), [p.to_json() for p in report.problems]


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_worker_process_finds_what_one_process_finds(
    logged: Workspace, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tree heads recomputed in a worker while the next chunk is read give the same
    report, in the same order, as recomputing them in line: on a clean log, on forged
    columns and roots in several chunks, and on a modified body that stops the read. The
    worker is a thread where the C loop is built (it releases the interpreter lock), a
    spawned process otherwise."""
    from handover.ledger import verify

    if kind == "process":
        monkeypatch.setattr(merkle, "native_built", lambda: False)
    else:
        require_built(
            merkle.native_built(), "handover.crypto._tree", "C compiler or OpenSSL headers"
        )
    made: list[str] = []
    real = verify._worker

    def worker(size: int, parallel: bool | None) -> Any:
        pool = real(size, parallel)
        made.append(type(pool).__name__)
        return pool

    monkeypatch.setattr(verify, "_worker", worker)
    assert _findings(logged, parallel=True) == _findings(logged, parallel=False)
    want = "ThreadPoolExecutor" if kind == "thread" else "ProcessPoolExecutor"
    assert made == [want, "NoneType"]
    assert _findings(logged, parallel=True)[0]
    n = ledger.ledger_size(logged)
    forged = {2: "root", 9: "actor", 17: "root", 18: "root", n - 9: "ts", n - 4: "subject"}
    values = {seq: _forged_value(logged, seq, column) for seq, column in forged.items()}
    for seq, column in forged.items():
        _forge(logged, seq, column, values[seq])
    inline = _findings(logged, parallel=False)
    # 17 and 18: one finding for the span of wrong roots
    assert not inline[0] and {p["seq"] for p in inline[2]} == set(forged) - {18}
    assert _findings(logged, parallel=True) == inline
    update_body(logged, n)
    inline = _findings(logged, parallel=False)
    assert _findings(logged, parallel=True) == inline


def test_stored_hash_bytes_cannot_move_between_rows(logged: Workspace) -> None:
    """Concatenated, the leaf_hash (or root) columns of two rows are unchanged when a forger
    moves a byte from one to the next; verify still names the first of them."""
    k = ledger.ledger_size(logged) - 5
    for column in ("leaf_hash", "root"):
        with logged.store.engine.connect() as c:
            a, b = (
                bytes(
                    c.execute(
                        text(f"SELECT {column} FROM ledger_entries WHERE seq = :s"), {"s": s}
                    ).scalar_one()
                )
                for s in (k, k + 1)
            )
        _forge(logged, k, column, a + b[:1])
        _forge(logged, k + 1, column, b[1:])
        report = ledger.verify_ledger(logged)
        assert report.first_bad_seq == k, [p.to_json() for p in report.problems]
        _forge(logged, k, column, a)
        _forge(logged, k + 1, column, b)
        assert ledger.verify_ledger(logged).ok


@pytest.mark.parametrize(
    ("how", "key"),
    [
        ("changed", "ledger.problem.node_differs"),
        ("deleted", "ledger.problem.bad_node"),
        ("short", "ledger.problem.bad_node"),
    ],
)
def test_tampered_stored_node_is_named(logged: Workspace, how: str, key: str) -> None:
    """Each stored subtree hash is checked (taken a level's run at a time): a changed,
    missing or malformed node of the lowest stored level is named by level and index."""
    with logged.store.engine.begin() as c:
        where = f"WHERE level = {LOWEST_STORED_LEVEL} AND idx = 1"
        if how == "changed":
            c.execute(text(f"UPDATE ledger_nodes SET hash = :h {where}"), {"h": b"\x07" * 32})
        elif how == "deleted":
            c.execute(text(f"DELETE FROM ledger_nodes {where}"))
        else:
            c.execute(text(f"UPDATE ledger_nodes SET hash = :h {where}"), {"h": b"\x07" * 31})
    report = ledger.verify_ledger(logged, chunk=4)
    found = [p for p in report.problems if p.text.key == key]
    assert len(found) == 1 and found[0].place.params() == {
        "level": LOWEST_STORED_LEVEL,
        "idx": 1,
    }, [p.to_json() for p in report.problems]
