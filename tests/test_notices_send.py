"""Notice campaigns end to end against a real SMTP server (aiosmtpd), counted server side:
maker-checker, exactly once, kill -9 + --resume, bad input."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import random
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from handover.errors import BadInput, HandoverError, Refused
from handover.flows.notices import approve_campaign, create_campaign, send_campaign
from handover.notices.channels import SmtpConfig
from handover.notices.outbox import counts
from handover.synth import synthesize
from notices_data import (
    Clock,
    Mailbox,
    approve,
    base,
    clock,
    copy_ws,
    free_port,
    sms_config,
    sms_provider,
    smtp_server,
    ws,
)
from test_crypto_tokenize import _gone

aiosmtpd = pytest.importorskip("aiosmtpd")
__all__ = ["base", "clock", "sms_provider", "smtp_server", "ws"]  # fixtures used by name


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("notices") / "book.db"
    synthesize(str(path), customers=400, seed=16)
    return path


def _campaign(ws: Any, book: Path, **kw: Any) -> int:
    camp = create_campaign(
        ws,
        book,
        name="t",
        channels=kw.pop("channels", ["email"]),
        exclude=["sys_user"],
        link="https://b.example/n",
        **kw,
    )
    return camp.id


_approve = approve


def _cfg(port: int) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, "dpo@seller.example.cn", security="none")


def test_campaign_maker_checker_and_exactly_once(
    ws: Any, book: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    box, port = smtp_server
    cid = _campaign(ws, book)
    with pytest.raises(Refused):  # the grant awaits two approvers
        send_campaign(ws, cid, book, smtp=_cfg(port))
    with pytest.raises(Refused):  # the maker is no approver of their own campaign
        approve_campaign(ws, cid, actor="wangmin")
    approve_campaign(ws, cid, actor="zhoujie")
    with pytest.raises(Refused, match=r"awaits approval \(1 of 2"):
        send_campaign(ws, cid, book, smtp=_cfg(port))
    approve_campaign(ws, cid, actor="liqiang")
    assert box.got == []
    # three SMTP connections at once: still one message per person
    report = send_campaign(ws, cid, book, smtp=_cfg(port), smtp_connections=3)
    queued = report.queued_now
    assert queued is not None and queued["email"] > 50
    assert report.outbox == {"email": {"sent": queued["email"]}} and report.pending == 0
    got = box.got
    assert len(got) == queued["email"] == len(box.distinct())
    assert len({r for r, _ in got}) == len(got)  # one notice per person
    # what arrives: the subject in Chinese, text and HTML parts, the key as Message-ID
    import email
    from email.header import decode_header, make_header

    wire = email.message_from_bytes(box.last)
    assert str(make_header(decode_header(wire["Subject"]))).startswith("个人信息转移告知")
    assert wire["Message-ID"] == f"<{wire['X-Handover-Notice']}@handover.notice>"
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode("utf-8")
        for p in wire.walk()
        if p.get_content_maintype() == "text"
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert "个人信息保护负责人" in parts["text/plain"] and "<table" in parts["text/html"]
    # a re-run is refused, a resume sends nothing more
    with pytest.raises(BadInput, match="already started"):
        send_campaign(ws, cid, book, smtp=_cfg(port))
    again = send_campaign(ws, cid, book, smtp=_cfg(port), resume=True)
    assert again.channels[0].sent == 0 and len(box.got) == len(got)
    # evidence: hashes and counts in the ledger, never an address
    from handover.ledger import entries

    ledger = json.dumps([e.details for e in entries(ws)], ensure_ascii=False)
    assert "notices.batch" in json.dumps([e.action for e in entries(ws)])
    assert not any(addr in ledger for addr, _ in got)
    assert "content_sha256_digest" in ledger


def test_bad_servers_change_nothing(ws: Any, book: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cid = _campaign(ws, book)
    _approve(ws, cid)
    with pytest.raises(HandoverError, match=r"cannot reach the SMTP server 127\.0\.0\.1"):
        send_campaign(ws, cid, book, smtp=_cfg(free_port()))
    assert counts(ws, cid) == {}  # connected before queueing: not even queued

    def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        # handled=False: the server itself answers 535 to a failed login
        ok = data.login == b"u" and data.password == b"right"
        return AuthResult(success=ok, handled=False)

    box = Mailbox()
    port = free_port()
    ctl = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=auth,
        auth_require_tls=False,
    )
    ctl.start()
    try:
        bad = SmtpConfig("127.0.0.1", port, "d@s.cn", "none", username="u", password="wrong")
        with pytest.raises(HandoverError, match="refused the login"):
            send_campaign(ws, cid, book, smtp=bad)
        assert box.got == [] and counts(ws, cid) == {}
        good = SmtpConfig("127.0.0.1", port, "d@s.cn", "none", username="u", password="right")
        report = send_campaign(ws, cid, book, smtp=good)  # a plain retry: never started
        assert report.pending == 0 and len(box.distinct()) == len(box.got) > 0
    finally:
        ctl.stop()


def test_resume_after_source_changed_is_refused(
    ws: Any, book: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    import sqlite3

    box, port = smtp_server
    cid = _campaign(ws, book)
    _approve(ws, cid)
    send_campaign(ws, cid, book, smtp=_cfg(port), batch=50)
    sent = len(box.got)
    # the module's book is changed and put back (the scan stays valid for the others)
    db = sqlite3.connect(book)
    first = "(SELECT min(khbh) FROM cust_info)"
    (before,) = db.execute(f"SELECT sjhm FROM cust_info WHERE khbh = {first}").fetchone()
    db.execute(f"UPDATE cust_info SET sjhm = '13900000000' WHERE khbh = {first}")
    db.commit()
    try:
        with pytest.raises(BadInput, match="changed since campaign"):
            send_campaign(ws, cid, book, smtp=_cfg(port), resume=True)
        assert len(box.got) == sent
    finally:
        db.execute(f"UPDATE cust_info SET sjhm = ? WHERE khbh = {first}", (before,))
        db.commit()
        db.close()


def _fork_cli(args: list[str]) -> int:
    """Run ``handover ARGS`` in a forked child (the real CLI and flow, without paying an
    interpreter start-up per trial); returns the child's pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            from handover.cli.main import app

            try:
                app(args, prog_name="handover")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os._exit(code)
    return pid


