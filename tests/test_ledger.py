"""The ledger log: record, canonical bodies, guard, checkpoints, proofs from the store."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover import ledger
from handover.crypto.signing import raw_public_key, sign_raw
from handover.errors import BadInput, CheckFailed, HandoverError
from handover.flows.workspace import init_workspace
from handover.governance import current_actor
from handover.ledger import Recorder, merkle
from handover.ledger.canonical import canonical_json
from handover.ledger.guard import guard
from handover.ledger.ledger import consistency_from_store, inclusion_from_store
from handover.ledger.note import (
    Checkpoint,
    NoteError,
    Signer,
    key_hash,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key,
)
from handover.workspace import DEMO_TRANSFER, Workspace, open_workspace

VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(autouse=True)
def _file_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """These non-demo workspaces choose a 0600-file keyring explicitly, so they can sign."""
    monkeypatch.setenv("HANDOVER_KEY_PROTECTION", "file")


def fixed_signer(seed: bytes) -> Signer:
    """A note signer with a fixed raw Ed25519 private key (vectors, forgeries)."""
    pub = raw_public_key(seed)
    return lambda data: (pub, sign_raw(seed, data))


class FixedClock:
    """A clock that ticks one second per call from a fixed start."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        value = self.now
        self.now += dt.timedelta(seconds=1)
        return value


def newest_ts(w: Workspace) -> dt.datetime:
    """The stamp of the newest entry (workspace fixtures stamp theirs with the real clock)."""
    return dt.datetime.fromisoformat(ledger.entries(w)[-1].ts)


def after_newest(w: Workspace) -> FixedClock:
    """A clock starting on the whole second one day after the newest entry, whatever today's
    date is: an injected clock never runs behind the real-time events of the fixture."""
    return FixedClock((newest_ts(w) + dt.timedelta(days=1)).replace(microsecond=0))


# --- signed notes -----------------------------------------------------------------------


def test_signed_note_known_answer() -> None:
    v = json.loads((VECTORS / "c2sp_signed_note.json").read_text(encoding="utf-8"))
    seed = base64.b64decode(v["signer_key"].split("+", 4)[-1])[1:]
    pub = raw_public_key(seed)
    assert key_hash(v["name"], pub).hex() == v["key_hash"]
    assert verifier_key(v["name"], pub) == v["verifier_key"]
    assert sign_note(v["text"], v["name"], fixed_signer(seed)) == v["signed"]
    name, raw = parse_verifier_key(v["verifier_key"])
    assert open_note(v["signed"], name, raw) == v["text"]
    tampered = v["signed"].replace("cryptography", "cryptographY")
    with pytest.raises(NoteError):
        open_note(tampered, name, raw)
    with pytest.raises(NoteError):
        open_note(v["signed"], "EnochRoot", raw)


def test_checkpoint_format() -> None:
    cp = Checkpoint("handover.example/x-1", 8, merkle.root_hash([b"a"]))
    text = cp.text()
    assert text.count("\n") == 3 and text.startswith("handover.example/x-1\n8\n")
    assert parse_checkpoint(text) == cp
    for bad in ("x\n08\nAAAA\n", "x\n8\n", "x\n8\nAAAA\n", "\n8\n" + text.split("\n")[2] + "\n"):
        with pytest.raises(NoteError):
            parse_checkpoint(bad)


# --- canonical JSON and the guard -------------------------------------------------------


def test_canonical_json_rfc8785() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "é\n\u001f"]}) == (
        '{"a":[true,null,"é\\n\\u001f"],"b":1}'.encode()
    )
    # Keys sort by UTF-16 code units: U+1F600 (D83D …) before U+FB01.
    assert canonical_json({"\ufb01": 1, "\U0001f600": 2}).decode() == '{"😀":2,"ﬁ":1}'
    nums = [0.1, 1e21, 1e-7, -0.000001, 2.0, 1e20, 123.456, 5e-324]
    assert canonical_json(nums) == (
        b"[0.1,1e+21,1e-7,-0.000001,2,100000000000000000000,123.456,5e-324]"
    )
    with pytest.raises(BadInput):
        canonical_json({"x": float("nan")})
    with pytest.raises(BadInput):
        canonical_json({"x": object()})


