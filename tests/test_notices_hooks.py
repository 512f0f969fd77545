"""The SMS provider pushes delivery receipts and people's replies to the console (issue 16):
the SMS stand-in sends a campaign's receipts to the live console (uvicorn on 127.0.0.1) as
the ``sms_hook`` service account, retrying a push the console cannot place yet; the
outbox settles exactly once, the ledger holds counts and never a number."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from handover.flows.notices import create_campaign, send_campaign
from handover.governance.service import issue_service_token
from handover.ledger import entries
from handover.notices.outbox import counts
from handover.synth import synthesize
from notices_data import Clock, approve, base, clock, sms_config, sms_provider, ws
from web_support import served

__all__ = ["base", "clock", "sms_provider", "ws"]  # fixtures used by name

SELLER = "示例市诚信小额贷款有限公司"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hooks") / "book.db"
    synthesize(str(path), customers=400, seed=31)
    return path


def _token(ws: Any, role: str, name: str) -> str:
    return issue_service_token(ws, name, org=SELLER, role=role, actor="wangmin").token


def test_receipts_and_replies_pushed_to_the_console(
    ws: Any, book: Path, sms_provider: Any, clock: Clock
) -> None:
    cid = create_campaign(
        ws, book, name="push", channels=["sms"], exclude=["sys_user"], link="https://b.cn/n"
    ).id
    approve(ws, cid)
    token = _token(ws, "sms_hook", "sms-hook")
    with served(ws.path, clock=clock.now) as console:
        sms_provider.callback = f"{console}/api/hooks/sms/receipts"
        sms_provider.reply_callback = f"{console}/api/hooks/sms/replies"
        sms_provider.callback_token = token
        report = send_campaign(
            ws,
            cid,
            book,
            sms=sms_config(sms_provider.url),
            batch=50,
            rate=350,
            now=clock.now,
            sleep=clock.sleep,
        )
        # receipts settle notices while the campaign still sends: all SMS states count
        sent = sum(report.outbox["sms"].values())
        assert sent == len(sms_provider.accepted) > 100 and report.pending == 0
        pushes = sms_provider.flush()
        # one push per SendBatchSms call, every one taken in the end (a receipt that
        # overtook the send's own answer was answered code 1 and pushed again)
        assert len(pushes) == sms_provider.calls and all(p["code"] == 0 for p in pushes)
        states = counts(ws, cid)["sms"]
        assert set(states) == {"delivered", "undelivered"}
        assert sum(states.values()) == sent and states["undelivered"] > 0
        # a person texts back: the reply reaches the campaign that texted the number
        phone = sms_provider.accepted[0]["phone"]
        with httpx2.Client(timeout=30) as http:
            r = http.post(
                f"{sms_provider.url}inbound", json={"phone_number": phone, "content": "退订"}
            )
            assert r.status_code == 200
            sms_provider.flush()
            replies = [e for e in entries(ws) if e.action == "notices.reply"]
            assert len(replies) == 1 and replies[0].subject.startswith(f"campaign {cid} ")
            assert replies[0].details["kind"] == "opt_out"
            # a push that matches nothing yet is answered "push again", and changes nothing
            stray = [
                {"phone_number": phone, "biz_id": "999^0", "success": True, "err_code": "DELIVERED"}
            ]
            hook = f"{console}/api/hooks/sms/receipts"
            r = http.post(hook, json=stray, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200 and r.json()["code"] == 1
            assert r.json()["counts"]["unmatched"] == 1
            assert counts(ws, cid)["sms"] == states
            # no token, a wrong one, and the incident clock's: refused, nothing taken
            clock_token = _token(ws, "incident_clock", "incident-clock")
            assert http.post(hook, json=stray).status_code == 401
            for headers in (
                {"Authorization": "Bearer not-a-token"},
                {"Authorization": f"Bearer {clock_token}"},
            ):
                r = http.post(hook, json=stray, headers=headers)
                assert r.status_code == 403, r.text
            bad = http.post(
                hook, json={"not": "a list"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert bad.status_code == 422
    # the ledger: counts per campaign and per push, the service account as actor, no number
    pushed = [e for e in entries(ws) if e.action == "notices.receipts.push"]
    assert pushed and all(e.actor == "sms-hook" for e in pushed)
    settled = [e for e in entries(ws) if e.action == "notices.receipts"]
    assert sum(e.details["delivered"] + e.details["undelivered"] for e in settled) == sent
    text = json.dumps([e.details for e in entries(ws)], ensure_ascii=False)
    assert not any(a["phone"] in text for a in sms_provider.accepted)
    assert any(e.action == "governance.service.refused" for e in entries(ws))