def test_kill_9_and_resume_send_each_notice_once(
    tmp_path: Path, base: Path, book: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """Five kill -9 at seeded moments of `handover notices send` (a process of its own,
    killed mid-send), then --resume to the end: every person with an e-mail has exactly
    one message (one Message-ID) on the server."""
    box, port = smtp_server
    box.delay = 0.01
    ws = copy_ws(base, tmp_path / "ws")
    try:
        cid = _campaign(ws, book)
        _approve(ws, cid)
    finally:
        ws.close()
    args = [
        "--workspace",
        str(tmp_path / "ws"),
        "notices",
        "send",
        str(cid),
        str(book),
        "--resume",
        "--batch",
        "5",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--smtp-security",
        "none",
        "--sender",
        "dpo@seller.example.cn",
    ]
    rng = random.Random(16)
    kills = 0
    for _ in range(5):
        before = len(box.got)
        pid = _fork_cli(args)
        # kill once the run has started sending, at a seeded point within it
        deadline = time.monotonic() + 60
        done_pid = 0
        while len(box.got) == before and time.monotonic() < deadline:
            done_pid, _ = os.waitpid(pid, os.WNOHANG)
            if done_pid:
                break
            time.sleep(0.005)
        if not done_pid:
            time.sleep(rng.uniform(0.0, 0.2))
            os.kill(pid, signal.SIGKILL)
            kills += 1
            os.waitpid(pid, 0)
    pid = _fork_cli(args)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert kills == 5
    from handover.workspace import open_workspace

    ws = open_workspace(tmp_path / "ws")
    try:
        sent = counts(ws, cid)["email"]
    finally:
        ws.close()
    assert set(sent) == {"sent"}
    distinct = box.distinct()
    by_person: dict[str, set[str]] = {}
    for rcpt, mid in distinct:
        by_person.setdefault(rcpt, set()).add(mid)
    assert len(by_person) == sent["sent"]  # nobody skipped
    assert all(len(m) == 1 for m in by_person.values())  # one message id per person
    # copies on the wire only for messages in flight at a kill (same Message-ID)
    assert len(box.got) - len(distinct) <= kills


_sms = sms_config


def test_sms_through_the_standin_with_receipts(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    from handover.flows.notices import record_receipts

    cid = create_campaign(
        ws, book, name="s", channels=["sms"], exclude=["sys_user"], link="https://b.cn/n"
    ).id
    _approve(ws, cid)
    # provider refusals that stop the run change nothing
    for bad, match in (
        (_sms(sms_provider.url, access_key_secret="wrong"), "refused the AccessKey"),
        (_sms(sms_provider.url, template_code="SMS_9"), r"isv\.SMS_TEMPLATE_ILLEGAL"),
        (_sms(sms_provider.url, sign_name="别人"), r"isv\.SMS_SIGNATURE_ILLEGAL"),
        (_sms(f"http://127.0.0.1:{free_port()}/"), "cannot reach the SMS provider"),
    ):
        with pytest.raises(HandoverError, match=match):
            send_campaign(ws, cid, book, sms=bad, resume=True)
    assert sms_provider.accepted == [] and set(counts(ws, cid)["sms"]) == {"queued"}
    report = send_campaign(
        ws,
        cid,
        book,
        sms=_sms(sms_provider.url),
        resume=True,
        batch=50,
        rate=350,  # under the provider's 400 a second: no call refused
        now=clock.now,
        sleep=clock.sleep,
    )
    n = report.queued_now or report.outbox["sms"]["sent"]
    got = sms_provider.accepted
    assert report.pending == 0 and len(got) == report.outbox["sms"]["sent"] > 100
    assert len({a["phone"] for a in got}) == len(got)  # one SMS per person
    # SendBatchSms: up to 100 numbers a call (the provider's limit), one OutId a call
    assert len({a["out_id"] for a in got}) == sms_provider.calls == -(-len(got) // 50)
    assert all(
        a["text"].startswith("【示例市诚信小额贷款有限公司】您的个人信息将转移至") for a in got
    )
    res = record_receipts(ws, cid, sms_provider.reports)
    assert res["delivered"] + res["undelivered"] == len(got) and res["undelivered"] > 0
    again = record_receipts(ws, cid, sms_provider.reports)  # receipts may come twice
    assert again["ignored"] == len(got)
    states = counts(ws, cid)["sms"]
    assert states == {"delivered": res["delivered"], "undelivered": res["undelivered"]}
    assert n
    # the ledger has the counts, never a number
    from handover.ledger import entries

    ledger = json.dumps([e.details for e in entries(ws)], ensure_ascii=False)
    assert not any(a["phone"] in ledger for a in got)


def test_sms_rate_limit_and_bad_numbers_are_per_recipient(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """Over the provider's rate a notice is retried after a backoff (never lost); a number
    the provider refuses fails and falls back to a letter (the person has an address),
    which the letter channel then writes. Time is the test's clock: no waiting."""
    import sqlite3

    src = book
    db = sqlite3.connect(src)
    (mobile,) = db.execute(
        "SELECT mobile FROM loan_guarantor WHERE length(mobile) = 11 ORDER BY guarantor_id"
    ).fetchone()
    db.close()
    sms_provider.per_second = 150
    sms_provider.invalid_numbers = {mobile}
    cid = create_campaign(
        ws,
        src,
        name="r",
        channels=["sms", "letter"],
        tables=["loan_guarantor"],
        link="https://b.cn/n",
    ).id
    _approve(ws, cid)
    report = send_campaign(
        ws,
        cid,
        src,
        sms=_sms(sms_provider.url),
        batch=300,
        backoff=dt.timedelta(seconds=30),
        now=clock.now,
        sleep=clock.sleep,
    )
    st = report.channels[1] if report.channels[0].channel == "letter" else report.channels[0]
    assert st.channel == "sms"
    assert st.retry > 0  # the rate limit was hit and those notices came back later
    assert clock.t >= 30  # ... after the backoff, on the injected clock
    assert report.outbox["sms"] == {"sent": len(sms_provider.accepted), "failed": 1}
    assert st.fallback == 1 and report.skipped_channels == []
    assert report.pending == 0  # the fallback letter was written too
    assert report.outbox["letter"]["sent"] >= 1
    assert len({a["phone"] for a in sms_provider.accepted}) == len(sms_provider.accepted)
    assert mobile not in {a["phone"] for a in sms_provider.accepted}
    # an SMS the receipt says was not delivered falls back to a letter on the next run
    from handover.flows.notices import record_receipts

    res = record_receipts(ws, cid, sms_provider.reports)
    assert res["undelivered"] > 0
    again = send_campaign(
        ws, cid, src, sms=_sms(sms_provider.url), resume=True, now=clock.now, sleep=clock.sleep
    )
    assert 0 < again.fallback_undelivered <= res["undelivered"]
    assert (
        again.outbox["letter"]["sent"]
        == report.outbox["letter"]["sent"] + again.fallback_undelivered
    )
    assert again.pending == 0 and len(sms_provider.accepted) == report.outbox["sms"]["sent"]
    third = send_campaign(
        ws, cid, src, sms=_sms(sms_provider.url), resume=True, now=clock.now, sleep=clock.sleep
    )
    assert third.fallback_undelivered == 0


def _outbox(ws: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every outbox row (id order) and every unreachable row as stored."""
    from sqlalchemy import text

    with ws.store.engine.connect() as conn:
        out = conn.execute(
            text(
                "SELECT id, campaign_id, key, recipient, channel, state, attempts, next_at, "
                "provider_id, error, sha256, updated_at, address_tag FROM notice_outbox ORDER BY id"
            )
        ).all()
        lost = conn.execute(
            text(
                "SELECT campaign_id, idx, table_name, row_key, name_masked, reason "
                "FROM notice_unreachable ORDER BY idx"
            )
        ).all()
    return [tuple(r) for r in out], [tuple(r) for r in lost]


def test_queue_in_chunks_writes_the_rows_of_one_insert(
    tmp_path: Path, base: Path, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued in chunks smaller than the audience (so several bulk inserts per channel),
    the outbox holds the same rows, ids and unreachable list as in one chunk, and each
    row is what the per-row builder gives (idempotency key, address tag, state), a
    channel's rows in the order of their keys. The chunked copy derives its audience and
    tags with the tokens' worker process at work (as ``notices send`` does): the same
    audience, the same rows."""
    from handover.deid.extract import token_key
    from handover.flows.notices import _tagger
    from handover.ledger import Recorder
    from handover.notices.audience import PeopleTable, derive_audience
    from handover.notices.campaign import load_campaign
    from handover.notices.outbox import _rows_for, address_tags, plan_rows, queue
    from handover.sources import open_source

    one = copy_ws(base, tmp_path / "one")
    many = None
    try:
        cid = _campaign(one, book, channels=["email", "sms", "letter"])
        _tagger(one, Recorder(one, "test"))  # the tokenize key, in both copies
        one.close()
        shutil.copytree(tmp_path / "one", tmp_path / "many")
        one, many = copy_ws_open(tmp_path / "one"), copy_ws_open(tmp_path / "many")
        camp = load_campaign(one, cid)
        people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
        tagger = _tagger(one, Recorder(one, "test"))
        with open_source(book) as src:
            aud = derive_audience(src, people, tagger)
        assert aud.unreachable.num_rows > 7 and len(aud) > 7
        whole = queue(one, cid, aud, tagger=tagger)
        tk = importlib.import_module("handover.crypto.tokenize")  # the module, not the function
        monkeypatch.setattr(tk, "PROCESS_MIN", 2)
        with tk.tokenizer_process(many, token_key(many, Recorder(many, "test"))) as tokens:
            with open_source(book) as src:
                again = derive_audience(src, people, tokens)
            assert len(tokens.pids()) == 1  # the worker computed them
            assert again.recipients.equals(aud.recipients)
            assert again.unreachable.equals(aud.unreachable)
            assert again.fingerprint == aud.fingerprint
            cut = queue(many, cid, again, tagger=tokens, chunk=7)
        assert whole == cut and sum(whole.values()) > 7 * 3
        rows, lost = _outbox(one)
        assert _outbox(many) == (rows, lost)
        expected = []
        for ch, planned in plan_rows(aud, camp.channels).items():
            tags = (
                address_tags(tagger, ch, planned.column("address").combine_chunks())
                if ch != "letter"
                else None
            )
            rows_of = _rows_for(cid, planned.column("recipient").to_pylist(), ch, tags)
            expected += sorted(rows_of, key=lambda e: e["key"])  # a channel's in key order
        cols = ("campaign_id", "key", "recipient", "channel", "state", "attempts", "address_tag")
        assert [(*r[1:7], r[12]) for r in rows] == [tuple(e[k] for k in cols) for e in expected]
        assert all(r[7:12] == (None,) * 5 for r in rows)
        assert [r[0] for r in rows] == list(range(rows[0][0], rows[0][0] + len(rows)))
        assert lost == [
            (cid, i, u["table"], u["row_key"], u["name_masked"], u["reason"])
            for i, u in enumerate(aud.unreachable.to_pylist())
        ]
    finally:
        one.close()
        if many is not None:
            many.close()


def test_send_with_the_tokens_worker_queues_the_same_and_ends_it_on_an_error(
    ws: Any, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``notices send`` with the tokens' worker process at work (``PROCESS_MIN``
    lowered): a failure while queueing ends the worker at once and releases the
    campaign's lease; the send after it queues every SMS row with the tag of its number
    as the in-process tokenizer gives it."""
    from contextlib import contextmanager

    import handover.flows.notices as fn
    from handover.ledger import Recorder
    from handover.notices.audience import PeopleTable, derive_audience
    from handover.notices.campaign import load_campaign
    from handover.notices.outbox import address_tags, plan_rows, release_lease, take_lease
    from handover.sources import open_source

    tk = importlib.import_module("handover.crypto.tokenize")  # the module, not the function
    monkeypatch.setattr(tk, "PROCESS_MIN", 2)
    started: list[Any] = []
    real_process, real_queue = fn.tokenizer_process, fn.queue

    @contextmanager
    def watched(*args: Any, **kw: Any) -> Any:
        with real_process(*args, **kw) as tokens:
            started.append(tokens)
            yield tokens

    pids: list[int] = []

    def failing(*args: Any, **kw: Any) -> Any:
        pids.extend(started[-1].pids())  # the audience's tokens started it
        raise OSError("disk full")

    monkeypatch.setattr(fn, "tokenizer_process", watched)
    monkeypatch.setattr(fn, "queue", failing)
    cid = _campaign(ws, book, channels=["sms"])
    _approve(ws, cid)
    with pytest.raises(OSError):
        send_campaign(ws, cid, book)
    assert len(pids) == 1
    deadline = time.monotonic() + 30
    while not _gone(pids[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pids[0])
    release_lease(ws, cid, take_lease(ws, cid))  # free again
    monkeypatch.setattr(fn, "queue", real_queue)
    report = send_campaign(ws, cid, book)
    assert report.skipped_channels == ["sms"] and len(started) == 2
    camp = load_campaign(ws, cid)
    people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
    tagger = fn._tagger(ws, Recorder(ws, "test"))
    with open_source(book) as src:
        planned = plan_rows(derive_audience(src, people, tagger), ["sms"])["sms"]
    want = dict(
        zip(
            planned.column("recipient").to_pylist(),
            address_tags(tagger, "sms", planned.column("address").combine_chunks()),
            strict=True,
        )
    )
    rows, _lost = _outbox(ws)
    assert len(rows) == len(want) == sum((report.queued_now or {}).values()) > 2
    assert {r[3]: r[12] for r in rows} == want


def copy_ws_open(path: Path) -> Any:
    from handover.workspace import open_workspace

    return open_workspace(path)


@pytest.mark.parametrize("channels", [["email", "sms", "letter"], ["sms"]])
def test_report_counts_people_and_not_reached_in_one_pass(
    ws: Any, book: Path, channels: list[str]
) -> None:
    """The report's persons and persons not reached (no notice of theirs sent, delivered
    or pending) are the distinct-recipient counts they always were: grouped by person
    over several channels, read off the counts per state with one (one notice a
    person)."""
    from sqlalchemy import text

    from handover.flows.notices import _tagger
    from handover.ledger import Recorder
    from handover.notices.audience import PeopleTable, derive_audience
    from handover.notices.campaign import load_campaign
    from handover.notices.outbox import queue
    from handover.notices.report import report_data
    from handover.sources import open_source

    cid = _campaign(ws, book, channels=channels)
    camp = load_campaign(ws, cid)
    tagger = _tagger(ws, Recorder(ws, "test"))
    people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
    with open_source(book) as src:
        queue(ws, cid, derive_audience(src, people, tagger), tagger=tagger)
    with ws.store.engine.begin() as conn:
        conn.execute(text("UPDATE notice_outbox SET state = 'failed' WHERE id % 3 = 0"))
        conn.execute(text("UPDATE notice_outbox SET state = 'sent' WHERE id % 3 = 1"))
        conn.execute(text("UPDATE notice_outbox SET state = 'undelivered' WHERE id % 5 = 0"))
    data = report_data(ws, load_campaign(ws, cid))
    with ws.store.engine.connect() as conn:
        where = "FROM notice_outbox WHERE campaign_id = :c"
        persons = conn.execute(text(f"SELECT count(DISTINCT recipient) {where}"), {"c": cid})
        lost = conn.execute(
            text(
                f"SELECT count(DISTINCT recipient) {where} AND recipient NOT IN (SELECT "
                f"recipient {where} AND state IN ('sent', 'delivered', 'queued', 'sending', "
                "'retry'))"
            ),
            {"c": cid},
        )
        # and the people none of the campaign's channels reaches (listed as unreachable)
        unreached = conn.execute(
            text(
                "SELECT count(*) FROM notice_unreachable WHERE campaign_id = :c "
                "AND reason = 'no_channel'"
            ),
            {"c": cid},
        ).scalar()
        with_notices = persons.scalar()
        expected = (with_notices + unreached, lost.scalar() + unreached)
    assert (data["people"], data["not_reached"]) == expected
    assert 0 < expected[1] < expected[0] and data["replies"]["people"] == with_notices
    assert unreached == (0 if "letter" in channels else 5)  # the sms-only case has them


def test_one_sender_per_campaign_also_among_threads(ws: Any, book: Path) -> None:
    """The lease is one sender's, not one process's: a second sender in the same process
    (two console jobs) is refused while the first holds it, and takes it once released
    (two resumes at once had mailed 40 people twice)."""
    from handover.notices.outbox import release_lease, take_lease

    cid = _campaign(ws, book)
    first = take_lease(ws, cid)
    with pytest.raises(BadInput, match=f"campaign {cid} is being sent by process {os.getpid()}"):
        take_lease(ws, cid)
    release_lease(ws, cid, first)
    second = take_lease(ws, cid)
    assert second != first
    release_lease(ws, cid, second)


def test_a_lease_left_by_an_earlier_process_of_this_pid_is_taken_over(ws: Any, book: Path) -> None:
    """A console restarted with the same pid (a container's PID 1) finds its own pid in
    the lease its killed predecessor left: not a live sender of this process, so it is
    taken over (helper-41: it had been refused for ever); a live one is not."""
    import socket

    from handover.notices.models import NoticeCampaignRow
    from handover.notices.outbox import release_lease, take_lease

    cid = _campaign(ws, book)
    for left in (
        f"{socket.gethostname()}:{os.getpid()}",
        f"{socket.gethostname()}:{os.getpid()}:0dead0",
    ):
        with ws.store.session() as s:
            s.get(NoticeCampaignRow, cid).lease = left
        mine = take_lease(ws, cid)
        assert mine != left
        with pytest.raises(BadInput):
            take_lease(ws, cid)
        release_lease(ws, cid, mine)


def test_senders_starting_together_take_the_lease_once(ws: Any, book: Path) -> None:
    """Eight senders asking for one campaign's lease at once: exactly one gets it (the
    lease is set only if it is still the one read)."""
    import threading

    from handover.notices.outbox import release_lease, take_lease

    cid = _campaign(ws, book)
    gate = threading.Barrier(8)
    got: list[str] = []
    refused: list[BaseException] = []

    def ask() -> None:
        gate.wait()
        try:
            got.append(take_lease(ws, cid))
        except BadInput as exc:
            refused.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == 1 and len(refused) == 7
    release_lease(ws, cid, got[0])


def _queue_all(ws: Any, book: Path, cid: int) -> dict[str, int]:
    from handover.flows.notices import _tagger
    from handover.ledger import Recorder
    from handover.notices.audience import PeopleTable, derive_audience
    from handover.notices.campaign import load_campaign
    from handover.notices.outbox import queue
    from handover.sources import open_source

    camp = load_campaign(ws, cid)
    tagger = _tagger(ws, Recorder(ws, "test"))
    people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
    with open_source(book) as src:
        return queue(ws, cid, derive_audience(src, people, tagger), tagger=tagger, chunk=100)


def _tag_index_sql(ws: Any) -> str | None:
    from sqlalchemy import text

    with ws.store.engine.connect() as conn:
        return conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'ix_notice_outbox_tag'")
        ).scalar()


def test_a_large_queue_builds_the_tag_index_again_after_its_rows(
    ws: Any, book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queueing more notices than the outbox held drops the address-tag index inside its
    transaction and builds it after the rows: the same index, every tag in it; a queue
    that fails after the drop leaves the index and the outbox as they were."""
    from sqlalchemy import text

    from handover.db.dialects.sqlite import SQLite
    from handover.notices import outbox

    before = _tag_index_sql(ws)
    assert before is not None
    monkeypatch.setattr(outbox, "REBUILD_MIN", 1)
    dropped: list[bool] = []
    real = SQLite.index_after

    def spy(self: Any, dbapi: Any, drop: str, create: str) -> Any:
        dropped.append(dbapi.in_transaction and "DROP INDEX" in drop)
        return real(self, dbapi, drop, create)

    monkeypatch.setattr(SQLite, "index_after", spy)
    # a failure after the drop (the unreachable rows come after the notices)
    failing = _campaign(ws, book, channels=["sms"])

    def broken(*_a: Any) -> Any:
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(outbox, "_unreachable_batch", broken)
        with pytest.raises(RuntimeError):
            _queue_all(ws, book, failing)
    assert dropped == [True]  # dropped inside the transaction, which rolled it back
    assert _tag_index_sql(ws) == before
    with ws.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notice_outbox")).scalar() == 0
    # a queue that lands: the index built again, the same definition, every row in it
    cid = _campaign(ws, book, channels=["sms", "email"])
    queued = _queue_all(ws, book, cid)
    assert sum(queued.values()) > 200  # more than one chunk of 100
    assert dropped == [True, True]
    assert _tag_index_sql(ws) == before
    with ws.store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        tags = conn.execute(
            text(
                "SELECT count(*) FROM notice_outbox INDEXED BY ix_notice_outbox_tag "
                "WHERE campaign_id = :c AND channel = 'sms' AND address_tag IS NOT NULL"
            ),
            {"c": cid},
        ).scalar()
        assert tags == queued["sms"]
    # with more notices already in the outbox than a queue adds, the index is kept
    import pyarrow as pa

    with ws.store.session() as s:
        assert not outbox._rebuild_tag_index(s, {"sms": pa.table({"a": [1, 2]})})
        assert outbox._rebuild_tag_index(s, {"sms": pa.table({"a": range(100_000)})})