def test_guard_masks_pii_and_secrets() -> None:
    res = guard(
        {
            "note": "客户 11010519491231002X 手机 +86 138-1234-5678 卡 4111 1111 1111 1111",
            "n": 13812345678,
            "rows": 20000,
            "db_password": "hunter2",
            "apiKey": "abc",
            "tokenized_columns": 3,
            "pem": "-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----",
            "not_an_id": "110105194912310021",
        }
    )
    v = res.value
    assert v["note"] == "客户 1****************X 手机 138****5678 卡 ************1111"
    assert v["n"] == "138****5678"
    assert v["rows"] == 20000 and v["tokenized_columns"] == 3
    assert v["db_password"] == "[redacted]" and v["apiKey"] == "[redacted]"
    assert v["pem"] == "[redacted PEM]"
    assert v["not_an_id"] == "110105194912310021"  # fails the GB 11643 check: not an ID
    assert res.masked == 7


def test_guard_leaves_hex_digests_whole() -> None:
    """A digest whose digits happen to look like a mobile number or a Luhn-valid card
    must stay whole, or it no longer binds the file it names; the same digits as a
    text of their own, or inside other text, are still masked."""
    mobile = "ab13812345678cd" + "e" * 49
    card = "f4111111111111111" + "0a" * 23 + "b"
    assert len(mobile) == len(card) == 64
    res = guard({"sha256": mobile, "files": {"a.pdf": card}, "sm3": mobile.upper()})
    assert res.value["sha256"] == mobile and res.value["files"]["a.pdf"] == card
    assert res.value["sm3"] != mobile.upper()  # not the lowercase digest form: scanned
    assert res.masked == 1
    assert guard({"n": "13812345678"}).value["n"] == "138****5678"
    assert guard({"x": mobile + " "}).masked == 1
    assert guard({"x": "0" * 64}).value["x"] == "0" * 64  # no mobile, no Luhn card: as is


# --- recording --------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = init_workspace(tmp_path / "ws", DEMO_TRANSFER)
    try:
        yield w
    finally:
        w.close()


def test_init_records_and_signs(ws: Workspace) -> None:
    from handover.crypto import public_key

    # init creates the workspace signing key first (key.create), then the ledger.
    first = ledger.entries(ws, limit=2)
    assert [e.action for e in first] == ["key.create", "workspace.init"]
    assert first[1].actor == current_actor(ws)
    origin, pub = ledger.public_identity(ws)
    assert pub == public_key(ws).raw
    assert origin.startswith("handover.example/demo-small-loan-company-transfer-")
    cp = ledger.latest_checkpoint(ws)
    n = ledger.ledger_size(ws)
    assert cp.size == n
    assert parse_checkpoint(open_note(cp.note, origin, pub)) == Checkpoint(origin, n, cp.root)


def test_record_exact_body(ws: Workspace) -> None:
    clock = after_newest(ws)
    stamp = clock.now.strftime("%Y-%m-%dT%H:%M:%S")
    base = ledger.ledger_size(ws)
    e = ledger.record(
        ws,
        "user:wang",
        "scan.done",
        "seller.db",
        "盘点个人信息",
        {"tables": 3, "when": dt.date(2026, 12, 1)},
        clock=clock,
    )
    assert e.seq == base
    assert (
        e.body
        == (
            '{"action":"scan.done","actor":"user:wang","details":{"tables":3,"when":"2026-12-01"},'
            f'"purpose":"盘点个人信息","seq":{base},"subject":"seller.db",'
            f'"ts":"{stamp}.000000Z","v":1}}'
        ).encode()
    )
    assert e.leaf_hash == merkle.leaf_hash(e.body)
    again = ledger.entries(ws, action="scan")
    assert again[0].body == e.body and again[0].details["when"] == "2026-12-01"


