"""One 20,000-customer campaign end to end, counted on the servers' side: every reachable
person gets exactly one notice per channel, every unreachable row is in the report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from handover.flows.notices import campaign_report, create_campaign, record_receipts, send_campaign
from handover.notices.standin import SmtpSink
from handover.synth import synthesize
from notices_data import Clock, approve, clock, copy_ws, make_base, sms_config, sms_provider

__all__ = ["clock", "sms_provider"]  # fixtures used by name


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("big")
    synthesize(str(root / "book.db"), customers=20_000, seed=2026)
    return root / "book.db", make_base(root, root / "book.db")


@pytest.mark.slow
def test_20000_customer_campaign_counted_server_side(
    tmp_path: Path, big: tuple[Path, Path], sms_provider: Any, clock: Clock
) -> None:
    from openpyxl import load_workbook

    from handover.flows.notices import _tagger
    from handover.ledger import Recorder
    from handover.notices.audience import PeopleTable, derive_audience
    from handover.notices.campaign import load_campaign
    from handover.sources import open_source

    book, base = big
    ws = copy_ws(base, tmp_path / "ws")
    sink = SmtpSink(log=tmp_path / "smtp.log")
    port = sink.start()
    try:
        cid = create_campaign(
            ws,
            book,
            name="big",
            channels=["email", "sms", "letter"],
            # the customers and the credit-authorisation signers (most of them customers
            # too, joined by resident ID; some rows unreachable)
            tables=["cust_info", "zxsq"],
            link="https://b.cn/n",
        ).id
        approve(ws, cid)
        from handover.notices.channels import SmtpConfig

        smtp = SmtpConfig("127.0.0.1", port, "dpo@seller.example.cn", security="none")
        sms_provider.per_second = 10**6
        report = send_campaign(
            ws,
            cid,
            book,
            smtp=smtp,
            sms=sms_config(sms_provider.url),
            batch=1000,
            smtp_connections=4,
            now=clock.now,
            sleep=clock.sleep,
        )
        assert report.pending == 0
        camp = load_campaign(ws, cid)
        people = [PeopleTable(**{**p, "key": tuple(p["key"])}) for p in camp.people]
        with open_source(book) as src:
            aud = derive_audience(src, people, _tagger(ws, Recorder(ws, "test")))
        assert aud.rows > 20_000 and aud.reconciles()
        r = aud.recipients.to_pydict()
        # e-mail: the server saw each person's address once per person, one Message-ID each
        sink.stop()
        logged = sink.logged()
        assert len({mid for _, mid in logged}) == len(logged)
        assert Counter(rcpt for rcpt, _ in logged) == Counter(e for e in r["email"] if e)
        assert report.outbox["email"] == {"sent": len(logged)}
        # SMS: the provider took each person's number once per person
        phones = Counter(a["phone"] for a in sms_provider.accepted)
        assert phones == Counter(m for m in r["mobile"] if m)
        assert report.outbox["sms"] == {"sent": sum(phones.values())}
        # letters: everyone with an address and no electronic channel
        letter_only = sum(
            1
            for e, m, a in zip(r["email"], r["mobile"], r["address"], strict=True)
            if a and not e and not m
        )
        assert report.outbox.get("letter", {}).get("sent", 0) == letter_only
        got = record_receipts(ws, cid, sms_provider.reports)
        assert got["delivered"] + got["undelivered"] == sum(phones.values())
        # every unreachable row is in the report
        xlsx, _ = campaign_report(ws, cid, lang="en", out=tmp_path / "r")
        wb = load_workbook(xlsx)
        lost = list(wb[wb.sheetnames[-1]].iter_rows(values_only=True))[1:]
        assert len(lost) == aud.unreachable.num_rows > 0
        assert sorted(str(x[1]) for x in lost) == sorted(
            aud.unreachable.column("row_key").to_pylist()
        )
    finally:
        sink.stop()
        ws.close()
