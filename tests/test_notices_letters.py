"""Letters (PDF per batch, Chinese font embedded), the public announcement, the campaign
report, replies (objections, opt-outs, deletion requests) and consent campaigns."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from handover.errors import BadInput, HandoverError
from handover.flows.notices import (
    announce_campaign,
    campaign_report,
    create_campaign,
    import_replies,
    letters_folder,
    record_reply,
    send_campaign,
)
from handover.notices.channels import SmtpConfig
from handover.notices.outbox import counts, reference_of
from handover.synth import synthesize
from notices_data import (
    Clock,
    Mailbox,
    approve,
    base,
    clock,
    copy_ws,
    pdf_fonts,
    poppler,
    require_font,
    sender_refused,
    sms_config,
    sms_provider,
    smtp_server,
    ws,
)

__all__ = ["base", "clock", "sms_provider", "smtp_server", "ws"]  # fixtures used by name


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("letters") / "book.db"
    synthesize(str(path), customers=150, seed=21)
    return path


def _create(ws: Any, book: Path, channels: list[str], **kw: Any) -> int:
    cid = create_campaign(
        ws, book, name="l", channels=channels, exclude=["sys_user"], link="https://b.cn/n", **kw
    ).id
    approve(ws, cid)
    return int(cid)


def test_letters_one_pdf_per_batch_font_embedded(ws: Any, book: Path, clock: Clock) -> None:
    """Every letter row ends in a PDF of its batch; the PDF embeds its Chinese font (pdffonts),
    holds one letter per person with the reference printed on it, and the row is sent
    only once the file is complete."""
    require_font()
    cid = _create(ws, book, ["letter"])
    report = send_campaign(ws, cid, book, batch=40, now=clock.now, sleep=clock.sleep)
    n = report.outbox["letter"]["sent"]
    assert n > 40 and report.pending == 0 and report.outbox == {"letter": {"sent": n}}
    pdfs = sorted(letters_folder(ws, cid).glob("*.pdf"))
    assert len(pdfs) == -(-n // 40)  # one PDF per batch of 40
    assert not list(letters_folder(ws, cid).glob("*.tmp"))
    from sqlalchemy import select

    from handover.notices.models import NoticeOutboxRow

    with ws.store.session() as s:
        rows = s.execute(
            select(NoticeOutboxRow.provider_id, NoticeOutboxRow.recipient).where(
                NoticeOutboxRow.campaign_id == cid
            )
        ).all()
    by_file: dict[str, int] = {}
    for pid, _ in rows:
        name, _, idx = pid.partition("#")
        by_file[name] = max(by_file.get(name, 0), int(idx))
    assert sorted(by_file) == [p.name for p in pdfs] and sum(by_file.values()) == n
    text = ""
    for pdf in pdfs:
        fonts = pdf_fonts(pdf)
        assert fonts and all(emb for _, emb in fonts), fonts  # every font embedded
        text += poppler("pdftotext", "-layout", str(pdf), "-")
    # each person's reference is printed once, in their letter
    for _, rcpt in rows:
        assert text.count(reference_of(cid, rcpt)) == 1
    assert text.count("尊敬的") == n and "个人信息转移告知" in text
    # a resume writes nothing more
    again = send_campaign(ws, cid, book, resume=True, now=clock.now, sleep=clock.sleep)
    assert again.channels[0].sent == 0
    assert sorted(letters_folder(ws, cid).glob("*.pdf")) == pdfs
    # names and addresses in clear: the destruction plan lists the letters, shred destroys
    # them and the certificate names them
    from handover.erase.plan import Scope, make_plan
    from handover.flows.shred import shred

    folder = letters_folder(ws, cid)
    plan = make_plan(ws, Scope(media=["letters"]))
    assert [(i.medium, i.path, i.files) for i in plan.destroy] == [("letter", folder, len(pdfs))]
    done = shred(
        ws,
        Scope(media=["letters"]),
        validated_by="liuyang",
        validator_password="liuyang-demo-2026",
        clock=clock.now,
    )
    assert not any(p.exists() for p in pdfs)
    assert [d["medium"] for d in done.certificate["destroyed"]] == ["letter"]
    assert make_plan(ws, Scope(media=["letters"])).destroy == []


def test_letter_page_renders(tmp_path: Path) -> None:
    """A letter drawn to PNG has ink where the Chinese text is (not blank boxes only):
    pdftoppm renders it with the embedded font alone."""
    import datetime as dt

    from handover.notices.channels import Message
    from handover.notices.letters import LetterChannel, Letterhead

    require_font()
    ch = LetterChannel(
        tmp_path,
        Letterhead("示例市诚信小额贷款有限公司", "0571-88886666", "zh-CN"),
        today=lambda: dt.date(2026, 3, 1),
    )
    ch.open()
    msg = Message(
        "k" * 32,
        "浙江省杭州市西湖区文三路100号\n3单元501室",
        "个人信息转移告知",
        "尊敬的张**:\n\n一、转移原因",
        name="张三",
    )
    [res] = ch.send_batch([msg])
    assert res.outcome == "sent" and res.provider_id and res.provider_id.endswith("#1")
    pdf = ch.files[0]
    poppler("pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(tmp_path / "page"))
    import numpy as np
    from PIL import Image

    page = np.asarray(Image.open(tmp_path / "page.png").convert("L"))
    assert int((page < 128).sum()) > 500  # glyphs were drawn, from the embedded font
    text = poppler("pdftotext", str(pdf), "-")
    assert "张三 收" in text and "浙江省杭州市西湖区" in text and "日期:2026-03-01" in text


def test_font_missing_is_one_line_naming_the_package() -> None:
    from handover.reports.fonts import FontMissing, font_file

    with pytest.raises(FontMissing, match=r"install the Debian package fonts-wqy-microhei"):
        font_file((("/nonexistent/wqy.ttc", 0, "fonts-wqy-microhei"),))


def test_announcement_and_report(tmp_path: Path, ws: Any, book: Path, clock: Clock) -> None:
    """The announcement carries every legal element and names nobody; the report's counts
    equal the outbox, the unreachable list is masked, and no address leaks into either."""
    require_font()
    from openpyxl import load_workbook

    from handover.notices.campaign import load_campaign
    from handover.notices.templates import ELEMENTS

    cid = _create(ws, book, ["letter"])
    send_campaign(ws, cid, book, batch=200, now=clock.now, sleep=clock.sleep)
    camp = load_campaign(ws, cid)
    unreachable = camp.summary["unreachable"]
    assert unreachable > 0
    ann = announce_campaign(ws, cid, out=tmp_path / "ann", now=clock.now)
    html = ann.html.read_text("utf-8")
    for e in ELEMENTS:
        assert camp.content[e.var][:12] in html or e.var == "transfer_date", e.var
    assert f"{ann.unreachable} 位客户" in html and ann.unreachable >= unreachable
    assert all(emb for _, emb in pdf_fonts(ann.pdf))
    pdf_text = poppler("pdftotext", str(ann.pdf), "-")
    assert "关于个人信息转移的公告" in pdf_text and camp.content["buyer_name"] in pdf_text
    masked = {u["name_masked"] for u in _unreachable(ws, cid)}
    assert all("*" in m for m in masked if m)
    for lang in ("zh-CN", "en"):
        xlsx, page = campaign_report(ws, cid, lang=lang, out=tmp_path / "rep", now=clock.now)
        wb = load_workbook(xlsx)
        sheets = wb.sheetnames
        summary = [list(r) for r in wb[sheets[0]].iter_rows(values_only=True)]
        letter = next(r for r in summary if r[0] == "letter")
        assert letter[2] == counts(ws, cid)["letter"]["sent"] == letter[3]  # notices, sent
        lost = [r for r in wb[sheets[-1]].iter_rows(values_only=True)][1:]
        assert len(lost) == unreachable
        assert {r[2] for r in lost} <= masked | {None, ""}
        text = page.read_text("utf-8")
        assert ("无法送达清单" if lang == "zh-CN" else "Unreachable rows") in text
    # no clear name of an unreachable row and no address in the files
    import sqlite3

    db = sqlite3.connect(book)
    clear = {r[0] for r in db.execute("SELECT khxm FROM cust_info")} | {
        r[0] for r in db.execute("SELECT sjhm FROM cust_info")
    }
    db.close()
    for f in (ann.html, *(tmp_path / "rep").iterdir()):
        if f.suffix == ".html":
            body = f.read_text("utf-8")
            assert not any(c and len(c) > 1 and c in body for c in clear), f
    from handover.ledger import entries

    actions = [e.action for e in entries(ws)]
    assert "notices.announcement" in actions and actions.count("notices.report") == 2


def _unreachable(ws: Any, cid: int) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from handover.notices.models import NoticeUnreachableRow

    with ws.store.session() as s:
        return [
            {"name_masked": u.name_masked}
            for u in s.scalars(
                select(NoticeUnreachableRow).where(NoticeUnreachableRow.campaign_id == cid)
            )
        ]


def _post(url: str, phone: str, content: str) -> None:
    req = urllib.request.Request(
        url + "inbound",
        data=json.dumps({"phone_number": phone, "content": content}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=5).close()


def test_replies_objections_opt_out_and_staff_entry(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """SMS replies posted to the stand-in are matched to their person by keyed token,
    classified, recorded once (a second import changes nothing); an opt-out cancels the
    person's e-mail still pending; staff record a deletion request by reference. Neither
    the store nor the ledger holds a number or the reply's text."""
    cid = _create(ws, book, ["sms", "email"])
    with sender_refused() as port, pytest.raises(HandoverError, match="refused the sender"):
        send_campaign(  # the SMS sent, the e-mails queued and not sent
            ws,
            cid,
            book,
            sms=sms_config(sms_provider.url),
            smtp=SmtpConfig("127.0.0.1", port, "d@s.cn", security="none"),
            now=clock.now,
            sleep=clock.sleep,
        )
    phones = [a["phone"] for a in sms_provider.accepted]
    assert counts(ws, cid)["email"] == {"queued": counts(ws, cid)["email"]["queued"]}
    url = sms_provider.url
    _post(url, "+86 " + phones[0], "TD")  # opt-out (number written as the carrier may)
    _post(url, phones[1], "我反对你们处理我的信息")
    _post(url, phones[2], "请删除我的个人信息")
    _post(url, phones[3], "好的谢谢")
    _post(url, "13000000000", "TD")  # nobody of this campaign
    res = import_replies(ws, cid, _get(url + "replies"), now=clock.now)
    assert res["recorded"] == 4 and res["unmatched"] == 1 and res["duplicate"] == 0
    assert (res["opt_out"], res["objection"], res["deletion"], res["other"]) == (1, 1, 1, 1)
    again = import_replies(ws, cid, _get(url + "replies"), now=clock.now)
    assert again["recorded"] == 0 and again["duplicate"] == 4
    # the opt-out cancelled that person's pending e-mail (if they have one), nothing else
    states = counts(ws, cid)["email"]
    assert states.get("cancelled", 0) == res["cancelled"] <= 1
    # staff: a deletion request from a letter, by the reference printed on the notice
    from sqlalchemy import select

    from handover.notices.models import NoticeOutboxRow, NoticeReplyRow

    with ws.store.session() as s:
        rcpt = s.scalars(
            select(NoticeOutboxRow.recipient).where(NoticeOutboxRow.campaign_id == cid).limit(1)
        ).one()
    out = record_reply(ws, cid, "deletion", via="letter", reference=reference_of(cid, rcpt).lower())
    assert out["recipient"] == rcpt and out["recorded"] == 1
    out = record_reply(
        ws, cid, "objection", via="phone", mobile=phones[4][:3] + " " + phones[4][3:]
    )
    assert out["recorded"] == 1
    for bad, match in (
        (dict(kind="deletion", reference="NOPE000000"), "no recipient matching that reference"),
        (dict(kind="consent_yes", reference="X"), "no consent campaign"),
        (dict(kind="maybe", reference="X"), "unknown reply kind maybe"),
        (dict(kind="deletion"), "exactly one of --reference"),
    ):
        with pytest.raises(BadInput, match=match):
            record_reply(ws, cid, **bad)  # type: ignore[arg-type]
    with ws.store.session() as s:
        stored = json.dumps([r.__dict__ for r in s.scalars(select(NoticeReplyRow))], default=str)
    from handover.ledger import entries

    ledger = json.dumps([e.details for e in entries(ws)], ensure_ascii=False) + json.dumps(
        [e.subject for e in entries(ws)], ensure_ascii=False
    )
    for text in (stored, ledger):
        assert not any(p in text for p in phones[:5]) and "反对你们" not in text
    assert sum(1 for e in entries(ws) if e.action == "notices.reply") == 6


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def test_consent_campaign_tracks_yes_no_and_no_answer(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """A consent campaign asks about the new purpose; each person's latest answer counts,
    silence is no consent."""
    from handover.flows.notices import campaign_status

    with pytest.raises(BadInput, match="needs the new purpose"):
        create_campaign(ws, book, name="c", channels=["sms"], kind="consent")
    cid = _create(ws, book, ["sms"], kind="consent", new_purpose="向合作保险公司推荐贷款保障保险")
    send_campaign(
        ws,
        cid,
        book,
        sms=sms_config(sms_provider.url, template_code="SMS_2"),
        now=clock.now,
        sleep=clock.sleep,
    )
    got = sms_provider.accepted
    assert got and all("拟将您的个人信息用于新的目的" in a["text"] for a in got)
    phones = [a["phone"] for a in got]
    url = sms_provider.url
    for phone, answer in (
        (phones[0], "Y"),
        (phones[1], "同意"),
        (phones[2], "N"),
        (phones[3], "不同意 谢谢"),
    ):
        _post(url, phone, answer)
    _post(url, phones[0], "N 我改主意了")  # the latest answer counts
    res = import_replies(ws, cid, _get(url + "replies"), now=clock.now)
    assert res["recorded"] == 5
    tally = campaign_status(ws, cid)["replies"]
    assert (tally["yes"], tally["no"]) == (1, 3)
    assert tally["no_answer"] == tally["people"] - 4 and tally["people"] == len(phones)


def test_cli_report_and_objection(tmp_path: Path, base: Path, book: Path) -> None:
    """The CLI adapters: a bad objection is one line and exit 2; report --json lists files."""
    from typer.testing import CliRunner

    from handover.cli.main import app

    ws = copy_ws(base, tmp_path / "ws")
    try:
        cid = create_campaign(ws, book, name="x", channels=["letter"], exclude=["sys_user"]).id
    finally:
        ws.close()
    run = CliRunner().invoke
    args = ["--workspace", str(tmp_path / "ws"), "--lang", "en", "notices"]
    bad = run(app, [*args, "objection", str(cid), "--kind", "deletion"])
    assert bad.exit_code == 2 and "exactly one of --reference" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    ok = run(app, [*args, "report", str(cid), "--out", str(tmp_path / "r"), "--json"])
    assert ok.exit_code == 0, ok.output
    files = json.loads(ok.output)["files"]
    assert [Path(f).suffix for f in files] == [".xlsx", ".html"]


_ = Mailbox


def _crash_after_first_call(ws_path: Path, cid: int, book: Path, channel: Any, **kw: Any) -> None:
    """Run the campaign in a forked child whose channel dies (``_exit``) right after the
    provider took its first call, before the outbox journaled it: the worst moment."""
    import os

    class Crash(type(channel)):  # type: ignore[misc]
        def send_batch(self, messages: Any, accepted: Any = None) -> Any:
            super().send_batch(messages, accepted)
            os._exit(9)

    channel.__class__ = Crash
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            from handover.workspace import open_workspace

            child = open_workspace(ws_path)
            send_campaign(child, cid, book, channels={channel.name: channel}, **kw)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9


def test_crash_between_provider_and_journal(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    """A process dead right after the provider took a call and before the journal: the
    letters of that batch are written again into the same file (no second copy exists);
    for the SMS the journal holds the call's intent (OutId, date, keys) and the next run
    asks QuerySendDetails before sending again: nobody gets a second SMS, nobody none."""
    require_font()
    from handover.notices.letters import LetterChannel, Letterhead
    from handover.notices.sms import AliyunSmsChannel

    cid = _create(ws, book, ["letter"])
    head = Letterhead("卖方", "电话", "zh-CN")
    _crash_after_first_call(
        ws.path, cid, book, LetterChannel(letters_folder(ws, cid), head), batch=40
    )
    first = sorted(letters_folder(ws, cid).glob("*.pdf"))
    assert len(first) == 1 and counts(ws, cid)["letter"]["sending"] == 40
    report = send_campaign(ws, cid, book, resume=True, batch=40)
    n = report.outbox["letter"]["sent"]
    assert report.pending == 0 and report.channels[0].in_doubt == 40
    pdfs = sorted(letters_folder(ws, cid).glob("*.pdf"))
    assert first[0] in pdfs and len(pdfs) == -(-n // 40)  # the same file, rewritten
    text = "".join(poppler("pdftotext", str(p), "-") for p in pdfs)
    assert text.count("尊敬的") == n  # one letter per person, no second copy

    sid = _create(ws, book, ["sms"])
    cfg = sms_config(sms_provider.url)
    _crash_after_first_call(
        ws.path, sid, book, AliyunSmsChannel(cfg), batch=150, now=clock.now, sleep=clock.sleep
    )
    assert len(sms_provider.accepted) == 100  # the first call, taken, not journaled
    report = send_campaign(ws, sid, book, sms=cfg, resume=True, now=clock.now, sleep=clock.sleep)
    phones = Counter(a["phone"] for a in sms_provider.accepted)
    assert report.pending == 0 and len(phones) == report.outbox["sms"]["sent"]
    # QuerySendDetails found the call's OutId for those 100 numbers: none sent twice
    assert report.channels[0].recovered == 100 and report.channels[0].in_doubt == 150
    assert sum(phones.values()) == len(phones)
    # and their receipts still find their rows (by OutId, the BizId being unknown)
    from handover.flows.notices import record_receipts

    got = record_receipts(ws, sid, sms_provider.reports)
    assert got["ignored"] == 0 and got["delivered"] + got["undelivered"] == len(phones)
