"""Reminders and escalations of incident duties e-mailed to the DPO and the people
responsible through the notices SMTP channel (issue 17), against a real SMTP server
(aiosmtpd): who gets what, exactly once, a server down changes nothing but the clocks,
a refused address fails without stopping the others, a busy one is retried. Time is
injected."""

from __future__ import annotations

import datetime as dt
import email
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import pytest

from handover.flows import incidents as flow
from handover.flows.workspace import init_workspace
from handover.incidents import duties, records
from handover.ledger import entries
from handover.workspace import Workspace, open_workspace
from incidents_data import T0, TRANSFER, Clock
from notices_data import free_port

aiosmtpd = pytest.importorskip("aiosmtpd")


@dataclass
class Inbox:
    """What the SMTP server received; ``bounce@`` addresses are refused for good (550),
    ``busy@`` ones once for now (451)."""

    mails: list[tuple[str, bytes]] = field(default_factory=list)
    busy_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("bounce@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            with self.lock:
                self.busy_seen += 1
                if self.busy_seen == 1:
                    return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.mails.append((rcpt, bytes(envelope.content)))
        return "250 OK"

    def to(self) -> list[str]:
        with self.lock:
            return [r for r, _ in self.mails]


def start_server(port: int) -> tuple[Any, Inbox]:
    from aiosmtpd.controller import Controller

    box = Inbox()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, box


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mail") / "ws"
    init_workspace(path, TRANSFER, demo=True).close()
    return path


@contextmanager
def mail_ws(template: Path, dest: Path, port: int, *extra: str) -> Iterator[Workspace]:
    """A copy of the template workspace with ``[incidents.mail]`` pointing at ``port``."""
    ws = _workspace(template, dest, port, *extra)
    try:
        yield ws
    finally:
        ws.close()


def _workspace(template: Path, dest: Path, port: int, *extra: str) -> Workspace:
    shutil.copytree(template, dest)
    with (dest / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n[incidents.mail]\n"
            f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'sender = "incidents@seller.example.cn"\n'
            'to = ["dpo@seller.example.cn", "compliance@seller.example.cn"'
            + "".join(f', "{x}"' for x in extra)
            + "]\n"
            'escalate_to = ["gm@seller.example.cn"]\n'
            '[incidents.mail.people]\nwangmin = "wangmin@seller.example.cn"\n'
        )
    return open_workspace(dest)


@pytest.fixture
def server() -> Iterator[tuple[int, Inbox]]:
    port = free_port()
    ctl, box = start_server(port)
    try:
        yield port, box
    finally:
        ctl.stop()


def _incident(ws: Workspace, clock: Clock) -> records.Incident:
    """A significant incident (2,000,000 people): a 4-hour CAC duty from awareness."""
    ev = flow.report_event(ws, "客户信息泄露", noticed_at=clock(), data=["cust_info"], clock=clock)
    return flow.promote(
        ws, ev.id, reason="确认", people=2_000_000, people_reason="核对后人数", clock=clock
    ).incident


def _past_80(ws: Workspace, clock: Clock) -> duties.Tick:
    """An incident, then a tick once 80 % of its 4-hour duty is used."""
    _incident(ws, clock)
    clock.advance(hours=3, minutes=20)
    return flow.tick(ws, clock=clock)


def _parsed(raw: bytes) -> tuple[str, str, str]:
    msg = email.message_from_bytes(raw)
    body = msg.get_payload(decode=True).decode("utf-8")
    return str(make_header(decode_header(msg["Subject"]))), body, msg["Message-ID"]


def test_reminder_and_escalation_mails_go_once_to_the_right_people(
    template: Path, tmp_path: Path, server: tuple[int, Inbox]
) -> None:
    port, box = server
    with mail_ws(template, tmp_path / "ws", port) as ws:
        clock = Clock(T0)
        inc = _incident(ws, clock)
        cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
        clock.advance(hours=3)  # 75 % of 4 h: nothing yet
        first = flow.tick(ws, clock=clock)
        assert first.reminded == [] and first.mails == 0 and box.to() == []
        clock.advance(minutes=15)  # 81 %
        res = flow.tick(ws, clock=clock)
        assert [o.id for o in res.reminded] == [cac.id]
        assert res.sent is not None and res.sent.sent == 3 and res.sent.pending == 0
        assert sorted(box.to()) == [
            "compliance@seller.example.cn",
            "dpo@seller.example.cn",
            "wangmin@seller.example.cn",  # the incident's lead
        ]
        subject, body, mid = _parsed(box.mails[0][1])
        assert subject.startswith("【报告时限提醒】事件 #") and "剩余 0 小时 45 分" in subject
        assert "2026-03-02 13:00 (Asia/Shanghai)" in body  # the deadline in local time
        assert "第四条" in body and "80 %" in body and "deadline reminder" not in body
        assert "Due: 2026-03-02 13:00" in body  # then the English text
        assert mid.endswith("@handover.notice>")
        # exactly once: the next tick sends nothing
        again = flow.tick(ws, clock=clock)
        assert again.mails == 0 and again.sent is not None and again.sent.sent == 0
        assert len(box.mails) == 3
        clock.advance(minutes=46)  # deadline passed
        esc = flow.tick(ws, clock=clock)
        assert [o.id for o in esc.escalated] == [cac.id]
        escalated = box.to()[3:]
        assert sorted(escalated) == [
            "compliance@seller.example.cn",
            "dpo@seller.example.cn",
            "gm@seller.example.cn",  # escalation goes up
            "wangmin@seller.example.cn",
        ]
        subject, body, _ = _parsed(box.mails[-1][1])
        assert subject.startswith("【已超时·升级】") and "已超时 0 小时 1 分" in subject
        # the ledger has keys and counts, never an address
        sent = [e.details for e in entries(ws, action="incident.alert.send")]
        assert [d["sent"] for d in sent] == [3, 4]
        assert {m["kind"] for m in sent[1]["mails"]} == {"escalate"}
        ledger = json.dumps([e.details for e in entries(ws)], ensure_ascii=False)
        assert "@seller.example.cn" not in ledger


def test_a_server_down_keeps_the_mails_for_the_next_tick(template: Path, tmp_path: Path) -> None:
    port = free_port()  # nothing listens yet
    with mail_ws(template, tmp_path / "ws", port) as ws:
        clock = Clock(T0)
        res = _past_80(ws, clock)
        # the clock is recorded, the mails wait
        assert len(res.reminded) == 1 and res.mails == 3
        assert res.sent is not None and res.sent.stopped is not None
        assert "127.0.0.1" in str(res.sent.stopped) and res.sent.pending == 3
        assert len(entries(ws, action="incident.obligation.remind")) == 1
        ctl, box = start_server(port)
        try:
            later = flow.tick(ws, clock=clock)
            assert later.reminded == [] and later.sent is not None
            assert later.sent.sent == 3 and later.sent.pending == 0
            assert len(box.mails) == 3 and len(set(box.to())) == 3
            assert flow.tick(ws, clock=clock).sent.sent == 0  # type: ignore[union-attr]
        finally:
            ctl.stop()


def test_a_queued_escalation_is_dropped_once_its_duty_is_met(
    template: Path, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens yet
    with mail_ws(template, tmp_path / "ws", port) as ws:
        clock = Clock(T0)
        inc = _incident(ws, clock)
        cac = next(o for o in inc.obligations if o.rule == "cac.initial.ordinary")
        clock.advance(hours=4, minutes=30)  # deadline passed, the server down
        res = flow.tick(ws, clock=clock)
        assert [o.id for o in res.escalated] == [cac.id] and res.sent is not None
        assert res.sent.stopped is not None and res.sent.pending == 4
        # the report had been phoned in before the deadline: recorded now
        flow.obligation_met(ws, cac.id, note="电话报告", at=T0 + dt.timedelta(hours=3), clock=clock)
        assert flow.status(ws, clock=clock).mails_pending == 0
        ctl, box = start_server(port)
        try:
            later = flow.tick(ws, clock=clock)
            assert later.sent is not None and box.mails == []
            assert (later.sent.sent, later.sent.obsolete, later.sent.pending) == (0, 4, 0)
            done = entries(ws, action="incident.alert.send")[-1].details
            assert {m["outcome"] for m in done["mails"]} == {"obsolete"}
            assert flow.tick(ws, clock=clock).sent.obsolete == 0  # type: ignore[union-attr]
        finally:
            ctl.stop()


def test_a_refused_address_fails_a_busy_one_is_retried(
    template: Path, tmp_path: Path, server: tuple[int, Inbox]
) -> None:
    port, box = server
    extra = ("bounce@seller.example.cn", "busy@seller.example.cn")
    with mail_ws(template, tmp_path / "ws", port, *extra) as ws:
        clock = Clock(T0)
        res = _past_80(ws, clock)
        assert res.sent is not None
        assert (res.sent.sent, res.sent.failed, res.sent.retry) == (3, 1, 1)
        assert "bounce@seller.example.cn" not in box.to()
        # backoff: not before its time, then once
        assert flow.tick(ws, clock=clock).sent.retry == 0  # type: ignore[union-attr]
        assert box.to().count("busy@seller.example.cn") == 0
        clock.advance(minutes=3)
        later = flow.tick(ws, clock=clock)
        assert later.sent is not None and (later.sent.sent, later.sent.pending) == (1, 0)
        assert box.to().count("busy@seller.example.cn") == 1


def test_a_drill_mail_says_it_is_a_drill(
    template: Path, tmp_path: Path, server: tuple[int, Inbox]
) -> None:
    port, box = server
    with mail_ws(template, tmp_path / "ws", port) as ws:
        clock = Clock(T0)
        drill = flow.schedule(
            ws, "dd_extract_leak", at=clock(), participants=["wangmin"], clock=clock
        )
        flow.start(ws, drill.id, clock=clock)
        clock.advance(hours=3, minutes=20)
        flow.tick(ws, clock=clock)
        subjects = {_parsed(raw)[0] for _, raw in box.mails}
        assert subjects and all(s.startswith("[演练 DRILL]") for s in subjects)
        assert all("演练" in _parsed(raw)[1] for _, raw in box.mails)


def test_tick_through_the_cli_fails_visibly_when_mail_cannot_go(
    template: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from handover.cli.main import app

    port = free_port()
    ws = _workspace(template, tmp_path / "ws", port)
    now = dt.datetime.now(dt.UTC)
    try:
        ev = flow.report_event(
            ws, "泄露", noticed_at=now - dt.timedelta(hours=5), data=["cust_info"]
        )
        flow.promote(ws, ev.id, reason="确认", people=2_000_000, people_reason="核对")
    finally:
        ws.close()
    res = CliRunner().invoke(app, ["-w", str(tmp_path / "ws"), "--lang", "en", "incidents", "tick"])
    assert res.exit_code == 2
    assert "1 escalations" in res.output and "stay queued" in res.output


def test_a_malformed_address_is_refused_without_echoing_it(template: Path, tmp_path: Path) -> None:
    from handover.errors import BadInput

    shutil.copytree(template, tmp_path / "ws")
    with (tmp_path / "ws" / "handover.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[incidents.mail]\nhost = "h"\nsender = "a@b.cn"\nto = ["dpo@seller.example.cn"]\n'
            '[incidents.mail.people]\nwangmin = "wangmin at seller"\n'
        )
    with pytest.raises(BadInput, match=r"handover\.toml") as err:
        open_workspace(tmp_path / "ws")
    assert "the address of wangmin is not an e-mail address" in str(err.value)
    assert "wangmin at seller" not in str(err.value)
