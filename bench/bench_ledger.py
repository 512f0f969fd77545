"""Ledger benchmark: appends and verification against plain SQLite and pymerkle.

- durable appends/s: each ``record`` committed on its own (SQLite WAL, synchronous=FULL),
  against plain SQLite inserts of the same rows, each committed, same pragmas, both
  logs past their first filling (:func:`_warm`);
- batched appends/s: ``record_many`` in batches of 1,000, against plain ``executemany``
  of the same rows in batches of 1,000;
- verification of the whole log (1,000,000 entries; quick: 100,000): ``verify_ledger``
  (re-reads every row, recomputes every leaf and the tree, checks head, nodes and every
  checkpoint), once with the tree heads recomputed in a worker process and once all in
  one process, against pymerkle building the same RFC 6962 tree in memory from the same
  bodies (roots must be equal) and against a plain SELECT of the same rows.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import load_line


def _clock() -> Any:
    # after the demo workspace's own entries (stamped by the real clock): stamps never go
    # back, so an earlier start would give every bench entry the workspace's last stamp
    t = [dt.datetime.now(dt.UTC) + dt.timedelta(days=1)]

    def tick() -> dt.datetime:
        t[0] += dt.timedelta(microseconds=1)
        return t[0]

    return tick


def _plain_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "CREATE TABLE ev (seq INTEGER PRIMARY KEY, ts TEXT, actor TEXT, action TEXT, "
        "subject TEXT, body TEXT)"
    )
    return conn


def _warm(conn: sqlite3.Connection) -> None:
    """Bring a new database's write-ahead log to the steady state the store's is in: its
    first 1,000 pages are appended to the file (each commit's fsync then also records the
    file's new size: 240–260 µs a commit here, 120–128 µs once the log is written over
    from its start after a checkpoint). The store's log is brought there too (``run``);
    the peer's first thousand commits flattered the durable ratio (0.96 over them,
    0.57–0.66 after, one run of /tmp/x/blocks.py)."""
    conn.execute("CREATE TABLE warm (n INTEGER PRIMARY KEY, body TEXT)")
    for n in range(1_200):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO warm VALUES (?, ?)", (n, "x" * 200))
        conn.execute("COMMIT")


class _Replay:
    """The store's own SQL for durable appends, without handover's Python around it: on
    a copy of the ledger's tables (the store's DDL, with or without the actor and action
    indexes), each append's statements as ``ledger.record`` sends them (the lock, the head
    with the newest body, the entry, its nodes, the head), committed one by one, the same
    pragmas. It shows how much of the gap to the plain insert is the store's work (four
    pages a commit: the entry, two index entries, the head) and how much is Python."""

    def __init__(self, ws: Any, path: Path, *, indexes: bool) -> None:
        from handover.ledger import ledger as lg

        self._sql = lg
        self._stored = lg.ts_stored_form(ws.store.engine.dialect)
        own = ws.store.own_connection()
        ddl = [
            sql
            for (sql,) in own.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name IN "
                "('ledger_entries', 'ledger_nodes', 'ledger_head') AND sql IS NOT NULL "
                "ORDER BY type DESC"  # tables before their indexes
            )
            if indexes or not sql.upper().startswith("CREATE INDEX")
        ]
        head = own.execute("SELECT id, origin, public_key FROM ledger_head").fetchone()
        self.conn = _plain_db(path)
        for sql in ddl:
            self.conn.execute(sql)
        self.conn.execute(
            "INSERT INTO ledger_head (id, size, frontier, origin, public_key) "
            "VALUES (?, 0, x'', ?, ?)",
            head,
        )
        _warm(self.conn)
        self.size = 0

    def append(self, e: Any) -> None:
        lg, run, n = self._sql, self.conn.execute, self.size
        run("BEGIN IMMEDIATE")
        run(lg._HEAD_NEWEST).fetchone()
        row = (n, self._stored(e.ts), e.actor, e.action, e.subject, e.body.decode())
        run(lg._INSERT_ENTRY, (*row, e.leaf_hash, e.leaf_hash))
        n += 1
        nodes = [
            (k, (n >> k) - 1, e.leaf_hash) for k in range(4, n.bit_length()) if n % (1 << k) == 0
        ]
        if nodes:
            self.conn.executemany(lg._INSERT_NODE, nodes)
        run(lg._UPDATE_HEAD, (n, e.leaf_hash * n.bit_count()))
        run("COMMIT")
        self.size = n


def _row(e: Any) -> tuple[Any, ...]:
    return (e.seq, e.ts, e.actor, e.action, e.subject, e.body.decode())


def _best_of_3(read: Any) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(3):
        t0 = time.perf_counter()
        found = len(read())
        times.append(time.perf_counter() - t0)
    return min(times), found


def _filters(ws: Any, size: int) -> list[str]:
    """``audit log``'s filters (``ledger.entries``: each row's columns checked against its
    body, entries rebuilt) against the bare query for the same rows on the same store."""
    from handover import ledger

    # the newest batch (one stamp a batch) and the entries that carry its stamp
    with ws.store.engine.connect() as conn:
        newest = conn.exec_driver_sql(
            f"SELECT body FROM ledger_entries WHERE seq = {size - 1}"
        ).scalar_one()
        first = conn.exec_driver_sql(
            "SELECT min(seq) FROM ledger_entries WHERE ts = "
            f"(SELECT ts FROM ledger_entries WHERE seq = {size - 1})"
        ).scalar_one()
    since = dt.datetime.fromisoformat(ledger.LedgerEntry.from_body(newest.encode(), b"").ts)

    def bare(sql: str) -> Any:
        def read() -> list[Any]:
            with ws.store.engine.connect() as conn:
                return conn.exec_driver_sql(sql).all()

        return read

    out = []
    for what, ours, peer in (
        (
            "--action (1 in 1,000)",
            lambda: ledger.entries(ws, action="bench.rare"),
            bare(
                "SELECT seq, body, leaf_hash FROM ledger_entries "
                "WHERE action = 'bench.rare' ORDER BY seq"
            ),
        ),
        (
            "--since (the newest batch)",
            lambda: ledger.entries(ws, since=since),
            bare(
                f"SELECT seq, body, leaf_hash FROM ledger_entries WHERE seq >= {first} ORDER BY seq"
            ),
        ),
    ):
        t_ours, n_ours = _best_of_3(ours)
        t_peer, n_peer = _best_of_3(peer)
        assert n_ours == n_peer > 0, (what, n_ours, n_peer)
        out.append(
            f"| audit log {what} of {size:,} entries, ms | {t_ours * 1000:,.1f} "
            f"({n_ours:,} entries) | {t_peer * 1000:,.1f} (the bare SELECT of those rows on "
            f"the same store) | {t_peer / t_ours:.2f} |"
        )
    return out


def run(quick: bool) -> str:
    from handover import ledger
    from handover.flows.workspace import init_workspace

    load_before = os.getloadavg()
    n_durable = 300 if quick else 6_000
    n_total = 100_000 if quick else 1_000_000
    batch = 1_000
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws", demo=True)
        clock = _clock()
        plain = _plain_db(Path(tmp) / "plain.db")
        _warm(plain)
        # the store's log too: the workspace's set-up leaves about 400 of its first 1,000
        # pages written, and an append writes four
        for i in range(300):
            ledger.record(ws, "bench:1", "bench.warm", f"warm {i}", "benchmark", clock=clock)

        replays = {
            "with": _Replay(ws, Path(tmp) / "replay.db", indexes=True),
            "without": _Replay(ws, Path(tmp) / "replay-bare.db", indexes=False),
        }
        t_replay = dict.fromkeys(replays, 0.0)

        # durable: one transaction per event; ours, the peer and the replays alternate in
        # blocks of 100 so that all see the same disk and load (fsync times drift a lot)
        t_ours = t_peer = 0.0
        for start in range(0, n_durable, 100):
            t0 = time.perf_counter()
            made = [
                ledger.record(
                    ws,
                    "bench:1",
                    "bench.event",
                    f"subject {i}",
                    "benchmark",
                    {"i": i, "rows": i * 7},
                    clock=clock,
                )
                for i in range(start, min(start + 100, n_durable))
            ]
            t_ours += time.perf_counter() - t0
            t0 = time.perf_counter()
            for e in made:
                plain.execute("BEGIN")
                plain.execute("INSERT INTO ev VALUES (?,?,?,?,?,?)", _row(e))
                plain.execute("COMMIT")
            t_peer += time.perf_counter() - t0
            for how, replay in replays.items():
                t0 = time.perf_counter()
                for e in made:
                    replay.append(e)
                t_replay[how] += time.perf_counter() - t0
        ours, peer = n_durable / t_ours, n_durable / t_peer
        rows.append(
            f"| durable appends/s ({n_durable:,}, each committed) | {ours:,.0f} | "
            f"{peer:,.0f} (plain SQLite insert) | {ours / peer:.2f} |"
        )
        for how, what in (
            ("with", "the store's own statements alone, replayed without handover's Python"),
            ("without", "the same without the actor and action indexes"),
        ):
            rate = n_durable / t_replay[how]
            rows.append(
                f"| durable appends/s: {what} | {rate:,.0f} | {peer:,.0f} (plain SQLite "
                f"insert) | {rate / peer:.2f} |"
            )
        for replay in replays.values():
            replay.conn.close()

        # batched: record_many in batches
        remaining = n_total - ledger.ledger_size(ws)
        t_ours = t_peer = 0.0
        done = 0
        while done < remaining:
            k = min(batch, remaining - done)
            evs = [
                ledger.Event(
                    # one in 1,000 is rare: what ``audit log --action`` looks for
                    "bench.rare" if (done + j) % 1000 == 999 else "bench.event",
                    f"subject {done + j}",
                    "benchmark",
                    {"i": done + j, "rows": (done + j) * 7},
                    actor="bench:1",
                )
                for j in range(k)
            ]
            t0 = time.perf_counter()
            got = ledger.record_many(ws, evs, clock=clock)
            t_ours += time.perf_counter() - t0
            data = [_row(e) for e in got]
            t0 = time.perf_counter()
            plain.execute("BEGIN")
            plain.executemany("INSERT INTO ev VALUES (?,?,?,?,?,?)", data)
            plain.execute("COMMIT")
            t_peer += time.perf_counter() - t0
            done += k
        rows.append(
            f"| batched appends/s ({remaining:,} in batches of {batch:,}) | "
            f"{remaining / t_ours:,.0f} | {remaining / t_peer:,.0f} (plain SQLite "
            f"executemany) | {t_peer / t_ours:.2f} |"
        )
        ledger.checkpoint_if_new(ws)
        size = ledger.ledger_size(ws)

        rows.extend(_filters(ws, size))

        # verify the whole log: tree heads in a worker process, then all in one process
        # (verify_ledger picks the worker by itself only while a core is idle)
        t0 = time.perf_counter()
        report = ledger.verify_ledger(ws, parallel=True)
        t_worker = time.perf_counter() - t0
        assert report.ok and report.size == size, report.problems
        t0 = time.perf_counter()
        inline = ledger.verify_ledger(ws, parallel=False)
        t_inline = time.perf_counter() - t0
        assert inline.ok and inline.root == report.root, inline.problems

        t0 = time.perf_counter()
        with ws.store.engine.connect() as conn:
            bodies = [
                r[0].encode()
                for r in conn.exec_driver_sql("SELECT body FROM ledger_entries ORDER BY seq")
            ]
        t_select = time.perf_counter() - t0
        for how, t in (
            ("tree heads in a worker (a thread with the C module)", t_worker),
            ("one process", t_inline),
        ):
            rows.append(
                f"| verify {size:,} entries, {how} (entries/s) | {size / t:,.0f} "
                f"({t:.1f} s) | {size / t_select:,.0f} ({t_select:.1f} s, plain "
                f"SELECT of the bodies only) | {t_select / t:.2f} |"
            )
        t_verify = min(t_worker, t_inline)

        import pymerkle

        tree = pymerkle.InmemoryTree(algorithm="sha256")  # RFC 6962 prefixes (security on)
        t0 = time.perf_counter()
        for b in bodies:
            tree.append_entry(b)
        their_root = tree.get_root()
        t_pm = time.perf_counter() - t0
        assert their_root == report.root, "pymerkle and handover disagree on the root"
        rows.append(
            f"| verify {size:,} entries, the faster (entries/s) | {size / t_verify:,.0f} "
            f"({t_verify:.1f} s) | {size / t_pm:,.0f} ({t_pm:.1f} s, pymerkle builds "
            f"the same tree in memory; roots equal) | {t_pm / t_verify:.2f} |"
        )
        del tree, bodies
        plain.close()
        ws.close()

    load_after = os.getloadavg()
    size_note = "quick" if quick else "full"
    return "\n".join(
        [
            "## Ledger",
            "",
            f"`python -m bench --only ledger{' --quick' if quick else ''}` ({size_note} run; SQLite "
            "store, WAL, synchronous=FULL; ratio > 1 means handover is faster). "
            + load_line(load_before, load_after),
            "",
            "| measure | handover | peer | ratio |",
            "|---|---|---|---|",
            *rows,
            "",
            "Verification reads every row, recomputes every leaf hash and the whole tree, and "
            "checks the head, every stored node and every signed checkpoint; the plain SELECT "
            "row is the floor set by reading the rows at all.",
        ]
    )