def test_record_masks_and_rejects(ws: Workspace) -> None:
    base = ledger.ledger_size(ws)
    e = ledger.record(
        ws,
        "os:test",
        "notice.sent",
        "customer 13812345678",
        "告知",
        {"card": "4111111111111111", "password": "x"},
    )
    assert e.masked == 3
    stored = ledger.entries(ws)[-1].body.decode()
    assert "13812345678" not in stored and "4111111111111111" not in stored
    for action in ("", "Scan", "scan..done", "scan done", "a" * 101):
        with pytest.raises(BadInput):
            ledger.record(ws, "os:test", action, "s", "p")
    with pytest.raises(BadInput):
        ledger.record(ws, "os:test", "x.y", "s", "p", {"blob": b"bytes"})
    assert ledger.ledger_size(ws) == base + 1  # nothing half-written


def test_filters(ws: Workspace) -> None:
    clock = after_newest(ws)
    start = clock.now
    base = ledger.ledger_size(ws)
    ledger.record_many(
        ws,
        [
            ledger.Event("scan.start", "a", "p", actor="user:li"),
            ledger.Event("scan.done", "a", "p", actor="user:li"),
            ledger.Event("seal.done", "b", "p", actor="user:wang"),
        ],
        clock=clock,
    )
    assert [e.action for e in ledger.entries(ws, actor="user:li")] == ["scan.start", "scan.done"]
    assert [e.action for e in ledger.entries(ws, action="seal")] == ["seal.done"]
    since = ledger.entries(ws, since=start)
    assert [e.seq for e in since] == [base, base + 1, base + 2]
    later = ledger.entries(ws, since=start + dt.timedelta(microseconds=1))
    assert [e.seq for e in later] == []  # one batch shares one timestamp
    assert len(ledger.entries(ws, limit=2)) == 2
    # a bound UTC cannot hold is before or after every entry, as it is, never a crash
    east, west = dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-8))
    everything = ledger.entries(ws)
    assert ledger.entries(ws, since=dt.datetime(1, 1, 1, tzinfo=east)) == everything
    assert ledger.entries(ws, since=dt.datetime(9999, 12, 31, 23, tzinfo=west)) == []


def test_stamps_never_go_back(ws: Workspace) -> None:
    """A clock stepped back (NTP) still records, stamped with the previous entry's time, so
    sequence order and time order agree; verify stays clean."""
    clock = after_newest(ws)
    start = clock.now
    first = ledger.record(ws, "os:test", "x.y", "a", "p", clock=clock)
    back = FixedClock(start - dt.timedelta(hours=3))
    stepped = ledger.record_many(
        ws,
        [
            ledger.Event("x.y", "b", "p", actor="os:test"),
            ledger.Event("x.y", "c", "p", actor="os:test"),
        ],
        clock=back,
    )
    assert [e.ts for e in stepped] == [first.ts, first.ts]
    later = ledger.record(ws, "os:test", "x.y", "d", "p", clock=FixedClock(start + dt.timedelta(1)))
    assert later.ts > first.ts
    stamps = [e.ts for e in ledger.entries(ws)]
    assert stamps == sorted(stamps)
    assert [e.seq for e in ledger.entries(ws, since=start)] == [
        e.seq for e in [first, *stepped, later]
    ]
    assert ledger.verify_ledger(ws).ok


@pytest.mark.parametrize(
    "form",
    [
        "canonical",
        "another version",
        "escaped end",
        "reordered",
        "not json",
        "month 13",
        "no microseconds",
        "stamp not text",
        "no stamp",
    ],
)
def test_the_newest_stamp_is_read_from_any_body(ws: Workspace, form: str) -> None:
    """The next stamp never goes before the newest body's, whether that body is laid out
    canonically (its stamp read from its end), rewritten in another key order (parsed),
    or not JSON at all, or holds a later stamp that is no time, or none (tampering verify
    reports: the clock alone stamps)."""
    clock = after_newest(ws)
    ahead = clock.now + dt.timedelta(hours=5)
    newest = ledger.record(ws, "os:test", "x.y", "a", "p", clock=FixedClock(ahead))
    doc = json.loads(newest.body)
    body = {
        "canonical": newest.body.decode(),
        "reordered": json.dumps({"ts": doc["ts"], **doc}, indent=1),
        "not json": newest.body.decode()[:-1],
        # the canonical layout and later than any clock's text, but not a time
        "month 13": newest.body.decode().replace(doc["ts"], "9999-13-01T00:00:00.000000Z"),
        # read from the end as well, but not of the stamp's one width
        "another version": newest.body.decode().replace('"v":1}', '"v":22}'),
        "no microseconds": newest.body.decode().replace(doc["ts"], "9999-12-01T00:00:00Z"),
        "stamp not text": json.dumps({**doc, "ts": 99999}),
        # ends as the canonical layout does, but the 27 characters there are no stamp: the
        # body is read as JSON, whose ts is the later one
        "escaped end": '{"ts":"' + doc["ts"] + '","x\\"ts":"aaaaaaaaaaaaaaaaaaaaaaaaa\\"","v":1}',
        "no stamp": json.dumps({k: v for k, v in doc.items() if k != "ts"}),
    }[form]
    with ws.store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE ledger_entries SET body = ? WHERE seq = ?", (body, newest.seq))
    own = ledger.ledger.format_ts(clock.now)  # what the clock stamps next
    nxt = ledger.record(ws, "os:test", "x.y", "b", "p", clock=clock)
    read = ("canonical", "another version", "escaped end", "reordered")
    assert nxt.ts == (doc["ts"] if form in read else own)


