"""Notices: an SMS call whose answer is lost stays in doubt (never sent twice), people no
chosen channel reaches are counted, staff entry of an objection is authorised, a refused
sender stops the run, an SMS limit no notice fits is refused at create, letters and the
announcement carry the China date, a bad --out is one line. Real servers throughout:
aiosmtpd and the SMS stand-in; time is the test's clock."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from handover.errors import BadInput, Refused
from handover.flows.notices import create_campaign, send_campaign
from handover.notices.channels import ChannelDown, InDoubt, SmtpConfig
from handover.notices.outbox import counts, reference_of
from handover.synth import synthesize
from notices_data import (
    Clock,
    Mailbox,
    SenderRefused,
    approve,
    base,
    clock,
    copy_ws,
    free_port,
    poppler,
    require_font,
    sender_refused,
    sms_config,
    sms_provider,
    smtp_server,
    ws,
)

aiosmtpd = pytest.importorskip("aiosmtpd")
__all__ = ["base", "clock", "sms_provider", "smtp_server", "ws"]  # fixtures used by name

CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fixes") / "book.db"
    synthesize(str(path), customers=400, seed=16)
    return path


def _campaign(ws: Any, book: Path, channels: list[str], **kw: Any) -> int:
    kw.setdefault("exclude", ["sys_user"])
    camp = create_campaign(ws, book, name="t", channels=channels, link="https://b.example/n", **kw)
    approve(ws, camp.id)
    return camp.id


def _cfg(port: int, sender: str = "dpo@seller.example.cn") -> SmtpConfig:
    return SmtpConfig("127.0.0.1", port, sender, security="none")


def _journal(ws: Any, cid: int, channel: str) -> list[str]:
    path = ws.path / "notices" / f"campaign-{cid}-{channel}.journal"
    return path.read_text("ascii").splitlines() if path.exists() else []


# --- 1. an SMS call whose answer is lost ------------------------------------------------


@pytest.mark.parametrize("lost", ["timeout", "dropped"])
def test_sms_call_whose_answer_is_lost_stays_in_doubt_and_is_never_sent_twice(
    ws: Any, book: Path, sms_provider: Any, clock: Clock, lost: str
) -> None:
    """The provider takes a SendBatchSms call and its answer never arrives (the client
    times out, or the connection drops): the call's 100 notices stay ``sending`` with the
    call's intent in the journal, the others stay queued; the resume asks
    QuerySendDetails, settles those 100 as sent and texts nobody twice. An error before
    anything went out (nothing listening) still gives every notice back untouched."""
    cid = _campaign(ws, book, ["sms"])
    with pytest.raises(ChannelDown, match="cannot reach the SMS provider") as down:
        send_campaign(ws, cid, book, sms=sms_config(f"http://127.0.0.1:{free_port()}/"))
    assert not isinstance(down.value, InDoubt)
    total = counts(ws, cid)["sms"]["queued"]
    assert counts(ws, cid)["sms"] == {"queued": total} and _journal(ws, cid, "sms") == []

    sms_provider.lost_answers = 1
    if lost == "timeout":
        sms_provider.hold = threading.Event()  # answered only once the client gave up
    cfg = sms_config(sms_provider.url, timeout=0.2)
    run = dict(batch=100, rate=350, now=clock.now, sleep=clock.sleep)
    try:
        with pytest.raises(InDoubt, match="no answer came back") as doubt:
            send_campaign(ws, cid, book, sms=cfg, resume=True, **run)  # type: ignore[arg-type]
    finally:
        if sms_provider.hold is not None:
            sms_provider.hold.set()
    assert doubt.value.exit_code == 2
    assert len(sms_provider.accepted) == 100  # the provider took the call
    assert counts(ws, cid)["sms"] == {"sending": 100, "queued": total - 100}
    intents = _journal(ws, cid, "sms")
    assert len(intents) == 1 and intents[0].startswith("? ")
    assert len(intents[0].split(" ")[3].split(",")) == 100

    # a resume while the provider cannot be reached: the 100 stay in doubt, their intent
    # kept (given back to the queue, they would be texted again by the next resume)
    with pytest.raises(ChannelDown, match="cannot reach the SMS provider"):
        down_cfg = sms_config(f"http://127.0.0.1:{free_port()}/")
        send_campaign(ws, cid, book, sms=down_cfg, resume=True, **run)  # type: ignore[arg-type]
    assert counts(ws, cid)["sms"] == {"sending": 100, "queued": total - 100}
    assert _journal(ws, cid, "sms") == intents

    report = send_campaign(
        ws,
        cid,
        book,
        sms=sms_config(sms_provider.url),
        resume=True,
        **run,  # type: ignore[arg-type]
    )
    st = report.channels[0]
    assert st.recovered == 100 and st.in_doubt == 100 and report.pending == 0
    phones = Counter(a["phone"] for a in sms_provider.accepted)
    assert sum(phones.values()) == len(phones) == total == report.outbox["sms"]["sent"]
    assert _journal(ws, cid, "sms") == []


# --- 2. people none of the chosen channels reaches --------------------------------------


def test_people_no_chosen_channel_reaches_are_listed_and_counted(
    ws: Any, book: Path, smtp_server: tuple[Mailbox, int], clock: Clock
) -> None:
    """An e-mail campaign over people of whom many have no e-mail: those people are
    stored as unreachable (``no_channel``, masked name), so the report counts every
    recipient, its people not reached include them, it reconciles, and the public
    announcement counts them; no clear name reaches the report."""
    from handover.flows.notices import announce_campaign, campaign_report, campaign_status
    from handover.notices.campaign import load_campaign

    box, port = smtp_server
    cid = _campaign(ws, book, ["email"])
    report = send_campaign(ws, cid, book, smtp=_cfg(port), now=clock.now, sleep=clock.sleep)
    summary = load_campaign(ws, cid).summary
    mailed = report.outbox["email"]["sent"]
    assert mailed == len(box.distinct())
    lost = summary["recipients"] - mailed  # the people with no e-mail
    assert lost > 0

    status = campaign_status(ws, cid, now=clock.now)
    assert status["people"] == summary["recipients"]
    assert status["not_reached"] == lost  # every e-mail went out
    rows = summary["unreachable_rows"]  # source rows with no contact at all
    assert status["unreachable"] == rows + lost == summary["unreachable"] == report.unreachable
    assert summary["people_queued"] == mailed and summary["no_channel"] == lost

    from handover.notices.report import report_data

    data = report_data(ws, load_campaign(ws, cid))
    assert data["reconciles"] and data["no_channel"] == lost
    listed = [u for u in data["unreachable"] if u["reason"] == "no_channel"]
    assert len(listed) == lost
    assert all(len(u["row_key"]) == 10 and "*" in u["name"] for u in listed if u["name"])

    ann = announce_campaign(ws, cid, now=clock.now)
    assert ann.unreachable == rows + lost

    files = campaign_report(ws, cid, lang="en", out=ws.path / "r", now=clock.now)
    page = next(f for f in files if f.suffix == ".html").read_text("utf-8")
    assert "none of the campaign&#39;s channels reaches this person" in page
    camp = load_campaign(ws, cid)
    db = sqlite3.connect(book)
    names = {
        v
        for p in camp.people
        for (v,) in db.execute(f'SELECT "{p["name"]}" FROM "{p["table"]}"')
        if isinstance(v, str) and len(v) >= 2
    }
    db.close()
    assert names and not any(n in page for n in names)

    # a campaign queued before these people were listed (no "no_channel" in its summary,
    # none in its list) still reconciles as its rows do: its report is not turned false
    from sqlalchemy import delete

    from handover.notices.models import NoticeCampaignRow, NoticeUnreachableRow

    with ws.store.session() as s:
        s.execute(
            delete(NoticeUnreachableRow).where(
                NoticeUnreachableRow.campaign_id == cid, NoticeUnreachableRow.reason == "no_channel"
            )
        )
        row = s.get(NoticeCampaignRow, cid)
        row.summary = {k: v for k, v in row.summary.items() if k != "no_channel"}
    old = report_data(ws, load_campaign(ws, cid))
    assert old["reconciles"] and old["no_channel"] == 0


# --- 3. staff entry of an objection is authorised first ---------------------------------


def test_objection_is_authorised_before_anyone_is_looked_up(
    ws: Any, book: Path, clock: Clock
) -> None:
    """Vendor staff may not record an opt-out (it cancels the person's notices) nor learn
    whether someone is a customer: refused with the same line for a real and an unknown
    person, nothing stored, both refusals in the ledger; the compliance officer may."""
    from sqlalchemy import func, select

    from handover.flows.notices import record_reply
    from handover.ledger import entries
    from handover.notices.models import NoticeOutboxRow, NoticeReplyRow

    cid = _campaign(ws, book, ["email"])
    # a server refusing the sender: queued, nothing sent (one that cannot be reached
    # leaves the campaign unqueued)
    with sender_refused() as port, pytest.raises(ChannelDown):
        send_campaign(ws, cid, book, smtp=_cfg(port), now=clock.now, sleep=clock.sleep)
    queued = counts(ws, cid)
    assert set(queued["email"]) == {"queued"}
    with ws.store.session() as s:
        rcpt = s.scalars(
            select(NoticeOutboxRow.recipient).where(NoticeOutboxRow.campaign_id == cid).limit(1)
        ).one()
    real = reference_of(cid, rcpt)
    said = []
    for ref in (real, "NOPE000000"):
        with pytest.raises(Refused) as refused:
            record_reply(ws, cid, "opt_out", via="phone", reference=ref, actor="huangtao")
        said.append(str(refused.value))
    assert said[0] == said[1]
    assert counts(ws, cid) == queued
    with ws.store.session() as s:
        assert s.scalar(select(func.count()).select_from(NoticeReplyRow)) == 0
    refusals = [
        e
        for e in entries(ws)
        if e.action == "access.refuse"
        and e.actor == "huangtao"
        and e.details["action"] == "notices.receipts"
    ]
    assert len(refusals) == 2
    out = record_reply(ws, cid, "opt_out", via="phone", reference=real)  # the demo's DPO
    assert out["recorded"] == 1 and out["cancelled"] == 1


# --- 4. a refused sender; an SMS limit nothing fits -------------------------------------


def test_a_refused_sender_stops_the_run_and_changes_nothing(
    ws: Any, book: Path, clock: Clock
) -> None:
    """553 to MAIL FROM is the sender's fault, not the recipients': the run stops naming
    the sender, no notice failed, no letter queued in its place; with the right sender
    the resume sends every e-mail."""
    from aiosmtpd.controller import Controller

    cid = _campaign(ws, book, ["email", "letter"])
    port = free_port()
    ctl = Controller(SenderRefused(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        with pytest.raises(ChannelDown, match=r"refused the sender wrong@other\.cn"):
            send_campaign(
                ws, cid, book, smtp=_cfg(port, "wrong@other.cn"), now=clock.now, sleep=clock.sleep
            )
    finally:
        ctl.stop()
    from handover.notices.campaign import load_campaign

    queued = load_campaign(ws, cid).summary["queued"]
    assert counts(ws, cid) == {ch: {"queued": n} for ch, n in queued.items()}
    box = Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        report = send_campaign(
            ws, cid, book, smtp=_cfg(port), resume=True, now=clock.now, sleep=clock.sleep
        )
    finally:
        ctl.stop()
    assert report.outbox["email"] == {"sent": queued["email"]} == {"sent": len(box.distinct())}
    assert report.outbox["letter"] == {"sent": queued["letter"]}  # no fallback letters


def test_an_sms_limit_no_notice_fits_is_refused_at_create(
    tmp_path: Path, base: Path, book: Path
) -> None:
    """``--sms-max-chars 70`` with a notice SMS of more: one line naming the option and
    the lengths (never the text), exit 2, no campaign created."""
    from typer.testing import CliRunner

    from handover.cli.main import app
    from handover.notices.campaign import list_campaigns

    ws = copy_ws(base, tmp_path / "ws")
    ws.close()
    args = ["--workspace", str(tmp_path / "ws"), "--lang", "en", "notices", "create", str(book)]
    args += ["--channel", "sms", "--link", "https://b.example/n", "--exclude", "sys_user"]
    res = CliRunner().invoke(app, [*args, "--sms-max-chars", "70"])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "--sms-max-chars 70" in lines[0] and "characters" in lines[0]
    assert "转移至" not in res.output and "b.example" not in res.output
    from handover.workspace import open_workspace

    ws = open_workspace(tmp_path / "ws")
    try:
        assert list_campaigns(ws) == []
    finally:
        ws.close()
    ok = CliRunner().invoke(app, [*args, "--sms-max-chars", "500", "--json"])
    assert ok.exit_code == 0, ok.output


# --- 5. letters and the announcement carry the China date -------------------------------


def test_letters_and_announcement_are_dated_in_china_time(
    ws: Any, book: Path, clock: Clock
) -> None:
    """At 07:30 Beijing time the UTC date is still yesterday's: the letters and the
    announcement carry the China date."""
    require_font()
    from handover.flows.notices import announce_campaign, letters_folder

    day = (dt.datetime.now(CHINA) + dt.timedelta(days=2)).date()
    # the clock in UTC, as the real one (utcnow)
    clock.base = dt.datetime(day.year, day.month, day.day, 7, 30, tzinfo=CHINA).astimezone(dt.UTC)
    before = (day - dt.timedelta(days=1)).isoformat()
    assert clock.now().date().isoformat() == before
    cid = _campaign(ws, book, ["letter"], tables=["loan_guarantor"])
    send_campaign(ws, cid, book, now=clock.now, sleep=clock.sleep)
    pdf = sorted(letters_folder(ws, cid).glob("*.pdf"))[0]
    text = poppler("pdftotext", str(pdf), "-")
    assert day.isoformat() in text and before not in text
    ann = announce_campaign(ws, cid, now=clock.now)
    page = ann.html.read_text("utf-8")
    assert day.isoformat() in page and before not in page


# --- 6. a bad --out ---------------------------------------------------------------------


@pytest.mark.parametrize("command", ["report", "announce"])
def test_an_out_folder_through_a_file_is_one_line(
    tmp_path: Path, base: Path, book: Path, command: str
) -> None:
    """``--out afile/x`` where afile is a file: exit 2, one line naming the folder (not an
    internal error), nothing written, nothing in the ledger."""
    from typer.testing import CliRunner

    from handover.cli.main import app
    from handover.ledger import entries
    from handover.workspace import open_workspace

    ws = copy_ws(base, tmp_path / "ws")
    try:
        cid = create_campaign(ws, book, name="x", channels=["letter"], exclude=["sys_user"]).id
        before = len(entries(ws))
    finally:
        ws.close()
    afile = tmp_path / "afile"
    afile.write_text("", "utf-8")
    out = afile / "x"
    args = ["--workspace", str(tmp_path / "ws"), "--lang", "en", "notices", command, str(cid)]
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "internal" not in lines[0]
    assert afile.read_text("utf-8") == "" and list(tmp_path.glob("**/campaign-*")) == []
    ws = open_workspace(tmp_path / "ws")
    try:
        assert len(entries(ws)) == before
    finally:
        ws.close()


def test_the_campaigns_source_is_the_same_data_however_it_is_spelt(ws: Any, book: Path) -> None:
    """Sending names the campaign's source as a path or as its ``sqlite:///`` URL (the
    console turns a URL inside the workspace into its path): the same file, accepted;
    another file is refused by name."""
    from handover.flows.notices import authorize_send

    cid = _campaign(ws, book, ["email"])
    for spelled in (str(book), f"sqlite:///{book}", f"sqlite:///{book.parent}/./{book.name}"):
        assert authorize_send(ws, cid, spelled).allowed
    other = book.parent / "other.db"
    other.write_bytes(book.read_bytes())
    with pytest.raises(BadInput, match=r"other\.db"):
        authorize_send(ws, cid, str(other))


# --- 7. a source of CSV files without a header row ---------------------------------------


def test_a_headerless_export_is_told_with_no_header_and_sent_read_the_same_way(
    tmp_path: Path, base: Path, book: Path, smtp_server: tuple[Mailbox, int]
) -> None:
    """``notices create --no-header`` reads an export without a header row (MySQL
    ``SELECT … INTO OUTFILE``) as ``scan --no-header`` does; the campaign keeps that
    reading and sending reads the source the same way (with the plain reading its first
    row would be taken as the header and refused). Without the option the create is one
    line naming the file and the option, and no campaign is made."""
    from typer.testing import CliRunner

    from handover.cli.main import app
    from handover.notices.campaign import list_campaigns
    from handover.workspace import open_workspace

    box, port = smtp_server
    folder = tmp_path / "outfile"
    folder.mkdir()
    with sqlite3.connect(book) as con:
        rows = con.execute("SELECT * FROM cust_info ORDER BY rowid").fetchall()
        mails = {r[0] for r in con.execute("SELECT dzyx FROM cust_info") if r[0]}
    import csv

    with (folder / "cust_info.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    copy_ws(base, tmp_path / "ws").close()
    args = ["--workspace", str(tmp_path / "ws"), "--lang", "en", "notices", "create"]
    args += [str(folder), "--channel", "email", "--link", "https://b.example/n"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2, refused.output
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "cust_info.csv" in lines[0] and "--no-header" in lines[0]
    assert str(rows[0][6]) not in refused.output  # the first row's ID number is never shown
    made = CliRunner().invoke(app, [*args, "--no-header", "--json"])
    assert made.exit_code == 0, made.output
    ws = open_workspace(tmp_path / "ws")
    try:
        (camp,) = list_campaigns(ws)
        assert camp.reading == {"allow_bad_rows": 0, "header": False}
        assert [p["table"] for p in camp.people] == ["cust_info"]
        assert camp.people[0]["email"] == "column_9"
        approve(ws, camp.id)
        report = send_campaign(ws, camp.id, folder, smtp=_cfg(port))
        sent = report.outbox["email"]["sent"]
        # every address once, the first row's among them (a row, not a header)
        assert {to for to, _ in box.distinct()} == mails and sent == len(mails)
        assert rows[0][8] in mails
        from handover.ledger.ledger import entries

        (entry,) = entries(ws, action="notices.campaign.create")
        assert entry.details["reading"] == {"allow_bad_rows": 0, "header": False}
    finally:
        ws.close()
