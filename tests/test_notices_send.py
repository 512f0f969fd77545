"""Notice campaigns end to end against a real SMTP server (aiosmtpd), counted server side:
maker-checker, exactly once, kill -9 + --resume, bad input."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from handover.errors import BadInput, HandoverError, Refused
from handover.flows.notices import approve_campaign, create_campaign, send_campaign
from handover.flows.workspace import init_workspace
from handover.notices.channels import SmtpConfig
from handover.notices.outbox import counts
from handover.synth import synthesize

aiosmtpd = pytest.importorskip("aiosmtpd")


@dataclass
class Mailbox:
    """What the SMTP server received: (recipient, Message-ID) per accepted message."""

    delay: float = 0.0
    got: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        text = envelope.content.decode("utf-8", "replace")
        mid = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in text.splitlines()
                if ln.lower().startswith("message-id:")
            ),
            "-",
        )
        with self.lock:
            self.got.append((envelope.rcpt_tos[0], mid))
        return "250 OK"

    def distinct(self) -> set[tuple[str, str]]:
        with self.lock:
            return set(self.got)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = _free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("notices") / "book.db"
    synthesize(str(path), customers=600, seed=16)
    return path


def _campaign(ws: Any, book: Path, **kw: Any) -> int:
    camp = create_campaign(
        ws,
        book,
        name="t",
        channels=["email"],
        exclude=["sys_user"],
        link="https://b.example/n",
        **kw,
    )
    return camp.id


def _approve(ws: Any, cid: int) -> None:
    approve_campaign(ws, cid, actor="zhoujie")
    approve_campaign(ws, cid, actor="liqiang")


def _cfg(port: int) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, "dpo@seller.example.cn", security="none")


def test_campaign_maker_checker_and_exactly_once(
    tmp_path: Path, book: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    box, port = smtp_server
    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
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
        report = send_campaign(ws, cid, book, smtp=_cfg(port))
        queued = report.queued_now
        assert queued is not None and queued["email"] > 50
        assert report.outbox == {"email": {"sent": queued["email"]}} and report.pending == 0
        got = box.got
        assert len(got) == queued["email"] == len(box.distinct())
        assert len({r for r, _ in got}) == len(got)  # one notice per person
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
    finally:
        ws.close()


def test_bad_servers_change_nothing(tmp_path: Path, book: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        cid = _campaign(ws, book)
        _approve(ws, cid)
        with pytest.raises(HandoverError, match=r"cannot reach the SMTP server 127\.0\.0\.1"):
            send_campaign(ws, cid, book, smtp=_cfg(_free_port()))
        assert set(counts(ws, cid)["email"]) == {"queued"}  # nothing claimed, nothing in doubt

        def auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            # handled=False: the server itself answers 535 to a failed login
            ok = data.login == b"u" and data.password == b"right"
            return AuthResult(success=ok, handled=False)

        box = Mailbox()
        port = _free_port()
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
                send_campaign(ws, cid, book, smtp=bad, resume=True)
            assert box.got == [] and set(counts(ws, cid)["email"]) == {"queued"}
            good = SmtpConfig("127.0.0.1", port, "d@s.cn", "none", username="u", password="right")
            report = send_campaign(ws, cid, book, smtp=good, resume=True)
            assert report.pending == 0 and len(box.distinct()) == len(box.got) > 0
        finally:
            ctl.stop()
    finally:
        ws.close()


def test_resume_after_source_changed_is_refused(
    tmp_path: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    import sqlite3

    box, port = smtp_server
    src = tmp_path / "book.db"
    synthesize(str(src), customers=200, seed=3)
    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        cid = _campaign(ws, src)
        _approve(ws, cid)
        send_campaign(ws, cid, src, smtp=_cfg(port), batch=10)
        sent = len(box.got)
        db = sqlite3.connect(src)
        db.execute(
            "UPDATE cust_info SET sjhm = '13900000000' WHERE khbh = (SELECT min(khbh) FROM cust_info)"
        )
        db.commit()
        db.close()
        with pytest.raises(BadInput, match="changed since campaign"):
            send_campaign(ws, cid, src, smtp=_cfg(port), resume=True)
        assert len(box.got) == sent
    finally:
        ws.close()


def test_kill_9_and_resume_send_each_notice_once(
    tmp_path: Path, book: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """Five kill -9 at seeded moments of `handover notices send`, then --resume to the end:
    every person with an e-mail has exactly one message (one Message-ID) on the server."""
    box, port = smtp_server
    box.delay = 0.004
    ws_path = tmp_path / "ws"
    ws = init_workspace(ws_path, demo=True)
    try:
        cid = _campaign(ws, book)
        _approve(ws, cid)
    finally:
        ws.close()
    cmd = [
        str(Path(sys.executable).parent / "handover"),
        "--workspace",
        str(ws_path),
        "notices",
        "send",
        str(cid),
        str(book),
        "--resume",
        "--batch",
        "15",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--smtp-security",
        "none",
        "--sender",
        "dpo@seller.example.cn",
        "--json",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rng = random.Random(16)
    kills = 0
    for _ in range(5):
        before = len(box.got)
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # kill once the run has started sending, at a seeded point within it
        deadline = time.monotonic() + 60
        while len(box.got) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pending"] == 0
    assert kills >= 3
    from handover.workspace import open_workspace

    ws = open_workspace(ws_path)
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


@pytest.fixture
def sms_provider() -> Iterator[Any]:
    from handover.notices.standin import NOTICE_TEMPLATES, SmsStandin

    p = SmsStandin(
        keys={"LTAItest": "s3cret"},
        templates={"SMS_1": NOTICE_TEMPLATES["zh-CN"]},
        sign_names={"示例市诚信小额贷款有限公司"},
        per_second=400,
        fail_every=7,
    )
    p.start()
    try:
        yield p
    finally:
        p.stop()


def _sms(url: str, **kw: Any) -> Any:
    from handover.notices.sms import AliyunSmsConfig

    args = {
        "endpoint": url,
        "access_key_id": "LTAItest",
        "access_key_secret": "s3cret",
        "sign_name": "示例市诚信小额贷款有限公司",
        "template_code": "SMS_1",
        **kw,
    }
    return AliyunSmsConfig(**args)


def test_sms_through_the_standin_with_receipts(
    tmp_path: Path, book: Path, sms_provider: Any
) -> None:
    from handover.flows.notices import record_receipts

    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
        cid = create_campaign(
            ws, book, name="s", channels=["sms"], exclude=["sys_user"], link="https://b.cn/n"
        ).id
        _approve(ws, cid)
        # provider refusals that stop the run change nothing
        for bad, match in (
            (_sms(sms_provider.url, access_key_secret="wrong"), "refused the AccessKey"),
            (_sms(sms_provider.url, template_code="SMS_9"), r"isv\.SMS_TEMPLATE_ILLEGAL"),
            (_sms(sms_provider.url, sign_name="别人"), r"isv\.SMS_SIGNATURE_ILLEGAL"),
            (_sms(f"http://127.0.0.1:{_free_port()}/"), "cannot reach the SMS provider"),
        ):
            with pytest.raises(HandoverError, match=match):
                send_campaign(ws, cid, book, sms=bad, resume=True)
        assert sms_provider.accepted == [] and set(counts(ws, cid)["sms"]) == {"queued"}
        report = send_campaign(ws, cid, book, sms=_sms(sms_provider.url), resume=True, batch=50)
        n = report.queued_now or report.outbox["sms"]["sent"]
        got = sms_provider.accepted
        assert report.pending == 0 and len(got) == report.outbox["sms"]["sent"] > 100
        assert len({a["phone"] for a in got}) == len(got)  # one SMS per person
        assert len({a["out_id"] for a in got}) == len(got)
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
    finally:
        ws.close()


def test_sms_rate_limit_and_bad_numbers_are_per_recipient(
    tmp_path: Path, sms_provider: Any
) -> None:
    """Over the provider's rate a notice is retried after a backoff (never lost); a number
    the provider refuses fails and falls back to a letter (the person has an address)."""
    import datetime as dt
    import sqlite3

    src = tmp_path / "b.db"
    synthesize(str(src), customers=200, seed=9)
    db = sqlite3.connect(src)
    (mobile,) = db.execute(
        "SELECT mobile FROM loan_guarantor WHERE length(mobile) = 11 ORDER BY guarantor_id"
    ).fetchone()
    db.close()
    sms_provider.per_second = 40
    sms_provider.invalid_numbers = {mobile}
    ws = init_workspace(tmp_path / "ws", demo=True)
    try:
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
            ws, cid, src, sms=_sms(sms_provider.url), batch=200, backoff=dt.timedelta(seconds=0.5)
        )
        st = report.channels[0]
        assert st.retry > 0  # the rate limit was hit and those notices came back later
        assert report.outbox["sms"] == {"sent": len(sms_provider.accepted), "failed": 1}
        assert st.fallback == 1 and report.skipped_channels == ["letter"]
        letters = report.outbox["letter"]["queued"]
        assert report.pending == letters  # letters wait for the letter channel
        assert len({a["phone"] for a in sms_provider.accepted}) == len(sms_provider.accepted)
        assert mobile not in {a["phone"] for a in sms_provider.accepted}
    finally:
        ws.close()