def test_stamps_have_four_digit_years() -> None:
    at = dt.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert ledger.ledger.format_ts(at) == "0999-01-01T19:04:05.000006Z"
    assert ledger.ledger.parse_ts(ledger.ledger.format_ts(at)) == at


@pytest.mark.parametrize(
    "at",
    [
        dt.datetime(999, 1, 1, 19, 4, 5, 6, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC),  # no microseconds
        dt.datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=dt.UTC, fold=1),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    ],
)
def test_a_utc_clock_stamps_as_any_other(at: dt.datetime) -> None:
    """The usual clock's instants (UTC) take a shorter path to their text; the same text
    as the same instant in another zone, and as the zone-less form the stamp spells."""
    east = at.astimezone(dt.timezone(dt.timedelta(hours=-8)))
    text = ledger.ledger.format_ts(at)
    assert text == ledger.ledger.format_ts(east)
    assert text == at.replace(tzinfo=None, fold=0).isoformat(timespec="microseconds") + "Z"
    assert ledger.ledger.parse_ts(text) == at


def _frontier(bodies: list[bytes]) -> bytes:
    node = merkle.levels_node(merkle.build_levels(merkle.leaf_hashes(bodies)))
    return b"".join(node(lv, i) for lv, i in merkle.aligned_pieces(0, len(bodies)))


def test_checkpoint_if_new_and_refusals(ws: Workspace) -> None:
    ledger.checkpoint_if_new(ws)
    assert ledger.checkpoint_if_new(ws) is None  # nothing new to sign
    ledger.record(ws, "os:test", "x.y", "s", "p")
    n = ledger.ledger_size(ws)
    assert ledger.checkpoint_if_new(ws, since=n) is None  # nothing since size n
    cp = ledger.checkpoint_if_new(ws, since=n - 1)
    assert cp is not None and cp.size == n
    assert ledger.checkpoint_if_new(ws) is None
    # A head that no longer extends the last checkpoint is never signed.
    bodies = [e.body for e in ledger.entries(ws)][: n - 1]
    with ws.store.engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM ledger_entries WHERE seq = {n - 1}")
        conn.exec_driver_sql(f"DELETE FROM ledger_nodes WHERE (idx + 1) * (1 << level) > {n - 1}")
        conn.exec_driver_sql(
            "UPDATE ledger_head SET size = ?, frontier = ?", (n - 1, _frontier(bodies))
        )
    with pytest.raises(CheckFailed, match="shrank"):
        ledger.checkpoint_if_new(ws)
    ledger.record_many(
        ws,
        [
            ledger.Event("x.y", "s", "p", actor="os:test"),
            ledger.Event("x.y", "t", "p", actor="os:test"),
        ],
    )
    with pytest.raises(CheckFailed, match="no longer extends"):
        ledger.checkpoint_if_new(ws)


