"""PIPL Art. 57 notices to the individuals through the notices engine (issue 17): the
campaign of an incident reaches exactly the people of the leaked tables and columns,
through a real SMTP server (aiosmtpd) and the SMS stand-in, maker-checker, exactly once,
with receipts; the duty is met when every notice is settled; a waiver is recorded with
its reason; a drill reaches nobody. Time is injected."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handover.errors import BadInput, Refused
from handover.flows import incidents as flow
from handover.flows.notices import (
    announce_campaign,
    approve_campaign,
    record_receipts,
    send_campaign,
)
from handover.incidents import records
from handover.ledger import entries, ledger_size
from handover.notices.channels import SmtpConfig
from handover.notices.outbox import counts
from handover.synth import synthesize
from notices_data import SIGN, Mailbox, base, smtp_server, ws

aiosmtpd = pytest.importorskip("aiosmtpd")
__all__ = ["base", "smtp_server", "ws"]  # fixtures used by name

FACTS = {
    "cause": "外包运维人员账号被盗用,攻击者导出了担保人表和银行卡表",
    "harm": "可能被用于冒充本公司的电话诈骗和精准营销骚扰",
    "measures": "已停用该账号、更换全部运维口令、通知银行加强交易监控",
    "advice": "请警惕自称本公司工作人员的来电,不要透露验证码;如发现异常交易请立即联系发卡行",
    "contact": "王敏 021-12345678 dpo@seller.example.cn",
}


class Clock:
    """Injected time an hour after the real clock: the module's workspace (its people's
    training) and the campaign's grant approvals are stamped on the real clock, so they
    precede every moment of the test however slowly it runs; moved by hand, never slept
    on."""

    def __init__(self) -> None:
        self.at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.at += dt.timedelta(seconds=max(seconds, 0.0))


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("notify") / "book.db"
    synthesize(str(path), customers=300, seed=57)
    return path


@pytest.fixture
def sms() -> Iterator[Any]:
    """The SMS stand-in with the breach template registered (every receipt delivered)."""
    from handover.notices.standin import BREACH_TEMPLATES, SmsStandin

    p = SmsStandin(
        keys={"LTAItest": "s3cret"},
        templates={"SMS_57": BREACH_TEMPLATES["zh-CN"]},
        sign_names={SIGN},
        per_second=1_000_000,
        fail_every=1_000_000_007,
    )
    p.start()
    try:
        yield p
    finally:
        p.stop()


def _sms_cfg(url: str) -> Any:
    from handover.notices.sms import AliyunSmsConfig

    return AliyunSmsConfig(url, "LTAItest", "s3cret", SIGN, "SMS_57")


def _smtp(port: int) -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, "dpo@seller.example.cn", security="none")


def _send(ws: Any, cid: int, book: Path, port: int, sms: Any, clock: Clock, **kw: Any) -> Any:
    """``notices send`` of campaign ``cid`` through the local SMTP server and SMS stand-in."""
    return send_campaign(
        ws, cid, book, smtp=_smtp(port), sms=_sms_cfg(sms.url), now=clock, sleep=clock.sleep, **kw
    )


def _incident(ws: Any, clock: Clock, data: list[str]) -> records.Incident:
    ev = flow.report_event(
        ws,
        "运维账号被盗用导致数据外泄",
        noticed_at=clock() - dt.timedelta(minutes=40),
        data=data,
        clock=clock,
    )
    inc = flow.promote(ws, ev.id, reason="确认外泄", clock=clock).incident
    flow.set_facts(ws, inc.id, FACTS, clock=clock)
    return inc


def _notify_all(ws: Any, incident_id: int, book: Path, clock: Clock) -> Any:
    """``incidents notify`` by e-mail, SMS and letter."""
    return flow.notify_individuals(
        ws,
        incident_id,
        book,
        channels=["email", "sms", "letter"],
        link="https://s.example.cn/57",
        clock=clock,
    )


def _approve(ws: Any, cid: int) -> None:
    approve_campaign(ws, cid, actor="zhoujie")
    approve_campaign(ws, cid, actor="liqiang")


def _col(book: Path, sql: str) -> list[str]:
    db = sqlite3.connect(book)
    try:
        return [str(r[0]) for r in db.execute(sql) if r[0] is not None]
    finally:
        db.close()


def _mobile(value: str) -> str | None:
    """A mainland mobile as the provider gets it (the test's own reading: full-width
    digits, +86 and separators away), or None when it is none."""
    import re
    import unicodedata

    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if re.fullmatch(r"1[3-9]\d{9}", digits) else None


def _mobiles(book: Path, sql: str) -> set[str]:
    return {m for m in map(_mobile, _col(book, sql)) if m}


def test_breach_campaign_reaches_exactly_the_people_of_the_leaked_data(
    ws: Any, book: Path, smtp_server: tuple[Mailbox, int], sms: Any
) -> None:
    box, port = smtp_server
    clock = Clock()
    # a people table (guarantors) and a card table that names people only by the
    # reserved mobile: its people are found by value in the customer table
    inc = _incident(ws, clock, ["loan_guarantor", "yhk_info"])
    camp = _notify_all(ws, inc.id, book, clock)
    assert camp.kind == "breach" and camp.incident_id == inc.id and not camp.drill
    assert camp.restriction == {
        "tables": ["loan_guarantor"],
        "columns": [["yhk_info", "ylsjh", "mobile"]],
        "unlinked": [],
    }
    with pytest.raises(Refused, match="awaits approval"):  # maker-checker: two approvals
        _send(ws, camp.id, book, port, sms, clock)
    _approve(ws, camp.id)
    report = _send(ws, camp.id, book, port, sms, clock)
    assert report.pending == 0 and report.obligation is not None

    guarantors = _mobiles(book, "SELECT mobile FROM loan_guarantor")
    card_mobiles = _mobiles(book, "SELECT ylsjh FROM yhk_info")
    customers = _mobiles(book, "SELECT sjhm FROM cust_info")
    texted = [a["phone"] for a in sms.accepted]
    assert len(texted) == len(set(texted))  # one SMS per person
    assert guarantors <= set(texted)  # every guarantor told
    told_customers = set(texted) & set(customers)
    assert told_customers == set(customers) & card_mobiles  # customers by their card's mobile
    assert set(texted) <= guarantors | card_mobiles  # nobody else
    assert len(customers - card_mobiles) > 20  # customers left out exist
    assert all("安全事件" in a["text"] and a["template"] == "SMS_57" for a in sms.accepted)
    # e-mail: the customers with an address among those told, nobody else
    mailed = {r for r, _ in box.got}
    emails = {
        _mobile(str(m)): str(e).strip().lower()
        for m, e in sqlite3.connect(book).execute(
            "SELECT sjhm, dzyx FROM cust_info WHERE dzyx IS NOT NULL"
        )
    }
    told_mail = {emails[m] for m in told_customers if m in emails}
    assert mailed <= told_mail and len(mailed) >= len(told_mail) - 3  # minus invalid ones
    import email
    from email.header import decode_header, make_header

    wire = email.message_from_bytes(box.last)
    assert "安全事件" in str(make_header(decode_header(wire["Subject"])))
    body = next(
        p.get_payload(decode=True).decode("utf-8")
        for p in wire.walk()
        if p.get_content_type() == "text/plain"
    )
    for text in (FACTS["cause"], FACTS["harm"], FACTS["advice"], FACTS["contact"], "第五十七条"):
        assert text in body
    assert "银行卡号" in body  # the categories come from the inventory of the leaked columns

    # the counts reconcile per table and the restriction is in the ledger
    queued = entries(ws, action="notices.campaign.queue")[-1].details
    assert queued["reconciles"] is True
    assert queued["restriction"]["tables"] == ["loan_guarantor"]
    link = queued["linked"][0]
    assert link["table"] == "yhk_info" and 0 < link["matched"] <= link["values"]
    # the duty to tell the individuals is met by the campaign, with its counts
    done = records.get_incident(ws, inc.id)
    duty = next(o for o in done.obligations if o.recipient == "individuals")
    assert duty.status == "met" and duty.met_at == clock()
    met = entries(ws, action="incident.obligation.met")[-1].details
    assert met["campaign"] == camp.id and met["obligation"] == duty.id
    finished = entries(ws, action="incident.notice.done")[-1].details
    assert finished["sent"] == sum(s.get("sent", 0) for s in counts(ws, camp.id).values())
    steps = [s["action"] for s in flow.incident_timeline(ws, inc.id)]
    assert "incident.notice.campaign" in steps and "incident.notice.done" in steps
    # receipts apply to the breach campaign like to any other
    got = record_receipts(ws, camp.id, list(sms.reports))
    assert got["delivered"] == len(texted)
    # exactly once: a resumed run sends nothing more and meets nothing twice
    before = (len(sms.accepted), len(box.got), ledger_size(ws))
    again = _send(ws, camp.id, book, port, sms, clock, resume=True)
    assert again.obligation is None
    assert (len(sms.accepted), len(box.got)) == before[:2]
    # no address, number or name in the ledger
    ledger = json.dumps([e.details for e in entries(ws)], ensure_ascii=False)
    assert not any(m in ledger for m in texted) and not any(r in ledger for r in mailed)
    # the announcement for the unreached carries the Art. 57 elements
    ann = announce_campaign(ws, camp.id, now=clock)
    html = ann.html.read_text("utf-8")
    assert "第五十七条" in html and FACTS["harm"] in html


def test_a_waiver_needs_the_measures_and_stops_the_campaign(ws: Any, book: Path) -> None:
    clock = Clock()
    ev = flow.report_event(
        ws, "备份盘丢失", noticed_at=clock(), data=["loan_guarantor"], clock=clock
    )
    inc = flow.promote(ws, ev.id, reason="确认", clock=clock).incident
    size = ledger_size(ws)
    with pytest.raises(BadInput, match="rests on the measures taken"):
        flow.decide_individuals(ws, inc.id, notify=False, reason="已加密", clock=clock)
    assert ledger_size(ws) == size + 1  # only the access decision
    flow.set_facts(ws, inc.id, FACTS, clock=clock)
    flow.decide_individuals(
        ws, inc.id, notify=False, reason="备份盘为 SM4 全盘加密,密钥未丢失", clock=clock
    )
    with pytest.raises(BadInput, match="not to be told"):
        flow.notify_individuals(ws, inc.id, book, clock=clock)
    flow.decide_individuals(ws, inc.id, notify=True, reason="监管部门要求通知", clock=clock)
    camp = flow.notify_individuals(ws, inc.id, book, channels=["letter"], clock=clock)
    assert camp.restriction is not None and camp.restriction["tables"] == ["loan_guarantor"]
    # one campaign per incident: a second would tell the same people again
    with pytest.raises(BadInput, match=f"already has its notices campaign {camp.id}"):
        flow.notify_individuals(ws, inc.id, book, channels=["email"], clock=clock)


def test_leaked_data_that_names_nobody_is_refused(ws: Any, book: Path) -> None:
    clock = Clock()
    # repayment schedules: credit information, but no name, ID, mobile or e-mail in them
    inc = _incident(ws, clock, ["hkjh"])
    size = ledger_size(ws)
    with pytest.raises(BadInput, match=r"no leaked table names anyone a notice can find \(hkjh\)"):
        flow.notify_individuals(ws, inc.id, book, clock=clock)
    assert not entries(ws, action="notices.campaign.create")
    assert ledger_size(ws) == size + 1  # the access decision only
    # login IPs next to a people table: the IPs name nobody, listed as unlinked
    inc2 = _incident(ws, clock, ["loan_guarantor", "login_log"])
    camp = flow.notify_individuals(ws, inc2.id, book, channels=["letter"], clock=clock)
    assert camp.restriction == {
        "tables": ["loan_guarantor"],
        "columns": [],
        "unlinked": ["login_log"],
    }
    # no inventory item at all: refused before anything
    ev = flow.report_event(ws, "不明", noticed_at=clock(), data=["no_such_table"], clock=clock)
    inc3 = flow.promote(
        ws, ev.id, reason="r", people=10, people_reason="估计", clock=clock
    ).incident
    with pytest.raises(BadInput, match="names no leaked table the inventory knows"):
        flow.notify_individuals(ws, inc3.id, book, clock=clock)


def test_a_drill_campaign_reaches_nobody(
    ws: Any, book: Path, smtp_server: tuple[Mailbox, int], sms: Any
) -> None:
    box, port = smtp_server
    clock = Clock()
    drill = flow.schedule(
        ws, "lost_laptop", at=clock(), participants=["wangmin", "zhaolei"], clock=clock
    )
    inc = flow.start(ws, drill.id, clock=clock)
    flow.set_facts(ws, inc.id, FACTS, clock=clock)
    camp = _notify_all(ws, inc.id, book, clock)
    assert camp.drill and camp.name.endswith("[DRILL]")
    _approve(ws, camp.id)
    # real servers are configured and running: the drill still sends nothing to them
    report = _send(ws, camp.id, book, port, sms, clock)
    assert box.got == [] and sms.accepted == [] and sms.calls == 0
    out = counts(ws, camp.id)
    assert set(out) == {"email", "sms", "letter"} and all(set(v) == {"sent"} for v in out.values())
    from handover.flows.notices import letters_folder

    assert not list(letters_folder(ws, camp.id).glob("*.pdf"))
    duty = next(
        o for o in records.get_incident(ws, inc.id).obligations if o.recipient == "individuals"
    )
    assert duty.status == "met" and report.obligation == duty.id  # the drill's timing counts
    with pytest.raises(BadInput, match="drill"):
        announce_campaign(ws, camp.id, now=clock)
    sent = entries(ws, action="notices.campaign.send")[-1].details
    assert sent["drill"] is True


def test_notify_through_the_cli(ws: Any, book: Path) -> None:
    from typer.testing import CliRunner

    from handover.cli.main import app

    clock = Clock()
    inc = _incident(ws, clock, ["loan_guarantor"])
    runner = CliRunner()
    where = ["-w", str(ws.path), "--lang", "en"]
    size = ledger_size(ws)
    res = runner.invoke(app, [*where, "incidents", "notify", "99", str(book)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "incident 99" in res.output and ledger_size(ws) == size
    res = runner.invoke(
        app,
        [
            *where,
            "incidents",
            "notify",
            str(inc.id),
            str(book),
            "-c",
            "sms,letter",
            "--link",
            "https://s.example.cn/57",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "loan_guarantor" in res.output and "handover notices approve" in res.output
    camp = entries(ws, action="incident.notice.campaign")[-1].details
    assert camp["channels"] == ["sms", "letter"] and camp["drill"] is False
    res = runner.invoke(app, [*where, "notices", "status", str(camp["campaign"]), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["kind"] == "breach"