# --- proofs from stored nodes -----------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with pytest.MonkeyPatch.context() as mp:  # module scope: before the autouse fixture
        mp.setenv("HANDOVER_KEY_PROTECTION", "file")
        w = init_workspace(tmp_path_factory.mktemp("big") / "ws", DEMO_TRANSFER)
    clock = after_newest(w)
    ledger.record_many(
        w,
        [ledger.Event("test.event", f"s{i}", "p", {"i": i}, actor="os:test") for i in range(40)],
        clock=clock,
    )
    for i in range(27):
        ledger.record(w, "os:test", "test.more", f"m{i}", "p", clock=clock)
    try:
        yield w
    finally:
        w.close()


def _bodies(w: Workspace) -> list[bytes]:
    return [e.body for e in ledger.entries(w)]


def test_store_tree_matches_pure_functions(big: Workspace) -> None:
    bodies = _bodies(big)
    n = len(bodies)
    assert n == ledger.ledger_size(big) >= 68
    head = ledger.ledger.read_head(big)
    assert head.root == merkle.root_hash(bodies)
    with big.store.engine.connect() as conn:
        for size in range(1, n + 1):
            assert ledger.ledger.root_at(conn, size) == merkle.root_hash(bodies[:size])
        stored = conn.exec_driver_sql("SELECT root FROM ledger_entries ORDER BY seq").all()
    assert [bytes(r[0]) for r in stored] == [merkle.root_hash(bodies[: i + 1]) for i in range(n)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    a=st.integers(min_value=0, max_value=120),
    b=st.integers(min_value=1, max_value=120),
    byte=st.integers(min_value=0, max_value=31),
)
def test_log_proofs_verify_and_break(big: Workspace, a: int, b: int, byte: int) -> None:
    bodies = _bodies(big)
    a, b = a % len(bodies), 1 + (b - 1) % len(bodies)
    size = max(a + 1, b)
    seq = min(a, size - 1)
    root = merkle.root_hash(bodies[:size])
    with big.store.engine.connect() as conn:
        inc = inclusion_from_store(conn, seq, size)
        old = min(a, b) or 1
        cons = consistency_from_store(conn, old, size)
    assert inc.root == root
    assert inc.proof == merkle.inclusion_proof(bodies[:size], seq)
    assert merkle.verify_inclusion(bodies[seq], seq, size, inc.proof, root)
    old_root = merkle.root_hash(bodies[:old])
    assert merkle.verify_consistency(old, size, cons, old_root, root)
    for k in range(len(inc.proof)):
        bad = list(inc.proof)
        bad[k] = bytes(x ^ (1 if j == byte else 0) for j, x in enumerate(bad[k]))
        assert not merkle.verify_inclusion(bodies[seq], seq, size, bad, root)
    for k in range(len(cons)):
        bad = list(cons)
        bad[k] = bytes(x ^ (1 if j == byte else 0) for j, x in enumerate(bad[k]))
        assert not merkle.verify_consistency(old, size, bad, old_root, root)
    changed = bytearray(bodies[seq])
    changed[byte % len(changed)] ^= 0x20
    assert not merkle.verify_inclusion(bytes(changed), seq, size, inc.proof, root)


def test_prove_against_checkpoint(big: Workspace) -> None:
    p = ledger.prove(big, 13)
    n = ledger.ledger_size(big)
    origin, pub = ledger.public_identity(big)
    cp = parse_checkpoint(open_note(p.checkpoint, origin, pub))
    assert cp.size == p.size == n and cp.root == p.root
    assert merkle.verify_inclusion(p.body, 13, p.size, p.proof, cp.root)
    with pytest.raises(BadInput):
        ledger.prove(big, n)


def test_verify_clean_and_external_checkpoint(big: Workspace, tmp_path: Path) -> None:
    cp = ledger.latest_checkpoint(big)
    saved = tmp_path / "cp.txt"
    ledger.ledger.write_checkpoint(cp, saved)
    ledger.record(big, "os:test", "test.after", "s", "p")
    report = ledger.verify_ledger(big, saved, chunk=7)
    assert report.ok, report.problems
    assert report.size == cp.size + 1 and report.uncovered == 1
    assert report.external is not None and report.external["extended"] is True
    other = fixed_signer(b"\x07" * 32)
    origin, _ = ledger.public_identity(big)
    forged = tmp_path / "forged.txt"
    forged.write_text(sign_note(Checkpoint(origin, 5, b"\x00" * 32).text(), origin, other))
    bad = ledger.verify_ledger(big, forged)
    assert not bad.ok and "not a checkpoint signed by this ledger" in bad.problems[0].message


def test_reopen_keeps_working(tmp_path: Path) -> None:
    w = init_workspace(tmp_path / "ws", DEMO_TRANSFER)
    w.close()
    w2 = open_workspace(tmp_path / "ws")
    try:
        ledger.record(w2, "os:test", "x.y", "s", "p")
        assert ledger.checkpoint_if_new(w2) is not None
        assert ledger.verify_ledger(w2).ok
    finally:
        w2.close()


def test_first_signature_creates_the_key_outside_the_ledger_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a usable keyring nothing is signed (quietly after commands, refused on
    request); the first signature creates the key, whose key.create the checkpoint covers."""
    from handover.crypto import KeyringRefused

    monkeypatch.delenv("HANDOVER_KEY_PROTECTION")
    w = init_workspace(tmp_path / "ws", DEMO_TRANSFER)
    try:
        # init also registers the transfer's seller, buyer and advisor organisations
        init = ["workspace.init"] + ["governance.org.add"] * 3
        assert [e.action for e in ledger.entries(w)] == init
        assert ledger.checkpoint_if_new(w) is None
        with pytest.raises(KeyringRefused):
            ledger.latest_checkpoint(w)
    finally:
        w.close()
    monkeypatch.setenv("HANDOVER_KEY_PROTECTION", "file")
    w = open_workspace(tmp_path / "ws")
    try:
        assert ledger.checkpoint_if_new(w) is None  # nobody named to create the key for
        cp = ledger.checkpoint_if_new(w, actor="os:test")
        assert cp is not None and cp.size == len(init) + 1
        assert [e.action for e in ledger.entries(w)] == [*init, "key.create"]
        assert ledger.verify_ledger(w).ok
    finally:
        w.close()


def test_checkpoints_verify_across_a_signing_key_rotation(ws: Workspace, tmp_path: Path) -> None:
    import subprocess
    import sys

    from handover.crypto import Keys, public_key
    from handover.ledger.export import export_bundle

    old = public_key(ws)
    ledger.record(ws, "os:test", "x.y", "s", "p")
    assert ledger.checkpoint_if_new(ws) is not None
    with Keys(ws, events=Recorder(ws, "os:test")) as keys:
        keys.rotate(old.key_id)
    assert ledger.checkpoint_if_new(ws) is not None
    _origin, pub = ledger.public_identity(ws)
    assert pub == public_key(ws).raw != old.raw
    assert ledger.verify_ledger(ws).ok
    export_bundle(ws, tmp_path / "bundle", actor="os:test")
    vkeys = (tmp_path / "bundle" / "verifier_key.txt").read_text().split()
    assert len(vkeys) == 2

    def offline(*keys: str) -> int:
        args = [a for k in keys for a in ("--key", k)]
        verify = tmp_path / "bundle" / "verify.py"
        cmd = [sys.executable, str(verify), str(tmp_path / "bundle"), *args]
        return subprocess.run(cmd, capture_output=True, timeout=120).returncode

    assert offline(*vkeys) == 0
    assert offline(vkeys[-1]) == 1  # checkpoints before the rotation need the old key too


def test_a_store_held_by_another_writer_is_one_transient_error(ws: Workspace) -> None:
    """The append's lock goes through the driver's own cursor: SQLite's "database is
    locked" is still the one transient ledger error, and nothing is recorded."""
    import sqlite3

    size = ledger.ledger_size(ws)
    with ws.store.engine.connect() as conn:  # the pooled connection the append reuses
        conn.exec_driver_sql("PRAGMA busy_timeout = 50")
    other = sqlite3.connect(str(ws.path / "handover.db"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(HandoverError) as got:
            ledger.record(ws, "os:test", "x.y", "a", "p")
        assert got.value.transient
        assert "database is locked" in str(got.value)
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert ledger.ledger_size(ws) == size
    assert ledger.record(ws, "os:test", "x.y", "a", "p").seq == size
